// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO_DEVICE_FEATURE_DMA_BUF: BAR ranges exported as dma-bufs.
 *
 * DMA importers get a DMA-only scatterlist (no struct pages) mapped for their
 * own device by the route vpp_route() chooses.  CPU importers (software RDMA
 * devices) get an iomem vmap.  Revocation invalidates every importer, waits
 * until they have unmapped, and tears the CPU mapping down.
 */
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "vpp.h"

/* A scatterlist entry's length is an unsigned int: split larger spans. */
#define VPP_SG_MAX	SZ_2G

struct vpp_mapping {
	struct sg_table sgt;
	unsigned int sg_ents;	/* entries allocated (orig_nents is 0) */
	enum vpp_route route;
	bool use_iova;
	struct vpp_iova iova;
	/* Per-range DMA addresses when not using one IOVA range. */
	dma_addr_t addrs[];
};

static int vpp_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	struct vpp_dmabuf *priv = dmabuf->priv;
	struct vpp_attach *pa;

	if (!attach->peer2peer)
		return -EOPNOTSUPP;
	if (READ_ONCE(priv->revoked))
		return -ENODEV;
	if (!vpp_attach_revocable(attach))
		return -EOPNOTSUPP;

	pa = kzalloc_obj(*pa, GFP_KERNEL);
	if (!pa)
		return -ENOMEM;
	attach->priv = pa;
	dev_dbg(&priv->pdev->dev, "dma-buf attach by %s\n", dev_name(attach->dev));
	return 0;
}

static void vpp_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	kfree(attach->priv);
}

/*
 * Pinned importers only where the kernel can still revoke them (7.1+).  On
 * older kernels the core also pins around every map (VPP_PINS_PER_MAP), so
 * pins are counted and an explicit one is refused at map time.
 */
static int vpp_pin(struct dma_buf_attachment *attach)
{
	struct vpp_attach *pa = attach->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (!VPP_PINS_PER_MAP && !vpp_pin_allowed(attach))
		return -EOPNOTSUPP;
	pa->pins++;
	return 0;
}

static void vpp_unpin(struct dma_buf_attachment *attach)
{
	struct vpp_attach *pa = attach->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	pa->pins--;
}

static bool vpp_pinned_explicitly(struct vpp_attach *pa)
{
	/* The map being made holds VPP_PINS_PER_MAP pins already. */
	return pa->pins > VPP_PINS_PER_MAP * (pa->live + 1);
}

static unsigned int vpp_sg_count(u64 len)
{
	return DIV_ROUND_UP_ULL(len, VPP_SG_MAX);
}

static struct scatterlist *vpp_sg_fill(struct scatterlist *sg, dma_addr_t addr,
				       u64 len)
{
	while (len) {
		unsigned int chunk = min_t(u64, len, VPP_SG_MAX);

		sg_set_page(sg, NULL, 0, 0);
		sg_dma_address(sg) = addr;
		sg_dma_len(sg) = chunk;
		addr += chunk;
		len -= chunk;
		sg = sg_next(sg);
	}
	return sg;
}

static void vpp_put_mapping(struct vpp_dmabuf *priv)
{
	if (!--priv->nr_mapped)
		wake_up_all(&priv->unmapped);
}

/*
 * A buffer whose ranges follow each other in the BAR is ioremapped as one
 * span: that maps it with huge pages where size and alignment allow, so a
 * large buffer costs a few page-table entries instead of one per 4 KiB page,
 * and needs no page array.  Other buffers need vmap_pfn().
 */
static bool vpp_vmap_ioremaps(struct vpp_dmabuf *priv)
{
	return priv->contiguous;
}

/*
 * Overlapping ranges can describe many times the BAR: a CPU mapping is
 * bounded by the BAR's size, as are the page arrays built for it.
 */
static bool vpp_vmap_too_big(struct vpp_dmabuf *priv)
{
	return priv->size > pci_resource_len(priv->pdev, priv->bar);
}

static void vpp_vunmap_locked(struct vpp_dmabuf *priv)
{
	if (!priv->vaddr)
		return;
	if (priv->vaddr_bar && vpp_vmap_ioremaps(priv))
		iounmap(priv->vaddr);
	else
		vunmap((void __force *)priv->vaddr);
	priv->vaddr = NULL;
	if (priv->vaddr_bar)
		vpp_put_mapping(priv);
	else
		wake_up_all(&priv->unmapped);
	priv->vaddr_bar = false;
}

/* Can @dev reach every range of the buffer at its bus address? */
static bool vpp_bus_reachable(struct vpp_dmabuf *priv, struct device *dev)
{
	pci_bus_addr_t bus = pci_bus_address(priv->pdev, priv->bar);
	u64 limit = min_not_zero(dma_get_mask(dev), dev->bus_dma_limit);
	u32 i;

	for (i = 0; i < priv->nr_ranges; i++)
		if (bus + priv->ranges[i].offset + priv->ranges[i].len - 1 >
		    limit)
			return false;
	return true;
}

static int vpp_map_bus(struct vpp_dmabuf *priv, struct vpp_mapping *m)
{
	pci_bus_addr_t bus = pci_bus_address(priv->pdev, priv->bar);
	struct scatterlist *sg = m->sgt.sgl;
	u32 i;

	for (i = 0; i < priv->nr_ranges; i++)
		sg = vpp_sg_fill(sg, bus + priv->ranges[i].offset,
				 priv->ranges[i].len);
	return 0;
}

/* One contiguous IOVA range for all BAR ranges, and one IOTLB sync. */
static int vpp_map_iova(struct vpp_dmabuf *priv, struct device *dev,
			struct vpp_mapping *m, enum dma_data_direction dir)
{
	size_t mapped = 0;
	u32 i;
	int ret;

	for (i = 0; i < priv->nr_ranges; i++) {
		ret = vpp_iova_link(dev, &m->iova, priv->ranges[i].phys, mapped,
				    priv->ranges[i].len, dir);
		if (ret)
			goto err_destroy;
		mapped += priv->ranges[i].len;
	}
	ret = vpp_iova_sync(dev, &m->iova, mapped);
	if (ret)
		goto err_destroy;
	vpp_sg_fill(m->sgt.sgl, vpp_iova_addr(&m->iova), mapped);
	return 0;

err_destroy:
	vpp_iova_destroy(dev, &m->iova, mapped, dir);
	return ret;
}

static int vpp_map_ranges(struct vpp_dmabuf *priv, struct device *dev,
			  struct vpp_mapping *m, enum dma_data_direction dir)
{
	struct scatterlist *sg = m->sgt.sgl;
	u32 i;

	for (i = 0; i < priv->nr_ranges; i++) {
		m->addrs[i] = vpp_map_mmio(dev, priv->ranges[i].phys,
					   priv->ranges[i].len, dir);
		if (dma_mapping_error(dev, m->addrs[i]))
			goto err_unmap;
		sg = vpp_sg_fill(sg, m->addrs[i], priv->ranges[i].len);
	}
	return 0;

err_unmap:
	while (i--)
		vpp_unmap_mmio(dev, m->addrs[i], priv->ranges[i].len, dir);
	return -ENOMEM;	/* as the DMA API and upstream say */
}

static void vpp_unmap_host(struct vpp_dmabuf *priv, struct device *dev,
			   struct vpp_mapping *m, enum dma_data_direction dir)
{
	u32 i;

	if (m->use_iova) {
		vpp_iova_destroy(dev, &m->iova, priv->size, dir);
		return;
	}
	for (i = 0; i < priv->nr_ranges; i++)
		vpp_unmap_mmio(dev, m->addrs[i], priv->ranges[i].len, dir);
}

/*
 * The route of an attachment, chosen at its first map and kept until the
 * buffer is next revoked or restored, when it is chosen anew.  It depends on
 * the topology and on the importer's IOMMU domain and DMA mask, which only
 * change if the importer's driver is rebound while the attachment lives.
 * A refusal is reported once per attachment.
 */
static enum vpp_route vpp_attach_route(struct vpp_dmabuf *priv,
				       struct dma_buf_attachment *attach)
{
	struct vpp_attach *pa = attach->priv;
	const char *reason;

	if (pa->routed)
		return pa->route;
	/* Not revoked, under the resv: close has not cleared ->p2p. */
	pa->route = vpp_route(priv->p2p, attach->dev, &reason);
	if (pa->route == VPP_ROUTE_BUS &&
	    !vpp_bus_reachable(priv, attach->dev)) {
		/* Nothing translates the address: it must fit as it is. */
		pa->route = VPP_ROUTE_NONE;
		reason = "the BAR's bus address is beyond the importer's DMA mask";
	}
	pa->routed = true;
	if (pa->route == VPP_ROUTE_NONE) {
		/* Any user can drive this: once per attachment, ratelimited. */
		if (!pa->warned)
			dev_warn_ratelimited(&priv->pdev->dev,
					     "cannot map BAR%u for %s: %s\n",
					     priv->bar, dev_name(attach->dev),
					     reason);
		pa->warned = true;
	} else {
		dev_dbg(&priv->pdev->dev, "BAR%u for %s: %s route, %s\n",
			priv->bar, dev_name(attach->dev),
			vpp_route_name(pa->route), reason);
	}
	return pa->route;
}

static struct sg_table *vpp_map(struct dma_buf_attachment *attach,
				enum dma_data_direction dir)
{
	struct vpp_dmabuf *priv = attach->dmabuf->priv;
	struct vpp_attach *pa = attach->priv;
	struct vpp_mapping *m;
	unsigned int nents = 0;
	u32 i;
	int ret;

	dma_resv_assert_held(priv->dmabuf->resv);
	if (priv->revoked)
		return ERR_PTR(-ENODEV);
	if (vpp_pinned_explicitly(pa) && !vpp_pin_allowed(attach)) {
		dev_dbg(&priv->pdev->dev,
			"refusing pinned importer %s: this kernel cannot revoke it\n",
			dev_name(attach->dev));
		return ERR_PTR(-EOPNOTSUPP);
	}

	if (vpp_attach_route(priv, attach) == VPP_ROUTE_NONE)
		return ERR_PTR(-EINVAL);

	m = kvzalloc(struct_size(m, addrs, priv->nr_ranges),
		     GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->route = pa->route;
	if (m->route == VPP_ROUTE_HOST_BRIDGE)
		m->use_iova = vpp_iova_try_alloc(attach->dev, &m->iova,
						 priv->ranges[0].phys,
						 priv->size);
	if (m->use_iova) {
		nents = vpp_sg_count(priv->size);
	} else {
		for (i = 0; i < priv->nr_ranges; i++)
			nents += vpp_sg_count(priv->ranges[i].len);
	}
	ret = sg_alloc_table(&m->sgt, nents, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (ret)
		goto err_free_iova;
	m->sg_ents = nents;

	if (m->route == VPP_ROUTE_BUS)
		ret = vpp_map_bus(priv, m);
	else if (m->use_iova)
		ret = vpp_map_iova(priv, attach->dev, m, dir);
	else
		ret = vpp_map_ranges(priv, attach->dev, m, dir);
	if (ret)
		goto err_free_sgt;
	/*
	 * DMA addresses only, nothing for CPU walkers: orig_nents 0, as
	 * upstream's tables (dma_buf_phys_vec_to_sgt()).
	 */
	m->sgt.orig_nents = 0;

	priv->nr_mapped++;
	pa->live++;
	pa->maps++;
	return &m->sgt;

err_free_sgt:
	sg_free_table(&m->sgt);
	kvfree(m);
	return ERR_PTR(ret);
err_free_iova:
	if (m->use_iova)
		vpp_iova_destroy(attach->dev, &m->iova, 0, dir);
	kvfree(m);
	return ERR_PTR(ret);
}

static void vpp_unmap(struct dma_buf_attachment *attach, struct sg_table *sgt,
		      enum dma_data_direction dir)
{
	struct vpp_mapping *m = container_of(sgt, struct vpp_mapping, sgt);
	struct vpp_dmabuf *priv = attach->dmabuf->priv;
	struct vpp_attach *pa = attach->priv;

	dma_resv_assert_held(priv->dmabuf->resv);
	if (m->route == VPP_ROUTE_HOST_BRIDGE)
		vpp_unmap_host(priv, attach->dev, m, dir);
	/* sg_free_table() frees orig_nents entries: give the count back. */
	m->sgt.orig_nents = m->sg_ents;
	sg_free_table(&m->sgt);
	kvfree(m);
	pa->live--;
	vpp_put_mapping(priv);
}

/*
 * A mapping of a revoked buffer: every page is one zeroed scratch page, so a
 * late importer never reaches the BAR.  dma_buf_vmap() warns when an exporter
 * fails, so revocation is reported by begin_cpu_access() instead.
 */
static void *vpp_vmap_scratch(struct vpp_dmabuf *priv, unsigned long n)
{
	struct page **pages;
	unsigned long i;
	void *va;

	if (!priv->scratch) {
		priv->scratch = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!priv->scratch)
			return NULL;
	}
	pages = kvmalloc_array(n, sizeof(*pages),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!pages)
		return NULL;
	for (i = 0; i < n; i++)
		pages[i] = priv->scratch;
	va = vmap(pages, n, VM_MAP, PAGE_KERNEL);
	kvfree(pages);
	return va;
}

static void *vpp_vmap_bar(struct vpp_dmabuf *priv, unsigned long n)
{
	unsigned long *pfns, k = 0;
	pgprot_t prot;
	void *va;
	u32 i;

	if (vpp_vmap_ioremaps(priv)) {
		phys_addr_t phys = priv->ranges[0].phys;
		size_t len = priv->size;

		return (void __force *)(priv->prefetch ? ioremap_wc(phys, len) :
							 ioremap(phys, len));
	}
	pfns = kvmalloc_array(n, sizeof(*pfns), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!pfns)
		return NULL;
	for (i = 0; i < priv->nr_ranges; i++) {
		unsigned long pfn = PHYS_PFN(priv->ranges[i].phys);
		unsigned long j;

		for (j = 0; j < priv->ranges[i].len >> PAGE_SHIFT; j++)
			pfns[k++] = pfn + j;
	}
	prot = priv->prefetch ? pgprot_writecombine(PAGE_KERNEL) :
				pgprot_noncached(PAGE_KERNEL);
	va = vmap_pfn(pfns, n, prot);
	kvfree(pfns);
	return va;
}

static int vpp_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct vpp_dmabuf *priv = dmabuf->priv;
	unsigned long n = priv->size >> PAGE_SHIFT;
	void *va;

	dma_resv_assert_held(dmabuf->resv);
	if (vpp_vmap_too_big(priv))
		return -E2BIG;	/* begin_cpu_access() said so already */
	if (priv->revoked)
		va = vpp_vmap_scratch(priv, n);
	else
		va = vpp_vmap_bar(priv, n);
	if (!va)
		return -ENOMEM;

	priv->vaddr = (void __iomem __force *)va;
	priv->vaddr_bar = !priv->revoked;
	if (priv->vaddr_bar)
		priv->nr_mapped++;
	iosys_map_set_vaddr_iomem(map, priv->vaddr);
	return 0;
}

/*
 * CPU importers ask here before vmap: -ENODEV while revoked, -E2BIG for a
 * buffer larger than its BAR (overlapping ranges), which cannot be vmapped.
 */
static int vpp_begin_cpu_access(struct dma_buf *dmabuf,
				enum dma_data_direction dir)
{
	struct vpp_dmabuf *priv = dmabuf->priv;

	if (vpp_vmap_too_big(priv))
		return -E2BIG;
	return READ_ONCE(priv->revoked) ? -ENODEV : 0;
}

static void vpp_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct vpp_dmabuf *priv = dmabuf->priv;

	dma_resv_assert_held(dmabuf->resv);
	vpp_vunmap_locked(priv);
}

static void vpp_release(struct dma_buf *dmabuf)
{
	struct vpp_dmabuf *priv = dmabuf->priv;
	struct vpp_device *p2p = priv->p2p;

	/* NULL once close_device() has unlinked it and dropped the device. */
	if (p2p) {
		mutex_lock(&p2p->lock);
		list_del_init(&priv->link);
		mutex_unlock(&p2p->lock);
		vpp_put_registration(&p2p->core.vdev);
	}
	if (priv->scratch)
		__free_page(priv->scratch);
	kvfree(priv->ranges);
	kfree(priv);
}

static const struct dma_buf_ops vpp_dmabuf_ops = {
	.attach		= vpp_attach,
	.detach		= vpp_detach,
	.pin		= vpp_pin,
	.unpin		= vpp_unpin,
	.map_dma_buf	= vpp_map,
	.unmap_dma_buf	= vpp_unmap,
	.release	= vpp_release,
	.begin_cpu_access = vpp_begin_cpu_access,
	.vmap		= vpp_vmap,
	.vunmap		= vpp_vunmap,
};

/*
 * Wait for importers, warning every 10 s.  They give their mappings back
 * from the invalidate callback; a mapping belongs to the importer (its
 * device's DMA, or a CPU mapping that the dma-buf core caches and hands to
 * the next dma_buf_vmap()), so the exporter never takes one away itself.
 */
#define vpp_wait_for(priv, cond, what)					\
	do {								\
		while (!wait_event_timeout((priv)->unmapped, (cond), 10 * HZ)) \
			dev_warn(&(priv)->pdev->dev,			\
				 "waiting for importers of BAR%u to %s\n", \
				 (priv)->bar, (what));			\
	} while (0)

/*
 * Revoke or restore one buffer.  A revoke returns with the importers told
 * and their fenced work done; vpp_dmabuf_wait_unmapped() then waits for
 * their mappings to go.  The two are apart so that a device's buffers are
 * all told first, and importers that unmap later (after an RCU grace
 * period, as the CPU-access importer does) let go of all of them at once.
 */
static void vpp_dmabuf_set_revoked(struct vpp_dmabuf *priv, bool revoked)
{
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf = priv->dmabuf;

	lockdep_assert_held(&priv->p2p->lock);

	dma_resv_lock(dmabuf->resv, NULL);
	if (priv->revoked == revoked) {
		dma_resv_unlock(dmabuf->resv);
		return;
	}
	if (!revoked && priv->vaddr) {
		/*
		 * A vmap of the scratch page, made while revoked: the core
		 * would hand it out again after the restore.  Ask importers
		 * to give it back first.
		 */
		vpp_invalidate_mappings(dmabuf);
		dma_resv_unlock(dmabuf->resv);
		vpp_wait_for(priv, !READ_ONCE(priv->vaddr), "vunmap a revoked buffer");
		dma_resv_lock(dmabuf->resv, NULL);
	}
	WRITE_ONCE(priv->revoked, revoked);
	/* Importers unmap (and vunmap) from their invalidate callback. */
	vpp_invalidate_mappings(dmabuf);
	list_for_each_entry(attach, &dmabuf->attachments, node) {
		struct vpp_attach *pa = attach->priv;

		/* Chosen again at the next map: the importer may have changed. */
		pa->routed = false;
		if (revoked)
			pa->revokes++;
	}
	/* Work the importers still have in flight on the BAR. */
	if (revoked)
		dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_BOOKKEEP,
				      false, MAX_SCHEDULE_TIMEOUT);
	dma_resv_unlock(dmabuf->resv);
}

/*
 * After a revoke: every importer has unmapped, and no CPU mapping of the
 * BAR is left.  (A vmap the dma-buf core still caches is handed to a late
 * dma_buf_vmap() without asking us; vpp_attach() refuses new importers of
 * a revoked buffer, so only an importer attached before can do that.)
 */
static void vpp_dmabuf_wait_unmapped(struct vpp_dmabuf *priv)
{
	lockdep_assert_held(&priv->p2p->lock);
	vpp_wait_for(priv, !READ_ONCE(priv->nr_mapped), "unmap");
}

/**
 * vpp_dmabufs_update() - Bring every buffer of a device to the state the
 * device is in: revoked while blocked, in low power or with memory decode
 * off; usable otherwise.
 * @p2p: the device
 *
 * Context: process; p2p->lock held.  May wait for importers to unmap.
 */
void vpp_dmabufs_update(struct vpp_device *p2p)
{
	struct vpp_dmabuf *priv;
	const char *reason;
	bool revoke;

	lockdep_assert_held(&p2p->lock);
	/* The device's state (vconfig) exists only while it is open. */
	if (!p2p->open)
		return;
	vpp_err_settle(p2p);
	if (list_empty(&p2p->dmabufs))
		return;
	reason = vpp_revoke_reason(p2p);
	revoke = !!reason;
	list_for_each_entry(priv, &p2p->dmabufs, link) {
		/* Written under p2p->lock too: no resv to take when unchanged. */
		if (priv->revoked == revoke)
			continue;
		if (!get_file_active(&priv->dmabuf->file))
			continue;	/* being released */
		dev_dbg(&p2p->core.pdev->dev, "%s dma-buf of BAR%u%s%s\n",
			revoke ? "revoking" : "restoring", priv->bar,
			revoke ? ": " : "", revoke ? reason : "");
		vpp_dmabuf_set_revoked(priv, revoke);
		fput(priv->dmabuf->file);
	}
	/*
	 * A buffer released since stays on the list until we drop p2p->lock
	 * (vpp_release() takes it), so its counters can still be read.
	 */
	if (revoke)
		list_for_each_entry(priv, &p2p->dmabufs, link)
			vpp_dmabuf_wait_unmapped(priv);
}

/**
 * vpp_dmabufs_close() - Revoke every buffer of a device for good.
 * @p2p: the device, being closed
 *
 * Unlinks every buffer.  Those still open stay valid to hold and close but
 * never map again, and no longer hold the device; those already being
 * released drop the device from their release().
 *
 * Context: process; takes p2p->lock.  May wait for importers to unmap.
 */
void vpp_dmabufs_close(struct vpp_device *p2p)
{
	struct vpp_dmabuf *priv, *tmp;

	mutex_lock(&p2p->lock);
	p2p->open = false;
	list_for_each_entry_safe(priv, tmp, &p2p->dmabufs, link) {
		list_del_init(&priv->link);
		if (!get_file_active(&priv->dmabuf->file))
			continue;	/* release() is on its way */
		vpp_dmabuf_set_revoked(priv, true);
		vpp_dmabuf_wait_unmapped(priv);
		dma_resv_lock(priv->dmabuf->resv, NULL);
		priv->dead = true;
		dma_resv_unlock(priv->dmabuf->resv);
		priv->p2p = NULL;
		vpp_put_registration(&p2p->core.vdev);
		fput(priv->dmabuf->file);
	}
	mutex_unlock(&p2p->lock);
}

/*
 * The ranges' checks, in upstream's order (vfio_pci_dmabuf.c), so that an
 * input with several faults gets upstream's errno: first every range's
 * length and alignment and the total size (EINVAL), then each range
 * against the BAR from its physical start, where start + offset + length
 * overflowing is EOVERFLOW and an end past the BAR EINVAL.
 */
static int vpp_check_ranges(struct vfio_region_dma_range *ranges, u32 nr,
			    phys_addr_t start, u64 bar_len, size_t *total)
{
	size_t size = 0;
	u64 addr, end;
	u32 i;

	for (i = 0; i < nr; i++) {
		if (!ranges[i].length || !PAGE_ALIGNED(ranges[i].offset) ||
		    !PAGE_ALIGNED(ranges[i].length))
			return -EINVAL;
		if (check_add_overflow(size, (size_t)ranges[i].length, &size))
			return -EINVAL;
	}
	/* dma_iova_try_alloc() WARNs on a size with this bit set. */
	if ((u64)size & DMA_IOVA_USE_SWIOTLB)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		if (check_add_overflow((u64)start, ranges[i].offset, &addr) ||
		    check_add_overflow(addr, ranges[i].length, &end))
			return -EOVERFLOW;
		if (end > (u64)start + bar_len)
			return -EINVAL;
	}
	*total = size;
	return 0;
}

/* A BAR that can be exported: a present memory BAR. */
static int vpp_check_bar(struct pci_dev *pdev, u32 index)
{
	if (index > VFIO_PCI_BAR5_REGION_INDEX)
		return -ENODEV;
	if (!pci_resource_len(pdev, index))
		return -ENODEV;
	if (!(pci_resource_flags(pdev, index) & IORESOURCE_MEM))
		return -EINVAL;
	return 0;
}

/**
 * vpp_dmabuf_feature() - VFIO_DEVICE_FEATURE_DMA_BUF.
 * @p2p: the device
 * @flags: the feature flags from userspace
 * @arg: the feature payload
 * @argsz: its size
 *
 * Return: the new dma-buf fd; 0 for a successful PROBE; or a negative errno:
 * EINVAL for non-zero flags, no ranges, an I/O-port BAR, bad open_flags or a
 * range that is empty, unaligned or past the BAR's end (all ranges' length
 * and alignment are checked before any range's place in the BAR, as
 * upstream); EOVERFLOW for a range whose end (BAR start + offset + length)
 * overflows; E2BIG for more than VPP_MAX_RANGES ranges; ENODEV for
 * a region that is not a present BAR; EOPNOTSUPP for a device without an
 * IOMMU (vfio-noiommu).
 */
int vpp_dmabuf_feature(struct vpp_device *p2p, u32 flags,
		       struct vfio_device_feature_dma_buf __user *arg,
		       size_t argsz)
{
	struct pci_dev *pdev = p2p->core.pdev;
	struct vfio_device_feature_dma_buf req;
	struct vfio_region_dma_range *ranges;
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct vpp_dmabuf *priv;
	const char *reason;
	size_t size;
	u32 i;
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET,
				 sizeof(req));
	if (ret != 1)
		return ret;
	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (!req.nr_ranges || req.flags)
		return -EINVAL;
	if (req.nr_ranges > VPP_MAX_RANGES)
		return -E2BIG;
	if (req.open_flags & ~(O_ACCMODE | O_CLOEXEC))
		return -EINVAL;
	ret = vpp_check_bar(pdev, req.region_index);
	if (ret)
		return ret;
	if (!device_iommu_mapped(&pdev->dev)) {
		pci_dbg(pdev, "dma-buf refused: no IOMMU (vfio-noiommu)\n");
		return -EOPNOTSUPP;
	}

	ranges = memdup_array_user(&arg->dma_ranges, req.nr_ranges,
				   sizeof(*ranges));
	if (IS_ERR(ranges))
		return PTR_ERR(ranges);
	ret = vpp_check_ranges(ranges, req.nr_ranges,
			       pci_resource_start(pdev, req.region_index),
			       pci_resource_len(pdev, req.region_index), &size);
	if (ret)
		goto err_free_ranges;
	ret = vpp_claim_bar(&p2p->core, req.region_index);
	if (ret)
		goto err_free_ranges;

	priv = kzalloc_obj(*priv, GFP_KERNEL_ACCOUNT);
	if (!priv) {
		ret = -ENOMEM;
		goto err_free_ranges;
	}
	priv->ranges = kvcalloc(req.nr_ranges, sizeof(*priv->ranges),
				GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!priv->ranges) {
		ret = -ENOMEM;
		goto err_free_priv;
	}
	for (i = 0; i < req.nr_ranges; i++) {
		priv->ranges[i].offset = ranges[i].offset;
		priv->ranges[i].len = ranges[i].length;
		priv->ranges[i].phys = pci_resource_start(pdev, req.region_index) +
				       ranges[i].offset;
	}
	priv->contiguous = true;
	for (i = 1; i < req.nr_ranges; i++)
		if (priv->ranges[i].phys !=
		    priv->ranges[i - 1].phys + priv->ranges[i - 1].len)
			priv->contiguous = false;
	kfree(ranges);
	ranges = NULL;
	priv->p2p = p2p;
	priv->pdev = pdev;
	strscpy(priv->name, pci_name(pdev), sizeof(priv->name));
	priv->bar = req.region_index;
	priv->prefetch = pci_resource_flags(pdev, req.region_index) &
			 IORESOURCE_PREFETCH;
	priv->nr_ranges = req.nr_ranges;
	priv->size = size;
	INIT_LIST_HEAD(&priv->link);
	init_waitqueue_head(&priv->unmapped);

	/* Held until close_device(), or release() if that comes first. */
	if (!vpp_get_registration(&p2p->core.vdev)) {
		ret = -ENODEV;	/* being unregistered */
		goto err_free_priv_ranges;
	}
	exp_info.ops = &vpp_dmabuf_ops;
	exp_info.size = size;
	exp_info.flags = req.open_flags;
	exp_info.priv = priv;
	priv->dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(priv->dmabuf)) {
		ret = PTR_ERR(priv->dmabuf);
		goto err_put_registration;
	}
	/* From here dma_buf_put() frees priv and drops the registration. */

	down_read(&p2p->core.memory_lock);
	mutex_lock(&p2p->lock);
	dma_resv_lock(priv->dmabuf->resv, NULL);
	reason = vpp_revoke_reason(p2p);
	priv->revoked = !!reason;
	dma_resv_unlock(priv->dmabuf->resv);
	list_add_tail(&priv->link, &p2p->dmabufs);
	mutex_unlock(&p2p->lock);
	up_read(&p2p->core.memory_lock);

	pci_dbg(pdev, "exported %u range(s), %zu bytes of BAR%u%s%s%s\n",
		priv->nr_ranges, size, priv->bar, reason ? " (revoked: " : "",
		reason ?: "", reason ? ")" : "");

	ret = dma_buf_fd(priv->dmabuf, req.open_flags);
	if (ret < 0)
		dma_buf_put(priv->dmabuf);
	return ret;

err_put_registration:
	vpp_put_registration(&p2p->core.vdev);
err_free_priv_ranges:
	kvfree(priv->ranges);
err_free_priv:
	kfree(priv);
err_free_ranges:
	kfree(ranges);
	return ret;
}
