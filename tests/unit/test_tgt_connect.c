// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of p2pmr-nvmf's Connect handling (userspace/nvmf/tgt/cmd.c,
 * built in with its RDMA and NVMe calls replaced): a controller made by
 * an admin queue's Connect, its I/O queues connected to it, and a second
 * Connect for an I/O queue ID the controller already has refused with a
 * Command Sequence Error, as nvmet does, the first queue left alone.  The
 * discovery subsystem: any host connects to its admin queue, Identify
 * says it is a discovery controller, the log lists the subsystem only to
 * a host that may use it, and no I/O queue connects to it, not even
 * one naming the I/O subsystem; its Keep Alive Timeout is two minutes
 * when the host sets none, its shutdown touches no backing drive, and
 * discovery controllers take at most half of the controllers.
 *
 * And the data path (userspace/nvmf/tgt/io.c, built in too): Reads and
 * Writes started as they come, one data buffer each, a command answered
 * as soon as its backing command completed while others are still in
 * flight, the backing commands' completions matched to their commands in
 * any order, a broken queue's commands left unanswered while the others
 * are answered, a Flush beside them, admin commands answered at once and
 * a Property Set run once none is in flight; answers not waited for, and a buffer reused only once its
 * answer's sends completed; a backing command that never completes, or
 * a controller that stops, failing every command in flight.
 */
#include <errno.h>

#include "unit.h"
#include "../../userspace/nvmf/tgt/cmd.c"
#include "../../userspace/nvmf/tgt/io.c"

/* What the stubs below saw. */
static const uint8_t *connect_data;	/* tgt_rdma_read() copies it */
static int responses;
static int rdma_fail = -1;		/* tgt_rdma_read() fails with it */
static int recoveries;			/* tgt_recover() calls */

int tgt_rdma_read(struct tgt_queue *q, uint64_t laddr, uint32_t lkey,
		  const struct p2pmr_nvmf_sgl *sgl, uint32_t len)
{
	(void)lkey; (void)sgl;
	q->wc_status = rdma_fail;
	if (rdma_fail >= 0) {
		q->broken = 1;
		return -EIO;
	}
	if (connect_data)
		memcpy((void *)(uintptr_t)laddr, connect_data, len);
	return 0;
}

/* A recovery: counted, and as the target's succeeds, a reset more. */
static int ready = 1;

void tgt_recover(struct tgt *t, const char *why)
{
	(void)why;
	recoveries++;
	t->st.resets++;
	ready = 1;
}

/* The responses sent, in order: queue ID, CID, status field, data. */
struct sent {
	uint16_t qid, cid, status;
	uint64_t laddr;
	uint32_t len;
};
static struct sent sent[64];
static int nr_sent;

static void record(const uint8_t *rsp, uint64_t laddr, uint32_t len)
{
	struct sent *r = &sent[nr_sent++ % 64];

	r->qid = (uint16_t)(rsp[10] | rsp[11] << 8);
	r->cid = (uint16_t)(rsp[12] | rsp[13] << 8);
	r->status = (uint16_t)(rsp[14] | rsp[15] << 8);
	r->laddr = laddr;
	r->len = len;
	responses++;
}

int tgt_respond(struct tgt_queue *q, uint64_t laddr, uint32_t lkey,
		const struct p2pmr_nvmf_sgl *sgl, uint32_t len)
{
	(void)lkey; (void)sgl;
	record(q->rsp, laddr, len);
	return 0;
}

/*
 * The RDMA sends: posted ones are kept in order, as an RC queue pair
 * completes them; a wait completes all of its queue's, and so does a
 * reap unless @reap_holds (answers still on their way).  A queue in
 * @fail_qid fails (and with @fail_fatal its drain too: the target must
 * stop); with @rdma_fail >= 0 every queue fails with that status.
 */
static int reads_posted, waits, reaps;
static int fail_qid = -1, fail_fatal, reap_holds;
static int fail_status = IBV_WC_RETRY_EXC_ERR;	/* of @fail_qid's sends */
static int wr_outstanding;
static struct posted {
	struct tgt_queue *q;
	uint64_t wr_id;
} posted[256];
static int nr_posted;

static void post(struct tgt_queue *q, uint64_t wr_id)
{
	assert_true(nr_posted < 256);
	posted[nr_posted].q = q;
	posted[nr_posted++].wr_id = wr_id;
	q->outstanding++;
	wr_outstanding++;
}

/* Complete every send of @q: 0, or -EIO when the queue fails. */
static int complete_sends(struct tgt_queue *q)
{
	int fail = rdma_fail >= 0 || q->qid == fail_qid;
	int status = rdma_fail >= 0 ? rdma_fail : fail_status;
	int i, j;

	for (i = 0, j = 0; i < nr_posted; i++) {
		if (posted[i].q != q) {
			posted[j++] = posted[i];
			continue;
		}
		q->outstanding--;
		wr_outstanding--;
		if (posted[i].wr_id)
			tgt_io_sent(q->t, posted[i].wr_id - 1,
				    fail ? status : IBV_WC_SUCCESS);
		/* After the first error, the rest are flushed. */
		if (fail)
			status = IBV_WC_WR_FLUSH_ERR;
	}
	nr_posted = j;
	assert_int_equal(q->outstanding, 0);
	if (!fail)
		return 0;
	if (q->wc_status < 0)
		q->wc_status = rdma_fail >= 0 ? rdma_fail : fail_status;
	q->broken = 1;
	if (fail_fatal)
		q->t->fatal = 1;
	return -EIO;
}

int tgt_post_read(struct tgt_queue *q, uint64_t wr_id, uint64_t laddr,
		  uint32_t lkey, const struct p2pmr_nvmf_sgl *sgl, uint32_t len)
{
	(void)laddr; (void)lkey; (void)sgl; (void)len;
	reads_posted++;
	post(q, wr_id);
	return 0;
}

int tgt_post_rsp(struct tgt_queue *q, const uint8_t *rsp, uint32_t rsp_lkey,
		 uint64_t wr_id, uint64_t laddr, uint32_t lkey,
		 const struct p2pmr_nvmf_sgl *sgl, uint32_t len)
{
	(void)rsp_lkey; (void)lkey; (void)sgl;
	record(rsp, laddr, len);
	post(q, wr_id);
	if (len)
		post(q, wr_id);
	return len ? 2 : 1;
}

int tgt_wait_sends(struct tgt_queue *q)
{
	assert_true(q->outstanding > 0);
	waits++;
	return complete_sends(q);
}

void tgt_reap_sends(struct tgt_queue *q)
{
	reaps++;
	if (!reap_holds && q->outstanding)
		complete_sends(q);
}

void tgt_queue_close(struct tgt_queue *q)
{
	q->disconnecting = 1;
}

/* rdma.c's held capsules: served before a Property Set's drain. */
static int serve_helds;

void tgt_serve_held(struct tgt *t)
{
	(void)t;
	serve_helds++;
}

void tgt_stats_write(const struct tgt *t)
{
	(void)t;
}

/*
 * The backing controller: every command completes with this status; with
 * @exec_ret < 0 p2pmr_nvme_exec() fails so, and p2pmr_nvme_ready() says
 * @ready (a controller that stopped: the target recovers).
 */
static uint16_t exec_status;
static int exec_dnr, exec_ret;

int __wrap_p2pmr_nvme_ready(struct p2pmr_nvme *n);
int __wrap_p2pmr_nvme_ready(struct p2pmr_nvme *n)
{
	(void)n;
	return ready;
}

int __wrap_p2pmr_nvme_exec(struct p2pmr_nvme_qp *qp, struct p2pmr_nvme_sqe *sqe,
			   const struct p2pmr_nvme_buf *buf,
			   struct p2pmr_nvme_cqe *cqe);
int __wrap_p2pmr_nvme_exec(struct p2pmr_nvme_qp *qp, struct p2pmr_nvme_sqe *sqe,
			   const struct p2pmr_nvme_buf *buf,
			   struct p2pmr_nvme_cqe *cqe)
{
	(void)qp; (void)sqe; (void)buf;
	if (exec_ret < 0)
		return exec_ret;
	if (cqe) {
		memset(cqe, 0, sizeof(*cqe));
		cqe->status = (uint16_t)(exec_status << 1 | exec_dnr << 15);
	}
	return exec_status;
}

/*
 * The backing I/O queue: submissions recorded, completed by
 * p2pmr_nvme_poll() all at once in reverse order, each with the status
 * @fail_lba gives its LBA (else exec_status, exec_dnr).  A controller
 * that stopped (!@ready) completes none; with @nvme_holds none completes
 * either, and one whose LBA is @hold_lba never does.  CIDs are taken
 * round robin among @cid_pool, as the library does, and free again when
 * polled (offset by 100, far from the entries' indices).
 */
struct submitted {
	uint8_t opc;
	uint64_t slba;
	uint64_t addr;
	uint16_t cid;
	int done;
};
#define MAX_SUBS	8192
static struct submitted subs[MAX_SUBS];
static int nr_subs, nvme_holds, qp_recreated;
static uint64_t fail_lba = ~0ULL;	/* completes with 0x281, DNR */
static uint64_t hold_lba = ~0ULL;
static int cid_pool = 32, cid_next, cid_busy[32];

int __wrap_p2pmr_nvme_submit(struct p2pmr_nvme_qp *qp,
			     struct p2pmr_nvme_sqe *sqe,
			     const struct p2pmr_nvme_buf *buf);
int __wrap_p2pmr_nvme_submit(struct p2pmr_nvme_qp *qp,
			     struct p2pmr_nvme_sqe *sqe,
			     const struct p2pmr_nvme_buf *buf)
{
	struct submitted *s;
	int n;

	(void)qp;
	assert_true(nr_subs < MAX_SUBS);
	for (n = 0; n < cid_pool && cid_busy[cid_next]; n++)
		cid_next = (cid_next + 1) % cid_pool;
	if (n == cid_pool)
		return -EBUSY;
	cid_busy[cid_next] = 1;
	s = &subs[nr_subs++];
	s->opc = sqe->opc;
	s->slba = (uint64_t)sqe->cdw11 << 32 | sqe->cdw10;
	s->addr = buf ? buf->addr : 0;
	s->done = 0;
	s->cid = (uint16_t)(100 + cid_next);
	cid_next = (cid_next + 1) % cid_pool;
	return s->cid;
}

int __wrap_p2pmr_nvme_poll(struct p2pmr_nvme_qp *qp,
			   struct p2pmr_nvme_cqe *cqes, int max,
			   uint32_t timeout_ms);
int __wrap_p2pmr_nvme_poll(struct p2pmr_nvme_qp *qp,
			   struct p2pmr_nvme_cqe *cqes, int max,
			   uint32_t timeout_ms)
{
	int got = 0, st, dnr, i;

	(void)qp;
	assert_int_equal(timeout_ms, 0);	/* io.c never waits in it */
	for (i = nr_subs - 1; i >= 0 && got < max && ready && !nvme_holds;
	     i--) {
		struct submitted *s = &subs[i];

		if (s->done || (s->slba == hold_lba &&
				s->opc != P2PMR_NVME_CMD_FLUSH))
			continue;
		st = s->slba == fail_lba ? 0x281 : exec_status;
		dnr = s->slba == fail_lba ? 1 : exec_dnr;
		memset(&cqes[got], 0, sizeof(cqes[got]));
		cqes[got].cid = s->cid;
		cqes[got].status = (uint16_t)(st << 1 | dnr << 15);
		s->done = 1;
		cid_busy[s->cid - 100] = 0;
		got++;
	}
	return got;
}

/* The backing queue set up again (a lost command): none is pending. */
int __wrap_p2pmr_nvme_qp_destroy(struct p2pmr_nvme_qp *qp);
int __wrap_p2pmr_nvme_qp_destroy(struct p2pmr_nvme_qp *qp)
{
	int i;

	(void)qp;
	for (i = 0; i < nr_subs; i++)
		subs[i].done = 1;
	memset(cid_busy, 0, sizeof(cid_busy));
	return 0;
}

int __wrap_p2pmr_nvme_qp_create(struct p2pmr_nvme *n, uint32_t depth,
				struct p2pmr_nvme_qp **qp);
int __wrap_p2pmr_nvme_qp_create(struct p2pmr_nvme *n, uint32_t depth,
				struct p2pmr_nvme_qp **qp)
{
	(void)depth;
	*qp = (struct p2pmr_nvme_qp *)n;	/* never looked into */
	qp_recreated++;
	return 0;
}

uint16_t __wrap_p2pmr_nvme_qp_id(const struct p2pmr_nvme_qp *qp);
uint16_t __wrap_p2pmr_nvme_qp_id(const struct p2pmr_nvme_qp *qp)
{
	(void)qp;
	return 2;
}

uint32_t __wrap_p2pmr_nvme_reg32(struct p2pmr_nvme *n, uint32_t off);
uint32_t __wrap_p2pmr_nvme_reg32(struct p2pmr_nvme *n, uint32_t off)
{
	(void)n; (void)off;
	return ready;			/* CSTS.RDY */
}

/* Time: 10 ms more at every look (io.c looks once a poll that found
 * no backing completion).
 */
static uint64_t now_ms;

uint64_t tgt_now_ms(void)
{
	return now_ms += 10;
}

int tgt_log_refusal(struct tgt *t)
{
	(void)t;
	return 1;
}

#define SUBNQN	"nqn.2026-12.org.p2pmr:sub0"
#define HOSTNQN	"nqn.2014-08.org.nvmexpress:uuid:host-a"

/*
 * A Connect capsule for @qid of controller @cntlid (0xffff: a new one), its
 * data to come by RDMA READ (keyed SGL of 1024 bytes), SQSIZE 31.
 */
static void connect_cmd(struct p2pmr_nvmf_cmd *cmd, uint8_t *d, uint16_t qid,
			uint16_t cntlid)
{
	static const struct p2pmr_nvmf_limits lim = { .max_data = 512 * 1024 };
	uint8_t c[64] = { 0 };

	c[0] = P2PMR_NVMF_OPC_FABRICS;
	c[1] = 0x40;			/* PSDT 01b: SGL */
	put16(c + 2, 0x10 + qid);	/* cid */
	c[4] = P2PMR_NVMF_CONNECT;
	/* Keyed SGL data block: address 0x1000, 1024 bytes, key 0xabcd. */
	put32(c + 24, 0x1000);
	put16(c + 24 + 8, 1024);
	put32(c + 24 + 11, 0xabcd);
	c[24 + 15] = 0x40;
	put16(c + 42, qid);
	put16(c + 44, 31);
	put32(c + 48, 0);
	memset(d, 0, 1024);
	memset(d, 0xa5, 16);
	put16(d + 16, cntlid);
	strcpy((char *)d + 256, SUBNQN);
	strcpy((char *)d + 512, HOSTNQN);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, cmd), 0);
}

static struct ibv_mr fake_mr = { .lkey = 0x1234 };

static void queue_init(struct tgt_queue *q, struct tgt *t, uint16_t qid)
{
	memset(q, 0, sizeof(*q));
	q->t = t;
	q->qid = qid;
	q->depth = 32;
	q->wc_status = -1;
	q->ctl = test_malloc(TGT_CTL_SIZE);
	q->ctl_mr = &fake_mr;
	/* The target's list: io.c waits on its queues for free buffers. */
	q->next = t->queues;
	t->queues = q;
}

/* Connect @q to controller @cntlid: the status of the completion. */
static uint16_t connect_to(struct tgt_queue *q, uint16_t cntlid,
			   uint16_t *res, const char *subnqn, const char *host)
{
	struct p2pmr_nvmf_cmd cmd;
	uint8_t d[1024];
	int n = responses;

	connect_cmd(&cmd, d, q->qid, cntlid);
	memset(d + 256, 0, 512);
	strcpy((char *)d + 256, subnqn);
	strcpy((char *)d + 512, host);
	connect_data = d;
	assert_int_equal(do_connect(q, &cmd), 0);
	assert_int_equal(responses, n + 1);
	if (res)
		*res = q->rsp[0] | q->rsp[1] << 8;
	return (uint16_t)(q->rsp[14] | q->rsp[15] << 8);
}

static uint16_t connect_queue(struct tgt_queue *q, uint16_t cntlid,
			      uint16_t *res)
{
	return connect_to(q, cntlid, res, SUBNQN, HOSTNQN);
}

/* @t serving SUBNQN to HOSTNQN, no controller yet. */
static void subsys_init(struct tgt *t)
{
	memset(t, 0, sizeof(*t));
	t->o.nqn = SUBNQN;
	t->o.hosts[0] = HOSTNQN;
	t->next_cntlid = 1;
}

/* An admin command with CDW10 @d10, 4096 bytes of data (keyed SGL). */
static uint16_t admin(struct tgt_queue *q, uint8_t opc, uint32_t d10,
		      uint32_t len)
{
	static const struct p2pmr_nvmf_limits lim = { .max_data = 512 * 1024 };
	struct p2pmr_nvmf_cmd cmd;
	uint8_t c[64] = { 0 };

	c[0] = opc;
	c[1] = 0x40;
	put32(c + 24, 0x1000);
	put32(c + 24 + 8, len);
	put32(c + 24 + 11, 0xabcd);
	c[24 + 15] = 0x40;
	put32(c + 40, d10);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd), 0);
	assert_int_equal(do_admin(q, &cmd), 0);
	return (uint16_t)(q->rsp[14] | q->rsp[15] << 8);
}

static void test_discovery(void **state)
{
	struct tgt_queue adm, io, more[DISC_MAX_CTRLS];
	struct tgt t;
	uint16_t cntlid;
	int i;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.o.nqn = SUBNQN;
	t.o.addr = "192.0.2.2";
	t.o.port = "4420";
	t.o.hosts[0] = HOSTNQN;
	t.o.nr_hosts = 1;
	t.next_cntlid = 1;
	queue_init(&adm, &t, 0);
	queue_init(&io, &t, 1);

	/* Any host reaches the discovery controller. */
	assert_int_equal(connect_to(&adm, 0xffff, &cntlid,
				    P2PMR_NVMF_DISCOVERY_NQN, "nqn.other"), 0);
	assert_true(adm.ctrl->discovery);
	adm.ctrl->regs.csts |= P2PMR_NVMF_CSTS_RDY;
	assert_int_equal(admin(&adm, ADM_IDENTIFY, CNS_CTRL, 4096), 0);
	assert_int_equal(adm.ctl[P2PMR_NVMF_ID_CNTRLTYPE], 2);
	assert_string_equal((const char *)adm.ctl + P2PMR_NVMF_ID_SUBNQN,
			    P2PMR_NVMF_DISCOVERY_NQN);
	/* Identify Namespace is not a discovery controller's. */
	assert_int_equal(admin(&adm, ADM_IDENTIFY, CNS_NS, 4096),
			 p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_INVALID_FIELD));
	/* The log, 2048 bytes: no entry for a host not allowed. */
	assert_int_equal(admin(&adm, ADM_GET_LOG, 511u << 16 | 0x70, 2048), 0);
	assert_int_equal(adm.ctl[8], 0);
	/* An I/O queue of the discovery controller: refused. */
	assert_int_equal(connect_to(&io, cntlid, NULL,
				    P2PMR_NVMF_DISCOVERY_NQN, "nqn.other"),
			 p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_CONNECT_INVALID));
	/* The Connect set no KATO: the discovery default holds. */
	assert_int_equal(adm.ctrl->kato, DISC_KATO_MS);
	/* A shutdown completes with no backing drive to flush. */
	adm.ctrl->regs.csts |= P2PMR_NVMF_CSTS_SHST_BUSY;
	ctrl_shutdown(&adm);
	assert_int_equal(adm.ctrl->regs.csts & P2PMR_NVMF_CSTS_SHST_MASK,
			 P2PMR_NVMF_CSTS_SHST_DONE);
	assert_int_equal(t.st.flushes, 0);
	tgt_ctrl_put(&adm);

	/* The allowed host sees the subsystem, at --addr and --port. */
	assert_int_equal(connect_to(&adm, 0xffff, &cntlid,
				    P2PMR_NVMF_DISCOVERY_NQN, HOSTNQN), 0);
	adm.ctrl->regs.csts |= P2PMR_NVMF_CSTS_RDY;
	assert_int_equal(admin(&adm, ADM_GET_LOG, 511u << 16 | 0x70, 2048), 0);
	assert_int_equal(adm.ctl[8], 1);
	assert_string_equal((const char *)adm.ctl + 1024 + 256, SUBNQN);
	assert_string_equal((const char *)adm.ctl + 1024 + 512, "192.0.2.2");
	assert_string_equal((const char *)adm.ctl + 1024 + 32, "4420");
	/* The I/O subsystem's logs are not the discovery controller's. */
	assert_int_equal(admin(&adm, ADM_GET_LOG, 127u << 16 | 0x02, 512),
			 p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_INVALID_FIELD));
	/*
	 * An I/O queue naming the I/O subsystem and the discovery
	 * controller's ID, from the same host: no such I/O controller.
	 */
	assert_int_equal(connect_to(&io, cntlid, NULL, SUBNQN, HOSTNQN),
			 p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_CONNECT_INVALID));
	/* Its result: the invalid parameter is CNTLID, data offset 16. */
	assert_int_equal(io.rsp[0] | io.rsp[1] << 8 | io.rsp[2] << 16 |
			 (uint32_t)io.rsp[3] << 24, P2PMR_NVMF_IPO_DATA(16));
	assert_null(io.ctrl);
	assert_int_equal(adm.ctrl->nr_queues, 1);
	tgt_ctrl_put(&adm);

	/* Discovery controllers: half of them at most, the rest for I/O. */
	for (i = 0; i < DISC_MAX_CTRLS; i++) {
		queue_init(&more[i], &t, 0);
		assert_int_equal(connect_to(&more[i], 0xffff, NULL,
					    P2PMR_NVMF_DISCOVERY_NQN,
					    "nqn.other"), 0);
	}
	assert_int_equal(connect_to(&adm, 0xffff, NULL,
				    P2PMR_NVMF_DISCOVERY_NQN, "nqn.other"),
			 p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_CONNECT_BUSY));
	assert_int_equal(connect_to(&adm, 0xffff, NULL, SUBNQN, HOSTNQN), 0);
	tgt_ctrl_put(&adm);
	for (i = 0; i < DISC_MAX_CTRLS; i++) {
		tgt_ctrl_put(&more[i]);
		test_free(more[i].ctl);
	}
	test_free(adm.ctl);
	test_free(io.ctl);
}

static void test_connect_io_twice(void **state)
{
	struct tgt_queue adm, io1, io1b, io2;
	struct tgt t;
	uint16_t cntlid, res;
	uint16_t seq = p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_CMD_SEQ_ERROR);

	(void)state;
	subsys_init(&t);
	queue_init(&adm, &t, 0);
	queue_init(&io1, &t, 1);
	queue_init(&io1b, &t, 1);
	queue_init(&io2, &t, 2);

	assert_int_equal(connect_queue(&adm, 0xffff, &cntlid), 0);
	assert_non_null(adm.ctrl);
	assert_int_equal(connect_queue(&io1, cntlid, &res), 0);
	assert_ptr_equal(io1.ctrl, adm.ctrl);
	/* The same queue ID again, on another connection: refused. */
	assert_int_equal(connect_queue(&io1b, cntlid, NULL), seq);
	assert_null(io1b.ctrl);
	assert_ptr_equal(io1.ctrl, adm.ctrl);
	assert_int_equal(adm.ctrl->nr_queues, 2);
	/* Another queue ID: fine. */
	assert_int_equal(connect_queue(&io2, cntlid, NULL), 0);
	/* Once queue 1 is gone, its ID may be connected again. */
	tgt_ctrl_put(&io1);
	assert_int_equal(connect_queue(&io1b, cntlid, NULL), 0);
	assert_ptr_equal(io1b.ctrl, adm.ctrl);

	test_free(adm.ctl);
	test_free(io1.ctl);
	test_free(io1b.ctl);
	test_free(io2.ctl);
}

/*
 * A queue with no controller TGT_CONNECT_MS after its connect request
 * (no Connect came, or it was refused) is closed: it holds buffers and a
 * place under --max-connections.  Connected queues stay.
 */
static void test_connect_timeout(void **state)
{
	struct tgt_queue idle, refused, adm;
	struct tgt t;
	uint16_t cntlid;

	(void)state;
	subsys_init(&t);
	queue_init(&idle, &t, 0);
	queue_init(&refused, &t, 1);
	queue_init(&adm, &t, 0);
	idle.since_ms = refused.since_ms = adm.since_ms = now_ms;
	assert_int_equal(connect_queue(&adm, 0xffff, &cntlid), 0);
	assert_int_not_equal(connect_queue(&refused, cntlid + 1, NULL), 0);
	assert_null(refused.ctrl);

	now_ms = idle.since_ms + TGT_CONNECT_MS - 100;
	tgt_check_kato(&t);
	assert_false(idle.disconnecting);
	assert_false(refused.disconnecting);
	now_ms += 100;
	tgt_check_kato(&t);
	assert_true(idle.disconnecting);
	assert_true(refused.disconnecting);
	assert_false(adm.disconnecting);
	assert_false(adm.ctrl->expired);

	test_free(idle.ctl);
	test_free(refused.ctl);
	test_free(adm.ctl);
}

/*
 * A one-block @opc of LBA @slba, CID @cid, CDW12 @cdw12 (its FUA bit), on
 * I/O queue @q, its data by keyed SGL: started.
 */
static void rw_cmd(struct tgt_queue *q, uint8_t opc, uint16_t cid,
		   uint64_t slba, uint32_t cdw12)
{
	static const struct p2pmr_nvmf_limits lim = { .max_data = 128 * 1024 };
	struct p2pmr_nvmf_cmd cmd;
	uint8_t c[64] = { 0 };

	c[0] = opc;
	c[1] = 0x40;
	put16(c + 2, cid);
	put32(c + 4, TGT_NSID);
	put32(c + 24, 0x1000);
	put32(c + 24 + 8, 512);
	put32(c + 24 + 11, 0xabcd);
	c[24 + 15] = 0x40;
	put32(c + 40, (uint32_t)slba);
	put32(c + 48, cdw12);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd), 0);
	assert_int_equal(do_io(q, &cmd), 0);
}

static void rw_block(struct tgt_queue *q, uint8_t opc, uint16_t cid,
		     uint64_t slba)
{
	rw_cmd(q, opc, cid, slba, 0);
}

/* A one-block Write of LBA @slba on I/O queue @q, served at once. */
static void write_block(struct tgt_queue *q, uint64_t slba)
{
	rw_block(q, P2PMR_NVME_CMD_WRITE, 1, slba);
	tgt_io_drain(q->t);
}

static struct tgt_io entries[TGT_MAX_BUFS];

/* A target with @bufs data buffers of 128 KiB and a 1000-block namespace. */
static void tgt_init(struct tgt *t, uint32_t bufs)
{
	memset(t, 0, sizeof(*t));
	t->data_mr = &fake_mr;
	t->io_mr = &fake_mr;
	t->ns.nsze = 1000;
	t->ns.lba_size = 512;
	t->max_data = 128 * 1024;
	t->data_rdma = 0x40000000;
	t->data_nvme = 0x80000000;
	t->nr_bufs = bufs;
	memset(entries, 0, sizeof(entries));
	t->io = entries;
	nr_sent = nr_subs = nvme_holds = qp_recreated = 0;
	hold_lba = ~0ULL;
	cid_pool = 32;
	cid_next = 0;
	memset(cid_busy, 0, sizeof(cid_busy));
	reads_posted = waits = reaps = wr_outstanding = nr_posted = 0;
	reap_holds = 0;
	exec_status = exec_dnr = exec_ret = 0;
	ready = 1;
	fail_qid = -1;
	fail_status = IBV_WC_RETRY_EXC_ERR;
	fail_fatal = 0;
	rdma_fail = -1;
}

/*
 * The data MR revoked under the target (a controller reset): the RDMA
 * READ of a host write fails with a local protection error, which starts
 * the recovery; the queue is broken, so no answer.  Another RDMA failure
 * starts none.  A backing queue that is gone (a recovery that could not
 * finish) fails the write with Internal Error and no DNR: the host
 * retries it.
 */
static void test_revoked(void **state)
{
	struct tgt_queue io;
	struct tgt t;
	int n, w, r0 = recoveries;
	uint16_t st;

	(void)state;
	tgt_init(&t, 1);
	n = responses;
	queue_init(&io, &t, 1);

	rdma_fail = IBV_WC_LOC_PROT_ERR;
	write_block(&io, 7);
	assert_int_equal(recoveries, r0 + 1);
	assert_int_equal(t.st.revokes, 1);
	assert_int_equal(responses, n);
	assert_int_equal(nr_subs, 0);
	rdma_fail = IBV_WC_RETRY_EXC_ERR;
	io.broken = 0;
	io.wc_status = -1;
	w = reads_posted;
	write_block(&io, 7);
	assert_int_equal(reads_posted, w + 1);
	assert_int_equal(recoveries, r0 + 1);
	assert_int_equal(t.st.revokes, 1);
	assert_int_equal(responses, n);
	assert_int_equal(nr_subs, 0);
	assert_int_equal(wr_outstanding, 0);

	rdma_fail = -1;
	connect_data = NULL;
	io.broken = 0;
	io.wc_status = -1;
	write_block(&io, 7);
	assert_int_equal(responses, n + 1);
	st = sent[0].status;
	assert_int_equal(st, P2PMR_NVMF_SC_INTERNAL << 1);
	assert_int_equal(st & 0x8000, 0);		/* no DNR */
	assert_int_equal(t.st.writes, 0);
	assert_int_equal(t.st.errors, 1);
	test_free(io.ctl);
}

/*
 * A backing command that fails: its status reaches the host, with the
 * backing controller's Do Not Retry where it set one (an Unrecovered Read
 * Error, SCT 2 SC 0x81, retried by the host only if the drive allows it).
 */
static void test_backing_dnr(void **state)
{
	struct tgt_queue io;
	struct tgt t;
	uint16_t st;

	(void)state;
	tgt_init(&t, 1);
	t.nqp = (struct p2pmr_nvme_qp *)&t;	/* never looked into */
	queue_init(&io, &t, 1);
	rdma_fail = -1;
	connect_data = NULL;

	exec_status = 0x281;
	exec_dnr = 0;
	write_block(&io, 7);
	st = sent[0].status;
	assert_int_equal(st, 0x0502);
	exec_dnr = 1;
	write_block(&io, 7);
	st = sent[1].status;
	assert_int_equal(st, 0x8502);
	assert_int_equal(t.st.writes, 0);
	assert_int_equal(t.st.errors, 2);
	exec_status = 0;
	exec_dnr = 0;
	test_free(io.ctl);
}

/* The response to CID @cid on queue @qid, or NULL. */
static const struct sent *sent_to(uint16_t qid, uint16_t cid)
{
	int i;

	for (i = 0; i < nr_sent; i++)
		if (sent[i].qid == qid && sent[i].cid == cid)
			return &sent[i];
	return NULL;
}

/* A one-block Force Unit Access Write of LBA @slba, CID @cid, on @q. */
static void fua_write(struct tgt_queue *q, uint16_t cid, uint64_t slba)
{
	rw_cmd(q, P2PMR_NVME_CMD_WRITE, cid, slba, 1u << 30);
}

/* @q on @t's controller 0, connected and enabled (CSTS.RDY). */
static void ctrl_ready(struct tgt *t, struct tgt_queue *q)
{
	q->ctrl = &t->ctrls[0];
	t->ctrls[0].used = 1;
	t->ctrls[0].regs.csts = P2PMR_NVMF_CSTS_RDY;
}

/*
 * A target of two buffers with admin queue @adm and I/O queue @q1 of one
 * ready controller.
 */
static void admin_init(struct tgt *t, struct tgt_queue *adm,
		       struct tgt_queue *q1)
{
	tgt_init(t, 2);
	t->nqp = (struct p2pmr_nvme_qp *)t;
	t->n = (struct p2pmr_nvme *)t;		/* never looked into */
	queue_init(adm, t, 0);
	queue_init(q1, t, 1);
	ctrl_ready(t, q1);
	adm->ctrl = q1->ctrl;
}

/*
 * --buf=host with in-capsule data: @t's buffers are @host (@bufs of 8
 * KiB), and @q's controller is ready for tgt_cmd().
 */
static void host_bufs(struct tgt *t, struct tgt_queue *q, uint8_t *host)
{
	t->max_data = 8192;
	t->inline_size = 4096;
	t->host_buf = host;
	ctrl_ready(t, q);
}

/*
 * A one-block Write of LBA @slba, CID @cid, with FUA if @fua, its data
 * (bytes of @fill) in the capsule, through tgt_cmd() as queue_poll()
 * serves it.
 */
static void inline_write(struct tgt_queue *q, uint16_t cid, uint64_t slba,
			 int fua, uint8_t fill)
{
	uint8_t c[64 + 512] = { 0 };

	c[0] = P2PMR_NVME_CMD_WRITE;
	c[1] = 0x40;
	put16(c + 2, cid);
	put32(c + 4, TGT_NSID);
	put32(c + 24 + 8, 512);
	c[24 + 15] = 0x01;		/* data block, offset */
	put32(c + 40, (uint32_t)slba);
	if (fua)
		put32(c + 48, 1u << 30);
	memset(c + 64, fill, 512);
	assert_int_equal(tgt_cmd(q, c, sizeof(c)), 0);
}

/* The backing command of LBA @slba, or NULL. */
static const struct submitted *sub_of(uint64_t slba)
{
	int i;

	for (i = 0; i < nr_subs; i++)
		if (subs[i].slba == slba && subs[i].opc != P2PMR_NVME_CMD_FLUSH)
			return &subs[i];
	return NULL;
}

/* Whether entry @i's buffer is taken. */
static int taken(const struct tgt *t, uint32_t i)
{
	return t->io[i].state != IO_FREE;
}

/*
 * Five commands on two queues: three writes on queue 1, two reads on
 * queue 2.  Each has its own data buffer; a read goes to the backing
 * controller at once, a write after its RDMA READ; the backing commands
 * complete in reverse order and each answer carries its own command's
 * status; a read's data goes out of its own buffer.
 */
static void test_io(void **state)
{
	static const uint64_t lba[5] = { 10, 11, 20, 12, 21 };
	struct tgt_queue q1, q2;
	const struct sent *r;
	struct tgt t;
	int i;

	(void)state;
	tgt_init(&t, 8);
	t.nqp = (struct p2pmr_nvme_qp *)&t;	/* never looked into */
	queue_init(&q1, &t, 1);
	queue_init(&q2, &t, 2);
	rdma_fail = -1;
	fail_lba = 12;

	rw_block(&q1, P2PMR_NVME_CMD_WRITE, 1, 10);
	rw_block(&q1, P2PMR_NVME_CMD_WRITE, 2, 11);
	rw_block(&q2, P2PMR_NVME_CMD_READ, 3, 20);
	rw_block(&q1, P2PMR_NVME_CMD_WRITE, 4, 12);
	rw_block(&q2, P2PMR_NVME_CMD_READ, 5, 21);
	/* Started: the reads on the controller, the writes reading. */
	assert_int_equal(reads_posted, 3);
	assert_int_equal(nr_subs, 2);
	assert_int_equal(nr_sent, 0);
	assert_int_equal(tgt_io_busy(&t), 5);
	tgt_io_drain(&t);
	assert_int_equal(tgt_io_busy(&t), 0);
	assert_int_equal(nr_subs, 5);
	/* Buffer i for command i. */
	for (i = 0; i < 5; i++)
		assert_int_equal(sub_of(lba[i])->addr,
				 t.data_nvme + i * t.max_data);
	assert_int_equal(nr_sent, 5);
	assert_non_null(r = sent_to(1, 1));
	assert_int_equal(r->status, 0);
	assert_non_null(r = sent_to(1, 2));
	assert_int_equal(r->status, 0);
	assert_non_null(r = sent_to(1, 4));
	assert_int_equal(r->status, 0x8502);	/* LBA 12: its DNR error */
	assert_int_equal(r->len, 0);
	assert_non_null(r = sent_to(2, 3));
	assert_int_equal(r->status, 0);
	assert_int_equal(r->len, 512);
	assert_int_equal(r->laddr, t.data_rdma + 2 * t.max_data);
	assert_non_null(r = sent_to(2, 5));
	assert_int_equal(r->laddr, t.data_rdma + 4 * t.max_data);
	assert_int_equal(t.st.writes, 2);
	assert_int_equal(t.st.reads, 2);
	assert_int_equal(t.st.inflight_max, 5);
	/*
	 * The READs were polled for, not waited for; so are the answers (3
	 * SENDs, 2 RDMA WRITEs and SENDs): their buffers stay taken until
	 * they completed.
	 */
	assert_int_equal(waits, 0);
	assert_int_equal(q1.outstanding, 3);
	assert_int_equal(q2.outstanding, 4);
	for (i = 0; i < 5; i++)
		assert_true(taken(&t, i));
	tgt_reap_sends(&q1);
	tgt_reap_sends(&q2);
	assert_int_equal(wr_outstanding, 0);
	for (i = 0; i < 5; i++)
		assert_false(taken(&t, i));
	fail_lba = ~0ULL;
	test_free(q1.ctl);
	test_free(q2.ctl);
}

/*
 * Commands do not wait for each other: one that comes while others are
 * on the backing controller goes there at once, and each is answered
 * when its own backing command completed, the others still in flight.
 */
static void test_io_pipeline(void **state)
{
	struct tgt_queue q1;
	struct tgt t;

	(void)state;
	tgt_init(&t, 4);
	t.nqp = (struct p2pmr_nvme_qp *)&t;
	queue_init(&q1, &t, 1);
	rdma_fail = -1;
	nvme_holds = 1;
	rw_block(&q1, P2PMR_NVME_CMD_READ, 1, 10);
	rw_block(&q1, P2PMR_NVME_CMD_WRITE, 2, 11);
	assert_int_equal(tgt_io_poll(&t), 1);	/* the write's READ done */
	assert_int_equal(nr_subs, 2);
	rw_block(&q1, P2PMR_NVME_CMD_READ, 3, 12);
	assert_int_equal(nr_subs, 3);
	assert_int_equal(nr_sent, 0);
	/* LBA 11 stays on the controller; the two reads complete. */
	nvme_holds = 0;
	hold_lba = 11;
	assert_int_equal(tgt_io_poll(&t), 2);
	assert_int_equal(nr_sent, 2);
	assert_non_null(sent_to(1, 1));
	assert_non_null(sent_to(1, 3));
	assert_int_equal(tgt_io_busy(&t), 1);
	/* The buffers of answered reads are taken again meanwhile. */
	tgt_reap_sends(&q1);
	rw_block(&q1, P2PMR_NVME_CMD_READ, 4, 13);
	assert_int_equal(sub_of(13)->addr, t.data_nvme);
	hold_lba = ~0ULL;
	tgt_io_drain(&t);
	assert_int_equal(nr_sent, 4);
	assert_int_equal(sent_to(1, 2)->status, 0);
	assert_int_equal(t.st.inflight_max, 3);
	test_free(q1.ctl);
}

/*
 * A backing command that never completes, the controller still ready:
 * after TGT_NVME_TIMEOUT_MS the backing queue is set up again and every
 * command on it fails with Internal Error, which carries no DNR (the
 * host retries it); one that completed before is answered as it was.
 * Then a controller that stops: a recovery, and the command fails.
 */
static void test_io_lost(void **state)
{
	struct tgt_queue q1;
	int r0 = recoveries;
	struct tgt t;

	(void)state;
	tgt_init(&t, 4);
	t.nqp = (struct p2pmr_nvme_qp *)&t;
	t.n = (struct p2pmr_nvme *)&t;		/* never looked into */
	queue_init(&q1, &t, 1);
	rdma_fail = -1;
	hold_lba = 11;
	rw_block(&q1, P2PMR_NVME_CMD_READ, 1, 10);
	rw_block(&q1, P2PMR_NVME_CMD_READ, 2, 11);
	rw_block(&q1, P2PMR_NVME_CMD_READ, 3, 12);
	tgt_io_drain(&t);
	assert_true(now_ms > TGT_NVME_TIMEOUT_MS);
	assert_int_equal(qp_recreated, 1);
	assert_int_equal(t.st.recoveries, 1);
	assert_int_equal(recoveries, r0);
	assert_int_equal(sent_to(1, 1)->status, 0);
	assert_int_equal(sent_to(1, 3)->status, 0);
	assert_int_equal(sent_to(1, 2)->status, P2PMR_NVMF_SC_INTERNAL << 1);
	assert_int_equal(sent_to(1, 2)->len, 0);
	assert_int_equal(t.st.reads, 2);
	tgt_reap_sends(&q1);

	/* The controller stops under a command: found by CSTS. */
	nvme_holds = 1;
	rw_block(&q1, P2PMR_NVME_CMD_READ, 4, 13);
	assert_non_null(sub_of(13));
	ready = 0;
	nvme_holds = 0;
	tgt_io_drain(&t);
	assert_int_equal(recoveries, r0 + 1);
	assert_int_equal(sent_to(1, 4)->status, P2PMR_NVMF_SC_INTERNAL << 1);
	assert_int_equal(tgt_io_busy(&t), 0);
	hold_lba = ~0ULL;
	test_free(q1.ctl);
}

/*
 * A command that never completes while others complete on every poll:
 * it still times out (the look for a stall is not only for idle polls).
 */
static void test_io_lost_under_load(void **state)
{
	struct tgt_queue q1;
	struct tgt t;
	int k;

	(void)state;
	tgt_init(&t, 4);
	t.nqp = (struct p2pmr_nvme_qp *)&t;
	t.n = (struct p2pmr_nvme *)&t;
	queue_init(&q1, &t, 1);
	hold_lba = 11;
	rw_block(&q1, P2PMR_NVME_CMD_READ, 1, 11);
	for (k = 0; k < 5000 && !qp_recreated; k++) {
		rw_block(&q1, P2PMR_NVME_CMD_READ, 2, 100 + k % 50);
		assert_int_equal(tgt_io_poll(&t), 1);
		tgt_reap_sends(&q1);
	}
	assert_int_equal(qp_recreated, 1);
	assert_int_equal(sent_to(1, 1)->status, P2PMR_NVMF_SC_INTERNAL << 1);
	hold_lba = ~0ULL;
	test_free(q1.ctl);
}

/*
 * The backing controller's CIDs are reused as soon as polled.  A FUA
 * write's Flush, submitted while the completions of one poll are handled,
 * may take the CID of a completion later in that same poll: each
 * completion belongs to the command that had its CID when it was polled.
 */
static void test_io_fua_cid_reuse(void **state)
{
	static uint8_t host[4 * 8192];
	struct tgt_queue q1;
	struct tgt t;

	(void)state;
	tgt_init(&t, 4);
	t.nqp = (struct p2pmr_nvme_qp *)&t;
	queue_init(&q1, &t, 1);
	host_bufs(&t, &q1, host);
	cid_pool = 2;
	/* A read takes entry 0 and CID 100; its answer stays in flight. */
	reap_holds = 1;
	rw_block(&q1, P2PMR_NVME_CMD_READ, 1, 50);
	assert_int_equal(tgt_io_poll(&t), 1);
	/* B, entry 1: its Write (CID 101) completes, its Flush takes 100. */
	inline_write(&q1, 2, 10, 1, 0xbb);
	assert_int_equal(tgt_io_poll(&t), 1);
	assert_int_equal(subs[2].opc, P2PMR_NVME_CMD_FLUSH);
	assert_int_equal(subs[2].cid, 100);
	reap_holds = 0;
	tgt_reap_sends(&q1);
	assert_false(taken(&t, 0));
	/* A, entry 0: its Write takes CID 101, B's Flush in flight. */
	nvme_holds = 1;
	inline_write(&q1, 3, 11, 1, 0xaa);
	assert_int_equal(subs[3].cid, 101);
	/*
	 * One poll: A's Write (101), then B's Flush (100).  A's Flush,
	 * submitted in between, takes CID 100 again.
	 */
	nvme_holds = 0;
	assert_int_equal(tgt_io_poll(&t), 2);
	assert_int_equal(subs[4].opc, P2PMR_NVME_CMD_FLUSH);
	assert_int_equal(subs[4].cid, 100);
	assert_false(subs[4].done);
	assert_non_null(sent_to(1, 2));		/* B: its Flush is done */
	assert_int_equal(sent_to(1, 2)->status, 0);
	assert_null(sent_to(1, 3));		/* A: its Flush is not */
	tgt_io_drain(&t);
	assert_int_equal(sent_to(1, 3)->status, 0);
	assert_int_equal(t.st.fua, 2);
	test_free(q1.ctl);
}

/*
 * A queue whose RDMA fails (not a revoke) breaks: its commands get no
 * answer, and a write no backing command; the other queue's are served.
 */
static void test_io_broken_queue(void **state)
{
	struct tgt_queue q1, q2;
	struct tgt t;
	int n;

	(void)state;
	tgt_init(&t, 8);
	t.nqp = (struct p2pmr_nvme_qp *)&t;
	queue_init(&q1, &t, 1);
	queue_init(&q2, &t, 2);
	rdma_fail = -1;
	n = recoveries;
	fail_qid = 1;
	rw_block(&q1, P2PMR_NVME_CMD_WRITE, 1, 10);
	rw_block(&q2, P2PMR_NVME_CMD_WRITE, 2, 20);
	rw_block(&q1, P2PMR_NVME_CMD_READ, 3, 30);
	tgt_io_drain(&t);
	fail_qid = -1;
	assert_true(q1.broken);
	assert_false(q2.broken);
	/* The read went to the controller before its queue broke. */
	assert_int_equal(nr_subs, 2);
	assert_non_null(sub_of(20));
	assert_non_null(sub_of(30));
	assert_null(sub_of(10));
	assert_int_equal(nr_sent, 1);
	assert_non_null(sent_to(2, 2));
	assert_int_equal(recoveries, n);
	assert_int_equal(t.st.writes, 1);
	assert_int_equal(t.st.reads, 0);	/* not answered: not counted */
	assert_int_equal(tgt_io_busy(&t), 0);
	test_free(q1.ctl);
	test_free(q2.ctl);
}

/*
 * A capsule of no data (a keyed SGL of length 0): @opc, CID @cid, for
 * tgt_cmd(); fabrics command type @fctype for a fabrics @opc.
 */
static void bare_cmd(uint8_t *c, uint8_t opc, uint16_t cid, uint8_t fctype)
{
	memset(c, 0, 64);
	c[0] = opc;
	c[1] = 0x40;
	put16(c + 2, cid);
	if (opc == P2PMR_NVMF_OPC_FABRICS)
		c[4] = fctype;
	c[24 + 15] = 0x40;
}

/*
 * A Flush goes along with the Reads and Writes in flight: its backing
 * Flush is submitted at once and it is answered when that completed,
 * while a write that came before it is still on the controller (a Flush
 * covers the writes completed before it: all those answered).
 */
static void test_io_flush(void **state)
{
	struct tgt_queue q1;
	uint8_t c[64];
	struct tgt t;

	(void)state;
	tgt_init(&t, 4);
	t.nqp = (struct p2pmr_nvme_qp *)&t;
	t.n = (struct p2pmr_nvme *)&t;		/* never looked into */
	queue_init(&q1, &t, 1);
	ctrl_ready(&t, &q1);
	hold_lba = 11;
	rw_block(&q1, P2PMR_NVME_CMD_WRITE, 1, 11);
	assert_int_equal(tgt_io_poll(&t), 1);	/* its READ done */
	assert_non_null(sub_of(11));

	bare_cmd(c, P2PMR_NVME_CMD_FLUSH, 9, 0);
	put32(c + 4, TGT_NSID);
	assert_int_equal(tgt_cmd(&q1, c, sizeof(c)), 0);
	assert_int_equal(nr_subs, 2);
	assert_int_equal(subs[1].opc, P2PMR_NVME_CMD_FLUSH);
	assert_int_equal(subs[1].addr, 0);
	assert_int_equal(nr_sent, 0);
	assert_int_equal(tgt_io_poll(&t), 1);
	assert_int_equal(nr_sent, 1);
	assert_int_equal(sent_to(1, 9)->status, 0);
	assert_int_equal(sent_to(1, 9)->len, 0);
	assert_int_equal(t.st.flushes, 1);
	assert_int_equal(t.st.reads + t.st.writes, 0);
	assert_int_equal(t.st.read_bytes + t.st.rdma_out + t.st.host_bytes, 0);
	assert_int_equal(t.st.inflight_max, 1);	/* Reads and Writes only */
	assert_int_equal(tgt_io_busy(&t), 1);
	assert_int_equal(qp_recreated, 0);

	/* A Flush that fails: its status. */
	exec_status = 0x6;
	bare_cmd(c, P2PMR_NVME_CMD_FLUSH, 10, 0);
	put32(c + 4, 0xffffffff);
	assert_int_equal(tgt_cmd(&q1, c, sizeof(c)), 0);
	assert_int_equal(tgt_io_poll(&t), 1);
	assert_int_equal(sent_to(1, 10)->status, 0x6 << 1);
	assert_int_equal(t.st.flushes, 1);
	exec_status = 0;

	hold_lba = ~0ULL;
	tgt_io_drain(&t);
	assert_int_equal(sent_to(1, 1)->status, 0);
	assert_int_equal(t.st.writes, 1);
	test_free(q1.ctl);
}

/* A command that finds every buffer taken waits for one. */
static void test_io_no_buffer(void **state)
{
	struct tgt_queue q1;
	struct tgt t;

	(void)state;
	tgt_init(&t, 2);
	t.nqp = (struct p2pmr_nvme_qp *)&t;
	queue_init(&q1, &t, 1);
	ctrl_ready(&t, &q1);
	rdma_fail = -1;
	rw_block(&q1, P2PMR_NVME_CMD_WRITE, 1, 10);
	rw_block(&q1, P2PMR_NVME_CMD_WRITE, 2, 11);
	assert_int_equal(nr_subs, 0);
	/* The third finds both buffers taken: the two are served first. */
	rw_block(&q1, P2PMR_NVME_CMD_WRITE, 3, 12);
	assert_int_equal(nr_subs, 2);
	assert_int_equal(nr_sent, 2);
	assert_int_equal(tgt_io_busy(&t), 1);
	tgt_io_drain(&t);
	assert_int_equal(nr_sent, 3);
	assert_int_equal(sent[2].cid, 3);
	test_free(q1.ctl);
}

/*
 * Admin commands do not wait for Reads and Writes: a Keep Alive and an
 * Identify are answered while a backing command is slow (or lost), and
 * nothing times out meanwhile.  A Property Set (it may shut the
 * controller down) still waits for them.
 */
static void test_admin_no_wait(void **state)
{
	struct tgt_queue adm, q1;
	uint8_t c[64];
	struct tgt t;
	uint64_t t0;

	(void)state;
	admin_init(&t, &adm, &q1);
	nvme_holds = 1;
	rw_block(&q1, P2PMR_NVME_CMD_READ, 1, 10);
	assert_int_equal(nr_subs, 1);
	t0 = now_ms;

	bare_cmd(c, ADM_KEEP_ALIVE, 7, 0);
	assert_int_equal(tgt_cmd(&adm, c, sizeof(c)), 0);
	assert_int_equal(nr_sent, 1);
	assert_int_equal(sent_to(0, 7)->status, 0);
	/* Identify Namespace 1, 4096 bytes by keyed SGL. */
	bare_cmd(c, ADM_IDENTIFY, 9, 0);
	put32(c + 4, TGT_NSID);
	put32(c + 24 + 8, P2PMR_NVMF_ID_SIZE);
	put32(c + 24 + 11, 0xabcd);
	c[40] = CNS_NS;
	t.ns_id[0] = 0x5a;
	assert_int_equal(tgt_cmd(&adm, c, sizeof(c)), 0);
	assert_int_equal(nr_sent, 2);
	assert_int_equal(sent_to(0, 9)->status, 0);
	assert_int_equal(adm.ctl[0], 0x5a);
	/* The read is still on the controller: no time out, no recovery. */
	assert_int_equal(tgt_io_busy(&t), 1);
	assert_null(sent_to(1, 1));
	assert_int_equal(qp_recreated, 0);
	assert_true(now_ms - t0 < TGT_NVME_TIMEOUT_MS);

	/* A Property Set (CC, 4 bytes) is answered after the read; the
	 * capsules rdma.c held stay held (only a shutdown starts them).
	 */
	nvme_holds = 0;
	serve_helds = 0;
	bare_cmd(c, P2PMR_NVMF_OPC_FABRICS, 8, P2PMR_NVMF_PROP_SET);
	put32(c + 44, P2PMR_NVMF_PROP_CC);
	assert_int_equal(tgt_cmd(&adm, c, sizeof(c)), 0);
	assert_int_equal(serve_helds, 0);
	assert_int_equal(nr_sent, 4);
	assert_int_equal(sent[2].cid, 1);
	assert_int_equal(sent[2].status, 0);
	assert_int_equal(sent[3].cid, 8);
	assert_int_equal(tgt_io_busy(&t), 0);
	test_free(adm.ctl);
	test_free(q1.ctl);
}

/*
 * A gone queue's Write still on the backing controller (an orphan): a
 * Property Set that enables a controller does not wait for it (the
 * host's reconnect is answered at once), while tgt_io_room() holds new
 * commands back; a shutdown starts the held capsules and waits for it,
 * then flushes.
 */
static void test_prop_set_orphan(void **state)
{
	struct tgt_queue adm, q1, q2;
	struct tgt t;
	uint8_t c[64];

	(void)state;
	admin_init(&t, &adm, &q1);
	queue_init(&q2, &t, 2);
	nvme_holds = 1;
	rw_block(&q2, P2PMR_NVME_CMD_WRITE, 1, 14);
	assert_int_equal(tgt_io_poll(&t), 1);	/* its RDMA READ done */
	assert_int_equal(nr_subs, 1);
	tgt_io_queue_gone(&q2);
	assert_false(tgt_io_room(&t));

	serve_helds = 0;
	bare_cmd(c, P2PMR_NVMF_OPC_FABRICS, 8, P2PMR_NVMF_PROP_SET);
	put32(c + 44, P2PMR_NVMF_PROP_CC);
	put32(c + 48, 1);			/* CC.EN */
	assert_int_equal(tgt_cmd(&adm, c, sizeof(c)), 0);
	assert_int_equal(sent_to(0, 8)->status, 0);
	assert_false(sub_of(14)->done);
	assert_int_equal(serve_helds, 0);
	assert_false(tgt_io_room(&t));

	/* CC.SHN: normal shutdown. */
	nvme_holds = 0;
	bare_cmd(c, P2PMR_NVMF_OPC_FABRICS, 9, P2PMR_NVMF_PROP_SET);
	put32(c + 44, P2PMR_NVMF_PROP_CC);
	put32(c + 48, 1u << 14 | 1);
	assert_int_equal(tgt_cmd(&adm, c, sizeof(c)), 0);
	assert_int_equal(serve_helds, 1);
	assert_true(sub_of(14)->done);
	assert_int_equal(tgt_io_busy(&t), 0);
	assert_int_equal(sent_to(0, 9)->status, 0);
	assert_int_equal(q1.ctrl->regs.csts & P2PMR_NVMF_CSTS_SHST_MASK,
			 P2PMR_NVMF_CSTS_SHST_DONE);
	assert_int_equal(t.st.shutdowns, 1);
	assert_true(tgt_io_room(&t));
	test_free(adm.ctl);
	test_free(q1.ctl);
	test_free(q2.ctl);
}

/*
 * In-capsule data (--buf=host): a Write whose data came in the capsule is
 * copied into its own buffer, no RDMA READ for it, counted as inline_in;
 * a keyed Write beside it is read by RDMA as before.
 */
static void test_io_incapsule(void **state)
{
	static const struct p2pmr_nvmf_limits lim = { .max_data = 8192,
						      .inline_size = 4096 };
	static uint8_t host[2 * 8192];
	uint8_t c[64 + 512] = { 0 };
	struct p2pmr_nvmf_cmd cmd;
	struct tgt_queue q1;
	struct tgt t;

	(void)state;
	tgt_init(&t, 2);
	t.max_data = 8192;
	t.inline_size = 4096;
	t.host_buf = host;
	t.nqp = (struct p2pmr_nvme_qp *)&t;
	queue_init(&q1, &t, 1);
	rdma_fail = -1;

	ctrl_ready(&t, &q1);
	/* The keyed one takes buffer 0. */
	rw_block(&q1, P2PMR_NVME_CMD_WRITE, 1, 10);
	/* One block at LBA 11, its data after the SQE (offset 0). */
	c[0] = P2PMR_NVME_CMD_WRITE;
	c[1] = 0x40;
	put16(c + 2, 2);
	put32(c + 4, TGT_NSID);
	put32(c + 24 + 8, 512);
	c[24 + 15] = 0x01;		/* data block, offset */
	put32(c + 40, 11);
	memset(c + 64, 0x5a, 512);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, sizeof(c), &lim, &cmd), 0);
	/* As queue_poll() serves it: to the controller at once. */
	assert_int_equal(tgt_cmd(&q1, c, sizeof(c)), 0);
	assert_int_equal(nr_subs, 1);
	tgt_io_drain(&t);
	assert_int_equal(reads_posted, 1);
	assert_int_equal(nr_subs, 2);
	assert_int_equal(sub_of(11)->addr, t.data_nvme + 8192);
	assert_int_equal(host[8192], 0x5a);
	assert_int_equal(host[8192 + 511], 0x5a);
	assert_int_equal(t.st.inline_in, 512);
	assert_int_equal(t.st.rdma_in, 512);
	assert_non_null(sent_to(1, 2));
	assert_int_equal(sent_to(1, 2)->status, 0);
	/* Without in-capsule data offered, the same capsule is refused. */
	t.inline_size = 0;
	assert_int_equal(tgt_cmd(&q1, c, sizeof(c)), 0);
	assert_int_equal(sent[nr_sent - 1].status & 0x7fe,
			 P2PMR_NVMF_SC_INVALID_FIELD << 1);
	assert_int_equal(nr_subs, 2);
	test_free(q1.ctl);
}

/*
 * A target that must stop (a queue's RDMA failed and its drain did not
 * finish): no command in flight may be answered with success, and none
 * goes to the controller afterwards.
 */
static void test_io_fatal(void **state)
{
	static uint8_t host[8 * 8192], before[8 * 8192];
	struct tgt_queue q1, q2;
	struct tgt t;
	int i;

	(void)state;
	tgt_init(&t, 8);
	t.nqp = (struct p2pmr_nvme_qp *)&t;
	queue_init(&q1, &t, 1);
	queue_init(&q2, &t, 2);
	host_bufs(&t, &q2, host);
	fail_qid = 1;
	fail_fatal = 1;
	nvme_holds = 1;
	rw_block(&q1, P2PMR_NVME_CMD_WRITE, 1, 10);
	rw_block(&q2, P2PMR_NVME_CMD_WRITE, 2, 20);
	rw_block(&q2, P2PMR_NVME_CMD_READ, 3, 30);
	tgt_io_drain(&t);
	assert_true(t.fatal);
	assert_int_equal(nr_subs, 1);		/* the read, before */
	assert_null(sub_of(20));
	assert_int_equal(nr_sent, 2);
	for (i = 0; i < nr_sent; i++)
		assert_int_equal(sent[i].status, P2PMR_NVMF_SC_INTERNAL << 1);
	assert_int_equal(t.st.writes + t.st.reads, 0);
	assert_int_equal(tgt_io_busy(&t), 0);
	/* Queue 2's two failures are on their way, queue 1 drained. */
	assert_int_equal(q1.outstanding, 0);
	assert_int_equal(q2.outstanding, 2);
	tgt_reap_sends(&q2);
	assert_int_equal(wr_outstanding, 0);
	/*
	 * A command after that takes no buffer (the read's may still be
	 * the controller's): its in-capsule data is not copied into one,
	 * and it gets Internal Error at once.
	 */
	memcpy(before, host, sizeof(host));
	inline_write(&q2, 4, 40, 0, 0x5a);
	assert_memory_equal(host, before, sizeof(host));
	assert_int_equal(nr_subs, 1);
	assert_int_equal(sent[nr_sent - 1].cid, 4);
	assert_int_equal(sent[nr_sent - 1].status,
			 P2PMR_NVMF_SC_INTERNAL << 1);
	test_free(q1.ctl);
	test_free(q2.ctl);
}

/*
 * Answers are not waited for: the next command takes a buffer that is
 * free, and a buffer whose answer is still being sent (its RDMA WRITE
 * could still read it) is taken again only after its sends completed,
 * waited for when no buffer is free.  A queue that goes frees its
 * buffers, except one whose backing command is still in flight.
 */
static void test_io_reuse(void **state)
{
	struct tgt_queue q1, q2, q3;
	struct tgt t;
	int i, j;

	(void)state;
	tgt_init(&t, 2);
	t.nqp = (struct p2pmr_nvme_qp *)&t;
	queue_init(&q1, &t, 1);
	queue_init(&q2, &t, 2);
	queue_init(&q3, &t, 3);
	reap_holds = 1;
	rw_block(&q1, P2PMR_NVME_CMD_READ, 1, 10);
	tgt_io_drain(&t);
	assert_int_equal(q1.outstanding, 2);	/* RDMA WRITE and SEND */
	assert_int_equal(waits, 0);
	rw_block(&q1, P2PMR_NVME_CMD_READ, 2, 11);
	tgt_io_drain(&t);
	assert_int_equal(subs[0].addr, t.data_nvme);
	assert_int_equal(subs[1].addr, t.data_nvme + t.max_data);
	assert_int_equal(waits, 0);
	/* Both buffers busy: the third waits for the first answers. */
	rw_block(&q1, P2PMR_NVME_CMD_READ, 3, 12);
	assert_int_equal(waits, 1);
	assert_true(reaps > 0);
	assert_int_equal(q1.outstanding, 0);
	tgt_io_drain(&t);
	assert_int_equal(subs[2].addr, t.data_nvme);
	assert_int_equal(sent_to(1, 3)->laddr, t.data_rdma);
	/* Queue 2 takes buffer 1; its queue goes before the answer did. */
	rw_block(&q2, P2PMR_NVME_CMD_READ, 4, 13);
	tgt_io_drain(&t);
	assert_int_equal(subs[3].addr, t.data_nvme + t.max_data);
	assert_true(taken(&t, 1));
	tgt_io_queue_gone(&q2);
	assert_false(taken(&t, 1));
	assert_true(taken(&t, 0));		/* queue 1's answer */
	/* Its sends went with its QP. */
	for (i = 0, j = 0; i < nr_posted; i++)
		if (posted[i].q != &q2)
			posted[j++] = posted[i];
	wr_outstanding -= nr_posted - j;
	nr_posted = j;
	q2.outstanding = 0;
	tgt_reap_sends(&q1);
	assert_true(taken(&t, 0));		/* reap_holds: still sending */
	reap_holds = 0;
	tgt_reap_sends(&q1);
	assert_false(taken(&t, 0));
	/* A queue that goes under a backing Read: nothing waits for it. */
	nvme_holds = 1;
	rw_block(&q3, P2PMR_NVME_CMD_READ, 5, 13);
	tgt_io_queue_gone(&q3);
	assert_true(tgt_io_room(&t));
	nvme_holds = 0;
	tgt_io_drain(&t);
	assert_true(sub_of(13)->done);
	assert_false(taken(&t, 0));
	/* Under a backing Write: the thread does not wait for it, but
	 * nothing starts until it completed (tgt_io_room() false with a
	 * buffer free), and its buffer is freed without an answer.
	 */
	nvme_holds = 1;
	rw_block(&q3, P2PMR_NVME_CMD_WRITE, 5, 14);
	assert_int_equal(tgt_io_poll(&t), 1);	/* its RDMA READ done */
	assert_false(sub_of(14)->done);
	i = nr_sent;
	tgt_io_queue_gone(&q3);
	assert_false(sub_of(14)->done);
	assert_true(taken(&t, 0));
	assert_false(taken(&t, 1));
	assert_false(tgt_io_room(&t));
	nvme_holds = 0;
	assert_true(tgt_io_room(&t));
	assert_true(sub_of(14)->done);
	assert_false(taken(&t, 0));
	assert_int_equal(nr_sent, i);
	test_free(q1.ctl);
	test_free(q2.ctl);
	test_free(q3.ctl);
}

/*
 * A reset found by the Flush of a FUA write: the write fails with a
 * status the host retries; a read that completed before it was answered
 * from its buffer then (the exporter revokes the MR before a reset, so
 * its RDMA WRITE sent what the read brought, or failed).
 */
static void test_io_fua_reset(void **state)
{
	struct tgt_queue q1;
	struct tgt t;
	int r0 = recoveries;

	(void)state;
	tgt_init(&t, 8);
	t.nqp = (struct p2pmr_nvme_qp *)&t;
	queue_init(&q1, &t, 1);
	/* A FUA write of LBA 10, and a read of LBA 20. */
	fua_write(&q1, 1, 10);
	rw_block(&q1, P2PMR_NVME_CMD_READ, 2, 20);
	/* The write's READ, then both complete; the Flush is submitted. */
	assert_int_equal(tgt_io_poll(&t), 3);
	assert_int_equal(nr_subs, 3);
	assert_int_equal(subs[2].opc, P2PMR_NVME_CMD_FLUSH);
	assert_int_equal(sent_to(1, 2)->status, 0);
	assert_null(sent_to(1, 1));
	/* The controller stops before the Flush completes. */
	ready = 0;
	tgt_io_drain(&t);
	assert_int_equal(recoveries, r0 + 1);
	assert_int_equal(sent_to(1, 1)->status, P2PMR_NVMF_SC_INTERNAL << 1);
	assert_int_equal(t.st.writes + t.st.fua, 0);
	assert_int_equal(t.st.reads, 1);
	/* Served again: a FUA write gets its Flush and succeeds. */
	fua_write(&q1, 1, 10);
	tgt_io_drain(&t);
	assert_int_equal(subs[nr_subs - 1].opc, P2PMR_NVME_CMD_FLUSH);
	assert_int_equal(sent[nr_sent - 1].status, 0);
	assert_int_equal(t.st.fua, 1);
	test_free(q1.ctl);
}

/*
 * A reset found before a command (the controller not ready) while a
 * read's answer is still being sent: that answer's RDMA WRITE then fails
 * on the revoked MR.  The recovery waits for it first and covers it: one
 * recovery, not a second one for a revoke on a healthy controller.
 */
static void test_recover_waits_answers(void **state)
{
	struct tgt_queue q1, q2;
	int r0 = recoveries;
	struct tgt t;

	(void)state;
	tgt_init(&t, 4);
	t.nqp = (struct p2pmr_nvme_qp *)&t;
	t.n = (struct p2pmr_nvme *)&t;		/* never looked into */
	queue_init(&q1, &t, 1);
	queue_init(&q2, &t, 2);
	reap_holds = 1;
	rw_block(&q1, P2PMR_NVME_CMD_READ, 1, 10);
	tgt_io_drain(&t);
	assert_int_equal(q1.outstanding, 2);
	/* Reset: the controller stops, queue 1's answer will fail. */
	ready = 0;
	fail_qid = 1;
	fail_status = IBV_WC_LOC_PROT_ERR;
	rw_block(&q2, P2PMR_NVME_CMD_READ, 2, 11);
	tgt_io_drain(&t);
	assert_int_equal(recoveries, r0 + 1);
	reap_holds = 0;
	tgt_reap_sends(&q1);
	tgt_io_poll(&t);
	assert_int_equal(recoveries, r0 + 1);
	assert_int_equal(t.st.revokes, 0);
	assert_null(t.revoked_by);
	assert_true(q1.broken);
	/* Queue 2's read was served after the recovery. */
	assert_int_equal(sent_to(2, 2)->status, 0);
	tgt_reap_sends(&q2);
	assert_int_equal(wr_outstanding, 0);
	test_free(q1.ctl);
	test_free(q2.ctl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_incapsule),
		cmocka_unit_test(test_io_fatal),
		cmocka_unit_test(test_io_reuse),
		cmocka_unit_test(test_recover_waits_answers),
		cmocka_unit_test(test_io_fua_reset),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_io_pipeline),
		cmocka_unit_test(test_io_lost),
		cmocka_unit_test(test_io_lost_under_load),
		cmocka_unit_test(test_io_fua_cid_reuse),
		cmocka_unit_test(test_io_broken_queue),
		cmocka_unit_test(test_io_no_buffer),
		cmocka_unit_test(test_io_flush),
		cmocka_unit_test(test_admin_no_wait),
		cmocka_unit_test(test_prop_set_orphan),
		cmocka_unit_test(test_revoked),
		cmocka_unit_test(test_backing_dnr),
		cmocka_unit_test(test_connect_io_twice),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_discovery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
