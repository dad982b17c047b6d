#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Atomics on a dma-buf MR over the BAR are single-copy atomic (issue 13,
# item 3): a FETCH_ADD that carries across bit 32, CMP_SWAP (hit and miss),
# ATOMIC_WRITE, then runs of FETCH_ADD and CMP_SWAP with a CPU thread
# watching the word for torn values, and FETCH_ADD 0 while the CPU rewrites
# the word; a misaligned atomic is refused (rdma_dmabuf_test atomic).  The
# host then checks the final words in its backing file.  Then a dma-buf MR
# over a non-prefetchable BAR of registers, edu's BAR0 (mapped uncached):
# READ and WRITE reach its 4-byte registers, atomics its 8-byte ones whole
# (rdma_dmabuf_test mmio).
# vm: --edu
# post: w() { od -An -tx8 -j $((0x1800000 + $1)) -N8 $VMDIR/host/bar0 | tr -d ' '; }; for e in 0:0000000100000000 8:3333333344444444 16:5555555566666666 24:000003e8000003e8 32:000003e8000003e8 48:7777777788888888; do [ "$(w ${e%%:*})" = "${e#*:}" ] || { echo "host: word at +${e%%:*} is $(w ${e%%:*}), want ${e#*:}"; exit 1; }; done; echo "host: the atomic words in the BAR backing file are as expected"
# timeout: 600
. tests/lib/guest.sh

load_rdma
load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
rxe_pair
$BIN/rdma_dmabuf_test "$IVSHMEM" atomic || die "atomics"
bind_driver "$EDU" vfio-pci-p2p
$BIN/rdma_dmabuf_test "$EDU" mmio || die "a non-prefetchable register BAR"
