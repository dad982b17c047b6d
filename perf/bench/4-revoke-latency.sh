#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark 4, revoke latency: wall time of VFIO_DEVICE_RESET (request to
# completion, median of 30) on a device with one exported dma-buf and 0, 1
# or 16 mapped importers (the DMA-master test importer), each told to
# unmap before the reset proceeds, the three counts interleaved in rotating
# order; vfio-pci-p2p, and upstream vfio-pci on
# 7.3 with the same importers.
#   perf/bench/4-revoke-latency.sh SERIES...    (BENCH_OUT: output directory)
set -euo pipefail
. perf/lib.sh
out=${BENCH_OUT:-build/bench/4-revoke-latency}
mkdir -p "$out"
for s in "${@:-7.3}"; do
	vm=$out/vm-$s
	bench_vm 4-revoke-latency "$s" --edu --cpu EPYC --topology rootports -- \
		bash perf/guest/dmacost.sh revoke
	{
		echo "Linux $s: VFIO_DEVICE_RESET with mapped importers"
		echo
		echo "| importers | exporter | reset µs (median of 30) | invalidations seen |"
		echo "|---|---|---|---|"
		cat "$vm/out/dmacost-revoke.md"
		echo
		awk -F'|' '$4 + 0 > 0 { t[$3, $2 + 0] = $4 + 0; e[$3] = 1 }
			END { for (x in e) for (n = 1; n <= 16; n += 15)
				if ((x, n) in t && (x, 0) in t)
					printf "%s: %d importer(s) take %.2fx the reset time with none\n", x, n, t[x, n] / t[x, 0] }' \
			"$vm/out/dmacost-revoke.md" | sort
		echo
	} | tee "$out/table-$s.md"
done
