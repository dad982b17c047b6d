// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmr_importer, IMP_UMEM and IMP_UMEM_PINNED: import a dma-buf through the
 * RDMA core's ib_umem dma-buf importer, the way an RDMA NIC driver does for
 * ibv_reg_dmabuf_mr(), with edu standing in for the NIC.  The ib_device is
 * never registered: it only carries edu as its dma_device, for which the
 * exporter maps the buffer.  The umem's DMA blocks are copied into a
 * per-page table, the NIC's MTT, from which edu's DMA engine is programmed.
 *
 * Locking: the table lives under the dma-buf's reservation lock, which
 * IMP_DMA_WRITE holds while edu runs; the invalidate and revoke callbacks
 * run under that lock too, so no DMA is in flight when they return.
 */
#include <linux/dma-resv.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <rdma/ib_umem.h>
#include <rdma/ib_verbs.h>
#include <rdma/iter.h>

#include "compat.h"
#include "importer.h"

struct imp_ibdev {
	struct ib_device ibdev;
};

static struct imp_ibdev *imp_ibdev;
static DEFINE_MUTEX(imp_ibdev_lock);	/* protects imp_ibdev->ibdev.dma_device */

static void imp_umem_drop_mtt(struct imp *imp)
{
	dma_resv_assert_held(imp->dmabuf->resv);
	kvfree(imp->mtt);
	imp->mtt = NULL;
	imp->mtt_pages = 0;
}

/* Dynamic umem: forget the DMA addresses, then give the mapping back. */
static void imp_umem_unmap_locked(struct imp *imp)
{
	imp_umem_drop_mtt(imp);
	if (imp->umem->sgt) {
		ib_umem_dmabuf_unmap_pages(imp->umem);
		imp->st.last_unmap_ns = ktime_get_ns();
	}
}

static void imp_umem_invalidate(struct dma_buf_attachment *attach)
{
	struct ib_umem_dmabuf *umem = attach->importer_priv;
	struct imp *imp = umem->private;

	dma_resv_assert_held(attach->dmabuf->resv);
	/*
	 * Not ours yet (nothing mapped) or being released (maybe still
	 * mapped, until ib_umem_release() revokes it): just give it back.
	 */
	if (!imp) {
		ib_umem_dmabuf_unmap_pages(umem);
		return;
	}
	imp->st.invalidates++;
	imp_umem_unmap_locked(imp);
}

static const struct dma_buf_attach_ops imp_umem_ops = {
	.allow_peer2peer = true,
	.IMP_INVALIDATE_OP = imp_umem_invalidate,
};

/* Pinned-revocable umem: the core unmaps and unpins once this returns. */
static void imp_umem_revoke(void *priv)
{
	struct imp *imp = priv;

	imp->st.invalidates++;
	imp_umem_drop_mtt(imp);
	imp->st.last_unmap_ns = ktime_get_ns();
}

/* Copy the umem's DMA blocks into the MTT, as a NIC with 4 KiB pages. */
static int imp_umem_fill_mtt(struct imp *imp)
{
	struct ib_umem *umem = &imp->umem->umem;
	struct ib_block_iter biter;
	unsigned long pgsz, i = 0;

	dma_resv_assert_held(imp->dmabuf->resv);
	/* Also sets umem->iova, which the block iterator counts from. */
	pgsz = ib_umem_find_best_pgsz(umem, PAGE_SIZE, umem->address);
	if (!pgsz)
		return -EINVAL;
	imp->mtt_pages = ib_umem_num_dma_blocks(umem, pgsz);
	imp->mtt = kvcalloc(imp->mtt_pages, sizeof(*imp->mtt), GFP_KERNEL);
	if (!imp->mtt)
		return -ENOMEM;
	rdma_umem_for_each_dma_block(umem, &biter, pgsz) {
		if (i == imp->mtt_pages)
			break;
		imp->mtt[i++] = rdma_block_iter_dma_address(&biter);
	}
	if (i != imp->mtt_pages) {
		imp_umem_drop_mtt(imp);
		return -EIO;
	}
	return 0;
}

int imp_umem_attach(struct imp *imp, const struct imp_attach *arg)
{
	struct ib_umem_dmabuf *umem;
	struct dma_buf *dmabuf;
	u64 length = arg->length;
	int ret;

	if (arg->flags & ~(IMP_UMEM | IMP_UMEM_PINNED) ||
	    (arg->flags & IMP_UMEM && arg->flags & IMP_UMEM_PINNED))
		return -EINVAL;
	/* The MTT has whole pages, and so does the umem. */
	if (!PAGE_ALIGNED(arg->offset) || !PAGE_ALIGNED(arg->length))
		return -EINVAL;
	if (!length) {
		dmabuf = dma_buf_get(arg->fd);
		if (IS_ERR(dmabuf))
			return PTR_ERR(dmabuf);
		length = arg->offset < dmabuf->size ?
			 dmabuf->size - arg->offset : 0;
		dma_buf_put(dmabuf);
	}

	mutex_lock(&imp_ibdev_lock);
	if (!imp_ibdev->ibdev.dma_device) {
		ret = -ENODEV;	/* no edu device bound */
		goto out_unlock;
	}
	if (arg->flags & IMP_UMEM)
		umem = ib_umem_dmabuf_get(&imp_ibdev->ibdev, arg->offset,
					  length, arg->fd,
					  IB_ACCESS_LOCAL_WRITE, &imp_umem_ops);
	else
		umem = ib_umem_dmabuf_get_pinned_revocable_and_lock(
				&imp_ibdev->ibdev, arg->offset, length,
				arg->fd, IB_ACCESS_LOCAL_WRITE);
	if (IS_ERR(umem)) {
		ret = PTR_ERR(umem);
		goto out_unlock;
	}
	imp->umem = umem;
	imp->attach = umem->attach;
	imp->dmabuf = umem->attach->dmabuf;
	imp->flags = arg->flags;

	if (arg->flags & IMP_UMEM) {
		dma_resv_lock(imp->dmabuf->resv, NULL);
		umem->private = imp;
		dma_resv_unlock(imp->dmabuf->resv);
		ret = 0;
		goto out_unlock;
	}
	/* Pinned: mapped already, and we hold the reservation lock. */
	ib_umem_dmabuf_set_revoke_locked(umem, imp_umem_revoke, imp);
	ret = imp_umem_fill_mtt(imp);
	if (!ret)
		imp->st.maps++;
	if (ret)	/* not ours after all: no callback on the way out */
		ib_umem_dmabuf_set_revoke_locked(umem, NULL, NULL);
	dma_resv_unlock(imp->dmabuf->resv);
	if (ret) {
		ib_umem_release(&umem->umem);
		imp->umem = NULL;
		imp->attach = NULL;
		imp->dmabuf = NULL;
	}
out_unlock:
	mutex_unlock(&imp_ibdev_lock);
	return ret;
}

/*
 * Map (dynamic; a pinned umem was mapped at attach) and describe the DMA
 * segments the RDMA core handed over.  Called under the reservation lock.
 */
int imp_umem_map(struct imp *imp, struct imp_map *out)
{
	struct sg_table *sgt = &imp->umem->umem.sgt_append.sgt;
	struct scatterlist *sg;
	int i, ret;

	dma_resv_assert_held(imp->dmabuf->resv);
	if (!imp->mtt) {
		if (imp->flags & IMP_UMEM_PINNED)
			return -ENODEV;	/* revoked */
		ret = ib_umem_dmabuf_map_pages(imp->umem);
		if (ret)
			return ret;
		ret = imp_umem_fill_mtt(imp);
		if (ret) {
			ib_umem_dmabuf_unmap_pages(imp->umem);
			return ret;
		}
		imp->st.maps++;
	}
	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!i)
			out->dma_addr = sg_dma_address(sg);
		out->length += sg_dma_len(sg);
		out->nents++;
	}
	out->contiguous = imp_contiguous(sgt);
	return 0;
}

/* IMP_UNMAP of a dynamic umem; a pinned one only goes away on revoke. */
int imp_umem_unmap(struct imp *imp)
{
	dma_resv_assert_held(imp->dmabuf->resv);
	if (imp->flags & IMP_UMEM_PINNED)
		return -EINVAL;
	imp_umem_unmap_locked(imp);
	return 0;
}

/*
 * The DMA address of umem offset @off, and how many of the @len bytes from
 * there are contiguous in DMA space.  Called under the reservation lock.
 */
int imp_umem_dma_addr(struct imp *imp, u64 off, u64 len, dma_addr_t *addr,
		      u64 *chunk)
{
	u64 size = (u64)imp->mtt_pages << PAGE_SHIFT;
	unsigned long pg = off >> PAGE_SHIFT;

	dma_resv_assert_held(imp->dmabuf->resv);
	if (!imp->mtt)
		return -ENXIO;
	if (off >= size || len > size - off)
		return -EINVAL;
	*addr = imp->mtt[pg] + offset_in_page(off);
	*chunk = PAGE_SIZE - offset_in_page(off);
	for (pg++; *chunk < len && imp->mtt[pg] == imp->mtt[pg - 1] + PAGE_SIZE;
	     pg++)
		*chunk += PAGE_SIZE;
	*chunk = min(*chunk, len);
	return 0;
}

void imp_umem_release(struct imp *imp)
{
	dma_resv_lock(imp->dmabuf->resv, NULL);
	imp_umem_drop_mtt(imp);
	if (imp->flags & IMP_UMEM_PINNED)
		ib_umem_dmabuf_set_revoke_locked(imp->umem, NULL, NULL);
	else
		imp->umem->private = NULL;
	dma_resv_unlock(imp->dmabuf->resv);
	/* Unmaps, unpins, detaches and drops the dma-buf reference. */
	ib_umem_release(&imp->umem->umem);
	imp->umem = NULL;
}

void imp_umem_set_dma_device(struct device *dev)
{
	mutex_lock(&imp_ibdev_lock);
	imp_ibdev->ibdev.dma_device = dev;
	mutex_unlock(&imp_ibdev_lock);
}

int imp_umem_init(void)
{
	imp_ibdev = ib_alloc_device(imp_ibdev, ibdev);
	return imp_ibdev ? 0 : -ENOMEM;
}

void imp_umem_exit(void)
{
	ib_dealloc_device(&imp_ibdev->ibdev);
}
