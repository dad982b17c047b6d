#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A dma-buf without CPU access, from upstream vfio-pci (7.3 only), is refused
# by the rebuilt rxe with EOPNOTSUPP and a reason in dmesg, never crashed on.
# kernels: 7.3
# timeout: 480
. tests/lib/guest.sh

load_rdma
modprobe vfio-pci || die "modprobe vfio-pci"
bind_driver "$IVSHMEM" vfio-pci
rxe_pair
$BIN/rdma_dmabuf_test "$IVSHMEM" nocpu || die "nocpu"
dmesg | grep -q "offers no CPU access (vmap): a software RDMA device cannot use it" ||
	die "no reason in dmesg"
