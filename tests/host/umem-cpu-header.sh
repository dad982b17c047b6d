#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# include/rdma/ib_umem_dmabuf_cpu.h works in a kernel without
# CONFIG_INFINIBAND_USER_MEM, as ib_umem.h does (issue 13, item 7): there
# umem_dmabuf_cpu.o is not built, so a driver calling the helpers (rxe) must
# get inline stubs, not references to symbols nobody exports.  Compiles a
# caller of every helper against Debian's headers of each series with the
# option undefined and checks that the object references none of them; and
# that the core-internal release hook is no longer in the public header.
set -euo pipefail
cd "$(dirname "$0")/../.."
hdr=include/rdma/ib_umem_dmabuf_cpu.h
fail=0
if grep -q ib_umem_dmabuf_cpu_release "$hdr"; then
	echo "FAIL: $hdr declares ib_umem_dmabuf_cpu_release(), which is core-internal (core_priv.h)"
	fail=1
fi
d=build/host-umem-cpu-header
rm -rf "$d"
mkdir -p "$d"
cat > "$d/caller.c" <<'C'
// SPDX-License-Identifier: GPL-2.0
#undef CONFIG_INFINIBAND_USER_MEM
#include <rdma/ib_umem_dmabuf_cpu.h>

int caller(struct ib_device *dev, struct ib_umem *umem, void *buf);
int caller(struct ib_device *dev, struct ib_umem *umem, void *buf)
{
	struct ib_umem_dmabuf_cpu *cpu = ib_umem_to_dmabuf_cpu(umem);
	u64 old;
	int ret;

	cpu = ib_umem_dmabuf_cpu_get(dev, 0, 4096, 3, 0);
	if (IS_ERR(cpu))
		return PTR_ERR(cpu);
	ret = ib_umem_dmabuf_cpu_copy_to(cpu, 0, buf, 8) +
	      ib_umem_dmabuf_cpu_copy_from(cpu, buf, 0, 8) +
	      ib_umem_dmabuf_cpu_atomic(cpu, 0, IB_UMEM_DMABUF_CPU_FETCH_ADD,
					0, 1, &old);
	if (ib_umem_dmabuf_cpu_revoked(cpu))
		ret++;
	ib_umem_release(ib_umem_dmabuf_cpu_umem(cpu));
	return ret;
}
C
echo "obj-m := caller.o" > "$d/Kbuild"
for s in 6.12 7.3; do
	k=$(awk -v s=$s '$1 == s {print $2}' "${P2PMR_CACHE:-/var/cache/p2pmr}/kernels")
	rm -f "$d/caller.o"
	if ! scripts/in-root make -s -C "/usr/src/linux-headers-$k" M="/p2pmr/$d" \
		KCFLAGS=-I/p2pmr/include caller.o > "$d/build-$s.log" 2>&1; then
		cat "$d/build-$s.log"
		echo "FAIL: $s: a caller of the helpers does not compile without CONFIG_INFINIBAND_USER_MEM"
		fail=1
		continue
	fi
	refs=$(nm -u "$d/caller.o" | awk '/dmabuf_cpu/ {print $2}' | tr '\n' ' ')
	if [ -n "$refs" ]; then
		echo "FAIL: $s: without CONFIG_INFINIBAND_USER_MEM a caller references $refs(not built there: the module would not link)"
		fail=1
	else
		echo "ok: $s: without CONFIG_INFINIBAND_USER_MEM every helper is an inline stub"
	fi
done
exit $fail
