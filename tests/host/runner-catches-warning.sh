#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The VM runner must fail a run whose kernel log shows a WARNING, even when
# the command itself succeeds: load a module that plants one.  And the same
# boot without the module must pass, so the failure is the warning's doing.
cd "$(dirname "$0")/../.."

# Seconds since $1, less the last run's wait for the VM lock (another
# runner's VM may hold it): the bounds below are on the runner's own
# reaction, not on the machine's queue.
since() {
	echo $((SECONDS - $1 - $(cat build/vm/runner-selftest/lock-wait 2> /dev/null || echo 0)))
}
# must_say ERE WHAT: the last run's output ($out) matches ERE, or the test
# fails, saying WHAT is missing.
must_say() {
	echo "$out" | grep -qE "$1" || { echo "FAIL: $2"; exit 1; }
}
# one_retry: the last run said it retried, exactly once.
one_retry() {
	[ "$(echo "$out" | grep -c 'retrying once')" = 1 ] ||
		{ echo "FAIL: not exactly one retry"; exit 1; }
}
# vm ARGS: tests/vm/run ARGS, its output (shown) in $out, its exit status in
# $rc and its seconds, less the wait for the VM lock, in $t.
vm() {
	local t0=$SECONDS

	out=$(tests/vm/run "$@" 2>&1)
	rc=$?
	t=$(since $t0)
	echo "$out"
}
for s in ${P2PMR_SERIES:-7.3}; do
	vm --kver "$s" --dir build/vm/runner-selftest -- \
		insmod build/$s/tests/kmod/warn/p2pmr_warn.ko
	[ $rc != 0 ] || { echo "FAIL: runner passed a run with a WARNING"; exit 1; }
	must_say 'vm:.*WARNING.*p2pmr_warn' "runner did not name the warning"
	tests/vm/run --kver "$s" --dir build/vm/runner-selftest -- \
		sh -c 'test -e build/'"$s"'/tests/kmod/warn/p2pmr_warn.ko' ||
		{ echo "FAIL: clean run failed"; exit 1; }
	# A timeout is a failure too, and shows the guest's heartbeat and
	# its blocked tasks (dumped at uptime 30 s for a 40 s limit).
	vm --kver "$s" --timeout 40 --dir build/vm/runner-selftest -- sleep 120
	[ $rc = 124 ] || { echo "FAIL: timeout gave exit $rc, not 124"; exit 1; }
	must_say 'last heartbeat at uptime [0-9.]*s' "no heartbeat reported"
	must_say 'vm: console: .*Show Blocked State' \
		"no blocked-task dump shown"
done

# QEMU dying on a signal is retried once, and said; dying twice fails.
s=${P2PMR_SERIES:-7.3}
s=${s%% *}
for budget in 1 2; do
	mkdir -p build/vm/runner-selftest
	echo $budget > build/vm/runner-selftest/crash-budget
	P2PMR_QEMU=/p2pmr/tests/vm/qemu-faulty vm --kver "$s" \
		--dir build/vm/runner-selftest -- true
	must_say 'vm: qemu: qemu-faulty: planted assertion' \
		"QEMU's last words not shown"
	must_say 'qemu died on signal 6.*retrying once' "retry not said"
	if [ $budget = 1 ]; then
		[ $rc = 0 ] || { echo "FAIL: one QEMU crash not retried"; exit 1; }
	else
		[ $rc != 0 ] || { echo "FAIL: two QEMU crashes passed"; exit 1; }
	fi
done
rm -f build/vm/runner-selftest/crash-budget

# QEMU's own multi-threaded TCG assertion (iotlb_to_section) is retried with
# single-threaded TCG.
echo 1 > build/vm/runner-selftest/crash-budget
touch build/vm/runner-selftest/crash-iotlb
rm -f build/vm/runner-selftest/qemu-args
P2PMR_QEMU=/p2pmr/tests/vm/qemu-faulty vm --kver "$s" \
	--dir build/vm/runner-selftest -- true
rm -f build/vm/runner-selftest/crash-iotlb build/vm/runner-selftest/crash-budget
must_say "memory-map race: the retry runs single-threaded TCG" \
	"the iotlb_to_section retry does not say single-threaded"
[ $rc = 0 ] || { echo "FAIL: the iotlb_to_section crash not retried (exit $rc)"; exit 1; }
args=build/vm/runner-selftest/qemu-args
[ "$(wc -l < $args)" = 2 ] && sed -n 1p $args | grep -q 'tcg,thread=multi' &&
	sed -n 2p $args | grep -q 'tcg,thread=single' ||
	{ cat $args; echo "FAIL: the retry did not run single-threaded TCG"; exit 1; }

# A guest that never reaches the command (an early-boot hang) is stopped
# after the boot deadline, not the whole timeout, and retried once; a second
# hang fails the run, with exit 1, not the timeout's 124.
for budget in 1 2; do
	echo $budget > build/vm/runner-selftest/hang-budget
	P2PMR_BOOT_DEADLINE=20 P2PMR_QEMU=/p2pmr/tests/vm/qemu-faulty \
		vm --kver "$s" --timeout 200 \
		--dir build/vm/runner-selftest -- true
	must_say 'no guest after 20s \(hung in early boot\).*retrying once' \
		"hang retry not said"
	one_retry
	[ $t -lt 150 ] || { echo "FAIL: the hang took ${t}s to notice"; exit 1; }
	if [ $budget = 1 ]; then
		[ $rc = 0 ] || { echo "FAIL: one boot hang not retried (exit $rc)"; exit 1; }
	else
		[ $rc = 1 ] || { echo "FAIL: two boot hangs gave exit $rc, not 1"; exit 1; }
	fi
done
rm -f build/vm/runner-selftest/hang-budget

# A guest whose heartbeat stops while the command runs is looked at through
# QEMU's monitor and stopped early, not at the timeout.  A guest that froze
# with every vCPU halted (here the heartbeat's own sleep is stopped; QEMU
# answers: what a lost timer interrupt looks like) is retried once, its
# local APICs dumped, and a second freeze fails the run, saying where each
# vCPU is (the offset into the kernel's text: Debian ships the real
# System.map only in its -dbg package) and that it is halted.  A guest with
# a vCPU running (here two busy loops) fails at once, without a retry.  A
# QEMU that stopped answering (a planted SIGSTOP) is retried once, and a
# second one fails the run.
stop_beat="until pkill -STOP -f '^sleep 2\$'; do sleep 0.1; done"
P2PMR_FREEZE_AFTER=12 vm --kver "$s" --timeout 300 \
	--dir build/vm/runner-selftest -- sh -c "$stop_beat; sleep 280"
must_say 'vm: the guest froze with every vCPU halted: CPU0 _stext\+0x[0-9a-f]+ \(halted\) CPU1 .*retrying once' \
	"halted guest not retried with its vCPUs named"
one_retry
grep -q 'dumping local APIC state for CPU 1' build/vm/runner-selftest/frozen-lapic-first.log ||
	{ echo "FAIL: no local APIC dump of the first freeze"; exit 1; }
must_say 'vm: the guest froze: .* are at: CPU0 _stext\+0x[0-9a-f]+ \(halted\) CPU1 ' \
	"second freeze not reported with its vCPUs' functions"
[ $rc = 1 ] || { echo "FAIL: frozen guest gave exit $rc, not 1"; exit 1; }
[ $t -lt 330 ] || { echo "FAIL: two frozen guests took ${t}s to notice"; exit 1; }
# A vCPU halted with an interrupt in service (p2pmr_stuck.ko halts the one
# that takes edu's interrupt inside its handler) is found while the other
# vCPU and the heartbeat go on, within seconds, and the run is retried
# once, single-threaded; the second boot does not plant it and passes.
rm -f build/vm/runner-selftest/frozen-lapic-first.log build/vm/runner-selftest/qemu-args
P2PMR_QEMU=/p2pmr/tests/vm/qemu-faulty vm --kver "$s" --edu --timeout 300 --dir build/vm/runner-selftest -- \
	sh -c "[ -e /vmout/planted ] || { touch /vmout/planted;
		insmod build/$s/tests/kmod/warn/p2pmr_stuck.ko; sleep 280; }"
must_say 'vm: a vCPU is halted with an interrupt in service: CPU[01]:[0-9]+; CPU0 .* \(halted\).*retrying once' \
	"stuck vCPU not found, named and retried"
one_retry
grep -qE '^ISR[[:space:]]+[0-9]' build/vm/runner-selftest/frozen-lapic-first.log ||
	{ echo "FAIL: no local APIC dump with the vector in service"; exit 1; }
[ $rc = 0 ] || { echo "FAIL: one stuck vCPU not retried (exit $rc)"; exit 1; }
[ $t -lt 150 ] || { echo "FAIL: the stuck vCPU took ${t}s to notice"; exit 1; }
[ "$(wc -l < $args)" = 2 ] && sed -n 1p $args | grep -q 'tcg,thread=multi' &&
	sed -n 2p $args | grep -q 'tcg,thread=single' ||
	{ cat $args; echo "FAIL: the stuck vCPU's retry did not run single-threaded TCG"; exit 1; }
P2PMR_FREEZE_AFTER=12 vm --kver "$s" --timeout 300 \
	--dir build/vm/runner-selftest -- \
	sh -c "$stop_beat; (while :; do :; done) & (while :; do :; done) & sleep 280"
echo "$out" | grep -q 'retrying once' && { echo "FAIL: a running guest was retried"; exit 1; }
must_say 'vm: the guest froze: .* are at: CPU0 .*CPU1 ' \
	"frozen running guest not reported"
[ $rc = 1 ] || { echo "FAIL: frozen running guest gave exit $rc, not 1"; exit 1; }
for budget in 1 2; do
	echo $budget > build/vm/runner-selftest/freeze-budget
	P2PMR_FREEZE_AFTER=12 P2PMR_QEMU=/p2pmr/tests/vm/qemu-faulty \
		vm --kver "$s" --timeout 300 \
		--dir build/vm/runner-selftest -- sleep 30
	must_say "QEMU's monitor does not answer.*retrying once" \
		"QEMU hang retry not said"
	one_retry
	if [ $budget = 1 ]; then
		[ $rc = 0 ] || { echo "FAIL: one QEMU hang not retried (exit $rc)"; exit 1; }
	else
		[ $rc = 1 ] || { echo "FAIL: two QEMU hangs gave exit $rc, not 1"; exit 1; }
		must_say 'vm: QEMU hung again' "second QEMU hang not named"
		[ $t -lt 250 ] || { echo "FAIL: two QEMU hangs took ${t}s"; exit 1; }
	fi
done
rm -f build/vm/runner-selftest/freeze-budget
echo "runner self-test passed"
