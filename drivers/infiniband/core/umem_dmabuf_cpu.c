// SPDX-License-Identifier: (GPL-2.0 OR BSD-3-Clause)
/*
 * CPU-access import of dma-bufs, for software RDMA devices.
 *
 * The umem attaches dynamically (the exporter may revoke it at any time),
 * asks a revocable exporter whether CPU access is possible now
 * (begin_cpu_access), and
 * keeps one kernel mapping (vmap) for the life of the umem.  The copy
 * helpers run in any context, including the softirq that receives RoCE
 * packets, so they cannot take the reservation lock.  They take no lock at
 * all: each runs in an RCU read-side critical section and checks @revoked
 * first.  The invalidate callback sets @revoked and leaves the mapping to a
 * work item queued after a grace period (queue_rcu_work()), which gives it
 * back with dma_buf_vunmap(); the exporter waits for that vunmap before it
 * takes the memory away (as vfio-pci-p2p does).  The umems of one revoke
 * share one grace period.  Invalidation is final: after it the umem never
 * touches the buffer again, and the memory region must be registered anew.
 *
 * The copies run outside any begin_cpu_access/end_cpu_access bracket: those
 * may sleep, and rxe copies in softirq.  That is correct only where no
 * cache maintenance is needed between the CPU and the buffer's other
 * users: an I/O memory mapping (a BAR, uncached or write-combined) always,
 * a system-memory mapping only on architectures whose DMA is cache-coherent
 * (no arch_sync_dma_for_cpu/device, as on x86).  Elsewhere only I/O memory
 * is taken.
 */
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/iosys-map.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <rdma/ib_umem_dmabuf_cpu.h>

#include "core_priv.h"
#include "p2pmr_compat.h"
#include "uverbs.h"

struct ib_umem_dmabuf_cpu {
	struct ib_umem_dmabuf umem_dmabuf;	/* must be first: freed by it */
	/*
	 * @revoked goes from false to true once, under the dma-buf's
	 * reservation lock (WRITE_ONCE); the copy helpers read it under
	 * rcu_read_lock() (READ_ONCE).
	 */
	bool revoked;
	/*
	 * @map is set before the umem is handed out and cleared under the
	 * reservation lock: by the revoke's @unmap_work (a grace period after
	 * @revoked was set, so no copy helper still uses it), at release, or
	 * by ib_umem_dmabuf_cpu_get()'s error path (never handed out).
	 */
	struct iosys_map map;
	/*
	 * @unmap_work is queued at most once, by the first invalidation of a
	 * mapped umem, under the reservation lock.  Release and get()'s error
	 * path set @revoked under that lock, so nothing queues it after, and
	 * then flush it before the umem is freed.
	 */
	struct rcu_work unmap_work;
};

static void ib_umem_dmabuf_cpu_invalidate(struct dma_buf_attachment *attach);

static const struct dma_buf_attach_ops ib_umem_dmabuf_cpu_ops = {
	/* No struct pages are ever touched: MMIO exporters are fine. */
	.allow_peer2peer = true,
	.IB_UMEM_INVALIDATE_OP = ib_umem_dmabuf_cpu_invalidate,
};

/**
 * ib_umem_to_dmabuf_cpu - The CPU-access umem behind a umem, if it is one.
 * @umem: any umem
 *
 * Return: the CPU-access umem, or NULL if @umem was not made by
 * ib_umem_dmabuf_cpu_get().
 */
struct ib_umem_dmabuf_cpu *ib_umem_to_dmabuf_cpu(struct ib_umem *umem)
{
	struct dma_buf_attachment *attach;
	struct ib_umem_dmabuf *umem_dmabuf;

	if (!umem || !umem->is_dmabuf)
		return NULL;
	umem_dmabuf = to_ib_umem_dmabuf(umem);
	attach = umem_dmabuf->attach;
	/*
	 * Known by its attachment, not by ->private (the driver's: mlx5 keeps
	 * its MR there).  Ours carries ib_umem_dmabuf_cpu_ops, or, for an
	 * exporter that cannot move its buffer, no importer ops and the IB
	 * device itself as the attached device: the core's other dma-buf
	 * umems attach for the device's DMA device, which a software device
	 * does not have, and may lack ops too (ib_umem_dmabuf_get() with
	 * NULL ops, a static attachment, from 7.x on).
	 */
	if (attach->importer_ops == &ib_umem_dmabuf_cpu_ops ||
	    (!attach->importer_ops && attach->dev == &umem->ibdev->dev))
		return container_of(umem_dmabuf, struct ib_umem_dmabuf_cpu,
				    umem_dmabuf);
	return NULL;
}
EXPORT_SYMBOL(ib_umem_to_dmabuf_cpu);

/**
 * ib_umem_dmabuf_cpu_umem - The generic umem of a CPU-access umem.
 * @cpu: a CPU-access umem
 *
 * Release it with ib_umem_release() like any other umem.
 *
 * Return: the umem.
 */
struct ib_umem *ib_umem_dmabuf_cpu_umem(struct ib_umem_dmabuf_cpu *cpu)
{
	return &cpu->umem_dmabuf.umem;
}
EXPORT_SYMBOL(ib_umem_dmabuf_cpu_umem);

/*
 * Give the mapping back.  Only once no copy helper can be using it: the
 * umem is revoked and a grace period has passed since, or it was never
 * handed out, or its last user is gone (release).
 * Context: the reservation lock of @dmabuf held.
 */
static void ib_umem_dmabuf_cpu_vunmap_locked(struct ib_umem_dmabuf_cpu *cpu,
					     struct dma_buf *dmabuf)
{
	dma_resv_assert_held(dmabuf->resv);
	if (iosys_map_is_null(&cpu->map))
		return;
	dma_buf_vunmap(dmabuf, &cpu->map);
	iosys_map_clear(&cpu->map);
}

/* A grace period after the revoke: no copy helper sees the mapping now. */
static void ib_umem_dmabuf_cpu_unmap_work(struct work_struct *work)
{
	struct ib_umem_dmabuf_cpu *cpu =
		container_of(to_rcu_work(work), struct ib_umem_dmabuf_cpu,
			     unmap_work);
	/* Queued only for a mapped umem: its attachment is stored. */
	struct dma_buf *dmabuf = cpu->umem_dmabuf.attach->dmabuf;

	dma_resv_lock(dmabuf->resv, NULL);
	ib_umem_dmabuf_cpu_vunmap_locked(cpu, dmabuf);
	dma_resv_unlock(dmabuf->resv);
}

/*
 * The dma-buf comes from @attach, not from cpu->umem_dmabuf.attach: this
 * can run before ib_umem_dmabuf_cpu_get() has stored the attachment there
 * (the exporter sees the attachment as soon as dma_buf_dynamic_attach()
 * linked it).  The umem is not mapped yet then, and get() sees @revoked.
 */
static void ib_umem_dmabuf_cpu_invalidate(struct dma_buf_attachment *attach)
{
	struct ib_umem_dmabuf_cpu *cpu = attach->importer_priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (cpu->revoked)
		return;
	ibdev_dbg(cpu->umem_dmabuf.umem.ibdev,
		  "dma-buf MR revoked by its exporter\n");
	WRITE_ONCE(cpu->revoked, true);
	/*
	 * Copy helpers may be in the mapping now: it goes after a grace
	 * period, shared with the other umems revoked with this one.
	 */
	if (!iosys_map_is_null(&cpu->map))
		queue_rcu_work(system_dfl_wq, &cpu->unmap_work);
}

/*
 * Whether copies through @map outside a begin/end_cpu_access bracket see
 * what the buffer's other users wrote, and are seen by them (top of file).
 */
static bool ib_umem_dmabuf_cpu_coherent(const struct iosys_map *map)
{
	return map->is_iomem ||
	       (!IS_ENABLED(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU) &&
		!IS_ENABLED(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE));
}

/**
 * ib_umem_dmabuf_cpu_get - Import a dma-buf for CPU access.
 * @device: the (software) IB device
 * @offset: start of the region in the dma-buf
 * @size: length of the region
 * @fd: the dma-buf file descriptor
 * @access: IB_ACCESS_* flags of the memory region
 *
 * The exporter must offer a kernel mapping (vmap).  Exporters that only
 * offer DMA mappings (upstream vfio-pci, most GPU drivers) are refused
 * with -EOPNOTSUPP and a message naming the reason, and so is a
 * system-memory mapping on an architecture whose DMA may not be
 * cache-coherent (the copies cannot be bracketed by begin_cpu_access).
 *
 * Return: the umem, released through ib_umem_release(), or an ERR_PTR():
 * -EINVAL for a range outside the buffer, -EOPNOTSUPP for an exporter
 * without CPU access that needs no cache maintenance, -ENODEV for a
 * buffer that is revoked.
 */
struct ib_umem_dmabuf_cpu *
ib_umem_dmabuf_cpu_get(struct ib_device *device, unsigned long offset,
		       size_t size, int fd, int access)
{
	struct dma_buf_attachment *attach;
	struct ib_umem_dmabuf_cpu *cpu;
	struct dma_buf *dmabuf;
	struct ib_umem *umem;
	unsigned long end;
	int ret;

	if (check_add_overflow(offset, (unsigned long)size, &end) || !size)
		return ERR_PTR(-EINVAL);

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return ERR_CAST(dmabuf);
	if (dmabuf->size < end) {
		ret = -EINVAL;
		goto err_put;
	}
	if (!dmabuf->ops->vmap) {
		/* Any user can ask for this at will: ratelimited. */
		ibdev_warn_ratelimited(device,
				       "dma-buf from %s offers no CPU access (vmap): a software RDMA device cannot use it\n",
				       dmabuf->exp_name);
		ret = -EOPNOTSUPP;
		goto err_put;
	}

	cpu = kzalloc(sizeof(*cpu), GFP_KERNEL);
	if (!cpu) {
		ret = -ENOMEM;
		goto err_put;
	}
	INIT_RCU_WORK(&cpu->unmap_work, ib_umem_dmabuf_cpu_unmap_work);
	umem = &cpu->umem_dmabuf.umem;
	umem->ibdev = device;
	umem->length = size;
	umem->address = offset;
	umem->writable = ib_access_writable(access);
	umem->is_dmabuf = 1;

	/*
	 * An exporter that can move or revoke its buffer (it has pin/unpin)
	 * gets a dynamic attachment with our invalidate callback.  Others
	 * (udmabuf) never invalidate, and a dynamic attachment would make the
	 * core DMA-map them for @device, which has no DMA: attach statically.
	 */
	if (dmabuf->ops->pin)
		attach = dma_buf_dynamic_attach(dmabuf, &device->dev,
						&ib_umem_dmabuf_cpu_ops, cpu);
	else
		attach = dma_buf_attach(dmabuf, &device->dev);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto err_free;
	}
	/* ib_umem_dmabuf_release() finds the umem through importer_priv. */
	attach->importer_priv = cpu;
	cpu->umem_dmabuf.attach = attach;

	/*
	 * Exporters that can be revoked say so here, without a WARN.  Only
	 * those are asked: the others cannot be revoked, and udmabuf would
	 * DMA-map the whole buffer for its own device (in segments longer
	 * than that device declares, which DMA-API debugging reports).
	 */
	if (dmabuf->ops->pin) {
		ret = dma_buf_begin_cpu_access(dmabuf, DMA_BIDIRECTIONAL);
		if (ret)
			goto err_detach;
		dma_buf_end_cpu_access(dmabuf, DMA_BIDIRECTIONAL);
	}

	dma_resv_lock(dmabuf->resv, NULL);
	if (cpu->revoked)
		ret = -ENODEV;	/* revoked since begin_cpu_access */
	else
		ret = dma_buf_vmap(dmabuf, &cpu->map);
	dma_resv_unlock(dmabuf->resv);
	if (ret)
		goto err_detach;
	if (!ib_umem_dmabuf_cpu_coherent(&cpu->map)) {
		ibdev_warn_ratelimited(device,
				       "dma-buf from %s is system memory, which this architecture may cache incoherently: a software RDMA device cannot use it\n",
				       dmabuf->exp_name);
		ret = -EOPNOTSUPP;
		goto err_vunmap;
	}
	return cpu;

err_vunmap:
	/* Not handed out: no copy helper has seen the mapping. */
	dma_resv_lock(dmabuf->resv, NULL);
	WRITE_ONCE(cpu->revoked, true);
	ib_umem_dmabuf_cpu_vunmap_locked(cpu, dmabuf);
	dma_resv_unlock(dmabuf->resv);
	/* An invalidation before our @revoked may have queued the unmap. */
	flush_rcu_work(&cpu->unmap_work);
err_detach:
	dma_buf_detach(dmabuf, cpu->umem_dmabuf.attach);
err_free:
	kfree(cpu);
err_put:
	dma_buf_put(dmabuf);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL(ib_umem_dmabuf_cpu_get);

/*
 * Called by ib_umem_dmabuf_release() before it detaches: the mapping must
 * go first.  No copy helper runs by now: the driver calls none during or
 * after ib_umem_release() (the copy helpers' contract; rxe releases the
 * umem only once the MR's last reference is gone), so no grace period is
 * needed.  A revoke before may still have its unmap queued.  Sleeps.
 */
void ib_umem_dmabuf_cpu_release(struct ib_umem_dmabuf *umem_dmabuf)
{
	struct ib_umem_dmabuf_cpu *cpu =
		ib_umem_to_dmabuf_cpu(&umem_dmabuf->umem);
	struct dma_buf *dmabuf = umem_dmabuf->attach->dmabuf;

	if (!cpu)
		return;
	/* From here on no invalidation queues the unmap. */
	dma_resv_lock(dmabuf->resv, NULL);
	WRITE_ONCE(cpu->revoked, true);
	dma_resv_unlock(dmabuf->resv);
	flush_rcu_work(&cpu->unmap_work);
	dma_resv_lock(dmabuf->resv, NULL);
	ib_umem_dmabuf_cpu_vunmap_locked(cpu, dmabuf);
	dma_resv_unlock(dmabuf->resv);
}

/*
 * Whether [@offset, @offset + @len) of the umem may be accessed.  If so,
 * @map stays valid until the caller's rcu_read_unlock().
 * Context: rcu_read_lock() held.
 */
static int ib_umem_dmabuf_cpu_check(struct ib_umem_dmabuf_cpu *cpu,
				    u64 offset, size_t len)
{
	lockdep_assert_in_rcu_read_lock();
	if (offset > cpu->umem_dmabuf.umem.length ||
	    len > cpu->umem_dmabuf.umem.length - offset)
		return -EINVAL;
	if (READ_ONCE(cpu->revoked))
		return -EFAULT;
	return 0;
}

/**
 * ib_umem_dmabuf_cpu_copy_to - Copy into the imported buffer.
 * @cpu: the umem
 * @offset: offset from the start of the umem
 * @src: source in kernel memory
 * @len: bytes
 *
 * The caller keeps the umem alive: no copy helper may run during or after
 * ib_umem_release() of it.
 *
 * Context: any; takes no lock (an RCU read-side critical section).
 * Return: 0, -EINVAL out of range, -EFAULT after revocation.
 */
int ib_umem_dmabuf_cpu_copy_to(struct ib_umem_dmabuf_cpu *cpu, u64 offset,
			       const void *src, size_t len)
{
	int ret;

	rcu_read_lock();
	ret = ib_umem_dmabuf_cpu_check(cpu, offset, len);
	if (!ret)
		iosys_map_memcpy_to(&cpu->map,
				    cpu->umem_dmabuf.umem.address + offset,
				    src, len);
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL(ib_umem_dmabuf_cpu_copy_to);

/**
 * ib_umem_dmabuf_cpu_copy_from - Copy out of the imported buffer.
 * @cpu: the umem
 * @dst: destination in kernel memory
 * @offset: offset from the start of the umem
 * @len: bytes
 *
 * As for ib_umem_dmabuf_cpu_copy_to(), the caller keeps the umem alive.
 *
 * Context: any; takes no lock (an RCU read-side critical section).
 * Return: 0, -EINVAL out of range, -EFAULT after revocation.
 */
int ib_umem_dmabuf_cpu_copy_from(struct ib_umem_dmabuf_cpu *cpu, void *dst,
				 u64 offset, size_t len)
{
	int ret;

	rcu_read_lock();
	ret = ib_umem_dmabuf_cpu_check(cpu, offset, len);
	if (!ret)
		iosys_map_memcpy_from(dst, &cpu->map,
				      cpu->umem_dmabuf.umem.address + offset,
				      len);
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL(ib_umem_dmabuf_cpu_copy_from);

/**
 * ib_umem_dmabuf_cpu_atomic - 8-byte atomic read-modify-write in the buffer.
 * @cpu: the umem
 * @offset: offset from the start of the umem, 8-byte aligned in the buffer
 * @op: what to do with the word
 * @compare: the value to compare with, for %IB_UMEM_DMABUF_CPU_CMP_SWAP
 * @val: the value to add (%IB_UMEM_DMABUF_CPU_FETCH_ADD), to swap in
 *	(%IB_UMEM_DMABUF_CPU_CMP_SWAP) or to write (%IB_UMEM_DMABUF_CPU_WRITE)
 * @orig: the word before the operation, if not NULL
 *
 * The word is read and written with single 8-byte accesses (readq/writeq
 * on MMIO, READ_ONCE/WRITE_ONCE on memory), so a device or a CPU looking
 * at the buffer never sees half an update.  The read-modify-write is not
 * atomic against other writers of the word: the caller serialises all of
 * its atomics on the buffer (every umem over it), as rxe's atomic_ops_lock
 * does.  As for ib_umem_dmabuf_cpu_copy_to(), the caller keeps the umem
 * alive.
 *
 * Context: any; takes no lock (an RCU read-side critical section).
 * Return: 0, -EINVAL out of range or misaligned, -EFAULT after revocation.
 */
int ib_umem_dmabuf_cpu_atomic(struct ib_umem_dmabuf_cpu *cpu, u64 offset,
			      enum ib_umem_dmabuf_cpu_atomic_op op,
			      u64 compare, u64 val, u64 *orig)
{
	size_t pos;
	u64 old;
	int ret;

	rcu_read_lock();
	ret = ib_umem_dmabuf_cpu_check(cpu, offset, sizeof(u64));
	pos = cpu->umem_dmabuf.umem.address + offset;
	if (!ret && !IS_ALIGNED(pos, sizeof(u64)))
		ret = -EINVAL;
	if (ret)
		goto out;
	old = iosys_map_rd(&cpu->map, pos, u64);
	switch (op) {
	case IB_UMEM_DMABUF_CPU_FETCH_ADD:
		iosys_map_wr(&cpu->map, pos, u64, old + val);
		break;
	case IB_UMEM_DMABUF_CPU_CMP_SWAP:
		if (old == compare)
			iosys_map_wr(&cpu->map, pos, u64, val);
		break;
	case IB_UMEM_DMABUF_CPU_WRITE:
		iosys_map_wr(&cpu->map, pos, u64, val);
		break;
	}
	if (orig)
		*orig = old;
out:
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL(ib_umem_dmabuf_cpu_atomic);

/**
 * ib_umem_dmabuf_cpu_revoked - Whether the exporter revoked the buffer.
 * @cpu: the umem
 *
 * Return: true once revoked; it stays revoked.
 */
bool ib_umem_dmabuf_cpu_revoked(struct ib_umem_dmabuf_cpu *cpu)
{
	return READ_ONCE(cpu->revoked);
}
EXPORT_SYMBOL(ib_umem_dmabuf_cpu_revoked);
