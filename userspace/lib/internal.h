/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef P2PMR_INTERNAL_H
#define P2PMR_INTERNAL_H

#include "p2pmr.h"

struct p2pmr_dev {
	char bdf[16];		/* "?" when adopted without an address */
	char driver[64];	/* bound driver, "?" if unknown */
	int container;		/* -1 when adopted */
	int group;		/* -1 when adopted */
	int fd;
};

/* Record a message for p2pmr_errmsg() and return @err (a negative errno). */
int p2pmr_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Name of the driver bound to @bdf under @sysfs into @drv ("" if none).
 * Return: 0, or -ENODEV (with a message) if there is no such device.
 */
int p2pmr_sysfs_driver(const char *sysfs, const char *bdf, char *drv,
		       size_t len);

/*
 * The message and errno of a failed VFIO_DEVICE_FEATURE_DMA_BUF: @probe is
 * 1 if the PROBE failed, 0 if the GET did; @err is the positive errno.
 * Separate so the unit tests can check every mapping.
 */
int p2pmr_export_fail(const char *bdf, const char *driver, uint32_t bar,
		      int probe, int err);

#endif
