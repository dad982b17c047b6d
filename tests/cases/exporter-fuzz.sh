#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Seeded random VFIO_DEVICE_FEATURE calls against vfio-pci-p2p: 12,000 per
# kernel in two seeds; the kernel log must stay clean (the runner checks).
. tests/lib/guest.sh

load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
for seed in 1 ${P2PMR_FUZZ_SEED:-20261125}; do
	$BIN/dmabuf_fuzz "$IVSHMEM" "$seed" 6000 || die "fuzz seed $seed"
done
# The device still works afterwards.
$BIN/dmabuf_uapi "$IVSHMEM" > /tmp/after.log || { cat /tmp/after.log; die "uAPI broken after fuzzing"; }
say "uAPI intact after fuzzing"
