// SPDX-License-Identifier: GPL-2.0
/*
 * Command execution of p2pmr-nvmf: fabrics commands (Connect, Property
 * Get/Set), the admin commands the Linux host sends (Identify, Get Log
 * Page, Set/Get Features, Keep Alive, Asynchronous Event Request, Abort)
 * and the NVM commands Read, Write and Flush.  Reads, Writes and
 * Flushes are checked here and served by io.c, many at once.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "p2pmr.h"
#include "tgt.h"

enum {
	ADM_GET_LOG	= 0x02,
	ADM_IDENTIFY	= 0x06,
	ADM_ABORT	= 0x08,
	ADM_SET_FEAT	= 0x09,
	ADM_GET_FEAT	= 0x0a,
	ADM_AER		= 0x0c,
	ADM_KEEP_ALIVE	= 0x18,
	FEAT_NUM_QUEUES	= 0x07,
	FEAT_ASYNC_EVT	= 0x0b,
	FEAT_KATO	= 0x0f,
	CNS_NS		= 0x00,
	CNS_CTRL	= 0x01,
	CNS_NS_LIST	= 0x02,
	CNS_NS_DESC	= 0x03,
	CNS_CS_CTRL	= 0x06,
	AERL		= 3,	/* 0's based: four requests held */
	CAP_TO		= 30,	/* 15 s */
	/*
	 * A discovery controller whose host set no Keep Alive Timeout is
	 * freed after two minutes anyway, as nvmet's NVMET_DISC_KATO_MS: a
	 * host that went away without a Disconnect must not hold it.
	 */
	DISC_KATO_MS	= 120000,
	/* Discovery controllers leave the other half to the I/O subsystem. */
	DISC_MAX_CTRLS	= TGT_MAX_CTRLS / 2,
};

/* The queue-ID bitmap of a controller holds every I/O queue. */
_Static_assert(TGT_MAX_IO_QUEUES < 64, "io_qids is a uint64_t");

static uint32_t cdw(const struct p2pmr_nvmf_cmd *cmd, int n)
{
	const uint8_t *p = cmd->raw + 4 * n;

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * The completion queue entry of @cmd on @q (NVMe-oF 1.1 figure 24) in
 * @rsp; a failure is counted and logged (rate limited).
 */
void tgt_rsp_fill(struct tgt_queue *q, uint8_t *rsp,
		  const struct p2pmr_nvmf_cmd *cmd, uint16_t status,
		  uint64_t result)
{
	uint16_t sts = p2pmr_nvmf_cqe_status(status);
	int i;

	for (i = 0; i < 8; i++)
		rsp[i] = result >> (8 * i);
	rsp[8] = q->sqhd;
	rsp[9] = q->sqhd >> 8;
	rsp[10] = q->qid;
	rsp[11] = q->qid >> 8;
	rsp[12] = cmd->cid;
	rsp[13] = cmd->cid >> 8;
	rsp[14] = sts;
	rsp[15] = sts >> 8;
	if (status) {
		q->t->st.errors++;
		if (tgt_log_refusal(q->t))
			printf("p2pmr-nvmf: queue %u: opcode 0x%02x%s refused: status 0x%03x%s\n",
			       q->qid, cmd->opc,
			       cmd->opc == P2PMR_NVMF_OPC_FABRICS ?
			       " (fabrics)" : "", status & 0x7ff,
			       status & P2PMR_NVMF_STATUS_DNR ?
			       ", DNR from the drive" : "");
	}
}

/* The completion, then the SEND; with @len data bytes at @laddr first
 * RDMA-written to the command's SGL.
 */
static int complete(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd,
		    uint16_t status, uint64_t result, uint64_t laddr,
		    uint32_t lkey, uint32_t len)
{
	tgt_rsp_fill(q, q->rsp, cmd, status, result);
	return tgt_respond(q, laddr, lkey, &cmd->sgl, status ? 0 : len);
}

static int status_only(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd,
		       uint16_t status, uint64_t result)
{
	return complete(q, cmd, status, result, 0, 0, 0);
}

/* Control data (Identify, logs) from the queue's host-memory buffer. */
static int complete_ctl(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd,
			uint32_t len)
{
	return complete(q, cmd, 0, 0, (uintptr_t)q->ctl, q->ctl_mr->lkey, len);
}

static struct tgt_ctrl *ctrl_new(struct tgt *t, const struct p2pmr_nvmf_connect *c,
				 int discovery)
{
	struct tgt_ctrl *ctrl;
	int i, n = 0;

	for (i = 0; discovery && i < TGT_MAX_CTRLS; i++)
		n += t->ctrls[i].used && t->ctrls[i].discovery;
	if (n >= DISC_MAX_CTRLS)
		return NULL;
	for (i = 0; i < TGT_MAX_CTRLS; i++) {
		ctrl = &t->ctrls[i];
		if (ctrl->used)
			continue;
		memset(ctrl, 0, sizeof(*ctrl));
		ctrl->used = 1;
		ctrl->cntlid = t->next_cntlid++;
		if (t->next_cntlid >= 0xfff0)
			t->next_cntlid = 1;
		memcpy(ctrl->hostnqn, c->hostnqn, sizeof(ctrl->hostnqn));
		ctrl->kato = c->kato;
		if (discovery && !ctrl->kato)
			ctrl->kato = DISC_KATO_MS;
		ctrl->discovery = discovery;
		ctrl->last_ms = tgt_now_ms();
		p2pmr_nvmf_regs_init(&ctrl->regs, TGT_IO_DEPTH - 1, CAP_TO);
		return ctrl;
	}
	return NULL;
}

/*
 * The controller an I/O queue's Connect names: of the same host and the
 * same subsystem (a discovery controller has no I/O queues).
 */
static struct tgt_ctrl *ctrl_find(struct tgt *t, const struct p2pmr_nvmf_connect *c,
				  int discovery)
{
	struct tgt_ctrl *ctrl;
	int i;

	for (i = 0; i < TGT_MAX_CTRLS; i++) {
		ctrl = &t->ctrls[i];
		if (ctrl->used && ctrl->cntlid == c->cntlid &&
		    ctrl->discovery == discovery &&
		    !strcmp(ctrl->hostnqn, c->hostnqn))
			return ctrl;
	}
	return NULL;
}

/*
 * Controllers whose host sent nothing within their Keep Alive Timeout:
 * the host is gone or cut off, so their queues are disconnected and freed
 * at once, with the controller, as nvmet releases them: the host may not
 * answer the disconnect, and the DISCONNECTED event would wait for it.
 * So are queues with no controller TGT_CONNECT_MS after their connect
 * request: each holds its buffers, QP and a place under
 * --max-connections, which a peer that never sends a Connect, or whose
 * Connect was refused, would keep for good.  (A Linux host connects all
 * its I/O queues before it sends their Connects, and on a reconnect may
 * wait up to its I/O timeout, 30 s, in between; at --max-connections
 * such queues are closed sooner, rdma.c's reclaim().)
 */
void tgt_check_kato(struct tgt *t)
{
	uint64_t now = tgt_now_ms();
	struct tgt_queue *q, *next;
	struct tgt_ctrl *ctrl;
	int i;

	for (q = t->queues; q; q = next) {
		next = q->next;
		if (q->ctrl || q->disconnecting ||
		    now - q->since_ms < TGT_CONNECT_MS)
			continue;
		if (tgt_log_refusal(t))
			fprintf(stderr, "p2pmr-nvmf: queue %u: no controller %d ms after the connection: disconnecting\n",
				q->qid, TGT_CONNECT_MS);
		tgt_queue_close(q);
	}

	for (i = 0; i < TGT_MAX_CTRLS; i++) {
		ctrl = &t->ctrls[i];
		if (!ctrl->used || ctrl->expired ||
		    !p2pmr_nvmf_kato_expired(ctrl->kato, ctrl->last_ms, now))
			continue;
		printf("p2pmr-nvmf: controller %u: no command within its keep alive timeout (%u ms): disconnecting\n",
		       ctrl->cntlid, ctrl->kato);
		ctrl->expired = 1;
		ctrl->regs.csts |= P2PMR_NVMF_CSTS_CFS;
		for (q = t->queues; q; q = next) {
			next = q->next;
			if (q->ctrl == ctrl)
				tgt_queue_close(q);
		}
	}
}

void tgt_ctrl_put(struct tgt_queue *q)
{
	struct tgt_ctrl *ctrl = q->ctrl;
	char host[P2PMR_NVMF_LOG_STR];

	q->ctrl = NULL;
	ctrl->io_qids &= ~(1ULL << q->qid);
	if (--ctrl->nr_queues)
		return;
	ctrl->used = 0;
	/* The counters first: a test reads them once it sees "gone". */
	tgt_stats_write(q->t);
	printf("p2pmr-nvmf: controller %u of '%s' gone\n", ctrl->cntlid,
	       p2pmr_nvmf_escape(host, sizeof(host), ctrl->hostnqn,
				 sizeof(ctrl->hostnqn)));
}

static int do_connect(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd)
{
	struct tgt *t = q->t;
	struct p2pmr_nvmf_subsys s = {
		.nqn = t->o.nqn, .hosts = t->o.hosts,
		.allow_any_host = t->o.allow_any_host,
		.max_admin_sqsize = TGT_ADMIN_DEPTH - 1,
		.max_io_sqsize = TGT_IO_DEPTH - 1,
		.max_qid = TGT_MAX_IO_QUEUES,
	};
	/*
	 * The discovery subsystem: any host may connect to its one admin
	 * queue; the log lists only what that host may use.
	 */
	static const struct p2pmr_nvmf_subsys disc = {
		.nqn = P2PMR_NVMF_DISCOVERY_NQN, .allow_any_host = 1,
		.max_admin_sqsize = TGT_ADMIN_DEPTH - 1,
	};
	const struct p2pmr_nvmf_subsys *sp = &s;
	char host[P2PMR_NVMF_LOG_STR], sub[P2PMR_NVMF_LOG_STR];
	struct p2pmr_nvmf_connect c;
	struct tgt_ctrl *ctrl;
	uint32_t res = 0, len = 0;
	int st;

	if (q->ctrl)
		return status_only(q, cmd, P2PMR_NVMF_SC_CMD_SEQ_ERROR, 0);
	/*
	 * The data comes by RDMA READ, or in the capsule (an I/O queue's,
	 * where the target takes in-capsule data: the capsule's parser
	 * checked that it arrived).
	 */
	if (cmd->sgl.type == P2PMR_NVMF_SGL_KEYED &&
	    cmd->sgl.length == P2PMR_NVMF_CONNECT_DATA) {
		if (tgt_rdma_read(q, (uintptr_t)q->ctl, q->ctl_mr->lkey,
				  &cmd->sgl, P2PMR_NVMF_CONNECT_DATA))
			return -EIO;
		len = P2PMR_NVMF_CONNECT_DATA;
	} else if (cmd->sgl.type == P2PMR_NVMF_SGL_DATA &&
		   cmd->sgl.length == P2PMR_NVMF_CONNECT_DATA) {
		memcpy(q->ctl, q->cur + P2PMR_NVMF_CAPSULE_SIZE + cmd->sgl.addr,
		       P2PMR_NVMF_CONNECT_DATA);
		len = P2PMR_NVMF_CONNECT_DATA;
	}
	st = p2pmr_nvmf_connect_parse(cmd, q->ctl, len, &c, &res);
	if (!st && !strcmp(c.subnqn, P2PMR_NVMF_DISCOVERY_NQN))
		sp = &disc;
	st = st ? st : p2pmr_nvmf_connect_queue(&c, q->qid, q->depth - 1, &res);
	st = st ? st : p2pmr_nvmf_connect_check(&c, sp, &res);
	if (!st && !c.qid) {
		ctrl = ctrl_new(t, &c, sp == &disc);
		/* Controllers come free (Disconnect, KATO): the host may retry. */
		if (!ctrl)
			st = P2PMR_NVMF_SC_CONNECT_BUSY;
	} else if (!st) {
		ctrl = ctrl_find(t, &c, sp == &disc);
		if (!ctrl) {
			st = P2PMR_NVMF_SC_CONNECT_INVALID;
			res = P2PMR_NVMF_IPO_DATA(16);
		} else {
			st = p2pmr_nvmf_connect_ctrl(&c, ctrl->io_qids);
		}
	}
	p2pmr_nvmf_escape(host, sizeof(host), c.hostnqn, sizeof(c.hostnqn));
	if (st) {
		if (tgt_log_refusal(t))
			printf("p2pmr-nvmf: Connect of queue %u from '%s' to '%s' refused: status 0x%x\n",
			       q->qid, host,
			       p2pmr_nvmf_escape(sub, sizeof(sub), c.subnqn,
						 sizeof(c.subnqn)), st);
		return status_only(q, cmd, st, res);
	}
	ctrl->nr_queues++;
	if (q->qid)
		ctrl->io_qids |= 1ULL << q->qid;
	q->ctrl = ctrl;
	printf("p2pmr-nvmf: controller %u: queue %u of '%s' connected (%u entries)\n",
	       ctrl->cntlid, q->qid, host, q->depth);
	return status_only(q, cmd, 0, ctrl->cntlid);
}

/*
 * A shutdown notification (CC.SHN) the host waits on before it lets go of
 * the controller: what it wrote must be on the media first, so the
 * backing controller's volatile write cache is flushed before CSTS.SHST
 * says complete.  A failed flush leaves SHST at "occurring": the host
 * times out rather than believe its data safe.
 */
static void ctrl_shutdown(struct tgt_queue *q)
{
	struct p2pmr_nvme_sqe flush = { .opc = P2PMR_NVME_CMD_FLUSH,
					.nsid = TGT_NSID };
	struct tgt_ctrl *ctrl = q->ctrl;
	int ret;

	if ((ctrl->regs.csts & P2PMR_NVMF_CSTS_SHST_MASK) !=
	    P2PMR_NVMF_CSTS_SHST_BUSY)
		return;
	if (ctrl->discovery) {
		/* Nothing of the host's is behind a discovery controller. */
		p2pmr_nvmf_shutdown_done(&ctrl->regs);
		printf("p2pmr-nvmf: controller %u: shutdown: complete (discovery, nothing to flush)\n",
		       ctrl->cntlid);
		return;
	}
	ret = tgt_backing_ready(q->t) ? tgt_nvme_io(q->t, &flush, NULL) :
					P2PMR_NVMF_SC_INTERNAL;
	if (ret) {
		fprintf(stderr, "p2pmr-nvmf: controller %u: shutdown: flush failed (status 0x%x), SHST stays occurring\n",
			ctrl->cntlid, ret);
		return;
	}
	q->t->st.flushes++;
	q->t->st.shutdowns++;
	p2pmr_nvmf_shutdown_done(&ctrl->regs);
	printf("p2pmr-nvmf: controller %u: shutdown: cache flushed, complete\n",
	       ctrl->cntlid);
}

static int do_fabrics(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd)
{
	struct p2pmr_nvmf_prop p;
	uint64_t result;
	int st;

	if (cmd->fctype == P2PMR_NVMF_CONNECT)
		return do_connect(q, cmd);
	if (!q->ctrl)
		return status_only(q, cmd, P2PMR_NVMF_SC_CMD_SEQ_ERROR, 0);
	if (cmd->fctype != P2PMR_NVMF_PROP_GET &&
	    cmd->fctype != P2PMR_NVMF_PROP_SET)
		return status_only(q, cmd, P2PMR_NVMF_SC_INVALID_OPCODE, 0);
	if (q->qid)
		return status_only(q, cmd, P2PMR_NVMF_SC_INVALID_FIELD, 0);
	st = p2pmr_nvmf_prop_parse(cmd, &p);
	st = st ? st : p2pmr_nvmf_prop_exec(&q->ctrl->regs, &p, &result);
	if (!st && p.set)
		ctrl_shutdown(q);
	return status_only(q, cmd, st, st ? 0 : result);
}

static int do_identify(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd)
{
	struct tgt *t = q->t;
	struct p2pmr_nvmf_id_params p = {
		.backing = t->n ? p2pmr_nvme_id_ctrl(t->n) : NULL,
		.subnqn = t->o.nqn,
		.cntlid = q->ctrl->cntlid, .mdts = 0, .maxcmd = TGT_IO_DEPTH,
		.nn = TGT_NSID, .kas = 1, .aerl = AERL,
		.inline_size = t->inline_size,
	};
	uint32_t cns = cdw(cmd, 10) & 0xff, max;
	int st = 0;

	if (cmd->sgl.length != P2PMR_NVMF_ID_SIZE)
		return status_only(q, cmd, P2PMR_NVMF_SC_SGL_INVALID_DATA, 0);
	if (q->ctrl->discovery) {
		/* Identify Controller only, as nvmet's discovery serves. */
		if (cns != CNS_CTRL)
			return status_only(q, cmd, P2PMR_NVMF_SC_INVALID_FIELD,
					   0);
		p.subnqn = P2PMR_NVMF_DISCOVERY_NQN;
		/* Any host reaches it: nothing of the backing drive's. */
		p.backing = NULL;
		p.discovery = 1;
		p.nn = 0;
		p.inline_size = 0;
	}
	for (max = 4096; max < t->max_data; max <<= 1)
		p.mdts++;
	switch (cns) {
	case CNS_CTRL:
		st = p2pmr_nvmf_id_ctrl(q->ctl, &p) ? P2PMR_NVMF_SC_INTERNAL : 0;
		break;
	case CNS_NS:
	case CNS_NS_DESC:
		if (cmd->nsid != TGT_NSID)
			st = P2PMR_NVMF_SC_INVALID_NS;
		else
			memcpy(q->ctl, cns == CNS_NS ? t->ns_id : t->ns_desc,
			       P2PMR_NVMF_ID_SIZE);
		break;
	case CNS_NS_LIST:
		st = p2pmr_nvmf_ns_list(q->ctl, cmd->nsid, TGT_NSID);
		break;
	case CNS_CS_CTRL:
		/* The NVM command set's controller data: no limits. */
		if (cdw(cmd, 11) >> 24)
			st = P2PMR_NVMF_SC_INVALID_FIELD;
		else
			memset(q->ctl, 0, P2PMR_NVMF_ID_SIZE);
		break;
	default:
		st = P2PMR_NVMF_SC_INVALID_FIELD;
	}
	if (st) {
		if (tgt_log_refusal(t))
			printf("p2pmr-nvmf: Identify CNS 0x%02x nsid %u not served\n",
			       cns, cmd->nsid);
		return status_only(q, cmd, st, 0);
	}
	return complete_ctl(q, cmd, P2PMR_NVMF_ID_SIZE);
}

static int do_features(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd,
		       int set)
{
	struct tgt_ctrl *ctrl = q->ctrl;
	uint32_t fid = cdw(cmd, 10) & 0xff, v = cdw(cmd, 11), dw0 = 0;
	uint16_t n;
	int st = 0;

	switch (fid) {
	case FEAT_NUM_QUEUES:
		if (set) {
			st = p2pmr_nvmf_num_queues(v, TGT_MAX_IO_QUEUES, &dw0);
			if (!st)
				ctrl->nr_io_queues = (dw0 & 0xffff) + 1;
		} else {
			n = ctrl->nr_io_queues ? ctrl->nr_io_queues :
						 TGT_MAX_IO_QUEUES;
			dw0 = (n - 1) | (uint32_t)(n - 1) << 16;
		}
		break;
	case FEAT_ASYNC_EVT:
		if (set)
			ctrl->aen_cfg = v;
		dw0 = ctrl->aen_cfg;
		break;
	case FEAT_KATO:
		if (set)
			ctrl->kato = v;
		dw0 = ctrl->kato;
		break;
	default:
		st = P2PMR_NVMF_SC_INVALID_FIELD;
	}
	return status_only(q, cmd, st, dw0);
}

/* Whether the host of @ctrl may use the subsystem (--allow-host). */
static int host_allowed(const struct tgt *t, const struct tgt_ctrl *ctrl)
{
	int i;

	if (t->o.allow_any_host)
		return 1;
	for (i = 0; i < t->o.nr_hosts; i++)
		if (!strcmp(t->o.hosts[i], ctrl->hostnqn))
			return 1;
	return 0;
}

/*
 * The discovery log: the subsystem at --addr and --port, for a host that
 * may connect to it; an empty log for any other.
 */
static int do_disc_log(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd)
{
	struct tgt *t = q->t;
	struct p2pmr_nvmf_disc_entry e = {
		.subnqn = t->o.nqn, .traddr = t->o.addr,
		.trsvcid = t->o.port ? t->o.port : "4420", .portid = 1,
		.asqsz = TGT_ADMIN_DEPTH,
	};
	struct p2pmr_nvmf_get_log g;
	int st;

	st = p2pmr_nvmf_disc_log(cmd, q->ctl, TGT_CTL_SIZE, &e,
				 host_allowed(t, q->ctrl), 1, &g);
	if (st)
		return status_only(q, cmd, st, 0);
	return complete_ctl(q, cmd, g.len);
}

static int do_admin(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd)
{
	struct p2pmr_nvmf_get_log g;
	int st;

	switch (cmd->opc) {
	case ADM_IDENTIFY:
		return do_identify(q, cmd);
	case ADM_GET_LOG:
		if (q->ctrl->discovery)
			return do_disc_log(q, cmd);
		st = p2pmr_nvmf_get_log_parse(cmd, q->ctl, TGT_CTL_SIZE, &g);
		if (st)
			return status_only(q, cmd, st, 0);
		return complete_ctl(q, cmd, g.len);
	case ADM_SET_FEAT:
	case ADM_GET_FEAT:
		return do_features(q, cmd, cmd->opc == ADM_SET_FEAT);
	case ADM_KEEP_ALIVE:
		return status_only(q, cmd, 0, 0);
	case ADM_ABORT:
		return status_only(q, cmd, 0, 1);	/* not aborted */
	case ADM_AER:
		/* Held: no event is ever reported. */
		if (q->ctrl->aers > AERL)
			return status_only(q, cmd, P2PMR_NVMF_SC_AER_LIMIT, 0);
		q->ctrl->aers++;
		return 0;
	}
	return status_only(q, cmd, P2PMR_NVMF_SC_INVALID_OPCODE, 0);
}

/*
 * A Read or Write, checked, is started (io.c): answered when its steps
 * are done.  A Write's in-capsule data is inside the capsule (its parser
 * checked).
 */
static int do_rw(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd)
{
	struct p2pmr_nvmf_rw rw;
	int st;

	st = p2pmr_nvmf_rw_parse(cmd, q->t->ns.nsze, q->t->ns.lba_size, &rw);
	if (st)
		return status_only(q, cmd, st, 0);
	if (tgt_io_add(q, cmd, &rw, cmd->sgl.type == P2PMR_NVMF_SGL_DATA ?
		       q->cur + P2PMR_NVMF_CAPSULE_SIZE + cmd->sgl.addr : NULL))
		return status_only(q, cmd, P2PMR_NVMF_SC_INTERNAL, 0);
	return 0;
}

static int do_io(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd)
{
	static const struct p2pmr_nvmf_rw no_data;

	/* rdma.c accepts no queue ID past TGT_MAX_IO_QUEUES; 0 is admin. */
	assert(q->qid >= 1 && q->qid <= TGT_MAX_IO_QUEUES);
	q->t->st.queue_cmds[q->qid - 1]++;
	switch (cmd->opc) {
	case P2PMR_NVME_CMD_READ:
	case P2PMR_NVME_CMD_WRITE:
		if (cmd->nsid != TGT_NSID)
			return status_only(q, cmd, P2PMR_NVMF_SC_INVALID_NS, 0);
		return do_rw(q, cmd);
	case P2PMR_NVME_CMD_FLUSH:
		if (cmd->nsid != TGT_NSID && cmd->nsid != 0xffffffff)
			return status_only(q, cmd, P2PMR_NVMF_SC_INVALID_NS, 0);
		/* Started like a Read or Write, answered when it completed. */
		if (tgt_io_add(q, cmd, &no_data, NULL))
			return status_only(q, cmd, P2PMR_NVMF_SC_INTERNAL, 0);
		return 0;
	}
	return status_only(q, cmd, P2PMR_NVMF_SC_INVALID_OPCODE, 0);
}

/*
 * Whether @cmd runs only after the commands in flight (io.c) are done: a
 * Property Set.  A shutdown flushes the backing controller alone on its
 * queue (tgt_nvme_io()), after every command; a disable ends the
 * controller's commands; and an enable (CC.EN, which Reads and Writes
 * need) of a host's new controller comes after the writes of its old one
 * that are still in flight on queues still there, which its retries must
 * not overtake (those of gone queues hold new commands back anyway).  Every other command is answered without
 * waiting: a Keep Alive, an Identify or a Get Log Page is not held up by a
 * backing command that is slow or lost.  A Flush goes along with the
 * Reads and Writes: it covers the writes completed before it, which are
 * all those answered.
 */
static int waits_for_io(const struct tgt_queue *q,
			const struct p2pmr_nvmf_cmd *cmd)
{
	return !q->qid && cmd->opc == P2PMR_NVMF_OPC_FABRICS &&
	       cmd->fctype == P2PMR_NVMF_PROP_SET;
}

/* Whether Property Set @cmd sets CC.SHN: a shutdown notification. */
static int sets_shutdown(const struct p2pmr_nvmf_cmd *cmd)
{
	struct p2pmr_nvmf_prop p;

	return !p2pmr_nvmf_prop_parse(cmd, &p) &&
	       p.offset == P2PMR_NVMF_PROP_CC && (p.value >> 14 & 0x3);
}

int tgt_cmd(struct tgt_queue *q, const uint8_t *capsule, size_t len)
{
	struct p2pmr_nvmf_limits lim = {
		.max_data = q->qid ? q->t->max_data : TGT_CTL_SIZE,
		.inline_size = q->qid ? q->t->inline_size : 0,
	};
	struct p2pmr_nvmf_cmd cmd;
	int st;

	q->cur = capsule;
	q->sqhd = (q->sqhd + 1) % q->depth;
	st = p2pmr_nvmf_capsule_parse(capsule, len, &lim, &cmd);
	if (st < 0) {
		if (tgt_log_refusal(q->t))
			fprintf(stderr, "p2pmr-nvmf: queue %u: a capsule of %zu bytes dropped\n",
				q->qid, len);
		return 0;
	}
	/* Any command keeps its controller alive (traffic based). */
	if (q->ctrl)
		q->ctrl->last_ms = tgt_now_ms();
	if (!st && waits_for_io(q, &cmd) && sets_shutdown(&cmd)) {
		/*
		 * What came before it is started first, held or not, and
		 * everything completes, a gone queue's too: the flush runs
		 * alone on the backing queue, and covers them.
		 */
		tgt_serve_held(q->t);
		tgt_io_drain(q->t);
	} else if (!st && waits_for_io(q, &cmd)) {
		/*
		 * The commands in flight of queues still there complete.
		 * Held capsules stay held: every later one is held behind
		 * them, in order; and a gone queue's write still on the
		 * controller holds every new one back (tgt_io_room()), so
		 * a new controller's enable does not wait for it.
		 */
		tgt_io_drain_live(q->t);
	}
	/* A recovery broke this queue: nothing can be answered. */
	if (!st && waits_for_io(q, &cmd) && q->broken)
		return -EIO;
	if (st)
		return status_only(q, &cmd, st, 0);
	if (cmd.opc == P2PMR_NVMF_OPC_FABRICS)
		return do_fabrics(q, &cmd);
	/* Other commands need a connected, enabled controller. */
	if (!q->ctrl || !(q->ctrl->regs.csts & P2PMR_NVMF_CSTS_RDY))
		return status_only(q, &cmd, P2PMR_NVMF_SC_CMD_SEQ_ERROR, 0);
	return q->qid ? do_io(q, &cmd) : do_admin(q, &cmd);
}
