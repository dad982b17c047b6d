#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real DMA master: edu, driven by the test importer, DMAs into the BAR at
# the addresses vfio-pci-p2p mapped for it (host-bridge route through the
# vIOMMU; the AMD CPU model puts the host bridge on the allow-list).  The
# host checks its backing file; a reset during a DMA loop stops the DMA and
# nothing lands after the revoke.
# vm: --edu --cpu EPYC --topology rootports
# post: c="build/user/tests/bar_rw check $VMDIR/host/bar0"; for o in 0x100000 0x103000 0x300000 0x301000 0x800000 0x803000; do $c $o 4096 77 || exit 1; done
. tests/lib/guest.sh

load_p2p
insmod "$KMOD/tests/kmod/importer/p2pmr_importer.ko" || die "insmod importer"
bind_driver "$IVSHMEM" vfio-pci-p2p
$BIN/edu_dma_test "$IVSHMEM" || die "edu_dma_test"

if [ "$KSERIES" = 7.3 ]; then
	# Side by side: the same test against upstream vfio-pci's exporter.
	# Debian's 7.3 dma_buf_phys_vec_to_sgt() links every range at IOVA
	# offset 0, so a multi-range buffer fails to map with EADDRINUSE
	# (docs/dma-engine.md); single-range DMA and revocation work.
	bind_driver "$IVSHMEM" vfio-pci
	$BIN/edu_dma_test "$IVSHMEM" > /tmp/upstream.log
	cat /tmp/upstream.log
	grep -q "^not ok 1 map for edu: Address already in use" /tmp/upstream.log ||
		die "upstream multi-range result changed: update docs/dma-engine.md"
	grep -q "^ok 2 reset during a DMA loop" /tmp/upstream.log &&
		grep -q "^ok 3 no DMA lands" /tmp/upstream.log ||
		die "upstream single-range DMA/revoke failed"
	say "upstream vfio-pci: single range OK, multi-range map fails (EADDRINUSE)"
fi
