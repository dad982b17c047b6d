/* SPDX-License-Identifier: GPL-2.0 */
/* Writing a value to a sysfs or tracefs file, for the test and perf programs. */
#ifndef P2PMR_TEST_SYSFS_H
#define P2PMR_TEST_SYSFS_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/*
 * Write @val to @path in one write() (O_TRUNC: tracefs's "trace" is
 * cleared so).  Returns 0 or -errno.
 */
static inline int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

#endif
