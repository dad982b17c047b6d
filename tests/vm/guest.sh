#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the guest root: runs /vmout/cmd (written by tests/vm/run) with
# its output in /vmout/output, then saves its exit status and the kernel log.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 P2PMR_GUEST=1
hostname p2pmr-vm
ip link set lo up
read -r up _ < /proc/uptime
echo "$up" > /vmout/boot-seconds
echo "P2PMR-GUEST-START uptime=$up"
cd /p2pmr || exit 1
# kmemleak (debug kernels): two scans settle the objects boot left behind
# (an object is reported only when unchanged since the previous scan), and
# "clear" forgets them, so that a report after the command is the command's.
kml=/sys/kernel/debug/kmemleak
if [ -w $kml ]; then
	echo scan > $kml
	echo scan > $kml
	echo clear > $kml
fi
# Heartbeat: the guest's uptime every 2 s, to tell a stuck command (the
# heartbeat goes on) from a frozen guest (it stops); and the blocked tasks
# on the console at uptime /vmout/dump-at, shortly before the runner's
# timeout.
(
	at=$(cat /vmout/dump-at 2>/dev/null || echo 0)
	while sleep 2; do
		read -r t _ < /proc/uptime
		echo "$t" > /vmout/heartbeat
		if [ "$at" -gt 0 ] && [ "${t%.*}" -ge "$at" ]; then
			echo "P2PMR-GUEST: command still running at uptime ${t}s: blocked tasks" > /dev/kmsg
			echo w > /proc/sysrq-trigger
			at=0
		fi
	done
) &
beat=$!
start=$(date +%s.%N)
if [ -n "${P2PMR_VERBOSE:-}" ]; then
	bash /vmout/cmd 2>&1 | tee /vmout/output
	rc=${PIPESTATUS[0]}
else
	bash /vmout/cmd > /vmout/output 2>&1
	rc=$?
fi
kill $beat 2>/dev/null
end=$(date +%s.%N)
echo "$start $end" | awk '{printf "%.2f\n", $2 - $1}' > /vmout/test-seconds
# Debug kernels: what the command left behind.  kmemleak reports objects
# older than 5 s that scans found unreferenced (it says so in the kernel
# log, which the runner checks; the report goes to /vmout/kmemleak); and
# DMA-API debugging counts every error it found, also the ones it did not
# print.
if [ -w $kml ]; then
	# A task's kernel stack goes to a per-CPU cache when it exits and is
	# cleared only when the next task takes it; kmemleak scans it there,
	# so a pointer the command's tasks left on their stacks hides a leak.
	# A few short tasks forked on each CPU take and clear those stacks.
	for cpu in $(seq 0 $(($(nproc) - 1))); do
		taskset -c "$cpu" sh -c 'for i in 1 2 3 4 5 6; do /bin/true; done'
	done
	sleep 5
	# In a process of its own with no other children (a scan stops,
	# reporting nothing, when its caller has a signal pending); each
	# scan's status, time and report size go to /vmout/kmemleak-scans.
	setsid sh -c "for i in 1 2 3 4; do echo scan > $kml;
		echo \"scan \$i rc \$? uptime \$(cut -d' ' -f1 /proc/uptime) lines \$(wc -l < $kml)\";
		sleep 1; done" < /dev/null > /vmout/kmemleak-scans 2>&1
	cat $kml > /vmout/kmemleak
fi
dad=/sys/kernel/debug/dma-api
if [ -e $dad/error_count ]; then
	echo "errors $(cat $dad/error_count) disabled $(cat $dad/disabled)" > /vmout/dma-api
fi
dmesg > /vmout/dmesg
echo "$rc" > /vmout/rc
echo "P2PMR-GUEST-END rc=$rc"
sync
