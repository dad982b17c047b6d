/* SPDX-License-Identifier: GPL-2.0 */
/* PCI config space of a VFIO device, for the test and perf programs. */
#ifndef P2PMR_TEST_VFIO_CFG_H
#define P2PMR_TEST_VFIO_CFG_H

#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

/*
 * Set (@set) or clear @bits of PCI_COMMAND of the VFIO device @devfd
 * through its config region, as a user driver does; clearing
 * PCI_COMMAND_MEMORY revokes the device's dma-bufs.  Returns 0 or -errno.
 */
static inline int vfio_cfg_command(int devfd, int set, uint16_t bits)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
				       .index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint16_t cmd;

	if (ioctl(devfd, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return -errno;
	if (pread(devfd, &cmd, 2, cfg.offset + PCI_COMMAND) != 2)
		return -EIO;
	cmd = set ? cmd | bits : cmd & ~bits;
	if (pwrite(devfd, &cmd, 2, cfg.offset + PCI_COMMAND) != 2)
		return -errno;
	return 0;
}

#endif
