#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The storage target's data path, without the protocol: QEMU nvme's CMB,
# enabled by the userspace driver, exported as a dma-buf by vfio-pci-p2p and
# registered on rxe1 (the target side) with ibv_reg_dmabuf_mr.  A host
# write is an RDMA READ from a buffer on rxe0 into the CMB, then an NVMe
# Write from the CMB; a host read is an NVMe Read into the CMB, then an
# RDMA WRITE from the CMB to the host buffer.  The host checks the written
# LBAs in the image after the VM; the read region is filled before the boot.
# vm: --nvme 64 --nvme-cmb 16 --nvme-init 'build/user/tests/nvme_driver_test fill $VMDIR/nvme.img 72000 1024 202'
# timeout: 480
# post: t=build/user/tests/nvme_driver_test; $t checkrange $VMDIR/nvme.img 70000 1024 201 && $t checkrange $VMDIR/nvme.img 74000 8 203
. tests/lib/guest.sh

NVME=$(lspci -Dn -d 1b36:0010 | awk 'NR == 1 {print $1}')
[ -n "$NVME" ] || die "no QEMU nvme controller"
load_rdma
load_p2p
bind_driver "$NVME" vfio-pci-p2p
rxe_pair
$BIN/nvme_cmb_rdma "$NVME" | tee /tmp/cmb.log
rc=${PIPESTATUS[0]}
grep -q '^1\.\.[1-9]' /tmp/cmb.log || die "nvme_cmb_rdma ended early (exit $rc)"
[ "$rc" = 0 ] || die "nvme_cmb_rdma: $(grep -c '^not ok' /tmp/cmb.log) subtests failed"
