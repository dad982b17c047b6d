#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# swiotlb=force: an importer whose DMA would bounce cannot reach MMIO, so
# the map is refused even where the route itself would work (AMD host
# bridge); nothing is silently handed a raw physical address.
# vm: --edu --cpu EPYC --topology rootports --append swiotlb=force
. tests/lib/guest.sh

load_p2p
load_importer
bind_driver "$IVSHMEM" vfio-pci-p2p
$BIN/importer_test "$IVSHMEM" none || die "importer_test"
dmesg | grep -q "cannot map BAR2 for $EDU: importer's DMA is forced through swiotlb" ||
	die "no dev_warn naming swiotlb"
# A real DMA master gets no address to DMA to, through the RDMA core too.
edu_no_route
