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
dmesg > /vmout/dmesg
echo "$rc" > /vmout/rc
echo "P2PMR-GUEST-END rc=$rc"
sync
