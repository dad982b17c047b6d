// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmr mr-check: register the dma-buf as an RDMA MR and check an RDMA
 * WRITE and READ through it, on an RC QP connected to itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#include "cli.h"

/* Everything mr-check sets up, torn down by rc_close() in reverse. */
struct rc {
	struct ibv_device **list;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_mr *dmr;		/* the dma-buf */
	struct ibv_mr *hmr;		/* host buffer: [0, len) src, [len, 2 len) dst */
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	unsigned char *host;
	size_t len;
	union ibv_gid gid;
	int gid_index;
	const char *gid_type;
	struct ibv_port_attr port;
};

static void rc_close(struct rc *rc)
{
	if (rc->qp)
		ibv_destroy_qp(rc->qp);
	if (rc->cq)
		ibv_destroy_cq(rc->cq);
	if (rc->hmr)
		ibv_dereg_mr(rc->hmr);
	if (rc->dmr)
		ibv_dereg_mr(rc->dmr);
	if (rc->pd)
		ibv_dealloc_pd(rc->pd);
	if (rc->ctx)
		ibv_close_device(rc->ctx);
	if (rc->list)
		ibv_free_device_list(rc->list);
	free(rc->host);
}

/* The GID to reach ourselves by: --gid-index, else RoCE v2, else any. */
static int pick_gid(const struct opts *o, struct rc *rc)
{
	struct ibv_gid_entry e;
	int i, any = -1;

	if (rc->port.link_layer == IBV_LINK_LAYER_INFINIBAND &&
	    o->gid_index < 0) {
		rc->gid_index = -1;	/* LID routed, no GRH */
		rc->gid_type = "IB (LID)";
		return 0;
	}
	for (i = 0; i < rc->port.gid_tbl_len; i++) {
		if (o->gid_index >= 0 && i != o->gid_index)
			continue;
		if (ibv_query_gid_ex(rc->ctx, o->ib_port, i, &e, 0))
			continue;
		if (e.gid_type == IBV_GID_TYPE_ROCE_V2 || o->gid_index >= 0) {
			any = i;
			rc->gid = e.gid;
			break;
		}
		if (any < 0) {
			any = i;
			rc->gid = e.gid;
		}
	}
	if (any < 0)
		return -1;
	rc->gid_index = any;
	if (ibv_query_gid_ex(rc->ctx, o->ib_port, any, &e, 0))
		return -1;
	rc->gid_type = e.gid_type == IBV_GID_TYPE_ROCE_V2 ? "RoCE v2" :
		       e.gid_type == IBV_GID_TYPE_ROCE_V1 ? "RoCE v1" : "IB";
	return 0;
}

static int qp_connect_self(const struct opts *o, struct rc *rc)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = o->ib_port,
		.qp_access_flags = IBV_ACCESS_LOCAL_WRITE |
				   IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ,
	};

	if (ibv_modify_qp(rc->qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = rc->port.active_mtu;
	a.dest_qp_num = rc->qp->qp_num;
	a.rq_psn = 0;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.port_num = o->ib_port;
	a.ah_attr.dlid = rc->port.lid;
	if (rc->gid_index >= 0) {
		a.ah_attr.is_global = 1;
		a.ah_attr.grh.dgid = rc->gid;
		a.ah_attr.grh.sgid_index = rc->gid_index;
		a.ah_attr.grh.hop_limit = 1;
	}
	if (ibv_modify_qp(rc->qp, &a, IBV_QP_STATE | IBV_QP_AV |
			  IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.sq_psn = 0;
	a.max_rd_atomic = 1;
	return ibv_modify_qp(rc->qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			     IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			     IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC) ? -1 : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One signalled RDMA WRITE or READ of @len bytes, waited for. */
static int rdma_op(const struct opts *o, struct rc *rc, int write,
		   unsigned char *local, uint64_t remote, size_t len,
		   char *err, size_t errlen)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)local, .length = len, .lkey = rc->hmr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = write, .sg_list = &sge, .num_sge = 1,
		.opcode = write ? IBV_WR_RDMA_WRITE : IBV_WR_RDMA_READ,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = remote, .rkey = rc->dmr->rkey },
	}, *bad;
	double deadline = now() + o->timeout;
	struct ibv_wc wc;
	int n;

	errno = ibv_post_send(rc->qp, &wr, &bad);
	if (errno) {
		snprintf(err, errlen, "posting the RDMA %s: %s",
			 write ? "WRITE" : "READ", strerror(errno));
		return -1;
	}
	while (!(n = ibv_poll_cq(rc->cq, 1, &wc))) {
		if (now() > deadline) {
			snprintf(err, errlen, "no completion of the RDMA %s within %u s",
				 write ? "WRITE" : "READ", o->timeout);
			return -1;
		}
		usleep(100);
	}
	if (n < 0 || wc.status != IBV_WC_SUCCESS) {
		snprintf(err, errlen, "RDMA %s into the dma-buf MR failed: %s (vendor error 0x%x)",
			 write ? "WRITE" : "READ",
			 n < 0 ? "ibv_poll_cq failed" : ibv_wc_status_str(wc.status),
			 n < 0 ? 0 : wc.vendor_err);
		return -1;
	}
	return 0;
}

/* Whether the CPU mapping of @buf covers [@off, @off + @len). */
static int cpu_mapped(const struct p2pmr_buf *buf, uint64_t off, size_t len)
{
	size_t i;

	for (i = 0; buf->addr && i < buf->nr_mapped; i++)
		if (buf->mapped[i].offset <= off &&
		    off + len <= buf->mapped[i].offset + buf->mapped[i].length)
			return 1;
	return 0;
}

static int mr_check_run(const struct opts *o)
{
	struct ibv_qp_init_attr qpa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	size_t i, tested = 0, bytes = 0, mlen;
	struct rc rc = { .gid_index = -1 };
	const char *cpu_why = "BAR not mmap-able";
	struct p2pmr_buf *buf = NULL;
	size_t cpu_checked = 0;
	char err[256] = "";
	struct target t;
	uint64_t doff;
	double t0;
	int num, ret;

	ret = target_open(o, &t);
	if (ret)
		return fail(o, ret);
	/*
	 * The dma-buf and the CPU's view of the same bytes, to see that the
	 * data landed in the BAR; where VFIO lets the CPU map nothing of the
	 * ranges, the dma-buf alone.
	 */
	ret = p2pmr_buf_open_ranges(t.dev, o->bar, t.ranges, t.n, PROT_READ,
				    P2PMR_BUF_SPARSE, &buf);
	if (ret == -ENXIO)
		ret = p2pmr_buf_open_ranges(t.dev, o->bar, t.ranges, t.n,
					    PROT_NONE, 0, &buf);
	if (ret) {
		ret = fail(o, ret);
		goto out_target;
	}

	rc.list = ibv_get_device_list(&num);
	if (!rc.list || !num) {
		ret = failf(o, -ENODEV, "no RDMA device (Soft-RoCE: modprobe rdma_rxe; rdma link add rxe0 type rxe netdev IFACE)");
		goto out_rc;
	}
	for (i = 0; i < (size_t)num; i++)
		if (!o->ibdev || !strcmp(o->ibdev, ibv_get_device_name(rc.list[i])))
			break;
	if (i == (size_t)num) {
		ret = failf(o, -ENODEV, "no RDMA device %s (ibv_devices lists them)",
			    o->ibdev);
		goto out_rc;
	}
	rc.ctx = ibv_open_device(rc.list[i]);
	if (!rc.ctx) {
		ret = failf(o, neg_errno(), "cannot open RDMA device %s: %s",
			    ibv_get_device_name(rc.list[i]), strerror(errno));
		goto out_rc;
	}
	if (ibv_query_port(rc.ctx, o->ib_port, &rc.port)) {
		ret = failf(o, -ENODEV, "RDMA device %s has no port %u",
			    ibv_get_device_name(rc.ctx->device), o->ib_port);
		goto out_rc;
	}
	if (rc.port.state != IBV_PORT_ACTIVE) {
		ret = failf(o, -ENODEV, "port %u of %s is not active (state %s): is its net device up?",
			    o->ib_port, ibv_get_device_name(rc.ctx->device),
			    ibv_port_state_str(rc.port.state));
		goto out_rc;
	}
	if (pick_gid(o, &rc)) {
		ret = failf(o, -ENODEV, "port %u of %s has no usable GID%s (does its net device have an IP address?)",
			    o->ib_port, ibv_get_device_name(rc.ctx->device),
			    o->gid_index >= 0 ? " at that index" : "");
		goto out_rc;
	}
	rc.pd = ibv_alloc_pd(rc.ctx);
	if (!rc.pd) {
		ret = failf(o, -ENOMEM, "cannot allocate a protection domain on %s",
			    ibv_get_device_name(rc.ctx->device));
		goto out_rc;
	}
	ret = p2pmr_reg_mr(rc.pd, 0, t.total, 0, buf->fd,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			   IBV_ACCESS_REMOTE_READ, &rc.dmr);
	if (ret) {
		ret = fail(o, ret);
		goto out_rc;
	}
	rc.len = o->length;
	for (i = 0, mlen = 0; i < t.n; i++)
		if (t.ranges[i].length > mlen)
			mlen = t.ranges[i].length;
	if (rc.len > mlen)
		rc.len = mlen;
	rc.host = malloc(2 * rc.len);
	if (!rc.host) {
		ret = failf(o, -ENOMEM, "out of memory");
		goto out_rc;
	}
	rc.hmr = ibv_reg_mr(rc.pd, rc.host, 2 * rc.len,
			    IBV_ACCESS_LOCAL_WRITE);
	rc.cq = rc.hmr ? ibv_create_cq(rc.ctx, 4, NULL, NULL, 0) : NULL;
	qpa.send_cq = qpa.recv_cq = rc.cq;
	rc.qp = rc.cq ? ibv_create_qp(rc.pd, &qpa) : NULL;
	if (!rc.qp || qp_connect_self(o, &rc)) {
		ret = failf(o, neg_errno(), "cannot set up a loopback RC QP on %s port %u: %s",
			    ibv_get_device_name(rc.ctx->device), o->ib_port,
			    strerror(errno));
		goto out_rc;
	}
	/* The start of each range: at most 16, and the last one. */
	srandom(getpid() ^ (unsigned int)time(NULL));
	t0 = now();
	for (i = 0, doff = 0; i < t.n; doff += t.ranges[i].length, i++) {
		size_t len = t.ranges[i].length < rc.len ? t.ranges[i].length :
							   rc.len;
		size_t k;

		if (i >= 16 && i != t.n - 1)
			continue;
		for (k = 0; k < len; k++) {
			rc.host[k] = random();
			rc.host[rc.len + k] = ~rc.host[k];
		}
		if (rdma_op(o, &rc, 1, rc.host, doff, len, err, sizeof(err)) ||
		    rdma_op(o, &rc, 0, rc.host + rc.len, doff, len, err,
			    sizeof(err))) {
			ret = failf(o, -EIO, "range %zu: %s", i, err);
			goto out_rc;
		}
		if (memcmp(rc.host, rc.host + rc.len, len)) {
			ret = failf(o, -EIO, "range %zu: the data read back differs from the data written",
				    i);
			goto out_rc;
		}
		if (cpu_mapped(buf, doff, len)) {
			if (memcmp(rc.host, (unsigned char *)buf->addr + doff,
				   len)) {
				ret = failf(o, -EIO, "range %zu: RDMA read back what it wrote, but the BAR at offset 0x%" PRIx64 " (CPU mapping) holds other data",
					    i, t.ranges[i].offset);
				goto out_rc;
			}
			cpu_checked++;
		} else if (buf->addr) {
			cpu_why = "VFIO lets the CPU map only parts of the BAR";
		}
		tested++;
		bytes += len;
	}
	t0 = now() - t0;
	if (o->json) {
		struct json_object *r, *c;

		jtarget(jroot, o, &t, t.total);
		r = jset_obj(jroot, "rdma");
		jset_str(r, "device", ibv_get_device_name(rc.ctx->device));
		jset_int(r, "port", o->ib_port);
		jset_int(r, "gid_index", rc.gid_index);
		jset_str(r, "gid_type", rc.gid_type);
		c = jset_obj(jroot, "check");
		jset_u64(c, "ranges_tested", tested);
		jset_u64(c, "bytes", bytes);
		jset_str(c, "cpu_view", cpu_checked ? "matches" : "not checked");
		jset_u64(c, "cpu_ranges_checked", cpu_checked);
		jset_double(c, "seconds", t0);
	} else {
		printf("mr-check ok: %s BAR%u, %zu range%s (%" PRIu64 " bytes) as an MR of %s port %u gid %d (%s): RDMA WRITE+READ of %zu bytes in %zu range%s in %.3f ms; ",
		       p2pmr_dev_bdf(t.dev), o->bar, t.n, t.n == 1 ? "" : "s",
		       t.total, ibv_get_device_name(rc.ctx->device), o->ib_port,
		       rc.gid_index, rc.gid_type, bytes, tested,
		       tested == 1 ? "" : "s", t0 * 1e3);
		if (cpu_checked == tested)
			printf("CPU view of the BAR matches\n");
		else if (cpu_checked)
			printf("CPU view of the BAR matches in %zu of them (%s)\n",
			       cpu_checked, cpu_why);
		else
			printf("CPU view of the BAR not checked (%s)\n",
			       cpu_why);
	}
	ret = EXIT_OK;
out_rc:
	rc_close(&rc);
	p2pmr_buf_close(buf);
out_target:
	target_close(&t);
	return ret;
}

const struct cmd cmd_mr_check = {
	.name = "mr-check",
	.opts = OPT_BAR | OPT_RANGES | OPT_IBDEV | OPT_IB_PORT |
		OPT_GID_INDEX | OPT_LENGTH | OPT_TIMEOUT | OPT_VF_TOKEN,
	.needs_bdf = 1,
	.needs_bar = 1,
	.usage =
"  mr-check BDF --bar N [--ranges SPEC] [--ibdev NAME] [--ib-port N]\n"
"           [--gid-index N] [--length BYTES] [--timeout S] [--vf-token UUID]\n"
"                               register the dma-buf as an RDMA MR and check an\n"
"                               RDMA WRITE and READ through it (overwrites BAR data)\n",
	.run = mr_check_run,
};
