// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The target's command logic that needs no device: Identify data, Get Log
 * Page, Number of Queues, the property registers, Read/Write checks.
 * Everything is built with explicit little-endian stores into the caller's
 * buffer; every input comes from the network and is checked here.
 */
#include <errno.h>
#include <string.h>

#include "p2pmr-nvmf.h"

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

static uint32_t cdw(const struct p2pmr_nvmf_cmd *cmd, int n)
{
	const uint8_t *p = cmd->raw + 4 * n;

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Identify Controller fields copied from the real controller. */
#define ID_VID		0	/* VID, SSVID, SN, MN, FR: bytes 0-71 */
#define ID_VID_END	72
#define ID_SN		4	/* serial number, 20 bytes */
#define ID_MN		24	/* model number, 40 bytes */
#define ID_MN_OWN	"p2pmr-nvmf"	/* the model without a backing drive */
#define ID_IEEE		73
#define ID_SGLS_KEYED	(1u << 2)	/* keyed SGL data block */
#define ID_SGLS_SUPP	0x1		/* SGLs, no alignment rule */
#define ID_SGLS_SAOS	(1u << 20)	/* address as offset: in-capsule */
#define NVM_WRITE	0x01		/* the Write opcode */

int p2pmr_nvmf_id_ctrl(uint8_t *out, const struct p2pmr_nvmf_id_params *p)
{
	size_t len = p->subnqn ? strnlen(p->subnqn, P2PMR_NVMF_NQN_SIZE) : 0;

	if (!len || len >= P2PMR_NVMF_NQN_SIZE)
		return -EINVAL;
	memset(out, 0, P2PMR_NVMF_ID_SIZE);
	if (p->backing) {
		memcpy(out + ID_VID, p->backing + ID_VID, ID_VID_END - ID_VID);
		memcpy(out + ID_IEEE, p->backing + ID_IEEE, 3);
	} else {
		/* SN, MN and FR are ASCII padded with spaces; VID stays 0. */
		memset(out + ID_SN, ' ', ID_VID_END - ID_SN);
		memcpy(out + ID_MN, ID_MN_OWN, sizeof(ID_MN_OWN) - 1);
	}
	out[P2PMR_NVMF_ID_MDTS] = p->mdts;
	put16(out + P2PMR_NVMF_ID_CNTLID, p->cntlid);
	put32(out + P2PMR_NVMF_ID_VER, P2PMR_NVMF_VS);
	out[P2PMR_NVMF_ID_CNTRLTYPE] = 1;		/* I/O controller */
	out[P2PMR_NVMF_ID_AERL] = p->aerl;
	put16(out + P2PMR_NVMF_ID_KAS, p->kas);
	out[P2PMR_NVMF_ID_SQES] = 0x66;			/* 64 bytes */
	out[P2PMR_NVMF_ID_CQES] = 0x44;			/* 16 bytes */
	put16(out + P2PMR_NVMF_ID_MAXCMD, p->maxcmd);
	put32(out + P2PMR_NVMF_ID_NN, p->nn);
	out[P2PMR_NVMF_ID_VWC] = 1;
	put32(out + P2PMR_NVMF_ID_SGLS, ID_SGLS_SUPP | ID_SGLS_KEYED |
	      (p->inline_size ? ID_SGLS_SAOS : 0));
	memcpy(out + P2PMR_NVMF_ID_SUBNQN, p->subnqn, len);
	put32(out + P2PMR_NVMF_ID_IOCCSZ,
	      (P2PMR_NVMF_CAPSULE_SIZE + p->inline_size) / 16);
	put32(out + P2PMR_NVMF_ID_IORCSZ, 1);	/* 16-byte completions */
	out[P2PMR_NVMF_ID_MSDBD] = 1;
	if (p->discovery) {
		out[P2PMR_NVMF_ID_CNTRLTYPE] = 2;	/* discovery */
		out[P2PMR_NVMF_ID_LPA] = 1 << 2;	/* log page offsets */
		out[P2PMR_NVMF_ID_VWC] = 0;
		put32(out + P2PMR_NVMF_ID_NN, 0);
	}
	return 0;
}

int p2pmr_nvmf_ns_list(uint8_t *out, uint32_t nsid, uint32_t nn)
{
	uint32_t id, i = 0;

	if (nsid >= 0xfffffffe)
		return P2PMR_NVMF_SC_INVALID_NS;
	memset(out, 0, P2PMR_NVMF_ID_SIZE);
	for (id = nsid + 1; id <= nn && i < P2PMR_NVMF_ID_SIZE / 4; id++, i++)
		put32(out + 4 * i, id);
	return 0;
}

/* Bytes of each log served; zeroes throughout. */
static uint32_t log_size(uint8_t lid)
{
	switch (lid) {
	case P2PMR_NVMF_LOG_ERROR:
		return 64;
	case P2PMR_NVMF_LOG_SMART:
	case P2PMR_NVMF_LOG_FW_SLOT:
		return 512;
	}
	return 0;
}

int p2pmr_nvmf_get_log_parse(const struct p2pmr_nvmf_cmd *cmd, uint8_t *out,
			     size_t cap, struct p2pmr_nvmf_get_log *g)
{
	uint32_t cdw10 = cdw(cmd, 10), cdw11 = cdw(cmd, 11);
	uint64_t numd = ((uint64_t)(cdw11 & 0xffff) << 16 | cdw10 >> 16) + 1;
	uint32_t size;

	memset(g, 0, sizeof(*g));
	g->lid = cdw10 & 0xff;
	g->offset = cdw(cmd, 12) | (uint64_t)cdw(cmd, 13) << 32;
	size = log_size(g->lid);
	if (!size || g->offset % 4 || g->offset >= size)
		return P2PMR_NVMF_SC_INVALID_FIELD;
	if (numd * 4 > cap || numd * 4 != cmd->sgl.length)
		return P2PMR_NVMF_SC_INVALID_FIELD;
	g->len = numd * 4;
	memset(out, 0, g->len);
	return 0;
}

/* Discovery log entry fields (NVMe-oF 1.1 figure 38). */
#define DISC_GENCTR	0
#define DISC_NUMREC	8
#define DISC_E_TRTYPE	0	/* 1: RDMA */
#define DISC_E_ADRFAM	1	/* 1: IPv4 */
#define DISC_E_SUBTYPE	2	/* 2: NVMe subsystem */
#define DISC_E_PORTID	4
#define DISC_E_CNTLID	6
#define DISC_E_ASQSZ	8
#define DISC_E_TRSVCID	32
#define DISC_E_SUBNQN	256
#define DISC_E_TRADDR	512
#define DISC_E_TSAS	768	/* RDMA: QPTYPE, PRTYPE, CMS */
#define DISC_MAX	8

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

/* Copy the string @s into a field of @size bytes, NUL padded. */
static int put_str(uint8_t *p, size_t size, const char *s)
{
	size_t len = s ? strnlen(s, size) : size;

	if (len >= size)
		return -1;
	memcpy(p, s, len);
	return 0;
}

int p2pmr_nvmf_disc_log(const struct p2pmr_nvmf_cmd *cmd, uint8_t *out,
			size_t cap, const struct p2pmr_nvmf_disc_entry *e,
			unsigned int n, uint64_t genctr,
			struct p2pmr_nvmf_get_log *g)
{
	uint32_t cdw10 = cdw(cmd, 10), cdw11 = cdw(cmd, 11);
	uint64_t numd = ((uint64_t)(cdw11 & 0xffff) << 16 | cdw10 >> 16) + 1;
	uint8_t log[P2PMR_NVMF_DISC_REC * (1 + DISC_MAX)];
	uint64_t size = P2PMR_NVMF_DISC_REC * (1 + (uint64_t)n), copy;
	unsigned int i;

	memset(g, 0, sizeof(*g));
	g->lid = cdw10 & 0xff;
	g->offset = cdw(cmd, 12) | (uint64_t)cdw(cmd, 13) << 32;
	if (n > DISC_MAX)
		return P2PMR_NVMF_SC_INTERNAL;
	if (g->lid != P2PMR_NVMF_LOG_DISCOVERY || g->offset % 4 ||
	    g->offset >= size)
		return P2PMR_NVMF_SC_INVALID_FIELD;
	if (numd * 4 > cap || numd * 4 != cmd->sgl.length)
		return P2PMR_NVMF_SC_INVALID_FIELD;
	g->len = numd * 4;

	memset(log, 0, size);
	put64(log + DISC_GENCTR, genctr);
	put64(log + DISC_NUMREC, n);
	for (i = 0; i < n; i++) {
		uint8_t *r = log + P2PMR_NVMF_DISC_REC * (1 + i);

		r[DISC_E_TRTYPE] = 1;
		r[DISC_E_ADRFAM] = 1;
		r[DISC_E_SUBTYPE] = 2;
		put16(r + DISC_E_PORTID, e[i].portid);
		put16(r + DISC_E_CNTLID, 0xffff);
		put16(r + DISC_E_ASQSZ, e[i].asqsz);
		if (put_str(r + DISC_E_TRSVCID, 32, e[i].trsvcid) ||
		    put_str(r + DISC_E_SUBNQN, P2PMR_NVMF_NQN_SIZE, e[i].subnqn) ||
		    put_str(r + DISC_E_TRADDR, 256, e[i].traddr))
			return P2PMR_NVMF_SC_INTERNAL;
		r[DISC_E_TSAS] = 1;		/* reliable connected */
		r[DISC_E_TSAS + 1] = 1;		/* no RDMA provider type */
		r[DISC_E_TSAS + 2] = 1;		/* RDMA_CM */
	}
	copy = size - g->offset < g->len ? size - g->offset : g->len;
	memcpy(out, log + g->offset, copy);
	memset(out + copy, 0, g->len - copy);
	return 0;
}

int p2pmr_nvmf_num_queues(uint32_t cdw11, uint16_t max, uint32_t *dw0)
{
	uint32_t nsq = (cdw11 & 0xffff) + 1, ncq = (cdw11 >> 16) + 1, n;

	*dw0 = 0;
	if (nsq > 0xffff || ncq > 0xffff || !max)
		return P2PMR_NVMF_SC_INVALID_FIELD;
	n = nsq < ncq ? nsq : ncq;
	n = n < max ? n : max;
	*dw0 = (n - 1) | (n - 1) << 16;
	return 0;
}

/* CAP fields (NVMe base 1.4 figure 69). */
#define CAP_CQR		(1ull << 16)
#define CAP_TO_SHIFT	24
#define CAP_CSS_NVM	(1ull << 37)
/* CC fields (figure 73). */
#define CC_EN		(1u << 0)
#define CC_CSS(cc)	(((cc) >> 4) & 0x7)
#define CC_MPS(cc)	(((cc) >> 7) & 0xf)
#define CC_SHN(cc)	(((cc) >> 14) & 0x3)
#define CC_IOSQES(cc)	(((cc) >> 16) & 0xf)
#define CC_IOCQES(cc)	(((cc) >> 20) & 0xf)

void p2pmr_nvmf_regs_init(struct p2pmr_nvmf_regs *r, uint16_t mqes,
			  uint8_t to)
{
	memset(r, 0, sizeof(*r));
	r->cap = mqes | CAP_CQR | (uint64_t)to << CAP_TO_SHIFT | CAP_CSS_NVM;
	r->vs = P2PMR_NVMF_VS;
}

/* A CC value a controller of 64/16-byte entries, 4 KiB pages and the NVM
 * command set can be enabled with.
 */
static int cc_valid(uint32_t cc)
{
	return CC_IOSQES(cc) == 6 && CC_IOCQES(cc) == 4 && CC_MPS(cc) == 0 &&
	       CC_CSS(cc) == 0;
}

static void cc_set(struct p2pmr_nvmf_regs *r, uint32_t cc)
{
	uint32_t old = r->cc;

	r->cc = cc;
	if ((cc & CC_EN) && !(old & CC_EN)) {
		if (cc_valid(cc))
			r->csts |= P2PMR_NVMF_CSTS_RDY;
		else
			r->csts |= P2PMR_NVMF_CSTS_CFS;
	} else if (!(cc & CC_EN) && (old & CC_EN)) {
		r->csts &= ~(P2PMR_NVMF_CSTS_RDY | P2PMR_NVMF_CSTS_SHST_MASK |
			     P2PMR_NVMF_CSTS_CFS);
	}
	/* Complete only once the caller flushed: p2pmr_nvmf_shutdown_done(). */
	if (CC_SHN(cc) && !CC_SHN(old)) {
		r->csts &= ~P2PMR_NVMF_CSTS_SHST_MASK;
		r->csts |= P2PMR_NVMF_CSTS_SHST_BUSY;
	} else if (!CC_SHN(cc) && CC_SHN(old)) {
		r->csts &= ~P2PMR_NVMF_CSTS_SHST_MASK;
	}
}

void p2pmr_nvmf_shutdown_done(struct p2pmr_nvmf_regs *r)
{
	if ((r->csts & P2PMR_NVMF_CSTS_SHST_MASK) != P2PMR_NVMF_CSTS_SHST_BUSY)
		return;
	r->csts &= ~P2PMR_NVMF_CSTS_SHST_MASK;
	r->csts |= P2PMR_NVMF_CSTS_SHST_DONE;
}

int p2pmr_nvmf_prop_exec(struct p2pmr_nvmf_regs *r,
			 const struct p2pmr_nvmf_prop *p, uint64_t *result)
{
	*result = 0;
	if (p->set) {
		cc_set(r, (uint32_t)p->value);
		return 0;
	}
	switch (p->offset) {
	case P2PMR_NVMF_PROP_CAP:
		*result = r->cap;
		break;
	case P2PMR_NVMF_PROP_VS:
		*result = r->vs;
		break;
	case P2PMR_NVMF_PROP_CC:
		*result = r->cc;
		break;
	case P2PMR_NVMF_PROP_CSTS:
		*result = r->csts;
		break;
	}
	return 0;
}

int p2pmr_nvmf_rw_parse(const struct p2pmr_nvmf_cmd *cmd, uint64_t nsze,
			uint32_t lba_size, struct p2pmr_nvmf_rw *rw)
{
	memset(rw, 0, sizeof(*rw));
	rw->slba = cdw(cmd, 10) | (uint64_t)cdw(cmd, 11) << 32;
	rw->nlb = (cdw(cmd, 12) & 0xffff) + 1;
	rw->bytes = (uint64_t)rw->nlb * lba_size;
	if (rw->slba >= nsze || rw->nlb > nsze - rw->slba)
		return P2PMR_NVMF_SC_LBA_RANGE;
	if (cmd->sgl.type == P2PMR_NVMF_SGL_DATA &&
	    cmd->opc != NVM_WRITE)
		return P2PMR_NVMF_SC_INVALID_FIELD;
	if ((cmd->sgl.type != P2PMR_NVMF_SGL_KEYED &&
	     cmd->sgl.type != P2PMR_NVMF_SGL_DATA) ||
	    cmd->sgl.length != rw->bytes)
		return P2PMR_NVMF_SC_SGL_INVALID_DATA;
	return 0;
}

#define CQE_DNR		(1u << 15)

/*
 * Whether the same command, sent again, must fail again (NVMe base 1.4
 * 4.6.1.2): what the command says (opcode, field, namespace, SGL, LBA
 * range, capacity), the controller's state towards this host (sequence,
 * access denied, compare), and the command specific statuses (Connect's
 * refusals, AER limit), as Linux's nvmet sets DNR for them.  A timed-out
 * or aborted backing command, a data transfer or internal error, a
 * namespace not ready, a transient transport error or an unknown code
 * may pass: no DNR, the host retries.
 */
static int status_dnr(uint16_t status)
{
	switch (status) {
	case P2PMR_NVMF_SC_INVALID_OPCODE:
	case P2PMR_NVMF_SC_INVALID_FIELD:
	case P2PMR_NVMF_SC_INVALID_NS:
	case P2PMR_NVMF_SC_CMD_SEQ_ERROR:
	case P2PMR_NVMF_SC_SGL_INVALID_DATA:
	case P2PMR_NVMF_SC_SGL_INVALID_TYPE:
	case P2PMR_NVMF_SC_SGL_INVALID_OFFSET:
	case P2PMR_NVMF_SC_LBA_RANGE:
	case P2PMR_NVMF_SC_CAP_EXCEEDED:
	case P2PMR_NVMF_SC_COMPARE_FAILED:
	case P2PMR_NVMF_SC_ACCESS_DENIED:
		return 1;
	}
	/* Controller busy may clear: no DNR. */
	return status >> 8 == 1 && status != P2PMR_NVMF_SC_CONNECT_BUSY;
}

uint16_t p2pmr_nvmf_cqe_status(uint16_t status)
{
	uint16_t sc = status & 0x7ff;

	if (!sc)
		return 0;
	return (uint16_t)(sc << 1 | ((status & P2PMR_NVMF_STATUS_DNR) ||
				     status_dnr(sc) ? CQE_DNR : 0));
}

int p2pmr_nvmf_kato_expired(uint32_t kato_ms, uint64_t last_ms,
			    uint64_t now_ms)
{
	uint64_t limit = ((uint64_t)kato_ms + 999) / 1000 * 1000;

	return kato_ms && now_ms > last_ms && now_ms - last_ms > limit;
}
