#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/moddep.sh SERIES RELEASE (in the root): the module index of kernel
# RELEASE with p2pmr's rebuilt RDMA modules as updates/p2pmr, in
# build/SERIES/moddep/lib/modules/RELEASE.  tests/lib/guest.sh's load_rdma
# copies it into the guest instead of running depmod there: depmod reads
# every module of the kernel, about 100 s over 9p under TCG, 10 s here.
# Made again only when a rebuilt module is newer than the index.
set -euo pipefail
s=$1 k=$2
rdma=/p2pmr/build/$s/rdma/drivers/infiniband
m=/p2pmr/build/$s/moddep
d=$m/lib/modules/$k
kos=("$rdma"/core/*.ko "$rdma"/sw/rxe/*.ko)
if [ -e "$d/modules.dep.bin" ]; then
	stale=0
	for f in "${kos[@]}"; do
		[ "$f" -nt "$d/modules.dep.bin" ] && stale=1
	done
	[ $stale = 1 ] || exit 0
fi
rm -rf "$m"
mkdir -p "$d/updates/p2pmr"
# The kernel's own modules stay where they are: depmod follows the link.
ln -s "/lib/modules/$k/kernel" "$d/kernel"
cp /lib/modules/"$k"/modules.{order,builtin,builtin.modinfo} "$d/"
cp "${kos[@]}" "$d/updates/p2pmr/"
depmod -b "$m" "$k"
