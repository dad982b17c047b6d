#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/ksrc.sh SERIES PATH...: print the directory of Debian's
# linux-source-SERIES under the cache, extracting PATHs (files or subtrees,
# relative to the kernel tree) from the tarball on first use.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
series=$1
shift
tar=$P2PMR_ROOT/usr/src/linux-source-$series.tar.xz
dst=$P2PMR_CACHE/src/$series
[ -e "$tar" ] || { echo "ksrc: no $tar: run 'make deps'" >&2; exit 2; }
mkdir -p "$dst"
want=()
for p in "$@"; do
	[ -e "$dst/.got-${p//\//_}" ] || want+=("linux-source-$series/$p")
done
if [ ${#want[@]} -gt 0 ]; then
	tar -C "$dst" -xf "$tar" "${want[@]}"
	for p in "$@"; do
		touch "$dst/.got-${p//\//_}"
	done
fi
echo "$dst/linux-source-$series"
