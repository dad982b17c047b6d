#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Test bed smoke test: VFIO on the ivshmem BAR through mmap, checked in the
# host's backing file, and ib_write_bw between two Soft-RoCE devices.
# post: build/user/tests/bar_rw check $VMDIR/host/bar0 0x100000 0x10000 7
. tests/lib/guest.sh

modprobe vfio-pci || die "modprobe vfio-pci"
bind_driver "$IVSHMEM" vfio-pci
$BIN/bar_rw write "$IVSHMEM" 2 0x100000 0x10000 7 || die "BAR write"

rxe_pair
ib_write_bw -d rxe1 -s 65536 -n 200 -F > /tmp/server.log 2>&1 &
srv=$!
listening $srv || { cat /tmp/server.log; die "ib_write_bw server is not listening"; }
ib_write_bw -d rxe0 -s 65536 -n 200 -F $RXE1_IP > /tmp/client.log 2>&1
crc=$?
wait $srv
src=$?
cat /tmp/client.log
[ $crc = 0 ] && [ $src = 0 ] || { cat /tmp/server.log; die "ib_write_bw client $crc server $src"; }
grep -qE '^ *65536 +200 ' /tmp/client.log || die "no ib_write_bw result line"
