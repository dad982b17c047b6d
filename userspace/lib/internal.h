/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef P2PMR_INTERNAL_H
#define P2PMR_INTERNAL_H

#include <errno.h>
#include <pthread.h>

#include "p2pmr.h"

/* An IOVA range the IOMMU accepts; @end inclusive, as VFIO reports it. */
struct p2pmr_iova_range {
	uint64_t start;
	uint64_t end;
};

/* A mapping made by p2pmr_dma_map(), or a p2pmr_iova_reserve() range. */
struct p2pmr_mapping {
	uint64_t iova;
	uint64_t length;
	int reserved;		/* kept from the allocator, nothing mapped */
};

/*
 * Where DMA mappings live for a set of devices: a VFIO container (type1v2
 * IOMMU, @fd is /dev/vfio/vfio) shared by the groups attached to it, or an
 * iommufd IO address space (@fd is /dev/iommu, @ioas_id the IOAS) shared
 * by the devices opened through their cdev and attached to it.  @refs is
 * protected by the library's open/close lock; @lock protects the IOVA
 * allocator (@have_ranges, @ranges, @maps).
 */
struct p2pmr_container {
	int fd;
	int refs;			/* groups, or cdev devices, attached */
	int iommufd;			/* 1: @fd is an iommufd, see @ioas_id */
	uint32_t ioas_id;
	pthread_mutex_t lock;
	/*
	 * @ranges read from the kernel.  An IOAS narrows its ranges as
	 * devices attach, so attaching one clears it.
	 */
	int have_ranges;
	struct p2pmr_iova_range *ranges;	/* sorted by start */
	size_t nr_ranges;
	struct p2pmr_mapping *maps;	/* sorted by iova */
	size_t nr_maps;
	size_t cap_maps;
};

/* An open VFIO group, shared by the open devices of the group. */
struct p2pmr_group {
	struct p2pmr_group *next;
	int num;
	int fd;
	int refs;			/* devices open */
	struct p2pmr_container *container;
};

/*
 * An open device: through its group (@group and @container set), through
 * its VFIO cdev (@container only; @next links the process's cdev-opened
 * devices, under the open/close lock), or adopted (neither).
 */
struct p2pmr_dev {
	char bdf[16];		/* "?" when adopted without an address */
	char driver[64];	/* bound driver, "?" if unknown */
	struct p2pmr_group *group;	/* NULL when adopted or cdev-opened */
	struct p2pmr_container *container;	/* NULL when adopted */
	struct p2pmr_dev *next;
	int fd;
};

/* Record a message for p2pmr_errmsg(), set errno and return @err (< 0). */
int p2pmr_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Start of every API call: forget the previous call's message. */
void p2pmr_clear_error(void);

/* Set errno from @ret if it is a negative errno; return @ret. */
static inline int p2pmr_ret(int ret)
{
	if (ret < 0)
		errno = -ret;
	return ret;
}

/*
 * Name of the driver bound to @bdf under @sysfs into @drv ("" if none).
 * Return: 0, or -ENODEV (with a message) if there is no such device.
 */
int p2pmr_sysfs_driver(const char *sysfs, const char *bdf, char *drv,
		       size_t len);

/*
 * The IOMMU group of @bdf under @sysfs, and whether it is a vfio-noiommu
 * group.  Return: 0, or -ENOENT (no message) if the device has no group.
 */
int p2pmr_sysfs_group(const char *sysfs, const char *bdf, int *group,
		      int *noiommu);

/*
 * One number of p2pmr_parse_size()'s syntax at @s; *@end is set past it.
 * Return: 0, -EINVAL (no digits) or -EOVERFLOW, without a message.
 */
int p2pmr_scan_size(const char *s, const char **end, uint64_t *v);

/*
 * BAR @bar of @dev is a memory BAR that holds every range (its region in
 * @reg): 0, or a negative errno with the message set.  export.c.
 */
int p2pmr_bar_ranges(struct p2pmr_dev *dev, uint32_t bar,
		     const struct p2pmr_range *ranges, size_t n,
		     struct p2pmr_region *reg);

/* p2pmr_check_ranges() with the alignment given, for the unit tests. */
int p2pmr_check_ranges_align(const struct p2pmr_range *ranges, size_t n,
			     uint64_t bar_size, uint64_t align);

/*
 * The message and errno of a failed VFIO_DEVICE_FEATURE_DMA_BUF: @probe is
 * 1 if the PROBE failed, 0 if the GET did; @err is the positive errno.
 * Separate so the unit tests can check every mapping.
 */
int p2pmr_export_fail(const char *bdf, const char *driver, uint32_t bar,
		      int probe, int err);

/*
 * The usable IOVA ranges in the VFIO_IOMMU_GET_INFO reply @info of @size
 * bytes, sorted, into a new array.  A reply without the IOVA-range
 * capability gives [0, P2PMR_IOVA_FALLBACK_END].  A malformed capability
 * chain is -EIO.  Return: 0, -EIO or -ENOMEM, without a message.
 */
#define P2PMR_IOVA_FALLBACK_END	0xfedfffffULL	/* below x86's MSI window */
int p2pmr_iova_ranges(const void *info, size_t size,
		      struct p2pmr_iova_range **rangesp, size_t *np);

/*
 * First fit: the lowest IOVA >= @align, aligned to @align, where @length
 * bytes lie inside one of @ranges and overlap none of @maps (sorted by
 * iova).  Return: 0, or -ENOSPC.
 */
int p2pmr_iova_alloc(const struct p2pmr_iova_range *ranges, size_t nr,
		     const struct p2pmr_mapping *maps, size_t nr_maps,
		     uint64_t length, uint64_t align, uint64_t *iova);

/*
 * The parts of a region the CPU may mmap, from the VFIO_DEVICE_GET_REGION_INFO
 * reply @info of @size bytes: none without VFIO_REGION_INFO_FLAG_MMAP, the
 * areas of the sparse-mmap capability if there is one, else the whole
 * region.  @areasp gets a new array (NULL when none).  Return: 0, -EIO
 * (malformed capability chain) or -ENOMEM, without a message.
 */
int p2pmr_mmap_areas(const void *info, size_t size,
		     struct p2pmr_range **areasp, size_t *np);

#endif
