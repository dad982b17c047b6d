// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Listing VFIO-bound PCI functions from sysfs alone, without opening them.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* include/linux/ioport.h: the flags column of sysfs "resource". */
#define IORESOURCE_IO		0x00000100
#define IORESOURCE_MEM		0x00000200
#define IORESOURCE_PREFETCH	0x00002000

/* First line of a sysfs attribute as an unsigned number; 0 if unreadable. */
static unsigned long read_num(const char *path)
{
	char buf[64];
	FILE *f = fopen(path, "r");
	unsigned long v = 0;

	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		v = strtoul(buf, NULL, 0);
	fclose(f);
	return v;
}

/*
 * "resource" has one line "start end flags" (hex) per resource; the first
 * six are the BARs.  An absent BAR reads as all zeroes.
 */
static void read_bars(const char *dir, struct p2pmr_pci_info *info)
{
	char path[PATH_MAX + 16], line[256];
	uint64_t start, end, flags;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/resource", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	for (i = 0; i < P2PMR_NR_BARS && fgets(line, sizeof(line), f); i++) {
		struct p2pmr_bar_info *bar = &info->bar[i];

		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, &start,
			   &end, &flags) != 3 || (!start && !end) || end < start)
			continue;
		bar->start = start;
		bar->size = end - start + 1;
		if (flags & IORESOURCE_MEM)
			bar->flags |= P2PMR_REGION_MEM;
		if (flags & IORESOURCE_PREFETCH)
			bar->flags |= P2PMR_REGION_PREFETCH;
	}
	fclose(f);
}

const char *p2pmr_sysfs_root(void)
{
	const char *root = secure_getenv("P2PMR_SYSFS");

	return root && *root ? root : "/sys";
}

const char *p2pmr_dev_root(void)
{
	const char *root = secure_getenv("P2PMR_DEVFS");

	return root && *root ? root : "/dev";
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

int p2pmr_sysfs_group(const char *sysfs, const char *bdf, int *group,
		      int *noiommu)
{
	char path[PATH_MAX], link[PATH_MAX], name[64] = "";
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group",
		 sysfs, bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -ENOENT;
	link[n] = 0;
	*group = atoi(basename(link));
	*noiommu = 0;
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/name", sysfs,
		 *group);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(name, sizeof(name), f) && !strncmp(name, "vfio-noiommu", 12))
		*noiommu = 1;
	fclose(f);
	return 0;
}

int p2pmr_is_vfio_bound(const char *sysfs, const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	if (!sysfs)
		sysfs = p2pmr_sysfs_root();
	/* The VFIO cdev (CONFIG_VFIO_DEVICE_CDEV) shows itself. */
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vfio-dev", sysfs,
		 bdf);
	if (!access(path, F_OK))
		return 1;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sysfs,
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0;	/* no driver */
	link[n] = 0;
	/* Every VFIO PCI driver is built on vfio_pci_core. */
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver/module",
		 sysfs, bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n >= 0) {
		link[n] = 0;
		snprintf(path, sizeof(path),
			 "%s/module/vfio_pci_core/holders/%s", sysfs,
			 basename(link));
		return !access(path, F_OK);
	}
	/* Built in: sysfs ties the driver to no module; the name decides. */
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sysfs,
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0;
	link[n] = 0;
	return strstr(basename(link), "vfio") != NULL;
}

void p2pmr_free_devices(struct p2pmr_pci_info *list)
{
	free(list);
}

static int cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct p2pmr_pci_info *)a)->bdf,
		      ((const struct p2pmr_pci_info *)b)->bdf);
}

int p2pmr_list_devices(const char *sysfs, unsigned int flags,
		       struct p2pmr_pci_info **listp, size_t *np)
{
	struct p2pmr_pci_info *list = NULL, *grown, *info;
	size_t n = 0, cap = 0;
	char dir[PATH_MAX], bdf[16];
	struct dirent *de;
	DIR *d;
	int ret;

	p2pmr_clear_error();
	if (!sysfs)
		sysfs = p2pmr_sysfs_root();
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", sysfs);
	d = opendir(dir);
	if (!d)
		return p2pmr_fail(-ENOENT, "cannot read %s: %s (is sysfs mounted?)",
				  dir, strerror(errno));
	while ((de = readdir(d))) {
		/* Entries are canonical addresses; skip anything else. */
		if (p2pmr_parse_bdf(de->d_name, bdf, sizeof(bdf)) ||
		    strcmp(bdf, de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				ret = p2pmr_fail(-ENOMEM, "out of memory");
				goto err_free;
			}
			list = grown;
		}
		info = &list[n];
		memset(info, 0, sizeof(*info));
		snprintf(info->bdf, sizeof(info->bdf), "%s", bdf);
		if (p2pmr_sysfs_driver(sysfs, bdf, info->driver,
				       sizeof(info->driver)))
			continue;	/* went away meanwhile */
		if (!(flags & P2PMR_LIST_ALL) && !p2pmr_is_vfio_bound(sysfs, bdf))
			continue;
		if (p2pmr_sysfs_group(sysfs, bdf, &info->iommu_group,
				      &info->noiommu))
			info->iommu_group = -1;
		snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s/vendor", sysfs,
			 bdf);
		info->vendor = read_num(dir);
		snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s/device", sysfs,
			 bdf);
		info->device = read_num(dir);
		snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s", sysfs, bdf);
		read_bars(dir, info);
		n++;
	}
	closedir(d);
	if (n)
		qsort(list, n, sizeof(*list), cmp_info);
	else {
		free(list);
		list = NULL;
	}
	*listp = list;
	*np = n;
	/* Entries that went away or were no address left messages. */
	p2pmr_clear_error();
	return 0;

err_free:
	closedir(d);
	free(list);
	return p2pmr_ret(ret);
}
