/* SPDX-License-Identifier: GPL-2.0 */
/* p2pmr_importer: state shared by importer.c and umem.c. */
#ifndef P2PMR_IMPORTER_H
#define P2PMR_IMPORTER_H

#include <linux/dma-buf.h>
#include <linux/iosys-map.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/workqueue.h>

#include "importer_uapi.h"

struct ib_umem_dmabuf;

/* One open file of /dev/p2pmr_importer: one attachment. */
struct imp {
	struct mutex lock;		/* serialises ioctls */
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	u32 flags;
	bool pinned;
	/* IMP_UMEM*: the RDMA core's importer owns attach and its dmabuf. */
	struct ib_umem_dmabuf *umem;
	/* Under dmabuf->resv. */
	struct sg_table *sgt;
	dma_addr_t *mtt;		/* IMP_UMEM*: DMA address per page */
	unsigned long mtt_pages;
	struct iosys_map map;
	bool lazy_pending;
	struct imp_status st;
	struct delayed_work lazy;
	u32 probe;			/* first word of the BAR at vmap */
	struct dma_fence *fence;	/* IMP_FENCE: not yet signalled */
	spinlock_t fence_lock;
	struct delayed_work fence_work;
	struct resource *claim;		/* IMP_CLAIM */
};

bool imp_contiguous(struct sg_table *sgt);

int imp_umem_init(void);
void imp_umem_exit(void);
void imp_umem_set_dma_device(struct device *dev);
int imp_umem_attach(struct imp *imp, const struct imp_attach *arg);
int imp_umem_map(struct imp *imp, struct imp_map *out);
int imp_umem_unmap(struct imp *imp);
int imp_umem_dma_addr(struct imp *imp, u64 off, u64 len, dma_addr_t *addr,
		      u64 *chunk);
void imp_umem_release(struct imp *imp);

#endif
