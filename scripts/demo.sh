#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: on each kernel series, boot the test bed and register a VFIO
# BAR as an RDMA memory region; the host then checks that the RDMA writes
# landed in the device memory (the ivshmem BAR's backing file).  Then
# p2pmr-nvmf serves ext4 from the NVMe CMB to nvme-rdma; the host finds
# the file in the NVMe disk image.
set -euo pipefail
cd "$(dirname "$0")/.."
check='c="build/user/tests/bar_rw check $VMDIR/host/bar0"; $c 0x100000 0x2000 1000 && $c 0x40f000 0x1000 3000 && $c 0xc00000 0x1000 3000 && echo "host: the RDMA writes are in the device BAR (backing file checked at 3 places)" && debugfs -R "dump /data.bin $VMDIR/data.bin" $VMDIR/nvme.img && build/user/tests/nvme_driver_test checkrange $VMDIR/data.bin 0 8192 321 && echo "host: the file written through nvme-rdma is in the NVMe disk image (ext4, found with debugfs)"'
for s in ${*:-6.12 7.3}; do
	echo "=== p2pmr demo on Linux $s (QEMU/TCG, intel-iommu, ivshmem BAR, NVMe CMB, Soft-RoCE) ==="
	tests/vm/run --kver "$s" --dir "build/vm/demo-$s" --timeout 600 \
		--nvme 64 --nvme-cmb 16 \
		--post "$check" -- bash tests/demo/guest-demo.sh
done
