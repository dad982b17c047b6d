/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small verbs helpers for the importer tests: one QP per endpoint (RC unless
 * made by ep_init_type()), connected to another endpoint (on the same or
 * another RDMA device) by GID.
 */
#ifndef P2PMR_TEST_RDMA_LIB_H
#define P2PMR_TEST_RDMA_LIB_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <infiniband/verbs.h>

struct ep {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	union ibv_gid gid;
	int gid_index;
	struct ibv_ah *ah;	/* UD: the address of the connected peer */
	uint32_t remote_qpn;	/* UD: the connected peer's QP number */
};

#define EP_QKEY 0x11111111	/* UD QPs' Q_Key */

/* Find the GID index of an IPv4 address on port 1 of @ctx. */
static inline int ep_gid_index(struct ibv_context *ctx, const char *ip,
			       union ibv_gid *gid)
{
	struct in_addr a;
	int i;

	inet_pton(AF_INET, ip, &a);
	for (i = 0; i < 32; i++) {
		if (ibv_query_gid(ctx, 1, i, gid))
			break;
		if (gid->raw[10] == 0xff && gid->raw[11] == 0xff &&
		    !memcmp(&gid->raw[12], &a, 4))
			return i;
	}
	return -1;
}

static inline struct ibv_context *ep_open_dev(const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;
	int i;

	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	return ctx;
}

/*
 * Open an endpoint on @ctx (shared) with its own CQ and a QP of @type on
 * @pd.  With @send_ops (IBV_QP_EX_WITH_*), the QP also takes those
 * operations through ibv_qp_to_qp_ex()'s ibv_wr_*() calls.
 */
static inline int ep_init_type(struct ep *ep, struct ibv_context *ctx,
			       struct ibv_pd *pd, const char *ip,
			       enum ibv_qp_type type, uint64_t send_ops)
{
	struct ibv_qp_init_attr_ex ia = {
		.qp_type = type,
		.cap = { .max_send_wr = 256, .max_recv_wr = 256,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD,
		.pd = pd,
	};
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_ATOMIC,
	};

	memset(ep, 0, sizeof(*ep));
	ep->ctx = ctx;
	ep->pd = pd;
	ep->gid_index = ep_gid_index(ctx, ip, &ep->gid);
	if (ep->gid_index < 0)
		return -ENOENT;
	ep->cq = ibv_create_cq(ctx, 512, NULL, NULL, 0);
	if (!ep->cq)
		return -errno;
	ia.send_cq = ep->cq;
	ia.recv_cq = ep->cq;
	if (send_ops) {
		ia.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
		ia.send_ops_flags = send_ops;
	}
	ep->qp = ibv_create_qp_ex(ctx, &ia);
	if (!ep->qp)
		return -errno;
	if (type == IBV_QPT_UD) {
		a.qkey = EP_QKEY;
		return ibv_modify_qp(ep->qp, &a, IBV_QP_STATE |
				     IBV_QP_PKEY_INDEX | IBV_QP_PORT |
				     IBV_QP_QKEY) ? -errno : 0;
	}
	if (type == IBV_QPT_UC)
		a.qp_access_flags = IBV_ACCESS_REMOTE_WRITE;
	if (ibv_modify_qp(ep->qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -errno;
	return 0;
}

/* An RC endpoint; @send_ops as for ep_init_type(). */
static inline int ep_init_ex(struct ep *ep, struct ibv_context *ctx,
			     struct ibv_pd *pd, const char *ip,
			     uint64_t send_ops)
{
	return ep_init_type(ep, ctx, pd, ip, IBV_QPT_RC, send_ops);
}

static inline int ep_init(struct ep *ep, struct ibv_context *ctx,
			  struct ibv_pd *pd, const char *ip)
{
	return ep_init_ex(ep, ctx, pd, ip, 0);
}

/*
 * A UD endpoint is "connected" by an address handle for @peer: it is ready
 * to send to it (and to receive from anyone).
 */
static inline int ep_connect_ud(struct ep *ep, const struct ep *peer)
{
	struct ibv_ah_attr ah = {
		.is_global = 1, .port_num = 1,
		.grh = { .dgid = peer->gid, .sgid_index = ep->gid_index,
			 .hop_limit = 1 },
	};
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RTR };

	if (ibv_modify_qp(ep->qp, &a, IBV_QP_STATE))
		return -errno;
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0;
	if (ibv_modify_qp(ep->qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN))
		return -errno;
	ep->ah = ibv_create_ah(ep->pd, &ah);
	if (!ep->ah)
		return -errno;
	ep->remote_qpn = peer->qp->qp_num;
	return 0;
}

static inline int ep_connect(struct ep *ep, const struct ep *peer)
{
	int uc = ep->qp->qp_type == IBV_QPT_UC;
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTR, .path_mtu = IBV_MTU_1024,
		.dest_qp_num = peer->qp->qp_num, .rq_psn = 0,
		.max_dest_rd_atomic = 4, .min_rnr_timer = 12,
		.ah_attr = {
			.is_global = 1, .port_num = 1,
			.grh = { .dgid = peer->gid, .sgid_index = ep->gid_index,
				 .hop_limit = 1 },
		},
	};

	if (ep->qp->qp_type == IBV_QPT_UD)
		return ep_connect_ud(ep, peer);
	if (ibv_modify_qp(ep->qp, &a, IBV_QP_STATE | IBV_QP_AV |
			  IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  (uc ? 0 : IBV_QP_MAX_DEST_RD_ATOMIC |
				    IBV_QP_MIN_RNR_TIMER)))
		return -errno;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	if (uc)
		return ibv_modify_qp(ep->qp, &a, IBV_QP_STATE |
				     IBV_QP_SQ_PSN) ? -errno : 0;
	/*
	 * Ack timeout 0.27 s, 7 retries: the bed is slow (TCG; the debug
	 * kernels ten times slower again: a 512 KiB WRITE from an NVMe CMB
	 * ran out of 3 retries of 16.8 ms on 7.3-debug).
	 */
	a.timeout = 16;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.sq_psn = 0;
	a.max_rd_atomic = 4;
	if (ibv_modify_qp(ep->qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
			  IBV_QP_MAX_QP_RD_ATOMIC))
		return -errno;
	return 0;
}

/* Wait for one completion (10 s at most); returns its status or -ETIMEDOUT. */
static inline int ep_wait(struct ep *ep, struct ibv_wc *wc_out)
{
	struct timespec t0, t;
	struct ibv_wc wc;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		n = ibv_poll_cq(ep->cq, 1, &wc);
		if (n < 0)
			return -EIO;
		if (n == 1) {
			if (wc_out)
				*wc_out = wc;
			return wc.status;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			return -ETIMEDOUT;
	}
}

/* Post one operation; on a UD endpoint, a SEND to its connected peer. */
static inline int ep_post(struct ep *ep, enum ibv_wr_opcode op, void *addr,
			  uint32_t len, uint32_t lkey, uint64_t raddr,
			  uint32_t rkey)
{
	struct ibv_sge sge = { (uintptr_t)addr, len, lkey };
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	}, *bad;

	if (ep->ah) {
		wr.wr.ud.ah = ep->ah;
		wr.wr.ud.remote_qpn = ep->remote_qpn;
		wr.wr.ud.remote_qkey = EP_QKEY;
	}
	return ibv_post_send(ep->qp, &wr, &bad) ? -errno : 0;
}

/* One operation, waited for: returns the completion status. */
static inline int ep_do(struct ep *ep, enum ibv_wr_opcode op, void *addr,
			uint32_t len, uint32_t lkey, uint64_t raddr,
			uint32_t rkey)
{
	int ret = ep_post(ep, op, addr, len, lkey, raddr, rkey);

	return ret ? ret : ep_wait(ep, NULL);
}

/* Post one atomic (FETCH_ADD or CMP_SWAP) into @res (8 bytes, @lkey). */
static inline int ep_post_atomic(struct ep *ep, enum ibv_wr_opcode op,
				 uint64_t *res, uint32_t lkey, uint64_t raddr,
				 uint32_t rkey, uint64_t compare_add,
				 uint64_t swap)
{
	struct ibv_sge sge = { (uintptr_t)res, 8, lkey };
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.atomic = { .remote_addr = raddr, .rkey = rkey,
			       .compare_add = compare_add, .swap = swap },
	}, *bad;

	return ibv_post_send(ep->qp, &wr, &bad) ? -errno : 0;
}

/* One atomic, waited for: returns the completion status. */
static inline int ep_atomic(struct ep *ep, enum ibv_wr_opcode op,
			    uint64_t *res, uint32_t lkey, uint64_t raddr,
			    uint32_t rkey, uint64_t compare_add, uint64_t swap)
{
	int ret = ep_post_atomic(ep, op, res, lkey, raddr, rkey, compare_add,
				 swap);

	return ret ? ret : ep_wait(ep, NULL);
}

/*
 * One ATOMIC_WRITE of @value (the QP was made with
 * IBV_QP_EX_WITH_ATOMIC_WRITE), waited for: returns the completion status.
 */
static inline int ep_atomic_write(struct ep *ep, uint64_t raddr,
				  uint32_t rkey, uint64_t value)
{
	struct ibv_qp_ex *qpx = ibv_qp_to_qp_ex(ep->qp);
	int ret;

	if (!qpx)
		return -EOPNOTSUPP;
	ibv_wr_start(qpx);
	qpx->wr_id = 0;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_atomic_write(qpx, rkey, raddr, &value);
	ret = ibv_wr_complete(qpx);
	return ret ? -ret : ep_wait(ep, NULL);
}

static inline int ep_recv(struct ep *ep, void *addr, uint32_t len,
			  uint32_t lkey)
{
	struct ibv_sge sge = { (uintptr_t)addr, len, lkey };
	struct ibv_recv_wr wr = { .sg_list = &sge, .num_sge = 1 }, *bad;

	return ibv_post_recv(ep->qp, &wr, &bad) ? -errno : 0;
}

#endif
