#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Devices on two root ports of a host bridge that is not known to forward
# peer-to-peer (QEMU's q35 with an Intel-like CPU model): DMA mapping is
# refused with a clear reason; CPU access and revocation still work.
# vm: --edu --cpu Skylake-Server --topology rootports
. tests/lib/guest.sh

load_p2p
load_importer
bind_driver "$IVSHMEM" vfio-pci-p2p
$BIN/importer_test "$IVSHMEM" none || die "importer_test"
dmesg | grep -q "cannot map BAR2 for $EDU: path crosses a host bridge not known to forward peer-to-peer" ||
	die "no dev_warn naming the reason"
[ "$(dmesg | grep -c 'cannot map BAR2')" -le 12 ] || die "warned more than once per attachment"
# A real DMA master gets no address to DMA to, through the RDMA core too.
edu_no_route
