// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of p2pmr-nvmf's RDMA side (userspace/nvmf/tgt/rdma.c, built
 * in) against fake verbs and RDMA CM calls: the accounting of a queue's
 * sends; a send that fails, after which the QP goes to the error state and
 * the rest of its sends are drained, or the target stops if they are not;
 * a send that does not complete in time; an answer whose post fails half
 * way; connect requests refused by their private data; and the RDMA CM
 * events of the listener (ADDR_CHANGE: listening again, on the same
 * device or not at all; DEVICE_REMOVAL) and of a queue (ADDR_CHANGE and
 * DISCONNECTED free it).  The VM cases cannot make rxe fail a send at a
 * chosen point or change an address under a listener.
 */
#include <errno.h>
#include <time.h>

#include "unit.h"

/* Time: 1 ms more at every look, so that WAIT_MS passes in a loop. */
static struct timespec fake_now;

static int fake_clock_gettime(clockid_t clk, struct timespec *ts)
{
	(void)clk;
	fake_now.tv_nsec += 1000000;
	if (fake_now.tv_nsec >= 1000000000) {
		fake_now.tv_sec++;
		fake_now.tv_nsec -= 1000000000;
	}
	*ts = fake_now;
	return 0;
}

#define clock_gettime fake_clock_gettime
#include "../../userspace/nvmf/tgt/rdma.c"
#undef clock_gettime

/* --- The fake device: one send CQ and QP per queue, all from here. --- */

#define MAX_WR	64

struct fake_qp {
	struct ibv_qp qp;
	uint64_t posted[MAX_WR];	/* wr_ids posted, not yet completed */
	int nr_posted;
	int fail_at;			/* post_send fails at this WR (1: the first) */
	int flush_on_err;		/* IBV_QPS_ERR completes what it holds */
	int to_err;			/* ibv_modify_qp() to IBV_QPS_ERR calls */
};

struct fake_cq {
	struct ibv_cq cq;
	struct ibv_wc wc[MAX_WR];
	int head, tail;
	struct ibv_comp_channel *ch;	/* as created */
	int armed;			/* ibv_req_notify_cq() calls */
};

static struct ibv_context ctx;
static struct fake_cq scq, rcqs[4];	/* receive CQs: one per queue */
static int nr_rcqs, nr_cqs;
static struct fake_qp fqp;
static struct rdma_cm_id cm_ids[16];	/* a new one for each request */
static int nr_cm_ids;

static void complete(struct fake_cq *cq, uint64_t wr_id,
		     enum ibv_wc_status st)
{
	struct ibv_wc *wc = &cq->wc[cq->tail++ % MAX_WR];

	memset(wc, 0, sizeof(*wc));
	wc->wr_id = wr_id;
	wc->status = st;
}

/* The oldest send posted completes with @st. */
static void complete_oldest(enum ibv_wc_status st)
{
	assert_true(fqp.nr_posted > 0);
	complete(&scq, fqp.posted[0], st);
	memmove(fqp.posted, fqp.posted + 1,
		--fqp.nr_posted * sizeof(fqp.posted[0]));
}

static int fake_poll_cq(struct ibv_cq *cq, int num, struct ibv_wc *wc)
{
	struct fake_cq *f = (struct fake_cq *)cq;
	int n = 0;

	while (n < num && f->head < f->tail)
		wc[n++] = f->wc[f->head++ % MAX_WR];
	return n;
}

static int fake_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr,
			  struct ibv_send_wr **bad)
{
	struct fake_qp *f = (struct fake_qp *)qp;
	int k = 1;

	for (; wr; wr = wr->next, k++) {
		if (k == f->fail_at) {
			*bad = wr;
			return ENOMEM;
		}
		assert_true(f->nr_posted < MAX_WR);
		f->posted[f->nr_posted++] = wr->wr_id;
	}
	return 0;
}

static int fake_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr,
			  struct ibv_recv_wr **bad)
{
	(void)qp; (void)wr; (void)bad;
	return 0;
}

static int fake_req_notify(struct ibv_cq *cq, int solicited)
{
	(void)solicited;
	((struct fake_cq *)cq)->armed++;
	return 0;
}

int ibv_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask)
{
	struct fake_qp *f = (struct fake_qp *)qp;

	assert_int_equal(mask, IBV_QP_STATE);
	assert_int_equal(attr->qp_state, IBV_QPS_ERR);
	f->to_err++;
	while (f->flush_on_err && f->nr_posted)
		complete_oldest(IBV_WC_WR_FLUSH_ERR);
	return 0;
}

const char *ibv_wc_status_str(enum ibv_wc_status status)
{
	return status == IBV_WC_SUCCESS ? "success" : "an error";
}

/* --- io.c and cmd.c, as rdma.c sees them. --- */

static int sent_ok[TGT_MAX_BUFS + 1], sent_err[TGT_MAX_BUFS + 1];
static int gone, ctrl_puts;

void tgt_io_sent(struct tgt *t, uint32_t i, int status)
{
	(void)t;
	assert_true(i < TGT_MAX_BUFS);
	if (status == IBV_WC_SUCCESS)
		sent_ok[i]++;
	else
		sent_err[i]++;
}

const char *tgt_io_what(const struct tgt *t, uint32_t i)
{
	(void)t; (void)i;
	return "RDMA WRITE or SEND";
}

void tgt_io_queue_gone(struct tgt_queue *q)
{
	(void)q;
	gone++;
}

void tgt_ctrl_put(struct tgt_queue *q)
{
	(void)q;
	ctrl_puts++;
}

static uint64_t fake_ms = 5000;

uint64_t tgt_now_ms(void)
{
	return fake_ms;
}

/* The capsules served, by their CID (bytes 2-3), in order. */
static uint16_t served[16];
static int nr_served;

int tgt_cmd(struct tgt_queue *q, const uint8_t *capsule, size_t len)
{
	(void)q;
	assert_int_equal(len, 64);
	assert_true(nr_served < 16);
	served[nr_served++] = (uint16_t)(capsule[2] | capsule[3] << 8);
	return 0;
}

/* Whether io.c has a free data buffer. */
static int room = 1;

int tgt_io_room(struct tgt *t)
{
	(void)t;
	return room;
}

int tgt_io_poll(struct tgt *t)
{
	(void)t;
	return 0;
}

/* tgt_io_wait_orphans() calls, with how many capsules served by then. */
static int orphan_waits, served_at_wait = -1;

void tgt_io_wait_orphans(struct tgt *t)
{
	(void)t;
	orphan_waits++;
	served_at_wait = nr_served;
}

int tgt_log_refusal(struct tgt *t)
{
	(void)t;
	return 1;
}

/* --- RDMA CM, and the rest of verbs, as a queue's set-up and end use. --- */

static struct rdma_cm_event cm_ev;
static struct rdma_cm_id listen_ids[4];
static int nr_listens, listen_fails, destroyed_ids, disconnects;
static int rejects, last_reject_sts = -1, accepts;
static struct ibv_context other_ctx;	/* a device the listener moved to */
static int move_device;

int rdma_get_cm_event(struct rdma_event_channel *ch,
		      struct rdma_cm_event **ev)
{
	(void)ch;
	*ev = &cm_ev;
	return 0;
}

int rdma_ack_cm_event(struct rdma_cm_event *ev)
{
	/* rdma.c reads no field of it afterwards: make that visible. */
	memset(ev, 0x5a, sizeof(*ev));
	return 0;
}

int rdma_getaddrinfo(const char *node, const char *service,
		     const struct rdma_addrinfo *hints,
		     struct rdma_addrinfo **res)
{
	static struct rdma_addrinfo ai;

	(void)node; (void)service; (void)hints;
	*res = &ai;
	return 0;
}

void rdma_freeaddrinfo(struct rdma_addrinfo *res)
{
	(void)res;
}

int rdma_create_id(struct rdma_event_channel *ch, struct rdma_cm_id **id,
		   void *context, enum rdma_port_space ps)
{
	(void)ch; (void)ps;
	assert_true(nr_listens < 4);
	*id = &listen_ids[nr_listens++];
	(*id)->context = context;
	(*id)->verbs = move_device ? &other_ctx : &ctx;
	return 0;
}

int rdma_bind_addr(struct rdma_cm_id *id, struct sockaddr *addr)
{
	(void)id; (void)addr;
	return 0;
}

int rdma_listen(struct rdma_cm_id *id, int backlog)
{
	(void)id; (void)backlog;
	if (listen_fails) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	return 0;
}

const char *ibv_get_device_name(struct ibv_device *device)
{
	(void)device;
	return "rxe1";
}

int rdma_destroy_id(struct rdma_cm_id *id)
{
	(void)id;
	destroyed_ids++;
	return 0;
}

int rdma_disconnect(struct rdma_cm_id *id)
{
	(void)id;
	disconnects++;
	return 0;
}

int rdma_reject(struct rdma_cm_id *id, const void *data, uint8_t len)
{
	const struct cm_rej *rej = data;

	(void)id;
	rejects++;
	last_reject_sts = rej && len == sizeof(*rej) ? rej->sts : -1;
	return 0;
}

int rdma_accept(struct rdma_cm_id *id, struct rdma_conn_param *param)
{
	const struct cm_rep *rep = param->private_data;

	(void)id;
	assert_int_equal(param->private_data_len, sizeof(*rep));
	accepts++;
	return 0;
}

int rdma_create_qp(struct rdma_cm_id *id, struct ibv_pd *pd,
		   struct ibv_qp_init_attr *attr)
{
	(void)pd;
	assert_int_equal(attr->cap.max_send_wr, SEND_WRS);
	id->qp = &fqp.qp;
	return 0;
}

void rdma_destroy_qp(struct rdma_cm_id *id)
{
	id->qp = NULL;
}

struct rdma_event_channel *rdma_create_event_channel(void)
{
	return NULL;
}

int ibv_query_device(struct ibv_context *c, struct ibv_device_attr *attr)
{
	(void)c;
	memset(attr, 0, sizeof(*attr));
	attr->max_qp_rd_atom = 16;
	attr->max_qp_init_rd_atom = 16;
	return 0;
}

static struct ibv_mr fake_mr = { .lkey = 0x11 };

/* verbs.h makes ibv_reg_mr() a macro over these two. */
struct ibv_mr *(ibv_reg_mr)(struct ibv_pd *pd, void *addr, size_t len,
			    int access)
{
	(void)pd; (void)addr; (void)len; (void)access;
	return &fake_mr;
}

struct ibv_mr *ibv_reg_mr_iova2(struct ibv_pd *pd, void *addr, size_t len,
				uint64_t iova, unsigned int access)
{
	(void)pd; (void)addr; (void)len; (void)iova; (void)access;
	return &fake_mr;
}

int ibv_dereg_mr(struct ibv_mr *mr)
{
	(void)mr;
	return 0;
}

/* A queue's send CQ comes first, then its receive CQ. */
struct ibv_cq *ibv_create_cq(struct ibv_context *c, int cqe, void *cq_ctx,
			     struct ibv_comp_channel *ch, int vec)
{
	struct fake_cq *f = nr_cqs++ % 2 ? &rcqs[nr_rcqs++ % 4] : &scq;

	(void)c; (void)cqe; (void)vec;
	f->ch = ch;
	f->cq.context = &ctx;
	f->cq.cq_context = cq_ctx;
	return &f->cq;
}

int ibv_destroy_cq(struct ibv_cq *cq)
{
	(void)cq;
	return 0;
}

int ibv_get_cq_event(struct ibv_comp_channel *ch, struct ibv_cq **cq,
		     void **cq_ctx)
{
	(void)ch; (void)cq; (void)cq_ctx;
	return -1;
}

void ibv_ack_cq_events(struct ibv_cq *cq, unsigned int n)
{
	(void)cq; (void)n;
}

/* --- Set-up. --- */

static struct tgt t;
static struct ibv_comp_channel cc;

static void fake_reset(void)
{
	memset(&ctx, 0, sizeof(ctx));
	ctx.ops.poll_cq = fake_poll_cq;
	ctx.ops.post_send = fake_post_send;
	ctx.ops.post_recv = fake_post_recv;
	ctx.ops.req_notify_cq = fake_req_notify;
	memset(&scq, 0, sizeof(scq));
	memset(rcqs, 0, sizeof(rcqs));
	nr_rcqs = 0;
	nr_cqs = 0;
	memset(&fqp, 0, sizeof(fqp));
	fqp.qp.context = &ctx;
	fqp.flush_on_err = 1;
	memset(cm_ids, 0, sizeof(cm_ids));
	nr_cm_ids = 0;
	memset(sent_ok, 0, sizeof(sent_ok));
	memset(sent_err, 0, sizeof(sent_err));
	memset(listen_ids, 0, sizeof(listen_ids));
	gone = ctrl_puts = nr_listens = listen_fails = move_device = 0;
	destroyed_ids = disconnects = rejects = accepts = 0;
	last_reject_sts = -1;
	memset(&t, 0, sizeof(t));
	t.o.addr = "10.0.0.2";
	t.o.port = "4420";
	t.o.max_conns = 4;
	t.cc = &cc;
	assert_int_equal(listen_on(&t), 0);
	assert_int_equal(nr_listens, 1);
}

/*
 * A connect request for queue @qid, HSQSIZE @hsqsize, RECFMT @recfmt,
 * served by tgt_cm_event(): the queue it made, or NULL.
 */
static struct tgt_queue *connect_req(uint16_t qid, uint16_t hsqsize,
				     uint16_t recfmt)
{
	static struct cm_req req;
	struct rdma_cm_id *id;

	assert_true(nr_cm_ids < 16);
	id = &cm_ids[nr_cm_ids++];
	id->verbs = &ctx;
	memset(&req, 0, sizeof(req));
	req.recfmt = recfmt;
	req.qid = qid;
	req.hsqsize = hsqsize;
	req.hrqsize = hsqsize;
	memset(&cm_ev, 0, sizeof(cm_ev));
	cm_ev.event = RDMA_CM_EVENT_CONNECT_REQUEST;
	cm_ev.id = id;
	cm_ev.param.conn.private_data = &req;
	cm_ev.param.conn.private_data_len = sizeof(req);
	tgt_cm_event(&t);
	return id->context && t.queues == id->context ? id->context : NULL;
}

static void cm_event(struct rdma_cm_id *id, enum rdma_cm_event_type ev)
{
	memset(&cm_ev, 0, sizeof(cm_ev));
	cm_ev.event = ev;
	cm_ev.id = id;
	tgt_cm_event(&t);
}

/* @n sends of entry @i's answer (1: SEND, 2: RDMA WRITE and SEND). */
static void post_answer(struct tgt_queue *q, uint32_t i, uint32_t len)
{
	struct p2pmr_nvmf_sgl sgl = { .addr = 0x1000, .key = 0xabcd };

	assert_int_equal(tgt_post_rsp(q, q->rsp, 0x11, i + 1, 0x40000000,
				      0x22, &sgl, len), len ? 2 : 1);
}

/* --- Tests. --- */

/*
 * Connect requests refused by their private data (NVMe-oF RDMA statuses)
 * and by --max-connections; a good one accepted, its queue set up.
 */
static void test_connect_refused(void **state)
{
	struct tgt_queue *q;

	(void)state;
	fake_reset();
	assert_null(connect_req(1, 31, 1));
	assert_int_equal(last_reject_sts, CM_INVALID_RECFMT);
	assert_null(connect_req(TGT_MAX_IO_QUEUES + 1, 31, 0));
	assert_int_equal(last_reject_sts, CM_INVALID_QID);
	assert_null(connect_req(0, TGT_ADMIN_DEPTH, 0));
	assert_int_equal(last_reject_sts, CM_INVALID_HSQSIZE);
	assert_null(connect_req(1, 0, 0));
	assert_int_equal(last_reject_sts, CM_INVALID_HSQSIZE);
	assert_int_equal(rejects, 4);
	assert_int_equal(destroyed_ids, 4);
	assert_int_equal(accepts, 0);

	assert_non_null(q = connect_req(1, TGT_IO_DEPTH - 1, 0));
	assert_int_equal(accepts, 1);
	assert_int_equal(q->depth, TGT_IO_DEPTH);
	assert_int_equal(q->since_ms, 5000);	/* for tgt_check_kato() */
	/* Both CQs armed on the channel: a sleeping target wakes for both. */
	assert_ptr_equal(scq.ch, t.cc);
	assert_int_equal(scq.armed, 1);
	assert_ptr_equal(rcqs[(nr_rcqs - 1) % 4].ch, t.cc);
	assert_int_equal(rcqs[(nr_rcqs - 1) % 4].armed, 1);
	assert_int_equal(t.nr_queues, 1);
	t.nr_queues = t.o.max_conns;
	assert_null(connect_req(2, 31, 0));
	assert_int_equal(last_reject_sts, CM_NO_RSC);
	t.nr_queues = 1;
	cm_event(q->id, RDMA_CM_EVENT_DISCONNECTED);
	assert_null(t.queues);
	assert_int_equal(gone, 1);
}

/*
 * At --max-connections, the oldest queue with no controller is closed for
 * a new connection, once TGT_RECLAIM_MS passed since its connect request;
 * a queue with a controller never is.
 */
static void test_connect_reclaim(void **state)
{
	struct tgt_queue *q1, *q2, *q3;
	struct tgt_ctrl ctrl = { .used = 1 };

	(void)state;
	fake_reset();
	t.o.max_conns = 2;
	fake_ms = 5000;
	assert_non_null(q1 = connect_req(0, 31, 0));
	fake_ms += 10;
	assert_non_null(q2 = connect_req(0, 31, 0));
	/* Too young: refused. */
	fake_ms = 5000 + TGT_RECLAIM_MS - 1;
	assert_null(connect_req(0, 31, 0));
	assert_int_equal(last_reject_sts, CM_NO_RSC);
	/* q1, the oldest without a controller, makes room. */
	fake_ms = 5000 + TGT_RECLAIM_MS;
	q2->ctrl = &ctrl;
	assert_non_null(q3 = connect_req(0, 31, 0));
	assert_int_equal(t.nr_queues, 2);
	assert_int_equal(disconnects, 1);
	assert_ptr_equal(t.queues, q3);
	assert_ptr_equal(q3->next, q2);
	assert_null(q2->next);
	/* q2 and q3 have a controller: refused. */
	fake_ms += 5 * TGT_RECLAIM_MS;
	q3->ctrl = &ctrl;
	assert_null(connect_req(0, 31, 0));
	assert_int_equal(last_reject_sts, CM_NO_RSC);
	q2->ctrl = q3->ctrl = NULL;
	cm_event(q3->id, RDMA_CM_EVENT_DISCONNECTED);
	cm_event(q2->id, RDMA_CM_EVENT_DISCONNECTED);
	assert_null(t.queues);
	t.o.max_conns = 4;
}

/*
 * A capsule of opcode @opc and CID @cid came on @q: in receive slot @slot,
 * its completion on @q's receive CQ.
 */
static void capsule_in(struct tgt_queue *q, uint32_t slot, uint8_t opc,
		       uint16_t cid)
{
	struct fake_cq *f = (struct fake_cq *)q->rcq;
	uint8_t *c = q->cmds + slot * q->slot_size;

	memset(c, 0, 64);
	c[0] = opc;
	c[2] = cid & 0xff;
	c[3] = cid >> 8;
	c[4] = TGT_NSID;
	complete(f, slot, IBV_WC_SUCCESS);
	f->wc[(f->tail - 1) % MAX_WR].byte_len = 64;
}

/* The receive completions @q has not taken. */
static int on_cq(struct tgt_queue *q)
{
	struct fake_cq *f = (struct fake_cq *)q->rcq;

	return f->tail - f->head;
}

/*
 * A Read, Write or Flush that finds no free data buffer is held and the
 * queue's later capsules stay on its CQ, in order, while the thread goes
 * on; other capsules (fabrics) are served.  Held capsules of several
 * queues are served oldest first, and a new one waits behind them even
 * with a buffer free.  A broken queue drops what it held, and so does
 * one that goes.
 */
static void test_held_capsule(void **state)
{
	struct tgt_queue *a, *b;

	struct tgt_ctrl ctrl = { .used = 1 };

	(void)state;
	fake_reset();
	nr_served = 0;
	ctrl.regs.csts = P2PMR_NVMF_CSTS_RDY;
	assert_non_null(a = connect_req(1, 31, 0));
	assert_non_null(b = connect_req(2, 31, 0));
	a->ctrl = b->ctrl = &ctrl;
	assert_ptr_equal(t.queues, b);		/* polled first */
	room = 0;
	capsule_in(a, 0, P2PMR_NVME_CMD_WRITE, 1);
	capsule_in(a, 1, P2PMR_NVME_CMD_READ, 2);
	assert_int_equal(tgt_poll_queues(&t, 0), 0);
	assert_int_equal(nr_served, 0);
	assert_int_equal(t.held, 1);
	assert_int_equal(a->held_len, 64);
	assert_int_equal(on_cq(a), 1);		/* the Read, behind it */
	assert_int_equal(t.st.held, 1);
	/* b's Flush comes later: held behind a's Write. */
	capsule_in(b, 0, P2PMR_NVME_CMD_FLUSH, 3);
	/* No buffer needed: served at once. */
	capsule_in(b, 1, P2PMR_NVMF_OPC_FABRICS, 4);
	assert_int_equal(tgt_poll_queues(&t, 0), 0);
	assert_int_equal(t.held, 2);
	assert_int_equal(on_cq(b), 1);
	room = 1;
	/* b is polled first, but a's Write is older; then b's turn. */
	assert_int_equal(tgt_poll_queues(&t, 0), 1);
	assert_int_equal(served[0], 1);
	assert_int_equal(t.held, 2);		/* a's Read now waits behind b */
	assert_int_equal(tgt_poll_queues(&t, 0), 3);
	assert_int_equal(served[1], 3);
	assert_int_equal(served[2], 4);
	assert_int_equal(served[3], 2);
	assert_int_equal(t.held, 0);
	assert_int_equal(nr_served, 4);

	/* A Property Set's drain first serves what is held, buffer or not,
	 * with what its queue has after it.
	 */
	room = 0;
	capsule_in(a, 2, P2PMR_NVME_CMD_WRITE, 5);
	capsule_in(a, 3, P2PMR_NVME_CMD_WRITE, 6);
	capsule_in(b, 2, P2PMR_NVME_CMD_READ, 7);
	assert_int_equal(tgt_poll_queues(&t, 0), 0);
	assert_int_equal(t.held, 2);
	orphan_waits = 0;
	tgt_serve_held(&t);
	/* A gone queue's backing commands first: they came before. */
	assert_int_equal(orphan_waits, 1);
	assert_int_equal(served_at_wait, 4);
	assert_int_equal(t.held, 0);
	assert_int_equal(nr_served, 7);
	assert_int_equal(served[4], 7);		/* b held first (polled first) */
	assert_int_equal(served[5], 5);
	assert_int_equal(served[6], 6);
	assert_int_equal(on_cq(a) + on_cq(b), 0);

	/* Refused before a buffer is taken (cmd.c): served at once, not
	 * held, with no buffer free: another namespace, a controller that
	 * is not ready.
	 */
	capsule_in(b, 3, P2PMR_NVME_CMD_READ, 10);
	b->cmds[3 * b->slot_size + 4] = 2;
	assert_int_equal(tgt_poll_queues(&t, 0), 1);
	assert_int_equal(served[7], 10);
	ctrl.regs.csts = 0;
	capsule_in(b, 4, P2PMR_NVME_CMD_WRITE, 11);
	assert_int_equal(tgt_poll_queues(&t, 0), 1);
	assert_int_equal(served[8], 11);
	ctrl.regs.csts = P2PMR_NVMF_CSTS_RDY;
	assert_int_equal(t.held, 0);

	/* Held when its queue breaks: dropped (no answer could go). */
	capsule_in(a, 4, P2PMR_NVME_CMD_WRITE, 8);
	assert_int_equal(tgt_poll_queues(&t, 0), 0);
	assert_int_equal(t.held, 1);
	a->broken = 1;
	tgt_poll_queues(&t, 0);
	assert_int_equal(t.held, 0);
	assert_int_equal(a->held_len, 0);
	/* Held when its queue goes: dropped, and counted out. */
	capsule_in(b, 5, P2PMR_NVME_CMD_WRITE, 9);
	assert_int_equal(tgt_poll_queues(&t, 0), 0);
	assert_int_equal(t.held, 1);
	cm_event(b->id, RDMA_CM_EVENT_DISCONNECTED);
	assert_int_equal(t.held, 0);
	cm_event(a->id, RDMA_CM_EVENT_DISCONNECTED);
	assert_null(t.queues);
	assert_int_equal(nr_served, 9);
	room = 1;
}

/*
 * Every send is counted while it is out and handed back to its entry
 * when it completes; a failed one breaks the queue, which goes to the
 * error state: the rest of its sends come back flushed, and each entry
 * learns of its own.  The queue's sends are all accounted for, so its
 * buffers are free, and the target serves on.
 */
static void test_send_error_drains(void **state)
{
	struct tgt_queue *q;

	(void)state;
	fake_reset();
	assert_non_null(q = connect_req(1, 31, 0));
	post_answer(q, 0, 0);
	post_answer(q, 1, 4096);
	post_answer(q, 2, 512);
	assert_int_equal(q->outstanding, 5);
	complete_oldest(IBV_WC_SUCCESS);
	tgt_reap_sends(q);
	assert_int_equal(q->outstanding, 4);
	assert_int_equal(sent_ok[0], 1);
	assert_false(q->broken);
	assert_int_equal(fqp.to_err, 0);

	/* Entry 1's RDMA WRITE fails: its SEND and entry 2's are flushed. */
	complete_oldest(IBV_WC_RETRY_EXC_ERR);
	tgt_reap_sends(q);
	assert_true(q->broken);
	assert_int_equal(q->wc_status, IBV_WC_RETRY_EXC_ERR);
	assert_int_equal(fqp.to_err, 1);
	assert_int_equal(q->outstanding, 0);
	assert_int_equal(sent_err[1], 2);
	assert_int_equal(sent_err[2], 2);
	assert_int_equal(sent_ok[1] + sent_ok[2], 0);
	assert_false(t.fatal);
	/* The next poll asks the host to disconnect, once. */
	assert_int_equal(tgt_poll_queues(&t, 0), 0);
	assert_int_equal(tgt_poll_queues(&t, 0), 0);
	assert_int_equal(disconnects, 1);
	cm_event(q->id, RDMA_CM_EVENT_DISCONNECTED);
	assert_int_equal(gone, 1);
}

/*
 * A QP in the error state whose sends never come back: a buffer may
 * still be read or written by them, so the target stops (after WAIT_MS).
 */
static void test_drain_stuck(void **state)
{
	struct tgt_queue *q;

	(void)state;
	fake_reset();
	assert_non_null(q = connect_req(1, 31, 0));
	fqp.flush_on_err = 0;
	post_answer(q, 0, 0);
	post_answer(q, 3, 4096);
	complete_oldest(IBV_WC_REM_ACCESS_ERR);
	tgt_reap_sends(q);
	assert_int_equal(fqp.to_err, 1);
	assert_int_equal(q->outstanding, 2);
	assert_true(t.fatal);
	fqp.flush_on_err = 1;
	cm_event(q->id, RDMA_CM_EVENT_DISCONNECTED);
	assert_int_equal(gone, 1);
}

/*
 * A send that does not complete within WAIT_MS: the queue is drained and
 * broken, and the wait fails.  An answer of the control path (no io.c
 * entry) is waited for and comes back.
 */
static void test_wait_timeout(void **state)
{
	struct p2pmr_nvmf_sgl sgl = { .addr = 0x1000, .key = 0xabcd };
	struct tgt_queue *q;

	(void)state;
	fake_reset();
	assert_non_null(q = connect_req(0, 31, 0));
	/* tgt_respond() waits; the fake completes nothing by itself. */
	fqp.flush_on_err = 1;
	assert_int_equal(tgt_respond(q, 0x1000, 0x22, &sgl, 0), -EIO);
	assert_true(q->broken);
	assert_int_equal(fqp.to_err, 1);
	assert_int_equal(q->outstanding, 0);
	assert_false(t.fatal);
	cm_event(q->id, RDMA_CM_EVENT_DISCONNECTED);
}

/*
 * An answer whose post fails: at its SEND, the RDMA WRITE before it was
 * taken and is counted (it may still read the buffer); at its RDMA
 * WRITE, nothing was.  Either breaks the queue.
 */
static void test_post_half(void **state)
{
	struct p2pmr_nvmf_sgl sgl = { .addr = 0x1000, .key = 0xabcd };
	struct tgt_queue *q;

	(void)state;
	fake_reset();
	assert_non_null(q = connect_req(1, 31, 0));
	fqp.fail_at = 2;
	assert_int_equal(tgt_post_rsp(q, q->rsp, 0x11, 5, 0x40000000, 0x22,
				      &sgl, 4096), 1);
	assert_int_equal(q->outstanding, 1);
	assert_true(q->broken);
	q->broken = 0;
	fqp.fail_at = 1;
	assert_int_equal(tgt_post_rsp(q, q->rsp, 0x11, 6, 0x40000000, 0x22,
				      &sgl, 4096), 0);
	assert_int_equal(q->outstanding, 1);
	assert_true(q->broken);
	fqp.fail_at = 1;
	assert_int_equal(tgt_post_read(q, 7, 0x40000000, 0x22, &sgl, 512),
			 -EIO);
	assert_int_equal(q->outstanding, 1);
	/* Freeing the queue drains the one that was taken. */
	cm_event(q->id, RDMA_CM_EVENT_DISCONNECTED);
	assert_int_equal(sent_err[4], 1);
	assert_int_equal(gone, 1);
}

/*
 * ADDR_CHANGE: on the listener, it listens again, on the same device; on
 * another device (whose PD and MRs it does not hold), or not at all, the
 * target stops.  On a queue, the queue goes as on a disconnect.
 * DEVICE_REMOVAL of the listener's device stops the target.
 */
static void test_addr_change(void **state)
{
	struct tgt_queue *q;

	(void)state;
	fake_reset();
	assert_non_null(q = connect_req(1, 31, 0));
	cm_event(q->id, RDMA_CM_EVENT_ADDR_CHANGE);
	assert_null(t.queues);
	assert_int_equal(gone, 1);
	assert_int_equal(disconnects, 1);
	assert_false(t.fatal);

	destroyed_ids = 0;
	cm_event(t.listen, RDMA_CM_EVENT_ADDR_CHANGE);
	assert_int_equal(nr_listens, 2);
	assert_ptr_equal(t.listen, &listen_ids[1]);
	assert_int_equal(destroyed_ids, 1);	/* the old listener's id */
	assert_false(t.fatal);

	move_device = 1;
	cm_event(t.listen, RDMA_CM_EVENT_ADDR_CHANGE);
	assert_int_equal(nr_listens, 3);
	assert_true(t.fatal);

	t.fatal = 0;
	move_device = 0;
	listen_fails = 1;
	cm_event(t.listen, RDMA_CM_EVENT_ADDR_CHANGE);
	assert_true(t.fatal);

	t.fatal = 0;
	listen_fails = 0;
	cm_event(t.listen, RDMA_CM_EVENT_DEVICE_REMOVAL);
	assert_true(t.fatal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_connect_reclaim),
		cmocka_unit_test(test_held_capsule),
		cmocka_unit_test(test_send_error_drains),
		cmocka_unit_test(test_drain_stuck),
		cmocka_unit_test(test_wait_timeout),
		cmocka_unit_test(test_post_half),
		cmocka_unit_test(test_addr_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
