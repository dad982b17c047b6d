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
 */
#include <errno.h>

#include "unit.h"
#include "../../userspace/nvmf/tgt/cmd.c"

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

void tgt_recover(struct tgt *t, const char *why)
{
	(void)t; (void)why;
	recoveries++;
}

int tgt_respond(struct tgt_queue *q, uint64_t laddr, uint32_t lkey,
		const struct p2pmr_nvmf_sgl *sgl, uint32_t len)
{
	(void)q; (void)laddr; (void)lkey; (void)sgl; (void)len;
	responses++;
	return 0;
}

void tgt_queue_close(struct tgt_queue *q)
{
	q->disconnecting = 1;
}

void tgt_stats_write(const struct tgt *t)
{
	(void)t;
}

/* The backing controller: every command completes with this status. */
static uint16_t exec_status;
static int exec_dnr;

int __wrap_p2pmr_nvme_exec(struct p2pmr_nvme_qp *qp, struct p2pmr_nvme_sqe *sqe,
			   const struct p2pmr_nvme_buf *buf,
			   struct p2pmr_nvme_cqe *cqe);
int __wrap_p2pmr_nvme_exec(struct p2pmr_nvme_qp *qp, struct p2pmr_nvme_sqe *sqe,
			   const struct p2pmr_nvme_buf *buf,
			   struct p2pmr_nvme_cqe *cqe)
{
	(void)qp; (void)sqe; (void)buf;
	if (cqe) {
		memset(cqe, 0, sizeof(*cqe));
		cqe->status = (uint16_t)(exec_status << 1 | exec_dnr << 15);
	}
	return exec_status;
}

uint64_t tgt_now_ms(void)
{
	return 0;
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
	q->ctl = test_malloc(TGT_CTL_SIZE);
	q->ctl_mr = &fake_mr;
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
	memset(&t, 0, sizeof(t));
	t.o.nqn = SUBNQN;
	t.o.hosts[0] = HOSTNQN;
	t.next_cntlid = 1;
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

/* A one-block Write of LBA @slba on I/O queue @q: do_io()'s return. */
static int write_block(struct tgt_queue *q, uint64_t slba)
{
	static const struct p2pmr_nvmf_limits lim = { .max_data = 128 * 1024 };
	struct p2pmr_nvmf_cmd cmd;
	uint8_t c[64] = { 0 };

	c[0] = P2PMR_NVME_CMD_WRITE;
	c[1] = 0x40;
	put32(c + 4, TGT_NSID);
	put32(c + 24, 0x1000);
	put32(c + 24 + 8, 512);
	put32(c + 24 + 11, 0xabcd);
	c[24 + 15] = 0x40;
	put32(c + 40, (uint32_t)slba);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd), 0);
	return do_io(q, &cmd);
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
	int n = responses;
	uint16_t st;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.data_mr = &fake_mr;
	t.ns.nsze = 1000;
	t.ns.lba_size = 512;
	t.max_data = 128 * 1024;
	queue_init(&io, &t, 1);

	rdma_fail = IBV_WC_LOC_PROT_ERR;
	assert_int_equal(write_block(&io, 7), -EIO);
	assert_int_equal(recoveries, 1);
	assert_int_equal(t.st.revokes, 1);
	assert_int_equal(responses, n);
	rdma_fail = IBV_WC_RETRY_EXC_ERR;
	assert_int_equal(write_block(&io, 7), -EIO);
	assert_int_equal(recoveries, 1);
	assert_int_equal(t.st.revokes, 1);
	assert_int_equal(responses, n);

	rdma_fail = -1;
	connect_data = NULL;
	io.broken = 0;
	assert_int_equal(write_block(&io, 7), 0);
	assert_int_equal(responses, n + 1);
	st = (uint16_t)(io.rsp[14] | io.rsp[15] << 8);
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
	memset(&t, 0, sizeof(t));
	t.data_mr = &fake_mr;
	t.nqp = (struct p2pmr_nvme_qp *)&t;	/* never looked into */
	t.ns.nsze = 1000;
	t.ns.lba_size = 512;
	t.max_data = 128 * 1024;
	queue_init(&io, &t, 1);
	rdma_fail = -1;
	connect_data = NULL;

	exec_status = 0x281;
	exec_dnr = 0;
	assert_int_equal(write_block(&io, 7), 0);
	st = (uint16_t)(io.rsp[14] | io.rsp[15] << 8);
	assert_int_equal(st, 0x0502);
	exec_dnr = 1;
	assert_int_equal(write_block(&io, 7), 0);
	st = (uint16_t)(io.rsp[14] | io.rsp[15] << 8);
	assert_int_equal(st, 0x8502);
	assert_int_equal(t.st.writes, 0);
	assert_int_equal(t.st.errors, 2);
	exec_status = 0;
	exec_dnr = 0;
	test_free(io.ctl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_revoked),
		cmocka_unit_test(test_backing_dnr),
		cmocka_unit_test(test_connect_io_twice),
		cmocka_unit_test(test_discovery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
