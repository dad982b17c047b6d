#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bus-address route: ivshmem and edu below one PCIe switch whose
# downstream ports have no ACS (QEMU's xio3130), edu untranslated (IOMMU
# passthrough): vfio-pci-p2p hands edu the BAR's bus addresses and edu's
# DMA lands in the BAR, in every import mode (QEMU routes the DMA through
# its address space, not through the switch, but nothing translates it).
# edu decodes 32 address bits here; with a 28-bit DMA mask the BAR is out
# of its reach and the map is refused.
# vm: --edu --edu-dma-bits 32 --topology switch --append iommu=pt
# post: bash tests/dma/host-check.sh "$VMDIR"
. tests/lib/guest.sh

load_p2p
load_importer dma_bits=32
bind_driver "$IVSHMEM" vfio-pci-p2p
[ "$(cat /sys/bus/pci/devices/$EDU/iommu_group/type)" = identity ] ||
	die "edu is translated: QEMU sends its DMA through the vIOMMU, not through the switch, so the bus address would fault"

for m in direct umem; do
	$BIN/edu_dma_test "$IVSHMEM" $m || die "edu_dma_test $m"
done
if [ "$KSERIES" = 6.12 ]; then
	$BIN/edu_dma_test "$IVSHMEM" pinned -r || die "edu_dma_test pinned -r"
	echo direct umem > /vmout/dma-modes	# for tests/dma/host-check.sh
else
	$BIN/edu_dma_test "$IVSHMEM" pinned || die "edu_dma_test pinned"
	echo direct umem pinned > /vmout/dma-modes
fi
dmesg | grep -q "BAR2 for $EDU: bus-address route" || die "not the bus-address route"

# p2pmr doctor works out the same route from sysfs and config space.
/p2pmr/build/user/bin/p2pmr --json doctor "$IVSHMEM" --importer "$EDU" > /tmp/doctor.json ||
	die "p2pmr doctor failed"
/p2pmr/build/user/bin/p2pmr doctor "$IVSHMEM" --importer "$EDU"
python3 tests/unit/json_check.py /tmp/doctor.json doctor || die "p2pmr doctor: JSON not in its schema"
grep -q '"check":"route","result":"yes","found":"bus-address: common PCIe switch' /tmp/doctor.json || die "p2pmr doctor: not the bus-address route"

# The same importer with a 28-bit DMA mask cannot reach the BAR.
rmmod p2pmr_importer || die "rmmod importer"
load_importer dma_bits=28
$BIN/edu_dma_test "$IVSHMEM" umem -n || die "edu_dma_test umem -n"
dmesg | grep -q "cannot map BAR2 for $EDU: the BAR's bus address is beyond the importer's DMA mask" ||
	die "no dev_warn naming the DMA mask"
