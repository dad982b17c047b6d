// SPDX-License-Identifier: GPL-2.0
/*
 * The storage target's data path without the protocol: the NVMe CMB,
 * exported as a dma-buf and registered as an RDMA MR on Soft-RoCE (rxe1,
 * the "target"), moves data between a remote host buffer (rxe0, the
 * "host") and the disk with no copy through the target's memory.
 *
 *   host write: RDMA READ host buffer -> CMB, then NVMe Write CMB -> LBAs
 *   host read:  NVMe Read LBAs -> CMB, then RDMA WRITE CMB -> host buffer
 *
 * Usage: nvme_cmb_rdma BDF.  The case (nvme-cmb-rdma) fills the read region
 * of the image before the boot and checks the written one after it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pmr.h"
#include "p2pmr-nvme.h"
#include "../lib/pattern.h"
#include "../lib/tap.h"
#include "../importer/rdma_lib.h"

#define LBA	512u
#define NSID	1
#define MR_IOVA	0x40000000ULL	/* the CMB MR's address for RDMA */

/* Must match the case's --nvme-init and post lines. */
static const struct {
	const char *name;
	int host_write;		/* 1: host -> disk, 0: disk -> host */
	uint64_t slba;
	uint32_t nlb;
	uint64_t cmb_off;
	uint64_t seed;
} xf[] = {
	{ "host write of 4 KiB", 1, 74000, 8, 0x000000, 203 },
	{ "host write of 512 KiB", 1, 70000, 1024, 0x100000, 201 },
	{ "host read of 512 KiB", 0, 72000, 1024, 0x200000, 202 },
	{ "host read of 4 KiB (the 4 KiB just written)", 0, 74000, 8,
	  0x300000, 203 },
};

int main(int argc, char **argv)
{
	struct p2pmr_nvme_opts o = { .cmb = 1, .timeout_ms = 60000 };
	struct ibv_context *ctx0, *ctx1;
	struct ibv_pd *pd0, *pd1;
	struct ibv_mr *cmb_mr = NULL, *host_mr;
	struct p2pmr_nvme_qp *qp;
	struct p2pmr_nvme_cmb cmb;
	struct p2pmr_nvme *n;
	struct p2pmr_range r;
	struct ep host, tgt;
	uint8_t *hbuf, *check;
	uint64_t check_iova;
	size_t i;
	int fd, ret;

	if (argc != 2) {
		fprintf(stderr, "usage: nvme_cmb_rdma BDF\n");
		return 2;
	}
	ret = p2pmr_nvme_open(argv[1], &o, &n);
	ret = ret ? ret : p2pmr_nvme_cmb_info(n, &cmb);
	ret = ret ? ret : p2pmr_nvme_qp_create(n, 16, &qp);
	/* Host memory of the target, only to read written LBAs back. */
	ret = ret ? ret : p2pmr_nvme_dma_alloc(n, 512 * 1024, (void **)&check,
					       &check_iova);
	tap_result(!ret, "controller, CMB of %llu bytes at 0x%llx, I/O queue%s%s",
		   (unsigned long long)cmb.size, (unsigned long long)cmb.addr,
		   ret ? ": " : "", ret ? p2pmr_errmsg() : "");
	if (ret)
		return tap_done();

	/* Export only after the CMB is on: enabling it later would revoke. */
	r = (struct p2pmr_range){ cmb.bar_offset, cmb.size };
	fd = p2pmr_export(p2pmr_nvme_dev(n), cmb.bar, &r, 1,
			  O_RDWR | O_CLOEXEC);
	tap_result(fd >= 0, "export BAR%u [0x%llx, +0x%llx) as a dma-buf%s%s",
		   cmb.bar, (unsigned long long)r.offset,
		   (unsigned long long)r.length, fd < 0 ? ": " : "",
		   fd < 0 ? p2pmr_errmsg() : "");
	ctx0 = ep_open_dev("rxe0");
	ctx1 = ep_open_dev("rxe1");
	if (fd < 0 || !ctx0 || !ctx1) {
		tap_result(0, "rxe0 and rxe1 open");
		return tap_done();
	}
	pd0 = ibv_alloc_pd(ctx0);
	pd1 = ibv_alloc_pd(ctx1);
	ret = p2pmr_reg_mr(pd1, 0, cmb.size, MR_IOVA, fd,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
			   IBV_ACCESS_REMOTE_WRITE, &cmb_mr);
	tap_result(!ret, "the CMB dma-buf registered on rxe1%s%s",
		   ret ? ": " : "", ret ? p2pmr_errmsg() : "");
	hbuf = aligned_alloc(4096, 1 << 20);
	host_mr = ibv_reg_mr(pd0, hbuf, 1 << 20, IBV_ACCESS_LOCAL_WRITE |
			     IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
	ret = ret ? ret : !host_mr;
	ret = ret ? ret : ep_init(&host, ctx0, pd0, "192.0.2.1");
	ret = ret ? ret : ep_init(&tgt, ctx1, pd1, "192.0.2.2");
	ret = ret ? ret : ep_connect(&host, &tgt);
	ret = ret ? ret : ep_connect(&tgt, &host);
	tap_result(!ret, "host QP on rxe0 connected to the target QP on rxe1 (%d)",
		   ret);
	if (ret)
		return tap_done();

	for (i = 0; i < sizeof(xf) / sizeof(xf[0]); i++) {
		size_t len = (size_t)xf[i].nlb * LBA;
		struct p2pmr_nvme_buf b = { .addr = cmb.addr + xf[i].cmb_off,
					    .len = len };
		struct p2pmr_nvme_buf cb = { .addr = check_iova, .len = len };
		long bad = -1;
		int st;

		if (xf[i].host_write) {
			pattern_fill(hbuf, len, xf[i].seed, 0);
			/* The target pulls the host's data into the CMB. */
			ret = ep_do(&tgt, IBV_WR_RDMA_READ,
				    (void *)(uintptr_t)(MR_IOVA + xf[i].cmb_off),
				    len, cmb_mr->lkey, (uintptr_t)hbuf,
				    host_mr->rkey);
			st = ret ? -1 : p2pmr_nvme_rw(qp, P2PMR_NVME_CMD_WRITE,
						      NSID, xf[i].slba,
						      xf[i].nlb, &b);
			/* Read back into the target's memory to check. */
			if (!ret && !st)
				st = p2pmr_nvme_rw(qp, P2PMR_NVME_CMD_READ,
						   NSID, xf[i].slba,
						   xf[i].nlb, &cb);
			if (!ret && !st)
				bad = pattern_check(check, len, xf[i].seed, 0);
		} else {
			memset(hbuf, 0, len);
			st = p2pmr_nvme_rw(qp, P2PMR_NVME_CMD_READ, NSID,
					   xf[i].slba, xf[i].nlb, &b);
			/* The target pushes the CMB's data to the host. */
			ret = st ? -1 : ep_do(&tgt, IBV_WR_RDMA_WRITE,
					      (void *)(uintptr_t)(MR_IOVA +
								  xf[i].cmb_off),
					      len, cmb_mr->lkey,
					      (uintptr_t)hbuf, host_mr->rkey);
			if (!ret)
				bad = pattern_check(hbuf, len, xf[i].seed, 0);
		}
		tap_result(!ret && !st && bad < 0,
			   "%s: RDMA %s (status %d), NVMe %s LBA %llu (status 0x%x)%s",
			   xf[i].name, xf[i].host_write ? "READ into the CMB" :
			   "WRITE from the CMB", ret,
			   xf[i].host_write ? "Write from the CMB to" :
			   "Read into the CMB from",
			   (unsigned long long)xf[i].slba, st,
			   bad < 0 ? "" : xf[i].host_write ?
			   ": the LBAs read back DIFFER" :
			   ": host buffer DIFFERS");
	}
	/* Flush, so the host's check of the image sees the writes. */
	{
		struct p2pmr_nvme_sqe sqe = { .opc = P2PMR_NVME_CMD_FLUSH,
					      .nsid = NSID };

		ret = p2pmr_nvme_exec(qp, &sqe, NULL, NULL);
		tap_result(!ret, "Flush (status %d)", ret);
	}
	ibv_destroy_qp(host.qp);
	ibv_destroy_qp(tgt.qp);
	ibv_destroy_cq(host.cq);
	ibv_destroy_cq(tgt.cq);
	ibv_dereg_mr(host_mr);
	ibv_dereg_mr(cmb_mr);
	ibv_dealloc_pd(pd0);
	ibv_dealloc_pd(pd1);
	ibv_close_device(ctx0);
	ibv_close_device(ctx1);
	close(fd);
	p2pmr_nvme_close(n);
	free(hbuf);
	return tap_done();
}
