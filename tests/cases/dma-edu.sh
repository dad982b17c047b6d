#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real DMA master: edu, driven by the test importer, DMAs into the BAR at
# the addresses vfio-pci-p2p mapped for it (host-bridge route through the
# vIOMMU; the AMD CPU model puts the host bridge on the allow-list).  The
# host checks its backing file; a reset during a DMA loop stops the DMA and
# nothing lands after the revoke.
# vm: --edu --cpu EPYC --topology rootports
# post: c="build/user/tests/bar_rw check $VMDIR/host/bar0"; for o in 0x100000 0x103000 0x300000 0x301000 0x800000 0x803000; do $c $o 4096 77 || exit 1; done && cmp <(dd if=$VMDIR/host/bar0 bs=4096 skip=8192 count=16 status=none) $VMDIR/out/snap-dma.bin
. tests/lib/guest.sh

load_p2p
insmod "$KMOD/tests/kmod/importer/p2pmr_importer.ko" || die "insmod importer"
bind_driver "$IVSHMEM" vfio-pci-p2p
$BIN/edu_dma_test "$IVSHMEM" || die "edu_dma_test"
