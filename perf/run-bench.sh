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
# P2PMR_BENCH=glob (e.g. '2-*') narrows the benchmarks run.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
series=${*:-6.12 7.3}
filter=${P2PMR_BENCH:-*}
failed=()
mkdir -p build/bench
for b in perf/bench/*.sh; do
	name=$(basename "$b" .sh)
	[[ $name == $filter ]] || continue
	out=build/bench/$name
	rm -rf "$out" && mkdir -p "$out"
	echo "== $name ($(date -u +%H:%M:%S) UTC)"
	t0=$SECONDS
	# shellcheck disable=SC2086
	BENCH_OUT=$out bash "$b" $series 2>&1 | tee "$out/output.log"
	rc=${PIPESTATUS[0]}
	echo "== $name: exit $rc, $((SECONDS - t0)) s"
	[ "$rc" = 0 ] || failed+=("$name")
done

for b in perf/bench/*.sh; do
	name=$(basename "$b" .sh)
	out=build/bench/$name
	[ -d "$out" ] || continue
	echo "## $name"
	echo
	cat "$out"/table-*.md 2>/dev/null
	[[ " ${failed[*]} " != *" $name "* ]] ||
		echo "(failed in the last run: see $out/output.log)"
	echo
done > build/bench/summary.md
echo "results: build/bench/summary.md"
[ ${#failed[@]} = 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
