#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark 4, revoke latency: wall time from request to completion of
# VFIO_DEVICE_RESET and of a memory disable (the config write clearing
# PCI_COMMAND_MEMORY, which revokes without resetting), medians of 100, on a
# device with one exported dma-buf and 0, 1 or 16 mapped importers (the
# DMA-master test importer), each told to unmap before the revoke
# completes; all six cases interleaved, shuffled anew every round;
# vfio-pci-p2p, and upstream vfio-pci on 7.3 with the same importers.
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
		echo "Linux $s: revoke with mapped importers, µs (medians of 100)"
		echo
		echo "| importers | exporter | VFIO_DEVICE_RESET | memory disable | invalidations seen (reset / memory disable) |"
		echo "|---|---|---|---|---|"
		cat "$vm/out/dmacost-revoke.md"
		echo
		awk -F'|' '$4 + 0 > 0 && $5 + 0 > 0 { x = $3; gsub(/ /, "", x)
				r[x, $2 + 0] = $4 + 0; m[x, $2 + 0] = $5 + 0; e[x] = 1 }
			END { for (x in e) for (n = 1; n <= 16; n += 15)
				if ((x, n) in r && (x, 0) in r)
					printf "%s: %d importer(s): %.2fx the reset time with none, %.2fx the memory-disable time (%+.1f µs)\n",
						x, n, r[x, n] / r[x, 0], m[x, n] / m[x, 0], m[x, n] - m[x, 0] }' \
			"$vm/out/dmacost-revoke.md" | sort
		# dmacost marks counts other than 2 per importer and revoke.
		if grep -q expected "$vm/out/dmacost-revoke.md"; then
			echo "invalidations: some counts differ from 2 per importer and revoke (marked)"
		else
			echo "invalidations as expected: 2 per importer and revoke (revoke, restore)"
		fi
		echo
	} | tee "$out/table-$s.md"
done
