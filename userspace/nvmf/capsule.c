// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * NVMe-oF command capsules, SGL descriptors, Connect and Property Get/Set:
 * parsers over bytes from the network.  Every field is read with explicit
 * little-endian loads from a bounded buffer; nothing is trusted.
 */
#include <errno.h>
#include <string.h>

#include "p2pmr-nvmf.h"

static uint16_t le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Capsule layout (NVMe-oF 1.1 figure 19, base 1.4 figure 105). */
#define CAP_FLAGS	1
#define CAP_CID		2
#define CAP_NSID	4	/* fabrics: FCTYPE in byte 4 */
#define CAP_DPTR	24
#define PSDT_MASK	0xc0
#define PSDT_PRP	0x00
#define FUSE_MASK	0x03

/* Connect (NVMe-oF 1.1 figures 20, 21), relative to the capsule/data. */
#define CON_RECFMT	40
#define CON_QID		42
#define CON_SQSIZE	44
#define CON_CATTR	46
#define CON_KATO	48
#define DATA_HOSTID	0
#define DATA_CNTLID	16
#define DATA_SUBNQN	256
#define DATA_HOSTNQN	512

/* Property Get/Set (NVMe-oF 1.1 figures 32, 35). */
#define PROP_ATTRIB	40
#define PROP_OFFSET	44
#define PROP_VALUE	48

int p2pmr_nvmf_sgl_parse(const uint8_t d[16], struct p2pmr_nvmf_sgl *sgl)
{
	memset(sgl, 0, sizeof(*sgl));
	sgl->type = d[15] >> 4;
	sgl->subtype = d[15] & 0xf;
	sgl->addr = le64(d);
	switch (sgl->type) {
	case P2PMR_NVMF_SGL_KEYED:
		/* 24-bit length, then the 32-bit key. */
		sgl->length = d[8] | d[9] << 8 | d[10] << 16;
		sgl->key = le32(d + 11);
		if (sgl->subtype == P2PMR_NVMF_SGL_SUB_INVALIDATE)
			sgl->invalidate = 1;
		else if (sgl->subtype != P2PMR_NVMF_SGL_SUB_ADDRESS)
			return P2PMR_NVMF_SC_INVALID_FIELD;
		return 0;
	case P2PMR_NVMF_SGL_DATA:
		sgl->length = le32(d + 8);
		if (sgl->subtype != P2PMR_NVMF_SGL_SUB_OFFSET)
			return P2PMR_NVMF_SC_INVALID_FIELD;
		return 0;
	}
	return P2PMR_NVMF_SC_SGL_INVALID_TYPE;
}

int p2pmr_nvmf_capsule_parse(const void *buf, size_t len,
			     const struct p2pmr_nvmf_limits *lim,
			     struct p2pmr_nvmf_cmd *cmd)
{
	const uint8_t *b = buf;
	int st;

	memset(cmd, 0, sizeof(*cmd));
	if (len < P2PMR_NVMF_CAPSULE_SIZE)
		return -EMSGSIZE;
	memcpy(cmd->raw, b, P2PMR_NVMF_CAPSULE_SIZE);
	cmd->opc = b[0];
	cmd->flags = b[CAP_FLAGS];
	cmd->cid = le16(b + CAP_CID);
	if (cmd->opc == P2PMR_NVMF_OPC_FABRICS)
		cmd->fctype = b[CAP_NSID];
	else
		cmd->nsid = le32(b + CAP_NSID);
	/* Fabrics carry SGLs only, and no fused operations here. */
	if ((cmd->flags & PSDT_MASK) == PSDT_PRP || (cmd->flags & FUSE_MASK))
		return P2PMR_NVMF_SC_INVALID_FIELD;
	st = p2pmr_nvmf_sgl_parse(b + CAP_DPTR, &cmd->sgl);
	if (st)
		return st;
	if (cmd->sgl.type == P2PMR_NVMF_SGL_KEYED)
		return cmd->sgl.length > lim->max_data ?
			P2PMR_NVMF_SC_SGL_INVALID_DATA : 0;
	/* In-capsule data: only where the queue takes it, inside it. */
	if (!cmd->sgl.length)
		return 0;
	if (!lim->inline_size)
		return P2PMR_NVMF_SC_INVALID_FIELD;
	if (cmd->sgl.addr > lim->inline_size ||
	    cmd->sgl.length > lim->inline_size - cmd->sgl.addr ||
	    cmd->sgl.addr + cmd->sgl.length > len - P2PMR_NVMF_CAPSULE_SIZE)
		return P2PMR_NVMF_SC_SGL_INVALID_OFFSET;
	return 0;
}

/* An NQN field: NUL terminated inside its 256 bytes, not empty. */
static int nqn_ok(const uint8_t *f, char *out)
{
	const uint8_t *nul = memchr(f, 0, P2PMR_NVMF_NQN_SIZE);

	if (!nul || nul == f)
		return 0;
	memcpy(out, f, nul - f + 1);
	return 1;
}

int p2pmr_nvmf_connect_parse(const struct p2pmr_nvmf_cmd *cmd,
			     const void *data, size_t len,
			     struct p2pmr_nvmf_connect *c, uint32_t *result)
{
	const uint8_t *b = cmd->raw, *d = data;

	memset(c, 0, sizeof(*c));
	*result = 0;
	if (cmd->opc != P2PMR_NVMF_OPC_FABRICS ||
	    cmd->fctype != P2PMR_NVMF_CONNECT)
		return P2PMR_NVMF_SC_INVALID_FIELD;
	if (len != P2PMR_NVMF_CONNECT_DATA ||
	    cmd->sgl.length != P2PMR_NVMF_CONNECT_DATA)
		return P2PMR_NVMF_SC_SGL_INVALID_DATA;
	c->recfmt = le16(b + CON_RECFMT);
	c->qid = le16(b + CON_QID);
	c->sqsize = le16(b + CON_SQSIZE);
	c->cattr = b[CON_CATTR];
	c->kato = le32(b + CON_KATO);
	memcpy(c->hostid, d + DATA_HOSTID, sizeof(c->hostid));
	c->cntlid = le16(d + DATA_CNTLID);
	if (c->recfmt)
		return P2PMR_NVMF_SC_CONNECT_FORMAT;
	if (!nqn_ok(d + DATA_SUBNQN, c->subnqn)) {
		*result = P2PMR_NVMF_IPO_DATA(DATA_SUBNQN);
		return P2PMR_NVMF_SC_CONNECT_INVALID;
	}
	if (!nqn_ok(d + DATA_HOSTNQN, c->hostnqn)) {
		*result = P2PMR_NVMF_IPO_DATA(DATA_HOSTNQN);
		return P2PMR_NVMF_SC_CONNECT_INVALID;
	}
	if (!c->sqsize) {
		*result = P2PMR_NVMF_IPO_SQE(CON_SQSIZE);
		return P2PMR_NVMF_SC_CONNECT_INVALID;
	}
	/* Admin queue: a dynamic controller; I/O queue: an existing one. */
	if ((c->qid == 0) != (c->cntlid == 0xffff)) {
		*result = P2PMR_NVMF_IPO_DATA(DATA_CNTLID);
		return P2PMR_NVMF_SC_CONNECT_INVALID;
	}
	return 0;
}

int p2pmr_nvmf_connect_check(const struct p2pmr_nvmf_connect *c,
			     const struct p2pmr_nvmf_subsys *s,
			     uint32_t *result)
{
	const char *const *h;

	*result = 0;
	if (strcmp(c->subnqn, s->nqn)) {
		*result = P2PMR_NVMF_IPO_DATA(DATA_SUBNQN);
		return P2PMR_NVMF_SC_CONNECT_INVALID;
	}
	if (c->qid > s->max_qid) {
		*result = P2PMR_NVMF_IPO_SQE(CON_QID);
		return P2PMR_NVMF_SC_CONNECT_INVALID;
	}
	if (c->sqsize > (c->qid ? s->max_io_sqsize : s->max_admin_sqsize)) {
		*result = P2PMR_NVMF_IPO_SQE(CON_SQSIZE);
		return P2PMR_NVMF_SC_CONNECT_INVALID;
	}
	if (s->allow_any_host)
		return 0;
	for (h = s->hosts; h && *h; h++)
		if (!strcmp(*h, c->hostnqn))
			return 0;
	*result = P2PMR_NVMF_IPO_DATA(DATA_HOSTNQN);
	return P2PMR_NVMF_SC_CONNECT_HOST;
}

int p2pmr_nvmf_connect_ctrl(const struct p2pmr_nvmf_connect *c,
			    uint64_t connected)
{
	if (c->qid && c->qid < 64 && (connected >> c->qid & 1))
		return P2PMR_NVMF_SC_CMD_SEQ_ERROR;
	return 0;
}

int p2pmr_nvmf_connect_queue(const struct p2pmr_nvmf_connect *c,
			     uint16_t qid, uint16_t hsqsize,
			     uint32_t *result)
{
	*result = 0;
	if (c->qid != qid) {
		*result = P2PMR_NVMF_IPO_SQE(CON_QID);
		return P2PMR_NVMF_SC_CONNECT_INVALID;
	}
	if (c->sqsize > hsqsize) {
		*result = P2PMR_NVMF_IPO_SQE(CON_SQSIZE);
		return P2PMR_NVMF_SC_CONNECT_INVALID;
	}
	return 0;
}

int p2pmr_nvmf_prop_parse(const struct p2pmr_nvmf_cmd *cmd,
			  struct p2pmr_nvmf_prop *p)
{
	const uint8_t *b = cmd->raw;
	uint8_t attrib = b[PROP_ATTRIB];

	memset(p, 0, sizeof(*p));
	if (cmd->opc != P2PMR_NVMF_OPC_FABRICS ||
	    (cmd->fctype != P2PMR_NVMF_PROP_GET &&
	     cmd->fctype != P2PMR_NVMF_PROP_SET))
		return P2PMR_NVMF_SC_INVALID_FIELD;
	/* ATTRIB bits 2:0 are the size (0: 4 bytes, 1: 8), the rest reserved. */
	if (attrib > 1)
		return P2PMR_NVMF_SC_INVALID_FIELD;
	p->set = cmd->fctype == P2PMR_NVMF_PROP_SET;
	p->size = attrib ? 8 : 4;
	p->offset = le32(b + PROP_OFFSET);
	if (p->set)
		p->value = p->size == 8 ? le64(b + PROP_VALUE) :
					  le32(b + PROP_VALUE);
	switch (p->offset) {
	case P2PMR_NVMF_PROP_CAP:
		return p->size == 8 && !p->set ? 0 :
			P2PMR_NVMF_SC_INVALID_FIELD;
	case P2PMR_NVMF_PROP_VS:
	case P2PMR_NVMF_PROP_CSTS:
		return p->size == 4 && !p->set ? 0 :
			P2PMR_NVMF_SC_INVALID_FIELD;
	case P2PMR_NVMF_PROP_CC:
		return p->size == 4 ? 0 : P2PMR_NVMF_SC_INVALID_FIELD;
	}
	return P2PMR_NVMF_SC_INVALID_FIELD;
}
