#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the root (scripts/in-root): build Debian's rdma-core with
# p2pmr's patches (userspace/rdma-core/*.patch) and keep the providers that
# changed in build/rdma-core/ (the guest installs them over the stock ones).
# Only the rxe provider target is built.
set -euo pipefail
top=/p2pmr
out=$top/build/rdma-core
dl=/cache/src/rdma-core
mkdir -p "$dl" "$out"
cd "$dl"
if ! ls rdma-core_*.orig.tar.* > /dev/null 2>&1; then
	# The .dsc is not always on the mirror; the tarballs are what we need.
	apt-get source -q --download-only rdma-core > /dev/null 2>&1 || true
fi
orig=$(ls rdma-core_*.orig.tar.* | sort -V | tail -n 1)
want=$(cat "$orig" "$top"/userspace/rdma-core/*.patch | md5sum)
if [ -f "$out/.inputs" ] && [ "$(cat "$out/.inputs")" = "$want" ] &&
   ls "$out"/librxe-rdmav*.so > /dev/null 2>&1; then
	exit 0
fi
rm -rf "$out/src" "$out/obj"
mkdir -p "$out/src"
tar -C "$out/src" --strip-components=1 -xf "$orig"
for p in "$top"/userspace/rdma-core/*.patch; do
	patch -d "$out/src" -p1 --quiet < "$p"
done
cmake -Wno-dev -S "$out/src" -B "$out/obj" -G Ninja -DNO_PYVERBS=1 -DNO_MAN_PAGES=1 \
	-DENABLE_STATIC=0 -DCMAKE_BUILD_TYPE=Release > "$out/cmake.log"
target=$(ninja -C "$out/obj" -t targets all | grep -o '^lib/librxe-rdmav[0-9]*\.so' | head -n 1)
ninja -C "$out/obj" "$target" > "$out/ninja.log"
cp -L "$out"/obj/lib/librxe-rdmav*.so "$out/"
echo "$want" > "$out/.inputs"
