/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VFIO_DEVICE_FEATURE_DMA_BUF uAPI (Linux 6.19+), for test programs that
 * issue the ioctl themselves; Debian's 6.12 headers predate it.
 */
#ifndef P2PMR_TEST_VFIO_DMABUF_H
#define P2PMR_TEST_VFIO_DMABUF_H

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

#endif
