// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of p2pmr-nvmf's Connect handling (userspace/nvmf/tgt/cmd.c,
 * built in with its RDMA and NVMe calls replaced): a controller made by
 * an admin queue's Connect, its I/O queues connected to it, and a second
 * Connect for an I/O queue ID the controller already has refused with a
 * Command Sequence Error, as nvmet does, the first queue left alone.
 */
#include <errno.h>

#include "unit.h"
#include "../../userspace/nvmf/tgt/cmd.c"

/* What the stubs below saw. */
static const uint8_t *connect_data;	/* tgt_rdma_read() copies it */
static int responses;

int tgt_rdma_read(struct tgt_queue *q, uint64_t laddr, uint32_t lkey,
		  const struct p2pmr_nvmf_sgl *sgl, uint32_t len)
{
	(void)q; (void)lkey; (void)sgl;
	memcpy((void *)(uintptr_t)laddr, connect_data, len);
	return 0;
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

uint64_t tgt_now_ms(void)
{
	return 0;
}

int tgt_log_refusal(struct tgt *t)
{
	(void)t;
	return 1;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
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
static uint16_t connect_queue(struct tgt_queue *q, uint16_t cntlid, uint16_t *res)
{
	struct p2pmr_nvmf_cmd cmd;
	uint8_t d[1024];
	int n = responses;

	connect_cmd(&cmd, d, q->qid, cntlid);
	connect_data = d;
	assert_int_equal(do_connect(q, &cmd), 0);
	assert_int_equal(responses, n + 1);
	if (res)
		*res = q->rsp[0] | q->rsp[1] << 8;
	return (uint16_t)(q->rsp[14] | q->rsp[15] << 8);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_io_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
