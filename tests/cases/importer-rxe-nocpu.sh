#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A dma-buf without CPU access, from upstream vfio-pci (7.3 only), is refused
# by the rebuilt rxe with EOPNOTSUPP and a reason in dmesg, never crashed on.
# The reason is ratelimited: 201 refusals in a row leave at most 20 lines
# (printk's default ratelimit lets 10 through per 5 s; issue 13, item 10).
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
n=$(dmesg | grep -c "offers no CPU access (vmap): a software RDMA device cannot use it")
say "$n lines in dmesg for 201 refused registrations"
[ "$n" -le 20 ] || die "the reason is not ratelimited: $n lines for 201 refusals"
