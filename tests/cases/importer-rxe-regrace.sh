#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Device resets racing a stream of registrations of one dma-buf (two
# threads, one per CPU): an invalidation that arrives while the attachment
# is being set up must not crash the kernel; registrations succeed between
# resets and are refused while the buffer is revoked (root ports: the
# device can be reset there).  Full preemption lets
# the registering threads be interrupted anywhere, inside the window too.
# 6.12 only for now: on 7.3 QEMU itself aborted twice in a CI run
# ("iotlb_to_section: Assertion `section_index < d->map.sections_nb'",
# physmem.c, multi-threaded TCG remapping the BAR while the other vCPU
# accesses it), though the case passed on 7.3 in an earlier run.
# kernels: 6.12
# vm: --topology rootports --append preempt=full
# timeout: 480
. tests/lib/guest.sh

load_rdma
load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
rxe_pair
$BIN/rdma_dmabuf_test "$IVSHMEM" reg-race 40 || die "registrations racing resets"
