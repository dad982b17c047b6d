/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels vfio-pci-p2p supports: Linux
 * 6.12 (no VFIO dma-buf, no two-step DMA API, no revocable attachments) and
 * Linux 7.3.  Everything version-dependent lives here.  Each check is at
 * the release that changed the API where that is known; only 6.12 and 7.3
 * are built and tested, and a kernel between them may need more.
 */
#ifndef VFIO_PCI_P2P_COMPAT_H
#define VFIO_PCI_P2P_COMPAT_H

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/pci-p2pdma.h>
#include <linux/version.h>
#include <linux/vfio_pci_core.h>

/* The upstream uAPI where the kernel's headers lack it (before 6.19). */
#include "vfio_dmabuf_uapi.h"

/* Symbol namespaces became string literals in 6.13. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#define VPP_IMPORT_NS_DMA_BUF	MODULE_IMPORT_NS(DMA_BUF)
#else
#define VPP_IMPORT_NS_DMA_BUF	MODULE_IMPORT_NS("DMA_BUF")
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 19, 0)

/* vfio_device_ops members that only newer kernels have. */
#define VPP_NEWER_VFIO_OPS

/* Claims and maps the BAR on first use; ENODEV when it cannot, as 7.3. */
static inline int vpp_claim_bar(struct vfio_pci_core_device *vdev, int bar)
{
	return vfio_pci_core_setup_barmap(vdev, bar) ? -ENODEV : 0;
}

/*
 * A user count on the registration keeps vfio_unregister_group_dev() (and so
 * unbind) waiting; vfio exports these two only from 6.19 on.
 */
static inline bool vpp_get_registration(struct vfio_device *vdev)
{
	return refcount_inc_not_zero(&vdev->refcount);
}

static inline void vpp_put_registration(struct vfio_device *vdev)
{
	if (refcount_dec_and_test(&vdev->refcount))
		complete(&vdev->comp);
}

#else /* >= 6.19 */

#define VPP_NEWER_VFIO_OPS						\
	.get_region_info_caps = vfio_pci_ioctl_get_region_info,		\
	.match_token_uuid = vfio_pci_core_match_token_uuid,		\
	.pasid_attach_ioas = vfio_iommufd_physical_pasid_attach_ioas,	\
	.pasid_detach_ioas = vfio_iommufd_physical_pasid_detach_ioas,

/*
 * vfio_pci_core_enable() claims and maps every BAR, and leaves an error
 * pointer for a BAR it could not claim (another driver holds it).
 */
static inline int vpp_claim_bar(struct vfio_pci_core_device *vdev, int bar)
{
	return IS_ERR(vfio_pci_core_get_iomap(vdev, bar)) ? -ENODEV : 0;
}

static inline bool vpp_get_registration(struct vfio_device *vdev)
{
	return vfio_device_try_get_registration(vdev);
}

static inline void vpp_put_registration(struct vfio_device *vdev)
{
	vfio_device_put_registration(vdev);
}

#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(7, 1, 0)

static inline void vpp_invalidate_mappings(struct dma_buf *dmabuf)
{
	dma_buf_move_notify(dmabuf);
}

/*
 * Before 7.1 a pinned importer cannot be revoked; a dynamic importer can when
 * it implements move_notify.
 */
static inline bool vpp_attach_revocable(struct dma_buf_attachment *attach)
{
	return attach->importer_ops && attach->importer_ops->move_notify;
}

static inline bool vpp_pin_allowed(struct dma_buf_attachment *attach)
{
	return false;
}

/*
 * Without CONFIG_DMABUF_MOVE_NOTIFY (Debian's 6.12) the core pins dynamic
 * importers around each map; explicit pins come on top of those.
 */
#define VPP_PINS_PER_MAP	(IS_ENABLED(CONFIG_DMABUF_MOVE_NOTIFY) ? 0 : 1)

#else /* >= 7.1 */

static inline void vpp_invalidate_mappings(struct dma_buf *dmabuf)
{
	dma_buf_invalidate_mappings(dmabuf);
}

static inline bool vpp_attach_revocable(struct dma_buf_attachment *attach)
{
	return dma_buf_attach_revocable(attach);
}

/* Revocable importers may pin: revocation still reaches them. */
static inline bool vpp_pin_allowed(struct dma_buf_attachment *attach)
{
	return dma_buf_attach_revocable(attach);
}

/* Dynamic importers are never pinned by the core on map. */
#define VPP_PINS_PER_MAP	0

#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 18, 0)

/* No two-step DMA API: every range gets its own mapping. */
struct vpp_iova {
	dma_addr_t addr;
};

static inline bool vpp_iova_try_alloc(struct device *dev, struct vpp_iova *iova,
				      phys_addr_t phys, size_t size)
{
	return false;
}

static inline dma_addr_t vpp_iova_addr(struct vpp_iova *iova)
{
	return iova->addr;
}

static inline int vpp_iova_link(struct device *dev, struct vpp_iova *iova,
				phys_addr_t phys, size_t offset, size_t size,
				enum dma_data_direction dir)
{
	return -EOPNOTSUPP;
}

static inline int vpp_iova_sync(struct device *dev, struct vpp_iova *iova,
				size_t size)
{
	return -EOPNOTSUPP;
}

static inline void vpp_iova_destroy(struct device *dev, struct vpp_iova *iova,
				    size_t mapped, enum dma_data_direction dir)
{
}

/* dma_map_resource() maps with IOMMU_MMIO through iommu-dma. */
static inline dma_addr_t vpp_map_mmio(struct device *dev, phys_addr_t phys,
				      size_t size, enum dma_data_direction dir)
{
	return dma_map_resource(dev, phys, size, dir, 0);
}

static inline void vpp_unmap_mmio(struct device *dev, dma_addr_t addr,
				  size_t size, enum dma_data_direction dir)
{
	dma_unmap_resource(dev, addr, size, dir, 0);
}

#else /* >= 6.18 */

struct vpp_iova {
	struct dma_iova_state state;
};

static inline bool vpp_iova_try_alloc(struct device *dev, struct vpp_iova *iova,
				      phys_addr_t phys, size_t size)
{
	return dma_iova_try_alloc(dev, &iova->state, phys, size);
}

static inline dma_addr_t vpp_iova_addr(struct vpp_iova *iova)
{
	return iova->state.addr;
}

static inline int vpp_iova_link(struct device *dev, struct vpp_iova *iova,
				phys_addr_t phys, size_t offset, size_t size,
				enum dma_data_direction dir)
{
	return dma_iova_link(dev, &iova->state, phys, offset, size, dir,
			     DMA_ATTR_MMIO);
}

static inline int vpp_iova_sync(struct device *dev, struct vpp_iova *iova,
				size_t size)
{
	return dma_iova_sync(dev, &iova->state, 0, size);
}

static inline void vpp_iova_destroy(struct device *dev, struct vpp_iova *iova,
				    size_t mapped, enum dma_data_direction dir)
{
	dma_iova_destroy(dev, &iova->state, mapped, dir, DMA_ATTR_MMIO);
}

static inline dma_addr_t vpp_map_mmio(struct device *dev, phys_addr_t phys,
				      size_t size, enum dma_data_direction dir)
{
	return dma_map_phys(dev, phys, size, dir, DMA_ATTR_MMIO);
}

static inline void vpp_unmap_mmio(struct device *dev, dma_addr_t addr,
				  size_t size, enum dma_data_direction dir)
{
	dma_unmap_phys(dev, addr, size, dir, DMA_ATTR_MMIO);
}

#endif

/*
 * The kernel's P2PDMA verdict on @provider's BARs and the importer @client
 * (topology, ACS redirection, the host bridge allow-list), where the kernel
 * has P2PDMA; Debian's 6.12 is built without it.  Only the verdict is
 * exported to modules, not the route (pci_p2pdma_map_type() is not).
 * Returns 0 if the kernel allows the pair, -EPERM if it refuses it, and
 * -EOPNOTSUPP if it cannot tell.
 */
static inline int vpp_kernel_p2p(struct pci_dev *provider,
				 struct pci_dev *client)
{
	if (!IS_ENABLED(CONFIG_PCI_P2PDMA))
		return -EOPNOTSUPP;
	return pci_p2pdma_distance(provider, &client->dev, false) < 0 ?
	       -EPERM : 0;
}

/* The typed allocator of newer kernels, for one object, where it is missing. */
#ifndef kzalloc_obj
#define kzalloc_obj(P, GFP)	kzalloc(sizeof(P), GFP)
#endif

/* 6.14 added it with the two-step DMA API; the size check is harmless before. */
#ifndef DMA_IOVA_USE_SWIOTLB
#define DMA_IOVA_USE_SWIOTLB	(1ULL << 63)
#endif

#endif /* VFIO_PCI_P2P_COMPAT_H */
