#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# perftest's --use_vfio backend (perf/perftest/): ib_write_bw, ib_read_bw and
# ib_send_bw between rxe0 and rxe1 with a VFIO BAR on the server side (client
# in host memory) and on both sides, and ib_write_lat, ib_read_lat and
# ib_send_lat with the BAR on both sides.  A process can open a VFIO group only
# once and a group only one process at a time, so "both sides" uses a second
# ivshmem device (B, backed by $VMDIR/host/bar1): the server's buffers are in
# device A's BAR, the client's in B's at 32 MiB.  Each run must exit 0 on
# both ends and report a non-zero bandwidth, the --use_vfio ends must have
# registered with ibv_reg_dmabuf_mr, the exporter must show the dma-buf
# attached while traffic runs, and the device memory (the host's backing
# files, read in the guest through /host and by the host afterwards) must
# hold the bytes the RDMA operations moved: the backend fills its buffers
# with a pattern keyed by BAR offset, so the server's receive half must hold
# the client's pattern and, for READ, B the server's.  Bad --use_vfio input
# must fail with a message that says why (an I/O-port BAR: QEMU's
# pci-testdev).
# vm: --qemu -object --qemu memory-backend-file,id=bar1,mem-path=/vmrun/host/bar1,size=64M,share=on --qemu -device --qemu ivshmem-plain,memdev=bar1,addr=0x12 --qemu -device --qemu pci-testdev,addr=0x13
# post: build/user/tests/bar_rw check $VMDIR/host/bar0 0x410000 0x10000 0x7032706d72 0x2000000 && build/user/tests/bar_rw check $VMDIR/host/bar0 0xc10000 0x10000 0x7032706d72 0x2000000
# timeout: 480
. tests/lib/guest.sh

PT=/p2pmr/build/perf
SEED=0x7032706d72	# vfio_memory.c: VFIO_FILL_SEED
SZ=65536		# message size; each perftest buffer is 2 x SZ
A=$IVSHMEM
B=$(lspci -Dn -d 1af4:1110 | awk 'NR == 2 {print $1}')
[ -n "$B" ] || die "no second ivshmem device"
for t in ib_{write,read,send}_{bw,lat}; do
	[ -x $PT/$t ] || die "no $PT/$t: run make"
done
load_rdma
load_p2p
bind_driver "$A" vfio-pci-p2p
bind_driver "$B" vfio-pci-p2p
rxe_pair

# check FILE OFFSET LENGTH PATTERN_OFFSET: the device memory holds the fill
# pattern of BAR offset PATTERN_OFFSET at OFFSET.
check() {
	$BIN/bar_rw check "$1" "$2" "$3" $SEED "$4" || die "$1 at $2: not the expected data"
}

# run TEST "SERVER OPTS" "CLIENT OPTS": one perftest pair; both must exit 0
# within 120 s, the client must report a non-zero average bandwidth (a *_bw
# test) or typical latency (*_lat) for SZ.  perftest turns a failed
# calibration of its cycle counter (under TCG, r^2 < 0.9 when the host is
# busy) into a figure of 0.00 or inf: such a run is repeated once.
run() {
	local t=$1 s=$2 c=$3 spid rc src v try col=4

	[[ $t == *_lat ]] && col=5	# t_typical[usec]
	for try in 1 2; do
		say "$t server: $s / client: $c"
		timeout 120 $PT/$t -d rxe1 -s $SZ -F $s > /tmp/s.log 2>&1 &
		spid=$!
		listening $spid || { cat /tmp/s.log; die "$t server is not listening"; }
		timeout 120 $PT/$t -d rxe0 -s $SZ -F $c $RXE1_IP > /tmp/c.log 2>&1
		rc=$?
		wait $spid
		src=$?
		[ $src = 0 ] || { cat /tmp/s.log; die "$t server exited $src"; }
		[ $rc = 0 ] || { cat /tmp/c.log /tmp/s.log; die "$t client exited $rc"; }
		v=$(awk -v sz=$SZ -v c=$col '$1 == sz && NF >= c {print $c; exit}' /tmp/c.log)
		echo "# $t: $(grep -E "^ +$SZ " /tmp/c.log)"
		awk -v v="$v" 'BEGIN { exit !(v ~ /^[0-9.]+$/ && v + 0 > 0) }' && break
		grep 'Correlation coefficient' /tmp/c.log && [ $try = 1 ] ||
			{ cat /tmp/c.log; die "$t: no result reported"; }
		say "perftest could not calibrate its clock: once more"
	done
	dmabuf_mr s "$s"
	dmabuf_mr c "$c"
}

# dmabuf_mr SIDE OPTS: that side registered a dma-buf MR iff it used --use_vfio.
dmabuf_mr() {
	if [[ $2 == *--use_vfio* ]]; then
		grep -q 'Calling ibv_reg_dmabuf_mr' /tmp/$1.log ||
			die "$t: the --use_vfio side ($1) did not register a dma-buf MR"
	else
		! grep -q 'Calling ibv_reg_dmabuf_mr' /tmp/$1.log ||
			die "$t: the host-memory side ($1) registered a dma-buf MR"
	fi
}

# Bad input: perftest must refuse, and say why.  perftest connects to its
# peer before it sets up memory, so a host-memory server stands by.
refuse() { # message-regex client-args...
	local want=$1 spid
	shift
	timeout 120 $PT/ib_write_bw -d rxe1 -F > /tmp/bad-s.log 2>&1 &
	spid=$!
	listening $spid || { cat /tmp/bad-s.log; die "ib_write_bw server is not listening"; }
	timeout 120 $PT/ib_write_bw -d rxe0 -F "$@" $RXE1_IP > /tmp/bad.log 2>&1 &&
		die "'$*' succeeded"
	kill $spid 2> /dev/null
	wait $spid 2> /dev/null
	grep -E -- "$want" /tmp/bad.log || { cat /tmp/bad.log; die "'$*': no message matching '$want'"; }
}
refuse "'zz:1' is not a PCI address" --use_vfio=zz:1
refuse "BARs are numbered 0-5" --use_vfio=$A,bar=6
refuse "not a multiple of 4096" --use_vfio=$A,offset=100
refuse "unknown 'size=1'" --use_vfio=$A,size=1
refuse "Can't use multiple memory types" --use_vfio=$A --mmap=/dev/zero
refuse "BAR1 of $A is absent" --use_vfio=$A,bar=1
refuse "offset 0x4000000 is past the end of BAR2 of $A" --use_vfio=$A,offset=64M
refuse "does not fit in BAR2 of $A" --use_vfio=$A,offset=0x3ff0000 -s 1048576
refuse "no PCI device 0000:00:19.0" --use_vfio=00:19.0
# QEMU's pci-testdev: BAR1 is an I/O-port BAR.
TESTDEV=$(lspci -Dn -d 1b36:0005 | awk 'NR == 1 {print $1}')
[ -n "$TESTDEV" ] || die "no pci-testdev"
bind_driver "$TESTDEV" vfio-pci-p2p
refuse "BAR1 of $TESTDEV is an I/O port BAR, not memory" --use_vfio=$TESTDEV,bar=1
VGA=$(lspci -Dn -d 1234:1111 | awk 'NR == 1 {print $1}')
refuse "$VGA is bound to .*, not to a VFIO driver" --use_vfio=$VGA
# A second process on the same device: its group is busy.
exec 8<> /dev/vfio/$(basename "$(readlink /sys/bus/pci/devices/$A/iommu_group)")
refuse "the group is open elsewhere" --use_vfio=$A
exec 8<&-
if [ "$KSERIES" = 6.12 ]; then
	# Stock vfio-pci of 6.12 has no dma-buf export.
	bind_driver "$B" vfio-pci
	refuse "lacks VFIO_DEVICE_FEATURE_DMA_BUF: bind it to vfio-pci-p2p" --use_vfio=$B
	bind_driver "$B" vfio-pci-p2p
fi

# One side: the server's buffer in A's BAR, the client in host memory.
# WRITE and SEND put the client's (random) bytes into the server's receive
# half, which held the backend's fill before.
run ib_write_bw "--use_vfio=$A -n 200" "-n 200"
check /host/bar0 0 0x10000 0
$BIN/bar_rw check /host/bar0 0x10000 0x10000 $SEED 0x10000 > /dev/null &&
	die "the WRITEs did not reach A's BAR"
run ib_read_bw "--use_vfio=$A,offset=2M -n 200" "-n 200"
run ib_send_bw "--use_vfio=$A,offset=6M -n 200" "-n 200"
$BIN/bar_rw check /host/bar0 0x610000 0x10000 $SEED 0x610000 > /dev/null &&
	die "the SENDs did not reach A's BAR"

# Both sides: server in A's BAR, client in B's at 32 MiB.  B's backing file
# outlives the run, but the client's fill overwrites the range before the
# READ, and A's file is new for each boot.
run ib_write_bw "--use_vfio=$A,offset=4M -n 200" "--use_vfio=$B,offset=32M -n 200"
check /host/bar0 0x410000 0x10000 0x2000000
run ib_read_bw "--use_vfio=$A,offset=8M -n 200" "--use_vfio=$B,offset=32M -n 200"
check /host/bar1 0x2000000 0x10000 0x810000
run ib_send_bw "--use_vfio=$A,offset=12M -n 200" "--use_vfio=$B,offset=32M -n 200"
check /host/bar0 0xc10000 0x10000 0x2000000

# Latency tests, BAR on both sides.  ib_write_lat has each side poll the
# last byte of its receive buffer, here in the BAR's mmap, for the peer's
# RDMA WRITE, which rxe puts in the BAR through the exporter's mapping: the
# run cannot finish unless every WRITE lands where the CPU looks.  Both
# buffers start zeroed (the backend's WRITE-latency fill) and hold what the
# ping-pong wrote last: the other side's buffer, zeros plus the counter in
# the last byte; the host-memory pattern check does not apply.
run ib_write_lat "--use_vfio=$A,offset=20M -n 200" "--use_vfio=$B,offset=36M -n 200"
run ib_read_lat "--use_vfio=$A,offset=24M -n 200" "--use_vfio=$B,offset=40M -n 200"
check /host/bar1 0x2800000 0x10000 0x1810000
run ib_send_lat "--use_vfio=$A,offset=28M -n 200" "--use_vfio=$B,offset=44M -n 200"
check /host/bar0 0x1c10000 0x10000 0x2c00000

# While traffic runs the exporter shows both dma-bufs attached to an RDMA
# device (perftest registers after the connection is made, and closes its
# dma-buf fd right after registering: the MR keeps the attachment).
# attached DEV: /tmp/status shows an attachment on DEV's dma-buf.
attached() {
	awk -v d="$1" '/^[0-9a-f]+:/ { dev = $1 } dev == d ":" && /attachment/ { ok = 1 } END { exit !ok }' \
		/tmp/status
}
timeout 120 $PT/ib_write_bw -d rxe1 -s $SZ -F -D 6 --use_vfio=$A,offset=16M > /tmp/s.log 2>&1 &
spid=$!
listening $spid || { cat /tmp/s.log; die "timed ib_write_bw server is not listening"; }
timeout 120 $PT/ib_write_bw -d rxe0 -s $SZ -F -D 6 --use_vfio=$B,offset=32M $RXE1_IP > /tmp/c.log 2>&1 &
cpid=$!
# Both sides register once connected, and run 6 s: look until both show.
while kill -0 $cpid 2> /dev/null; do
	/p2pmr/build/user/bin/p2pmr status > /tmp/status 2>&1
	attached $A && attached $B && break
	sleep 0.2
done
wait $spid && wait $cpid || { cat /tmp/s.log /tmp/c.log; die "timed ib_write_bw failed"; }
cat /tmp/status
for d in $A $B; do
	attached $d || die "no attachment on $d during the run"
done
say "perftest --use_vfio: write/read/send bw, one side and both sides; lat, both sides"
