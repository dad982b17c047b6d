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
#define VPP_MAX_RANGES	65536

/*
 * Where PCIe error recovery (AER, DPC) left the device.  Recovery resets the
 * device without reset_prepare()/reset_done() and without restoring its
 * config space, so it is followed through the error handlers instead.
 */
enum vpp_err_state {
	VPP_ERR_NONE,
	/* error_detected(frozen): recovery may reset the device any time */
	VPP_ERR_FROZEN,
	/*
	 * resumed after a frozen channel, or opened again after one: until
	 * the BARs decode again
	 */
	VPP_ERR_RESUMED,
	/*
	 * error_detected(perm_failure): recovery failed; revoked until the
	 * next open_device(), then as resumed
	 */
	VPP_ERR_DEAD,
};

/**
 * struct vpp_device - A device bound to vfio-pci-p2p.
 * @core: vfio-pci-core's device; its memory_lock, dev_set->lock and the
 *	PCI device lock are the core's.
 * @lock: protects @dmabufs, @blockers, @block_reason, @err, @open and each
 *	buffer's @link.
 *	Lock order: the PCI device lock and dev_set->lock, then
 *	core.memory_lock, then vpp_devices_lock (main.c; a PF's reset takes
 *	it to block its VFs), then @lock (a VF's, under a PF's), then a
 *	dma-buf's resv.  @lock is taken from reset_prepare(), where the caller
 *	may hold memory_lock, so nothing under @lock takes memory_lock.
 * @dmabufs: the device's buffers while it is open; under @lock.
 * @blockers: resets and memory-disabling config writes in progress; under
 *	@lock.  Every buffer is revoked while it is not zero.
 * @block_reason: what the last blocker taken is, for the log; under @lock.
 * @err: where PCIe error recovery left the device; under @lock.  A state,
 *	not a blocker: the PCI core may report an error more than once before
 *	it resumes.
 * @open: between open_device and close_device (vconfig allocated); under
 *	@lock.  No buffer is updated while it is false; @err may still change
 *	(the error handlers run whether the device is open or not).
 * @node: on the driver's list of devices (for a PF to find its VFs) from
 *	probe to remove; under vpp_devices_lock (main.c).
 * @pf_reset: resets of a VF's PF in progress, nested (vpp_vfs_reset()):
 *	the VF is blocked while it is not zero; under vpp_devices_lock.
 * @debugfs: the device's debugfs directory; set at probe, removed at remove
 *	(both under the PCI device lock).
 * @verdicts: the kernel's P2PDMA verdict per importing function (route.c),
 *	indexed as the kernel indexes its own; kept for the device's life;
 *	under the xarray's own lock.
 */
struct vpp_device {
	struct vfio_pci_core_device core;
	struct mutex lock;
	struct list_head dmabufs;
	unsigned int blockers;
	const char *block_reason;
	enum vpp_err_state err;
	bool open;
	struct list_head node;
	unsigned int pf_reset;
	struct dentry *debugfs;
	struct xarray verdicts;
};

/**
 * struct vpp_range - One range of an export; set at export, then constant.
 * @phys: CPU physical address of its start
 * @offset: its offset in the BAR
 * @len: its length
 */
struct vpp_range {
	phys_addr_t phys;
	u64 offset;
	u64 len;
};

/**
 * enum vpp_route - How an importer reaches the BAR.
 * @VPP_ROUTE_NONE: it cannot
 * @VPP_ROUTE_BUS: below a common upstream bridge (a PCIe switch), by bus
 *	addresses
 * @VPP_ROUTE_HOST_BRIDGE: through the host bridge, by the importer's DMA
 *	API (and IOMMU)
 */
enum vpp_route {
	VPP_ROUTE_NONE,
	VPP_ROUTE_BUS,
	VPP_ROUTE_HOST_BRIDGE,
};

/**
 * struct vpp_dmabuf - An exported dma-buf.
 * @dmabuf: the dma-buf; constant.
 * @p2p: the device, with a user count on its VFIO registration, until the
 *	device closes: close_device() drops the count and clears @p2p for
 *	every buffer it can still reach (under p2p->lock, holding a file
 *	reference, so never concurrently with release()); release() does it
 *	for the others.
 * @link: on p2p->dmabufs while the device is open; under p2p->lock.
 * @pdev: the provider; set at export, then constant, like every field up
 *	to @contiguous.
 * @name: the provider's PCI name, for debugfs.
 * @bar: the BAR exported.
 * @prefetch: the BAR is prefetchable (a write-combining CPU mapping).
 * @nr_ranges: entries in @ranges.
 * @size: the dma-buf's size, the sum of the ranges.
 * @ranges: the ranges, in the order given.
 * @contiguous: each range starts where the previous one ends.
 * @revoked: importers must not reach the BAR; written under dmabuf->resv
 *	and p2p->lock, read under either.
 * @dead: the device closed: never un-revoked; locked as @revoked.
 * @nr_mapped: live DMA mappings, plus 1 for a vmap of the BAR; under
 *	dmabuf->resv.
 * @vaddr: the CPU mapping handed to the dma-buf core; under dmabuf->resv.
 * @vaddr_bar: @vaddr maps the BAR, not @scratch; under dmabuf->resv.
 * @scratch: the page behind vmaps made while revoked; under dmabuf->resv.
 * @unmapped: woken when @nr_mapped reaches 0 or @vaddr is cleared; waited
 *	on with dmabuf->resv dropped (lockless reads: READ_ONCE).
 */
struct vpp_dmabuf {
	struct dma_buf *dmabuf;
	struct vpp_device *p2p;
	struct list_head link;
	struct pci_dev *pdev;
	char name[16];
	u32 bar;
	bool prefetch;
	u32 nr_ranges;
	size_t size;
	struct vpp_range *ranges;
	bool contiguous;
	bool revoked;
	bool dead;
	unsigned int nr_mapped;
	void __iomem *vaddr;
	bool vaddr_bar;
	struct page *scratch;
	wait_queue_head_t unmapped;
};

/**
 * struct vpp_attach - Per attachment (attach->priv); every field under
 * dmabuf->resv.
 * @route: the route chosen; valid once @routed.
 * @routed: @route has been worked out.
 * @pins: explicit and map-time pins.
 * @live: mappings not yet unmapped.
 * @maps: mappings made, for debugfs.
 * @revokes: invalidations sent, for debugfs.
 * @warned: a refused route was reported (once per attachment).
 */
struct vpp_attach {
	enum vpp_route route;
	bool routed;
	unsigned int pins;
	unsigned int live;
	unsigned int maps;
	unsigned int revokes;
	bool warned;
};

static inline struct vpp_device *to_p2p(struct vfio_device *vdev)
{
	return container_of(vdev, struct vpp_device, core.vdev);
}

/* main.c */
const char *vpp_revoke_reason(struct vpp_device *p2p);
void vpp_err_settle(struct vpp_device *p2p);

/* dmabuf.c */
int vpp_dmabuf_feature(struct vpp_device *p2p, u32 flags,
		       struct vfio_device_feature_dma_buf __user *arg,
		       size_t argsz);
void vpp_dmabufs_update(struct vpp_device *p2p);
void vpp_dmabufs_close(struct vpp_device *p2p);

/* route.c */
enum vpp_route vpp_route(struct vpp_device *p2p, struct device *dev,
			 const char **reason);
const char *vpp_route_name(enum vpp_route route);

/* debugfs.c */
void vpp_debugfs_init(void);
void vpp_debugfs_exit(void);
void vpp_debugfs_add(struct vpp_device *p2p);
void vpp_debugfs_remove(struct vpp_device *p2p);

#endif /* VFIO_PCI_P2P_H */
