/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NVMe over Fabrics wire formats for the p2pmr-nvmf target: command
 * capsules, SGL descriptors, Connect and Property Get/Set.  Pure parsers
 * over untrusted bytes from the network: no allocation, no I/O, no global
 * state, safe from any thread.  They run under libFuzzer on the host
 * (tests/unit/fuzz/fuzz_nvmf.c).
 *
 * Return convention: 0 when the input is acceptable; a positive NVMe
 * status (SCT << 8 | SC, the value the target puts in the completion,
 * DNR set by the caller) when the command must be refused; a negative
 * errno only for what has no NVMe status (a capsule too short to carry a
 * command identifier).  References: NVMe over Fabrics 1.1 (3.3 capsules,
 * 3.5 fabrics commands), NVMe base 1.4 (4.4 SGLs, 3.1 properties).
 */
#ifndef P2PMR_NVMF_H
#define P2PMR_NVMF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define P2PMR_NVMF_CAPSULE_SIZE	64	/* command capsule without data */
#define P2PMR_NVMF_CONNECT_DATA	1024	/* Connect's data */
#define P2PMR_NVMF_NQN_SIZE	256	/* NQN field, NUL terminated */
#define P2PMR_NVMF_OPC_FABRICS	0x7f

/* Fabrics command types (FCTYPE, byte 4 of a fabrics capsule). */
enum {
	P2PMR_NVMF_PROP_SET	= 0x00,
	P2PMR_NVMF_CONNECT	= 0x01,
	P2PMR_NVMF_PROP_GET	= 0x04,
	P2PMR_NVMF_AUTH_SEND	= 0x05,
	P2PMR_NVMF_AUTH_RECV	= 0x06,
	P2PMR_NVMF_DISCONNECT	= 0x08,
};

/* Statuses the parsers return (SCT << 8 | SC). */
enum {
	P2PMR_NVMF_SC_INVALID_OPCODE	= 0x001,
	P2PMR_NVMF_SC_INVALID_FIELD	= 0x002,
	P2PMR_NVMF_SC_SGL_INVALID_DATA	= 0x00f,	/* data SGL length */
	P2PMR_NVMF_SC_SGL_INVALID_TYPE	= 0x011,
	P2PMR_NVMF_SC_SGL_INVALID_OFFSET = 0x016,
	P2PMR_NVMF_SC_CONNECT_FORMAT	= 0x180,	/* incompatible format */
	P2PMR_NVMF_SC_CONNECT_INVALID	= 0x182,	/* invalid parameters */
	P2PMR_NVMF_SC_CONNECT_HOST	= 0x184,	/* invalid host */
};

/* SGL descriptor types (upper nibble of byte 15) and subtypes. */
enum {
	P2PMR_NVMF_SGL_DATA		= 0x0,	/* data block */
	P2PMR_NVMF_SGL_KEYED		= 0x4,	/* keyed data block */
	P2PMR_NVMF_SGL_SUB_ADDRESS	= 0x0,
	P2PMR_NVMF_SGL_SUB_OFFSET	= 0x1,	/* in-capsule data */
	P2PMR_NVMF_SGL_SUB_INVALIDATE	= 0xf,	/* keyed: invalidate key */
};

/**
 * struct p2pmr_nvmf_sgl - A decoded data SGL descriptor.
 * @type: P2PMR_NVMF_SGL_KEYED or P2PMR_NVMF_SGL_DATA
 * @subtype: P2PMR_NVMF_SGL_SUB_*
 * @addr: keyed: the host's remote address; in-capsule: offset in the data
 * @length: bytes (keyed: 24 bits on the wire)
 * @key: keyed: the remote key
 * @invalidate: keyed: the host asks the target to invalidate @key
 */
struct p2pmr_nvmf_sgl {
	uint8_t type;
	uint8_t subtype;
	uint64_t addr;
	uint32_t length;
	uint32_t key;
	int invalidate;
};

/**
 * p2pmr_nvmf_sgl_parse() - Decode the data SGL descriptor of a capsule.
 * @d: the 16 bytes of DPTR (capsule bytes 24-39)
 * @sgl: receives the descriptor
 *
 * Accepted: keyed data blocks (subtype address or invalidate) and data
 * blocks with the offset subtype (in-capsule data).  As Linux's nvmet: any
 * other subtype is Invalid Field, any other type SGL Descriptor Type
 * Invalid.
 *
 * Return: 0, P2PMR_NVMF_SC_INVALID_FIELD or P2PMR_NVMF_SC_SGL_INVALID_TYPE.
 */
int p2pmr_nvmf_sgl_parse(const uint8_t d[16], struct p2pmr_nvmf_sgl *sgl);

/**
 * struct p2pmr_nvmf_limits - What the target accepts.
 * @max_data: the largest data transfer of one command, bytes (MDTS)
 * @inline_size: in-capsule data bytes the queue takes (0: none)
 */
struct p2pmr_nvmf_limits {
	uint32_t max_data;
	uint32_t inline_size;
};

/**
 * struct p2pmr_nvmf_cmd - A command capsule, decoded.
 * @opc: opcode
 * @flags: FUSE and PSDT byte
 * @cid: command identifier (valid whenever the capsule had 64 bytes, so
 *	that even a refused command can be completed)
 * @nsid: namespace id (not for fabrics commands)
 * @fctype: fabrics command type, when @opc is P2PMR_NVMF_OPC_FABRICS
 * @sgl: the data SGL
 * @raw: the 64 bytes as received
 */
struct p2pmr_nvmf_cmd {
	uint8_t opc;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint8_t fctype;
	struct p2pmr_nvmf_sgl sgl;
	uint8_t raw[P2PMR_NVMF_CAPSULE_SIZE];
};

/**
 * p2pmr_nvmf_capsule_parse() - Decode and check a command capsule.
 * @buf: the bytes received
 * @len: their number: 64, plus in-capsule data
 * @lim: the queue's limits
 * @cmd: receives the command (its @cid even when the capsule is refused)
 *
 * Checks: no fused operation; PSDT selects SGLs (fabrics carry no PRPs);
 * the SGL parses; a keyed SGL moves at most @lim->max_data; in-capsule
 * data lies inside what arrived and inside @lim->inline_size.
 *
 * Return: 0; -EMSGSIZE @len < 64 (no command identifier to answer);
 * P2PMR_NVMF_SC_INVALID_FIELD (fused, PRPs, in-capsule data that the
 * queue does not take), P2PMR_NVMF_SC_SGL_INVALID_DATA (over
 * @lim->max_data), P2PMR_NVMF_SC_SGL_INVALID_OFFSET (in-capsule data
 * beyond what arrived), or the statuses of p2pmr_nvmf_sgl_parse().
 */
int p2pmr_nvmf_capsule_parse(const void *buf, size_t len,
			     const struct p2pmr_nvmf_limits *lim,
			     struct p2pmr_nvmf_cmd *cmd);

/**
 * struct p2pmr_nvmf_connect - A Connect command and its data.
 * @recfmt: record format (0)
 * @qid: queue id: 0 admin, else I/O
 * @sqsize: submission queue size, 0's based
 * @cattr: connect attributes
 * @kato: keep alive timeout, ms (admin queue)
 * @hostid: host identifier
 * @cntlid: 0xffff for the admin queue (dynamic), the controller's id for
 *	an I/O queue
 * @subnqn: subsystem NQN, NUL terminated
 * @hostnqn: host NQN, NUL terminated
 */
struct p2pmr_nvmf_connect {
	uint16_t recfmt;
	uint16_t qid;
	uint16_t sqsize;
	uint8_t cattr;
	uint32_t kato;
	uint8_t hostid[16];
	uint16_t cntlid;
	char subnqn[P2PMR_NVMF_NQN_SIZE];
	char hostnqn[P2PMR_NVMF_NQN_SIZE];
};

/* Dword 0 of a Connect Invalid Parameters completion: where the bad field
 * is (IATTR 1: in the data, 0: in the command; IPO: its byte offset). */
#define P2PMR_NVMF_IPO_DATA(off)	(1u << 16 | (off))
#define P2PMR_NVMF_IPO_SQE(off)		(off)

/**
 * p2pmr_nvmf_connect_parse() - Decode and check Connect.
 * @cmd: a parsed capsule with fctype Connect
 * @data: its data (1024 bytes expected)
 * @len: bytes of @data
 * @c: receives the command
 * @result: receives dword 0 of the completion for Invalid Parameters
 *
 * Checks what needs no subsystem state: the data is 1024 bytes; RECFMT 0;
 * both NQNs NUL terminated within their 256 bytes and not empty; SQSIZE
 * not 0; the admin queue asks for a dynamic controller (cntlid 0xffff),
 * an I/O queue names one (not 0xffff).  Which subsystem, host and
 * controller exist is the caller's (p2pmr_nvmf_connect_check()).
 *
 * Return: 0; P2PMR_NVMF_SC_INVALID_FIELD not a Connect;
 * P2PMR_NVMF_SC_SGL_INVALID_DATA data of another length;
 * P2PMR_NVMF_SC_CONNECT_FORMAT; P2PMR_NVMF_SC_CONNECT_INVALID with
 * @result set.
 */
int p2pmr_nvmf_connect_parse(const struct p2pmr_nvmf_cmd *cmd,
			     const void *data, size_t len,
			     struct p2pmr_nvmf_connect *c, uint32_t *result);

/**
 * struct p2pmr_nvmf_subsys - What p2pmr_nvmf_connect_check() checks against.
 * @nqn: the subsystem's NQN
 * @hosts: NQNs allowed to connect; NULL-terminated list
 * @allow_any_host: non-zero: any host NQN may connect
 * @max_admin_sqsize: largest admin SQSIZE (0's based, e.g. 31)
 * @max_io_sqsize: largest I/O SQSIZE (0's based; MQES)
 * @max_qid: largest I/O queue id
 */
struct p2pmr_nvmf_subsys {
	const char *nqn;
	const char *const *hosts;
	int allow_any_host;
	uint16_t max_admin_sqsize;
	uint16_t max_io_sqsize;
	uint16_t max_qid;
};

/**
 * p2pmr_nvmf_connect_check() - A parsed Connect against the subsystem.
 * @c: from p2pmr_nvmf_connect_parse()
 * @s: the subsystem
 * @result: receives dword 0 for Invalid Parameters
 *
 * Return: 0; P2PMR_NVMF_SC_CONNECT_INVALID (another subsystem NQN, qid
 * over @s->max_qid, SQSIZE over the limit) with @result set;
 * P2PMR_NVMF_SC_CONNECT_HOST a host not in @s->hosts.
 */
int p2pmr_nvmf_connect_check(const struct p2pmr_nvmf_connect *c,
			     const struct p2pmr_nvmf_subsys *s,
			     uint32_t *result);

/* Controller properties (NVMe base 1.4 3.1) fabrics expose. */
enum {
	P2PMR_NVMF_PROP_CAP	= 0x00,		/* 8 bytes, read only */
	P2PMR_NVMF_PROP_VS	= 0x08,		/* 4 bytes, read only */
	P2PMR_NVMF_PROP_CC	= 0x14,		/* 4 bytes */
	P2PMR_NVMF_PROP_CSTS	= 0x1c,		/* 4 bytes, read only */
};

/**
 * struct p2pmr_nvmf_prop - A Property Get or Set.
 * @set: 1 for Set
 * @size: 4 or 8 bytes
 * @offset: the property
 * @value: Set: the value (4-byte properties: the low 32 bits)
 */
struct p2pmr_nvmf_prop {
	int set;
	uint8_t size;
	uint32_t offset;
	uint64_t value;
};

/**
 * p2pmr_nvmf_prop_parse() - Decode and check Property Get/Set.
 * @cmd: a parsed capsule with fctype Property Get or Set
 * @p: receives the request
 *
 * Accepted: Get of CAP (8 bytes), VS, CC, CSTS (4 bytes); Set of CC (4
 * bytes).  Anything else, a size other than the property's, or reserved
 * ATTRIB bits set, is Invalid Field.
 *
 * Return: 0 or P2PMR_NVMF_SC_INVALID_FIELD.
 */
int p2pmr_nvmf_prop_parse(const struct p2pmr_nvmf_cmd *cmd,
			  struct p2pmr_nvmf_prop *p);

#ifdef __cplusplus
}
#endif

#endif
