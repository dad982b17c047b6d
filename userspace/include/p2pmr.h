/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libp2pmr: VFIO-owned PCI BARs as dma-bufs for RDMA.
 *
 * Conventions: every function returning int returns 0 (or a non-negative
 * value where documented) on success and a negative errno on failure, and
 * sets errno to that errno as well.  Each call that can fail clears the
 * calling thread's message on entry (accessors such as p2pmr_dev_bdf()
 * leave it alone); on failure, p2pmr_errmsg() returns a message that says
 * what went wrong and what to do about it.
 *
 * Thread safety: every call may be made from any thread.  Calls on one
 * struct p2pmr_dev may run concurrently (exports, region queries, DMA
 * mappings), except p2pmr_dev_close(), which must not race any other call
 * on the same device.  Opening and closing devices that share a group or
 * container is serialised inside the library.  p2pmr_errmsg() is per
 * thread.
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
 * The same as p2pmr_dev_open_ex() with no attributes.
 *
 * Return: as p2pmr_dev_open_ex().
 */
int p2pmr_dev_open(const char *bdf, struct p2pmr_dev **devp);

/*
 * struct p2pmr_dev_attr @comp_mask bits: which fields the caller set, and
 * P2PMR_DEV_ATTR_IOMMUFD, which names no field.
 */
enum {
	P2PMR_DEV_ATTR_CONTAINER	= 1 << 0,	/* @container is set */
	P2PMR_DEV_ATTR_VF_TOKEN		= 1 << 1,	/* @vf_token is set */
	/* open through the VFIO cdev and iommufd, not the group */
	P2PMR_DEV_ATTR_IOMMUFD		= 1 << 2,
};

/**
 * struct p2pmr_dev_attr - Options of p2pmr_dev_open_ex().
 * @comp_mask: P2PMR_DEV_ATTR_* bits naming the fields below that are set;
 *	fields whose bit is clear are ignored, so that later versions can add
 *	fields at the end without breaking callers built against this one.
 *	P2PMR_DEV_ATTR_IOMMUFD names no field: it asks for the device to be
 *	opened through its VFIO cdev and iommufd (see p2pmr_dev_open_ex()),
 *	even where its group could be opened
 * @container: with P2PMR_DEV_ATTR_CONTAINER, an open device whose
 *	container the new device joins, so that DMA mappings made through
 *	either device serve both: a VFIO container, which the new device's
 *	IOMMU group is attached to, or, for a device opened through its cdev,
 *	the iommufd IO address space (IOAS) it is attached to, which the new
 *	device is then attached to as well (through its cdev).  Without it, a
 *	device whose group is already open in this process joins that
 *	group's container, a device already open through its cdev here
 *	shares that open device's IOAS, and any other device gets a container
 *	or IOAS of its own.
 * @vf_token: with P2PMR_DEV_ATTR_VF_TOKEN, a VF token: a UUID in its
 *	36-character text form.  VFIO opens a VF whose PF is bound to a VFIO
 *	driver only with the token the PF's owner set
 *	(p2pmr_dev_set_vf_token()), and a PF that has VFs in use only with
 *	it too; other devices are refused when given one.
 */
struct p2pmr_dev_attr {
	uint32_t comp_mask;
	struct p2pmr_dev *container;
	const char *vf_token;
};

/**
 * p2pmr_dev_open_ex() - Open a VFIO-bound PCI device, with options.
 * @bdf: PCI address, as accepted by p2pmr_parse_bdf()
 * @attr: options, or NULL for the defaults
 * @devp: receives the device on success
 *
 * Finds the device's IOMMU group in sysfs and opens the group's VFIO node
 * (/dev/vfio/N): any driver that registers the device with VFIO will do
 * (vfio-pci, vfio-pci-p2p, or variant drivers such as mlx5_vfio_pci).  The
 * group is opened once per process and shared, with its container, by
 * every device of the group that is opened; the last p2pmr_dev_close()
 * releases them.  A new container uses the type1v2 IOMMU.
 *
 * The iommufd cdev path: a device whose group has no VFIO node but that
 * has a VFIO cdev (sysfs <bdf>/vfio-dev/vfioN; kernels without
 * CONFIG_VFIO_GROUP) is opened through it: /dev/vfio/devices/vfioN is
 * opened, bound to an iommufd (/dev/iommu, VFIO_DEVICE_BIND_IOMMUFD) and
 * attached to an IO address space (IOMMU_IOAS_ALLOC,
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT).  Where a device has both, the group
 * comes first, unless P2PMR_DEV_ATTR_IOMMUFD is set, or the environment
 * variable P2PMR_IOMMUFD is "1" (read with secure_getenv(); for opens
 * that name no container), or @attr->container was opened through its
 * cdev.  The IOAS plays the container's part: devices attached to it share
 * its DMA mappings, and the last one closed releases it.  VFIO opens a
 * device through its cdev once: opening it again in this process shares
 * the open device's file (a dup() of its fd).
 *
 * Return: 0; -EINVAL bad address, @attr->container is an adopted
 * device, @attr->vf_token is not a UUID, VFIO refused the token (the
 * device is neither a VF nor a PF, or the kernel takes no token through
 * the cdev), or P2PMR_DEV_ATTR_IOMMUFD with a container opened through
 * its group; -EOPNOTSUPP @attr->comp_mask has a bit this library does
 * not know, the cdev path was asked for and the kernel has no VFIO cdev
 * or no /dev/iommu, or a device with a cdev only is to join a VFIO
 * container; -ENODEV no such device, or it is not bound to a VFIO
 * driver (its group has no VFIO node or VFIO does not know the device);
 * -EBUSY group not viable (other devices of the group bound to host
 * drivers), open in another process, open here in a container other than
 * @attr->container, or, on the cdev path, the device's group is open or
 * the device is open through its cdev in another process; -EPERM
 * permission denied; -EACCES permission denied, or VFIO wants a VF token
 * (none or the wrong one was given); -ENOTSUP no usable IOMMU (including
 * vfio-noiommu groups); -ENOMEM; or the errno of IOMMU_IOAS_ALLOC or
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT (-EADDRINUSE: the IOAS maps memory where
 * the device reserves IOVAs).
 */
int p2pmr_dev_open_ex(const char *bdf, const struct p2pmr_dev_attr *attr,
		      struct p2pmr_dev **devp);

/**
 * p2pmr_dev_set_vf_token() - Set the VF token of a PF that VFIO owns.
 * @dev: the PF, open
 * @uuid: the token, a UUID in its 36-character text form
 *
 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN: from now on VFIO opens the PF's VFs
 * (and the PF itself while its VFs are in use) only with this token
 * (struct p2pmr_dev_attr's @vf_token).  The token lasts while the PF's
 * driver is bound; set it again after a rebind.
 *
 * Return: 0; -EINVAL @uuid is not a UUID, or the device is not an SR-IOV
 * PF (VFIO answers ENOTTY); other negative errnos from VFIO.
 */
int p2pmr_dev_set_vf_token(struct p2pmr_dev *dev, const char *uuid);

/**
 * p2pmr_dev_close() - Close a device; release its group and container
 *	(or its IOAS and iommufd) when it was their last user.
 * @dev: device from p2pmr_dev_open(), or NULL
 *
 * dma-bufs exported from the device are revoked by the kernel driver when
 * the device closes; their fds stay valid and must still be closed.  DMA
 * mappings of the container stay until the container's last device
 * closes.
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
 * p2pmr_dev_group_fd() - The VFIO group fd, as needed for
 * VFIO_DEVICE_PCI_HOT_RESET.
 * @dev: an open device
 *
 * The fd is owned by the library and shared by the open devices of the
 * group; do not close it.  A device opened through its cdev has no group
 * fd: its VFIO_DEVICE_PCI_HOT_RESET takes none (an empty array).
 *
 * Return: the fd, or -1 for an adopted device fd or a device opened
 * through its cdev.
 */
int p2pmr_dev_group_fd(const struct p2pmr_dev *dev);

/**
 * p2pmr_dev_container_fd() - The VFIO container fd, or the iommufd.
 * @dev: an open device
 *
 * For a device opened through its group, the VFIO container
 * (/dev/vfio/vfio); for one opened through its cdev, the iommufd
 * (/dev/iommu) its IOAS (p2pmr_dev_ioas_id()) lives in.  The fd is owned
 * by the library and shared by the devices of the container; do not close
 * it.  Callers may issue their own VFIO_IOMMU_* (or IOMMU_IOAS_*) ioctls
 * on it, but mappings made that way are unknown to p2pmr_dma_map()'s IOVA
 * allocator: keep them outside the IOVAs it hands out, or use
 * p2pmr_dma_map() only.
 *
 * Return: the fd, or -1 for an adopted device fd.
 */
int p2pmr_dev_container_fd(const struct p2pmr_dev *dev);

/**
 * p2pmr_dev_ioas_id() - The iommufd IO address space of a device opened
 *	through its VFIO cdev.
 * @dev: an open device
 *
 * The IOAS the device is attached to, in the iommufd that
 * p2pmr_dev_container_fd() returns: the @ioas_id of IOMMU_IOAS_* ioctls.
 *
 * Return: the IOAS ID (iommufd's object IDs fit in 31 bits), or -1 for a
 * device opened through its group or adopted.
 */
int p2pmr_dev_ioas_id(const struct p2pmr_dev *dev);

/* p2pmr_dma_map() @flags: what the device may do with the memory. */
enum {
	P2PMR_DMA_READ	= 1 << 0,	/* the device reads it */
	P2PMR_DMA_WRITE	= 1 << 1,	/* the device writes it */
};

/**
 * p2pmr_dma_map() - Map host memory for DMA by the devices of a container.
 * @dev: an open device (not an adopted one)
 * @vaddr: start of the memory, aligned to p2pmr_page_size()
 * @length: its length, a non-zero multiple of p2pmr_page_size()
 * @flags: P2PMR_DMA_READ and/or P2PMR_DMA_WRITE
 * @iovap: receives the I/O virtual address the devices use for @vaddr
 *
 * Picks a free IOVA inside the ranges the kernel reports as usable
 * (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE of a VFIO container, or
 * IOMMU_IOAS_IOVA_RANGES of an IOAS, read again after each device
 * attached to it; reserved regions such as the MSI window lie outside
 * them), never 0, and maps the memory there with VFIO_IOMMU_MAP_DMA, or
 * IOMMU_IOAS_MAP with IOMMU_IOAS_MAP_FIXED_IOVA.  The memory is pinned
 * (and counted against RLIMIT_MEMLOCK) until p2pmr_dma_unmap() or until
 * the container's last device closes.  Concurrent calls on devices of one
 * container are safe.
 *
 * Return: 0; -EINVAL bad alignment, length or flags, or an adopted device;
 * -ENOSPC no free IOVA range is large enough; -ENOMEM out of memory, or
 * the kernel could not pin the memory (RLIMIT_MEMLOCK); or the errno of
 * VFIO_IOMMU_GET_INFO, IOMMU_IOAS_IOVA_RANGES, VFIO_IOMMU_MAP_DMA or
 * IOMMU_IOAS_MAP.
 */
int p2pmr_dma_map(struct p2pmr_dev *dev, void *vaddr, size_t length,
		  uint32_t flags, uint64_t *iovap);

/**
 * p2pmr_dma_unmap() - Undo a p2pmr_dma_map().
 * @dev: an open device of the same container
 * @iova: the IOVA p2pmr_dma_map() returned
 * @length: the length given to p2pmr_dma_map()
 *
 * Return: 0; -ENOENT no mapping of @length bytes at @iova was made with
 * p2pmr_dma_map() in this container; -EINVAL an adopted device; or the
 * errno of VFIO_IOMMU_UNMAP_DMA or IOMMU_IOAS_UNMAP.
 */
int p2pmr_dma_unmap(struct p2pmr_dev *dev, uint64_t iova, size_t length);

/**
 * p2pmr_iova_reserve() - Keep p2pmr_dma_map() away from a range of IOVAs.
 * @dev: an open device (not an adopted one)
 * @iova: start of the range, aligned to p2pmr_page_size()
 * @length: its length, a non-zero multiple of p2pmr_page_size()
 *
 * Some devices decode addresses of their own before the IOMMU sees them:
 * an NVMe controller serves a PRP that falls inside its controller memory
 * buffer (CMB) from the CMB, whatever the IOMMU maps there.  A userspace
 * driver reserves such windows (the CMB's controller address, its BARs'
 * bus addresses) so that no host memory mapped for DMA gets an IOVA
 * inside them.  Nothing is mapped; the range may lie outside the usable
 * IOVA ranges.  The reservation serves every device of the container and
 * stays until p2pmr_iova_unreserve() or until the container's last device
 * closes.
 *
 * Return: 0; -EINVAL bad alignment or length, a range that wraps past the
 * top of the address space, or an adopted device; -EEXIST the range
 * overlaps a mapping or a reservation of the container; -ENOMEM.
 */
int p2pmr_iova_reserve(struct p2pmr_dev *dev, uint64_t iova, uint64_t length);

/**
 * p2pmr_iova_unreserve() - Undo a p2pmr_iova_reserve().
 * @dev: an open device of the same container
 * @iova: the @iova given to p2pmr_iova_reserve()
 * @length: the @length given to it
 *
 * Return: 0; -ENOENT no reservation of @length bytes at @iova in this
 * container; -EINVAL an adopted device.
 */
int p2pmr_iova_unreserve(struct p2pmr_dev *dev, uint64_t iova,
			 uint64_t length);

/** Region flags reported by p2pmr_query_region(). */
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
 * p2pmr_query_region() - Describe one region of a device.
 * @dev: an open device
 * @index: VFIO region index
 * @reg: receives the description
 *
 * Return: 0, or -EINVAL if @index is not a region of the device.
 */
int p2pmr_query_region(struct p2pmr_dev *dev, uint32_t index,
		       struct p2pmr_region *reg);

/**
 * p2pmr_region_mmap() - Map a whole region into the process.
 * @dev: an open device
 * @index: VFIO region index of an mmap-able region
 * @addrp: receives the mapping (unmap with munmap(*addrp, *lenp))
 * @lenp: receives its length
 *
 * The whole region is mapped read-write, ignoring VFIO's sparse-mmap
 * capability; for a range of a BAR, with a dma-buf of the same bytes,
 * p2pmr_buf_open() maps only what it may.
 *
 * Return: 0; -EINVAL not mmap-able; or the errno of mmap().
 */
int p2pmr_region_mmap(struct p2pmr_dev *dev, uint32_t index, void **addrp,
		      size_t *lenp);

/**
 * p2pmr_dev_adopt() - Wrap a VFIO device fd the caller already opened.
 * @fd: a VFIO device fd (from VFIO_GROUP_GET_DEVICE_FD, a VFIO cdev bound
 *	to an iommufd, or received from another process with p2pmr_recv_fd())
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
 * passed NULL, p2pmr_list_devices().  Read with secure_getenv(): a set-user-ID
 * program gets "/sys".
 */
const char *p2pmr_sysfs_root(void);

/**
 * p2pmr_dev_root() - The directory the library finds VFIO's nodes in.
 *
 * Return: $P2PMR_DEVFS if set and non-empty (for tests), else "/dev";
 * read with secure_getenv().  p2pmr_dev_open() opens <root>/vfio/vfio and
 * <root>/vfio/N, or <root>/iommu and <root>/vfio/devices/vfioN.
 */
const char *p2pmr_dev_root(void);

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
 * p2pmr_is_vfio_bound() - Whether sysfs shows a PCI function bound to VFIO.
 * @sysfs: sysfs mount to read, NULL for p2pmr_sysfs_root()
 * @bdf: the function's canonical address ("DDDD:BB:DD.F")
 *
 * Decided by what the kernel shows, not by the driver's name: the function
 * has a VFIO device node (<bdf>/vfio-dev/, kernels with the VFIO cdev), or
 * its driver's module uses vfio_pci_core (module/vfio_pci_core/holders/),
 * as vfio-pci, vfio-pci-p2p and the variant drivers (mlx5_vfio_pci,
 * nvgrace_gpu_vfio_pci, hisi_acc_vfio_pci, pds_vfio_pci...) do.  Only for
 * a driver built into the kernel, which sysfs does not tie to a module,
 * does the name decide: one containing "vfio".  Advisory:
 * p2pmr_dev_open() asks VFIO itself.
 *
 * Return: 1 if bound to a VFIO driver, else 0.
 */
int p2pmr_is_vfio_bound(const char *sysfs, const char *bdf);

/**
 * p2pmr_list_devices() - Enumerate PCI functions bound to a VFIO driver.
 * @sysfs: sysfs mount to read, NULL for p2pmr_sysfs_root()
 * @flags: P2PMR_LIST_* flags
 * @listp: receives an array sorted by address (free it with
 *	p2pmr_free_devices()); NULL when none were found
 * @np: receives the number of entries
 *
 * Reads <sysfs>/bus/pci/devices/<bdf>/{driver,iommu_group,vendor,device,
 * resource} without opening any device, so it needs no privileges.  Which
 * functions are VFIO's is decided by p2pmr_is_vfio_bound().
 *
 * Return: 0 (also when no device matches); -ENOENT no <sysfs>/bus/pci;
 * -ENOMEM.
 */
int p2pmr_list_devices(const char *sysfs, unsigned int flags,
		       struct p2pmr_pci_info **listp, size_t *np);

/**
 * p2pmr_free_devices() - Free the array of p2pmr_list_devices().
 * @list: the array, or NULL
 */
void p2pmr_free_devices(struct p2pmr_pci_info *list);

/**
 * p2pmr_parse_size() - Parse a size or count as the library's parsers do.
 * @s: decimal, or hexadecimal after "0x"; optionally followed by one of K,
 *	M, G or T (binary multiples, either case).  No sign, blank or other
 *	trailing character.
 * @v: receives the value
 *
 * The syntax of the numbers in p2pmr_parse_ranges(), for programs that
 * take sizes on their command line.
 *
 * Return: 0; -EINVAL not such a number; -EOVERFLOW it does not fit in 64
 * bits.
 */
int p2pmr_parse_size(const char *s, uint64_t *v);

/**
 * p2pmr_page_size() - The alignment ranges and DMA mappings need.
 *
 * Return: the kernel's page size, sysconf(_SC_PAGESIZE): 4096 on x86, 4 KiB
 * to 64 KiB on arm64 and ppc64.
 */
size_t p2pmr_page_size(void);

/** struct p2pmr_range - A byte range of a BAR. */
struct p2pmr_range {
	uint64_t offset;
	uint64_t length;
};

/* Most ranges one dma-buf may have (the exporter's limit). */
#define P2PMR_MAX_RANGES	65536

/**
 * p2pmr_parse_ranges() - Parse a range list.
 * @spec: "OFF:LEN[,OFF:LEN...]"; each number as p2pmr_parse_size() takes it
 * @rangesp: receives a new array of the ranges, in the order given (free it
 *	with p2pmr_free_ranges())
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
 * p2pmr_free_ranges() - Free the array of p2pmr_parse_ranges().
 * @ranges: the array, or NULL
 */
void p2pmr_free_ranges(struct p2pmr_range *ranges);

/**
 * p2pmr_check_ranges() - Check ranges against a BAR before exporting them.
 * @ranges: the ranges
 * @n: their number
 * @bar_size: size of the BAR in bytes
 *
 * Return: 0; -EINVAL no ranges, a range that is empty, not aligned to
 * p2pmr_page_size(), ends past @bar_size or overlaps another; -EOVERFLOW
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
 * device to vfio-pci-p2p, or use vfio-pci of Linux 6.19 or later; see
 * p2pmr(1)) or the
 * device has no IOMMU; -ENODEV @bar is not a present memory BAR; -EINVAL,
 * -EOVERFLOW, -E2BIG bad ranges or flags; -EPERM/-EACCES permission denied;
 * or another errno of the ioctl.
 */
int p2pmr_export(struct p2pmr_dev *dev, uint32_t bar,
		 const struct p2pmr_range *ranges, size_t n,
		 uint32_t open_flags);

/**
 * struct p2pmr_buf - A BAR range as a dma-buf and as CPU memory.
 * @fd: the dma-buf of @ranges (O_RDWR, close-on-exec).  Owned by the
 *	buffer: dup() it to keep it past p2pmr_buf_close()
 * @addr: the CPU mapping, laid out as the dma-buf is (byte x of the
 *	dma-buf is at @addr + x), or NULL when @prot was PROT_NONE.  Parts
 *	that are not in @mapped are PROT_NONE: touching them faults
 * @length: bytes in the dma-buf and in the window at @addr
 * @bar: the BAR
 * @nr_ranges: number of @ranges
 * @ranges: the BAR ranges exported, in dma-buf order
 * @nr_mapped: number of @mapped
 * @mapped: the parts of the window that are mapped, as offsets from @addr
 *	(that is, dma-buf offsets), in order and merged where adjacent; all
 *	of [0, @length) unless P2PMR_BUF_SPARSE allowed holes
 *
 * All fields belong to the library; read them, do not change them.
 */
struct p2pmr_buf {
	int fd;
	void *addr;
	uint64_t length;
	uint32_t bar;
	size_t nr_ranges;
	struct p2pmr_range *ranges;
	size_t nr_mapped;
	struct p2pmr_range *mapped;
};

/* p2pmr_buf_open() @flags */
enum {
	/* Map what VFIO allows and leave holes, instead of refusing. */
	P2PMR_BUF_SPARSE	= 1 << 0,
};

/**
 * p2pmr_buf_open() - Export a BAR range as a dma-buf and map it for the CPU.
 * @dev: an open device
 * @bar: BAR index, 0-5
 * @offset: start of the range in the BAR, aligned to p2pmr_page_size()
 * @length: its length, a non-zero multiple of p2pmr_page_size()
 * @prot: the CPU mapping's protection: PROT_READ, PROT_READ | PROT_WRITE
 *	(PROT_WRITE alone is taken as both), or PROT_NONE for no CPU mapping
 * @flags: P2PMR_BUF_* flags
 * @bufp: receives the buffer; release it with p2pmr_buf_close()
 *
 * One call for what a program that both DMAs and touches a BAR range
 * needs: the dma-buf (p2pmr_export()) and a CPU mapping of the same
 * bytes, mapped from the device fd.  Only the range is mapped, with the
 * protection asked for, not the whole region read-write.  VFIO may allow
 * only parts of a BAR to be mmapped (the sparse-mmap capability of
 * VFIO_DEVICE_GET_REGION_INFO, for example around an MSI-X table): only
 * those parts are mapped.  Without P2PMR_BUF_SPARSE the whole range must
 * be mappable; with it, holes are left PROT_NONE and @mapped lists what
 * was mapped.  An RDMA MR over the dma-buf with the iova @addr gives RDMA
 * and the CPU the same addresses.
 *
 * Return: 0; -EINVAL bad @prot or @flags, or a range that
 * p2pmr_check_ranges() refuses; -ENXIO the CPU may not mmap the range
 * (the region is not mmappable, a part of the range is not, without
 * P2PMR_BUF_SPARSE, or no part is, with it; the message names the first
 * part refused); -ENOMEM; the errno of mmap(); or any errno of
 * p2pmr_export().
 */
int p2pmr_buf_open(struct p2pmr_dev *dev, uint32_t bar, uint64_t offset,
		   uint64_t length, int prot, uint32_t flags,
		   struct p2pmr_buf **bufp);

/**
 * p2pmr_buf_open_ranges() - p2pmr_buf_open() for several BAR ranges.
 * @dev: an open device
 * @bar: BAR index, 0-5
 * @ranges: the ranges, in the order they appear in the dma-buf
 * @n: their number
 * @prot: as for p2pmr_buf_open()
 * @flags: P2PMR_BUF_* flags
 * @bufp: receives the buffer; release it with p2pmr_buf_close()
 *
 * The dma-buf holds @ranges one after the other, as p2pmr_export() makes
 * it; the CPU window at @bufp->addr is laid out the same way, each range
 * mapped (where VFIO allows) right after the one before.
 *
 * Return: as p2pmr_buf_open().
 */
int p2pmr_buf_open_ranges(struct p2pmr_dev *dev, uint32_t bar,
			  const struct p2pmr_range *ranges, size_t n, int prot,
			  uint32_t flags, struct p2pmr_buf **bufp);

/**
 * p2pmr_buf_close() - Unmap a buffer and close its dma-buf fd.
 * @buf: from p2pmr_buf_open(), or NULL
 *
 * MRs registered on the dma-buf keep it alive; the CPU mapping goes now.
 */
void p2pmr_buf_close(struct p2pmr_buf *buf);

struct ibv_pd;
struct ibv_mr;

/**
 * p2pmr_reg_mr() - Register a dma-buf as an RDMA memory region.
 * @pd: protection domain of the RDMA device
 * @offset: start of the MR within the dma-buf
 * @length: its length
 * @iova: the address RDMA operations use for byte @offset
 * @dmabuf_fd: the dma-buf, e.g. from p2pmr_export()
 * @access: IBV_ACCESS_* flags
 * @mrp: receives the MR; release it with ibv_dereg_mr()
 *
 * A thin wrapper of ibv_reg_dmabuf_mr() that explains failures; the first
 * six arguments are ibv_reg_dmabuf_mr()'s, in its order.  It lives in its
 * own object: programs that link libp2pmr.a statically and do not call it
 * need no libibverbs.
 *
 * Return: 0; -EOPNOTSUPP the RDMA device (or its kernel driver) cannot
 * import dma-bufs; -EINVAL bad range or access flags, or @dmabuf_fd is not
 * a dma-buf; or the errno of ibv_reg_dmabuf_mr().
 */
int p2pmr_reg_mr(struct ibv_pd *pd, uint64_t offset, size_t length,
		 uint64_t iova, int dmabuf_fd, int access,
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
