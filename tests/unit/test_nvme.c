// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the userspace NVMe driver without a controller: the PRP
 * builder (p2pmr_nvme_prp_build) and the queue logic (cids, doorbells, the
 * full queue, the phase bit across wraps, PRP lists per cid) against a
 * register file and a DMA arena in memory, the test playing the
 * controller by writing completions.
 */
#include <stdlib.h>

#include <time.h>

#include "unit.h"
#include "../../userspace/lib/internal.h"
#include "../../userspace/nvme/nvme-internal.h"

#define PG 4096u

static void test_prp_build(void **state)
{
	uint64_t list[8], prp1, prp2, pages[6];
	struct p2pmr_nvme_buf b = { .addr = 0x10000, .len = PG };
	int i;

	(void)state;
	/* One page: PRP1 only. */
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), 0);
	assert_int_equal(prp1, 0x10000);
	assert_int_equal(prp2, 0);
	/* Inside one page with an offset. */
	b = (struct p2pmr_nvme_buf){ .addr = 0x10200, .len = PG - 0x200 };
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), 0);
	assert_int_equal(prp1, 0x10200);
	assert_int_equal(prp2, 0);
	/* One byte more crosses into a second page: PRP2 is that page. */
	b.len++;
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), 0);
	assert_int_equal(prp2, 0x11000);
	/* Three pages: PRP2 points to the list of pages 2 and 3. */
	b = (struct p2pmr_nvme_buf){ .addr = 0x10000, .len = 3 * PG };
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), 2);
	assert_int_equal(prp1, 0x10000);
	assert_int_equal(prp2, 0x9000);
	assert_int_equal(list[0], 0x11000);
	assert_int_equal(list[1], 0x12000);
	/* Offset into the first page: the entries stay page aligned. */
	b = (struct p2pmr_nvme_buf){ .addr = 0x10400, .len = 3 * PG };
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), 3);
	assert_int_equal(prp1, 0x10400);
	assert_int_equal(list[0], 0x11000);
	assert_int_equal(list[2], 0x13000);
	/* Scattered pages, in the order given. */
	for (i = 0; i < 6; i++)
		pages[i] = 0x100000 + (5 - i) * PG;
	b = (struct p2pmr_nvme_buf){ .len = 5 * PG + 8, .pages = pages,
				     .nr_pages = 6, .offset = 0x10 };
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), 5);
	assert_int_equal(prp1, 0x105010);
	for (i = 1; i < 6; i++)
		assert_int_equal(list[i - 1], pages[i]);
	/* Two scattered pages: PRP2 is the second page itself. */
	b.len = 2 * PG - 0x10;
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), 0);
	assert_int_equal(prp2, pages[1]);

	/* Refused. */
	b.len = 6 * PG;			/* needs 7 pages, 6 given */
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), -EINVAL);
	b.len = PG;
	b.offset = 2;			/* not dword aligned */
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), -EINVAL);
	b.offset = PG;			/* past the first page */
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), -EINVAL);
	b.offset = 0;
	pages[2] += 8;			/* a page that is not aligned */
	b.len = 3 * PG;
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), -EINVAL);
	b = (struct p2pmr_nvme_buf){ .addr = 0x10000, .len = 0 };
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), -EINVAL);
	b = (struct p2pmr_nvme_buf){ .addr = 0x10001, .len = 8 };
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), -EINVAL);
	b = (struct p2pmr_nvme_buf){ .addr = -(uint64_t)PG, .len = 2 * PG };
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), -EINVAL);
	/* 10 pages need 9 entries: one list of 8 does not hold them. */
	b = (struct p2pmr_nvme_buf){ .addr = 0x10000, .len = 10 * PG };
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), -E2BIG);
	b.len = 9 * PG;
	assert_int_equal(p2pmr_nvme_prp_build(&b, PG, list, 8, 0x9000, &prp1,
					      &prp2), 8);
}

/* LBA format @i of Identify Namespace @id: MS bytes of metadata, 2^LBADS. */
static void lbaf(uint8_t *id, unsigned int i, uint16_t ms, uint8_t lbads)
{
	id[128 + 4 * i] = ms & 0xff;
	id[128 + 4 * i + 1] = ms >> 8;
	id[128 + 4 * i + 2] = lbads;
}

/*
 * Identify Namespace digested: the format FLBAS selects (its index's high
 * bits in FLBAS 6:5 past 16 formats), and formats with metadata refused:
 * the commands carry no metadata pointer, and with extended LBAs the
 * controller would move more bytes than their PRPs describe.
 */
static void test_ns_parse(void **state)
{
	static uint8_t id[4096];
	struct p2pmr_nvme_ns ns;
	uint64_t nsze = 131072;

	(void)state;
	memcpy(id, &nsze, 8);
	id[25] = 1;				/* NLBAF: two formats */
	lbaf(id, 0, 0, 9);
	lbaf(id, 1, 8, 9);			/* 512 + 8 */
	id[26] = 0;
	assert_int_equal(nvme_ns_parse("0000:00:12.0", 1, id, &ns), 0);
	assert_int_equal(ns.lba_size, 512);
	assert_int_equal(ns.nsze, 131072);
	/* Extended LBAs (FLBAS bit 4) or a separate buffer: refused. */
	id[26] = 0x11;
	assert_fails_with(nvme_ns_parse("0000:00:12.0", 1, id, &ns),
			  -EOPNOTSUPP, "8 bytes of metadata");
	id[26] = 0x01;
	assert_fails_with(nvme_ns_parse("0000:00:12.0", 1, id, &ns),
			  -EOPNOTSUPP, "8 bytes of metadata");
	/* Format 17 of 20: index bits 3:0 in FLBAS 3:0, bits 5:4 in 6:5. */
	id[25] = 19;
	lbaf(id, 1, 0, 9);
	lbaf(id, 17, 0, 12);
	id[26] = 0x21;
	assert_int_equal(nvme_ns_parse("0000:00:12.0", 1, id, &ns), 0);
	assert_int_equal(ns.lba_size, 4096);
	/* An index past NLBAF. */
	id[25] = 1;
	assert_fails_with(nvme_ns_parse("0000:00:12.0", 1, id, &ns), -EIO,
			  "format 17 of 2");
	/* ... but within NULBAF's unique-attribute formats after them. */
	id[25] = 15;
	id[82] = 2;
	assert_int_equal(nvme_ns_parse("0000:00:12.0", 1, id, &ns), 0);
	assert_int_equal(ns.lba_size, 4096);
	id[82] = 1;
	assert_fails_with(nvme_ns_parse("0000:00:12.0", 1, id, &ns), -EIO,
			  "format 17 of 17");
	/* Inactive: all zeroes. */
	memset(id, 0, sizeof(id));
	assert_fails_with(nvme_ns_parse("0000:00:12.0", 1, id, &ns), -ENODEV,
			  "not active");
}

/* A controller in memory: BAR0 as a buffer, an arena at IOVA 1 MiB. */
static struct p2pmr_dev fake_dev = { .bdf = "0000:00:12.0" };
static uint32_t bar0[0x2000 / 4];

static struct p2pmr_nvme *fake_ctrl(size_t arena_pages)
{
	struct p2pmr_nvme *n = calloc(1, sizeof(*n));

	assert_non_null(n);
	memset(bar0, 0, sizeof(bar0));
	bar0[0x1c / 4] = 1;			/* CSTS.RDY */
	n->dev = &fake_dev;
	n->regs = (volatile uint8_t *)bar0;
	n->dstrd = 4;
	n->max_xfer = 128 * PG;
	n->timeout_ms = 50;
	n->cap = 1023;				/* MQES */
	n->dma_len = arena_pages * PG;
	n->dma = aligned_alloc(PG, n->dma_len);
	n->dma_used = calloc(arena_pages, 1);
	n->dma_iova = 0x100000;
	assert_non_null(n->dma);
	return n;
}

static void free_ctrl(struct p2pmr_nvme *n)
{
	free(n->dma);
	free(n->dma_used);
	free(n);
}

/* The controller's side: complete @cid with @status, phase @phase. */
static void complete(struct p2pmr_nvme_qp *qp, uint16_t slot, uint16_t cid,
		     uint16_t sqhd, uint16_t status, int phase)
{
	struct p2pmr_nvme_cqe *e = (struct p2pmr_nvme_cqe *)&qp->cq[slot];

	e->cid = cid;
	e->sqhd = sqhd;
	e->sqid = qp->qid;
	e->status = (uint16_t)(status << 1 | phase);
}

static void test_queue(void **state)
{
	struct p2pmr_nvme *n = fake_ctrl(64);
	struct p2pmr_nvme_qp qp = { .ctrl = n, .qid = 1, .depth = 4 };
	struct p2pmr_nvme_sqe sqe = { .opc = P2PMR_NVME_CMD_READ, .nsid = 1 };
	struct p2pmr_nvme_sqe nodata = { .opc = P2PMR_NVME_CMD_FLUSH };
	struct p2pmr_nvme_cqe cqes[4];
	struct p2pmr_nvme_buf b = { .addr = 0x200000, .len = 4 * PG };
	uint64_t *list;
	int cid[3], i;

	(void)state;
	assert_int_equal(nvme_qp_alloc(n, &qp), 0);
	/* Queue 1's doorbells with a stride of 4 bytes. */
	assert_int_equal(qp.sq_db, 0x1008);
	assert_int_equal(qp.cq_db, 0x100c);
	assert_true(qp.sq_iova >= n->dma_iova &&
		    qp.sq_iova < n->dma_iova + n->dma_len);

	/* Three commands fill a queue of four entries. */
	for (i = 0; i < 3; i++) {
		cid[i] = p2pmr_nvme_submit(&qp, &sqe, &b);
		assert_int_equal(cid[i], i);
		assert_int_equal(qp.sq[i].cid, i);
		/* Each cid has its own PRP list page. */
		assert_int_equal(qp.sq[i].prp2, qp.prp_iova + i * PG);
		assert_int_equal(bar0[0x1008 / 4], i + 1);
	}
	list = qp.prp + PG / 8;
	assert_int_equal(list[0], 0x201000);
	assert_int_equal(list[2], 0x203000);
	assert_fails_with(p2pmr_nvme_submit(&qp, &sqe, &b), -EBUSY,
			  "queue 1 is full");
	/* Nothing completed yet: poll times out empty. */
	assert_int_equal(p2pmr_nvme_poll(&qp, cqes, 4, 0), 0);
	assert_int_equal(p2pmr_nvme_poll(&qp, cqes, 4, 20), 0);

	/* Out of order completions; phase 1 on the first pass. */
	complete(&qp, 0, 1, 1, 0, 1);
	complete(&qp, 1, 0, 2, 0x80, 1);
	assert_int_equal(p2pmr_nvme_poll(&qp, cqes, 4, 0), 2);
	assert_int_equal(cqes[0].cid, 1);
	assert_int_equal(cqes[1].cid, 0);
	assert_int_equal(P2PMR_NVME_STATUS(&cqes[1]), 0x80);
	assert_int_equal(bar0[0x100c / 4], 2);	/* CQ head doorbell */
	assert_int_equal(qp.outstanding, 1);
	/* cids go round; freed ones are reused; the SQ wraps. */
	cid[0] = p2pmr_nvme_submit(&qp, &nodata, NULL);
	assert_int_equal(cid[0], 3);
	assert_int_equal(qp.sq[3].prp1, 0);
	cid[1] = p2pmr_nvme_submit(&qp, &nodata, NULL);
	assert_int_equal(cid[1], 0);
	assert_int_equal(bar0[0x1008 / 4], 1);	/* tail wrapped to 1 */
	complete(&qp, 2, 2, 3, 0, 1);
	complete(&qp, 3, 3, 0, 0, 1);
	assert_int_equal(p2pmr_nvme_poll(&qp, cqes, 4, 0), 2);
	assert_int_equal(qp.cq_head, 0);
	assert_int_equal(qp.phase, 0);
	/* Slot 0 still holds the first pass's entry (phase 1): not new. */
	assert_int_equal(p2pmr_nvme_poll(&qp, cqes, 4, 0), 0);
	complete(&qp, 0, 0, 1, 0, 0);		/* second pass: phase 0 */
	assert_int_equal(p2pmr_nvme_poll(&qp, cqes, 4, 0), 1);
	assert_int_equal(cqes[0].cid, 0);
	assert_int_equal(qp.outstanding, 0);

	/* exec: submit, wait, status; an exec never waits forever. */
	assert_fails_with(p2pmr_nvme_exec(&qp, &sqe, NULL, NULL), -ETIMEDOUT,
			  "no completion of opcode 0x2 (cid 1)");
	assert_fails_with(p2pmr_nvme_exec(&qp, &sqe, NULL, NULL), -EBUSY,
			  "1 commands outstanding");
	complete(&qp, 1, 1, 2, 0, 0);		/* the late completion */
	assert_int_equal(p2pmr_nvme_poll(&qp, cqes, 4, 0), 1);
	assert_int_equal(qp.outstanding, 0);

	/* Refused before the queue is touched. */
	b.len = 129 * PG;
	assert_fails_with(p2pmr_nvme_submit(&qp, &sqe, &b), -EINVAL,
			  "over the largest transfer");
	b = (struct p2pmr_nvme_buf){ .addr = 0x200002, .len = PG };
	assert_fails_with(p2pmr_nvme_submit(&qp, &sqe, &b), -EINVAL,
			  "cannot describe a buffer");
	assert_int_equal(qp.outstanding, 0);

	nvme_qp_free(n, &qp);
	for (i = 0; i < 64; i++)
		assert_int_equal(n->dma_used[i], 0);
	free_ctrl(n);
}

/* CSTS values: serving only with RDY, without CFS, not all ones. */
static void test_csts_ok(void **state)
{
	(void)state;
	assert_int_equal(p2pmr_nvme_csts_ok(0x1), 1);
	/* Shutdown in progress or done: still ready for the driver. */
	assert_int_equal(p2pmr_nvme_csts_ok(0x5), 1);
	assert_int_equal(p2pmr_nvme_csts_ok(0x9), 1);
	/* After a reset (CC.EN clear), a fatal status, a read that did
	 * not reach the device (memory decode off, being reset, gone).
	 */
	assert_int_equal(p2pmr_nvme_csts_ok(0x0), 0);
	assert_int_equal(p2pmr_nvme_csts_ok(0x3), 0);
	assert_int_equal(p2pmr_nvme_csts_ok(0x2), 0);
	assert_int_equal(p2pmr_nvme_csts_ok(0xffffffff), 0);
}

/*
 * A controller that stops serving while a command is waited for (a
 * reset under the driver clears CSTS.RDY) completes nothing: the wait
 * ends at the next CSTS look (100 ms), not at the timeout, with -EIO.
 */
static void test_stopped(void **state)
{
	struct p2pmr_nvme *n = fake_ctrl(64);
	struct p2pmr_nvme_qp qp = { .ctrl = n, .qid = 1, .depth = 4 };
	struct p2pmr_nvme_sqe sqe = { .opc = P2PMR_NVME_CMD_FLUSH };
	struct p2pmr_nvme_cqe cqe;
	uint64_t t0;

	(void)state;
	n->timeout_ms = 10000;
	assert_int_equal(nvme_qp_alloc(n, &qp), 0);
	assert_int_equal(p2pmr_nvme_ready(n), 1);
	bar0[0x1c / 4] = 0;
	assert_int_equal(p2pmr_nvme_ready(n), 0);
	t0 = nvme_now_ms();
	assert_fails_with(p2pmr_nvme_exec(&qp, &sqe, NULL, NULL), -EIO,
			  "the controller stopped (CSTS 0x0");
	assert_true(nvme_now_ms() - t0 < 2000);
	assert_int_equal(p2pmr_nvme_poll(&qp, &cqe, 1, 5000), 0);
	assert_true(nvme_now_ms() - t0 < 4000);
	/* All ones, as a read of a BAR that does not decode. */
	bar0[0x1c / 4] = ~0u;
	assert_int_equal(p2pmr_nvme_ready(n), 0);
	nvme_qp_free(n, &qp);
	free_ctrl(n);
}

/* CPU time of this process, ms. */
static uint64_t cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * With nap_us, a wait that finds no completion sleeps between looks: it
 * leaves the CPU (a waiter that only yields keeps it, which in the test
 * bed takes a host CPU from the emulated controller).  A nap of a second
 * or more is refused.
 */
static void test_nap(void **state)
{
	struct p2pmr_nvme_opts o = { .nap_us = 1000000 };
	struct p2pmr_nvme *n = fake_ctrl(64), *bad = NULL;
	struct p2pmr_nvme_qp qp = { .ctrl = n, .qid = 1, .depth = 4 };
	struct p2pmr_nvme_cqe cqe;
	uint64_t t0, c0;

	(void)state;
	assert_int_equal(nvme_qp_alloc(n, &qp), 0);
	n->nap_us = 2000;
	t0 = nvme_now_ms();
	c0 = cpu_ms();
	assert_int_equal(p2pmr_nvme_poll(&qp, &cqe, 1, 200), 0);
	assert_true(nvme_now_ms() - t0 >= 200);
	assert_true(cpu_ms() - c0 < 80);
	/* A completion is still found at the next look. */
	complete(&qp, 0, 0, 1, 0, 1);
	assert_int_equal(p2pmr_nvme_poll(&qp, &cqe, 1, 200), 1);
	nvme_qp_free(n, &qp);
	free_ctrl(n);
	assert_fails_with(p2pmr_nvme_open("0000:00:00.0", &o, &bad), -EINVAL,
			  "nap_us 1000000");
	assert_null(bad);
}

/* P2PMR_NVME_FAULT=prp-list swaps the first two list entries. */
static void test_fault_prp(void **state)
{
	struct p2pmr_nvme *n = fake_ctrl(64);
	struct p2pmr_nvme_qp qp = { .ctrl = n, .qid = 2, .depth = 2 };
	struct p2pmr_nvme_sqe sqe = { .opc = P2PMR_NVME_CMD_WRITE };
	struct p2pmr_nvme_buf b = { .addr = 0x200000, .len = 3 * PG };

	(void)state;
	n->fault_prp = 1;
	assert_int_equal(nvme_qp_alloc(n, &qp), 0);
	assert_int_equal(qp.sq_db, 0x1010);
	assert_int_equal(p2pmr_nvme_submit(&qp, &sqe, &b), 0);
	assert_int_equal(qp.prp[0], 0x202000);
	assert_int_equal(qp.prp[1], 0x201000);
	nvme_qp_free(n, &qp);
	free_ctrl(n);
}

static void test_dma_alloc(void **state)
{
	struct p2pmr_nvme *n = fake_ctrl(8);
	void *a, *b, *c;
	uint64_t ia, ib, ic;

	(void)state;
	assert_int_equal(p2pmr_nvme_dma_alloc(n, 3 * PG, &a, &ia), 0);
	assert_int_equal(ia, n->dma_iova);
	assert_int_equal(p2pmr_nvme_dma_alloc(n, 1, &b, &ib), 0);
	assert_int_equal(ib, n->dma_iova + 3 * PG);
	assert_ptr_equal(b, n->dma + 3 * PG);
	assert_fails_with(p2pmr_nvme_dma_alloc(n, 5 * PG, &c, &ic), -ENOSPC,
			  "no 5 contiguous free pages");
	p2pmr_nvme_dma_free(n, a, 3 * PG);
	assert_int_equal(p2pmr_nvme_dma_alloc(n, 4 * PG, &c, &ic), 0);
	assert_int_equal(ic, n->dma_iova + 4 * PG);
	assert_int_equal(p2pmr_nvme_dma_alloc(n, 2 * PG, &a, &ia), 0);
	assert_int_equal(ia, n->dma_iova);
	assert_fails_with(p2pmr_nvme_dma_alloc(n, 0, &c, &ic), -EINVAL,
			  "length 0");
	free_ctrl(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prp_build),
		cmocka_unit_test(test_ns_parse),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_csts_ok),
		cmocka_unit_test(test_stopped),
		cmocka_unit_test(test_fault_prp),
		cmocka_unit_test(test_dma_alloc),
		cmocka_unit_test(test_nap),
	};

	return cmocka_run_group_tests_name("nvme", tests, NULL, NULL);
}
