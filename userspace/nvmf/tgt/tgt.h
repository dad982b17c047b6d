/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmr-nvmf: an NVMe-oF/RDMA target whose data buffers live in the CMB of
 * an NVMe controller owned through VFIO.
 *
 * One thread.  A Read, Write or Flush takes a data buffer (in the CMB, or
 * in host memory with --buf=host; a Flush uses none of it) and moves
 * through its steps (io.c: RDMA READ, backing NVMe command, answer) as
 * their completions are polled, so up to TGT_MAX_BUFS of them are in
 * flight at once, from any queues.  A Property Set runs to completion
 * alone, once none is in flight; every other command is answered at once.
 */
#ifndef P2PMR_NVMF_TGT_H
#define P2PMR_NVMF_TGT_H

#include <stdint.h>
#include <rdma/rdma_cma.h>

#include "p2pmr-nvme.h"
#include "p2pmr-nvmf.h"

#define TGT_MAX_HOSTS		16
#define TGT_MAX_CTRLS		8
#define TGT_ADMIN_DEPTH		32	/* admin queue entries, at most */
#define TGT_IO_DEPTH		128	/* I/O queue entries, at most (MQES + 1) */
#define TGT_MAX_IO_QUEUES	4	/* per controller */
#define TGT_CTL_SIZE		8192	/* control data (Connect, Identify, logs) */
/* Connections by default: every controller with all its queues. */
#define TGT_MAX_CONNS		(TGT_MAX_CTRLS * (1 + TGT_MAX_IO_QUEUES))
#define TGT_NSID		1	/* the one namespace served (real nsid 1) */
#define TGT_NVME_DEPTH		32	/* the backing I/O queue's entries */
#define TGT_NVME_TIMEOUT_MS	30000	/* a backing command, at most */
#define TGT_CONNECT_MS		60000	/* connection to controller, at most */
#define TGT_RECLAIM_MS		10000	/* ... past --max-connections */
#define TGT_MAX_BUFS		16	/* data buffers: commands in io.c at once */
#define TGT_HOST_BUFS_SIZE	(4u << 20) /* --buf=host: all buffers, at most */
#define TGT_INLINE_SIZE		4096	/* --buf=host: in-capsule data, at most */
#define TGT_POLL_US		300	/* --poll-us: polling after a command */
#define TGT_NAP_US		50	/* --nap-us: sleep between NVMe looks */
#define TGT_NAP_SLACK_NS	1000UL	/* ... and the thread's timer slack */
#define TGT_LOOK_US		1000	/* polling: epoll (RDMA CM) this often */
#define TGT_IRQ_WAIT_MS		1	/* sleeping for a completion: at most */
#define TGT_REFUSAL_MS		5000	/* refusal log lines: a window */
#define TGT_REFUSAL_BURST	10	/* ... and how many in it */

#define fallthrough	__attribute__((__fallthrough__))

enum tgt_buf_mode { TGT_BUF_CMB, TGT_BUF_HOST, TGT_BUF_PMR };

struct tgt_opts {
	const char *bdf;
	const char *ibdev;
	const char *addr;
	const char *port;
	const char *nqn;
	const char *hosts[TGT_MAX_HOSTS + 1];	/* NULL terminated */
	int nr_hosts;
	int allow_any_host;
	enum tgt_buf_mode buf;
	const char *stats;
	uint32_t mdts_kib;		/* largest transfer, KiB */
	uint32_t max_conns;		/* RDMA connections (queues) at once */
	uint32_t bufs;			/* --buffers: 0, as many as fit */
	uint32_t poll_us;		/* --poll-us */
	uint32_t nap_us;		/* --nap-us */
	int nvme_irq;			/* --nvme-irq: backing interrupts */
};

/* What went through the data buffers, for the stats line and file. */
struct tgt_stats {
	uint64_t writes, reads, flushes, errors;
	uint64_t fua;			/* FUA writes, flushed before completion */
	uint64_t shutdowns;		/* CC.SHN completed after a flush */
	uint64_t recoveries;		/* backing I/O queue recreated */
	uint64_t resets;		/* controller, dma-buf, MR set up again */
	uint64_t revokes;		/* RDMA on the data MR: revoked */
	uint64_t write_bytes;		/* host -> media */
	uint64_t read_bytes;		/* media -> host */
	uint64_t cmb_bytes;		/* data bytes through the CMB */
	uint64_t pmr_bytes;		/* data bytes through the PMR */
	uint64_t host_bytes;		/* data bytes through host memory */
	uint64_t rdma_in;		/* RDMA READ into the data buffer */
	uint64_t inline_in;		/* in-capsule write data copied in */
	uint64_t rdma_out;		/* RDMA WRITE from the data buffer */
	uint64_t inflight_max;		/* the most Reads and Writes in flight */
	uint64_t irqs;			/* wake-ups by a backing interrupt */
	uint64_t held;			/* capsules held for a data buffer */
	/* NVM commands by the I/O queue they came on (index: QID - 1) */
	uint64_t queue_cmds[TGT_MAX_IO_QUEUES];
};

/* A controller: created by an admin queue's Connect, gone with it. */
struct tgt_ctrl {
	int used;
	uint16_t cntlid;
	char hostnqn[P2PMR_NVMF_NQN_SIZE];
	struct p2pmr_nvmf_regs regs;
	uint16_t nr_io_queues;		/* Set Features Number of Queues */
	uint32_t kato;			/* ms; 0: none */
	uint64_t last_ms;		/* its last command (tgt_now_ms()) */
	int expired;			/* KATO passed: queues disconnecting */
	uint32_t aen_cfg;
	int aers;			/* Async Event Requests held */
	int nr_queues;			/* queues connected to it */
	uint64_t io_qids;		/* bit N: I/O queue N connected */
	int discovery;			/* of the discovery subsystem */
};

struct tgt_queue {
	struct tgt *t;
	struct rdma_cm_id *id;
	struct ibv_cq *scq, *rcq;
	uint16_t qid;
	uint16_t depth;			/* entries: the host's HSQSIZE + 1 */
	uint16_t sqhd;
	struct tgt_ctrl *ctrl;		/* after Connect */
	uint64_t since_ms;		/* connect request (tgt_now_ms()) */
	uint8_t *cmds;			/* depth capsules, receive buffers */
	uint32_t slot_size;		/* of each: 64 bytes + in-capsule data */
	const uint8_t *cur;		/* the capsule being served (tgt_cmd()) */
	/* A Read, Write or Flush that found no free data buffer: held, its
	 * receive posted again, the queue's later capsules left on its CQ.
	 */
	uint8_t *held_buf;		/* slot_size bytes */
	size_t held_len;		/* 0: none held */
	uint64_t held_seq;		/* its turn: t->held_next when held */
	struct ibv_mr *cmds_mr;
	uint8_t *ctl;			/* control data, TGT_CTL_SIZE */
	struct ibv_mr *ctl_mr;
	uint8_t rsp[16];
	struct ibv_mr *rsp_mr;
	int established;
	int broken;			/* an RDMA error: disconnect */
	int wc_status;			/* of the failed completion, or -1 */
	int disconnecting;
	int outstanding;		/* sends posted, completion not taken */
	const char *ctl_what;		/* the last send of no io.c entry: the log */
	struct tgt_queue *next;
};

/* The step a data buffer's command is at (io.c). */
enum tgt_io_state {
	IO_FREE,		/* no command: the buffer is free */
	IO_READING,		/* a write's RDMA READ posted */
	IO_NVME,		/* its backing command (or Flush) submitted */
	IO_SENDING,		/* its answer posted */
};

/*
 * A Read, Write or Flush (io.c).  Entry N uses data buffer N, and its response
 * is SENT from @rsp (in t->io_mr).  Only the one thread touches it; it is
 * taken from tgt_io_add() until its answer's sends completed, or its
 * queue went and its backing command completed.
 */
struct tgt_io {
	struct tgt_queue *q;		/* NULL once its queue went */
	struct p2pmr_nvmf_cmd cmd;
	struct p2pmr_nvmf_rw rw;
	int write;
	int fua;			/* Force Unit Access: flushed before done */
	int flush;			/* a host's Flush: no data */
	int incapsule;			/* its data came in the capsule */
	int reset;			/* test hook: 1, 2 (see fault_reset()) */
	enum tgt_io_state state;
	int cid;			/* its backing command in flight, or -1 */
	int flushing;			/* @cid is a Flush (@fua or @flush) */
	uint64_t since_ms;		/* @cid submitted (tgt_now_ms()) */
	int dropped;			/* its queue broke: it gets no answer */
	uint16_t status;		/* NVMe status; 0: success so far */
	int sends;			/* its sends not completed */
	uint8_t rsp[16];		/* its completion queue entry */
};

struct tgt {
	struct tgt_opts o;
	struct p2pmr_nvme *n;
	struct p2pmr_nvme_qp *nqp;
	struct p2pmr_nvme_ns ns;
	uint8_t ns_id[P2PMR_NVMF_ID_SIZE];	/* the real Identify Namespace */
	uint8_t ns_desc[P2PMR_NVMF_ID_SIZE];	/* its descriptor list */
	struct p2pmr_nvme_cmb cmb;
	struct p2pmr_nvme_pmr pmr;
	/* --buf cmb or pmr: the device memory exported as the data MR */
	const char *dev_name;		/* "CMB", "PMR" */
	uint32_t dev_bar;
	uint64_t dev_offset;		/* in the BAR */
	uint64_t dev_size;
	int dmabuf_fd;
	uint32_t max_data;		/* bytes */
	uint32_t inline_size;		/* in-capsule data an I/O capsule carries */

	struct rdma_event_channel *ec;
	struct rdma_cm_id *listen;
	struct ibv_pd *pd;
	struct ibv_comp_channel *cc;
	struct ibv_mr *data_mr;		/* the data buffers, one after another */
	uint64_t data_rdma;		/* the first one's address in data_mr */
	uint64_t data_nvme;		/* its controller address */
	void *host_buf;			/* --buf=host: its CPU address */
	uint32_t nr_bufs;		/* data buffers of max_data bytes */
	struct tgt_io *io;		/* nr_bufs entries, one a data buffer */
	struct ibv_mr *io_mr;		/* ... registered for their responses */
	const char *revoked_by;		/* a send found the data MR revoked */
	uint64_t csts_ms;		/* CSTS last looked at (io.c) */

	struct tgt_ctrl ctrls[TGT_MAX_CTRLS];
	uint16_t next_cntlid;
	struct tgt_queue *queues;
	uint32_t nr_queues;		/* in @queues */
	struct tgt_stats st;
	struct p2pmr_nvmf_ratelimit refusals;	/* their log lines */
	int fault_skip_read;		/* P2PMR_NVMF_FAULT=skip-rdma-read */
	unsigned int fault_timeout;	/* P2PMR_NVMF_FAULT=nvme-timeout=N */
	unsigned int fault_reset;	/* P2PMR_NVMF_FAULT=reset-every=N */
	int fault_memoff;		/* ... memoff-every=N: decode off instead */
	uint64_t fault_writes;		/* host writes, for fault_reset */
	int fatal;			/* cannot serve safely: stop */
	uint32_t held;			/* queues holding a capsule (rdma.c) */
	uint64_t held_next;		/* the next held capsule's turn */
	int room_moved;			/* commands tgt_io_room() moved */
};

/* rdma.c */
int tgt_listen(struct tgt *t);
void tgt_cm_event(struct tgt *t);
int tgt_poll_queues(struct tgt *t, int event);
void tgt_queues_free(struct tgt *t);
void tgt_queue_close(struct tgt_queue *q);
int tgt_rdma_read(struct tgt_queue *q, uint64_t laddr, uint32_t lkey,
		  const struct p2pmr_nvmf_sgl *sgl, uint32_t len);
int tgt_respond(struct tgt_queue *q, uint64_t laddr, uint32_t lkey,
		const struct p2pmr_nvmf_sgl *sgl, uint32_t len);
int tgt_post_read(struct tgt_queue *q, uint64_t wr_id, uint64_t laddr,
		  uint32_t lkey, const struct p2pmr_nvmf_sgl *sgl, uint32_t len);
int tgt_post_rsp(struct tgt_queue *q, const uint8_t *rsp, uint32_t rsp_lkey,
		 uint64_t wr_id, uint64_t laddr, uint32_t lkey,
		 const struct p2pmr_nvmf_sgl *sgl, uint32_t len);
int tgt_wait_sends(struct tgt_queue *q);
void tgt_reap_sends(struct tgt_queue *q);

/* cmd.c */
/* Each command handler returns 0, or -EIO when its response could not be
 * sent (the queue is broken then); the command's own failure is a status.
 */
int tgt_cmd(struct tgt_queue *q, const uint8_t *capsule, size_t len);
void tgt_ctrl_put(struct tgt_queue *q);
void tgt_check_kato(struct tgt *t);
void tgt_rsp_fill(struct tgt_queue *q, uint8_t *rsp,
		  const struct p2pmr_nvmf_cmd *cmd, uint16_t status,
		  uint64_t result);

/* io.c */
int tgt_io_add(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd,
	       const struct p2pmr_nvmf_rw *rw, const uint8_t *data);
int tgt_io_poll(struct tgt *t);
void tgt_io_drain(struct tgt *t);
uint32_t tgt_io_busy(const struct tgt *t);
int tgt_io_room(struct tgt *t);
void tgt_io_wait_orphans(struct tgt *t);
void tgt_io_drain_live(struct tgt *t);
void tgt_serve_held(struct tgt *t);
void tgt_io_nap(const struct tgt *t);
void tgt_io_sent(struct tgt *t, uint32_t i, int status);
const char *tgt_io_what(const struct tgt *t, uint32_t i);
void tgt_io_queue_gone(struct tgt_queue *q);
uint16_t tgt_nvme_io(struct tgt *t, struct p2pmr_nvme_sqe *sqe,
		     const struct p2pmr_nvme_buf *b);
int tgt_backing_ready(struct tgt *t);

/* main.c */
void tgt_stats_write(const struct tgt *t);
int tgt_log_refusal(struct tgt *t);
uint64_t tgt_now_ms(void);
void tgt_recover(struct tgt *t, const char *why);

#endif
