#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark 3, mapping cost for a DMA importer: map + unmap of dma-bufs of
# 1, 16, 256 and 4096 one-page ranges by the DMA-master test importer (edu,
# host-bridge route through intel-iommu), vfio-pci-p2p against upstream
# vfio-pci on 7.3 in the same VM; wall time (median) and IOTLB
# invalidations per map and per unmap (intel_iommu/qi_submit).
# intel-iommu runs in caching mode (as in every test VM) and strict
# (iommu.strict=1), so every map and unmap flush shows up at once.
#   perf/bench/3-mapcost.sh SERIES...    (BENCH_OUT: output directory)
set -euo pipefail
. perf/lib.sh
out=${BENCH_OUT:-build/bench/3-mapcost}
mkdir -p "$out"
for s in "${@:-7.3}"; do
	vm=$out/vm-$s
	bench_vm 3-mapcost "$s" --edu --cpu EPYC --topology rootports \
		--append iommu.strict=1 -- bash perf/guest/dmacost.sh map
	{
		echo "Linux $s: map + unmap by a DMA importer (edu), one-page ranges"
		echo
		echo "| ranges | exporter | DMA segments | map µs | unmap µs | IOTLB inv. per map | IOTLB inv. per unmap |"
		echo "|---|---|---|---|---|---|---|"
		cat "$vm/out/dmacost-map.md"
		echo
		# p2pmr against upstream, where both mapped.
		awk -F'|' '$3 ~ /p2pmr/ && $5 + 0 > 0 { p[$2 + 0] = $5 + $6 }
			$3 ~ /upstream/ && $5 + 0 > 0 { u[$2 + 0] = $5 + $6 }
			$3 ~ /upstream/ && $4 ~ /fails/ { f[$2 + 0] = 1 }
			END { for (n in p) if (n in u)
				printf "%s ranges: p2pmr map+unmap takes %.2fx the time of upstream\n", n, p[n] / u[n]
			      for (n in f) printf "%s ranges: upstream cannot map (see the table)\n", n }' \
			"$vm/out/dmacost-map.md" | sort -n
		echo
	} | tee "$out/table-$s.md"
done
