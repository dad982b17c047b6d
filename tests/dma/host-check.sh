#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/dma/host-check.sh VMDIR: on the host, after tests/cases/dma-edu*.sh.
# For each import mode the guest lists in /vmout/dma-modes, every DMA its
# edu_dma_test reported (/vmout/expect-MODE: offset,
# length, seed) is in the BAR's backing file, and each revoke area holds
# exactly the guest's snapshot taken right after the revoke
# (/vmout/snap-MODE.bin: the offset on one line, then the bytes), so no
# DMA landed after the revoke as the host sees the BAR.
set -euo pipefail
vmdir=$1
bar=$vmdir/host/bar0
check=build/user/tests/bar_rw
modes=$(cat "$vmdir/out/dma-modes" 2>/dev/null) || true
[ -n "$modes" ] || { echo "FAIL: the guest listed no DMA modes to check"; exit 1; }

for m in $modes; do
	e=$vmdir/out/expect-$m
	s=$vmdir/out/snap-$m.bin
	[ "$(wc -l < "$e")" = 6 ] || { echo "FAIL: $e: not 6 DMAs"; exit 1; }
	while read -r off len seed; do
		$check check "$bar" "$off" "$len" "$seed" ||
			{ echo "FAIL: $m: DMA at $off not in the host's file"; exit 1; }
	done < "$e"
	off=$(head -n 1 "$s")
	n=$(( $(stat -c %s "$s") - ${#off} - 1 ))
	cmp <(tail -c "$n" "$s") \
	    <(dd if="$bar" bs=4096 skip=$((off / 4096)) count=$((n / 4096)) status=none) ||
		{ echo "FAIL: $m: the revoke area changed after the revoke"; exit 1; }
	echo "host: $m: 6 DMAs in the backing file, revoke area unchanged ($n bytes at $off)"
done
