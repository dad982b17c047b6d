#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: boot the test bed on each kernel series and show p2pmr at work.
set -euo pipefail
cd "$(dirname "$0")/.."
for s in ${*:-6.12 7.3}; do
	echo "=== p2pmr demo on Linux $s (QEMU/TCG, intel-iommu, ivshmem BAR) ==="
	tests/vm/run --kver "$s" --dir "build/vm/demo-$s" \
		--post 'build/user/tests/bar_rw check $VMDIR/host/bar0 0x100000 0x10000 7' \
		-- bash tests/cases/smoke.sh
done
