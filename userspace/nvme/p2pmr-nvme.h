/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libp2pmr-nvme: a small userspace NVMe driver over VFIO, on libp2pmr.
 *
 * It owns one NVMe controller bound to a VFIO driver (vfio-pci-p2p,
 * vfio-pci): enables and disables it, runs the admin queue, creates I/O
 * queue pairs whose completions are polled (and, if asked, signalled by
 * MSI-X interrupts on an eventfd: p2pmr_nvme_irq_fd()), builds PRP
 * lists, and enables the controller memory buffer (CMB) so that PRPs may
 * point into it.  Host memory the controller reads or writes (queues, PRP
 * lists, data buffers) comes from one arena mapped with p2pmr_dma_map();
 * the controller's BAR windows are reserved with p2pmr_iova_reserve() so
 * that no host IOVA collides with the CMB's controller address.
 *
 * Conventions, as libp2pmr: functions returning int return 0 on success
 * and a negative errno on failure (errno set too, p2pmr_errmsg() says what
 * failed).  Functions that execute an NVMe command return a positive
 * value, the command's status (P2PMR_NVME_STATUS()), when the controller
 * completed it with an error.
 *
 * Thread safety: none inside a controller.  The admin queue (every
 * p2pmr_nvme_* call taking a struct p2pmr_nvme) is used by one thread at a
 * time; each queue pair by one thread at a time.  Different controllers
 * are independent.
 *
 * Test hook: with P2PMR_NVME_FAULT=prp-list in the environment when the
 * controller is opened (read with secure_getenv()), every PRP list built
 * gets its first two entries swapped, so that tests can show they catch a
 * broken PRP list.
 */
#ifndef P2PMR_NVME_H
#define P2PMR_NVME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct p2pmr_dev;
struct p2pmr_nvme;
struct p2pmr_nvme_qp;

/** struct p2pmr_nvme_sqe - A submission queue entry (NVMe base spec 4.2). */
struct p2pmr_nvme_sqe {
	uint8_t opc;
	uint8_t flags;		/* FUSE (bits 0-1), PSDT (bits 6-7): 0 = PRPs */
	uint16_t cid;		/* set by the driver */
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	uint64_t prp1;		/* set by the driver when a buffer is given */
	uint64_t prp2;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

/** struct p2pmr_nvme_cqe - A completion queue entry (NVMe base spec 4.6). */
struct p2pmr_nvme_cqe {
	uint32_t dw0;		/* command specific */
	uint32_t dw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;	/* phase (bit 0), SC, SCT, CRD, M, DNR */
};

/* The status of a completion: SCT << 8 | SC; 0 is success. */
#define P2PMR_NVME_STATUS(cqe)	(((cqe)->status >> 1) & 0x7ff)
#define P2PMR_NVME_DNR(cqe)	(((cqe)->status >> 15) & 1)

/* Generic command status values (SCT 0) the tests meet. */
enum {
	P2PMR_NVME_SC_SUCCESS		= 0x000,
	P2PMR_NVME_SC_INVALID_OPCODE	= 0x001,
	P2PMR_NVME_SC_INVALID_FIELD	= 0x002,
	P2PMR_NVME_SC_DATA_XFER_ERROR	= 0x004,
	P2PMR_NVME_SC_INVALID_NS	= 0x00b,
	P2PMR_NVME_SC_INVALID_CMB_USE	= 0x012,
	P2PMR_NVME_SC_INVALID_PRP_OFF	= 0x013,
	P2PMR_NVME_SC_LBA_RANGE		= 0x080,
	P2PMR_NVME_SC_INVALID_QID	= 0x101,	/* SCT 1 */
	P2PMR_NVME_SC_INVALID_QSIZE	= 0x102,	/* SCT 1 */
};

/* Opcodes used by the driver and its tests. */
enum {
	P2PMR_NVME_ADMIN_DELETE_SQ	= 0x00,
	P2PMR_NVME_ADMIN_CREATE_SQ	= 0x01,
	P2PMR_NVME_ADMIN_DELETE_CQ	= 0x04,
	P2PMR_NVME_ADMIN_CREATE_CQ	= 0x05,
	P2PMR_NVME_ADMIN_IDENTIFY	= 0x06,
	P2PMR_NVME_ADMIN_SET_FEATURES	= 0x09,
	P2PMR_NVME_CMD_FLUSH		= 0x00,
	P2PMR_NVME_CMD_WRITE		= 0x01,
	P2PMR_NVME_CMD_READ		= 0x02,
};

/**
 * struct p2pmr_nvme_opts - Options of p2pmr_nvme_open(); zero means the
 *	default.
 * @admin_depth: entries of the admin queue pair [32]
 * @dma_size: bytes of host memory mapped for the controller's DMA: queues,
 *	PRP lists, identify data and p2pmr_nvme_dma_alloc() [4 MiB]
 * @timeout_ms: how long a command may take before the call gives up with
 *	-ETIMEDOUT [30000]
 * @cmb: non-zero: enable the controller memory buffer if the controller
 *	has one (CAP.CMBS); p2pmr_nvme_open() fails with -EOPNOTSUPP if not
 * @pmr: non-zero: enable the persistent memory region, with its controller
 *	memory space (PMRMSC), if the controller has one (CAP.PMRS) that
 *	commands may use (PMRCAP.CMSS); -EOPNOTSUPP if not
 * @nap_us: while a wait finds no completion, sleep this many microseconds
 *	between looks (below 1000000) instead of looking again at once (only
 *	yielding the CPU): the waiting thread then leaves its CPU to others,
 *	such as an emulated controller's own threads, for a little latency [0]
 * @irq: non-zero: every I/O completion queue interrupts when it posts an
 *	entry, on MSI-X vector <queue id>, and VFIO signals each of those
 *	vectors to one eventfd (p2pmr_nvme_irq_fd()), so that a thread may
 *	sleep until a completion comes; -EOPNOTSUPP if the device has no
 *	MSI-X vector for queue 1 [0: no interrupts]
 */
struct p2pmr_nvme_opts {
	uint32_t admin_depth;
	size_t dma_size;
	uint32_t timeout_ms;
	int cmb;
	int pmr;
	uint32_t nap_us;
	int irq;
};

/**
 * p2pmr_nvme_open() - Open an NVMe controller through VFIO and enable it.
 * @bdf: its PCI address, bound to a VFIO driver
 * @opts: options, or NULL for the defaults
 * @np: receives the controller
 *
 * Opens the device with p2pmr_dev_open(), turns on memory decode and bus
 * mastering (and INTx off: completions are polled, or with @opts->irq
 * signalled by MSI-X), maps BAR0, reserves
 * the IOVAs of the device's memory BARs, maps the DMA arena, disables the
 * controller, enables the CMB if asked (CMBMSC: CBA = the bus address of
 * the CMB in its BAR, so PRPs carry the same addresses the kernel's nvme
 * driver uses), sets up the admin queue, enables the controller (MPS =
 * 4 KiB, 64-byte SQEs, 16-byte CQEs) and reads Identify Controller.
 *
 * Return: 0; -EINVAL bad @bdf or options; -EOPNOTSUPP the host page size is
 * not 4 KiB, the controller does not support 4 KiB pages or the NVM command
 * set, or @opts->cmb without a CMB, @opts->pmr without a PMR commands can
 * use, or @opts->irq without two MSI-X vectors; -ETIMEDOUT the controller (or its PMR) did not
 * become ready within CAP.TO; -EIO it reported a fatal status, or Identify
 * failed; or the errors of p2pmr_dev_open(), p2pmr_dma_map().
 */
int p2pmr_nvme_open(const char *bdf, const struct p2pmr_nvme_opts *opts,
		    struct p2pmr_nvme **np);

/**
 * p2pmr_nvme_close() - Shut the controller down and release everything.
 * @n: controller, or NULL
 *
 * Queue pairs still open are freed (the controller is disabled, which
 * deletes them on its side).
 */
void p2pmr_nvme_close(struct p2pmr_nvme *n);

/**
 * p2pmr_nvme_dev() - The libp2pmr device under the controller (to export
 *	the CMB's BAR as a dma-buf, for instance).
 * @n: controller
 *
 * Return: the device, owned by @n.
 */
struct p2pmr_dev *p2pmr_nvme_dev(struct p2pmr_nvme *n);

/**
 * p2pmr_nvme_irq_fd() - The eventfd the I/O queues' interrupts signal.
 * @n: controller
 *
 * With p2pmr_nvme_opts.irq, the fd (owned by @n, non-blocking) becomes
 * readable after an I/O completion queue posted an entry.  Read its 8
 * bytes to clear it, then take the entries with p2pmr_nvme_poll(): an
 * entry may be polled before its interrupt comes, so the fd may also be
 * readable with nothing new to take.  The admin queue does not signal it.
 * The fd stays the same across p2pmr_nvme_restart() and new queue pairs.
 *
 * Return: the fd; -1 without p2pmr_nvme_opts.irq.
 */
int p2pmr_nvme_irq_fd(const struct p2pmr_nvme *n);

/**
 * p2pmr_nvme_disable() - Clear CC.EN and wait for CSTS.RDY to clear.
 * @n: controller
 *
 * The controller forgets its queues: free the queue pairs first, and
 * call p2pmr_nvme_enable() before any other command.
 *
 * Return: 0; -ETIMEDOUT.
 */
int p2pmr_nvme_disable(struct p2pmr_nvme *n);

/**
 * p2pmr_nvme_enable() - Set up the admin queue afresh and enable the
 *	controller.
 * @n: a disabled controller
 *
 * Return: 0; -EBUSY the controller is enabled; -ETIMEDOUT; -EIO CSTS.CFS.
 */
int p2pmr_nvme_enable(struct p2pmr_nvme *n);

/**
 * p2pmr_nvme_csts_ok() - Whether a CSTS value says the controller serves.
 * @csts: the CSTS register as read
 *
 * Pure.  All ones is what a read gets from a device that is gone, being
 * reset or not decoding memory.
 *
 * Return: 1 when CSTS.RDY is set, CSTS.CFS clear and @csts not all ones;
 * else 0.
 */
int p2pmr_nvme_csts_ok(uint32_t csts);

/**
 * p2pmr_nvme_ready() - Read CSTS and say whether the controller serves.
 * @n: controller
 *
 * One register read.  0 after a reset under the driver (CC.EN is clear
 * then), a controller fatal status, or memory decode off.
 *
 * Return: as p2pmr_nvme_csts_ok().
 */
int p2pmr_nvme_ready(struct p2pmr_nvme *n);

/**
 * p2pmr_nvme_restart() - Bring the controller back after a reset or a
 *	failure under the driver.
 * @n: controller
 *
 * Every I/O queue pair of @n is freed without Delete commands (the
 * controller lost them: pointers to them are invalid afterwards); memory
 * decode and bus mastering are set again through VFIO (a config write,
 * which the PCI core holds back until a reset in progress is done; the
 * exporter revokes the device's dma-bufs on it); then CAP must read as at
 * open, the controller is disabled, the CMB enabled again at the same
 * address if it was, the admin queue set up afresh and the controller
 * enabled.  The Identify data read at open is kept.  The CMB's contents
 * are whatever the reset left.
 *
 * Return: 0; -EAGAIN CAP does not read as before (the device is not
 * back yet: try again later); the errors of p2pmr_nvme_disable(),
 * p2pmr_nvme_enable() and of the CMB set-up (p2pmr_nvme_open()).
 */
int p2pmr_nvme_restart(struct p2pmr_nvme *n);

/**
 * p2pmr_nvme_reg32() - Read a 32-bit controller register.
 * @n: controller
 * @off: offset in BAR0 (e.g. 0x1c for CSTS)
 *
 * Return: the value.
 */
uint32_t p2pmr_nvme_reg32(struct p2pmr_nvme *n, uint32_t off);

/**
 * p2pmr_nvme_id_ctrl() - The Identify Controller data read at enable time.
 * @n: controller
 *
 * Return: 4096 bytes owned by @n (VID at 0, SN at 4, MN at 24, MDTS at 77,
 * NN at 516).
 */
const uint8_t *p2pmr_nvme_id_ctrl(struct p2pmr_nvme *n);

/**
 * p2pmr_nvme_max_transfer() - The largest data transfer of one command.
 * @n: controller
 *
 * Return: bytes, from MDTS (capped at what one PRP list page describes).
 */
size_t p2pmr_nvme_max_transfer(struct p2pmr_nvme *n);

/** struct p2pmr_nvme_ns - A namespace, from Identify Namespace. */
struct p2pmr_nvme_ns {
	uint32_t nsid;
	uint64_t nsze;		/* blocks */
	uint32_t lba_size;	/* bytes */
};

/**
 * p2pmr_nvme_ns_info() - Identify Namespace, digested.
 * @n: controller
 * @nsid: namespace id
 * @ns: receives the namespace
 *
 * Return: 0; a positive NVMe status (e.g. Invalid Namespace); -ENODEV an
 * inactive namespace (all zeroes); -EOPNOTSUPP a format with metadata
 * (the commands here carry none); -EIO a format index or data size out
 * of range; -ETIMEDOUT.
 */
int p2pmr_nvme_ns_info(struct p2pmr_nvme *n, uint32_t nsid,
		       struct p2pmr_nvme_ns *ns);

/**
 * struct p2pmr_nvme_buf - A data buffer as the controller addresses it.
 * @addr: with @pages NULL, the controller address of the first byte of a
 *	buffer contiguous in the controller's address space (an IOVA from
 *	p2pmr_nvme_dma_alloc(), or an address inside the CMB)
 * @len: bytes
 * @pages: or the controller addresses of the buffer's pages, each page
 *	aligned, in order; the data starts @offset bytes into @pages[0]
 * @nr_pages: entries of @pages
 * @offset: offset of the first byte in @pages[0]; must be dword aligned
 */
struct p2pmr_nvme_buf {
	uint64_t addr;
	size_t len;
	const uint64_t *pages;
	size_t nr_pages;
	uint32_t offset;
};

/**
 * p2pmr_nvme_admin() - Execute an admin command and wait for it.
 * @n: controller
 * @sqe: the command (cid, prp1 and prp2 are filled in when @buf is given)
 * @buf: its data buffer, or NULL
 * @cqe: receives the completion, or NULL
 *
 * Return: 0; the NVMe status (> 0) of a failed command; -EINVAL bad
 * buffer; -ETIMEDOUT.
 */
int p2pmr_nvme_admin(struct p2pmr_nvme *n, struct p2pmr_nvme_sqe *sqe,
		     const struct p2pmr_nvme_buf *buf,
		     struct p2pmr_nvme_cqe *cqe);

/**
 * p2pmr_nvme_identify() - Identify with a CNS value into a 4 KiB buffer.
 * @n: controller
 * @cns: 1 controller, 0 namespace, 2 active namespace list...
 * @nsid: namespace id, where the CNS value takes one
 * @data: receives 4096 bytes
 *
 * Return: as p2pmr_nvme_admin().
 */
int p2pmr_nvme_identify(struct p2pmr_nvme *n, uint8_t cns, uint32_t nsid,
			void *data);

/**
 * p2pmr_nvme_qp_create() - Create an I/O completion and submission queue
 *	pair, polled; with p2pmr_nvme_opts.irq also interrupting.
 * @n: controller
 * @depth: entries of each queue, 2..CAP.MQES + 1
 * @qpp: receives the queue pair
 *
 * With p2pmr_nvme_opts.irq the completion queue interrupts on MSI-X
 * vector <queue id>, signalled to p2pmr_nvme_irq_fd(): the first pair
 * enables MSI-X with up to 32 vectors, so queue ids 1 to 31 (and below
 * the device's MSI-X table size) can have interrupts.
 *
 * Return: 0; -EINVAL bad depth; -ENOSPC no queue id or DMA memory left,
 * or no MSI-X vector for the queue id; a negative errno of
 * VFIO_DEVICE_SET_IRQS; a positive NVMe status if the controller refused
 * a Create command.
 */
int p2pmr_nvme_qp_create(struct p2pmr_nvme *n, uint32_t depth,
			 struct p2pmr_nvme_qp **qpp);

/**
 * p2pmr_nvme_qp_destroy() - Delete the queue pair on the controller and
 *	free it.
 * @qp: queue pair, or NULL; commands still outstanding are abandoned
 *
 * Return: 0, or the first error of the Delete commands (the pair is freed
 * anyway).
 */
int p2pmr_nvme_qp_destroy(struct p2pmr_nvme_qp *qp);

/**
 * p2pmr_nvme_qp_id() - The queue id of a queue pair.
 * @qp: queue pair
 *
 * Return: the id (1 for the first pair created).
 */
uint16_t p2pmr_nvme_qp_id(const struct p2pmr_nvme_qp *qp);

/**
 * p2pmr_nvme_submit() - Put a command on a submission queue and ring the
 *	doorbell, without waiting.
 * @qp: queue pair
 * @sqe: the command; its cid is chosen here, and prp1/prp2 set from @buf
 * @buf: the data buffer, or NULL: prp1/prp2 are then sent as the caller
 *	set them (a Create I/O queue command's queue address, or zero)
 *
 * The PRP list, when the buffer spans more than two pages, lives in host
 * memory of the queue pair reserved for this cid until its completion is
 * polled; its entries may point into the CMB.
 *
 * Return: the cid (>= 0); -EBUSY the queue is full; -EINVAL a buffer
 * longer than p2pmr_nvme_max_transfer(), with a misaligned offset or page,
 * or with too few pages for @len.
 */
int p2pmr_nvme_submit(struct p2pmr_nvme_qp *qp, struct p2pmr_nvme_sqe *sqe,
		      const struct p2pmr_nvme_buf *buf);

/**
 * p2pmr_nvme_poll() - Reap completions.
 * @qp: queue pair
 * @cqes: receives up to @max completions
 * @max: room in @cqes
 * @timeout_ms: wait at most this long for the first one (0: do not wait)
 *
 * The wait also ends when the controller stops serving (CSTS read every
 * 100 ms, as p2pmr_nvme_ready()).  Between looks at the completion queue
 * it yields the CPU, or sleeps the open option's @nap_us.
 *
 * Return: the number of completions (0 when none came in time).
 */
int p2pmr_nvme_poll(struct p2pmr_nvme_qp *qp, struct p2pmr_nvme_cqe *cqes,
		    int max, uint32_t timeout_ms);

/**
 * p2pmr_nvme_exec() - Submit a command and wait for its completion.
 * @qp: queue pair with no other command outstanding
 * @sqe: as p2pmr_nvme_submit()
 * @buf: as p2pmr_nvme_submit()
 * @cqe: receives the completion, or NULL
 *
 * While it waits, CSTS is read every 100 ms: a controller that stopped
 * serving (p2pmr_nvme_ready() 0: reset, failed, memory decode off) will
 * not complete the command, so the wait ends then.
 *
 * Return: 0; the NVMe status (> 0) of a failed command; -EBUSY commands
 * outstanding; -EINVAL as p2pmr_nvme_submit(); -EIO the controller
 * stopped serving (the command stays outstanding: p2pmr_nvme_restart());
 * -ETIMEDOUT.
 */
int p2pmr_nvme_exec(struct p2pmr_nvme_qp *qp, struct p2pmr_nvme_sqe *sqe,
		    const struct p2pmr_nvme_buf *buf,
		    struct p2pmr_nvme_cqe *cqe);

/**
 * p2pmr_nvme_rw() - Read or Write @nlb blocks at @slba and wait.
 * @qp: queue pair
 * @opc: P2PMR_NVME_CMD_READ or P2PMR_NVME_CMD_WRITE
 * @nsid: namespace
 * @slba: first block
 * @nlb: number of blocks (1..65536)
 * @buf: the data, @buf->len bytes (the caller makes it @nlb blocks)
 *
 * Return: as p2pmr_nvme_exec().
 */
int p2pmr_nvme_rw(struct p2pmr_nvme_qp *qp, uint8_t opc, uint32_t nsid,
		  uint64_t slba, uint32_t nlb,
		  const struct p2pmr_nvme_buf *buf);

/**
 * p2pmr_nvme_dma_alloc() - Host memory the controller can reach.
 * @n: controller
 * @len: bytes, rounded up to 4 KiB pages
 * @vaddrp: receives the CPU address (page aligned, zeroed)
 * @iovap: receives the controller's address for it
 *
 * Contiguous in both address spaces, from the arena of @opts->dma_size.
 *
 * Return: 0; -EINVAL @len 0; -ENOSPC the arena is full.
 */
int p2pmr_nvme_dma_alloc(struct p2pmr_nvme *n, size_t len, void **vaddrp,
			 uint64_t *iovap);

/**
 * p2pmr_nvme_dma_free() - Give back p2pmr_nvme_dma_alloc() memory.
 * @n: controller
 * @vaddr: the address it returned
 * @len: the length given to it
 */
void p2pmr_nvme_dma_free(struct p2pmr_nvme *n, void *vaddr, size_t len);

/* CMBSZ bits (struct p2pmr_nvme_cmb @cmbsz). */
enum {
	P2PMR_NVME_CMBSZ_SQS	= 1 << 0,	/* submission queues */
	P2PMR_NVME_CMBSZ_CQS	= 1 << 1,	/* completion queues */
	P2PMR_NVME_CMBSZ_LISTS	= 1 << 2,	/* PRP and SGL lists */
	P2PMR_NVME_CMBSZ_RDS	= 1 << 3,	/* read data */
	P2PMR_NVME_CMBSZ_WDS	= 1 << 4,	/* write data */
};

/**
 * struct p2pmr_nvme_cmb - The enabled controller memory buffer.
 * @size: bytes (0: no CMB enabled)
 * @addr: its controller address: what PRPs carry to point into it
 * @bar: the BAR it lives in (CMBLOC.BIR)
 * @bar_offset: its offset in that BAR
 * @cmbsz: the CMBSZ register (P2PMR_NVME_CMBSZ_* bits, SZU, SZ)
 * @map: CPU mapping of the CMB (uncached MMIO: use p2pmr_nvme_cmb_write()
 *	and p2pmr_nvme_cmb_read()), NULL if the BAR cannot be mmapped
 */
struct p2pmr_nvme_cmb {
	uint64_t size;
	uint64_t addr;
	uint32_t bar;
	uint64_t bar_offset;
	uint32_t cmbsz;
	volatile void *map;
};

/* PMRCAP bits (struct p2pmr_nvme_pmr @pmrcap). */
enum {
	P2PMR_NVME_PMRCAP_RDS	= 1 << 3,	/* read data */
	P2PMR_NVME_PMRCAP_WDS	= 1 << 4,	/* write data */
	P2PMR_NVME_PMRCAP_CMSS	= 1 << 24,	/* controller memory space */
};

/**
 * struct p2pmr_nvme_pmr - The enabled persistent memory region.
 * @size: bytes: the whole BAR (0: no PMR enabled)
 * @addr: its controller address (PMRMSC.CBA, the BAR's bus address):
 *	what PRPs carry to point into it
 * @bar: the BAR it is (PMRCAP.BIR)
 * @pmrcap: the PMRCAP register (P2PMR_NVME_PMRCAP_* bits)
 */
struct p2pmr_nvme_pmr {
	uint64_t size;
	uint64_t addr;
	uint32_t bar;
	uint32_t pmrcap;
};

/**
 * p2pmr_nvme_pmr_info() - Where the PMR is.
 * @n: controller
 * @pmr: receives the description
 *
 * The PMR is on after p2pmr_nvme_open() with @opts->pmr, and again after
 * p2pmr_nvme_restart(); its contents persist (that is what it is for).
 *
 * Return: 0; -ENODEV no PMR was enabled.
 */
int p2pmr_nvme_pmr_info(struct p2pmr_nvme *n, struct p2pmr_nvme_pmr *pmr);

/**
 * p2pmr_nvme_cmb_info() - Where the CMB is.
 * @n: controller
 * @cmb: receives the description
 *
 * Return: 0; -ENODEV no CMB was enabled.
 */
int p2pmr_nvme_cmb_info(struct p2pmr_nvme *n, struct p2pmr_nvme_cmb *cmb);

/**
 * p2pmr_nvme_cmb_write() - Copy host bytes into the CMB through the CPU.
 * @n: controller
 * @off: offset in the CMB, 8-byte aligned
 * @src: bytes
 * @len: a multiple of 8
 *
 * 8-byte MMIO stores (each is an exit to the emulator under QEMU).
 *
 * Return: 0; -EINVAL misaligned or out of the CMB; -ENODEV no CMB mapping.
 */
int p2pmr_nvme_cmb_write(struct p2pmr_nvme *n, uint64_t off, const void *src,
			 size_t len);

/**
 * p2pmr_nvme_cmb_read() - Copy CMB bytes to host memory through the CPU.
 * @n: controller
 * @off: offset in the CMB, 8-byte aligned
 * @dst: receives @len bytes
 * @len: a multiple of 8
 *
 * Return: as p2pmr_nvme_cmb_write().
 */
int p2pmr_nvme_cmb_read(struct p2pmr_nvme *n, uint64_t off, void *dst,
			size_t len);

/**
 * p2pmr_nvme_prp_build() - PRP1, PRP2 and the PRP list for a buffer.
 * @buf: the buffer (see struct p2pmr_nvme_buf)
 * @page: the controller's memory page size (CC.MPS), a power of two
 * @list: room for the PRP list entries (little endian on the wire; the
 *	host is x86)
 * @list_cap: entries @list holds
 * @list_addr: the controller address of @list
 * @prp1: receives PRP1
 * @prp2: receives PRP2: 0, the second page, or @list_addr
 *
 * Pure: touches nothing but @list, @prp1 and @prp2; for the unit tests.
 * A list that does not fit one @list of @list_cap entries (no chaining)
 * is -E2BIG.
 *
 * Return: the number of list entries written (0 when none is needed);
 * -EINVAL empty or misaligned buffer, too few pages; -E2BIG.
 */
int p2pmr_nvme_prp_build(const struct p2pmr_nvme_buf *buf, uint32_t page,
			 uint64_t *list, size_t list_cap, uint64_t list_addr,
			 uint64_t *prp1, uint64_t *prp2);

#ifdef __cplusplus
}
#endif

#endif
