#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO_DEVICE_FEATURE_DMA_BUF validation and PROBE through vfio-pci-p2p; on
# kernels whose vfio-pci has the feature (7.3), the same program against
# upstream vfio-pci must give identical results on the shared cases.  An
# I/O-port BAR (QEMU's pci-testdev has one, BAR1) cannot be exported: the
# ioctl fails with EINVAL, the CLI says why.  libp2pmr's shared groups and
# containers and its DMA mapping (lib_container) on both devices, with
# vfio-pci-p2p and, on 7.3, upstream vfio-pci.
# vm: --qemu -device --qemu pci-testdev,addr=0x13
. tests/lib/guest.sh

load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
$BIN/dmabuf_uapi --ours "$IVSHMEM" | tee /tmp/ours.log
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || die "dmabuf_uapi against vfio-pci-p2p failed"

TESTDEV=$(lspci -Dn -d 1b36:0005 | awk 'NR == 1 {print $1}')
[ -n "$TESTDEV" ] || die "no pci-testdev"
bind_driver "$TESTDEV" vfio-pci-p2p
$BIN/dmabuf_uapi --io 1 "$TESTDEV" || die "vfio-pci-p2p exported an I/O BAR"
$BIN/lib_container "$IVSHMEM" "$TESTDEV" ||
	die "libp2pmr containers and DMA mapping on vfio-pci-p2p"
/p2pmr/build/user/bin/p2pmr export "$TESTDEV" --bar 1 > /tmp/io.log 2>&1
rc=$?
cat /tmp/io.log
[ "$rc" = 5 ] && grep -q "BAR1 of $TESTDEV is an I/O port BAR" /tmp/io.log ||
	die "p2pmr export of an I/O BAR: exit $rc, not 5 with a reason"

if [ "$KSERIES" = 6.12 ]; then
	# Stock 6.12 vfio-pci lacks the feature: PROBE says so.
	bind_driver "$IVSHMEM" vfio-pci
	$BIN/dmabuf_uapi "$IVSHMEM" > /tmp/upstream.log
	grep -q '^# case probe-get ENOTTY' /tmp/upstream.log ||
		die "6.12 vfio-pci PROBE did not report ENOTTY"
	say "6.12 vfio-pci: PROBE reports ENOTTY as expected"
	exit 0
fi

bind_driver "$TESTDEV" vfio-pci
$BIN/dmabuf_uapi --io 1 "$TESTDEV" || die "upstream vfio-pci exported an I/O BAR"

bind_driver "$IVSHMEM" vfio-pci
$BIN/dmabuf_uapi "$IVSHMEM" | tee /tmp/upstream.log
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || die "dmabuf_uapi against upstream vfio-pci failed"
$BIN/lib_container "$IVSHMEM" "$TESTDEV" ||
	die "libp2pmr containers and DMA mapping on upstream vfio-pci"
grep '^# case' /tmp/upstream.log > /tmp/a
awk 'NR == FNR { want[$3] = 1; next } /^# case/ && want[$3]' /tmp/a /tmp/ours.log > /tmp/b
diff -u /tmp/a /tmp/b || die "vfio-pci-p2p and vfio-pci differ on the shared uAPI"
say "identical results on $(wc -l < /tmp/a) shared cases"
