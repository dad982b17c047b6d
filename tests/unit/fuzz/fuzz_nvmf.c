// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the NVMe-oF parsers (userspace/nvmf) on arbitrary
 * capsules.  The input is a capsule (64 bytes and in-capsule data); its
 * last 1024 bytes double as Connect data.  Invariants: an accepted keyed
 * SGL moves at most max_data, accepted in-capsule data lies inside what
 * arrived and inside inline_size; every status is one the header names;
 * an accepted Connect has NUL-terminated, non-empty NQNs and a non-zero
 * SQSIZE; an accepted property is one of the four, with its size; Get
 * Log Page fills no more than asked and the buffer holds, an accepted
 * Read/Write lies inside the namespace with the SGL's length, Number of
 * Queues grants at most the maximum.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2pmr-nvmf.h"

static void status_ok(int st)
{
	switch (st) {
	case 0:
	case P2PMR_NVMF_SC_INVALID_FIELD:
	case P2PMR_NVMF_SC_SGL_INVALID_DATA:
	case P2PMR_NVMF_SC_SGL_INVALID_TYPE:
	case P2PMR_NVMF_SC_SGL_INVALID_OFFSET:
	case P2PMR_NVMF_SC_CONNECT_FORMAT:
	case P2PMR_NVMF_SC_CONNECT_INVALID:
	case P2PMR_NVMF_SC_CONNECT_HOST:
	case P2PMR_NVMF_SC_LBA_RANGE:
		return;
	}
	abort();
}

static void nqn_ok(const char *s)
{
	size_t n = strnlen(s, P2PMR_NVMF_NQN_SIZE);

	if (!n || n == P2PMR_NVMF_NQN_SIZE)
		abort();
}

/* The target's command logic (nvmf/admin.c) on an accepted capsule. */
static void admin_io(const struct p2pmr_nvmf_cmd *cmd)
{
	static uint8_t log[8192];
	struct p2pmr_nvmf_get_log g;
	struct p2pmr_nvmf_rw rw;
	uint32_t dw0, cdw11;
	int st;

	st = p2pmr_nvmf_get_log_parse(cmd, log, sizeof(log), &g);
	status_ok(st);
	if (!st && (g.len > sizeof(log) || g.len != cmd->sgl.length ||
		    g.offset >= 512))
		abort();
	{
		static const struct p2pmr_nvmf_disc_entry e = {
			.subnqn = "nqn.2026-12.org.p2pmr:sub0",
			.traddr = "192.0.2.2", .trsvcid = "4420", .portid = 1,
			.asqsz = 32,
		};

		st = p2pmr_nvmf_disc_log(cmd, log, sizeof(log), &e, 1, 1, &g);
		status_ok(st);
		if (!st && (g.len > sizeof(log) || g.len != cmd->sgl.length ||
			    g.offset >= 2048 || g.offset % 4))
			abort();
	}
	st = p2pmr_nvmf_rw_parse(cmd, 131072, 512, &rw);
	status_ok(st);
	if (!st && (rw.slba + rw.nlb > 131072 || rw.bytes != cmd->sgl.length))
		abort();
	memcpy(&cdw11, cmd->raw + 44, 4);
	st = p2pmr_nvmf_num_queues(cdw11, 4, &dw0);
	status_ok(st);
	if (!st && ((dw0 & 0xffff) > 3 || dw0 >> 16 != (dw0 & 0xffff)))
		abort();
}

/* The input as a host string in a log line: bounded, printable only. */
static void log_string(const uint8_t *buf, size_t size)
{
	char out[P2PMR_NVMF_LOG_STR];
	size_t n, i;

	n = strlen(p2pmr_nvmf_escape(out, (size % sizeof(out)) + 1, buf,
				     size));
	if (n > size % sizeof(out))
		abort();
	for (i = 0; i < n; i++)
		if (out[i] < 0x20 || out[i] > 0x7e || out[i] == '\'')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const hosts[] = { "nqn.host", NULL };
	const struct p2pmr_nvmf_subsys s = {
		.nqn = "nqn.sub", .hosts = hosts, .max_admin_sqsize = 31,
		.max_io_sqsize = 127, .max_qid = 4,
	};
	/* Inline size from the input's length: both branches get fuzzed. */
	const struct p2pmr_nvmf_limits lim = {
		.max_data = 128 * 1024, .inline_size = size & 1 ? 4096 : 0,
	};
	struct p2pmr_nvmf_connect c;
	struct p2pmr_nvmf_cmd cmd;
	struct p2pmr_nvmf_prop p;
	uint8_t *buf;
	uint32_t res;
	int st;

	/* A copy of exactly @size bytes: ASan sees any overread. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	log_string(buf, size);
	st = p2pmr_nvmf_capsule_parse(buf, size, &lim, &cmd);
	if (st == -EMSGSIZE) {
		if (size >= P2PMR_NVMF_CAPSULE_SIZE)
			abort();
		goto out;
	}
	status_ok(st);
	if (st)
		goto out;
	if (cmd.sgl.type == P2PMR_NVMF_SGL_KEYED &&
	    cmd.sgl.length > lim.max_data)
		abort();
	if (cmd.sgl.type == P2PMR_NVMF_SGL_DATA && cmd.sgl.length &&
	    (cmd.sgl.addr + cmd.sgl.length > lim.inline_size ||
	     cmd.sgl.addr + cmd.sgl.length > size - P2PMR_NVMF_CAPSULE_SIZE))
		abort();
	if (cmd.opc != P2PMR_NVMF_OPC_FABRICS) {
		admin_io(&cmd);
		goto out;
	}
	if (cmd.fctype == P2PMR_NVMF_CONNECT &&
	    size >= P2PMR_NVMF_CAPSULE_SIZE + P2PMR_NVMF_CONNECT_DATA) {
		const uint8_t *d = buf + size - P2PMR_NVMF_CONNECT_DATA;

		st = p2pmr_nvmf_connect_parse(&cmd, d, P2PMR_NVMF_CONNECT_DATA,
					      &c, &res);
		status_ok(st);
		if (!st) {
			nqn_ok(c.subnqn);
			nqn_ok(c.hostnqn);
			if (!c.sqsize || (c.qid == 0) != (c.cntlid == 0xffff))
				abort();
			st = p2pmr_nvmf_connect_check(&c, &s, &res);
			status_ok(st);
			if (!st && (strcmp(c.subnqn, s.nqn) ||
				    strcmp(c.hostnqn, "nqn.host") ||
				    c.qid > s.max_qid))
				abort();
			/* The RDMA queue: the CM's qid and HSQSIZE from
			 * reserved bytes of the capsule.
			 */
			st = p2pmr_nvmf_connect_queue(&c, buf[60] & 7,
						      buf[61], &res);
			status_ok(st);
			if (!st && (c.qid != (buf[60] & 7) ||
				    c.sqsize > buf[61]))
				abort();
		}
	}
	st = p2pmr_nvmf_prop_parse(&cmd, &p);
	status_ok(st);
	if (!st && !(p.offset == P2PMR_NVMF_PROP_CAP ? p.size == 8 && !p.set :
		     p.offset == P2PMR_NVMF_PROP_CC ? p.size == 4 :
		     (p.offset == P2PMR_NVMF_PROP_VS ||
		      p.offset == P2PMR_NVMF_PROP_CSTS) && p.size == 4 &&
		     !p.set))
		abort();
out:
	free(buf);
	return 0;
}
