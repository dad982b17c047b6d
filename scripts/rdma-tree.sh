#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/rdma-tree.sh SERIES: lay out build/SERIES/rdma, the RDMA modules
# p2pmr rebuilds (drivers/infiniband/core and sw/rxe), from Debian's
# linux-source-SERIES: the pristine subtrees, then p2pmr's new files, then
# its patches (drivers/infiniband/patches/SERIES).  Rebuilt only when an
# input changed.  A debug series (7.3-debug) takes the source and patches of
# its base series.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
series=$1
base=${series%-debug}
out=$top/build/$series/rdma
new=(drivers/infiniband/core/umem_dmabuf_cpu.c
     drivers/infiniband/core/p2pmr_compat.h
     drivers/infiniband/sw/rxe/rxe_mr_dmabuf.c
     include/rdma/ib_umem_dmabuf_cpu.h)
patches=("$top"/drivers/infiniband/patches/"$base"/*.patch)

stamp=$out/.p2pmr-inputs
want=$(cd "$top" && cat "${new[@]}" "${patches[@]}" | md5sum)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi

src=$("$top"/scripts/ksrc.sh "$base" drivers/infiniband/core \
	drivers/infiniband/sw/rxe)
rm -rf "$out"
mkdir -p "$out/drivers/infiniband/sw" "$out/include/rdma" "$out/include/trace"
cp -r "$src/drivers/infiniband/core" "$out/drivers/infiniband/"
cp -r "$src/drivers/infiniband/sw/rxe" "$out/drivers/infiniband/sw/"
for f in "${new[@]}"; do
	cp "$top/$f" "$out/$f"
done
for p in "${patches[@]}"; do
	patch -d "$out" -p1 --quiet --no-backup-if-mismatch < "$p"
done
echo "$want" > "$stamp"
