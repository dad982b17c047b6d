#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Two host bridges: ivshmem below a root port of q35's host bridge, edu below
# a root port of a second one (QEMU's pxb-pcie).  With an AMD Zen CPU the
# kernel's P2PDMA allows any two host bridges (issue 12, item 11: vfio-pci-p2p
# used to refuse every pair below different host bridges, where upstream
# maps): edu, driven by the test importer, DMAs into the BAR through the
# vIOMMU, and the host finds the bytes in its backing file.
# vm: --edu --cpu EPYC --topology pxb
# post: bash tests/dma/host-check.sh "$VMDIR"
. tests/lib/guest.sh

host_of() { readlink -f "/sys/bus/pci/devices/$1" | cut -d/ -f4; }

load_p2p
load_importer
bind_driver "$IVSHMEM" vfio-pci-p2p
eh=$(host_of "$IVSHMEM") ih=$(host_of "$EDU")
say "ivshmem $IVSHMEM below $eh, edu $EDU below $ih"
[ -n "$eh" ] && [ -n "$ih" ] && [ "$eh" != "$ih" ] ||
	die "ivshmem and edu are not below two host bridges"
[ "$(cat /sys/bus/pci/devices/$EDU/iommu_group/type)" != identity ] ||
	die "edu is not translated"

if [ "$KSERIES" = 7.3 ]; then
	# One contiguous IOVA range for the three BAR ranges (as dma-edu).
	for m in direct umem pinned; do
		$BIN/edu_dma_test "$IVSHMEM" $m -c || die "edu_dma_test $m"
	done
	echo direct umem pinned > /vmout/dma-modes	# for tests/dma/host-check.sh
else
	for m in direct umem; do
		$BIN/edu_dma_test "$IVSHMEM" $m || die "edu_dma_test $m"
	done
	echo direct umem > /vmout/dma-modes
fi
dmesg | grep -q "BAR2 for $EDU: host-bridge route" || die "not the host-bridge route"
! dmesg | grep -q "cannot map BAR2 for $EDU" || die "a map was refused"

# p2pmr doctor works out the same route from sysfs and config space.
/p2pmr/build/user/bin/p2pmr --json doctor "$IVSHMEM" --importer "$EDU" > /tmp/doctor.json ||
	die "p2pmr doctor failed"
/p2pmr/build/user/bin/p2pmr doctor "$IVSHMEM" --importer "$EDU"
python3 tests/unit/json_check.py /tmp/doctor.json doctor || die "p2pmr doctor: JSON not in its schema"
grep -q '"check":"route","result":"yes","found":"host-bridge: an AMD Zen or later CPU (family 0x[0-9a-f]*); the importer.s DMA API maps the BAR (the devices are below different host bridges)"' /tmp/doctor.json ||
	die "p2pmr doctor: not the host-bridge route"
say "host-bridge route across two host bridges, DMA in every import mode"
