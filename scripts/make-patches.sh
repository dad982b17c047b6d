#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make patches: the kernel changes as a git-format patch series per kernel
# series, against Debian's source of that series, in build/patches/<series>/:
#   1. RDMA/umem: CPU-access import (new file, header, patch 0001)
#   2. RDMA/rxe: dma-buf MRs (new file, patch 0002)
#   3... further patches of the series (0003-*.patch on), applied with git am
# The out-of-tree compat header is folded away.  Author and committer are
# the repository's git configuration (user.name, user.email), or where that
# is unset (a bare CI clone) the author of the checked-out commit.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
GIT_AUTHOR_NAME=$(git -C "$top" config user.name ||
	git -C "$top" log -1 --format=%an)
GIT_AUTHOR_EMAIL=$(git -C "$top" config user.email ||
	git -C "$top" log -1 --format=%ae)
[ -n "$GIT_AUTHOR_NAME" ] && [ -n "$GIT_AUTHOR_EMAIL" ] ||
	{ echo "make-patches: no author: set git config user.name and user.email" >&2; exit 1; }
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL

commit() { # dir subject body
	git -C "$1" add -A
	git -C "$1" commit -q -s -m "$2" -m "$3"
}

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
		"Software RDMA devices (rxe, siw) move data with the CPU, so a dma-buf
MR needs a kernel mapping of the buffer, not DMA addresses, and
ib_umem_dmabuf_get() cannot serve them: it maps the buffer for DMA by
the IB device, which has no DMA.

Add a second kind of dma-buf umem, struct ib_umem_dmabuf_cpu, which
embeds struct ib_umem_dmabuf (so ib_umem_release() releases it as any
dma-buf umem) and is told apart by its attachment (our importer ops, or
a static attachment by the IB device itself), not by ->private, which
stays the driver's.  It attaches dynamically to exporters that can move
or revoke their buffer and statically to the others, asks
begin_cpu_access() whether CPU access is possible, and vmaps the buffer
once.  The buffer may be MMIO (a PCI BAR exported by VFIO): drivers
access it only through the copy helpers and the 8-byte atomic helper,
which use MMIO accessors (single 8-byte accesses for atomics).

The helpers run in the softirq that receives RoCE packets, where the
reservation lock cannot be taken, so they take no lock: each runs under
rcu_read_lock() and checks the umem's revoked flag.  The invalidate
callback also ends CPU access: it sets the flag and queues the vunmap
after a grace period (queue_rcu_work()), so all umems revoked together
share one grace period; the exporter waits for the vunmap before the
memory goes.  A revoked umem stays revoked; the MR must be registered
again.  ib_umem_dmabuf_release() drops the mapping before it detaches."
	cp "$top/drivers/infiniband/sw/rxe/rxe_mr_dmabuf.c" "$w/drivers/infiniband/sw/rxe/"
	patch -d "$w" -p1 --quiet < "$top"/drivers/infiniband/patches/$series/0002-*.patch
	commit "$w" "RDMA/rxe: memory regions over dma-bufs" \
		"Implement reg_user_mr_dmabuf on the CPU-access dma-buf import.
rxe_mr_copy() and the atomics dispatch dma-buf MRs to rxe_mr_dmabuf.c,
which goes through the umem's helpers; no page list is built, so
nothing walks the pages of a dma-buf MR.  FETCH_ADD, CMP_SWAP and
ATOMIC_WRITE all take rxe's atomic_ops_lock (the umem's helpers take
no lock) and access the word with single 8-byte accesses, so a device
or a CPU reading a BAR never sees half an update.  FLUSH and on-demand
paging are refused for such MRs.

Once the exporter revokes the buffer, every access to the MR fails
and the MR stays in that state: a transparent remap would let an MR's
contents move under the application.  The application registers a new
MR once the buffer is usable again."
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
	git -C "$w" format-patch -q --no-signature -o "$out" HEAD~$n
	rm -rf "$w"
	echo "$out: $(ls "$out" | tr '\n' ' ')"
done
