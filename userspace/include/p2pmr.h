/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libp2pmr: VFIO-owned PCI BARs as dma-bufs for RDMA.
 *
 * Conventions: every function returning int returns 0 (or a non-negative
 * value where documented) on success and a negative errno on failure.  On
 * failure, p2pmr_errmsg() returns a message for the calling thread that says
 * what went wrong and what to do about it.
 *
 * Thread safety: distinct struct p2pmr_dev objects may be used from
 * different threads concurrently; one object must not be used concurrently
 * without external locking.  p2pmr_errmsg() is per thread.
 */
#ifndef P2PMR_H
#define P2PMR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct p2pmr_dev;

/**
 * p2pmr_errmsg() - Message describing the calling thread's last failure.
 *
 * Return: a string owned by the library, valid until the next call into it
 * from the same thread; "" if nothing failed yet.
 */
const char *p2pmr_errmsg(void);

/**
 * p2pmr_parse_bdf() - Canonicalise a PCI address.
 * @in: "DDDD:BB:DD.F" or "BB:DD.F" (hexadecimal)
 * @out: receives "DDDD:BB:DD.F", NUL terminated
 * @outlen: size of @out, at least 13
 *
 * Return: 0, or -EINVAL if @in is not a PCI address, -ENOSPC if @out is short.
 */
int p2pmr_parse_bdf(const char *in, char *out, size_t outlen);

/**
 * p2pmr_dev_open() - Open a VFIO-bound PCI device by address.
 * @bdf: PCI address, as accepted by p2pmr_parse_bdf()
 * @devp: receives the device on success
 *
 * Finds the device's IOMMU group, attaches it to a new type1 container and
 * gets the device fd.
 *
 * Return: 0; -EINVAL bad address; -ENODEV no such device or not bound to a
 * VFIO driver; -EBUSY group not viable (other devices of the group bound to
 * host drivers) or already open; -EPERM/-EACCES permission denied;
 * -ENOTSUP no usable IOMMU (including vfio-noiommu groups).
 */
int p2pmr_dev_open(const char *bdf, struct p2pmr_dev **devp);

/**
 * p2pmr_dev_close() - Close a device and release its container.
 * @dev: device from p2pmr_dev_open(), or NULL
 *
 * dma-bufs exported from the device are revoked by the kernel driver when
 * the device closes; their fds stay valid and must still be closed.
 */
void p2pmr_dev_close(struct p2pmr_dev *dev);

/**
 * p2pmr_dev_fd() - The VFIO device fd (owned by @dev).
 * @dev: an open device
 *
 * Return: the fd.
 */
int p2pmr_dev_fd(const struct p2pmr_dev *dev);

/**
 * p2pmr_dev_group_fd() - The VFIO group fd (owned by @dev), as needed for
 * VFIO_DEVICE_PCI_HOT_RESET.
 * @dev: an open device
 *
 * Return: the fd, or -1 for an adopted device fd.
 */
int p2pmr_dev_group_fd(const struct p2pmr_dev *dev);

/** Region flags reported by p2pmr_region(). */
enum {
	P2PMR_REGION_READ	= 1 << 0,
	P2PMR_REGION_WRITE	= 1 << 1,
	P2PMR_REGION_MMAP	= 1 << 2,
	P2PMR_REGION_PREFETCH	= 1 << 3,	/* prefetchable memory BAR */
	P2PMR_REGION_MEM	= 1 << 4,	/* memory (not I/O port) BAR */
};

struct p2pmr_region {
	uint32_t index;		/* VFIO region index; 0-5 are BARs */
	uint32_t flags;		/* P2PMR_REGION_* */
	uint64_t size;		/* bytes; 0 if absent */
	uint64_t offset;	/* offset of the region in the device fd */
};

/**
 * p2pmr_region() - Describe one region of a device.
 * @dev: an open device
 * @index: VFIO region index
 * @reg: receives the description
 *
 * Return: 0, or -EINVAL if @index is not a region of the device.
 */
int p2pmr_region(struct p2pmr_dev *dev, uint32_t index,
		 struct p2pmr_region *reg);

/**
 * p2pmr_region_mmap() - Map a whole region into the process.
 * @dev: an open device
 * @index: VFIO region index of an mmap-able region
 * @addrp: receives the mapping (unmap with munmap(*addrp, *lenp))
 * @lenp: receives its length
 *
 * Return: 0; -EINVAL not mmap-able; or the errno of mmap().
 */
int p2pmr_region_mmap(struct p2pmr_dev *dev, uint32_t index, void **addrp,
		      size_t *lenp);

#ifdef __cplusplus
}
#endif
#endif /* P2PMR_H */
