#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest half of benchmark 5 (perf/bench/5-nvmf.sh): fio through the
# kernel's nvme-rdma host on rxe0, against four targets on rxe1 serving
# the same QEMU NVMe controller's namespace:
#   nvmet    the kernel's nvmet-rdma, the controller on the stock nvme
#            driver (a block-device namespace): the baseline
#   host     p2pmr-nvmf --buf host (the controller on vfio-pci-p2p)
#   cmb      p2pmr-nvmf --buf cmb, data through the controller's CMB
#   pmr      p2pmr-nvmf --buf pmr, data through its persistent memory region
#   hostirq  p2pmr-nvmf --buf host --nvme-irq (not run unless TARGETS
#            names it): backing completions by MSI-X, not polled
# Jobs: 4 KiB random read and write at queue depth 1 and 16, 128 KiB
# sequential read and write at depth 4; RUNTIME seconds each, one job at
# a time on CPU 0.  ROUNDS rounds, the targets in a new random order each
# round, so that drift hits all alike.  One line per run to
# /vmout/results.txt:
#   ROUND TARGET JOB IOPS BW_KiB/s
# ROUNDS, RUNTIME, JOBS and TARGETS may come from the environment.
. tests/lib/guest.sh
. tests/lib/nvmf.sh

ROUNDS=${ROUNDS:-5}
RUNTIME=${RUNTIME:-5}
JOBS=${JOBS:-randread-4k-qd1 randread-4k-qd16 randwrite-4k-qd1 randwrite-4k-qd16 read-128k-qd4 write-128k-qd4}
TARGETS=${TARGETS:-nvmet host cmb pmr}

# run_job NAME: one fio job on $DEV, "IOPS BW" on stdout.
run_job() {
	local rw=${1%%-*} rest=${1#*-} bs qd

	bs=${rest%%-*}
	qd=${rest#*-qd}
	fio --name="$1" --filename=$DEV --direct=1 --ioengine=libaio \
		--rw="$rw" --bs="$bs" --iodepth="$qd" --size=32M \
		--time_based --runtime="$RUNTIME" --ramp_time=1 \
		--cpus_allowed=0 --output-format=json > /tmp/fio.json ||
		die "fio $1"
	python3 -c '
import json, sys
j = json.load(open("/tmp/fio.json"))["jobs"][0]
d = j["write"] if sys.argv[1].endswith("write") else j["read"]
print("%.1f %.1f" % (d["iops"], d["bw"]))' "$rw"
}

# nvme_local: the controller on the stock nvme driver; $LOCAL its
# namespace's block device.
nvme_local() {
	modprobe nvme || die "modprobe nvme"
	bind_driver "$NVME" nvme
	for i in $(seq 50); do
		LOCAL=$(ls /sys/bus/pci/devices/$NVME/nvme/*/ 2> /dev/null |
			grep -E '^nvme[0-9]+n1$' | head -n 1)
		[ -n "$LOCAL" ] && [ -b /dev/$LOCAL ] && break
		sleep 0.2
	done
	[ -b "/dev/$LOCAL" ] || die "no namespace of the local nvme driver"
}

# target_up T / target_down T: the target T serving, the host connected.
target_up() {
	case $1 in
	nvmet)
		nvme_local
		nvmet_up /dev/$LOCAL 0
		;;
	host | cmb | pmr)
		bind_driver "$NVME" vfio-pci-p2p
		start_target "$1" "" ${TGT_OPTS:-}
		;;
	hostirq)
		bind_driver "$NVME" vfio-pci-p2p
		start_target host "" ${TGT_OPTS:-} --nvme-irq
		;;
	esac
	connect_dev
}

target_down() {
	case $1 in
	nvmet)
		nvme disconnect -n $NQN > /dev/null
		nvmet_down
		;;
	host | cmb | pmr | hostirq)
		stop_target > /dev/null
		;;
	esac
}

load_rdma
load_p2p
rxe_pair
nvmf_nvme
# The jobs' 32 MiB written once, so that no target reads never-written
# (sparse) blocks of the image that the others would not.
nvme_local
dd if=/dev/urandom of=/dev/$LOCAL bs=1M count=32 oflag=direct status=none ||
	die "prefill"
# Not measured: the first half minute of a VM runs slower (seen: a
# quarter of the IOPS of later rounds), whichever target comes first.
for t in nvmet host; do
	target_up $t
	run_job randread-4k-qd1 > /dev/null
	run_job randwrite-4k-qd16 > /dev/null
	target_down $t
done
say "fio $(fio --version), $ROUNDS rounds of $RUNTIME s per job"
: > /vmout/results.txt
for r in $(seq "$ROUNDS"); do
	for t in $(printf '%s\n' $TARGETS | shuf); do
		target_up "$t"
		for j in $JOBS; do
			res=$(run_job "$j") || die "fio $j on $t"
			[[ $res =~ ^[0-9.]+\ [0-9.]+$ ]] ||
				die "fio $j on $t: no figures ($res)"
			echo "$r $t $j $res" | tee -a /vmout/results.txt
		done
		target_down "$t"
	done
done
[ "$ok" = 0 ] || die "a target did not stop cleanly"
