// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Opening VFIO devices through the group/type1 container interface (the
 * Debian kernels have IOMMUFD disabled).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "internal.h"

int p2pmr_parse_bdf(const char *in, char *out, size_t outlen)
{
	unsigned int dom = 0, bus, dev, fn;
	int n = 0;
	size_t i;

	if (!in)
		return p2pmr_fail(-EINVAL, "no PCI address given");
	/*
	 * Only hex digits, each field starting with one: sscanf() alone would
	 * accept blanks, signs and "0x" (and "-1:..." as domain ffffffff).
	 */
	for (i = 0; in[i]; i++) {
		if (isxdigit((unsigned char)in[i]))
			continue;
		if ((in[i] != ':' && in[i] != '.') || !i ||
		    !isxdigit((unsigned char)in[i + 1]))
			goto bad;
	}
	if (!i)
		goto bad;
	if (sscanf(in, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n) != 4 ||
	    in[n]) {
		n = 0;
		dom = 0;
		if (sscanf(in, "%2x:%2x.%1x%n", &bus, &dev, &fn, &n) != 3 ||
		    in[n])
			goto bad;
	}
	if (dev > 0x1f || fn > 7)
		goto bad;
	if (outlen < 13)
		return p2pmr_fail(-ENOSPC, "buffer too small for a PCI address");
	snprintf(out, outlen, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
bad:
	return p2pmr_fail(-EINVAL,
			  "'%s' is not a PCI address (expected DDDD:BB:DD.F)",
			  in);
}

const char *p2pmr_sysfs_root(void)
{
	const char *root = getenv("P2PMR_SYSFS");

	return root && *root ? root : "/sys";
}

int p2pmr_is_vfio_driver(const char *drv)
{
	return !strcmp(drv, "vfio-pci") || !strncmp(drv, "vfio-pci-", 9) ||
	       !strcmp(drv, "vfio_pci_p2p");
}

int p2pmr_sysfs_driver(const char *sysfs, const char *bdf, char *drv,
		       size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sysfs, bdf);
	if (access(path, F_OK))
		return p2pmr_fail(-ENODEV, "no PCI device %s", bdf);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sysfs,
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(drv, len, "%s", "");
		return 0;
	}
	link[n] = 0;
	snprintf(drv, len, "%s", basename(link));
	return 0;
}

static int iommu_group(struct p2pmr_dev *dev, int *group, int *noiommu)
{
	const char *sysfs = p2pmr_sysfs_root();
	const char *bdf = dev->bdf;
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	int ret;

	ret = p2pmr_sysfs_driver(sysfs, bdf, dev->driver, sizeof(dev->driver));
	if (ret)
		return ret;
	if (!p2pmr_is_vfio_driver(dev->driver))
		return p2pmr_fail(-ENODEV,
				  "%s is bound to %s, not to a VFIO driver: echo vfio-pci-p2p > /sys/bus/pci/devices/%s/driver_override, unbind it and write it to /sys/bus/pci/drivers_probe",
				  bdf, *dev->driver ? dev->driver : "(none)",
				  bdf);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group",
		 sysfs, bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return p2pmr_fail(-ENOTSUP,
				  "%s has no IOMMU group: enable the IOMMU (intel_iommu=on / amd_iommu=on)",
				  bdf);
	link[n] = 0;
	*group = atoi(basename(link));
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/name", sysfs,
		 *group);
	*noiommu = 0;
	{
		char name[64] = "";
		FILE *f = fopen(path, "r");

		if (f) {
			if (fgets(name, sizeof(name), f) &&
			    !strncmp(name, "vfio-noiommu", 12))
				*noiommu = 1;
			fclose(f);
		}
	}
	return 0;
}

int p2pmr_dev_open(const char *bdf_in, struct p2pmr_dev **devp)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct p2pmr_dev *dev;
	char path[64];
	int gnum, noiommu, ret;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return p2pmr_fail(-ENOMEM, "out of memory");
	ret = p2pmr_parse_bdf(bdf_in, dev->bdf, sizeof(dev->bdf));
	if (ret)
		goto err_free;
	ret = iommu_group(dev, &gnum, &noiommu);
	if (ret)
		goto err_free;
	if (noiommu) {
		ret = p2pmr_fail(-ENOTSUP,
				 "%s is in a vfio-noiommu group: peer-to-peer DMA needs an IOMMU",
				 dev->bdf);
		goto err_free;
	}

	dev->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (dev->container < 0) {
		ret = p2pmr_fail(-errno, "cannot open /dev/vfio/vfio: %s (is vfio loaded, are you root?)",
				 strerror(errno));
		goto err_free;
	}
	if (ioctl(dev->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    !ioctl(dev->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)) {
		ret = p2pmr_fail(-ENOTSUP, "VFIO type1v2 IOMMU not supported by this kernel");
		goto err_container;
	}

	snprintf(path, sizeof(path), "/dev/vfio/%d", gnum);
	dev->group = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group < 0) {
		ret = -errno;
		p2pmr_fail(ret, "cannot open %s for %s: %s%s", path, dev->bdf,
			   strerror(errno),
			   errno == EBUSY ? " (the group is open elsewhere)" : "");
		goto err_container;
	}
	if (ioctl(dev->group, VFIO_GROUP_GET_STATUS, &status)) {
		ret = p2pmr_fail(-errno, "VFIO_GROUP_GET_STATUS: %s",
				 strerror(errno));
		goto err_group;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ret = p2pmr_fail(-EBUSY,
				 "IOMMU group %d of %s is not viable: bind every device in /sys/kernel/iommu_groups/%d/devices to vfio-pci or unbind it",
				 gnum, dev->bdf, gnum);
		goto err_group;
	}
	if (ioctl(dev->group, VFIO_GROUP_SET_CONTAINER, &dev->container)) {
		ret = p2pmr_fail(-errno, "VFIO_GROUP_SET_CONTAINER: %s",
				 strerror(errno));
		goto err_group;
	}
	if (ioctl(dev->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		ret = p2pmr_fail(-errno,
				 "VFIO_SET_IOMMU: %s (VFIO needs IOMMU interrupt remapping)",
				 strerror(errno));
		goto err_group;
	}
	dev->fd = ioctl(dev->group, VFIO_GROUP_GET_DEVICE_FD, dev->bdf);
	if (dev->fd < 0) {
		ret = p2pmr_fail(-errno, "VFIO_GROUP_GET_DEVICE_FD %s: %s",
				 dev->bdf, strerror(errno));
		goto err_group;
	}
	*devp = dev;
	return 0;

err_group:
	close(dev->group);
err_container:
	close(dev->container);
err_free:
	free(dev);
	return ret;
}

void p2pmr_dev_close(struct p2pmr_dev *dev)
{
	if (!dev)
		return;
	close(dev->fd);
	if (dev->group >= 0)
		close(dev->group);
	if (dev->container >= 0)
		close(dev->container);
	free(dev);
}

int p2pmr_dev_adopt(int fd, const char *bdf, struct p2pmr_dev **devp)
{
	struct p2pmr_dev *dev;
	int ret;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return p2pmr_fail(-EBADF, "p2pmr_dev_adopt: %d is not an open fd",
				  fd);
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return p2pmr_fail(-ENOMEM, "out of memory");
	snprintf(dev->bdf, sizeof(dev->bdf), "?");
	snprintf(dev->driver, sizeof(dev->driver), "?");
	if (bdf) {
		ret = p2pmr_parse_bdf(bdf, dev->bdf, sizeof(dev->bdf));
		if (ret)
			goto err_free;
		/* Only for messages: a missing sysfs entry is no error. */
		if (p2pmr_sysfs_driver(p2pmr_sysfs_root(), dev->bdf,
				       dev->driver, sizeof(dev->driver)) ||
		    !*dev->driver)
			snprintf(dev->driver, sizeof(dev->driver), "?");
	}
	dev->container = -1;
	dev->group = -1;
	dev->fd = fd;
	*devp = dev;
	return 0;

err_free:
	free(dev);
	return ret;
}

const char *p2pmr_dev_bdf(const struct p2pmr_dev *dev)
{
	return dev->bdf;
}

int p2pmr_dev_fd(const struct p2pmr_dev *dev)
{
	return dev->fd;
}

int p2pmr_dev_group_fd(const struct p2pmr_dev *dev)
{
	return dev->group;
}

static int bar_flags(struct p2pmr_dev *dev, uint32_t index, uint32_t *flags)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint32_t bar;

	if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return -errno;
	if (pread(dev->fd, &bar, sizeof(bar),
		  cfg.offset + PCI_BASE_ADDRESS_0 + 4 * index) != sizeof(bar))
		return -EIO;
	if (!(bar & PCI_BASE_ADDRESS_SPACE_IO)) {
		*flags |= P2PMR_REGION_MEM;
		if (bar & PCI_BASE_ADDRESS_MEM_PREFETCH)
			*flags |= P2PMR_REGION_PREFETCH;
	}
	return 0;
}

int p2pmr_region(struct p2pmr_dev *dev, uint32_t index,
		 struct p2pmr_region *reg)
{
	struct vfio_region_info info = { .argsz = sizeof(info),
					 .index = index };
	int ret;

	if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return p2pmr_fail(-errno, "%s has no region %u: %s", dev->bdf,
				  index, strerror(errno));
	memset(reg, 0, sizeof(*reg));
	reg->index = index;
	reg->size = info.size;
	reg->offset = info.offset;
	if (info.flags & VFIO_REGION_INFO_FLAG_READ)
		reg->flags |= P2PMR_REGION_READ;
	if (info.flags & VFIO_REGION_INFO_FLAG_WRITE)
		reg->flags |= P2PMR_REGION_WRITE;
	if (info.flags & VFIO_REGION_INFO_FLAG_MMAP)
		reg->flags |= P2PMR_REGION_MMAP;
	if (index <= VFIO_PCI_BAR5_REGION_INDEX && info.size) {
		ret = bar_flags(dev, index, &reg->flags);
		if (ret)
			return p2pmr_fail(ret, "cannot read BAR%u of %s", index,
					  dev->bdf);
	}
	return 0;
}

int p2pmr_region_mmap(struct p2pmr_dev *dev, uint32_t index, void **addrp,
		      size_t *lenp)
{
	struct p2pmr_region reg;
	void *p;
	int ret;

	ret = p2pmr_region(dev, index, &reg);
	if (ret)
		return ret;
	if (!(reg.flags & P2PMR_REGION_MMAP) || !reg.size)
		return p2pmr_fail(-EINVAL, "region %u of %s cannot be mmapped",
				  index, dev->bdf);
	p = mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd,
		 reg.offset);
	if (p == MAP_FAILED)
		return p2pmr_fail(-errno, "mmap of region %u of %s: %s", index,
				  dev->bdf, strerror(errno));
	*addrp = p;
	*lenp = reg.size;
	return 0;
}
