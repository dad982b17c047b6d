/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VFIO_DEVICE_FEATURE_DMA_BUF uAPI of include/uapi/linux/vfio.h (Linux
 * 6.19+), for systems whose headers predate it (Debian's are 6.12).  Used by
 * the library and by the tests that issue the ioctl themselves.
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
