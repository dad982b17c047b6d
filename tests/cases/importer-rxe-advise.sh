#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ibv_advise_mr() on a dma-buf MR and on a plain MR (issue 13, item 2):
# prefetching has no meaning there and must be refused, synchronously
# (FLUSH) and not, never crashed on: EINVAL from 7.3's rxe, EOPNOTSUPP from
# 6.12's, which has no advise_mr (rdma_dmabuf_test advise).  An ODP MR, where
# the kernel offers them, may be prefetched.
# timeout: 360
. tests/lib/guest.sh

load_rdma
load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
rxe_pair
$BIN/rdma_dmabuf_test "$IVSHMEM" advise || die "advise_mr"
