#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ibv_reg_dmabuf_mr() on vfio-pci-p2p dma-bufs with the rebuilt Soft-RoCE:
# RDMA WRITE, READ, SEND/RECV both ways and an atomic, remote (rxe1 over a
# veth pair) and loopback, one range and three ranges; the host checks its
# backing file at the range boundaries.  Also a udmabuf MR, and stock
# ib_write_bw / ib_read_bw on host memory.  The CPU-access umem API
# directly (tests/kmod/umemcpu): a umem whose private field the driver set
# is still known as CPU-access, and a core umem without importer ops is not
# (issue 13, item 9).  Then: the dma-buf MR on the requester's side (a READ
# response and atomics' original values landing in the BAR), two MRs on one
# dma-buf with one deregistered under the other's traffic, four QPs on one
# MR at once, and UC and UD QPs (issue 13, untested paths).
# post: c="build/user/tests/bar_rw check $VMDIR/host/bar0"; $c 0x100000 0x2000 1000 && for o in 0x400000 0x40f000 0x600000 0x60f000 0xc00000; do $c $o 0x1000 3000 || exit 1; done && ! $c 0x410000 0x1000 3000
# timeout: 480
. tests/lib/guest.sh

load_rdma
load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
rxe_pair
modinfo -n rdma_rxe
$BIN/rdma_dmabuf_test "$IVSHMEM" data || die "data tests"
$BIN/rdma_dmabuf_test "$IVSHMEM" udmabuf || die "udmabuf"
$BIN/rdma_dmabuf_test "$IVSHMEM" shared || die "two MRs on one dma-buf"
$BIN/rdma_dmabuf_test "$IVSHMEM" multi-qp || die "several QPs on one MR"
$BIN/rdma_dmabuf_test "$IVSHMEM" qp-types || die "UC and UD QPs"

p2pmr=/p2pmr/build/user/bin/p2pmr
$p2pmr export "$IVSHMEM" --bar 2 -- sh -c 'insmod "$0" fd=$P2PMR_DMABUF_FD netdev=veth0' \
	"$KMOD/tests/kmod/umemcpu/p2pmr_umemcpu.ko" ||
	{ dmesg | grep p2pmr_umemcpu; die "the CPU-access umem check failed"; }
dmesg | grep "p2pmr_umemcpu: ok:"
[ "$(dmesg | grep -c 'p2pmr_umemcpu: ok:')" = 2 ] ||
	die "p2pmr_umemcpu loaded without its two ok lines"
rmmod p2pmr_umemcpu || die "rmmod p2pmr_umemcpu"

# No regression on host memory.  The debug kernels run rxe about ten times
# slower: 100 READs of 64 KiB did not end within 120 s on 7.3-debug, and
# the client killed with READs in flight made rxe warn as it destroyed
# the QP.  There: 20 iterations, 360 s.
n=100 tmo=120
case $(uname -r) in *-p2pmr-debug) n=20 tmo=360 ;; esac
for t in ib_write_bw ib_read_bw; do
	timeout $tmo $t -d rxe1 -s 65536 -n $n -F > /tmp/s.log 2>&1 &
	spid=$!
	listening $spid || { cat /tmp/s.log; die "$t server is not listening"; }
	timeout $tmo $t -d rxe0 -s 65536 -n $n -F $RXE1_IP > /tmp/c.log 2>&1 ||
		{ cat /tmp/c.log /tmp/s.log; die "$t client"; }
	wait $spid || { cat /tmp/s.log; die "$t server"; }
	grep -E "^ *65536 +$n " /tmp/c.log || die "$t: no result"
done
# Stock modules that use ib_core still load against the rebuilt one.  The
# debug kernels' trimmed configuration may not build them: said, not failed.
for m in ib_ipoib mlx5_ib ib_srp; do
	case $(uname -r) in
	*-p2pmr-debug)
		modinfo -n $m > /dev/null 2>&1 ||
			{ say "$m is not built in the debug kernel: not checked"; continue; } ;;
	esac
	modprobe $m || die "stock $m does not load"
	say "stock $m loads against the rebuilt RDMA core"
done
