#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-pci-p2p seen from a test importer bound to edu: attach rules, route,
# multi-range mapping, CPU access checked in the host's backing file, every
# revocation trigger, un-revoke, the exporter waiting, lifetime orders.
# The AMD Zen CPU model puts the host bridge on the P2P allow-list.
# vm: --edu --cpu EPYC --topology rootports
# post: c="build/user/tests/bar_rw check $VMDIR/host/bar0"; $c 0x40000 0x4000 42 0x1000 && $c 0x400000 0x2000 42 0x5000 && $c 0 0x1000 5 && ! $c 0x44000 0x1000 42 0x5000
. tests/lib/guest.sh

load_p2p
load_importer
bind_driver "$IVSHMEM" vfio-pci-p2p
[ -e /sys/bus/pci/devices/$EDU/driver ] || die "edu not bound to the importer"
$BIN/importer_test "$IVSHMEM" host-bridge
rc=$?
cat /sys/kernel/debug/vfio-pci-p2p/$IVSHMEM/dmabufs
[ $rc = 0 ] || exit $rc

# p2pmr doctor works out the same route from sysfs and config space.
/p2pmr/build/user/bin/p2pmr --json doctor "$IVSHMEM" --importer "$EDU" > /tmp/doctor.json ||
	die "p2pmr doctor failed"
/p2pmr/build/user/bin/p2pmr doctor "$IVSHMEM" --importer "$EDU"
python3 tests/unit/json_check.py /tmp/doctor.json doctor || die "p2pmr doctor: JSON not in its schema"
grep -q '"check":"route","result":"yes","found":"host-bridge: an AMD Zen or later CPU' /tmp/doctor.json || die "p2pmr doctor: not the host-bridge route"
