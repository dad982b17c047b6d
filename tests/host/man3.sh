#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every function libp2pmr exports (the global symbols of
# userspace/lib/libp2pmr.map) is declared in userspace/include/p2pmr.h and
# has a section-3 man page, generated at build time from the header's
# kernel-doc comments (userspace/mk/man3.py, the kernel's kernel-doc -man),
# whose NAME line names it and whose SYNOPSIS has its prototype.
set -uo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*"; exit 1; }

scripts/ksrc.sh 7.3 scripts/kernel-doc tools/docs tools/lib/python > /dev/null ||
	fail "no kernel-doc (make deps)"
scripts/in-root make -s -C /p2pmr/userspace BUILD=/p2pmr/build/user man3 ||
	fail "make man3"
d=build/user/man3
mapfile -t syms < <(sed -n 's/^[[:space:]]*\(p2pmr_[a-z0-9_]*\);$/\1/p' \
	userspace/lib/libp2pmr.map)
[ ${#syms[@]} -gt 0 ] || fail "no symbols in userspace/lib/libp2pmr.map"
bad=0
for s in "${syms[@]}"; do
	if ! grep -Eq "[ *]$s\(" userspace/include/p2pmr.h; then
		echo "not ok: $s is exported but not declared in p2pmr.h"; bad=1
	elif [ ! -f "$d/$s.3" ]; then
		echo "not ok: $s has no man page $d/$s.3 (no kernel-doc comment?)"; bad=1
	elif ! grep -q "^$s \\\\- " "$d/$s.3" ||
	     ! grep -q "^\.B \".*\" $s\$" "$d/$s.3"; then
		echo "not ok: $d/$s.3 lacks the NAME or SYNOPSIS of $s"; bad=1
	fi
done
# And no page for a function the library does not export.
for f in "$d"/*.3; do
	s=$(basename "$f" .3)
	printf '%s\n' "${syms[@]}" | grep -qx "$s" ||
		{ echo "not ok: $f documents $s, which libp2pmr.map does not export"; bad=1; }
done
[ $bad = 0 ] || fail "man pages"
echo "ok: ${#syms[@]} exported functions, each with its man page in $d ($(ls "$d" | wc -l) pages with the struct pages)"
