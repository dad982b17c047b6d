/* SPDX-License-Identifier: GPL-2.0 */
/* PCI config space of a VFIO device, for the test and perf programs. */
#ifndef P2PMR_TEST_VFIO_CFG_H
#define P2PMR_TEST_VFIO_CFG_H

#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

/* Where the config region of the VFIO device @devfd starts, in @off. */
static inline int vfio_cfg_offset(int devfd, off_t *off)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
				       .index = VFIO_PCI_CONFIG_REGION_INDEX };

	if (ioctl(devfd, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return -errno;
	*off = cfg.offset;
	return 0;
}

/* Read (@wr 0) or write the 16-bit config register at @off + @reg. */
static inline int vfio_cfg_rw16(int devfd, int wr, off_t off, int reg,
				uint16_t *val)
{
	ssize_t n = wr ? pwrite(devfd, val, 2, off + reg) :
			 pread(devfd, val, 2, off + reg);

	if (n == 2)
		return 0;
	return n < 0 ? -errno : -EIO;
}

/*
 * Set (@set) or clear @bits of PCI_COMMAND of the VFIO device @devfd
 * through its config region, as a user driver does; clearing
 * PCI_COMMAND_MEMORY revokes the device's dma-bufs.  Returns 0 or -errno.
 */
static inline int vfio_cfg_command(int devfd, int set, uint16_t bits)
{
	uint16_t cmd;
	off_t off = 0;	/* GCC cannot tell that -errno is never 0 */
	int ret;

	ret = vfio_cfg_offset(devfd, &off);
	if (!ret)
		ret = vfio_cfg_rw16(devfd, 0, off, PCI_COMMAND, &cmd);
	if (ret)
		return ret;
	cmd = set ? cmd | bits : cmd & ~bits;
	return vfio_cfg_rw16(devfd, 1, off, PCI_COMMAND, &cmd);
}

#endif
