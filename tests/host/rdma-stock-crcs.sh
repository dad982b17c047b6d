#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The rebuilt RDMA modules must keep the CRC of every symbol the stock
# kernel exports from them, or stock ULPs (mlx5_ib, ib_ipoib, nvme-rdma)
# refuse to load against them ("disagrees about version of symbol").
# Compares build/<series>/rdma's Module.symvers with the kernel's own.
cd "$(dirname "$0")/../.."
. scripts/lib.sh
fail=0
for s in ${P2PMR_SERIES:-6.12 7.3}; do
	k=$(awk -v s="$s" '$1 == s { print $2 }' "$P2PMR_CACHE/kernels")
	stock=$P2PMR_ROOT/usr/src/linux-headers-$k/Module.symvers
	ours=build/$s/rdma/drivers/infiniband/core/Module.symvers
	[ -e "$stock" ] && [ -e "$ours" ] ||
		{ echo "FAIL: $s: missing $stock or $ours (run make)"; exit 1; }
	bad=$(awk -F'\t' 'NR == FNR { crc[$2] = $1; next }
		($2 in crc) { n++; if (crc[$2] != $1) print $2 " stock " crc[$2] " ours " $1 }
		END { if (!n) print "no symbol in common" }' "$stock" "$ours")
	if [ -n "$bad" ]; then
		echo "FAIL: $s: symbols whose CRC differs from the stock kernel's:"
		echo "$bad" | head -n 20 | sed 's/^/  /'
		fail=1
	else
		echo "ok: $s: $(awk -F'\t' 'END { print NR }' "$ours") exported symbols, stock CRCs kept"
	fi
done
exit $fail
