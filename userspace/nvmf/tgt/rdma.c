// SPDX-License-Identifier: GPL-2.0
/*
 * The RDMA side of p2pmr-nvmf: the RDMA CM listener, one RC queue pair per
 * NVMe-oF queue (NVMe-oF 1.1 section 7.3, the RDMA transport binding), the
 * receive ring of command capsules, and the RDMA READ, RDMA WRITE and
 * response SEND of commands.  Every send is signaled and counted in
 * q->outstanding until its completion is taken; a data-path send carries
 * its entry (wr_id: entry + 1), whose buffer io.c frees only when all of
 * the entry's sends completed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tgt.h"

/*
 * RDMA CM private data of NVMe-oF (NVMe-oF 1.1 figures 52-54): all fields
 * are naturally aligned little-endian 16-bit words (the host is x86).
 */
struct cm_req {
	uint16_t recfmt, qid, hrqsize, hsqsize, cntlid;
	uint8_t rsvd[22];
};

struct cm_rep {
	uint16_t recfmt, crqsize;
	uint8_t rsvd[28];
};

struct cm_rej {
	uint16_t recfmt, sts;
};

enum {
	CM_INVALID_LEN		= 0x01,
	CM_INVALID_RECFMT	= 0x02,
	CM_INVALID_QID		= 0x03,
	CM_INVALID_HSQSIZE	= 0x04,
	CM_NO_RSC		= 0x06,
};

_Static_assert(sizeof(struct cm_req) == 32, "cm_req is 32 bytes");
_Static_assert(sizeof(struct cm_rep) == 32, "cm_rep is 32 bytes");

#define WAIT_MS		10000	/* an RDMA operation on the bed's rxe pair */
#define SEND_WRS	(2 * TGT_MAX_BUFS + 2)	/* a queue's sends at once */

/* The listener on --addr:--port (t->listen, also when it fails). */
static int listen_on(struct tgt *t)
{
	struct rdma_addrinfo hints = { .ai_flags = RAI_PASSIVE,
				       .ai_port_space = RDMA_PS_TCP };
	struct rdma_addrinfo *res;
	const char *name;
	int ret;

	ret = rdma_getaddrinfo(t->o.addr, t->o.port, &hints, &res);
	if (ret) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't resolve %s port %s\n",
			t->o.addr, t->o.port);
		return -1;
	}
	ret = rdma_create_id(t->ec, &t->listen, t, RDMA_PS_TCP);
	ret = ret ? ret : rdma_bind_addr(t->listen, res->ai_src_addr);
	rdma_freeaddrinfo(res);
	ret = ret ? ret : rdma_listen(t->listen, 16);
	if (ret) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't listen on %s:%s: %s\n",
			t->o.addr, t->o.port, strerror(errno));
		return -1;
	}
	if (!t->listen->verbs) {
		fprintf(stderr, "p2pmr-nvmf: %s is on no RDMA device\n",
			t->o.addr);
		return -1;
	}
	name = ibv_get_device_name(t->listen->verbs->device);
	if (t->o.ibdev && strcmp(t->o.ibdev, name)) {
		fprintf(stderr, "p2pmr-nvmf: %s is on %s, not on --ibdev %s\n",
			t->o.addr, name, t->o.ibdev);
		return -1;
	}
	printf("p2pmr-nvmf: listening on %s port %s (%s)\n", t->o.addr,
	       t->o.port, name);
	return 0;
}

int tgt_listen(struct tgt *t)
{
	t->ec = rdma_create_event_channel();
	if (!t->ec) {
		perror("p2pmr-nvmf: Couldn't create an RDMA CM event channel");
		return -1;
	}
	return listen_on(t);
}

/*
 * The listener's address changed (moved, or went away and came back): the
 * listener again, as nvmet-rdma repairs its port.  It must land on the same
 * RDMA device, whose PD, CQs and MRs the target holds; else it stops.
 */
static void relisten(struct tgt *t)
{
	struct ibv_context *dev = t->listen->verbs;

	printf("p2pmr-nvmf: the address of the listener changed: listening again\n");
	rdma_destroy_id(t->listen);
	t->listen = NULL;
	if (listen_on(t) || t->listen->verbs != dev) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't listen again on %s on the same RDMA device: stopping\n",
			t->o.addr);
		t->fatal = 1;
	}
}

static int post_recv(struct tgt_queue *q, uint32_t slot)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)(q->cmds + slot * q->slot_size),
		.length = q->slot_size,
		.lkey = q->cmds_mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = slot, .sg_list = &sge,
				  .num_sge = 1 }, *bad;

	return ibv_post_recv(q->id->qp, &wr, &bad);
}

static void drain_send(struct tgt_queue *q);

static void queue_free(struct tgt_queue *q)
{
	struct tgt_queue **pp;

	for (pp = &q->t->queues; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			q->t->nr_queues--;
			break;
		}
	if (q->ctrl)
		tgt_ctrl_put(q);
	/* Its sends' completions taken first: a revoke they found counts. */
	if (q->id->qp && q->outstanding)
		drain_send(q);
	if (q->id->qp)
		rdma_destroy_qp(q->id);
	/* No send of it can touch a data buffer now. */
	tgt_io_queue_gone(q);
	if (q->scq)
		ibv_destroy_cq(q->scq);
	if (q->rcq)
		ibv_destroy_cq(q->rcq);
	if (q->rsp_mr)
		ibv_dereg_mr(q->rsp_mr);
	if (q->ctl_mr)
		ibv_dereg_mr(q->ctl_mr);
	if (q->cmds_mr)
		ibv_dereg_mr(q->cmds_mr);
	if (q->held_len)
		q->t->held--;
	free(q->held_buf);
	free(q->ctl);
	free(q->cmds);
	rdma_destroy_id(q->id);
	free(q);
}

/* Disconnect @q and free it now, without waiting for the peer. */
void tgt_queue_close(struct tgt_queue *q)
{
	rdma_disconnect(q->id);
	queue_free(q);
}

void tgt_queues_free(struct tgt *t)
{
	while (t->queues) {
		rdma_disconnect(t->queues->id);
		queue_free(t->queues);
	}
}

/* Buffers, CQs and the QP of a new queue; receives posted. */
static int queue_setup(struct tgt *t, struct tgt_queue *q)
{
	struct ibv_qp_init_attr qa = { 0 };
	uint32_t i;
	int acc = IBV_ACCESS_LOCAL_WRITE;

	/* I/O queues take in-capsule data where the target offers it. */
	q->slot_size = P2PMR_NVMF_CAPSULE_SIZE + (q->qid ? t->inline_size : 0);
	q->cmds = calloc(q->depth, q->slot_size);
	q->held_buf = malloc(q->slot_size);
	q->ctl = aligned_alloc(4096, TGT_CTL_SIZE);
	if (!q->cmds || !q->held_buf || !q->ctl)
		return -ENOMEM;
	q->cmds_mr = ibv_reg_mr(t->pd, q->cmds,
				(size_t)q->depth * q->slot_size, acc);
	q->ctl_mr = ibv_reg_mr(t->pd, q->ctl, TGT_CTL_SIZE, acc);
	q->rsp_mr = ibv_reg_mr(t->pd, q->rsp, sizeof(q->rsp), acc);
	/*
	 * Every entry's sends, each signaled: a read's RDMA WRITE and SEND.
	 * On the channel too: a target sleeping while a write's RDMA READ
	 * runs wakes when it completes (main.c, serve()).
	 */
	q->scq = ibv_create_cq(t->listen->verbs, SEND_WRS, q, t->cc, 0);
	q->rcq = ibv_create_cq(t->listen->verbs, q->depth, q, t->cc, 0);
	if (!q->cmds_mr || !q->ctl_mr || !q->rsp_mr || !q->scq || !q->rcq)
		return -ENOMEM;
	qa.send_cq = q->scq;
	qa.recv_cq = q->rcq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = SEND_WRS;
	qa.cap.max_recv_wr = q->depth;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(q->id, t->pd, &qa))
		return -errno;
	for (i = 0; i < q->depth; i++)
		if (post_recv(q, i))
			return -EIO;
	return ibv_req_notify_cq(q->rcq, 0) || ibv_req_notify_cq(q->scq, 0) ?
	       -EIO : 0;
}

/* What tgt_cm_event() does with a connect request's id once the event is
 * acknowledged (rdma_destroy_id() waits for that).
 */
enum { KEEP, DESTROY_ID, FREE_QUEUE };

static int reject(struct tgt *t, struct rdma_cm_id *id, uint16_t sts)
{
	struct cm_rej rej = { .recfmt = 0, .sts = sts };

	if (tgt_log_refusal(t))
		fprintf(stderr, "p2pmr-nvmf: connection refused (NVMe-oF RDMA status %u)\n",
			sts);
	rdma_reject(id, &rej, sizeof(rej));
	return DESTROY_ID;
}

/*
 * At --max-connections: the queue with no controller whose connect request
 * is the oldest, if it came TGT_RECLAIM_MS ago or more, is closed to make
 * room (a host sends its Connect at once; the controller then keeps its
 * queues).  Return: whether one was.
 */
static int reclaim(struct tgt *t)
{
	struct tgt_queue *q, *old = NULL;
	uint64_t now = tgt_now_ms();

	for (q = t->queues; q; q = q->next)
		if (!q->ctrl && !q->disconnecting &&
		    now - q->since_ms >= TGT_RECLAIM_MS &&
		    (!old || q->since_ms < old->since_ms))
			old = q;
	if (!old)
		return 0;
	if (tgt_log_refusal(t))
		fprintf(stderr, "p2pmr-nvmf: queue %u: no controller %llu ms after the connection: closed for a new one\n",
			old->qid, (unsigned long long)(now - old->since_ms));
	tgt_queue_close(old);
	return 1;
}

static int connect_request(struct tgt *t, struct rdma_cm_event *ev)
{
	const struct rdma_conn_param *cp = &ev->param.conn;
	struct rdma_conn_param ap = { 0 };
	struct ibv_device_attr da;
	const struct cm_req *req = cp->private_data;
	struct cm_rep rep = { 0 };
	struct tgt_queue *q;
	uint16_t max;

	if (cp->private_data_len < 8 || !req)
		return reject(t, ev->id, CM_INVALID_LEN);
	if (req->recfmt)
		return reject(t, ev->id, CM_INVALID_RECFMT);
	if (req->qid > TGT_MAX_IO_QUEUES)
		return reject(t, ev->id, CM_INVALID_QID);
	max = req->qid ? TGT_IO_DEPTH : TGT_ADMIN_DEPTH;
	if (!req->hsqsize || req->hsqsize >= max)
		return reject(t, ev->id, CM_INVALID_HSQSIZE);
	/* Each queue holds its buffers, CQs and QP: a bound on them all. */
	if (t->nr_queues >= t->o.max_conns && !reclaim(t)) {
		if (tgt_log_refusal(t))
			fprintf(stderr, "p2pmr-nvmf: %u connections, --max-connections reached\n",
				t->nr_queues);
		return reject(t, ev->id, CM_NO_RSC);
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return reject(t, ev->id, CM_NO_RSC);
	q->t = t;
	q->id = ev->id;
	q->wc_status = -1;
	q->qid = req->qid;
	q->depth = req->hsqsize + 1;
	q->since_ms = tgt_now_ms();
	ev->id->context = q;
	q->next = t->queues;
	t->queues = q;
	t->nr_queues++;
	if (queue_setup(t, q)) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't set up queue %u\n", q->qid);
		rdma_reject(ev->id, NULL, 0);
		return FREE_QUEUE;
	}
	rep.crqsize = q->depth;
	ap.private_data = &rep;
	ap.private_data_len = sizeof(rep);
	/*
	 * RDMA READs this side issues: what the host takes, at least 1; and
	 * what it asks to issue.  Both within what the device supports, or
	 * rdma_accept() fails on a host that asks for more.
	 */
	if (ibv_query_device(ev->id->verbs, &da)) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't query %s\n",
			ibv_get_device_name(ev->id->verbs->device));
		rdma_reject(ev->id, NULL, 0);
		return FREE_QUEUE;
	}
	ap.initiator_depth = cp->responder_resources ? cp->responder_resources : 1;
	if (ap.initiator_depth > da.max_qp_init_rd_atom)
		ap.initiator_depth = da.max_qp_init_rd_atom;
	ap.responder_resources = cp->initiator_depth;
	if (ap.responder_resources > da.max_qp_rd_atom)
		ap.responder_resources = da.max_qp_rd_atom;
	ap.rnr_retry_count = 7;
	ap.flow_control = 1;
	if (rdma_accept(ev->id, &ap)) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't accept queue %u: %s\n",
			q->qid, strerror(errno));
		return FREE_QUEUE;
	}
	return KEEP;
}

/*
 * The listener's device was removed: every queue is on that device and the
 * data buffer's MR too, so the target stops (it frees them on the way out,
 * which lets the removal finish).  Its address changed: listen again.
 */
static void listener_event(struct tgt *t, enum rdma_cm_event_type ev)
{
	if (ev == RDMA_CM_EVENT_ADDR_CHANGE) {
		relisten(t);
		return;
	}
	fprintf(stderr, "p2pmr-nvmf: the RDMA device of %s was removed: stopping\n",
		t->o.addr);
	t->fatal = 1;
}

void tgt_cm_event(struct tgt *t)
{
	struct rdma_cm_event *ev;
	struct rdma_cm_event copy;
	struct tgt_queue *q;

	if (rdma_get_cm_event(t->ec, &ev))
		return;
	if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST) {
		struct rdma_cm_id *id = ev->id;
		int what = connect_request(t, ev);

		rdma_ack_cm_event(ev);
		if (what == DESTROY_ID)
			rdma_destroy_id(id);
		else if (what == FREE_QUEUE)
			queue_free(id->context);
		return;
	}
	copy = *ev;
	rdma_ack_cm_event(ev);
	q = copy.id == t->listen ? NULL : copy.id->context;
	switch (copy.event) {
	case RDMA_CM_EVENT_ESTABLISHED:
		if (q)
			q->established = 1;
		break;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
	case RDMA_CM_EVENT_ADDR_CHANGE:
		if (!q) {
			listener_event(t, copy.event);
			break;
		}
		/* A queue's: it goes, as when the host disconnects. */
		fallthrough;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_REJECTED:
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		if (q) {
			rdma_disconnect(q->id);
			queue_free(q);
		}
		break;
	default:
		break;
	}
}

/* Milliseconds since @t0. */
static long since_ms(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	       (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * A send of @q completed (also one flushed): counted, and a data-path
 * one handed to its entry of io.c.  An error breaks the queue; the first
 * is kept in wc_status.
 */
static void send_done(struct tgt_queue *q, const struct ibv_wc *wc)
{
	q->outstanding--;
	if (wc->status != IBV_WC_SUCCESS)
		q->broken = 1;
	if (wc->status != IBV_WC_SUCCESS && q->wc_status < 0) {
		/* An error completion's opcode is undefined. */
		q->wc_status = wc->status;
		fprintf(stderr, "p2pmr-nvmf: queue %u: %s failed: %s\n",
			q->qid, wc->wr_id ? tgt_io_what(q->t, wc->wr_id - 1) :
			q->ctl_what, ibv_wc_status_str(wc->status));
	}
	if (wc->wr_id)
		tgt_io_sent(q->t, wc->wr_id - 1, wc->status);
}

/* The completions @q has now, at most @max; or -1 when polling failed. */
static int take_sends(struct tgt_queue *q, int max)
{
	struct ibv_wc wc[8];
	int n, i;

	n = ibv_poll_cq(q->scq, max < 8 ? max : 8, wc);
	for (i = 0; i < n; i++)
		send_done(q, &wc[i]);
	return n;
}

/*
 * Sends of @q did not complete, after an error or in time: one may
 * still move data into or out of a data buffer, which a later command
 * reuses.  The QP is moved to the error state, which flushes what it
 * holds, and their completions consumed.  If they do not come, the
 * buffers cannot be trusted: the target stops.
 */
static void drain_send(struct tgt_queue *q)
{
	struct ibv_qp_attr attr = { .qp_state = IBV_QPS_ERR };
	struct timespec t0;

	q->broken = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (ibv_modify_qp(q->id->qp, &attr, IBV_QP_STATE))
		goto fatal;
	while (q->outstanding > 0 && since_ms(&t0) <= WAIT_MS)
		if (take_sends(q, q->outstanding) < 0)
			goto fatal;
	if (!q->outstanding)
		return;
fatal:
	fprintf(stderr, "p2pmr-nvmf: queue %u: RDMA operations not drained, the data buffers may still change: stopping\n",
		q->qid);
	q->t->fatal = 1;
}

/**
 * tgt_reap_sends() - Take the send completions @q has, without waiting.
 * @q: the queue
 *
 * An error breaks the queue: the rest of its sends are drained.
 */
void tgt_reap_sends(struct tgt_queue *q)
{
	while (q->outstanding > 0 && q->wc_status < 0)
		if (take_sends(q, q->outstanding) <= 0)
			break;
	if (q->wc_status >= 0 && q->outstanding > 0)
		drain_send(q);
}

/**
 * tgt_wait_sends() - Wait until every send posted on a queue completed.
 * @q: the queue
 *
 * Any error breaks the queue: its QP is put in the error state and the
 * rest consumed, so that none can touch a buffer afterwards.  A timeout
 * does the same.  The first error's status is in q->wc_status.
 *
 * Return: 0, or -EIO when the queue broke.
 */
int tgt_wait_sends(struct tgt_queue *q)
{
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (q->outstanding > 0 && q->wc_status < 0) {
		ret = take_sends(q, q->outstanding);
		if (ret < 0)
			break;
		if (!ret && since_ms(&t0) > WAIT_MS) {
			fprintf(stderr, "p2pmr-nvmf: queue %u: no completion in %d ms\n",
				q->qid, WAIT_MS);
			break;
		}
	}
	if (!q->outstanding && q->wc_status < 0)
		return 0;
	drain_send(q);
	return -EIO;
}

/**
 * tgt_post_read() - Post an RDMA READ from the host's keyed SGL.
 * @q: the queue
 * @wr_id: an entry of io.c + 1, or 0
 * @laddr: where the data goes, in the MR of @lkey
 * @lkey: that MR's
 * @sgl: the command's keyed SGL
 * @len: bytes
 *
 * Return: 0 (one signaled work request posted), or -EIO (@q broken).
 */
int tgt_post_read(struct tgt_queue *q, uint64_t wr_id, uint64_t laddr,
		  uint32_t lkey, const struct p2pmr_nvmf_sgl *sgl, uint32_t len)
{
	struct ibv_sge sge = { .addr = laddr, .length = len, .lkey = lkey };
	struct ibv_send_wr wr = { .wr_id = wr_id }, *bad;

	wr.opcode = IBV_WR_RDMA_READ;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = sgl->addr;
	wr.wr.rdma.rkey = sgl->key;
	if (ibv_post_send(q->id->qp, &wr, &bad)) {
		q->broken = 1;
		return -EIO;
	}
	q->outstanding++;
	return 0;
}

int tgt_rdma_read(struct tgt_queue *q, uint64_t laddr, uint32_t lkey,
		  const struct p2pmr_nvmf_sgl *sgl, uint32_t len)
{
	q->ctl_what = "RDMA READ";
	if (tgt_post_read(q, 0, laddr, lkey, sgl, len)) {
		drain_send(q);
		return -EIO;
	}
	return tgt_wait_sends(q);
}

/**
 * tgt_post_rsp() - Post a command's answer: its data, then its response.
 * @q: the queue
 * @rsp: the 16-byte completion queue entry, in the MR of @rsp_lkey
 * @rsp_lkey: that MR's
 * @wr_id: an entry of io.c + 1, or 0
 * @laddr: with @len, the data to RDMA WRITE to the command's SGL first
 * @lkey: the MR of @laddr
 * @sgl: the command's keyed SGL
 * @len: data bytes, or 0
 *
 * Return: the signaled work requests posted (2 with data, else 1); fewer
 * when posting failed, which breaks @q.
 */
int tgt_post_rsp(struct tgt_queue *q, const uint8_t *rsp, uint32_t rsp_lkey,
		 uint64_t wr_id, uint64_t laddr, uint32_t lkey,
		 const struct p2pmr_nvmf_sgl *sgl, uint32_t len)
{
	struct ibv_sge dsge = { .addr = laddr, .length = len, .lkey = lkey };
	struct ibv_sge rsge = { .addr = (uintptr_t)rsp, .length = 16,
				.lkey = rsp_lkey };
	struct ibv_send_wr data = { .wr_id = wr_id }, send = { .wr_id = wr_id };
	struct ibv_send_wr *bad;
	int n = len ? 2 : 1;

	send.opcode = IBV_WR_SEND;
	send.sg_list = &rsge;
	send.num_sge = 1;
	send.send_flags = IBV_SEND_SIGNALED;
	if (len) {
		/* The data first; the QP keeps the order (an RC QP's SEND
		 * is not started before the RDMA WRITE posted ahead of it).
		 * Both signaled: each has a completion to wait for.
		 */
		data.opcode = IBV_WR_RDMA_WRITE;
		data.sg_list = &dsge;
		data.num_sge = 1;
		data.send_flags = IBV_SEND_SIGNALED;
		data.wr.rdma.remote_addr = sgl->addr;
		data.wr.rdma.rkey = sgl->key;
		data.next = &send;
	}
	if (ibv_post_send(q->id->qp, len ? &data : &send, &bad)) {
		/*
		 * The RDMA WRITE may have been taken without its SEND: it
		 * could still read the buffer, until its completion.
		 */
		n = len && bad == &send ? 1 : 0;
		q->broken = 1;
	}
	q->outstanding += n;
	return n;
}

int tgt_respond(struct tgt_queue *q, uint64_t laddr, uint32_t lkey,
		const struct p2pmr_nvmf_sgl *sgl, uint32_t len)
{
	q->ctl_what = len ? "RDMA WRITE or SEND" : "SEND";
	if (tgt_post_rsp(q, q->rsp, q->rsp_mr->lkey, 0, laddr, lkey, sgl,
			 len) < (len ? 2 : 1)) {
		drain_send(q);
		return -EIO;
	}
	return tgt_wait_sends(q);
}

/*
 * Take every capsule that arrived on @q, one at a time: copied out of its
 * receive buffer (with its in-capsule data), the receive posted again,
 * then served, so that the host finds a receive for the command it sends
 * after reading this one's answer.
 */
/*
 * Whether capsule @c of I/O queue @q starts a Read, Write or Flush, which
 * takes a data buffer (tgt_io_add()).  One that cmd.c refuses before,
 * for its queue's controller (none, or not ready) or its namespace, is
 * answered at once, not held behind the others.
 */
static int needs_buf(const struct tgt_queue *q, const uint8_t *c,
		     size_t len)
{
	uint32_t nsid;

	/* A short capsule is dropped (cmd.c). */
	if (len < P2PMR_NVMF_CAPSULE_SIZE)
		return 0;
	nsid = (uint32_t)c[4] | (uint32_t)c[5] << 8 | (uint32_t)c[6] << 16 |
	       (uint32_t)c[7] << 24;
	if (!q->qid || !q->ctrl ||
	    !(q->ctrl->regs.csts & P2PMR_NVMF_CSTS_RDY))
		return 0;
	switch (c[0]) {
	case P2PMR_NVME_CMD_READ:
	case P2PMR_NVME_CMD_WRITE:
		return nsid == TGT_NSID;
	case P2PMR_NVME_CMD_FLUSH:
		return nsid == TGT_NSID || nsid == 0xffffffff;
	}
	return 0;
}

/* Whether @q's held capsule is the oldest held: the next to be served. */
static int first_held(const struct tgt_queue *q)
{
	const struct tgt_queue *p;

	for (p = q->t->queues; p; p = p->next)
		if (p->held_len && p->held_seq < q->held_seq)
			return 0;
	return 1;
}

/* @q's held capsule, dropped: its queue broke, so no answer could go. */
static void drop_held(struct tgt_queue *q)
{
	if (q->held_len) {
		q->held_len = 0;
		q->t->held--;
	}
}

/*
 * The capsules that came on @q, in order.  With @hold, one that needs a
 * data buffer when none is free, or while another queue holds one, is
 * held (its receive posted again: the host sends no more than the
 * queue's depth), and the queue's later ones stay on its receive CQ
 * until it is served: the thread goes on with other queues (Keep
 * Alives) while the buffers' commands complete, and held capsules are
 * served oldest first.  Without @hold, the held capsule and up to a
 * queue's depth after it are served now (tgt_io_add() waits for
 * buffers).
 */
static int queue_serve(struct tgt_queue *q, int hold)
{
	uint8_t capsule[P2PMR_NVMF_CAPSULE_SIZE + TGT_INLINE_SIZE];
	struct tgt *t = q->t;
	struct ibv_wc wc;
	int taken = 0, n = 0;
	size_t len;

	if (q->held_len) {
		if (q->broken || t->fatal) {
			drop_held(q);
			return 0;
		}
		if (hold && (!first_held(q) || !tgt_io_room(t)))
			return 0;
		len = q->held_len;
		drop_held(q);
		memcpy(capsule, q->held_buf, len);
		tgt_cmd(q, capsule, len);
		taken++;
	}
	while (!q->broken && !t->fatal && (hold || n++ < q->depth) &&
	       ibv_poll_cq(q->rcq, 1, &wc) == 1) {
		if (wc.status != IBV_WC_SUCCESS) {
			if (wc.status != IBV_WC_WR_FLUSH_ERR)
				fprintf(stderr, "p2pmr-nvmf: queue %u: receive failed: %s\n",
					q->qid, ibv_wc_status_str(wc.status));
			q->broken = 1;
			break;
		}
		len = wc.byte_len < q->slot_size ? wc.byte_len : q->slot_size;
		memcpy(capsule, q->cmds + wc.wr_id * q->slot_size, len);
		if (post_recv(q, wc.wr_id)) {
			q->broken = 1;
			break;
		}
		/* After the capsules other queues hold: in turn. */
		if (hold && needs_buf(q, capsule, len) &&
		    (t->held || !tgt_io_room(t))) {
			memcpy(q->held_buf, capsule, len);
			q->held_len = len;
			q->held_seq = t->held_next++;
			t->held++;
			t->st.held++;
			break;
		}
		tgt_cmd(q, capsule, len);
		taken++;
	}
	return taken;
}

/**
 * tgt_serve_held() - Serve the held capsules now, oldest first.
 * @t: the target
 *
 * With what each holding queue has after its held one (up to its depth):
 * before a Property Set drains the commands in flight, every Read, Write
 * and Flush that came before it is started, as when no capsule was held
 * (a shutdown's Flush covers their writes; a host's old controller's
 * writes do not land after its new controller's).  tgt_io_add() waits
 * for buffers here, and the commands of queues that went are waited for
 * first (they came before any held one).
 */
void tgt_serve_held(struct tgt *t)
{
	struct tgt_queue *q, *first;

	if (t->held)
		tgt_io_wait_orphans(t);

	while (t->held) {
		first = NULL;
		for (q = t->queues; q; q = q->next)
			if (q->held_len &&
			    (!first || q->held_seq < first->held_seq))
				first = q;
		if (!first)
			break;
		queue_serve(first, 0);
	}
}

/**
 * tgt_poll_queues() - Serve the capsules that came on every queue.
 * @t: the target
 * @event: take the completion channel's events first (system calls; the
 *	channel's fd is non-blocking)
 *
 * Then the Reads and Writes in flight are moved along (tgt_io_poll()).
 * Without @event a CQ that completed since it was armed keeps
 * its event pending on the channel, so the epoll_wait() before the
 * target sleeps returns at once.
 *
 * Return: how many capsules were taken and commands moved.
 */
int tgt_poll_queues(struct tgt *t, int event)
{
	struct tgt_queue *q, *next;
	struct ibv_cq *cq;
	int taken = 0;
	void *ctx;

	/*
	 * Every event on the channel acknowledged and its CQ rearmed, then
	 * the CQs polled (nothing slips between).
	 */
	while (event && !ibv_get_cq_event(t->cc, &cq, &ctx)) {
		ibv_ack_cq_events(cq, 1);
		ibv_req_notify_cq(cq, 0);
	}
	for (q = t->queues; q; q = q->next)
		taken += queue_serve(q, 1);
	taken += tgt_io_poll(t);
	/* What the buffer checks moved (tgt_io_room()). */
	taken += t->room_moved;
	t->room_moved = 0;
	for (q = t->queues; q; q = next) {
		next = q->next;
		/* The DISCONNECTED event frees it. */
		if (q->broken && !q->disconnecting) {
			drop_held(q);
			q->disconnecting = 1;
			rdma_disconnect(q->id);
		}
	}
	return taken;
}
