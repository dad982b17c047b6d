// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the NVMe-oF parsers (userspace/nvmf): SGL descriptors,
 * command capsules, Connect and its checks against a subsystem, Property
 * Get/Set.  Capsules are built byte by byte as the Linux nvme-rdma host
 * sends them (keyed SGL, PSDT 01b).
 */
#include <errno.h>

#include "unit.h"
#include "../../userspace/nvmf/p2pmr-nvmf.h"

static const struct p2pmr_nvmf_limits lim = { .max_data = 512 * 1024 };

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

/* A keyed SGL data block: address, 24-bit length, key, subtype. */
static void keyed(uint8_t *d, uint64_t addr, uint32_t len, uint32_t key,
		  uint8_t sub)
{
	put64(d, addr);
	d[8] = len;
	d[9] = len >> 8;
	d[10] = len >> 16;
	put32(d + 11, key);
	d[15] = 0x40 | sub;
}

/* A capsule with opcode @opc, cid 0x1234, PSDT 01b, a keyed SGL. */
static void capsule(uint8_t *c, uint8_t opc, uint32_t len)
{
	memset(c, 0, 64);
	c[0] = opc;
	c[1] = 0x40;
	put16(c + 2, 0x1234);
	keyed(c + 24, 0xffff888012345000ULL, len, 0xabcd, 0);
}

static void test_sgl(void **state)
{
	struct p2pmr_nvmf_sgl s;
	uint8_t d[16] = { 0 };

	(void)state;
	keyed(d, 0x1122334455667788ULL, 0xabcdef, 0x01020304, 0);
	assert_int_equal(p2pmr_nvmf_sgl_parse(d, &s), 0);
	assert_int_equal(s.type, P2PMR_NVMF_SGL_KEYED);
	assert_int_equal(s.addr, 0x1122334455667788ULL);
	assert_int_equal(s.length, 0xabcdef);
	assert_int_equal(s.key, 0x01020304);
	assert_int_equal(s.invalidate, 0);
	d[15] = 0x4f;				/* invalidate the key */
	assert_int_equal(p2pmr_nvmf_sgl_parse(d, &s), 0);
	assert_int_equal(s.invalidate, 1);
	d[15] = 0x42;				/* keyed, reserved subtype */
	assert_int_equal(p2pmr_nvmf_sgl_parse(d, &s),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	/* Data block, offset subtype: in-capsule data, 32-bit length. */
	memset(d, 0, 16);
	put64(d, 0x10);
	put32(d + 8, 0x10000);
	d[15] = 0x01;
	assert_int_equal(p2pmr_nvmf_sgl_parse(d, &s), 0);
	assert_int_equal(s.type, P2PMR_NVMF_SGL_DATA);
	assert_int_equal(s.addr, 0x10);
	assert_int_equal(s.length, 0x10000);
	d[15] = 0x00;				/* data block by address */
	assert_int_equal(p2pmr_nvmf_sgl_parse(d, &s),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	d[15] = 0x20;				/* segment: not supported */
	assert_int_equal(p2pmr_nvmf_sgl_parse(d, &s),
			 P2PMR_NVMF_SC_SGL_INVALID_TYPE);
	d[15] = 0xf0;				/* vendor specific */
	assert_int_equal(p2pmr_nvmf_sgl_parse(d, &s),
			 P2PMR_NVMF_SC_SGL_INVALID_TYPE);
}

static void test_capsule(void **state)
{
	struct p2pmr_nvmf_limits in = { .max_data = 4096, .inline_size = 8192 };
	struct p2pmr_nvmf_cmd cmd;
	uint8_t c[64 + 8192];

	(void)state;
	capsule(c, 0x02, 4096);			/* Read, 4 KiB */
	put32(c + 4, 1);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd), 0);
	assert_int_equal(cmd.opc, 0x02);
	assert_int_equal(cmd.cid, 0x1234);
	assert_int_equal(cmd.nsid, 1);
	assert_int_equal(cmd.sgl.length, 4096);
	assert_memory_equal(cmd.raw, c, 64);
	/* Too short to answer: no status, but nothing read past the end. */
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 63, &lim, &cmd),
			 -EMSGSIZE);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 0, &lim, &cmd),
			 -EMSGSIZE);
	/* Over MDTS: the data SGL length is invalid; the cid is kept. */
	capsule(c, 0x01, 512 * 1024 + 4096);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd),
			 P2PMR_NVMF_SC_SGL_INVALID_DATA);
	assert_int_equal(cmd.cid, 0x1234);
	capsule(c, 0x01, 512 * 1024);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd), 0);
	/* PRPs, fused commands: refused. */
	c[1] = 0x00;
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	c[1] = 0x41;
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	/* A command without data: keyed, length 0 (nvme-rdma's null SGL). */
	capsule(c, 0x00, 0);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd), 0);
	/* In-capsule data: refused where the queue takes none... */
	capsule(c, 0x01, 0);
	put64(c + 24, 0);
	put32(c + 32, 512);
	c[39] = 0x01;
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64 + 512, &lim, &cmd),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	/* ...accepted inside what arrived and what the queue takes... */
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64 + 512, &in, &cmd), 0);
	/* ...refused beyond what arrived, or beyond the queue's size. */
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64 + 511, &in, &cmd),
			 P2PMR_NVMF_SC_SGL_INVALID_OFFSET);
	put64(c + 24, 8192 - 256);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, sizeof(c), &in, &cmd),
			 P2PMR_NVMF_SC_SGL_INVALID_OFFSET);
	put64(c + 24, 0xffffffffffffff00ULL);	/* offset that wraps */
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, sizeof(c), &in, &cmd),
			 P2PMR_NVMF_SC_SGL_INVALID_OFFSET);
	/* A fabrics capsule: FCTYPE in byte 4, no NSID. */
	capsule(c, P2PMR_NVMF_OPC_FABRICS, 1024);
	c[4] = P2PMR_NVMF_CONNECT;
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd), 0);
	assert_int_equal(cmd.fctype, P2PMR_NVMF_CONNECT);
	assert_int_equal(cmd.nsid, 0);
}

/* Connect as nvme-rdma sends it: admin queue, 32 entries, KATO 5 s. */
static void connect_capsule(uint8_t *c, uint8_t *d, uint16_t qid,
			    uint16_t cntlid)
{
	capsule(c, P2PMR_NVMF_OPC_FABRICS, 1024);
	c[4] = P2PMR_NVMF_CONNECT;
	put16(c + 42, qid);
	put16(c + 44, 31);
	put32(c + 48, 5000);
	memset(d, 0, 1024);
	memset(d, 0xa5, 16);
	put16(d + 16, cntlid);
	strcpy((char *)d + 256, "nqn.2026-12.org.p2pmr:sub0");
	strcpy((char *)d + 512, "nqn.2014-08.org.nvmexpress:uuid:host-a");
}

static void test_connect(void **state)
{
	const char *const hosts[] = { "nqn.2014-08.org.nvmexpress:uuid:host-a",
				      NULL };
	struct p2pmr_nvmf_subsys s = {
		.nqn = "nqn.2026-12.org.p2pmr:sub0", .hosts = hosts,
		.max_admin_sqsize = 31, .max_io_sqsize = 127, .max_qid = 4,
	};
	struct p2pmr_nvmf_connect con;
	struct p2pmr_nvmf_cmd cmd;
	uint8_t c[64], d[1024];
	uint32_t res;

	(void)state;
	connect_capsule(c, d, 0, 0xffff);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd), 0);
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1024, &con, &res),
			 0);
	assert_int_equal(con.qid, 0);
	assert_int_equal(con.sqsize, 31);
	assert_int_equal(con.kato, 5000);
	assert_int_equal(con.cntlid, 0xffff);
	assert_int_equal(con.hostid[15], 0xa5);
	assert_string_equal(con.subnqn, "nqn.2026-12.org.p2pmr:sub0");
	assert_int_equal(p2pmr_nvmf_connect_check(&con, &s, &res), 0);

	/* Data of another length. */
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1023, &con, &res),
			 P2PMR_NVMF_SC_SGL_INVALID_DATA);
	/* Record format 1. */
	put16(cmd.raw + 40, 1);
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1024, &con, &res),
			 P2PMR_NVMF_SC_CONNECT_FORMAT);
	put16(cmd.raw + 40, 0);
	/* A subsystem NQN filling all 256 bytes, no NUL: invalid, where. */
	memset(d + 256, 'x', 256);
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1024, &con, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	assert_int_equal(res, 1u << 16 | 256);
	connect_capsule(c, d, 0, 0xffff);
	d[512] = 0;				/* empty host NQN */
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1024, &con, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	assert_int_equal(res, 1u << 16 | 512);
	/* SQSIZE 0; admin queue naming a controller; I/O queue not. */
	connect_capsule(c, d, 0, 0xffff);
	put16(cmd.raw + 44, 0);
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1024, &con, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	assert_int_equal(res, 44);
	put16(cmd.raw + 44, 31);
	put16(d + 16, 1);
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1024, &con, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	assert_int_equal(res, 1u << 16 | 16);
	put16(cmd.raw + 42, 1);			/* I/O queue 1, controller 1 */
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1024, &con, &res),
			 0);
	put16(d + 16, 0xffff);
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1024, &con, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	/* Not a Connect at all. */
	cmd.raw[4] = cmd.fctype = P2PMR_NVMF_PROP_GET;
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1024, &con, &res),
			 P2PMR_NVMF_SC_INVALID_FIELD);

	/* Against the subsystem. */
	connect_capsule(c, d, 0, 0xffff);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd), 0);
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1024, &con, &res),
			 0);
	strcpy(con.subnqn, "nqn.2026-12.org.p2pmr:other");
	assert_int_equal(p2pmr_nvmf_connect_check(&con, &s, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	assert_int_equal(res, 1u << 16 | 256);
	strcpy(con.subnqn, s.nqn);
	con.sqsize = 32;			/* admin queue over 32 */
	assert_int_equal(p2pmr_nvmf_connect_check(&con, &s, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	assert_int_equal(res, 44);
	con.qid = 5;				/* over max_qid */
	assert_int_equal(p2pmr_nvmf_connect_check(&con, &s, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	assert_int_equal(res, 42);
	con.qid = 4;
	con.sqsize = 127;
	assert_int_equal(p2pmr_nvmf_connect_check(&con, &s, &res), 0);
	con.sqsize = 128;
	assert_int_equal(p2pmr_nvmf_connect_check(&con, &s, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	con.sqsize = 1;
	strcpy(con.hostnqn, "nqn.2014-08.org.nvmexpress:uuid:host-b");
	assert_int_equal(p2pmr_nvmf_connect_check(&con, &s, &res),
			 P2PMR_NVMF_SC_CONNECT_HOST);
	assert_int_equal(res, 1u << 16 | 512);
	s.allow_any_host = 1;
	assert_int_equal(p2pmr_nvmf_connect_check(&con, &s, &res), 0);
	s.allow_any_host = 0;
	s.hosts = NULL;				/* no host at all */
	assert_int_equal(p2pmr_nvmf_connect_check(&con, &s, &res),
			 P2PMR_NVMF_SC_CONNECT_HOST);
}

/* A Connect against the RDMA queue it came on (CM qid and HSQSIZE). */
static void test_connect_queue(void **state)
{
	struct p2pmr_nvmf_connect con;
	struct p2pmr_nvmf_cmd cmd;
	uint8_t c[64], d[1024];
	uint32_t res;

	(void)state;
	/* I/O queue 2 of controller 1, SQSIZE 127 (MQES). */
	connect_capsule(c, d, 2, 1);
	put16(c + 44, 127);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd), 0);
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1024, &con, &res),
			 0);
	/* The CM's HSQSIZE as large, or larger: fine. */
	assert_int_equal(p2pmr_nvmf_connect_queue(&con, 2, 127, &res), 0);
	assert_int_equal(res, 0);
	/* Another queue id than the CM's: IPO of QID. */
	assert_int_equal(p2pmr_nvmf_connect_queue(&con, 1, 127, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	assert_int_equal(res, 42);
	/* SQSIZE over the HSQSIZE the queue was accepted with (fewer
	 * receives posted than commands the host may send): IPO of SQSIZE.
	 */
	assert_int_equal(p2pmr_nvmf_connect_queue(&con, 2, 126, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	assert_int_equal(res, 44);
	assert_int_equal(p2pmr_nvmf_connect_queue(&con, 2, 31, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	assert_int_equal(res, 44);
	/* The admin queue alike. */
	connect_capsule(c, d, 0, 0xffff);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd), 0);
	assert_int_equal(p2pmr_nvmf_connect_parse(&cmd, d, 1024, &con, &res),
			 0);
	assert_int_equal(p2pmr_nvmf_connect_queue(&con, 0, 31, &res), 0);
	assert_int_equal(p2pmr_nvmf_connect_queue(&con, 0, 15, &res),
			 P2PMR_NVMF_SC_CONNECT_INVALID);
	assert_int_equal(res, 44);
}

static int prop(uint8_t fctype, uint8_t attrib, uint32_t off, uint64_t val,
		struct p2pmr_nvmf_prop *p)
{
	struct p2pmr_nvmf_cmd cmd;
	uint8_t c[64];

	capsule(c, P2PMR_NVMF_OPC_FABRICS, 0);
	c[4] = fctype;
	c[40] = attrib;
	put32(c + 44, off);
	put64(c + 48, val);
	assert_int_equal(p2pmr_nvmf_capsule_parse(c, 64, &lim, &cmd), 0);
	return p2pmr_nvmf_prop_parse(&cmd, p);
}

static void test_prop(void **state)
{
	struct p2pmr_nvmf_prop p;

	(void)state;
	assert_int_equal(prop(P2PMR_NVMF_PROP_GET, 1, 0x00, 0, &p), 0);
	assert_int_equal(p.size, 8);
	assert_int_equal(p.set, 0);
	assert_int_equal(prop(P2PMR_NVMF_PROP_GET, 0, 0x08, 0, &p), 0);
	assert_int_equal(prop(P2PMR_NVMF_PROP_GET, 0, 0x1c, 0, &p), 0);
	assert_int_equal(prop(P2PMR_NVMF_PROP_GET, 0, 0x14, 0, &p), 0);
	assert_int_equal(prop(P2PMR_NVMF_PROP_SET, 0, 0x14,
			      0xdeadbeef00460001ULL, &p), 0);
	assert_int_equal(p.set, 1);
	assert_int_equal(p.value, 0x00460001);	/* 4 bytes only */
	/* Wrong sizes, read-only properties, unknown ones, reserved bits. */
	assert_int_equal(prop(P2PMR_NVMF_PROP_GET, 0, 0x00, 0, &p),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	assert_int_equal(prop(P2PMR_NVMF_PROP_GET, 1, 0x08, 0, &p),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	assert_int_equal(prop(P2PMR_NVMF_PROP_SET, 1, 0x14, 0, &p),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	assert_int_equal(prop(P2PMR_NVMF_PROP_SET, 0, 0x1c, 0, &p),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	assert_int_equal(prop(P2PMR_NVMF_PROP_SET, 1, 0x00, 0, &p),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	assert_int_equal(prop(P2PMR_NVMF_PROP_GET, 0, 0x24, 0, &p),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	assert_int_equal(prop(P2PMR_NVMF_PROP_GET, 2, 0x14, 0, &p),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	assert_int_equal(prop(P2PMR_NVMF_PROP_GET, 0x81, 0x00, 0, &p),
			 P2PMR_NVMF_SC_INVALID_FIELD);
	assert_int_equal(prop(P2PMR_NVMF_CONNECT, 0, 0x14, 0, &p),
			 P2PMR_NVMF_SC_INVALID_FIELD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sgl),
		cmocka_unit_test(test_capsule),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_connect_queue),
		cmocka_unit_test(test_prop),
	};

	return cmocka_run_group_tests_name("nvmf", tests, NULL, NULL);
}
