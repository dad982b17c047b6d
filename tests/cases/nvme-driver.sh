#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The userspace NVMe driver (userspace/nvme, libp2pmr-nvme.a) on QEMU's nvme
# with a 16 MiB CMB, bound to vfio-pci-p2p: identify, the CMB at its bus
# address, writes from the CMB and from scattered host pages (PRP1, PRP2,
# PRP lists in host memory pointing into the CMB, page offsets, shuffled
# pages), reads into the CMB of what the host put in the image before the
# boot, commands refused with the controller's status (CMB and host pages
# mixed, LBA range, namespace, opcode, identify CNS, queue id), disable and
# enable, queue wrap.  After the VM the host checks the written LBAs in the
# image and that the blocks around them stayed zero.
# vm: --nvme 64 --nvme-cmb 16 --nvme-init 'build/user/tests/nvme_driver_test init $VMDIR/nvme.img'
# post: build/user/tests/nvme_driver_test check $VMDIR/nvme.img
. tests/lib/guest.sh

NVME=$(lspci -Dn -d 1b36:0010 | awk 'NR == 1 {print $1}')
[ -n "$NVME" ] || die "no QEMU nvme controller"
drv=$(basename "$(readlink "/sys/bus/pci/devices/$NVME/driver" 2>/dev/null)" 2>/dev/null)
[ -z "$drv" ] || [ "$drv" = . ] || die "$NVME is bound to $drv: the stock nvme driver must stay off it"
grep -q 'modprobe.blacklist=nvme' /proc/cmdline || die "no modprobe.blacklist=nvme on the command line"

load_p2p
bind_driver "$NVME" vfio-pci-p2p
$BIN/nvme_driver_test run "$NVME" 64 16 | tee /tmp/nvme.log
rc=${PIPESTATUS[0]}
grep -q '^1\.\.[1-9]' /tmp/nvme.log || die "nvme_driver_test ended early (exit $rc)"
[ "$rc" = 0 ] || die "nvme_driver_test: $(grep -c '^not ok' /tmp/nvme.log) subtests failed"
