# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by perf/bench/*.sh, which set $out (their BENCH_OUT).
# shellcheck disable=SC2154

# bench_vm NAME SERIES [VM OPTION...] -- COMMAND...: boot kernel SERIES
# (tests/vm/run, 30 min limit) and run COMMAND in it, with the VM's files in
# $out/vm-SERIES$vmtag and everything printed in $out/vm-SERIES$vmtag.log
# ($vmtag: empty unless the benchmark boots one kernel more than once); on failure,
# print the log's end and exit the benchmark.  The BAR's backing file is
# dropped afterwards: the benchmarks read what they need from the guest's
# output.
bench_vm() {
	local name=$1 s=$2 v=$out/vm-$2${vmtag:-}

	shift 2
	tests/vm/run --kver "$s" --timeout 1800 --dir "$v" "$@" > "$v.log" 2>&1 ||
		{ tail -n 30 "$v.log"; echo "$name: the $s${vmtag:-} run failed"; exit 1; }
	rm -f "$v/host/bar0"
}

# ICOUNT_OPTS: tests/vm/run options for a deterministic run: QEMU's -icount
# (the guest's clocks follow the count of instructions executed, 2^shift ns
# each, BENCH_ICOUNT_SHIFT [0]; sleep=off: an idle guest's clock jumps to
# its next timer instead of waiting in real time), which needs
# single-threaded TCG.  Host load then slows the run down but hardly
# changes what the guest measures (docs/perf.md: two runs compared).
# shellcheck disable=SC2034
ICOUNT_OPTS=(--tcg-single --qemu -icount
	     --qemu "shift=${BENCH_ICOUNT_SHIFT:-0},sleep=off")
