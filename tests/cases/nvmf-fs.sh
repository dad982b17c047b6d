#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# p2pmr-nvmf serving a file system to the stock nvme-rdma host, its data
# buffer in the NVMe CMB: mkfs.ext4 through the target, a file written,
# unmounted and disconnected, read back after a reconnect, e2fsck clean;
# fio with verify on the host's two I/O queues (all of it first against
# the kernel's nvmet-rdma, the reference); then kill -9 of the
# target during writes: the host fails the I/O and removes the controller
# within its loss timeout, the exporter drops the target's dma-buf, and a
# new target serves the same file system again.  After the VM the host
# finds the file in the disk image (debugfs) and checks its bytes.
# vm: --nvme 64 --nvme-cmb 16
# timeout: 900
# post: debugfs -R "dump /data.bin $VMDIR/data.bin" $VMDIR/nvme.img && build/user/tests/nvme_driver_test checkrange $VMDIR/data.bin 0 8192 321
. tests/lib/guest.sh
. tests/lib/nvmf.sh

FS_MIB=48		# the file system; the 16 MiB after it stay raw
MNT=/tmp/mnt

# qcmds: the NVM commands of I/O queues 1 and 2 in the target's last
# stats (written each time a controller goes).
qcmds() {
	s=$(cat $STATS)
	echo "$(get q1_cmds) $(get q2_cmds)"
}

# fs_write: a file system on $DEV and a file of known bytes in it.
fs_write() {
	check mkfs.ext4 -q -F -E nodiscard $DEV ${FS_MIB}M
	check mount $DEV $MNT
	check cp /tmp/data.bin $MNT/data.bin
	check umount $MNT
}

# fs_check: the file as written, and the file system clean.
fs_check() {
	check mount $DEV $MNT
	check $T checkrange $MNT/data.bin 0 8192 321
	check umount $MNT
	check e2fsck -f -n $DEV
}

# fio_verify: fio with verify in the raw tail, one job on each CPU, so
# each of the host's two I/O queues carries its own writes and reads, 16
# at a time: more than p2pmr-nvmf's data buffers, so every buffer is
# taken and commands wait for one.
fio_verify() {
	# The hardware queues of the namespace's block device, or of its
	# path device under a multipath node (nvmet reports a multi-
	# controller subsystem, so the host makes one; p2pmr-nvmf does not).
	check test "$(ls -d /sys/block/${DEV#/dev/}/mq/* \
		/sys/block/nvme*c*n1/mq/* 2> /dev/null | wc -l)" = 2
	check fio --name=verify --filename=$DEV --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=4k --iodepth=16 --numjobs=2 --size=1M \
		--offset=$((FS_MIB + 4))M --offset_increment=4M \
		--verify=crc32c --verify_fatal=1 --verify_state_save=0 \
		--cpus_allowed=0-1 \
		--cpus_allowed_policy=split --group_reporting
}

nvmf_bed
mkdir -p $MNT

# This controller has no PMR: --buf pmr is refused, saying so.
out=$($TGT --bdf "$NVME" --addr $RXE1_IP --nqn $NQN --allow-any-host \
	--buf pmr 2>&1) && rc=0 || rc=$?
echo "$out"
check test $rc = 1
check grep -q "no PMR (CAP.PMRS clear)" <<< "$out"
truncate -s 4M /tmp/data.bin
$T fill /tmp/data.bin 0 8192 321

# The reference first: the kernel's nvmet-rdma, a file namespace, the
# same host, rxe pair and checks.  If it fails, the bed is broken, not
# p2pmr-nvmf.
# Its port (4421) stays: removing a port takes nvmet_config_sem and then
# the listener's RDMA CM handler_mutex, while an I/O Connect that nvmet-rdma
# ran inside the CM handler (it came before ESTABLISHED) took them the
# other way round: two cm_ids, one lock class, and lockdep on the debug
# kernels reports the cycle in the kernel's own nvmet and stops checking.
say "the reference: nvmet-rdma with a file namespace"
truncate -s 64M /tmp/ref.img
SVC=4421
nvmet_up /tmp/ref.img
connect_dev
fs_write
check nvme disconnect -n $NQN
connect_dev
fs_check
fio_verify
check nvme disconnect -n $NQN
check sh -c "echo 0 > $NVMET/subsystems/$NQN/namespaces/1/enable"
SVC=4420
# The file's bytes in the namespace's backing file.
check debugfs -R "dump /data.bin /tmp/ref-data.bin" /tmp/ref.img
check $T checkrange /tmp/ref-data.bin 0 8192 321
rm -f /tmp/ref.img

say "p2pmr-nvmf, the CMB buffer, backing interrupts"
start_target cmb "" --nvme-irq
connect_dev
fs_write
disconnect
# A new controller and block device.
connect_dev
fs_check
# The counters before fio: written as this controller goes.  The next
# one's connect adds a few reads (the host's partition scan).
disconnect
before=($(qcmds))
connect_dev
fio_verify
disconnect
after=($(qcmds))
say "NVM commands on I/O queues 1 and 2: before ${before[*]}, after ${after[*]}"
for i in 0 1; do
	# 256 writes and 256 verify reads per job at least.
	check test $((after[i] - before[i])) -ge 512
done
# Every data byte of this target so far went through the CMB.
s=$(cat $STATS)
say "stats: $s"
check test "$(get host_bytes)" = 0
check test "$(get write_bytes)" -ge $((4 * 1024 * 1024 + 2 * 1024 * 1024))
check test "$(get cmb_bytes)" = $(($(get write_bytes) + $(get read_bytes)))
# fio's commands were served together (several in flight at once, each
# on its own data buffer), not one at a time.
check test "$(get inflight_max)" -ge 2
# Two queues of 16 against 16 buffers: capsules waited on their queues
# for one (seen: 851-914), while the thread went on.
check test "$(get held)" -ge 1
# --nvme-irq: while backing commands ran, the target slept until the
# controller's MSI-X interrupt woke it (its eventfd) with a completion
# to take, instead of polling and napping.
check grep -q "backing completions: interrupts (MSI-X vector 1, eventfd; --nvme-irq)" /tmp/tgt.log
check test "$(get irqs)" -ge 1

# kill -9 of the target while the host writes: the host fails the writes
# and removes the controller within its loss timeout (connect's -l 20),
# the target's dma-buf is gone from the exporter.
connect_dev
# Writes over the last 4 MiB, again and again until one fails.
(
	n=0
	while dd if=/dev/zero of=$DEV bs=64k oflag=direct \
		seek=$(((FS_MIB + 12) * 16)) count=64 status=none; do
		n=$((n + 1))
	done
	echo "$n passes of 4 MiB before the failure"
) > /tmp/dd.log 2>&1 &
DD=$!
sleep 2
check kill -0 $DD
# The target's buffer, as the exporter lists it.
check grep -q '^dmabuf' /sys/kernel/debug/vfio-pci-p2p/$NVME/dmabufs
kill -9 $TPID
wait $TPID
say "p2pmr-nvmf killed: $?"
# The loss timeout is 20 s; 60 s leaves a debug kernel its time.
for i in $(seq 60); do
	kill -0 $DD 2> /dev/null || break
	sleep 1
done
if kill -0 $DD 2> /dev/null; then
	echo "not ok: the host's writes still go on 60 s after kill -9"; ok=1
	kill -9 $DD
else
	echo "ok: the host's writes failed $i s after kill -9"
fi
wait $DD
cat /tmp/dd.log
for i in $(seq 120); do
	ls /sys/block | grep -q '^nvme' || break
	sleep 1
done
check test -z "$(ls /sys/block | grep '^nvme')"
dmesg | grep -i nvme | tail -n 8
# The exporter let go of the killed target's buffer.
for i in $(seq 50); do
	grep -q '^dmabuf' /sys/kernel/debug/vfio-pci-p2p/$NVME/dmabufs || break
	sleep 0.2
done
check test -z "$(grep '^dmabuf' /sys/kernel/debug/vfio-pci-p2p/$NVME/dmabufs)"

# A new target on the same controller: the file system as it was left.
start_target cmb
connect_dev
fs_check
stop_target
check test "$(get host_bytes)" = 0
exit $ok
