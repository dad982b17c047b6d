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
# Where the kernel text is (KASLR), so the runner can name the functions the
# vCPUs are in if the guest freezes.
awk '$3 == "_stext" { print $1; exit }' /proc/kallsyms > /vmout/stext
# kmemleak (debug kernels): the report after the command keeps only the
# objects allocated from now on (each names the jiffies of its allocation),
# so that what boot left behind is not taken for the command's.
kml=/sys/kernel/debug/kmemleak
if [ -w $kml ]; then
	awk '/^jiffies:/ { print $2; exit }' /proc/timer_list > /vmout/kmemleak-since
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
# older than 5 s that scans found unreferenced; those allocated since the
# command started go to /vmout/kmemleak, which the runner checks; and
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
	cat $kml > /vmout/kmemleak-all
	awk -v j0="$(cat /vmout/kmemleak-since)" '
		/^unreferenced object / { flush(); keep = 0 }
		{ blk[n++] = $0 }
		/^  comm ".*", pid [0-9]+, jiffies [0-9]+/ {
			j = $0; sub(/.*jiffies /, "", j); sub(/[^0-9].*/, "", j)
			keep = (j + 0 >= j0 + 0)
		}
		function flush(  i) { if (keep) for (i = 0; i < n; i++) print blk[i]; n = 0 }
		END { flush() }' /vmout/kmemleak-all > /vmout/kmemleak
fi
dad=/sys/kernel/debug/dma-api
if [ -e $dad/error_count ]; then
	echo "errors $(cat $dad/error_count) disabled $(cat $dad/disabled)" > /vmout/dma-api
fi
dmesg > /vmout/dmesg
echo "$rc" > /vmout/rc
echo "P2PMR-GUEST-END rc=$rc"
sync
