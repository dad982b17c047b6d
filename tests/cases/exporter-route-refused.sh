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

# p2pmr doctor works out the same route from sysfs and config space.
/p2pmr/build/user/bin/p2pmr --json doctor "$IVSHMEM" --importer "$EDU" > /tmp/doctor.json ||
	die "p2pmr doctor failed"
/p2pmr/build/user/bin/p2pmr doctor "$IVSHMEM" --importer "$EDU"
python3 tests/unit/json_check.py /tmp/doctor.json doctor || die "p2pmr doctor: JSON not in its schema"
grep -q '"check":"route","result":"no","found":"refused: host bridge 0000:00:00.0' /tmp/doctor.json || die "p2pmr doctor: the route is not refused"
