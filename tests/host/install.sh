#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make install and make install-modules at the top, into a scratch DESTDIR:
# the library (static, shared with its SONAME links), header, command, man
# pages (p2pmr(1), and section 3 generated from the header) and a
# pkg-config file for the PREFIX given; a program builds against the
# installed header and library (in the root, where they were built)
# and runs, as does the installed command; the exporter module of each
# kernel built lands under lib/modules/<release>/updates.
set -uo pipefail
cd "$(dirname "$0")/../.."
d=build/install-test
rm -rf "$d"
mkdir -p "$d"
fail() { echo "FAIL: $*"; exit 1; }

make -s install DESTDIR="$PWD/$d/root" PREFIX=/opt/p2pmr || fail "make install"
p=$d/root/opt/p2pmr
for f in lib/libp2pmr.a lib/libp2pmr.so.0.1.0 include/p2pmr.h bin/p2pmr \
	 share/man/man1/p2pmr.1 share/man/man3/p2pmr_buf_open.3 \
	 share/man/man3type/p2pmr_buf.3type lib/pkgconfig/p2pmr.pc; do
	[ -f "$p/$f" ] || fail "no $p/$f"
	echo "installed $p/$f"
done
[ "$(readlink "$p/lib/libp2pmr.so.0")" = libp2pmr.so.0.1.0 ] &&
	[ "$(readlink "$p/lib/libp2pmr.so")" = libp2pmr.so.0 ] ||
	fail "the SONAME links are wrong"
[ -x "$p/bin/p2pmr" ] || fail "p2pmr is not executable"
grep -q '^\.SH JSON OUTPUT' "$p/share/man/man1/p2pmr.1" || fail "not the current man page"
[ "$(ls "$p/share/man/man3" | wc -l)" = "$(ls build/user/man3/*.3 | wc -l)" ] ||
	fail "not every section-3 man page was installed"
find "$d/root" -path '*tests*' | grep -q . && fail "test programs installed"

cat > "$d/prog.c" <<'C'
#include <stdio.h>
#include <p2pmr.h>

int main(void)
{
	char bdf[16];

	if (p2pmr_parse_bdf("10:00.0", bdf, sizeof(bdf)))
		return 1;
	printf("%s %zu\n", bdf, (size_t)p2pmr_page_size());
	return 0;
}
C
r=/p2pmr/$d
out=$(scripts/in-root sh -c "
	set -e
	export PKG_CONFIG_PATH=$r/root/opt/p2pmr/lib/pkgconfig
	echo pkg-config: \$(pkg-config --cflags --libs p2pmr)
	# The installed paths, reached through DESTDIR.
	cc -o $r/prog $r/prog.c -I$r/root/opt/p2pmr/include \
		-L$r/root/opt/p2pmr/lib -lp2pmr
	LD_LIBRARY_PATH=$r/root/opt/p2pmr/lib $r/prog
	$r/root/opt/p2pmr/bin/p2pmr --version
" 2>&1) || { echo "$out"; fail "building or running against the installed files"; }
echo "$out"
# (libibverbs, a private requirement, adds its own -I.)
grep -qx 'pkg-config: -I/opt/p2pmr/include .*-L/opt/p2pmr/lib -lp2pmr' <<< "$out" ||
	fail "pkg-config flags for PREFIX=/opt/p2pmr"
grep -qx '0000:10:00.0 [0-9]*' <<< "$out" || fail "the program against the installed library"
grep -qx 'p2pmr 0.1.0' <<< "$out" || fail "the installed command"

n=0
for s in 6.12 7.3; do
	[ -f build/$s/vfio-export/vfio-pci-p2p.ko ] || continue
	make -s install-modules KVER=$s DESTDIR="$PWD/$d/root" ||
		fail "make install-modules KVER=$s"
	ls "$d"/root/lib/modules/*/updates/vfio-pci-p2p.ko > /dev/null 2>&1 ||
		fail "no module installed for $s"
	n=$((n + 1))
done
[ $n -gt 0 ] || fail "no kernel built: no module to install (run make)"
ls "$d"/root/lib/modules/*/updates/vfio-pci-p2p.ko
[ "$(ls "$d"/root/lib/modules/*/updates/vfio-pci-p2p.ko | wc -l)" = $n ] ||
	fail "want $n modules installed"
rm -rf "$d"
echo "make install and make install-modules: ok ($n kernels)"
