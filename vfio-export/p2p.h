/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-pci-p2p: a VFIO PCI variant driver that exports BAR ranges as dma-bufs
 * (VFIO_DEVICE_FEATURE_DMA_BUF) for peer-to-peer DMA and CPU importers.
 */
#ifndef VFIO_PCI_P2P_H
#define VFIO_PCI_P2P_H

#include <linux/dma-buf.h>
#include <linux/mutex.h>
#include <linux/vfio_pci_core.h>
#include <linux/wait.h>

#include "compat.h"

/* Bounds the kernel memory one export may pin: 64 KiB ranges at most. */
#define P2P_MAX_RANGES	65536

/*
 * Where PCIe error recovery (AER, DPC) left the device.  Recovery resets the
 * device without reset_prepare()/reset_done() and without restoring its
 * config space, so it is followed through the error handlers instead.
 */
enum p2p_err_state {
	P2P_ERR_NONE,
	/* error_detected(frozen): recovery may reset the device any time */
	P2P_ERR_FROZEN,
	/* resumed after a frozen channel: until the BARs decode again */
	P2P_ERR_RESUMED,
	/* error_detected(perm_failure): revoked until the driver unbinds */
	P2P_ERR_DEAD,
};

struct p2p_device {
	struct vfio_pci_core_device core;
	/*
	 * @lock protects @dmabufs, @blockers, @err and each buffer's list
	 * link.
	 * Lock order: dev_set->lock, then core.memory_lock, then @lock, then a
	 * dma-buf's resv.  @lock is taken from reset_prepare(), where the
	 * caller may hold memory_lock, so nothing under @lock takes
	 * memory_lock.
	 */
	struct mutex lock;
	struct list_head dmabufs;
	/* Resets and memory-disabling config writes in progress. */
	unsigned int blockers;
	/*
	 * PCIe error recovery; under @lock.  One state, not a blocker: the
	 * PCI core may report an error more than once before it resumes.
	 */
	enum p2p_err_state err;
	/*
	 * Between open_device and close_device (vconfig allocated); under
	 * @lock.  Nothing looks at the device's state while it is false.
	 */
	bool open;
	struct dentry *debugfs;
};

struct p2p_range {
	phys_addr_t phys;
	u64 offset;		/* in the BAR */
	u64 len;
};

enum p2p_route {
	P2P_ROUTE_NONE,
	P2P_ROUTE_BUS,		/* through a PCIe switch, bus addresses */
	P2P_ROUTE_HOST_BRIDGE,	/* through the host bridge and the IOMMU */
};

struct p2p_dmabuf {
	struct dma_buf *dmabuf;
	/*
	 * The device, with a user count on its VFIO registration, until the
	 * device closes: close_device() drops the count and clears @p2p for
	 * every buffer it can still reach (under p2p->lock, holding a file
	 * reference, so never concurrently with release()); release() does it
	 * for the others.
	 */
	struct p2p_device *p2p;
	/* On p2p->dmabufs while the device is open; under p2p->lock. */
	struct list_head link;
	struct pci_dev *pdev;
	char name[16];		/* provider's PCI name, for debugfs */
	u32 bar;
	bool prefetch;
	u32 nr_ranges;
	size_t size;
	struct p2p_range *ranges;
	bool contiguous;	/* each range starts where the previous ends */
	/*
	 * @revoked and @dead are written under dmabuf->resv and p2p->lock;
	 * readers hold either.  @dead: the device closed, never un-revoked.
	 */
	bool revoked;
	bool dead;
	/* Live DMA mappings and the CPU mapping; under dmabuf->resv. */
	unsigned int nr_mapped;	/* DMA mappings, and 1 for a BAR vmap */
	void __iomem *vaddr;
	bool vaddr_bar;		/* @vaddr maps the BAR, not @scratch */
	struct page *scratch;	/* backs vmaps made while revoked */
	wait_queue_head_t unmapped;
};

/* Per attachment (attach->priv); counters under dmabuf->resv. */
struct p2p_attach {
	enum p2p_route route;	/* valid once routed */
	bool routed;
	unsigned int pins;	/* explicit and map-time pins */
	unsigned int live;	/* mappings not yet unmapped */
	unsigned int maps;
	unsigned int revokes;
	bool warned;		/* a refused route was reported */
};

static inline struct p2p_device *to_p2p(struct vfio_device *vdev)
{
	return container_of(vdev, struct p2p_device, core.vdev);
}

/* main.c */
bool p2p_must_revoke(struct p2p_device *p2p);

/* dmabuf.c */
int p2p_dmabuf_feature(struct p2p_device *p2p, u32 flags,
		       struct vfio_device_feature_dma_buf __user *arg,
		       size_t argsz);
void p2p_dmabufs_update(struct p2p_device *p2p);
void p2p_dmabufs_close(struct p2p_device *p2p);

/* route.c */
enum p2p_route p2p_route(struct pci_dev *provider, struct device *dev,
			 const char **reason);
const char *p2p_route_name(enum p2p_route route);

/* debugfs.c */
void p2p_debugfs_init(void);
void p2p_debugfs_exit(void);
void p2p_debugfs_add(struct p2p_device *p2p);
void p2p_debugfs_remove(struct p2p_device *p2p);

#endif /* VFIO_PCI_P2P_H */
