#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/run-all.sh [SERIES...]: run every test and print a summary line.
#
#   tests/host/*.sh      run on the host (they may boot VMs themselves)
#   tests/unit/          userspace unit tests, run in the build root
#   tests/cases/*.sh     one VM boot each, on every kernel series given
#
# A case's header may hold "# vm: <tests/vm/run options>", "# post: <host
# command run after the guest, with $VMDIR>" and "# kernels: <series>".
# Exit status 77 from a test means SKIP (with its reason printed).
# P2PMR_TESTS='glob...' narrows the tests run to those whose name
# (host/checkpatch, 7.3/smoke, 7.3-debug/exporter-uapi) matches one of the
# globs.
#
# The line before the totals counts what did not fully run: tests that
# skipped, TAP subtests inside tests that skipped ("ok N ... # SKIP"), and VM
# boots that tests/vm/run retried ("retrying once", in VM cases and in the
# debug kernels' tests, which print the runner's lines after "#   "; not in
# host tests: runner-catches-warning plants crashes on purpose).
#
# A debug series (7.3-debug: the debug kernel of 7.3, scripts/debug-kernel.sh)
# runs its base series' cases with their timeouts times
# $P2PMR_DEBUG_SLOWDOWN [3], and tests/host-debug/*.sh with that series as
# argument (the debug kernels' own tests); tests/host/*.sh run only when a
# series without debugging is given.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
series=${*:-6.12 7.3}
filter=${P2PMR_TESTS:-*}
logdir=${P2PMR_LOGDIR:-build/test-logs}
mkdir -p "$logdir"
pass=0 fail=0 skipped=0 n=0 subskips=0 retries=0
failed=()

selected() { # name
	local g gs
	read -ra gs <<< "$filter"
	for g in "${gs[@]}"; do
		# shellcheck disable=SC2053
		[[ $1 == $g ]] && return 0
	done
	return 1
}

result() { # name rc seconds log [vm]
	local ss rb
	n=$((n + 1))
	ss=$(grep -ciE '^[[:space:]]*(not )?ok\b.*#[[:space:]]*skip' "$4")
	rb=0
	[ -z "${5:-}" ] || rb=$(grep -cE '^(#   )?vm: .*retrying once' "$4")
	subskips=$((subskips + ss)) retries=$((retries + rb))
	case $2 in
	0) pass=$((pass + 1)); echo "ok $n - $1 ($3 s)" ;;
	77) skipped=$((skipped + 1))
	    echo "ok $n - $1 # SKIP $(grep -m1 '^SKIP:' "$4" | cut -c7-)" ;;
	*) fail=$((fail + 1)); failed+=("$1")
	   echo "not ok $n - $1 ($3 s, exit $2, log $4)"
	   tail -n 25 "$4" | sed 's/^/#   /' ;;
	esac
	[ "$ss$rb" = 00 ] || echo "# $1: $ss skipped subtests, $rb retried boots"
}

header() {
	local v
	v=$(sed -n "s/^# $2: //p" "$1" | head -n 1)
	# A case gets 240 s unless its header says otherwise.
	[ -n "$v" ] || [ "$2" != timeout ] || v=240
	echo "$v"
}

slow=${P2PMR_DEBUG_SLOWDOWN:-3}
plain=0
for s in $series; do
	[[ $s == *-debug ]] || plain=1
done

echo "TAP version 13"
for t in tests/host/*.sh; do
	[ -e "$t" ] && [ $plain = 1 ] || continue
	name=host/$(basename "$t" .sh)
	selected "$name" || continue
	log=$logdir/${name//\//_}.log
	t0=$SECONDS
	bash "$t" > "$log" 2>&1
	result "$name" $? $((SECONDS - t0)) "$log"
done

for s in $series; do
	[[ $s == *-debug ]] || continue
	for t in tests/host-debug/*.sh; do
		[ -e "$t" ] || continue
		name=$s/$(basename "$t" .sh)
		selected "$name" || continue
		log=$logdir/${name//\//_}.log
		t0=$SECONDS
		bash "$t" "$s" > "$log" 2>&1
		result "$name" $? $((SECONDS - t0)) "$log" vm
	done
done

for s in $series; do
	base=${s%-debug}
	for t in tests/cases/*.sh; do
		name=$s/$(basename "$t" .sh)
		selected "$name" || continue
		k=$(header "$t" kernels)
		if [ -n "$k" ] && ! [[ " $k " == *" $base "* ]]; then
			continue
		fi
		log=$logdir/${name//\//_}.log
		t0=$SECONDS
		limit=$(header "$t" timeout)
		[ "$s" = "$base" ] || limit=$((limit * slow))
		# shellcheck disable=SC2046
		eval "opts=($(header "$t" vm))"
		tests/vm/run --kver "$s" --timeout "$limit" \
			"${opts[@]}" --post "$(header "$t" post)" \
			--dir "build/vm/${name//\//_}" -- bash "$t" > "$log" 2>&1
		result "$name" $? $((SECONDS - t0)) "$log" vm
	done
done

echo "1..$n"
[ ${#failed[@]} = 0 ] || echo "# failed: ${failed[*]}"
echo "# summary: $skipped skipped tests, $subskips skipped subtests, $retries retried boots"
echo "$pass passed, $fail failed, $skipped skipped"
[ $fail = 0 ]
