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

/**
 * p2pmr_dev_adopt() - Wrap a VFIO device fd the caller already opened.
 * @fd: a VFIO device fd (from VFIO_GROUP_GET_DEVICE_FD, an iommufd cdev, or
 *	received from another process with p2pmr_recv_fd())
 * @bdf: the device's PCI address, used in messages and to look up its
 *	driver in sysfs; NULL if unknown
 * @devp: receives the device on success
 *
 * The library takes ownership of @fd on success: p2pmr_dev_close() closes
 * it.  On failure @fd is left open and still belongs to the caller.  The
 * device has no group or container (p2pmr_dev_group_fd() returns -1); the
 * caller keeps whatever holds the IOMMU context open.
 *
 * Return: 0; -EBADF @fd is not an open fd; -EINVAL @bdf is not a PCI
 * address; -ENOMEM.
 */
int p2pmr_dev_adopt(int fd, const char *bdf, struct p2pmr_dev **devp);

/**
 * p2pmr_dev_bdf() - The device's PCI address.
 * @dev: an open device
 *
 * Return: "DDDD:BB:DD.F", or "?" for an adopted fd whose address is unknown.
 */
const char *p2pmr_dev_bdf(const struct p2pmr_dev *dev);

/**
 * p2pmr_sysfs_root() - The sysfs mount the library reads.
 *
 * Return: $P2PMR_SYSFS if set and non-empty (unit tests point it at a fake
 * tree), else "/sys".  Used by p2pmr_dev_open(), p2pmr_dev_adopt() and, when
 * passed NULL, p2pmr_list_devices().
 */
const char *p2pmr_sysfs_root(void);

/* BARs of a PCI function. */
#define P2PMR_NR_BARS	6

/** struct p2pmr_bar_info - One BAR as sysfs describes it. */
struct p2pmr_bar_info {
	uint64_t start;		/* bus address as the kernel assigned it */
	uint64_t size;		/* bytes; 0 if the BAR is absent */
	uint32_t flags;		/* P2PMR_REGION_MEM, P2PMR_REGION_PREFETCH */
};

/** struct p2pmr_pci_info - A PCI function found by p2pmr_list_devices(). */
struct p2pmr_pci_info {
	char bdf[16];		/* "DDDD:BB:DD.F" */
	char driver[64];	/* bound driver, "" if none */
	int iommu_group;	/* -1 if the device has no IOMMU group */
	int noiommu;		/* 1 if the group is a vfio-noiommu group */
	uint16_t vendor;
	uint16_t device;
	struct p2pmr_bar_info bar[P2PMR_NR_BARS];
};

/* p2pmr_list_devices() @flags */
enum {
	P2PMR_LIST_ALL	= 1 << 0,	/* every PCI function, not only VFIO */
};

/**
 * p2pmr_is_vfio_driver() - Whether a driver name is one of VFIO's PCI drivers.
 * @driver: a driver name as in /sys/bus/pci/drivers
 *
 * Return: 1 for "vfio-pci", "vfio-pci-*" and "vfio_pci_p2p", else 0.
 */
int p2pmr_is_vfio_driver(const char *driver);

/**
 * p2pmr_list_devices() - Enumerate PCI functions bound to a VFIO driver.
 * @sysfs: sysfs mount to read, NULL for p2pmr_sysfs_root()
 * @flags: P2PMR_LIST_* flags
 * @listp: receives an array sorted by address (free it with free()); NULL
 *	when none were found
 * @np: receives the number of entries
 *
 * Reads <sysfs>/bus/pci/devices/<bdf>/{driver,iommu_group,vendor,device,
 * resource} without opening any device, so it needs no privileges.
 *
 * Return: 0 (also when no device matches); -ENOENT no <sysfs>/bus/pci;
 * -ENOMEM.
 */
int p2pmr_list_devices(const char *sysfs, unsigned int flags,
		       struct p2pmr_pci_info **listp, size_t *np);

/** struct p2pmr_range - A byte range of a BAR. */
struct p2pmr_range {
	uint64_t offset;
	uint64_t length;
};

/* Most ranges one dma-buf may have (the exporter's limit). */
#define P2PMR_MAX_RANGES	65536
/* Ranges must be aligned to this. */
#define P2PMR_RANGE_ALIGN	4096

/**
 * p2pmr_parse_ranges() - Parse a range list.
 * @spec: "OFF:LEN[,OFF:LEN...]"; each number decimal or 0x-hexadecimal,
 *	optionally followed by K, M, G or T (binary multiples, either case)
 * @rangesp: receives a new array of the ranges, in the order given (free it
 *	with free())
 * @np: receives the number of ranges
 *
 * Only the syntax is checked here; check the ranges against a BAR with
 * p2pmr_check_ranges().
 *
 * Return: 0; -EINVAL syntax error (the message names the position);
 * -EOVERFLOW a number does not fit in 64 bits; -E2BIG more than
 * P2PMR_MAX_RANGES ranges; -ENOMEM.
 */
int p2pmr_parse_ranges(const char *spec, struct p2pmr_range **rangesp,
		       size_t *np);

/**
 * p2pmr_check_ranges() - Check ranges against a BAR before exporting them.
 * @ranges: the ranges
 * @n: their number
 * @bar_size: size of the BAR in bytes
 *
 * Return: 0; -EINVAL no ranges, a range that is empty, not aligned to
 * P2PMR_RANGE_ALIGN, ends past @bar_size or overlaps another; -EOVERFLOW
 * offset + length wraps around; -E2BIG more than P2PMR_MAX_RANGES ranges;
 * -ENOMEM.  The message names the first offending range.
 */
int p2pmr_check_ranges(const struct p2pmr_range *ranges, size_t n,
		       uint64_t bar_size);

/**
 * p2pmr_export() - Export BAR ranges as a dma-buf.
 * @dev: an open device
 * @bar: BAR index, 0-5
 * @ranges: the ranges, in the order they appear in the dma-buf
 * @n: their number
 * @open_flags: flags of the new fd: O_RDWR or O_RDONLY, optionally O_CLOEXEC
 *
 * Probes VFIO_DEVICE_FEATURE_DMA_BUF, checks the ranges against the BAR with
 * p2pmr_check_ranges() and asks the driver for the dma-buf.  The dma-buf is
 * revoked when the device is closed or reset; its fd stays valid and must
 * be closed by the caller.
 *
 * Return: the dma-buf fd; -EOPNOTSUPP the driver lacks the feature (bind the
 * device to vfio-pci-p2p, or use vfio-pci of Linux 6.19 or later) or the
 * device has no IOMMU; -ENODEV @bar is not a present memory BAR; -EINVAL,
 * -EOVERFLOW, -E2BIG bad ranges or flags; -EPERM/-EACCES permission denied;
 * or another errno of the ioctl.
 */
int p2pmr_export(struct p2pmr_dev *dev, uint32_t bar,
		 const struct p2pmr_range *ranges, size_t n,
		 uint32_t open_flags);

struct ibv_pd;
struct ibv_mr;

/**
 * p2pmr_reg_mr() - Register a dma-buf as an RDMA memory region.
 * @pd: protection domain of the RDMA device
 * @dmabuf_fd: the dma-buf, e.g. from p2pmr_export()
 * @offset: start of the MR within the dma-buf
 * @length: its length
 * @iova: the address RDMA operations use for byte @offset
 * @access: IBV_ACCESS_* flags
 * @mrp: receives the MR; release it with ibv_dereg_mr()
 *
 * A thin wrapper of ibv_reg_dmabuf_mr() that explains failures.  It lives
 * in its own object: programs that link libp2pmr.a statically and do not
 * call it need no libibverbs.
 *
 * Return: 0; -EOPNOTSUPP the RDMA device (or its kernel driver) cannot
 * import dma-bufs; -EINVAL bad range or access flags, or @dmabuf_fd is not
 * a dma-buf; or the errno of ibv_reg_dmabuf_mr().
 */
int p2pmr_reg_mr(struct ibv_pd *pd, int dmabuf_fd, uint64_t offset,
		 size_t length, uint64_t iova, int access,
		 struct ibv_mr **mrp);

/**
 * p2pmr_send_fd() - Send an fd and a message over a UNIX socket.
 * @sock: a connected AF_UNIX socket (SOCK_SEQPACKET keeps message
 *	boundaries; SOCK_STREAM works too)
 * @fd: the fd to pass (SCM_RIGHTS); the caller keeps its own copy
 * @data: bytes sent along with it
 * @len: their number; 0 sends a single zero byte, since a socket cannot
 *	carry the fd without at least one byte of data
 *
 * Return: 0, or the negative errno of sendmsg() (-EPIPE peer gone).
 */
int p2pmr_send_fd(int sock, int fd, const void *data, size_t len);

/**
 * p2pmr_recv_fd() - Receive an fd and a message sent by p2pmr_send_fd().
 * @sock: the other end of @sock of p2pmr_send_fd()
 * @fdp: receives the new fd (close-on-exec)
 * @data: buffer for the message
 * @lenp: in: size of @data; out: bytes received (on a stream socket this
 *	may be fewer than were sent)
 *
 * Return: 0; -ECONNRESET the peer closed the socket; -EBADMSG the message
 * carried no fd or more than one; -EMSGSIZE the message was longer than
 * @data (its fd is closed); or the negative errno of recvmsg().
 */
int p2pmr_recv_fd(int sock, int *fdp, void *data, size_t *lenp);

#ifdef __cplusplus
}
#endif
#endif /* P2PMR_H */
