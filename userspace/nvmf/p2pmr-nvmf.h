/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NVMe over Fabrics wire formats for the p2pmr-nvmf target: command
 * capsules, SGL descriptors, Connect and Property Get/Set.  Pure parsers
 * over untrusted bytes from the network: no allocation, no I/O, no global
 * state, safe from any thread.  They run under libFuzzer on the host
 * (tests/unit/fuzz/fuzz_nvmf.c).
 *
 * Return convention: 0 when the input is acceptable; a positive NVMe
 * status (SCT << 8 | SC, the value the target puts in the completion;
 * p2pmr_nvmf_cqe_status() adds DNR where it belongs) when the command
 * must be refused; a negative errno only for what has no NVMe status (a
 * capsule too short to carry a command identifier).  References: NVMe over Fabrics 1.1 (3.3 capsules,
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
	P2PMR_NVMF_SC_DATA_XFER_ERROR	= 0x004,
	P2PMR_NVMF_SC_INTERNAL		= 0x006,
	P2PMR_NVMF_SC_ABORT_REQ		= 0x007,	/* command aborted */
	P2PMR_NVMF_SC_INVALID_NS	= 0x00b,
	P2PMR_NVMF_SC_CMD_SEQ_ERROR	= 0x00c,
	P2PMR_NVMF_SC_SGL_INVALID_DATA	= 0x00f,	/* data SGL length */
	P2PMR_NVMF_SC_SGL_INVALID_TYPE	= 0x011,
	P2PMR_NVMF_SC_SGL_INVALID_OFFSET = 0x016,
	P2PMR_NVMF_SC_TRANSIENT_XPORT	= 0x022,	/* transient transport */
	P2PMR_NVMF_SC_LBA_RANGE		= 0x080,
	P2PMR_NVMF_SC_CAP_EXCEEDED	= 0x081,
	P2PMR_NVMF_SC_NS_NOT_READY	= 0x082,
	P2PMR_NVMF_SC_AER_LIMIT		= 0x105,	/* SCT 1 */
	P2PMR_NVMF_SC_CONNECT_FORMAT	= 0x180,	/* incompatible format */
	P2PMR_NVMF_SC_CONNECT_BUSY	= 0x181,	/* controller busy */
	P2PMR_NVMF_SC_CONNECT_INVALID	= 0x182,	/* invalid parameters */
	P2PMR_NVMF_SC_CONNECT_HOST	= 0x184,	/* invalid host */
	P2PMR_NVMF_SC_COMPARE_FAILED	= 0x285,	/* SCT 2 */
	P2PMR_NVMF_SC_ACCESS_DENIED	= 0x286,
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

/*
 * Dword 0 of a Connect Invalid Parameters completion: where the bad field
 * is (IATTR 1: in the data, 0: in the command; IPO: its byte offset).
 */
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

/**
 * p2pmr_nvmf_connect_queue() - A parsed Connect against its RDMA queue.
 * @c: from p2pmr_nvmf_connect_parse()
 * @qid: the queue id the RDMA CM connect request carried
 * @hsqsize: the HSQSIZE it carried, which the target accepted (0's based:
 *	receive buffers posted - 1)
 * @result: receives dword 0 for Invalid Parameters
 *
 * The Connect must name the queue it came on, and its SQSIZE may not
 * exceed HSQSIZE: the host could otherwise have more commands outstanding
 * than the target posted receives for.
 *
 * Return: 0; P2PMR_NVMF_SC_CONNECT_INVALID with @result the IATTR/IPO of
 * QID or SQSIZE.
 */
int p2pmr_nvmf_connect_queue(const struct p2pmr_nvmf_connect *c,
			     uint16_t qid, uint16_t hsqsize,
			     uint32_t *result);

/**
 * p2pmr_nvmf_connect_ctrl() - An I/O queue's Connect against the queues
 *	its controller already has.
 * @c: from p2pmr_nvmf_connect_parse(), for an I/O queue (QID 1 to 63)
 * @connected: bit N set for each I/O queue N connected to the controller
 *
 * A queue ID is connected once per controller: a second Connect for one
 * that is connected, on another RDMA connection, is a Command Sequence
 * Error, as nvmet answers it (nvmet_install_queue()); the queue connected
 * first keeps working.
 *
 * Return: 0 or P2PMR_NVMF_SC_CMD_SEQ_ERROR.
 */
int p2pmr_nvmf_connect_ctrl(const struct p2pmr_nvmf_connect *c,
			    uint64_t connected);

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

/*
 * Admin and I/O command logic of the target that needs no device: the
 * Identify data it serves, Get Log Page, Set Features Number of Queues,
 * the property registers and the Read/Write checks.  Pure, as the parsers.
 */
#define P2PMR_NVMF_ID_SIZE	4096	/* Identify data */

/**
 * struct p2pmr_nvmf_id_params - What p2pmr_nvmf_id_ctrl() serves.
 * @backing: the Identify Controller data of the real controller (VID,
 *	SSVID, SN, MN, FR, IEEE OUI are copied from it), or NULL
 * @subnqn: the subsystem NQN (shorter than 256 bytes)
 * @cntlid: the controller id Connect returned
 * @mdts: maximum data transfer size, a power of two of 4 KiB pages
 * @maxcmd: commands outstanding per I/O queue
 * @nn: namespaces (the highest namespace id)
 * @kas: keep alive granularity, 100 ms units (fabrics need it non-zero)
 * @aerl: Asynchronous Event Requests outstanding, 0's based
 * @discovery: a discovery controller's data (CNTRLTYPE 2, no namespaces,
 *	no volatile write cache, Get Log Page offsets supported)
 * @inline_size: in-capsule data bytes an I/O queue's capsule may carry (a
 *	multiple of 16): IOCCSZ then counts them, and SGLS says offsets are
 *	supported (SAOS), which is what makes the Linux host send writes
 *	that fit in-capsule; 0: none
 */
struct p2pmr_nvmf_id_params {
	const uint8_t *backing;
	const char *subnqn;
	uint16_t cntlid;
	uint8_t mdts;
	uint16_t maxcmd;
	uint32_t nn;
	uint16_t kas;
	uint8_t aerl;
	int discovery;
	uint32_t inline_size;
};

/* Identify Controller offsets the target fills and its tests read
 * (NVMe base 1.4 figure 247, NVMe-oF 1.1 figure 25).
 */
enum {
	P2PMR_NVMF_ID_CMIC	= 76,
	P2PMR_NVMF_ID_MDTS	= 77,
	P2PMR_NVMF_ID_CNTLID	= 78,
	P2PMR_NVMF_ID_VER	= 80,
	P2PMR_NVMF_ID_CNTRLTYPE	= 111,
	P2PMR_NVMF_ID_AERL	= 259,
	P2PMR_NVMF_ID_LPA	= 261,
	P2PMR_NVMF_ID_KAS	= 320,
	P2PMR_NVMF_ID_SQES	= 512,
	P2PMR_NVMF_ID_CQES	= 513,
	P2PMR_NVMF_ID_MAXCMD	= 514,
	P2PMR_NVMF_ID_NN	= 516,
	P2PMR_NVMF_ID_ONCS	= 520,
	P2PMR_NVMF_ID_VWC	= 525,
	P2PMR_NVMF_ID_SGLS	= 536,
	P2PMR_NVMF_ID_SUBNQN	= 768,
	P2PMR_NVMF_ID_IOCCSZ	= 1792,
	P2PMR_NVMF_ID_IORCSZ	= 1796,
	P2PMR_NVMF_ID_ICDOFF	= 1800,
	P2PMR_NVMF_ID_MSDBD	= 1803,
};

/* The NVMe version the target reports (VS, Identify VER): 1.3.0. */
#define P2PMR_NVMF_VS		0x10300

/**
 * p2pmr_nvmf_id_ctrl() - Build the Identify Controller data of an I/O
 *	controller of the subsystem.
 * @out: receives P2PMR_NVMF_ID_SIZE bytes
 * @p: what to serve
 *
 * What the Linux host checks on fabrics: cntlid as Connect returned it,
 * subnqn, kas non-zero, ioccsz 4 (64-byte capsules, no in-capsule data;
 * more with @p->inline_size), iorcsz 1, icdoff 0, SGLs with keyed data
 * blocks (and offsets with @p->inline_size), msdbd 1; also cntrltype 1 (I/O), version 1.3, sqes/cqes,
 * vwc 1 (so the host sends Flush), oncs 0 (no Compare, DSM, Write
 * Zeroes), lpa 0 (no command effects log), cmic 0.
 *
 * Return: 0; -EINVAL @p->subnqn empty or too long.
 */
int p2pmr_nvmf_id_ctrl(uint8_t *out, const struct p2pmr_nvmf_id_params *p);

/**
 * p2pmr_nvmf_ns_list() - Build the Active Namespace ID list (CNS 2).
 * @out: receives P2PMR_NVMF_ID_SIZE bytes
 * @nsid: the list starts above this id
 * @nn: namespaces 1..@nn are active
 *
 * Return: 0; P2PMR_NVMF_SC_INVALID_NS for @nsid 0xfffffffe or above.
 */
int p2pmr_nvmf_ns_list(uint8_t *out, uint32_t nsid, uint32_t nn);

/* Log pages the target serves (all zeroes: no errors, no health data). */
enum {
	P2PMR_NVMF_LOG_ERROR	= 0x01,		/* 64 bytes an entry */
	P2PMR_NVMF_LOG_SMART	= 0x02,		/* 512 bytes */
	P2PMR_NVMF_LOG_FW_SLOT	= 0x03,		/* 512 bytes */
	P2PMR_NVMF_LOG_DISCOVERY = 0x70,	/* discovery controllers only */
};

/* The well-known NQN of the discovery subsystem (NVMe-oF 1.1 7.2). */
#define P2PMR_NVMF_DISCOVERY_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define P2PMR_NVMF_DISC_REC	1024	/* the log's header and each entry */

/**
 * struct p2pmr_nvmf_get_log - A Get Log Page command, decoded.
 * @lid: log page identifier
 * @offset: byte offset in the log (LPO)
 * @len: bytes asked for ((NUMDU:NUMDL + 1) * 4)
 */
struct p2pmr_nvmf_get_log {
	uint8_t lid;
	uint64_t offset;
	uint32_t len;
};

/**
 * p2pmr_nvmf_get_log_parse() - Decode Get Log Page and build the data.
 * @cmd: a parsed capsule with opcode 0x02
 * @out: receives @g->len bytes
 * @cap: room in @out
 * @g: receives the request
 *
 * Error, SMART and firmware slot logs are served as zeroes (the error log
 * is one entry of 64 bytes; what lies past a log reads as zeroes, as the
 * specification allows).  An unknown log, an offset past the log or not
 * dword aligned, a length over @cap or other than the SGL's: Invalid
 * Field.
 *
 * Return: 0 or P2PMR_NVMF_SC_INVALID_FIELD.
 */
int p2pmr_nvmf_get_log_parse(const struct p2pmr_nvmf_cmd *cmd, uint8_t *out,
			     size_t cap, struct p2pmr_nvmf_get_log *g);

/**
 * struct p2pmr_nvmf_disc_entry - A subsystem port in the discovery log.
 * @subnqn: the subsystem's NQN (shorter than 256 bytes)
 * @traddr: its IPv4 address as text (shorter than 256 bytes)
 * @trsvcid: its port number as text (shorter than 32 bytes)
 * @portid: the port's id
 * @asqsz: the admin queue entries a host may ask for
 */
struct p2pmr_nvmf_disc_entry {
	const char *subnqn;
	const char *traddr;
	const char *trsvcid;
	uint16_t portid;
	uint16_t asqsz;
};

/**
 * p2pmr_nvmf_disc_log() - Decode Get Log Page on a discovery controller
 *	and build the discovery log (LID 0x70).
 * @cmd: a parsed capsule with opcode 0x02
 * @out: receives @g->len bytes
 * @cap: room in @out
 * @e: the log's entries, one per subsystem port the host may use
 * @n: how many (at most 8)
 * @genctr: the generation counter, which changes when the entries do
 * @g: receives the request
 *
 * The log (NVMe-oF 1.1 5.3): a 1024-byte header (GENCTR, NUMREC, RECFMT 0),
 * then one 1024-byte entry per port: RDMA transport, IPv4, an NVMe
 * subsystem, dynamic controllers (CNTLID 0xffff), RDMA_CM with reliable
 * connected QPs, as nvmet describes an RDMA port.  Bytes past the log read
 * as zeroes.  Another log, an offset past the log or not dword aligned, a
 * length over @cap or other than the SGL's: Invalid Field.
 *
 * Return: 0, P2PMR_NVMF_SC_INVALID_FIELD, or P2PMR_NVMF_SC_INTERNAL for
 * an entry whose strings do not fit.
 */
int p2pmr_nvmf_disc_log(const struct p2pmr_nvmf_cmd *cmd, uint8_t *out,
			size_t cap, const struct p2pmr_nvmf_disc_entry *e,
			unsigned int n, uint64_t genctr,
			struct p2pmr_nvmf_get_log *g);

/**
 * p2pmr_nvmf_num_queues() - Set Features Number of Queues (FID 0x07).
 * @cdw11: NSQR (bits 15:0) and NCQR (bits 31:16), 0's based
 * @max: I/O queues the target gives a controller (1..65535)
 * @dw0: receives dword 0 of the completion: NSQA and NCQA
 *
 * Return: 0; P2PMR_NVMF_SC_INVALID_FIELD a count of 65536.
 */
int p2pmr_nvmf_num_queues(uint32_t cdw11, uint16_t max, uint32_t *dw0);

/**
 * struct p2pmr_nvmf_regs - The controller properties of one controller.
 * @cap: CAP
 * @vs: VS
 * @cc: CC, as the host last set it
 * @csts: CSTS: RDY follows CC.EN; SHST "occurring" on CC.SHN, "complete"
 *	after p2pmr_nvmf_shutdown_done()
 */
struct p2pmr_nvmf_regs {
	uint64_t cap;
	uint32_t vs;
	uint32_t cc;
	uint32_t csts;
};

/**
 * p2pmr_nvmf_regs_init() - The properties of a new controller.
 * @r: receives them
 * @mqes: CAP.MQES: I/O queue entries - 1
 * @to: CAP.TO: ready timeout, 500 ms units
 *
 * CAP: @mqes, CQR (contiguous queues), @to, the NVM command set, MPSMIN =
 * MPSMAX = 4 KiB.  VS P2PMR_NVMF_VS, CC and CSTS zero.
 */
void p2pmr_nvmf_regs_init(struct p2pmr_nvmf_regs *r, uint16_t mqes,
			  uint8_t to);

/**
 * p2pmr_nvmf_prop_exec() - Execute a checked Property Get or Set.
 * @r: the controller's properties
 * @p: from p2pmr_nvmf_prop_parse()
 * @result: receives a Get's value (the completion's first 8 bytes)
 *
 * Set of CC: enabling with IOSQES other than 6, IOCQES other than 4, MPS
 * other than 4 KiB or a command set other than NVM sets CSTS.CFS, as a
 * controller does; clearing EN clears RDY and SHST; a shutdown
 * notification (SHN newly set) makes SHST "occurring", and the caller
 * completes it with p2pmr_nvmf_shutdown_done() once the backing cache is
 * flushed; clearing SHN returns SHST to normal operation.
 *
 * Return: 0.
 */
int p2pmr_nvmf_prop_exec(struct p2pmr_nvmf_regs *r,
			 const struct p2pmr_nvmf_prop *p, uint64_t *result);

/* CSTS bits. */
#define P2PMR_NVMF_CSTS_RDY	(1u << 0)
#define P2PMR_NVMF_CSTS_CFS	(1u << 1)
#define P2PMR_NVMF_CSTS_SHST_BUSY (1u << 2)	/* shutdown occurring */
#define P2PMR_NVMF_CSTS_SHST_DONE (2u << 2)
#define P2PMR_NVMF_CSTS_SHST_MASK (3u << 2)

/**
 * p2pmr_nvmf_shutdown_done() - Complete a shutdown the host asked for.
 * @r: the controller's properties
 *
 * A Set of CC.SHN leaves CSTS.SHST at "occurring"; the target flushes the
 * backing device's volatile write cache and only then calls this, which
 * makes SHST "complete".  Without a shutdown occurring it does nothing.
 */
void p2pmr_nvmf_shutdown_done(struct p2pmr_nvmf_regs *r);

/**
 * struct p2pmr_nvmf_rw - A Read or Write, decoded.
 * @slba: first block
 * @nlb: blocks (1's based)
 * @bytes: @nlb blocks in bytes, equal to the SGL's length
 */
struct p2pmr_nvmf_rw {
	uint64_t slba;
	uint32_t nlb;
	uint64_t bytes;
};

/**
 * p2pmr_nvmf_rw_parse() - Decode and check a Read or Write.
 * @cmd: a parsed capsule with opcode 0x01 or 0x02 (its SGL checked
 *	against MDTS by p2pmr_nvmf_capsule_parse())
 * @nsze: blocks of the namespace
 * @lba_size: bytes of a block
 * @rw: receives the command
 *
 * Return: 0; P2PMR_NVMF_SC_LBA_RANGE the range ends past @nsze;
 * P2PMR_NVMF_SC_SGL_INVALID_DATA the SGL is not a keyed data block, or
 * for a Write in-capsule data, of exactly @nlb blocks;
 * P2PMR_NVMF_SC_INVALID_FIELD a Read with in-capsule data (as nvmet).
 */
int p2pmr_nvmf_rw_parse(const struct p2pmr_nvmf_cmd *cmd, uint64_t nsze,
			uint32_t lba_size, struct p2pmr_nvmf_rw *rw);

/*
 * Or'ed into a status given to p2pmr_nvmf_cqe_status(): the backing
 * controller set Do Not Retry on the command this status came from, and
 * the completion keeps it.  Not a status code (codes fit in 11 bits).
 */
#define P2PMR_NVMF_STATUS_DNR	0x4000

/**
 * p2pmr_nvmf_cqe_status() - The Status Field of a completion.
 * @status: SCT << 8 | SC; 0 for success
 *
 * DNR (Do Not Retry) is set only where the same command cannot succeed
 * later: invalid opcode, field, namespace or SGL, command sequence error,
 * LBA out of range, capacity exceeded, compare failure, access denied and
 * the command specific statuses but Connect Controller Busy.  Transient
 * and internal errors (internal error, command aborted, data transfer
 * error, transient transport error, namespace not ready, any other code)
 * leave it clear, so that the host retries, unless the status carries
 * P2PMR_NVMF_STATUS_DNR: a backing controller's DNR is passed through.
 *
 * Return: bits 15:0 of the completion's dword 3 but the phase tag (which
 * fabrics leave 0): @status in bits 14:1, DNR in bit 15.
 */
uint16_t p2pmr_nvmf_cqe_status(uint16_t status);

/**
 * p2pmr_nvmf_kato_expired() - Whether a controller's keep alive expired.
 * @kato_ms: the Keep Alive Timeout the host set (Connect or Set Features),
 *	in milliseconds; 0: none
 * @last_ms: when the controller last received a command (any command
 *	counts, Keep Alive or not, as in nvmet)
 * @now_ms: the same clock, now
 *
 * The timeout is counted in whole seconds, rounded up, as nvmet does.
 *
 * Return: 1 expired: the controller's queues are to be torn down; else 0.
 */
int p2pmr_nvmf_kato_expired(uint32_t kato_ms, uint64_t last_ms,
			    uint64_t now_ms);

/* Room for one escaped host string in a log line (NQNs run to 223). */
#define P2PMR_NVMF_LOG_STR	128

/**
 * p2pmr_nvmf_escape() - A host-supplied string made fit for a log line.
 * @out: receives a NUL-terminated string
 * @size: bytes of @out
 * @in: the string, up to its NUL or @max bytes
 * @max: bytes of @in at most
 *
 * Printable ASCII passes but for backslash and quote; every other byte
 * becomes \xHH.  What does not fit in @size is cut at a whole character
 * or escape and marked with "...".
 *
 * Return: @out.
 */
const char *p2pmr_nvmf_escape(char *out, size_t size, const void *in,
			      size_t max);

/**
 * struct p2pmr_nvmf_ratelimit - At most @burst messages per @interval_ms.
 * @interval_ms: the window
 * @burst: messages printed per window
 * @begin_ms: start of the current window
 * @printed: messages printed in it
 * @missed: messages suppressed in it
 *
 * Set @interval_ms and @burst, the rest zero.
 */
struct p2pmr_nvmf_ratelimit {
	uint64_t interval_ms;
	uint32_t burst;
	uint64_t begin_ms;
	uint32_t printed;
	uint32_t missed;
};

/**
 * p2pmr_nvmf_ratelimit() - Whether a message may be printed now.
 * @rl: the limit
 * @now_ms: a monotonic clock
 * @missed: receives, when this call opens a new window, how many messages
 *	the last one suppressed (to be reported); else 0
 *
 * Return: 1 print it; 0 suppress it.
 */
int p2pmr_nvmf_ratelimit(struct p2pmr_nvmf_ratelimit *rl, uint64_t now_ms,
			 uint32_t *missed);

#ifdef __cplusplus
}
#endif

#endif
