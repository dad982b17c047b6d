#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO_DEVICE_FEATURE_DMA_BUF validation and PROBE through vfio-pci-p2p; on
# kernels whose vfio-pci has the feature (7.3), the same program against
# upstream vfio-pci must give identical results on the shared cases.
. tests/lib/guest.sh

load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
$BIN/dmabuf_uapi --ours "$IVSHMEM" | tee /tmp/ours.log
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || die "dmabuf_uapi against vfio-pci-p2p failed"

if [ "$KSERIES" = 6.12 ]; then
	# Stock 6.12 vfio-pci lacks the feature: PROBE says so.
	bind_driver "$IVSHMEM" vfio-pci
	$BIN/dmabuf_uapi "$IVSHMEM" > /tmp/upstream.log
	grep -q '^# case probe-get ENOTTY' /tmp/upstream.log ||
		die "6.12 vfio-pci PROBE did not report ENOTTY"
	say "6.12 vfio-pci: PROBE reports ENOTTY as expected"
	exit 0
fi

bind_driver "$IVSHMEM" vfio-pci
$BIN/dmabuf_uapi "$IVSHMEM" | tee /tmp/upstream.log
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || die "dmabuf_uapi against upstream vfio-pci failed"
grep '^# case' /tmp/upstream.log > /tmp/a
awk 'NR == FNR { want[$3] = 1; next } /^# case/ && want[$3]' /tmp/a /tmp/ours.log > /tmp/b
diff -u /tmp/a /tmp/b || die "vfio-pci-p2p and vfio-pci differ on the shared uAPI"
say "identical results on $(wc -l < /tmp/a) shared cases"
