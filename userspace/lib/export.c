// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * BAR ranges as dma-bufs: VFIO_DEVICE_FEATURE_DMA_BUF, as vfio-pci has it
 * from Linux 6.19 and vfio-pci-p2p (vfio-export/) on older kernels.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>

#include "internal.h"
#include "../../vfio-export/vfio_dmabuf_uapi.h"

int p2pmr_export_fail(const char *bdf, const char *driver, uint32_t bar,
		      int probe, int err)
{
	if (probe) {
		if (err == ENOTTY || err == EOPNOTSUPP || err == EINVAL)
			return p2pmr_fail(-EOPNOTSUPP,
					  "the driver of %s (%s) lacks VFIO_DEVICE_FEATURE_DMA_BUF: bind it to vfio-pci-p2p (modprobe vfio-pci-p2p; see p2pmr(1)) or use Linux >= 6.19 vfio-pci",
					  bdf, driver);
		return p2pmr_fail(-err,
				  "VFIO_DEVICE_FEATURE_DMA_BUF probe on %s failed: %s",
				  bdf, strerror(err));
	}
	switch (err) {
	case ENODEV:
		return p2pmr_fail(-ENODEV,
				  "BAR%u of %s is not a present memory BAR (or the device was reset or unbound)",
				  bar, bdf);
	case EINVAL:
		return p2pmr_fail(-EINVAL,
				  "%s (%s) refused the ranges of BAR%u: each must be non-empty, page aligned and inside a memory BAR, and open flags only O_RDWR/O_RDONLY/O_CLOEXEC",
				  bdf, driver, bar);
	case EOVERFLOW:
		return p2pmr_fail(-EOVERFLOW,
				  "a range of BAR%u of %s overflows", bar, bdf);
	case E2BIG:
		return p2pmr_fail(-E2BIG,
				  "too many ranges for %s (%s): the driver accepts at most %d",
				  bdf, driver, P2PMR_MAX_RANGES);
	case EOPNOTSUPP:
		return p2pmr_fail(-EOPNOTSUPP,
				  "%s has no IOMMU translation (vfio-noiommu?): dma-bufs for peer-to-peer DMA need an IOMMU; boot with intel_iommu=on / amd_iommu=on",
				  bdf);
	case EPERM:
	case EACCES:
		return p2pmr_fail(-err,
				  "permission denied exporting BAR%u of %s: %s (run as root or with access to /dev/vfio)",
				  bar, bdf, strerror(err));
	case EMFILE:
	case ENFILE:
		return p2pmr_fail(-err, "cannot export BAR%u of %s: %s (raise ulimit -n)",
				  bar, bdf, strerror(err));
	}
	return p2pmr_fail(-err, "cannot export BAR%u of %s: %s", bar, bdf,
			  strerror(err));
}

int p2pmr_bar_ranges(struct p2pmr_dev *dev, uint32_t bar,
		     const struct p2pmr_range *ranges, size_t n,
		     struct p2pmr_region *reg)
{
	int ret = p2pmr_query_region(dev, bar, reg);

	if (ret)
		return ret;
	if (!reg->size || !(reg->flags & P2PMR_REGION_MEM))
		return p2pmr_fail(-ENODEV, "BAR%u of %s is %s", bar, dev->bdf,
				  reg->size ? "an I/O port BAR" : "absent");
	return p2pmr_check_ranges(ranges, n, reg->size);
}

int p2pmr_export(struct p2pmr_dev *dev, uint32_t bar,
		 const struct p2pmr_range *ranges, size_t n,
		 uint32_t open_flags)
{
	struct vfio_device_feature probe = {
		.argsz = sizeof(probe),
		.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			 VFIO_DEVICE_FEATURE_DMA_BUF,
	};
	struct vfio_device_feature_dma_buf *buf;
	struct vfio_device_feature *hdr;
	struct p2pmr_region reg;
	size_t argsz;
	int ret;

	p2pmr_clear_error();
	if (bar >= P2PMR_NR_BARS)
		return p2pmr_fail(-ENODEV, "BAR%u: BARs are numbered 0-5", bar);
	if (open_flags & ~(O_ACCMODE | O_CLOEXEC))
		return p2pmr_fail(-EINVAL,
				  "open flags 0x%x: only O_RDWR/O_RDONLY/O_WRONLY and O_CLOEXEC",
				  open_flags);
	if (ioctl(dev->fd, VFIO_DEVICE_FEATURE, &probe))
		return p2pmr_export_fail(dev->bdf, dev->driver, bar, 1, errno);
	ret = p2pmr_bar_ranges(dev, bar, ranges, n, &reg);
	if (ret)
		return ret;

	argsz = sizeof(*hdr) + sizeof(*buf) + n * sizeof(buf->dma_ranges[0]);
	hdr = calloc(1, argsz);
	if (!hdr)
		return p2pmr_fail(-ENOMEM, "out of memory");
	hdr->argsz = argsz;
	hdr->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF;
	buf = (void *)hdr->data;
	buf->region_index = bar;
	buf->open_flags = open_flags;
	buf->nr_ranges = n;
	/* struct p2pmr_range has the layout of struct vfio_region_dma_range. */
	memcpy(buf->dma_ranges, ranges, n * sizeof(buf->dma_ranges[0]));
	ret = ioctl(dev->fd, VFIO_DEVICE_FEATURE, hdr);
	if (ret < 0)
		ret = p2pmr_export_fail(dev->bdf, dev->driver, bar, 0, errno);
	free(hdr);
	return p2pmr_ret(ret);
}

_Static_assert(sizeof(struct p2pmr_range) ==
	       sizeof(struct vfio_region_dma_range), "range layout");
