#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark 2, registration cost: ibv_reg_dmabuf_mr() of 4 KiB to 1 GiB of a
# VFIO BAR against ibv_reg_mr() of as much host memory (build/perf/regcost,
# perf/regcost.c), in a guest with a 1 GiB ivshmem BAR: medians of 9
# repetitions at every size, export, dma-buf and host registration
# interleaved.  Reports the ratio host/dma-buf per size and whether the
# dma-buf registration is at least 10x faster at 1 GiB; then the time of a
# revoke (memory disable) with 0 to 64 dma-buf MRs registered, as a ratio to
# none; asserts nothing about timings.
#   perf/bench/2-regcost.sh SERIES...    (BENCH_OUT: output directory)
# BENCH_BAR_MIB (default 1024) sets the BAR size, BENCH_MEM the guest memory.
set -euo pipefail
. perf/lib.sh
out=${BENCH_OUT:-build/bench/2-regcost}
bar=${BENCH_BAR_MIB:-1024}
mkdir -p "$out"
for s in "${@:-7.3}"; do
	vm=$out/vm-$s
	bench_vm 2-regcost "$s" --bar-size "$bar" --mem "${BENCH_MEM:-4G}" -- \
		bash perf/guest/regcost.sh
	{
		n=$(sed -n '1s/.*median of \([0-9]*\) interleaved.*/\1/p' "$vm/out/regcost.md")
		echo "Linux $s: registration cost, microseconds, medians of ${n:-?} interleaved repetitions (export, dma-buf and host registration) at every size"
		echo
		sed -n '/^# revoke/q; /^|/p' "$vm/out/regcost.md"
		echo
		awk -F'|' -v mib="$bar" '$2 ~ /GiB|MiB/ {
			n = $2 + 0; if ($2 ~ /GiB/) n *= 1024
			if (n == mib) { last = $5 / $4; sz = $2 } }
		END {
			gsub(/^ +| +$/, "", sz)
			if (sz == "") { print "no row for the full BAR"; exit }
			printf "At %s: host-memory registration takes %.2fx as long as the dma-buf registration; target >= 10x: %s\n",
				sz, last, (last >= 10 ? "met" : "NOT met")
		}' "$vm/out/regcost.md"
		echo
		echo "Linux $s: memory disable (revoke) with dma-buf MRs registered, microseconds (median)"
		echo
		sed -n '/^# revoke/,$ { /^|/p }' "$vm/out/regcost.md"
		echo
	} | tee "$out/table-$s.md"
done
