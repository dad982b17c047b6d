#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Device resets racing a stream of registrations of one dma-buf (two
# threads, one per CPU): an invalidation that arrives while the attachment
# is being set up must not crash the kernel; registrations succeed between
# resets and are refused while the buffer is revoked (root ports: the
# device can be reset there).  Full preemption lets
# the registering threads be interrupted anywhere, inside the window too.
# Single-threaded TCG: multi-threaded TCG remapping the BAR while the other
# vCPU accesses it made QEMU itself abort ("iotlb_to_section: Assertion
# `section_index < d->map.sections_nb'", physmem.c) twice in a CI run on
# 7.3 and three times in a row on 6.12 (2026-12-03, twice the abort and
# once a guest with no heartbeat right after the first bus reset).  The
# vCPUs still interleave, and preempt=full keeps the window open.
# vm: --topology rootports --append preempt=full --tcg-single
# timeout: 480
. tests/lib/guest.sh

load_rdma
load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
rxe_pair
$BIN/rdma_dmabuf_test "$IVSHMEM" reg-race 40 || die "registrations racing resets"
