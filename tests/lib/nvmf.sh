# SPDX-License-Identifier: GPL-2.0
# Guest-side helpers of the p2pmr-nvmf cases (nvmf-target, nvmf-fs):
# the target started and stopped on rxe1, the stock nvme-rdma host
# connected on rxe0, pattern writes and reads with O_DIRECT.  Sourced
# after tests/lib/guest.sh; check() sets $ok, which the case returns.

NQN=nqn.2026-12.org.p2pmr:cmb
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:0c2bd1a4-6a39-4cf3-9d6e-4b6f4ab5d9e1
HOSTID=0c2bd1a4-6a39-4cf3-9d6e-4b6f4ab5d9e1
# P2PMR_NVMF_TGT: another build of the target (to show a case fails
# without a change: tests/vm/run ... -- env P2PMR_NVMF_TGT=... bash CASE).
TGT=${P2PMR_NVMF_TGT:-/p2pmr/build/user/bin/p2pmr-nvmf}
T=$BIN/nvme_driver_test
STATS=/tmp/nvmf.stats
ok=0

check() {
	if "$@"; then echo "ok: $*"; else echo "not ok: $*"; ok=1; fi
}

# start_target BUF [FAULT [OPTION...]]: p2pmr-nvmf with its data buffer
# in BUF (cmb, host), P2PMR_NVMF_FAULT=FAULT if not empty, and OPTIONs.
start_target() {
	local buf=$1 fault=${2:-}

	shift $(($# < 2 ? $# : 2))
	P2PMR_NVMF_FAULT=${fault:-${P2PMR_NVMF_FAULT:-}} $TGT --bdf "$NVME" \
		--addr $RXE1_IP --ibdev rxe1 --nqn $NQN --allow-host $HOSTNQN \
		--buf "$buf" --stats $STATS "$@" > /tmp/tgt.log 2>&1 &
	TPID=$!
	for i in $(seq 300); do
		grep -q '^p2pmr-nvmf: serving' /tmp/tgt.log && break
		kill -0 $TPID 2> /dev/null ||
			{ cat /tmp/tgt.log; die "p2pmr-nvmf exited"; }
		sleep 0.2
	done
	cat /tmp/tgt.log
	grep -q '^p2pmr-nvmf: serving' /tmp/tgt.log || die "p2pmr-nvmf did not start"
}

# wait_log TEXT [SECONDS]: until the target's log has a line with TEXT
# (grep's basic regular expression), for at most SECONDS (20); fails if
# it has none by then.  No fixed sleeps: a slow debug kernel gets its time,
# a fast one does not wait for nothing.
wait_log() {
	local i

	for i in $(seq $((${2:-20} * 5))); do
		grep -q -- "$1" /tmp/tgt.log && return 0
		sleep 0.2
	done
	echo "# no '$1' in the target's log within ${2:-20} s"
	return 1
}

# gone: how many controllers of $HOSTNQN the target has seen go.
gone() {
	grep -c "controller [0-9]* of '$HOSTNQN' gone" /tmp/tgt.log
}

# wait_gone N: until more than N of them have gone (20 s at most).
wait_gone() {
	local i

	for i in $(seq 100); do
		[ "$(gone)" -gt "$1" ] && return 0
		sleep 0.2
	done
	echo "# the target saw no further controller of '$HOSTNQN' go"
	return 1
}

# disconnect: nvme disconnect of the subsystem, and the target has seen
# every queue go (and written its counters).
disconnect() {
	local n=$(gone)

	nvme disconnect -n $NQN || { echo "not ok: nvme disconnect"; ok=1; }
	check wait_gone $n
}

# stop_target: disconnect, SIGTERM; its log; its counters in $s.
stop_target() {
	disconnect
	kill -TERM $TPID
	wait $TPID
	rc=$?
	echo "# p2pmr-nvmf exited with $rc"
	[ $rc = 0 ] || { echo "not ok: p2pmr-nvmf exited with $rc on SIGTERM"; ok=1; }
	cat /tmp/tgt.log
	s=$(cat $STATS 2> /dev/null)
	say "stats: $s"
}

# get NAME: a counter of $s.
get() {
	sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<< "$s"
}

# connect HOSTNQN: to port $SVC [4420], keep alive 30 s, controller loss
# timeout 20 s, or the options in $CONNECT_OPTS.
connect() {
	nvme connect -t rdma -a $RXE1_IP -s ${SVC:-4420} -w $RXE0_IP -n $NQN \
		-q "$1" -I $HOSTID ${CONNECT_OPTS:--k 30 -l 20}
}

# nqn_dev: the block device of namespace 1 of subsystem $NQN through a live
# RDMA controller (the multipath head where the host has native multipath,
# else the controller's own), found by the subsystem's NQN, not by a name
# the kernel may give again; nothing if there is none yet.
nqn_dev() {
	local s c

	for s in /sys/class/nvme-subsystem/nvme-subsys*; do
		[ "$(cat $s/subsysnqn 2>/dev/null)" = "$NQN" ] || continue
		for c in $s/nvme[0-9]*; do
			[ -e $c/transport ] &&
			[ "$(cat $c/transport)" = rdma ] &&
			[ "$(cat $c/state 2>/dev/null)" = live ] || continue
			ls $s $c | grep -E '^nvme[0-9]+n1$' | head -n 1
			return
		done
	done
}

# connect_dev: connect the allowed host; $DEV is its namespace.
connect_dev() {
	connect $HOSTNQN || { cat /tmp/tgt.log; dmesg | tail -n 30; die "nvme connect"; }
	DEV=
	for i in $(seq 30); do
		DEV=$(nqn_dev)
		[ -n "$DEV" ] && [ -b /dev/$DEV ] && break
		sleep 1
	done
	[ -n "$DEV" ] || { dmesg | tail -n 30; die "no namespace block device"; }
	DEV=/dev/$DEV
	say "connected: $DEV, $(cat /sys/block/${DEV#/dev/}/size) sectors"
}

# write SEED LBA NLB: pattern SEED written with O_DIRECT at LBA, in one
# block of dd (dd writes a short final block through the page cache).
# Fails when $DEV is no block device (a controller that went: dd would
# create a file in /dev's tmpfs, which takes O_DIRECT, and the check
# would pass).
write() {
	[ -b "$DEV" ] || { echo "# $DEV is not a block device"; return 1; }
	truncate -s $(($3 * 512)) /tmp/w.$1
	$T fill /tmp/w.$1 0 "$3" "$1" &&
		dd if=/tmp/w.$1 of=$DEV bs=$(($3 * 512)) count=1 \
			oflag=direct,seek_bytes seek=$(($2 * 512)) conv=fsync \
			status=none
}

# readback SEED LBA NLB: read with O_DIRECT, compare with pattern SEED.
readback() {
	[ -b "$DEV" ] || { echo "# $DEV is not a block device"; return 1; }
	dd if=$DEV of=/tmp/r.$1 bs=$(($3 * 512)) count=1 \
		iflag=direct,skip_bytes skip=$(($2 * 512)) status=none &&
		$T checkrange /tmp/r.$1 0 "$3" "$1"
}

# nvmf_bed: the QEMU NVMe controller ($NVME) on vfio-pci-p2p, the rxe
# pair, and the stock nvme-rdma host loaded against the rebuilt RDMA core.
nvmf_bed() {
	load_rdma
	load_p2p
	rxe_pair
	nvmf_nvme
}

# nvmf_nvme: nvmf_bed's part after the RDMA and exporter modules and the
# rxe pair: the controller on vfio-pci-p2p, nvme-rdma loaded.
nvmf_nvme() {
	NVME=$(lspci -Dn -d 1b36:0010 | awk 'NR == 1 {print $1}')
	[ -n "$NVME" ] || die "no QEMU nvme controller"
	command -v nvme > /dev/null || die "no nvme-cli in the root: run make deps"
	bind_driver "$NVME" vfio-pci-p2p
	# The stock fabrics host must load against the rebuilt RDMA core.
	modprobe nvme-rdma || die "modprobe nvme-rdma (stock) against the rebuilt ib_core"
	say "nvme-rdma $(modinfo -F vermagic nvme-rdma | cut -d' ' -f1) loaded; ib_core from $(modinfo -n ib_core)"
}

# nvmet_up PATH [BUFFERED]: the kernel's nvmet-rdma serving $NQN to
# $HOSTNQN on rxe1, port $SVC [4420], with one namespace on PATH (a file, or a
# block device); BUFFERED (default 1) is the namespace's buffered_io,
# which only a file namespace heeds.
NVMET=/sys/kernel/config/nvmet
nvmet_up() {
	local ns=$NVMET/subsystems/$NQN/namespaces/1

	modprobe nvmet-rdma || die "modprobe nvmet-rdma (stock) against the rebuilt ib_core"
	# configfs is a module: loaded with nvmet, after the init's mount.
	mountpoint -q /sys/kernel/config ||
		mount -t configfs configfs /sys/kernel/config
	mkdir $NVMET/subsystems/$NQN $NVMET/hosts/$HOSTNQN $NVMET/ports/1 &&
	echo 0 > $NVMET/subsystems/$NQN/attr_allow_any_host &&
	ln -s $NVMET/hosts/$HOSTNQN $NVMET/subsystems/$NQN/allowed_hosts/ &&
	mkdir $ns &&
	echo "${2:-1}" > $ns/buffered_io &&
	echo -n "$1" > $ns/device_path &&
	echo 1 > $ns/enable &&
	echo rdma > $NVMET/ports/1/addr_trtype &&
	echo ipv4 > $NVMET/ports/1/addr_adrfam &&
	echo $RXE1_IP > $NVMET/ports/1/addr_traddr &&
	echo ${SVC:-4420} > $NVMET/ports/1/addr_trsvcid &&
	ln -s $NVMET/subsystems/$NQN $NVMET/ports/1/subsystems/ ||
		die "nvmet configuration"
}

# nvmet_down: nvmet_up undone (the host disconnected first).
nvmet_down() {
	rm $NVMET/ports/1/subsystems/$NQN
	rmdir $NVMET/ports/1
	echo 0 > $NVMET/subsystems/$NQN/namespaces/1/enable
	rmdir $NVMET/subsystems/$NQN/namespaces/1
	rm $NVMET/subsystems/$NQN/allowed_hosts/$HOSTNQN
	rmdir $NVMET/subsystems/$NQN $NVMET/hosts/$HOSTNQN
}
