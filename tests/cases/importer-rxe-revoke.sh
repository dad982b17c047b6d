#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The revoke contract: after a reset, every operation on the revoked MR,
# remote and local, completes with the status docs/importer.md gives.
# Revoke under traffic: rxe1 streams RDMA WRITEs into a dma-buf MR on rxe0
# while the device is reset, and separately while its memory decode is
# cleared.  The writer must stop with a remote access error, no byte of the
# region may change after the revoke (checked in the guest, and by the host
# against snapshots taken right after the revoke), the kernel log stays
# clean.  Then close-order chaos and kill -9 of an owner holding an MR.
# timeout: 480
# vm: --topology rootports
# post: cmp <(dd if=$VMDIR/host/bar0 bs=1M skip=2 count=1 status=none) $VMDIR/out/snap-mem.bin
. tests/lib/guest.sh

load_rdma
load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
rxe_pair
$BIN/rdma_dmabuf_test "$IVSHMEM" revoke-contract || die "the revoke contract"
$BIN/rdma_dmabuf_test "$IVSHMEM" revoke-reset || die "revoke by reset"
cp /vmout/snap-reset.bin /tmp/
$BIN/rdma_dmabuf_test "$IVSHMEM" revoke-mem || die "revoke by memory disable"
$BIN/rdma_dmabuf_test "$IVSHMEM" chaos || die "close-order chaos"
