// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the target's pure command logic (userspace/nvmf/admin.c):
 * the Identify Controller data the Linux host checks, the active namespace
 * list, Get Log Page, Number of Queues, the property registers (CC.EN ->
 * CSTS.RDY, shutdown), Read/Write range and length checks.
 */
#include <errno.h>

#include "unit.h"
#include "../../userspace/nvmf/p2pmr-nvmf.h"

/* A command with dwords 10-13 and a keyed SGL of @len bytes. */
static void cmd(struct p2pmr_nvmf_cmd *c, uint8_t opc, uint32_t d10,
		uint32_t d11, uint32_t d12, uint32_t d13, uint32_t len)
{
	memset(c, 0, sizeof(*c));
	c->opc = opc;
	c->raw[0] = opc;
	put32(c->raw + 40, d10);
	put32(c->raw + 44, d11);
	put32(c->raw + 48, d12);
	put32(c->raw + 52, d13);
	c->sgl.type = P2PMR_NVMF_SGL_KEYED;
	c->sgl.length = len;
}

static void test_id_ctrl(void **state)
{
	static uint8_t out[P2PMR_NVMF_ID_SIZE], real[P2PMR_NVMF_ID_SIZE];
	struct p2pmr_nvmf_id_params p = {
		.backing = real, .subnqn = "nqn.2026-12.org.p2pmr:cmb",
		.cntlid = 7, .mdts = 5, .maxcmd = 128, .nn = 1, .kas = 1,
		.aerl = 3,
	};
	char longnqn[300];
	int i;

	(void)state;
	memset(real, 0xa5, sizeof(real));
	memcpy(real + 4, "SERIAL", 6);
	assert_int_equal(p2pmr_nvmf_id_ctrl(out, &p), 0);
	/* VID..FR copied, the rest of the real controller's data not. */
	assert_memory_equal(out, real, 72);
	assert_int_equal(out[P2PMR_NVMF_ID_CMIC], 0);
	assert_int_equal(out[P2PMR_NVMF_ID_MDTS], 5);
	assert_int_equal(get16(out + P2PMR_NVMF_ID_CNTLID), 7);
	assert_int_equal(get32(out + P2PMR_NVMF_ID_VER), 0x10300);
	assert_int_equal(out[P2PMR_NVMF_ID_CNTRLTYPE], 1);
	assert_int_equal(out[P2PMR_NVMF_ID_AERL], 3);
	assert_int_equal(out[P2PMR_NVMF_ID_LPA], 0);
	assert_int_equal(get16(out + P2PMR_NVMF_ID_KAS), 1);
	assert_int_equal(out[P2PMR_NVMF_ID_SQES], 0x66);
	assert_int_equal(out[P2PMR_NVMF_ID_CQES], 0x44);
	assert_int_equal(get16(out + P2PMR_NVMF_ID_MAXCMD), 128);
	assert_int_equal(get32(out + P2PMR_NVMF_ID_NN), 1);
	assert_int_equal(get16(out + P2PMR_NVMF_ID_ONCS), 0);
	assert_int_equal(out[P2PMR_NVMF_ID_VWC], 1);
	/* Keyed SGL data blocks (bit 2), no in-capsule offsets (bit 20). */
	assert_int_equal(get32(out + P2PMR_NVMF_ID_SGLS), 0x5);
	assert_string_equal((char *)out + P2PMR_NVMF_ID_SUBNQN, p.subnqn);
	assert_int_equal(get32(out + P2PMR_NVMF_ID_IOCCSZ), 4);
	assert_int_equal(get32(out + P2PMR_NVMF_ID_IORCSZ), 1);
	assert_int_equal(get16(out + P2PMR_NVMF_ID_ICDOFF), 0);
	assert_int_equal(out[P2PMR_NVMF_ID_MSDBD], 1);
	/* 4 KiB of in-capsule data: 64 + 4096 bytes, and offsets (SAOS). */
	p.inline_size = 4096;
	assert_int_equal(p2pmr_nvmf_id_ctrl(out, &p), 0);
	assert_int_equal(get32(out + P2PMR_NVMF_ID_SGLS), 0x100005);
	assert_int_equal(get32(out + P2PMR_NVMF_ID_IOCCSZ), 260);
	assert_int_equal(get16(out + P2PMR_NVMF_ID_ICDOFF), 0);
	p.inline_size = 0;
	/* Without a real controller: no vendor, the target's model, SN,
	 * MN and FR padded with spaces as the spec's ASCII fields are.
	 */
	p.backing = NULL;
	assert_int_equal(p2pmr_nvmf_id_ctrl(out, &p), 0);
	assert_int_equal(get16(out), 0);
	for (i = 4; i < 24; i++)
		assert_int_equal(out[i], ' ');
	assert_memory_equal(out + 24, "p2pmr-nvmf ", 11);
	for (i = 34; i < 72; i++)
		assert_int_equal(out[i], ' ');
	/* An NQN that does not fit, or none. */
	memset(longnqn, 'a', sizeof(longnqn) - 1);
	longnqn[sizeof(longnqn) - 1] = 0;
	p.subnqn = longnqn;
	assert_int_equal(p2pmr_nvmf_id_ctrl(out, &p), -EINVAL);
	p.subnqn = "";
	assert_int_equal(p2pmr_nvmf_id_ctrl(out, &p), -EINVAL);
}

static void test_ns_list(void **state)
{
	static uint8_t out[P2PMR_NVMF_ID_SIZE];

	(void)state;
	assert_int_equal(p2pmr_nvmf_ns_list(out, 0, 1), 0);
	assert_int_equal(get32(out), 1);
	assert_int_equal(get32(out + 4), 0);
	/* Only ids above the one given. */
	assert_int_equal(p2pmr_nvmf_ns_list(out, 1, 1), 0);
	assert_int_equal(get32(out), 0);
	assert_int_equal(p2pmr_nvmf_ns_list(out, 1, 3), 0);
	assert_int_equal(get32(out), 2);
	assert_int_equal(get32(out + 4), 3);
	/* The list holds 1024 ids at most. */
	assert_int_equal(p2pmr_nvmf_ns_list(out, 0, 5000), 0);
	assert_int_equal(get32(out + 4092), 1024);
	assert_int_equal(p2pmr_nvmf_ns_list(out, 0xfffffffe, 1),
			 P2PMR_NVMF_SC_INVALID_NS);
	assert_int_equal(p2pmr_nvmf_ns_list(out, 0xffffffff, 1),
			 P2PMR_NVMF_SC_INVALID_NS);
}

static void test_get_log(void **state)
{
	struct p2pmr_nvmf_get_log g;
	struct p2pmr_nvmf_cmd c;
	uint8_t out[1024];

	(void)state;
	/* SMART, 512 bytes: NUMDL 127 in cdw10 bits 31:16. */
	cmd(&c, 0x02, 127u << 16 | 0x02, 0, 0, 0, 512);
	memset(out, 0xff, sizeof(out));
	assert_int_equal(p2pmr_nvmf_get_log_parse(&c, out, sizeof(out), &g), 0);
	assert_int_equal(g.lid, 2);
	assert_int_equal(g.len, 512);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[511], 0);
	assert_int_equal(out[512], 0xff);
	/* Error log at an offset inside it; firmware slot log. */
	cmd(&c, 0x02, 3u << 16 | 0x01, 0, 16, 0, 16);
	assert_int_equal(p2pmr_nvmf_get_log_parse(&c, out, sizeof(out), &g), 0);
	assert_int_equal(g.offset, 16);
	cmd(&c, 0x02, 127u << 16 | 0x03, 0, 0, 0, 512);
	assert_int_equal(p2pmr_nvmf_get_log_parse(&c, out, sizeof(out), &g), 0);
	/* Unknown log (command effects), offset past the log or unaligned,
	 * more than the buffer, NUMDU, SGL of another length.
	 */
	cmd(&c, 0x02, 127u << 16 | 0x05, 0, 0, 0, 512);
	assert_int_equal(p2pmr_nvmf_get_log_parse(&c, out, sizeof(out), &g),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	cmd(&c, 0x02, 0u << 16 | 0x02, 0, 512, 0, 4);
	assert_int_equal(p2pmr_nvmf_get_log_parse(&c, out, sizeof(out), &g),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	cmd(&c, 0x02, 0u << 16 | 0x02, 0, 0, 1, 4);
	assert_int_equal(p2pmr_nvmf_get_log_parse(&c, out, sizeof(out), &g),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	cmd(&c, 0x02, 0u << 16 | 0x02, 0, 2, 0, 4);
	assert_int_equal(p2pmr_nvmf_get_log_parse(&c, out, sizeof(out), &g),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	cmd(&c, 0x02, 511u << 16 | 0x02, 0, 0, 0, 2048);
	assert_int_equal(p2pmr_nvmf_get_log_parse(&c, out, sizeof(out), &g),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	cmd(&c, 0x02, 0xffffu << 16 | 0x02, 0xffff, 0, 0, 512);
	assert_int_equal(p2pmr_nvmf_get_log_parse(&c, out, sizeof(out), &g),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	cmd(&c, 0x02, 127u << 16 | 0x02, 0, 0, 0, 4096);
	assert_int_equal(p2pmr_nvmf_get_log_parse(&c, out, sizeof(out), &g),
			 P2PMR_NVMF_SC_INVALID_FIELD);
}

/* The discovery log (LID 0x70) and a discovery controller's Identify. */
static void test_disc_log(void **state)
{
	static const struct p2pmr_nvmf_disc_entry e = {
		.subnqn = "nqn.2026-12.org.p2pmr:sub0", .traddr = "192.0.2.2",
		.trsvcid = "4420", .portid = 1, .asqsz = 32,
	};
	static uint8_t out[4096], id[P2PMR_NVMF_ID_SIZE];
	struct p2pmr_nvmf_id_params p = {
		.subnqn = P2PMR_NVMF_DISCOVERY_NQN, .cntlid = 3, .maxcmd = 128,
		.nn = 1, .kas = 1, .discovery = 1,
	};
	struct p2pmr_nvmf_disc_entry bad = e;
	static const struct { uint32_t d10, d12, len; } inval[] = {
		{ 255u << 16 | 0x02, 0, 1024 },
		{ 255u << 16 | 0x70, 2048, 1024 },
		{ 255u << 16 | 0x70, 2, 1024 },
		{ 255u << 16 | 0x70, 0, 512 },
		{ 2047u << 16 | 0x70, 0, 8192 },
	};
	struct p2pmr_nvmf_get_log g;
	struct p2pmr_nvmf_cmd c;
	const uint8_t *r = out + 1024;
	char longer[300];
	size_t i;

	(void)state;
	/* Header and one entry: 2048 bytes, NUMDL 511. */
	cmd(&c, 0x02, 511u << 16 | 0x70, 0, 0, 0, 2048);
	memset(out, 0xff, sizeof(out));
	assert_int_equal(p2pmr_nvmf_disc_log(&c, out, sizeof(out), &e, 1, 7,
					     &g), 0);
	assert_int_equal(g.len, 2048);
	assert_int_equal(get32(out), 7);		/* GENCTR */
	assert_int_equal(get32(out + 8), 1);		/* NUMREC */
	assert_int_equal(get16(out + 16), 0);		/* RECFMT */
	assert_int_equal(out[1023], 0);
	assert_int_equal(r[0], 1);			/* RDMA */
	assert_int_equal(r[1], 1);			/* IPv4 */
	assert_int_equal(r[2], 2);			/* NVMe subsystem */
	assert_int_equal(get16(r + 4), 1);		/* PORTID */
	assert_int_equal(get16(r + 6), 0xffff);		/* dynamic */
	assert_int_equal(get16(r + 8), 32);		/* ASQSZ */
	assert_string_equal((const char *)r + 32, "4420");
	assert_string_equal((const char *)r + 256, e.subnqn);
	assert_string_equal((const char *)r + 512, "192.0.2.2");
	assert_int_equal(r[768], 1);			/* RC QPs */
	assert_int_equal(r[770], 1);			/* RDMA_CM */
	assert_int_equal(out[2048], 0xff);		/* nothing past len */
	/* The header alone first, as hosts read it: 1024 bytes. */
	cmd(&c, 0x02, 255u << 16 | 0x70, 0, 0, 0, 1024);
	assert_int_equal(p2pmr_nvmf_disc_log(&c, out, sizeof(out), &e, 1, 7,
					     &g), 0);
	assert_int_equal(get32(out + 8), 1);
	/* The entry alone, at offset 1024; past the log: zeroes. */
	cmd(&c, 0x02, 511u << 16 | 0x70, 0, 1024, 0, 2048);
	assert_int_equal(p2pmr_nvmf_disc_log(&c, out, sizeof(out), &e, 1, 7,
					     &g), 0);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1024], 0);
	assert_int_equal(out[2047], 0);
	/* No entry for a host that may not use the subsystem. */
	cmd(&c, 0x02, 255u << 16 | 0x70, 0, 0, 0, 1024);
	assert_int_equal(p2pmr_nvmf_disc_log(&c, out, sizeof(out), &e, 0, 7,
					     &g), 0);
	assert_int_equal(get32(out + 8), 0);
	/* Another log, an offset past the log or unaligned, a length other
	 * than the SGL's or over the room: Invalid Field.
	 */
	for (i = 0; i < sizeof(inval) / sizeof(inval[0]); i++) {
		cmd(&c, 0x02, inval[i].d10, 0, inval[i].d12, 0, inval[i].len);
		assert_int_equal(p2pmr_nvmf_disc_log(&c, out, sizeof(out), &e,
						     1, 7, &g),
				 P2PMR_NVMF_SC_INVALID_FIELD);
	}
	/* An entry whose strings do not fit: the target's bug, Internal. */
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	bad.traddr = longer;
	cmd(&c, 0x02, 511u << 16 | 0x70, 0, 0, 0, 2048);
	assert_int_equal(p2pmr_nvmf_disc_log(&c, out, sizeof(out), &bad, 1, 7,
					     &g), P2PMR_NVMF_SC_INTERNAL);
	bad = e;
	bad.trsvcid = "123456789012345678901234567890123";
	assert_int_equal(p2pmr_nvmf_disc_log(&c, out, sizeof(out), &bad, 1, 7,
					     &g), P2PMR_NVMF_SC_INTERNAL);

	/* Identify of a discovery controller. */
	assert_int_equal(p2pmr_nvmf_id_ctrl(id, &p), 0);
	assert_int_equal(id[P2PMR_NVMF_ID_CNTRLTYPE], 2);
	assert_int_equal(id[P2PMR_NVMF_ID_LPA] & 4, 4);
	assert_int_equal(get32(id + P2PMR_NVMF_ID_NN), 0);
	assert_int_equal(id[P2PMR_NVMF_ID_VWC], 0);
	assert_string_equal((const char *)id + P2PMR_NVMF_ID_SUBNQN,
			    P2PMR_NVMF_DISCOVERY_NQN);
}

static void test_num_queues(void **state)
{
	uint32_t dw0;

	(void)state;
	/* Two of each asked (0's based 1), four allowed: two. */
	assert_int_equal(p2pmr_nvmf_num_queues(0x00010001, 4, &dw0), 0);
	assert_int_equal(dw0, 0x00010001);
	/* 64 asked: capped at four. */
	assert_int_equal(p2pmr_nvmf_num_queues(0x003f003f, 4, &dw0), 0);
	assert_int_equal(dw0, 0x00030003);
	/* Uneven request: the smaller count. */
	assert_int_equal(p2pmr_nvmf_num_queues(0x00000003, 4, &dw0), 0);
	assert_int_equal(dw0, 0);
	/* 65536 queues is reserved. */
	assert_int_equal(p2pmr_nvmf_num_queues(0x0000ffff, 4, &dw0),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	assert_int_equal(p2pmr_nvmf_num_queues(0xffff0000, 4, &dw0),
			 P2PMR_NVMF_SC_INVALID_FIELD);
}

static void set_cc(struct p2pmr_nvmf_regs *r, uint32_t cc)
{
	struct p2pmr_nvmf_prop p = { .set = 1, .size = 4,
				     .offset = P2PMR_NVMF_PROP_CC, .value = cc };
	uint64_t v;

	assert_int_equal(p2pmr_nvmf_prop_exec(r, &p, &v), 0);
}

static uint64_t get_prop(struct p2pmr_nvmf_regs *r, uint32_t off)
{
	struct p2pmr_nvmf_prop p = { .size = off ? 4 : 8, .offset = off };
	uint64_t v;

	assert_int_equal(p2pmr_nvmf_prop_exec(r, &p, &v), 0);
	return v;
}

/* CC as Linux enables: EN, IOSQES 6, IOCQES 4, MPS 0, CSS NVM. */
#define CC_LINUX	0x00460001u

static void test_regs(void **state)
{
	struct p2pmr_nvmf_regs r;
	uint64_t cap;

	(void)state;
	p2pmr_nvmf_regs_init(&r, 127, 30);
	cap = get_prop(&r, P2PMR_NVMF_PROP_CAP);
	assert_int_equal(cap & 0xffff, 127);		/* MQES */
	assert_true(cap & 1ull << 16);			/* CQR */
	assert_int_equal((cap >> 24) & 0xff, 30);	/* TO */
	assert_int_equal((cap >> 37) & 0xff, 1);	/* CSS: NVM only */
	assert_int_equal((cap >> 48) & 0xff, 0);	/* MPSMIN, MPSMAX 4 KiB */
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_VS), 0x10300);
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_CSTS), 0);
	/* Enable: RDY; CC reads back. */
	set_cc(&r, CC_LINUX);
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_CC), CC_LINUX);
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_CSTS),
			 P2PMR_NVMF_CSTS_RDY);
	/* Shutdown notification: SHST occurring (RDY stays) until the
	 * target has flushed the backing cache and says so; SHN written
	 * again meanwhile changes nothing.
	 */
	set_cc(&r, CC_LINUX | 1u << 14);
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_CSTS),
			 P2PMR_NVMF_CSTS_RDY | P2PMR_NVMF_CSTS_SHST_BUSY);
	set_cc(&r, CC_LINUX | 1u << 14);
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_CSTS),
			 P2PMR_NVMF_CSTS_RDY | P2PMR_NVMF_CSTS_SHST_BUSY);
	p2pmr_nvmf_shutdown_done(&r);
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_CSTS),
			 P2PMR_NVMF_CSTS_RDY | P2PMR_NVMF_CSTS_SHST_DONE);
	/* SHN cleared: SHST back to normal operation; done without a
	 * shutdown occurring changes nothing.
	 */
	set_cc(&r, CC_LINUX);
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_CSTS),
			 P2PMR_NVMF_CSTS_RDY);
	p2pmr_nvmf_shutdown_done(&r);
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_CSTS),
			 P2PMR_NVMF_CSTS_RDY);
	set_cc(&r, CC_LINUX | 1u << 14);
	p2pmr_nvmf_shutdown_done(&r);
	/* Disable: all clear. */
	set_cc(&r, 0x00460000);
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_CSTS), 0);
	/* Enable with 128-byte SQEs, or 8 KiB pages: fatal status. */
	set_cc(&r, 0x00470001);
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_CSTS),
			 P2PMR_NVMF_CSTS_CFS);
	set_cc(&r, 0);
	set_cc(&r, CC_LINUX | 1u << 7);
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_CSTS),
			 P2PMR_NVMF_CSTS_CFS);
	/* Writing EN again while enabled changes nothing. */
	set_cc(&r, 0);
	set_cc(&r, CC_LINUX);
	set_cc(&r, CC_LINUX);
	assert_int_equal(get_prop(&r, P2PMR_NVMF_PROP_CSTS),
			 P2PMR_NVMF_CSTS_RDY);
}

static void test_rw(void **state)
{
	struct p2pmr_nvmf_rw rw;
	struct p2pmr_nvmf_cmd c;

	(void)state;
	/* 8 blocks at 1000 of a 131072-block namespace. */
	cmd(&c, 0x01, 1000, 0, 7, 0, 4096);
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 131072, 512, &rw), 0);
	assert_int_equal(rw.slba, 1000);
	assert_int_equal(rw.nlb, 8);
	assert_int_equal(rw.bytes, 4096);
	/* The last block; one past it; far past it (SLBA high dword). */
	cmd(&c, 0x02, 131071, 0, 0, 0, 512);
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 131072, 512, &rw), 0);
	cmd(&c, 0x02, 131071, 0, 1, 0, 1024);
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 131072, 512, &rw),
			 P2PMR_NVMF_SC_LBA_RANGE);
	cmd(&c, 0x02, 131072, 0, 0, 0, 512);
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 131072, 512, &rw),
			 P2PMR_NVMF_SC_LBA_RANGE);
	cmd(&c, 0x02, 0, 1, 0, 0, 512);
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 131072, 512, &rw),
			 P2PMR_NVMF_SC_LBA_RANGE);
	/* An SLBA near 2^64 must not wrap. */
	cmd(&c, 0x02, 0xffffffff, 0xffffffff, 0xffff, 0, 65536 * 512);
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 131072, 512, &rw),
			 P2PMR_NVMF_SC_LBA_RANGE);
	/* SGL shorter or longer than the blocks. */
	cmd(&c, 0x01, 0, 0, 7, 0, 4095);
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 131072, 512, &rw),
			 P2PMR_NVMF_SC_SGL_INVALID_DATA);
	cmd(&c, 0x01, 0, 0, 7, 0, 8192);
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 131072, 512, &rw),
			 P2PMR_NVMF_SC_SGL_INVALID_DATA);
	/* In-capsule data: a Write's, of the blocks' length; not a Read's. */
	cmd(&c, 0x01, 0, 0, 7, 0, 4096);
	c.sgl.type = P2PMR_NVMF_SGL_DATA;
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 131072, 512, &rw), 0);
	c.sgl.length = 2048;
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 131072, 512, &rw),
			 P2PMR_NVMF_SC_SGL_INVALID_DATA);
	cmd(&c, 0x02, 0, 0, 7, 0, 4096);
	c.sgl.type = P2PMR_NVMF_SGL_DATA;
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 131072, 512, &rw),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	/* Neither keyed nor a data block. */
	cmd(&c, 0x01, 0, 0, 7, 0, 4096);
	c.sgl.type = 0x3;
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 131072, 512, &rw),
			 P2PMR_NVMF_SC_SGL_INVALID_DATA);
	/* 4 KiB blocks. */
	cmd(&c, 0x01, 10, 0, 1, 0, 8192);
	assert_int_equal(p2pmr_nvmf_rw_parse(&c, 16384, 4096, &rw), 0);
}

/* Status Field = status << 1, DNR bit 15: DNR only where no retry can help. */
static void test_cqe_status(void **state)
{
	(void)state;
	assert_int_equal(p2pmr_nvmf_cqe_status(0), 0);
	/*
	 * A backing controller's status passes with its DNR: Unrecovered
	 * Read Error (media, SCT 2) retried unless the drive said not to.
	 */
	assert_int_equal(p2pmr_nvmf_cqe_status(0x281), 0x0502);
	assert_int_equal(p2pmr_nvmf_cqe_status(0x281 | P2PMR_NVMF_STATUS_DNR),
			 0x8502);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_INTERNAL |
					       P2PMR_NVMF_STATUS_DNR), 0x800c);
	/* The command itself is wrong, or refused for good: DNR. */
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_INVALID_OPCODE),
			 0x8002);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_INVALID_FIELD),
			 0x8004);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_INVALID_NS),
			 0x8016);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_CMD_SEQ_ERROR),
			 0x8018);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_SGL_INVALID_DATA),
			 0x801e);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_SGL_INVALID_TYPE),
			 0x8022);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_LBA_RANGE),
			 0x8100);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_CAP_EXCEEDED),
			 0x8102);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_AER_LIMIT),
			 0x820a);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_CONNECT_INVALID),
			 0x8304);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_CONNECT_HOST),
			 0x8308);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_ACCESS_DENIED),
			 0x850c);
	/* Transient or internal (a timed-out backing command, a buffer or
	 * queue gone, a shortage): the host may retry.
	 */
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_INTERNAL), 0x000c);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_ABORT_REQ), 0x000e);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_DATA_XFER_ERROR),
			 0x0008);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_TRANSIENT_XPORT),
			 0x0044);
	assert_int_equal(p2pmr_nvmf_cqe_status(P2PMR_NVMF_SC_NS_NOT_READY),
			 0x0104);
	/* A code this target does not know: no DNR. */
	assert_int_equal(p2pmr_nvmf_cqe_status(0x0ff), 0x01fe);
}

/* Host strings in log lines: escaped, bounded. */
static void test_escape(void **state)
{
	char out[P2PMR_NVMF_LOG_STR], small[12];
	uint8_t nqn[256];

	(void)state;
	assert_string_equal(p2pmr_nvmf_escape(out, sizeof(out), "nqn.a:b-1",
					      256), "nqn.a:b-1");
	/* A terminal escape, a newline, a quote, a backslash, a high byte. */
	assert_string_equal(p2pmr_nvmf_escape(out, sizeof(out),
					      "a\033[2Jb\nc'd\\e\xff", 256),
			    "a\\x1b[2Jb\\x0ac\\x27d\\x5ce\\xff");
	/* No NUL within @max: @max bytes taken. */
	memset(nqn, 'x', sizeof(nqn));
	assert_string_equal(p2pmr_nvmf_escape(out, sizeof(out), nqn, 3),
			    "xxx");
	/* Longer than the room: cut, marked. */
	p2pmr_nvmf_escape(out, sizeof(out), nqn, sizeof(nqn));
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_string_equal(out + sizeof(out) - 4, "...");
	/* Cut at a whole escape: 8 bytes before the mark, "ab" and one. */
	assert_string_equal(p2pmr_nvmf_escape(small, sizeof(small),
					      "ab\001\002\003", 256),
			    "ab\\x01...");
	/* Exactly the room: no mark. */
	assert_string_equal(p2pmr_nvmf_escape(small, sizeof(small),
					      "12345678901", 256),
			    "12345678901");
}

/* Repeated refusals: @burst per window, then a count of those missed. */
static void test_ratelimit(void **state)
{
	struct p2pmr_nvmf_ratelimit rl = { .interval_ms = 5000, .burst = 3 };
	uint32_t missed;
	int i, n = 0;

	(void)state;
	for (i = 0; i < 10; i++)
		n += p2pmr_nvmf_ratelimit(&rl, 1000 + i, &missed);
	assert_int_equal(n, 3);
	/* Still in the window. */
	assert_int_equal(p2pmr_nvmf_ratelimit(&rl, 5999, &missed), 0);
	assert_int_equal(missed, 0);
	/* The next window reports the 8 suppressed. */
	assert_int_equal(p2pmr_nvmf_ratelimit(&rl, 6000, &missed), 1);
	assert_int_equal(missed, 8);
	assert_int_equal(p2pmr_nvmf_ratelimit(&rl, 6001, &missed), 1);
	assert_int_equal(missed, 0);
}

/* Keep alive: whole seconds, rounded up; any command resets it. */
static void test_kato(void **state)
{
	(void)state;
	/* No KATO: never. */
	assert_int_equal(p2pmr_nvmf_kato_expired(0, 0, 1000000), 0);
	/* 30 s: 30000 ms after the last command is still fine, 30001 not. */
	assert_int_equal(p2pmr_nvmf_kato_expired(30000, 5000, 35000), 0);
	assert_int_equal(p2pmr_nvmf_kato_expired(30000, 5000, 35001), 1);
	/* 1500 ms counts as 2 s. */
	assert_int_equal(p2pmr_nvmf_kato_expired(1500, 0, 2000), 0);
	assert_int_equal(p2pmr_nvmf_kato_expired(1500, 0, 2001), 1);
	/* A command seen after @now (clock read earlier): not expired. */
	assert_int_equal(p2pmr_nvmf_kato_expired(1000, 9000, 5000), 0);
	/* The largest KATO does not wrap. */
	assert_int_equal(p2pmr_nvmf_kato_expired(0xffffffff, 0, 0xffffffffull),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_ctrl),
		cmocka_unit_test(test_ns_list),
		cmocka_unit_test(test_get_log),
		cmocka_unit_test(test_disc_log),
		cmocka_unit_test(test_num_queues),
		cmocka_unit_test(test_regs),
		cmocka_unit_test(test_rw),
		cmocka_unit_test(test_cqe_status),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_kato),
	};

	return cmocka_run_group_tests_name("nvmf-admin", tests, NULL, NULL);
}
