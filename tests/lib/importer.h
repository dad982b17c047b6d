/* SPDX-License-Identifier: GPL-2.0 */
/* The userspace side of the test importer module (tests/kmod/importer). */
#ifndef P2PMR_TEST_IMPORTER_H
#define P2PMR_TEST_IMPORTER_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../kmod/importer/importer_uapi.h"

/*
 * Open an importer attached to dma-buf @buf with IMP_* @flags (for
 * IMP_UMEM*, a umem at @offset, @length of it; 0 = to the end).
 * Returns its fd or -errno.
 */
static inline int imp_open(int buf, uint32_t flags, uint64_t offset,
			   uint64_t length)
{
	struct imp_attach a = {
		.fd = buf, .flags = flags, .offset = offset, .length = length,
	};
	int fd = open("/dev/p2pmr_importer", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, IMP_ATTACH, &a)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

#endif
