# SPDX-License-Identifier: GPL-2.0
# Sourced by perf/bench/*.sh.

# bench_vm NAME SERIES [VM OPTION...] -- COMMAND...: boot kernel SERIES
# (tests/vm/run, 30 min limit) and run COMMAND in it, with the VM's files in
# $out/vm-SERIES and everything printed in $out/vm-SERIES.log; on failure,
# print the log's end and exit the benchmark.  The BAR's backing file is
# dropped afterwards: the benchmarks read what they need from the guest's
# output.
bench_vm() {
	local name=$1 s=$2

	shift 2
	tests/vm/run --kver "$s" --timeout 1800 --dir "$out/vm-$s" "$@" \
		> "$out/vm-$s.log" 2>&1 ||
		{ tail -n 30 "$out/vm-$s.log"; echo "$name: the $s run failed"; exit 1; }
	rm -f "$out/vm-$s/host/bar0"
}
