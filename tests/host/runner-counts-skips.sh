#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/run-all.sh must count what it did not really run: a copy of it runs,
# in a scratch tree, a host test that exits 77, a host test whose TAP output
# skips two subtests, and a VM case (under a fake tests/vm/run that retries
# its boot once) that skips one.  The line before the last must say so, and
# the last line keep its format.  On a debug series, a debug kernels' test
# (tests/host-debug) that prints the runner's retry after "#   " counts too.
set -uo pipefail
cd "$(dirname "$0")/../.."
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/tests/host" "$t/tests/host-debug" "$t/tests/cases" "$t/tests/vm"
cp tests/run-all.sh "$t/tests/"
cat > "$t/tests/host/skipped.sh" <<'T'
echo "SKIP: no such thing here"
exit 77
T
cat > "$t/tests/host/tap.sh" <<'T'
echo "TAP version 13"
echo "ok 1 - first"
echo "ok 2 # SKIP second: not here"
echo "not ok 3 - third # TODO not written"
echo "ok 4 - fourth # skip lower case counts too"
echo "# SKIP a comment, not a subtest"
echo "1..4"
T
cat > "$t/tests/cases/case.sh" <<'T'
echo "ok 1 - a"
echo "  ok 2 - b # SKIP nested TAP counts"
T
cat > "$t/tests/vm/run" <<'T'
#!/bin/bash
while [ "$1" != -- ]; do shift; done
shift
echo "vm: early-boot crash before the test started; retrying once" >&2
exec "$@"
T
chmod +x "$t/tests/vm/run"
out=$(P2PMR_TESTS='*' P2PMR_LOGDIR="$t/logs" "$t/tests/run-all.sh" 7.3 2>&1)
rc=$?
sed "s/^/inner: /" <<< "$out"
[ $rc = 0 ] || { echo "FAIL: run-all.sh exited $rc"; exit 1; }
[ "$(tail -n 1 <<< "$out")" = "2 passed, 0 failed, 1 skipped" ] ||
	{ echo "FAIL: the last line is not the totals"; exit 1; }
want="# summary: 1 skipped tests, 3 skipped subtests, 1 retried boots"
[ "$(tail -n 2 <<< "$out" | head -n 1)" = "$want" ] ||
	{ echo "FAIL: the line before the last is not '$want'"; exit 1; }
cat > "$t/tests/host-debug/planted.sh" <<'T'
echo "#   vm: no guest after 180s (hung in early boot); first log kept as console-hung.log; retrying once"
echo "ok - bug=none"
T
out=$(P2PMR_TESTS='7.3-debug/*' P2PMR_LOGDIR="$t/logs" "$t/tests/run-all.sh" 7.3-debug 2>&1)
rc=$?
sed "s/^/inner: /" <<< "$out"
[ $rc = 0 ] || { echo "FAIL: run-all.sh 7.3-debug exited $rc"; exit 1; }
want="# summary: 0 skipped tests, 1 skipped subtests, 2 retried boots"
[ "$(tail -n 2 <<< "$out" | head -n 1)" = "$want" ] ||
	{ echo "FAIL: on 7.3-debug the line before the last is not '$want'"; exit 1; }
echo "run-all.sh counts skipped tests, skipped subtests and retried boots"
