#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make patches: the kernel changes as a git-format patch series per kernel
# series, against Debian's source of that series, in build/patches/<series>/:
#   1. RDMA/umem: CPU-access import (new file, header, patch 0001)
#   2. RDMA/rxe: dma-buf MRs (new file, patch 0002)
#   3... further patches of the series (0003-*.patch on), applied with git am
# The out-of-tree compat header is folded away.
set -euo pipefail
export GIT_AUTHOR_NAME="p2pmr developers" GIT_AUTHOR_EMAIL=p2pmr@localhost
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL

commit() { # dir subject body
	git -C "$1" add -A
	git -C "$1" commit -q -s -m "$2" -m "$3"
}

top=$(cd "$(dirname "$0")/.." && pwd)
for series in ${*:-6.12 7.3}; do
	src=$("$top"/scripts/ksrc.sh "$series" drivers/infiniband/core \
		drivers/infiniband/sw/rxe include/rdma)
	w=$(mktemp -d)
	mkdir -p "$w/drivers/infiniband/sw" "$w/include"
	cp -r "$src/drivers/infiniband/core" "$w/drivers/infiniband/"
	cp -r "$src/drivers/infiniband/sw/rxe" "$w/drivers/infiniband/sw/"
	cp -r "$src/include/rdma" "$w/include/"
	git -C "$w" init -q
	git -C "$w" add -A
	git -C "$w" commit -qm base
	op=move_notify
	[ "$series" = 6.12 ] || op=invalidate_mappings
	sed -e '/#include "p2pmr_compat.h"/d' -e "s/IB_UMEM_INVALIDATE_OP/$op/" \
		"$top/drivers/infiniband/core/umem_dmabuf_cpu.c" \
		> "$w/drivers/infiniband/core/umem_dmabuf_cpu.c"
	cp "$top/include/rdma/ib_umem_dmabuf_cpu.h" "$w/include/rdma/"
	patch -d "$w" -p1 --quiet < "$top"/drivers/infiniband/patches/$series/0001-*.patch
	commit "$w" "RDMA/umem: CPU-access import of dma-bufs for software RDMA devices" \
		"Software RDMA devices move data with the CPU and so need a kernel
mapping of a dma-buf, not DMA addresses.  The buffer may be MMIO (a
PCI BAR exported by VFIO): access it only through copy helpers with
MMIO-safe accessors, and stop for good when the exporter invalidates
the attachment."
	cp "$top/drivers/infiniband/sw/rxe/rxe_mr_dmabuf.c" "$w/drivers/infiniband/sw/rxe/"
	patch -d "$w" -p1 --quiet < "$top"/drivers/infiniband/patches/$series/0002-*.patch
	commit "$w" "RDMA/rxe: memory regions over dma-bufs" \
		"Implement reg_user_mr_dmabuf on the CPU-access dma-buf import:
every copy path and the atomics go through the umem's MMIO-safe
helpers.  Once the exporter revokes the buffer, accesses fail with
access errors and the MR must be registered again."
	# Further patches of the series (0003 on) are git-format commits of
	# their own, with their messages.
	n=2
	for p in "$top"/drivers/infiniband/patches/$series/*.patch; do
		case ${p##*/} in 0001-*|0002-*) continue ;; esac
		git -C "$w" am -q --committer-date-is-author-date < "$p"
		n=$((n + 1))
	done
	out=$top/build/patches/$series
	rm -rf "$out"
	mkdir -p "$out"
	git -C "$w" format-patch -q -o "$out" HEAD~$n
	rm -rf "$w"
	echo "$out: $(ls "$out" | tr '\n' ' ')"
done
