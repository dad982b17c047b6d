#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel code passes the kernel's checkpatch.pl (from Debian's
# linux-source-7.3).  Ignored, with reason:
#   LINUX_VERSION_CODE, CONSTANT_COMPARISON: only in the per-module compat
#     headers, whose purpose is version checks;
#   ALLOC_WITH_SIZEOF, in the patch series only: the patched RDMA files
#     are built for 6.12 too, which has no kzalloc_obj();
#   FILE_PATH_CHANGES: the patch series adds files (MAINTAINERS is upstream's).
# The generated patch series (make patches) is checked too.
cd "$(dirname "$0")/../.."
src=$(scripts/ksrc.sh 7.3 scripts/checkpatch.pl scripts/spelling.txt \
	scripts/const_structs.checkpatch)
files=$(ls vfio-export/*.[ch] tests/kmod/*/*.[ch] drivers/infiniband/*/*.[ch] \
	drivers/infiniband/sw/*/*.[ch] include/rdma/*.h 2>/dev/null)
scripts/make-patches.sh > /dev/null || { echo "FAIL: make patches"; exit 1; }
out=$(perl "$src/scripts/checkpatch.pl" --no-tree --terse --show-types \
	--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON \
	-f $files 2>&1 | grep -E '(ERROR|WARNING|CHECK):')
out+=$(perl "$src/scripts/checkpatch.pl" --no-tree --terse --show-types \
	--ignore ALLOC_WITH_SIZEOF,FILE_PATH_CHANGES build/patches/*/*.patch 2>&1 |
	grep -E '(ERROR|WARNING|CHECK):')
if [ -n "$out" ]; then
	echo "$out"
	echo "FAIL: checkpatch found problems"
	exit 1
fi
echo "checkpatch clean on $(echo $files | wc -w) files and $(ls build/patches/*/*.patch | wc -l) patches"
