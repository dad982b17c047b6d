// SPDX-License-Identifier: GPL-2.0
/*
 * The userspace NVMe driver (userspace/nvme) against QEMU's nvme device
 * with a CMB, in the VM (case nvme-driver), and the host side of the same
 * case on the raw disk image:
 *
 *   nvme_driver_test init IMAGE       fill the read regions (before boot)
 *   nvme_driver_test run BDF MIB CMB  the subtests, TAP (in the guest)
 *   nvme_driver_test check IMAGE      the write regions hold what the guest
 *                                     wrote, and nothing spilled (after)
 *   nvme_driver_test fill|checkrange IMAGE LBA NLB SEED
 *                                     one region, for other cases
 *
 * Writes go from the CMB (and from scattered host pages), reads come into
 * the CMB; buffers of one, two and many pages (PRP lists in host memory
 * whose entries point into the CMB), page offsets, scattered pages; then
 * commands the controller must refuse with its own status; then, opened
 * again with interrupts, that an I/O completion signals the eventfd and
 * the admin queue does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pmr.h"
#include "p2pmr-nvme.h"
#include "../lib/pattern.h"
#include "../lib/tap.h"

#define LBA	512u
#define PG	4096u
#define NSID	1

/* Where each transfer goes: the CMB, at an offset, or host pages. */
enum where { CMB, CMB_SCATTER, HOST_SCATTER };

struct xfer {
	const char *name;
	enum where where;
	uint64_t slba;
	uint32_t nlb;
	uint64_t off;		/* CMB offset of the data (CMB) */
	uint64_t seed;
};

/* Written by the guest; checked in the image by "check". */
static const struct xfer writes[] = {
	{ "one page from the CMB (PRP1 only)", CMB, 1000, 8, 0, 11 },
	{ "two pages from the CMB (PRP1 + PRP2)", CMB, 2000, 16, 0x10000, 12 },
	{ "16 pages from the CMB (PRP list in host memory)", CMB, 3000, 128,
	  0x20000, 13 },
	{ "512 KiB (MDTS) from the CMB", CMB, 10000, 1024, 0x100000, 14 },
	{ "20 KiB from the CMB at page offset 0x200", CMB, 20000, 40,
	  0x200200, 15 },
	{ "6 shuffled CMB pages (PRP list entries out of order)", CMB_SCATTER,
	  40000, 48, 0x280000, 16 },
	{ "8 scattered host pages in reverse order", HOST_SCATTER, 30000, 64,
	  0, 17 },
};

/* Put in the image by "init"; read by the guest. */
static const struct xfer reads[] = {
	{ "one page into the CMB", CMB, 50000, 8, 0x300000, 101 },
	{ "32 pages into the CMB (PRP list)", CMB, 51000, 256, 0x310000, 102 },
	{ "32 KiB into the CMB at page offset 0x400", CMB, 52000, 64,
	  0x340400, 103 },
	{ "512 KiB (MDTS) into the CMB", CMB, 53000, 1024, 0x400000, 104 },
	{ "7 shuffled CMB pages", CMB_SCATTER, 55000, 56, 0x480000, 105 },
	{ "16 scattered host pages in reverse order", HOST_SCATTER, 56000,
	  128, 0, 106 },
};

#define NW (sizeof(writes) / sizeof(writes[0]))
#define NR (sizeof(reads) / sizeof(reads[0]))

/* A fixed shuffle of @n pages: page i of the data is at slot perm(i). */
static size_t perm(size_t i, size_t n)
{
	return (i * 5 + 3) % n;		/* n is never a multiple of 5 */
}

static int image_rw(const char *img, int wr)
{
	int fd = open(img, wr ? O_RDWR : O_RDONLY);
	int bad = 0;
	size_t i;

	if (fd < 0) {
		perror(img);
		return 1;
	}
	for (i = 0; i < (wr ? NR : NW); i++) {
		const struct xfer *x = wr ? &reads[i] : &writes[i];
		size_t len = (size_t)x->nlb * LBA;
		uint8_t *buf = malloc(len + 2 * LBA), zero[LBA] = { 0 };
		off_t at = (off_t)x->slba * LBA;
		long diff;

		if (!buf)
			return 1;
		if (wr) {
			pattern_fill(buf, len, x->seed, 0);
			if (pwrite(fd, buf, len, at) != (ssize_t)len) {
				perror("pwrite");
				bad = 1;
			}
			free(buf);
			continue;
		}
		/* The block before and after, and the data. */
		if (pread(fd, buf, len + 2 * LBA, at - LBA) !=
		    (ssize_t)(len + 2 * LBA)) {
			perror("pread");
			return 1;
		}
		diff = pattern_check(buf + LBA, len, x->seed, 0);
		if (diff >= 0) {
			printf("FAIL: image: %s: LBA %llu + byte %ld differs\n",
			       x->name, (unsigned long long)x->slba, diff);
			bad = 1;
		} else if (memcmp(buf, zero, LBA) ||
			   memcmp(buf + LBA + len, zero, LBA)) {
			printf("FAIL: image: %s: the blocks around LBA %llu..%llu are not zero\n",
			       x->name, (unsigned long long)x->slba,
			       (unsigned long long)(x->slba + x->nlb - 1));
			bad = 1;
		} else {
			printf("ok: image: %s at LBA %llu, %u blocks\n",
			       x->name, (unsigned long long)x->slba, x->nlb);
		}
		free(buf);
	}
	close(fd);
	return bad;
}

static struct p2pmr_nvme *n;
static struct p2pmr_nvme_qp *qp;
static struct p2pmr_nvme_cmb cmb;

/* Host pages for scattered buffers, and their IOVAs. */
static uint8_t *host;
static uint64_t host_iova;
#define HOST_PAGES 160

/* The buffer of @x: CMB at x->off, shuffled CMB pages, or host pages. */
static void describe(const struct xfer *x, struct p2pmr_nvme_buf *b,
		     uint64_t *pages)
{
	size_t np = ((size_t)x->nlb * LBA + PG - 1) / PG, i;

	memset(b, 0, sizeof(*b));
	b->len = (size_t)x->nlb * LBA;
	switch (x->where) {
	case CMB:
		b->addr = cmb.addr + x->off;
		return;
	case CMB_SCATTER:
		for (i = 0; i < np; i++)
			pages[i] = cmb.addr + x->off + perm(i, np) * PG;
		break;
	case HOST_SCATTER:
		for (i = 0; i < np; i++)
			pages[i] = host_iova + (np - 1 - i) * PG;
		break;
	}
	b->pages = pages;
	b->nr_pages = np;
}

/* Copy the pattern of @x in (@in) or check it in its buffer. */
static long data(const struct xfer *x, int in)
{
	size_t len = (size_t)x->nlb * LBA, np = (len + PG - 1) / PG, i;
	uint8_t *tmp = malloc(len);
	long diff = -1;

	if (!tmp)
		return 0;
	if (in)
		pattern_fill(tmp, len, x->seed, 0);
	for (i = 0; x->where != CMB && i < np; i++) {
		size_t chunk = len - i * PG < PG ? len - i * PG : PG;
		uint8_t *p = tmp + i * PG;

		if (x->where == HOST_SCATTER) {
			uint8_t *h = host + (np - 1 - i) * PG;

			if (in)
				memcpy(h, p, chunk);
			else
				memcpy(p, h, chunk);
		} else if (in) {
			p2pmr_nvme_cmb_write(n, x->off + perm(i, np) * PG, p,
					     chunk);
		} else {
			p2pmr_nvme_cmb_read(n, x->off + perm(i, np) * PG, p,
					    chunk);
		}
	}
	if (x->where == CMB) {
		if (in)
			p2pmr_nvme_cmb_write(n, x->off, tmp, len);
		else
			p2pmr_nvme_cmb_read(n, x->off, tmp, len);
	}
	if (!in)
		diff = pattern_check(tmp, len, x->seed, 0);
	free(tmp);
	return diff;
}

static void cmb_zero(const struct xfer *x)
{
	size_t len = (size_t)x->nlb * LBA + PG;
	uint8_t *z = calloc(1, len);

	if (z)
		p2pmr_nvme_cmb_write(n, x->off & ~(uint64_t)(PG - 1), z, len);
	free(z);
}

static int rw(uint8_t opc, const struct xfer *x)
{
	struct p2pmr_nvme_buf b;
	uint64_t pages[160];

	describe(x, &b, pages);
	return p2pmr_nvme_rw(qp, opc, NSID, x->slba, x->nlb, &b);
}

static void expect_status(const char *what, int got, int want)
{
	tap_result(got == want, "%s: status 0x%x (want 0x%x)%s%s", what, got,
		   want, got < 0 ? ": " : "", got < 0 ? p2pmr_errmsg() : "");
}

/* Whether the eventfd @fd is readable; its count is cleared. */
static int irq_pending(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v) && v;
}

/* A Read on @q: its completion must signal the eventfd @fd. */
static void irq_read(struct p2pmr_nvme_qp *q, int fd, uint8_t *buf,
		     uint64_t iova, const char *what)
{
	const struct xfer *x = &reads[0];
	struct p2pmr_nvme_sqe sqe = { .opc = P2PMR_NVME_CMD_READ,
				      .nsid = NSID,
				      .cdw10 = (uint32_t)x->slba,
				      .cdw12 = x->nlb - 1 };
	struct p2pmr_nvme_buf b = { .addr = iova, .len = PG };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct p2pmr_nvme_cqe cqe;
	int cid, woke, got, equal;

	memset(buf, 0, PG);
	tap_result(!irq_pending(fd),
		   "queue %u (%s): nothing signalled before its Read",
		   p2pmr_nvme_qp_id(q), what);
	cid = p2pmr_nvme_submit(q, &sqe, &b);
	woke = cid >= 0 && poll(&pfd, 1, 10000) == 1 && irq_pending(fd);
	got = woke ? p2pmr_nvme_poll(q, &cqe, 1, 0) : 0;
	equal = got == 1 && pattern_check(buf, PG, x->seed, 0) < 0;
	tap_result(woke && got == 1 && cqe.cid == cid &&
		   !P2PMR_NVME_STATUS(&cqe) && equal,
		   "queue %u (%s): the Read's completion signals the eventfd (cid %d, %s, %d taken, data %s)",
		   p2pmr_nvme_qp_id(q), what, cid,
		   woke ? "signalled" : "NOT signalled in 10 s", got,
		   equal ? "equal" : "DIFFERS");
}

/*
 * p2pmr_nvme_opts.irq: a Read's completion signals the eventfd, on queue
 * 1, on queue 1 made again after it was deleted (its vector set again),
 * and on queue 2 beside it (a second vector while the first is set).
 * Create I/O CQ and SQ do not signal it.
 */
static void irq_run(const char *bdf)
{
	struct p2pmr_nvme_opts o = { .dma_size = 1 << 20, .timeout_ms = 60000,
				     .irq = 1 };
	struct p2pmr_nvme_qp *q = NULL, *q2 = NULL;
	struct p2pmr_nvme *c;
	uint64_t iova;
	uint8_t *buf;
	int ret, fd;

	ret = p2pmr_nvme_open(bdf, &o, &c);
	fd = ret ? -1 : p2pmr_nvme_irq_fd(c);
	tap_result(fd >= 0, "open with interrupts: eventfd %d%s%s", fd,
		   ret ? ": " : "", ret ? p2pmr_errmsg() : "");
	if (fd < 0)
		return;
	ret = p2pmr_nvme_dma_alloc(c, PG, (void **)&buf, &iova);
	ret = ret ? ret : p2pmr_nvme_qp_create(c, 4, &q);
	tap_result(!ret, "queue pair %u with interrupts%s%s",
		   q ? p2pmr_nvme_qp_id(q) : 0, ret ? ": " : "",
		   ret ? p2pmr_errmsg() : "");
	if (ret)
		goto out;
	irq_read(q, fd, buf, iova, "first");
	ret = p2pmr_nvme_qp_destroy(q);
	q = NULL;
	ret = ret ? ret : p2pmr_nvme_qp_create(c, 4, &q);
	ret = ret ? ret : p2pmr_nvme_qp_create(c, 4, &q2);
	tap_result(!ret && p2pmr_nvme_qp_id(q) == 1 &&
		   p2pmr_nvme_qp_id(q2) == 2,
		   "queue 1 deleted and made again, queue 2 beside it%s%s",
		   ret ? ": " : "", ret ? p2pmr_errmsg() : "");
	if (ret)
		goto out;
	irq_read(q2, fd, buf, iova, "second vector");
	irq_read(q, fd, buf, iova, "made again");
	ret = p2pmr_nvme_qp_destroy(q2);
	ret = ret ? ret : p2pmr_nvme_qp_destroy(q);
	q = q2 = NULL;
	tap_result(!ret, "both queue pairs deleted (%d)", ret);
out:
	p2pmr_nvme_close(c);
}

static int run(const char *bdf, uint64_t img_mib, uint64_t cmb_mib)
{
	struct p2pmr_nvme_opts o = { .cmb = 1, .dma_size = 8 << 20,
				     .timeout_ms = 60000 };
	struct p2pmr_nvme_ns ns;
	struct p2pmr_nvme_sqe sqe;
	struct p2pmr_nvme_buf b;
	struct p2pmr_pci_info *list = NULL;
	uint64_t pages[4], bar2 = 0;
	uint8_t *id = NULL, *readback;
	uint64_t rb_iova;
	const uint8_t *ic;
	size_t nr = 0, i;
	int ret;

	ret = p2pmr_nvme_open(bdf, &o, &n);
	tap_result(!ret, "open %s, enable with the CMB, identify%s%s", bdf,
		   ret ? ": " : "", ret ? p2pmr_errmsg() : "");
	if (ret)
		return tap_done();

	ic = p2pmr_nvme_id_ctrl(n);
	tap_result(ic[0] == 0x36 && ic[1] == 0x1b &&
		   !memcmp(ic + 24, "QEMU NVMe Ctrl", 14),
		   "Identify Controller: VID 0x%02x%02x, MN '%.14s'", ic[1],
		   ic[0], ic + 24);
	tap_result(p2pmr_nvme_max_transfer(n) == 512 * 1024,
		   "MDTS gives %zu bytes per command",
		   p2pmr_nvme_max_transfer(n));
	ret = p2pmr_nvme_ns_info(n, NSID, &ns);
	tap_result(!ret && ns.lba_size == LBA &&
		   ns.nsze == img_mib * (1 << 20) / LBA,
		   "Identify Namespace 1: %llu blocks of %u bytes (image %llu MiB)",
		   (unsigned long long)ns.nsze, ns.lba_size,
		   (unsigned long long)img_mib);

	/* The CMB: size, data support, at the BAR's bus address. */
	ret = p2pmr_nvme_cmb_info(n, &cmb);
	if (!p2pmr_list_devices(NULL, 0, &list, &nr))
		for (i = 0; i < nr; i++)
			if (!strcmp(list[i].bdf, p2pmr_dev_bdf(p2pmr_nvme_dev(n))))
				bar2 = list[i].bar[cmb.bar].start;
	p2pmr_free_devices(list);
	tap_result(!ret && cmb.size == cmb_mib << 20 && cmb.map &&
		   (cmb.cmbsz & P2PMR_NVME_CMBSZ_RDS) &&
		   (cmb.cmbsz & P2PMR_NVME_CMBSZ_WDS) &&
		   (cmb.cmbsz & P2PMR_NVME_CMBSZ_LISTS),
		   "CMB: %llu bytes in BAR%u at offset %llu, CMBSZ 0x%x (RDS, WDS, LISTS), mapped",
		   (unsigned long long)cmb.size, cmb.bar,
		   (unsigned long long)cmb.bar_offset, cmb.cmbsz);
	tap_result(bar2 && cmb.addr == bar2 + cmb.bar_offset,
		   "CMB controller address 0x%llx is the bus address of BAR%u (0x%llx)",
		   (unsigned long long)cmb.addr, cmb.bar,
		   (unsigned long long)bar2);
	if (!cmb.map)
		return tap_done();

	ret = p2pmr_nvme_qp_create(n, 16, &qp);
	tap_result(!ret && p2pmr_nvme_qp_id(qp) == 1,
		   "I/O queue pair 1 (depth 16, polled)%s%s",
		   ret ? ": " : "", ret ? p2pmr_errmsg() : "");
	if (ret)
		return tap_done();
	ret = p2pmr_nvme_dma_alloc(n, HOST_PAGES * PG, (void **)&host,
				   &host_iova);
	ret = ret ? ret : p2pmr_nvme_dma_alloc(n, 512 * 1024,
					       (void **)&readback, &rb_iova);
	tap_result(!ret && (host_iova + HOST_PAGES * PG <= cmb.addr ||
			    host_iova >= cmb.addr + cmb.size),
		   "host DMA buffers at IOVA 0x%llx, outside the CMB window",
		   (unsigned long long)host_iova);
	if (ret)
		return tap_done();

	/* Writes: the pattern into the buffer, NVMe Write, read back. */
	for (i = 0; i < NW; i++) {
		const struct xfer *x = &writes[i];
		long diff;

		data(x, 1);
		ret = rw(P2PMR_NVME_CMD_WRITE, x);
		if (ret) {
			expect_status(x->name, ret, 0);
			continue;
		}
		/* Read back into host memory, contiguous. */
		memset(readback, 0, (size_t)x->nlb * LBA);
		b = (struct p2pmr_nvme_buf){ .addr = rb_iova,
					     .len = (size_t)x->nlb * LBA };
		ret = p2pmr_nvme_rw(qp, P2PMR_NVME_CMD_READ, NSID, x->slba,
				    x->nlb, &b);
		diff = ret ? 0 : pattern_check(readback, b.len, x->seed, 0);
		tap_result(!ret && diff < 0,
			   "write %s to LBA %llu, read back: %s (status 0x%x, first bad byte %ld)",
			   x->name, (unsigned long long)x->slba,
			   !ret && diff < 0 ? "equal" : "DIFFERS", ret, diff);
	}
	sqe = (struct p2pmr_nvme_sqe){ .opc = P2PMR_NVME_CMD_FLUSH,
				       .nsid = NSID };
	expect_status("Flush", p2pmr_nvme_exec(qp, &sqe, NULL, NULL), 0);

	/* Reads: what the host put in the image lands in the buffer. */
	for (i = 0; i < NR; i++) {
		const struct xfer *x = &reads[i];
		long diff = 0;

		ret = rw(P2PMR_NVME_CMD_READ, x);
		if (!ret)
			diff = data(x, 0);
		tap_result(!ret && diff < 0,
			   "read LBA %llu (host-written), %s: %s (status 0x%x, first bad byte %ld)",
			   (unsigned long long)x->slba, x->name,
			   !ret && diff < 0 ? "equal" : "DIFFERS", ret, diff);
	}

	/* Commands the controller refuses, each with its status. */
	pages[0] = cmb.addr + 0x500000;
	pages[1] = host_iova;
	b = (struct p2pmr_nvme_buf){ .len = 2 * PG, .pages = pages,
				     .nr_pages = 2 };
	expect_status("write mixing a CMB page (PRP1) and a host page (PRP2)",
		      p2pmr_nvme_rw(qp, P2PMR_NVME_CMD_WRITE, NSID, 60000, 16,
				    &b), P2PMR_NVME_SC_INVALID_CMB_USE);
	pages[0] = host_iova;
	pages[1] = cmb.addr + 0x500000;
	expect_status("read mixing a host page (PRP1) and a CMB page (PRP2)",
		      p2pmr_nvme_rw(qp, P2PMR_NVME_CMD_READ, NSID, 60000, 16,
				    &b), P2PMR_NVME_SC_INVALID_CMB_USE);
	b = (struct p2pmr_nvme_buf){ .addr = cmb.addr, .len = 8 * LBA };
	expect_status("read past the end of the namespace",
		      p2pmr_nvme_rw(qp, P2PMR_NVME_CMD_READ, NSID,
				    ns.nsze - 4, 8, &b),
		      P2PMR_NVME_SC_LBA_RANGE);
	/* NVMe 1.4 6.1.5: an inactive NSID is an invalid field, one out of
	 * range (0, or over NN) an invalid namespace. */
	expect_status("write to namespace 99 (inactive)",
		      p2pmr_nvme_rw(qp, P2PMR_NVME_CMD_WRITE, 99, 0, 8, &b),
		      P2PMR_NVME_SC_INVALID_FIELD);
	expect_status("write to namespace 0",
		      p2pmr_nvme_rw(qp, P2PMR_NVME_CMD_WRITE, 0, 0, 8, &b),
		      P2PMR_NVME_SC_INVALID_NS);
	sqe = (struct p2pmr_nvme_sqe){ .opc = 0x7f, .nsid = NSID };
	expect_status("I/O opcode 0x7f", p2pmr_nvme_exec(qp, &sqe, NULL, NULL),
		      P2PMR_NVME_SC_INVALID_OPCODE);
	id = malloc(PG);
	expect_status("Identify CNS 0x55",
		      p2pmr_nvme_identify(n, 0x55, 0, id),
		      P2PMR_NVME_SC_INVALID_FIELD);
	/* Done by hand: Create I/O CQ with a queue id over the limit. */
	sqe = (struct p2pmr_nvme_sqe){ .opc = P2PMR_NVME_ADMIN_CREATE_CQ,
				       .prp1 = host_iova,
				       .cdw10 = 1u << 16 | 0xffff,
				       .cdw11 = 1 };
	expect_status("Create I/O CQ 65535",
		      p2pmr_nvme_admin(n, &sqe, NULL, NULL),
		      P2PMR_NVME_SC_INVALID_QID);
	/* Refused by the driver before the controller sees them. */
	b = (struct p2pmr_nvme_buf){ .addr = cmb.addr + 2, .len = 8 * LBA };
	expect_status("buffer not dword aligned (driver)",
		      p2pmr_nvme_rw(qp, P2PMR_NVME_CMD_READ, NSID, 0, 8, &b),
		      -EINVAL);
	b = (struct p2pmr_nvme_buf){ .addr = cmb.addr, .len = 1024 * 1024 };
	expect_status("1 MiB, over MDTS (driver)",
		      p2pmr_nvme_rw(qp, P2PMR_NVME_CMD_READ, NSID, 0, 2048, &b),
		      -EINVAL);
	/* The queue still works after the errors. */
	cmb_zero(&reads[0]);
	ret = rw(P2PMR_NVME_CMD_READ, &reads[0]);
	tap_result(!ret && data(&reads[0], 0) < 0,
		   "the I/O queue serves a read after the refused commands (status 0x%x)",
		   ret);

	/* Disable and enable again: queues gone, the admin queue anew. */
	ret = p2pmr_nvme_qp_destroy(qp);
	qp = NULL;
	tap_result(!ret, "Delete I/O SQ and CQ 1 (status %d)", ret);
	ret = p2pmr_nvme_disable(n);
	tap_result(!ret && !(p2pmr_nvme_reg32(n, 0x1c) & 1),
		   "disable: CSTS.RDY clear (CSTS 0x%x)",
		   p2pmr_nvme_reg32(n, 0x1c));
	ret = p2pmr_nvme_enable(n);
	ret = ret ? ret : p2pmr_nvme_qp_create(n, 4, &qp);
	cmb_zero(&writes[0]);
	ret = ret ? ret : rw(P2PMR_NVME_CMD_READ, &writes[0]);
	tap_result(!ret && data(&writes[0], 0) < 0,
		   "enable again, new queue pair of depth 4, read into the CMB: %s%s",
		   ret ? "failed: " : "equal", ret ? p2pmr_errmsg() : "");
	/* Depth 4: more commands than entries wraps the queues. */
	cmb_zero(&reads[0]);
	cmb_zero(&reads[1]);
	for (i = 0; !ret && i < 10; i++)
		ret = rw(P2PMR_NVME_CMD_READ, &reads[i % 2]);
	tap_result(!ret && data(&reads[0], 0) < 0 && data(&reads[1], 0) < 0,
		   "10 reads through a queue of depth 4 (phase wraps): status %d",
		   ret);
	free(id);
	p2pmr_nvme_close(n);
	irq_run(bdf);
	return tap_done();
}

/* One region of @nlb blocks at @lba: write pattern @seed, or check it. */
static int range(const char *img, int wr, const char *a, const char *b,
		 const char *c)
{
	uint64_t lba, nlb, seed;
	uint8_t *buf;
	size_t len;
	long bad;
	int fd, ret = 1;

	if (p2pmr_parse_size(a, &lba) || p2pmr_parse_size(b, &nlb) ||
	    p2pmr_parse_size(c, &seed) || !nlb || nlb > 1 << 20)
		return 2;
	len = nlb * LBA;
	buf = malloc(len);
	fd = open(img, wr ? O_RDWR : O_RDONLY);
	if (!buf || fd < 0) {
		perror(img);
		return 1;
	}
	if (wr) {
		pattern_fill(buf, len, seed, 0);
		ret = pwrite(fd, buf, len, lba * LBA) != (ssize_t)len;
	} else if (pread(fd, buf, len, lba * LBA) == (ssize_t)len) {
		bad = pattern_check(buf, len, seed, 0);
		ret = bad >= 0;
		printf("%s: image: LBA %llu, %llu blocks, pattern %llu%s",
		       ret ? "FAIL" : "ok", (unsigned long long)lba,
		       (unsigned long long)nlb, (unsigned long long)seed,
		       ret ? ": differs at byte " : "\n");
		if (ret)
			printf("%ld\n", bad);
	}
	close(fd);
	free(buf);
	return ret;
}

int main(int argc, char **argv)
{
	uint64_t mib, cmb_mib;

	if (argc == 6 && !strcmp(argv[1], "fill"))
		return range(argv[2], 1, argv[3], argv[4], argv[5]);
	if (argc == 6 && !strcmp(argv[1], "checkrange"))
		return range(argv[2], 0, argv[3], argv[4], argv[5]);

	if (argc == 3 && !strcmp(argv[1], "init"))
		return image_rw(argv[2], 1);
	if (argc == 3 && !strcmp(argv[1], "check"))
		return image_rw(argv[2], 0);
	if (argc == 5 && !strcmp(argv[1], "run") &&
	    !p2pmr_parse_size(argv[3], &mib) &&
	    !p2pmr_parse_size(argv[4], &cmb_mib))
		return run(argv[2], mib, cmb_mib);
	fprintf(stderr,
		"usage: nvme_driver_test init|check IMAGE\n"
		"       nvme_driver_test fill|checkrange IMAGE LBA NLB SEED\n"
		"       nvme_driver_test run BDF IMAGE_MIB CMB_MIB\n");
	return 2;
}
