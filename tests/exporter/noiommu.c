// SPDX-License-Identifier: GPL-2.0
/*
 * noiommu: a device used through vfio-noiommu must not export dma-bufs
 * (peer-to-peer without an IOMMU is not supported): EOPNOTSUPP.
 *
 *   noiommu BDF GROUP
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>

#define FEATURE_DMA_BUF 11

int main(int argc, char **argv)
{
	struct {
		struct vfio_device_feature hdr;
		__u32 region_index, open_flags, flags, nr_ranges;
		__u64 offset, length;
	} req = {
		.hdr.argsz = sizeof(req),
		.hdr.flags = VFIO_DEVICE_FEATURE_GET | FEATURE_DMA_BUF,
		.region_index = 2, .nr_ranges = 1, .length = 4096,
	};
	char path[64];
	int container, group, dev, ret;

	if (argc != 3)
		return 2;
	container = open("/dev/vfio/vfio", O_RDWR);
	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%s", argv[2]);
	group = open(path, O_RDWR);
	if (container < 0 || group < 0 ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU)) {
		printf("not ok 1 set up noiommu group %s: %s\n", path,
		       strerror(errno));
		return 1;
	}
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
	if (dev < 0) {
		printf("not ok 1 get device fd: %s\n", strerror(errno));
		return 1;
	}
	ret = ioctl(dev, VFIO_DEVICE_FEATURE, &req);
	if (ret < 0 && errno == EOPNOTSUPP) {
		printf("ok 1 dma-buf export refused on vfio-noiommu (EOPNOTSUPP)\n");
		return 0;
	}
	printf("not ok 1 dma-buf export on vfio-noiommu gave %d (%s)\n", ret,
	       ret < 0 ? strerror(errno) : "an fd");
	return 1;
}
