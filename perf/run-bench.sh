#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# perf/run-bench.sh [SERIES...]: run every benchmark, perf/bench/*.sh, in
# name order (make bench builds first, then runs this).
#
# The interface of a benchmark, perf/bench/<N>-<name>.sh:
#   - run from the repository's top directory, on the host, with the kernel
#     series as arguments (default 7.3); it boots its own VMs (tests/vm/run)
#   - BENCH_OUT is its output directory (run-bench: build/bench/<N>-<name>,
#     created and emptied beforehand; any path when run by hand): raw output
#     and files go there; perf/lib.sh has the VM-run step they share
#   - it prints its figures on stdout and writes a markdown table per kernel
#     to BENCH_OUT/table-<series>.md; run-bench keeps all it printed in
#     BENCH_OUT/output.log, and build/bench/summary.md collects the latest
#     tables of every benchmark (also of those not run this time)
#   - exit 0 when it ran, non-zero when it could not run; timings are
#     reported, never asserted
# Each benchmark's BENCH_OUT/run.md says what it ran on (commit, kernel
# releases, QEMU version, the host's load), and summary.md repeats it above
# the benchmark's tables.
# P2PMR_BENCH=glob (e.g. '2-*') narrows the benchmarks run.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
. scripts/lib.sh
series=${*:-6.12 7.3}
filter=${P2PMR_BENCH:-*}
failed=()
mkdir -p build/bench

# run_info START END: what a benchmark ran on, one markdown paragraph.
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit plus uncommitted changes"
qemu_version=$(in_root "${P2PMR_QEMU:-qemu-system-x86_64}" --version | head -n 1)
run_info() {
	local s k=""

	for s in $series; do
		k="$k${k:+, }$s: $(kver_of "$s" 2>/dev/null || echo "not installed")"
	done
	echo "Run $1-$2 UTC at commit $commit; kernels $k; $qemu_version;" \
	     "host: $(nproc) CPUs, load average at the start $load0."
}
for b in perf/bench/*.sh; do
	name=$(basename "$b" .sh)
	# shellcheck disable=SC2053 # a glob, on purpose
	[[ $name == $filter ]] || continue
	out=build/bench/$name
	rm -rf "$out" && mkdir -p "$out"
	start=$(date -u '+%Y-%m-%d %H:%M')
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	echo "== $name ($(date -u +%H:%M:%S) UTC)"
	t0=$SECONDS
	# shellcheck disable=SC2086
	BENCH_OUT=$out bash "$b" $series 2>&1 | tee "$out/output.log"
	rc=${PIPESTATUS[0]}
	echo "== $name: exit $rc, $((SECONDS - t0)) s"
	{ run_info "$start" "$(date -u +%H:%M)"; echo "($((SECONDS - t0)) s, exit $rc)"; } > "$out/run.md"
	[ "$rc" = 0 ] || failed+=("$name")
done

for b in perf/bench/*.sh; do
	name=$(basename "$b" .sh)
	out=build/bench/$name
	[ -d "$out" ] || continue
	echo "## $name"
	echo
	[ ! -e "$out/run.md" ] || { cat "$out/run.md"; echo; }
	cat "$out"/table-*.md 2>/dev/null
	[[ " ${failed[*]} " != *" $name "* ]] ||
		echo "(failed in the last run: see $out/output.log)"
	echo
done > build/bench/summary.md
echo "results: build/bench/summary.md"
[ ${#failed[@]} = 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
