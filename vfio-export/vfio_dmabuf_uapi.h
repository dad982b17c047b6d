/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The VFIO_DEVICE_FEATURE_DMA_BUF uAPI of include/uapi/linux/vfio.h (merged
 * in Linux 6.19), for headers that predate it (Linux 6.12, Debian 12's and
 * 13's userspace headers).  One copy for both sides: the module includes it
 * from compat.h, the userspace library and the tests from here.
 */
#ifndef VFIO_PCI_P2P_DMABUF_UAPI_H
#define VFIO_PCI_P2P_DMABUF_UAPI_H

#include <linux/types.h>
#include <linux/vfio.h>

#ifndef VFIO_DEVICE_FEATURE_DMA_BUF
#define VFIO_DEVICE_FEATURE_DMA_BUF 11

struct vfio_region_dma_range {
	__u64 offset;
	__u64 length;
};

struct vfio_device_feature_dma_buf {
	__u32 region_index;
	__u32 open_flags;
	__u32 flags;
	__u32 nr_ranges;
	struct vfio_region_dma_range dma_ranges[];
};
#endif

#endif /* VFIO_PCI_P2P_DMABUF_UAPI_H */
