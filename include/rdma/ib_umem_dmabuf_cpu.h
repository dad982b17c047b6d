/* SPDX-License-Identifier: (GPL-2.0 OR BSD-3-Clause) */
/*
 * CPU-access import of dma-bufs for software RDMA devices.
 *
 * A software RDMA device (rxe, siw) moves data with the CPU, so it needs a
 * kernel mapping of the buffer rather than DMA addresses.  The buffer may be
 * MMIO (a PCI BAR exported by vfio-pci-p2p): all access goes through the
 * copy helpers here, which use MMIO-safe accessors, and stops for good once
 * the exporter invalidates the attachment.  The helpers take no lock; the
 * driver must not call them during or after ib_umem_release() of the umem.
 */
#ifndef IB_UMEM_DMABUF_CPU_H
#define IB_UMEM_DMABUF_CPU_H

#include <rdma/ib_umem.h>

struct ib_umem_dmabuf_cpu;

/* The operations of ib_umem_dmabuf_cpu_atomic(). */
enum ib_umem_dmabuf_cpu_atomic_op {
	IB_UMEM_DMABUF_CPU_FETCH_ADD,
	IB_UMEM_DMABUF_CPU_CMP_SWAP,
	IB_UMEM_DMABUF_CPU_WRITE,
};

#ifdef CONFIG_INFINIBAND_USER_MEM

struct ib_umem_dmabuf_cpu *
ib_umem_dmabuf_cpu_get(struct ib_device *device, unsigned long offset,
		       size_t size, int fd, int access);
int ib_umem_dmabuf_cpu_copy_to(struct ib_umem_dmabuf_cpu *cpu, u64 offset,
			       const void *src, size_t len);
int ib_umem_dmabuf_cpu_copy_from(struct ib_umem_dmabuf_cpu *cpu, void *dst,
				 u64 offset, size_t len);
int ib_umem_dmabuf_cpu_atomic(struct ib_umem_dmabuf_cpu *cpu, u64 offset,
			      enum ib_umem_dmabuf_cpu_atomic_op op,
			      u64 compare, u64 val, u64 *orig);
bool ib_umem_dmabuf_cpu_revoked(struct ib_umem_dmabuf_cpu *cpu);
struct ib_umem *ib_umem_dmabuf_cpu_umem(struct ib_umem_dmabuf_cpu *cpu);
struct ib_umem_dmabuf_cpu *ib_umem_to_dmabuf_cpu(struct ib_umem *umem);

#else /* CONFIG_INFINIBAND_USER_MEM */

/* No user memory: no CPU-access umem can exist (as ib_umem.h's stubs). */
static inline struct ib_umem_dmabuf_cpu *
ib_umem_dmabuf_cpu_get(struct ib_device *device, unsigned long offset,
		       size_t size, int fd, int access)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline int ib_umem_dmabuf_cpu_copy_to(struct ib_umem_dmabuf_cpu *cpu,
					     u64 offset, const void *src,
					     size_t len)
{
	return -EOPNOTSUPP;
}

static inline int ib_umem_dmabuf_cpu_copy_from(struct ib_umem_dmabuf_cpu *cpu,
					       void *dst, u64 offset,
					       size_t len)
{
	return -EOPNOTSUPP;
}

static inline int
ib_umem_dmabuf_cpu_atomic(struct ib_umem_dmabuf_cpu *cpu, u64 offset,
			  enum ib_umem_dmabuf_cpu_atomic_op op, u64 compare,
			  u64 val, u64 *orig)
{
	return -EOPNOTSUPP;
}

static inline bool ib_umem_dmabuf_cpu_revoked(struct ib_umem_dmabuf_cpu *cpu)
{
	return true;
}

static inline struct ib_umem *
ib_umem_dmabuf_cpu_umem(struct ib_umem_dmabuf_cpu *cpu)
{
	return NULL;
}

static inline struct ib_umem_dmabuf_cpu *
ib_umem_to_dmabuf_cpu(struct ib_umem *umem)
{
	return NULL;
}

#endif /* CONFIG_INFINIBAND_USER_MEM */

#endif /* IB_UMEM_DMABUF_CPU_H */
