#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/host-debug/debug-catches-bugs.sh SERIES: the debug kernel SERIES
# (7.3-debug) and the runner must fail a run that plants a use-after-free, a
# lock-order inversion, a leak or a mismatched DMA unmap
# (tests/kmod/plant), each with its report named, while the command itself
# succeeds; and the same boot with nothing planted must pass, so that each
# failure is the bug's doing.
cd "$(dirname "$0")/../.."
s=${1:?usage: debug-catches-bugs.sh SERIES-debug}
ko=build/$s/tests/kmod/plant/p2pmr_plant.ko
[ -e "$ko" ] || { echo "FAIL: no $ko: run make check-debug"; exit 1; }
fails=0

# plant BUG PATTERN...: the run with bug=BUG must fail, and the runner's
# output must match every PATTERN (the report that names the bug).
plant() {
	local bug=$1 out rc p
	shift
	out=$(tests/vm/run --kver "$s" --timeout 600 --dir build/vm/debug-selftest -- \
		insmod "$ko" bug="$bug" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/#   /'
	if [ $rc = 0 ]; then
		echo "not ok - bug=$bug: the run passed"
		fails=$((fails + 1))
		return
	fi
	for p in "$@"; do
		if ! echo "$out" | grep -Eq "$p"; then
			echo "not ok - bug=$bug: exit $rc but no report matching '$p'"
			fails=$((fails + 1))
			return
		fi
	done
	echo "ok - bug=$bug: exit $rc, report: $(echo "$out" | grep -Em1 "$1" | sed 's/^vm: *//')"
}

out=$(tests/vm/run --kver "$s" --timeout 600 --dir build/vm/debug-selftest -- \
	insmod "$ko" bug=none 2>&1)
rc=$?
echo "$out" | sed 's/^/#   /'
if [ $rc = 0 ]; then
	echo "ok - bug=none: the run passes"
else
	echo "not ok - bug=none: exit $rc"
	fails=$((fails + 1))
fi
plant uaf 'vm:.*BUG: KASAN: slab-use-after-free in plant_uaf'
plant lockorder 'vm:.*possible circular locking dependency'
plant leak 'vm: kmemleak found unreferenced objects after the command' \
	'vm: +unreferenced object .*size 1024' 'vm: .*plant_leak'
plant dma 'vm:.*DMA-API: .*different size'
[ $fails = 0 ] || { echo "FAIL: $fails planted bugs not caught"; exit 1; }
echo "all planted bugs caught, clean run passes"
