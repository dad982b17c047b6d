#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo, inside the VM: a VFIO-owned device's BAR becomes an RDMA memory
# region of Soft-RoCE, and RDMA traffic lands in the device; then an
# NVMe-oF/RDMA target whose data buffer is an NVMe controller's CMB serves
# an ext4 file system to the kernel's nvme-rdma host.
. tests/lib/guest.sh
P=/p2pmr/build/user/bin/p2pmr
export LD_LIBRARY_PATH=/p2pmr/build/user
step() { echo; echo "### $*"; }

step "Linux $(uname -r): load vfio-pci-p2p and p2pmr's Soft-RoCE, bind the ivshmem device"
load_rdma
load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
rxe_pair
rdma link show

step "p2pmr list"
$P list

step "p2pmr export: two BAR ranges as one dma-buf (VFIO_DEVICE_FEATURE_DMA_BUF)"
$P export "$IVSHMEM" --bar 2 --ranges 0:64K,1M:128K

step "p2pmr mr-check: ibv_reg_dmabuf_mr on rxe0, RDMA WRITE + READ through it"
$P mr-check "$IVSHMEM" --bar 2 --ranges 0x200000:64K,0x400000:64K --ibdev rxe0 ||
	die "mr-check"

step "RDMA WRITE/READ/SEND/atomics from rxe1 over a veth pair into the BAR"
$BIN/rdma_dmabuf_test "$IVSHMEM" data | grep -E '^(ok|not ok|#)' || die "rdma test"

step "p2pmr-nvmf: an NVMe-oF/RDMA target on rxe1, its data buffer in the NVMe CMB"
. tests/lib/nvmf.sh
nvmf_nvme
start_target cmb
connect_dev
nvme list

step "mkfs.ext4 through nvme-rdma, a 4 MiB file written, disconnect"
truncate -s 4M /tmp/data.bin
$T fill /tmp/data.bin 0 8192 321
mkdir -p /tmp/mnt
mkfs.ext4 -q -F -E nodiscard "$DEV" && mount "$DEV" /tmp/mnt || die "mkfs/mount"
cp /tmp/data.bin /tmp/mnt/data.bin && umount /tmp/mnt || die "write"
disconnect

step "reconnect: the file read back and compared"
connect_dev
mount "$DEV" /tmp/mnt || die "mount"
$T checkrange /tmp/mnt/data.bin 0 8192 321 || die "the file differs"
umount /tmp/mnt
stop_target
say "the target's counters: $s"
[ "$ok" = 0 ] && [ "$(get host_bytes)" = 0 ] || die "the target"
