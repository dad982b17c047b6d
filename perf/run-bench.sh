#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# perf/run-bench.sh [SERIES...]: run every benchmark, perf/bench/*.sh, in
# name order (make bench builds first, then runs this).
#
# The interface of a benchmark, perf/bench/<N>-<name>.sh:
#   - run from the repository's top directory, on the host, with the kernel
#     series as arguments (default 7.3); it boots its own VMs (tests/vm/run)
#   - BENCH_OUT is its output directory, build/bench/<N>-<name> (relative,
#     created and emptied beforehand): raw output and files go there
#   - it prints its figures on stdout, ending with a markdown table per
#     kernel; run-bench keeps all of it in BENCH_OUT/output.log and the
#     tables (BENCH_OUT/table-*.md) in build/bench/summary.md
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
: > build/bench/summary.md
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
	{
		echo "## $name"
		echo
		cat "$out"/table-*.md 2>/dev/null
		[ "$rc" = 0 ] || echo "(failed, exit $rc: see $out/output.log)"
		echo
	} >> build/bench/summary.md
	[ "$rc" = 0 ] || failed+=("$name")
done
echo "results: build/bench/summary.md"
[ ${#failed[@]} = 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
