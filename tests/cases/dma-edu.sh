#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real DMA master: edu, driven by the test importer, DMAs into the BAR at
# the addresses vfio-pci-p2p mapped for it (host-bridge route through the
# vIOMMU; the AMD CPU model puts the host bridge on the allow-list), taking
# the buffer directly and through the RDMA core's ib_umem importer (dynamic,
# and pinned-revocable where the kernel can revoke it) like a NIC driver.
# The host checks its backing file; a reset during a DMA loop stops the DMA
# and nothing lands after the revoke.
# vm: --edu --cpu EPYC --topology rootports
# post: bash tests/dma/host-check.sh "$VMDIR"
. tests/lib/guest.sh

load_p2p
load_importer

# run_edu MODE ARGS...: edu_dma_test, its output kept in /tmp/MODE.log.
run_edu() {
	local m=$1

	shift
	$BIN/edu_dma_test "$IVSHMEM" "$m" "$@" > "/tmp/$m.log"
	local rc=$?
	cat "/tmp/$m.log"
	return $rc
}

if [ "$KSERIES" = 7.3 ]; then
	# Side by side: the same importers against upstream vfio-pci's
	# exporter.  Debian's 7.3 dma_buf_phys_vec_to_sgt() links every range
	# at IOVA offset 0, so a multi-range buffer fails to map with
	# EADDRINUSE (docs/dma-engine.md); single-range DMA and revocation
	# work.  A fixed kernel makes this fail, and the doc get updated.
	bind_driver "$IVSHMEM" vfio-pci
	for m in direct umem pinned; do
		run_edu $m
		grep -q "^not ok [0-9]* $m: map for edu: Address already in use" /tmp/$m.log ||
			die "upstream $m: multi-range result changed: update docs/dma-engine.md"
		grep -q "^ok [0-9]* $m: reset during a DMA loop" /tmp/$m.log &&
			grep -q "^ok [0-9]* $m: no DMA lands" /tmp/$m.log ||
			die "upstream $m: single-range DMA/revoke failed"
	done
	say "upstream vfio-pci: single range OK in all modes, multi-range map fails (EADDRINUSE)"
	rm -f /vmout/expect-* /vmout/snap-*
fi

bind_driver "$IVSHMEM" vfio-pci-p2p
if [ "$KSERIES" = 7.3 ]; then
	# One contiguous IOVA range for the three BAR ranges.
	for m in direct umem pinned; do
		run_edu $m -c || die "edu_dma_test $m"
	done
	echo direct umem pinned > /vmout/dma-modes
else
	for m in direct umem; do
		run_edu $m || die "edu_dma_test $m"
	done
	# 6.12 cannot tell a revocable pinned importer from one that is not.
	run_edu pinned -r || die "edu_dma_test pinned -r"
	echo direct umem > /vmout/dma-modes	# for tests/dma/host-check.sh
fi
