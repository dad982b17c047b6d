#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-noiommu: the device works through VFIO but exports no dma-buf, and
# libp2pmr refuses it with a message naming the missing IOMMU.
# vm: --no-iommu --append vfio.enable_unsafe_noiommu_mode=1
. tests/lib/guest.sh

modprobe vfio enable_unsafe_noiommu_mode=1 || die "modprobe vfio"
[ -e /sys/module/vfio/parameters/enable_unsafe_noiommu_mode ] ||
	skip "this kernel is built without CONFIG_VFIO_NOIOMMU (Debian's are)"
load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
g=$(basename "$(readlink /sys/bus/pci/devices/$IVSHMEM/iommu_group)")
$BIN/noiommu "$IVSHMEM" "$g" || die "noiommu export not refused"
out=$($BIN/bar_rw write "$IVSHMEM" 2 0 4096 1 2>&1) && die "libp2pmr opened a noiommu device"
echo "$out"
echo "$out" | grep -q "vfio-noiommu group: peer-to-peer DMA needs an IOMMU" ||
	die "libp2pmr message does not name the missing IOMMU"
