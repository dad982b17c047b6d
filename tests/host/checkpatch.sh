#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel code passes the kernel's checkpatch.pl (from Debian's
# linux-source-7.3).  Ignored, with reason:
#   LINUX_VERSION_CODE, CONSTANT_COMPARISON: only in the per-module compat
#     headers, whose purpose is version checks;
#   ALLOC_WITH_SIZEOF, in the patch series only: the patched RDMA files
#     are built for 6.12 too, which has no kzalloc_obj();
#   FILE_PATH_CHANGES: the patch series adds files (MAINTAINERS is upstream's).
# The generated patch series (make patches) is checked too, and so is the
# userspace C (userspace/: libp2pmr, p2pmr, the NVMe driver and target),
# in the same style, with what only the kernel has ignored: VOLATILE (MMIO
# through a userspace mapping needs it), ARRAY_SIZE, strscpy (STRCPY) and
# the attribute macros (PREFER_DEFINED_ATTRIBUTE_MACRO) do not exist
# there; ENOSYS is a code libibverbs returns, matched, not returned;
# EMBEDDED_FUNCTION_NAME: error messages name the public function called.
#
# "Clean" needs proof that checkpatch ran: its exit status is 0 (or 1 for
# problems found) and it printed a "total:" line for every file given.
set -uo pipefail
cd "$(dirname "$0")/../.."
src=$(scripts/ksrc.sh 7.3 scripts/checkpatch.pl scripts/spelling.txt \
	scripts/const_structs.checkpatch) || src=
[ -n "$src" ] && [ -f "$src/scripts/checkpatch.pl" ] ||
	{ echo "FAIL: no checkpatch.pl (kernel source '$src'): run 'make deps'"; exit 1; }
mapfile -t files < <(ls vfio-export/*.[ch] tests/kmod/*/*.[ch] \
	drivers/infiniband/*/*.[ch] drivers/infiniband/sw/*/*.[ch] \
	include/rdma/*.h 2>/dev/null)
[ ${#files[@]} -gt 0 ] || { echo "FAIL: no kernel sources found"; exit 1; }
mapfile -t ufiles < <(find userspace -path userspace/rdma-core -prune -o \
	-name '*.[ch]' -print | sort)
[ ${#ufiles[@]} -gt 0 ] || { echo "FAIL: no userspace sources found"; exit 1; }
scripts/make-patches.sh > /dev/null || { echo "FAIL: make patches"; exit 1; }
mapfile -t patches < <(ls build/patches/*/*.patch 2>/dev/null)
[ ${#patches[@]} -gt 0 ] || { echo "FAIL: make patches wrote no patch"; exit 1; }

problems=
# checkpatch N ARGS...: run checkpatch.pl on N inputs; add its problems to
# $problems; fail unless it ran and checked all N.
checkpatch() {
	local n=$1 out rc totals
	shift
	out=$(perl "$src/scripts/checkpatch.pl" --no-tree --emacs --summary-file \
		--show-types "$@" 2>&1)
	rc=$?
	totals=$(grep -c ' total: [0-9]* errors, [0-9]* warnings' <<< "$out")
	if [ $rc -gt 1 ] || [ "$totals" != "$n" ]; then
		echo "$out" | tail -n 20
		echo "FAIL: checkpatch.pl did not run (exit $rc, $totals of $n inputs checked)"
		exit 1
	fi
	out=$(grep -E '(ERROR|WARNING|CHECK):' <<< "$out") &&
		problems+=$out$'\n'
}
checkpatch ${#files[@]} --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON \
	-f "${files[@]}"
checkpatch ${#patches[@]} --ignore ALLOC_WITH_SIZEOF,FILE_PATH_CHANGES \
	"${patches[@]}"
checkpatch ${#ufiles[@]} --ignore VOLATILE,ARRAY_SIZE,STRCPY,ENOSYS \
	--ignore PREFER_DEFINED_ATTRIBUTE_MACRO,EMBEDDED_FUNCTION_NAME \
	-f "${ufiles[@]}"
if [ -n "$problems" ]; then
	echo -n "$problems"
	echo "FAIL: checkpatch found problems"
	exit 1
fi
echo "checkpatch clean on ${#files[@]} kernel files, ${#patches[@]} patches and ${#ufiles[@]} userspace files"
