#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# p2pmr-nvmf across resets of its NVMe controller (issue 14): a function
# reset through sysfs (reset_prepare/reset_done of vfio-pci-p2p) revokes
# the CMB's dma-buf and with it the target's data MR, and leaves the
# controller disabled with its CMB off.  The host (nvme-rdma, same VM)
# writes pattern A over a range, then writes pattern B one block at a
# time with O_DIRECT while the function is reset three times from
# outside, and twice by the target itself at set points of a write
# (P2PMR_NVMF_FAULT=reset-every); the target must notice, restart the
# controller, export and register the CMB again and serve on.  Twice:
# with the host's retries (nvme_core.max_retries as loaded: no write may
# fail), then with max_retries 0, so that a write the target fails (or a
# queue that breaks under it) fails the host's write.  Each block
# whose write failed is read right after the failure; at the end every
# block must hold B where its write succeeded and, where it failed, what
# was read right after the failure (A, or B when an earlier attempt
# reached the media before the failure was reported: never anything that
# arrives later), through the target and, after the VM, in the disk
# image.  Then a new write and read, and the target's counters.  Then a
# third phase (max_retries 0) where memory decode is turned off and on
# instead: through VFIO by the target itself at set points of a write
# (P2PMR_NVMF_FAULT=memoff-every), which revokes the dma-buf as a reset
# does, while the controller keeps its state; the target must notice by
# the failed RDMA operation, restart, export, register and serve on, with
# the same checks of every block.
# vm: --nvme 64 --nvme-cmb 16
# timeout: 900
# post: for p in 1 2 3; do b=$(cat $VMDIR/out/reset-base$p) && cmp <(dd if=$VMDIR/nvme.img bs=512 skip=$b count=$(($(stat -c %s $VMDIR/out/reset-expect$p) / 512)) status=none) $VMDIR/out/reset-expect$p && echo "ok: image: phase $p's blocks as the host last saw them" || exit 1; done
. tests/lib/guest.sh
. tests/lib/nvmf.sh

N=60			# blocks written one at a time in each phase
RESET_AT="8 30 45"	# before these writes a reset starts (background)
EVERY=25		# the target resets at its host writes 25, 50, 75, 100...
nresets=0

# blk FILE I: block I of FILE (512 bytes) on stdout.
blk() {
	dd if="$1" bs=512 skip="$2" count=1 status=none
}

# same FILE1 I1 FILE2 I2: whether block I1 of FILE1 is block I2 of FILE2.
same() {
	cmp -s -i $(($2 * 512)):$(($4 * 512)) -n 512 "$1" "$3"
}

# read_block LBA FILE: the block at LBA into FILE, with O_DIRECT; tried
# again for 60 s (a host reconnecting fails reads meanwhile with
# max_retries 0).
read_block() {
	local i

	for i in $(seq 120); do
		[ -b $DEV ] && dd if=$DEV of="$2" bs=512 skip="$1" count=1 \
			iflag=direct status=none 2> /dev/null && return 0
		sleep 0.5
	done
	return 1
}

# phase P BASE: pattern A over N blocks at BASE, then pattern B block by
# block with resets in between.  Leaves the blocks the host should find
# in /vmout/reset-expectP and the failed writes in $failed.
phase() {
	local p=$1 base=$2 i rc a=/tmp/A$1 b=/tmp/B$1 x=/vmout/reset-expect$1
	local t0=$SECONDS resets=

	echo $base > /vmout/reset-base$p
	rm -f $a $b $x
	truncate -s $((N * 512)) $a $b
	$T fill $a 0 $N $((p * 10 + 1)) && $T fill $b 0 $N $((p * 10 + 2)) ||
		die "patterns"
	dd if=$a of=$DEV bs=$((N * 512)) oflag=direct,seek_bytes \
		seek=$((base * 512)) status=none || die "phase $p: pattern A"
	# Every block B, but those whose write fails (patched below).
	cp $b $x
	failed=0
	for i in $(seq 0 $((N - 1))); do
		if [ -n "$RESET_AT" ] && [[ " $RESET_AT " == *" $i "* ]]; then
			say "phase $p: reset $((++nresets)) of $NVME before write $i"
			(echo 1 > $RESET || echo "not ok: reset of $NVME") &
			resets+=" $!"
		fi
		if [ ! -b $DEV ]; then
			echo "not ok: phase $p: $DEV is gone at write $i"; ok=1
			break
		fi
		dd if=$b of=$DEV bs=512 skip=$i seek=$((base + i)) count=1 \
			oflag=direct status=none 2> /tmp/dd.err
		rc=$?
		[ $rc = 0 ] && continue
		failed=$((failed + 1))
		read_block $((base + i)) /tmp/seen ||
			{ echo "not ok: phase $p: LBA $((base + i)) unreadable after its failed write"; ok=1; continue; }
		if same /tmp/seen 0 $a $i; then
			say "phase $p: write $i (LBA $((base + i))) failed ($(cat /tmp/dd.err)); the block holds A"
		elif same /tmp/seen 0 $b $i; then
			say "phase $p: write $i (LBA $((base + i))) failed ($(cat /tmp/dd.err)); the block holds B: an attempt reached the media before the failure"
		else
			echo "not ok: phase $p: LBA $((base + i)) holds neither A nor B after its failed write"; ok=1
		fi
		blk /tmp/seen 0 | dd of=$x bs=512 seek=$i conv=notrunc status=none
	done
	[ -z "$resets" ] || wait $resets
	say "phase $p: $failed of $N writes failed, $((SECONDS - t0)) s"
	eval failed$p=$failed
}

# served_again P...: a new write and its read-back (on the block device:
# a name that went with its controller would be a new file in /dev), then
# every block of phases P as the host last saw it, read through the target.
served_again() {
	local p base

	check test -b $DEV
	check write $((5000 + $1)) $((120000 + 2000 * ($1 - 1))) 64
	check readback $((5000 + $1)) $((120000 + 2000 * ($1 - 1))) 64
	for p in "$@"; do
		base=$(cat /vmout/reset-base$p)
		dd if=$DEV of=/tmp/final$p bs=$((N * 512)) count=1 \
			iflag=direct,skip_bytes skip=$((base * 512)) status=none ||
			{ echo "not ok: read of phase $p"; ok=1; }
		check cmp /tmp/final$p /vmout/reset-expect$p
	done
}

nvmf_bed
RESET=/sys/bus/pci/devices/$NVME/reset
say "reset methods of $NVME: $(cat /sys/bus/pci/devices/$NVME/reset_method)"
# Besides the resets from outside, at unknown points of the target's
# work, the target resets the function itself (the same sysfs reset) at
# every 25th host write, in turn right before its RDMA READ (the MR is
# revoked, the RDMA READ fails, the queue breaks: the host reconnects and
# requeues the write) and right before its backing Write (the command
# stops: Internal Error, the host retries).  Host writes 1-61 are phase
# 1's, 62-122 phase 2's (a few more where the host sent one again).
# With --nvme-irq: the backing queue's MSI-X vector is set again on
# every recovery, and must keep waking the target after the resets.
start_target cmb reset-every=$EVERY --nvme-irq
# Reconnect a second after a queue broke; give up after 60 s.
CONNECT_OPTS="-k 30 -c 1 -l 60" connect_dev

retries=$(cat /sys/module/nvme_core/parameters/max_retries)
say "phase 1: nvme_core.max_retries $retries"
phase 1 100000
echo 0 > /sys/module/nvme_core/parameters/max_retries
phase 2 110000
echo $retries > /sys/module/nvme_core/parameters/max_retries

served_again 1 2
dmesg | grep -i 'nvme.*\(reconnect\|error\|I/O\|abort\|fail\)' | tail -n 12

stop_target
forced=$(grep -c 'FAULT: function reset of' /tmp/tgt.log)
say "target: $forced resets of its own, $(get revokes) found by a revoked RDMA operation, $(grep -c 'lost (the controller is not ready' /tmp/tgt.log) by CSTS before a command, $(grep -c 'lost (a backing command stopped' /tmp/tgt.log) by a backing command that stopped"
# Four in the phases; a fifth when the host sent writes again (its
# retries count) and the final write reached the 125th.
check test $forced -ge 4
# One recovery per reset (two that come before the target looks are
# one): the controller restarted, the CMB exported and registered again
# (a new lkey), serving again.
check test "$(get resets)" -ge $nresets
check test "$(get resets)" -le $((nresets + forced))
check test "$(grep -c 'recovered: serving again' /tmp/tgt.log)" = "$(get resets)"
check test "$(grep -c 'recovery: CMB exported again, data MR registered' /tmp/tgt.log)" -ge "$(get resets)"
# The interrupts kept waking the target across the resets: about one
# per host write and read (seen: 131); 40 is more than the commands
# before the first reset.
check test "$(get irqs)" -ge 40
# Each way of finding a reset was taken: the revoked MR by an RDMA READ
# and the stopped backing Write (the target's own resets), CSTS before a
# command (the resets from outside, at least some).
check test "$(get revokes)" -ge 2
check test "$(grep -c 'backing controller lost (RDMA READ on the data MR: local protection error' /tmp/tgt.log)" -ge 2
check test "$(grep -c 'backing controller lost (a backing command stopped' /tmp/tgt.log)" -ge 2
check test "$(grep -c 'backing controller lost (the controller is not ready' /tmp/tgt.log)" -ge 1
# The host retried what failed in phase 1; in phase 2 (no retries) it
# saw the target's two resets fail a write each.
check test $failed1 = 0
check test $failed2 -ge 2
check test "$(get host_bytes)" = 0

# Phase 3: memory decode off and on through VFIO, by the target at its
# host writes 10, 20, 30... in turn before the RDMA READ (the revoked MR
# fails it: the queue breaks) and before the backing Write (the write
# completes from the CMB, which kept its contents; the next RDMA
# operation on the MR fails).  No resets from outside; the host's
# retries off.
RESET_AT=""
start_target cmb memoff-every=10
CONNECT_OPTS="-k 30 -c 1 -l 60" connect_dev
echo 0 > /sys/module/nvme_core/parameters/max_retries
phase 3 121000
echo $retries > /sys/module/nvme_core/parameters/max_retries
served_again 3
stop_target
offs=$(grep -c 'FAULT: memory decode of .* off and on before' /tmp/tgt.log)
say "phase 3: $offs times memory decode off and on, $failed3 of $N writes failed, $(get revokes) revoked RDMA operations, $(get resets) recoveries"
check test $offs -ge 6
# Each found by a revoked RDMA operation (two that come before the
# target looks are one), and the target served on.
check test "$(get revokes)" -ge $((offs / 2))
check test "$(get resets)" = "$(get revokes)"
check test "$(grep -c 'recovered: serving again' /tmp/tgt.log)" = "$(get resets)"
check test "$(get host_bytes)" = 0
[ $ok = 0 ] || die "some checks failed"
