#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the root (scripts/in-root): build Debian's perftest with
# Debian's patches, p2pmr's --use_vfio memory backend (perf/perftest/*.c,
# *.h) and its hook patch (perf/perftest/*.patch), linked with libp2pmr.a.
# The bandwidth and latency tests of WRITE, READ and SEND are built, into
# build/perf/.
# The source tarballs are cached in $P2PMR_CACHE/src/perftest.
set -euo pipefail
top=/p2pmr
out=$top/build/perf
dl=/cache/src/perftest
progs="ib_write_bw ib_read_bw ib_send_bw ib_write_lat ib_read_lat ib_send_lat"
mkdir -p "$dl" "$out"
cd "$dl"
if ! ls perftest_*.orig.tar.* > /dev/null 2>&1; then
	chown _apt . 2>/dev/null || true
	# The .dsc is not always on the mirror; the tarballs are what we need.
	apt-get source -q --download-only perftest > /dev/null 2>&1 || true
fi
orig=$(ls perftest_*.orig.tar.* 2>/dev/null | sort -V | tail -n 1)
deb=$(ls perftest_*.debian.tar.* 2>/dev/null | sort -V | tail -n 1)
[ -n "$orig" ] && [ -n "$deb" ] ||
	{ echo "build-perftest: no perftest source in $dl (apt-get source perftest failed)" >&2; exit 1; }
want=$(cat "$dl/$orig" "$dl/$deb" "$top"/perf/perftest/* "$top"/tests/lib/pattern.h \
	"$top"/build/user/libp2pmr.a "$top/scripts/build-perftest.sh" | md5sum)
have_all() { for p in $progs; do [ -x "$out/$p" ] || return 1; done; }
if [ -f "$out/.inputs" ] && [ "$(cat "$out/.inputs")" = "$want" ] && have_all; then
	exit 0
fi
rm -rf "$out/src" "$out"/.inputs
mkdir -p "$out/src"
tar -C "$out/src" --strip-components=1 -xf "$dl/$orig"
tar -C "$out/src" -xf "$dl/$deb"
while read -r p; do
	case $p in ''|'#'*) continue ;; esac
	patch -d "$out/src" -p1 --quiet < "$out/src/debian/patches/$p"
done < "$out/src/debian/patches/series"
for p in "$top"/perf/perftest/*.patch; do
	patch -d "$out/src" -p1 --quiet --no-backup-if-mismatch < "$p"
done
cp "$top"/perf/perftest/*.[ch] "$out/src/src/"
cd "$out/src"
# The orig tarball ships configure and Makefile.in: no autoreconf needed.
# vfio_memory.o goes into libperftest.a through automake's LIBADD, so
# Makefile.am stays Debian's.
./configure -q CPPFLAGS="-I$top/userspace/include -I$top/tests/lib" \
	LIBS="$top/build/user/libp2pmr.a" > "$out/configure.log" 2>&1 ||
	{ tail -n 20 config.log >&2; exit 1; }
obj=src/vfio_memory.o
make -s $obj > "$out/make.log" 2>&1 &&
make -s libperftest_a_LIBADD=$obj EXTRA_libperftest_a_DEPENDENCIES=$obj \
	$progs >> "$out/make.log" 2>&1 || { tail -n 30 "$out/make.log" >&2; exit 1; }
grep -E 'warning|error' "$out/make.log" | grep vfio_memory >&2 || true
# Replace, do not overwrite: a VM may be running the old binaries.
for p in $progs; do
	cp "$p" "$out/$p.new" && mv "$out/$p.new" "$out/$p"
done
echo "$want" > "$out/.inputs"
echo "build-perftest: $progs in build/perf (perftest $(basename "$orig" | sed 's/perftest_//; s/.orig.*//') + --use_vfio)"
