#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest half of benchmark 2 (perf/bench/2-regcost.sh): build/perf/regcost
# on the ivshmem BAR and rxe0; its table goes to /vmout/regcost.md.
. tests/lib/guest.sh

load_rdma
load_p2p
bind_driver "$IVSHMEM" vfio-pci-p2p
rxe_pair
ulimit -l unlimited
/p2pmr/build/perf/regcost --ibdev rxe0 ${REGCOST_ARGS:-} "$IVSHMEM" | tee /vmout/regcost.md
[ "${PIPESTATUS[0]}" = 0 ] || die "regcost failed"
