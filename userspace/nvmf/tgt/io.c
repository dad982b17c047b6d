// SPDX-License-Identifier: GPL-2.0
/*
 * The data path of p2pmr-nvmf: Reads and Writes served in batches, and
 * the commands of the backing controller.
 *
 * do_rw() (cmd.c) checks a command and adds it to the batch, on a free
 * data buffer.  The batch runs when it has TGT_MAX_BUFS commands or no
 * buffer is free, before any other command is served, and when no capsule
 * is left to take.  It runs in three steps:
 *
 *  1. the RDMA READs of its writes, from the hosts' buffers into the data
 *     buffers: posted for all, then waited for;
 *  2. its NVMe Reads and Writes, all submitted to the backing I/O queue,
 *     then their completions polled (one Flush after them for FUA);
 *  3. the answers: a read's RDMA WRITE and then its response SEND, the
 *     response SEND of every other command: posted, not waited for.
 *
 * So the commands of a batch overlap in each step, and the answers of one
 * batch are still on their way while the next runs, on other buffers.  A
 * data buffer is free again when its command's sends completed (taken by
 * tgt_reap_sends(), or waited for when every buffer is busy), or its queue
 * went: then no RDMA operation and no NVMe command can still touch it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>

#include "p2pmr.h"
#include "tgt.h"

/* CDW12 of Read and Write: Force Unit Access. */
#define RW_FUA		(1u << 30)

static uint32_t cdw12(const struct p2pmr_nvmf_cmd *cmd)
{
	const uint8_t *p = cmd->raw + 48;

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Data buffer @i: its address in data_mr, and the controller's. */
static uint64_t buf_rdma(const struct tgt *t, uint32_t i)
{
	return t->data_rdma + (uint64_t)i * t->max_data;
}

static uint64_t buf_nvme(const struct tgt *t, uint32_t i)
{
	return t->data_nvme + (uint64_t)i * t->max_data;
}

/*
 * The backing I/O queue pair again, after a command on it did not
 * complete: the queue is deleted (the controller completes or aborts
 * every command it holds before the Delete I/O SQ completes, so nothing
 * moves data into a buffer afterwards) and a new pair created.  If that
 * fails the target cannot serve I/O safely: it stops.
 */
static void nvme_recover(struct tgt *t)
{
	int ret;

	ret = p2pmr_nvme_qp_destroy(t->nqp);
	t->nqp = NULL;
	if (ret) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't delete the backing I/O queue (%d): stopping\n",
			ret);
		t->fatal = 1;
		return;
	}
	ret = p2pmr_nvme_qp_create(t->n, TGT_NVME_DEPTH, &t->nqp);
	if (ret) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't create a backing I/O queue (%d): stopping\n",
			ret);
		t->nqp = NULL;
		t->fatal = 1;
		return;
	}
	t->st.recoveries++;
	printf("p2pmr-nvmf: backing I/O queue recovered (now queue %u)\n",
	       p2pmr_nvme_qp_id(t->nqp));
}

static void recover(struct tgt *t, const char *why);

/*
 * Backing commands that did not complete, @why (or the library's
 * message): a controller that stopped serving (reset, failed) lost the
 * whole queue set-up; otherwise only the queue pair is in doubt.  Either
 * way their data can no longer reach the media when the host hears of
 * the failure.
 */
static void nvme_lost(struct tgt *t, const struct p2pmr_nvme_sqe *sqe, int ret,
		      const char *why)
{
	if (sqe->opc == P2PMR_NVME_CMD_WRITE || sqe->opc == P2PMR_NVME_CMD_READ)
		fprintf(stderr, "p2pmr-nvmf: backing opcode 0x%02x at LBA %llu failed (%d): %s\n",
			sqe->opc,
			(unsigned long long)sqe->cdw11 << 32 | sqe->cdw10,
			ret, why ? why : p2pmr_errmsg());
	else
		fprintf(stderr, "p2pmr-nvmf: backing opcode 0x%02x failed (%d): %s\n",
			sqe->opc, ret, why ? why : p2pmr_errmsg());
	if (!p2pmr_nvme_ready(t->n))
		recover(t, "a backing command stopped");
	else if (ret != -EINVAL)
		nvme_recover(t);
}

/**
 * tgt_nvme_io() - One command on the backing I/O queue, alone.
 * @t: the target; no batch command is in flight
 * @sqe: the command
 * @b: its data, or NULL
 *
 * Return: 0, or the status: the controller's own, with its Do Not Retry;
 * Internal Error (no DNR: the host retries it on the recovered queue) for
 * one that timed out or found no queue.
 */
uint16_t tgt_nvme_io(struct tgt *t, struct p2pmr_nvme_sqe *sqe,
		     const struct p2pmr_nvme_buf *b)
{
	struct p2pmr_nvme_cqe cqe = { 0 };
	const char *why = NULL;
	int ret;

	if (!t->nqp)
		return P2PMR_NVMF_SC_INTERNAL;
	if (t->fault_timeout && !--t->fault_timeout) {
		/* Test hook: submitted, never waited for, as if lost. */
		ret = p2pmr_nvme_submit(t->nqp, sqe, b);
		if (ret >= 0) {
			ret = -ETIMEDOUT;
			why = "not waited for (P2PMR_NVMF_FAULT=nvme-timeout)";
		}
	} else {
		ret = p2pmr_nvme_exec(t->nqp, sqe, b, &cqe);
	}
	if (ret > 0)
		return ret | (P2PMR_NVME_DNR(&cqe) ? P2PMR_NVMF_STATUS_DNR : 0);
	if (!ret)
		return 0;
	nvme_lost(t, sqe, ret, why);
	return P2PMR_NVMF_SC_INTERNAL;
}

/**
 * tgt_backing_ready() - Before a command uses the controller or data MR.
 * @t: the target
 *
 * A controller reset since the last command (CSTS.RDY clear) has revoked
 * the MR too, so both are set up again first, and the command is then
 * served as if nothing happened.
 *
 * Return: whether the target can serve.
 */
int tgt_backing_ready(struct tgt *t)
{
	if (t->n && !t->fatal && !p2pmr_nvme_ready(t->n))
		recover(t, "the controller is not ready");
	return !t->fatal;
}

/*
 * Test hook (P2PMR_NVMF_FAULT=memoff-every=N): memory decode turned off
 * and on again through the device's VFIO config region, as a VMM's guest
 * sizing a BAR would.  vfio-pci-p2p revokes the dma-buf when decode goes
 * off (vfio-pci zaps the BAR mappings then, and a CPU access meanwhile
 * would get SIGBUS: so it is back on at once); the controller keeps its
 * state and the CMB its contents, but the data MR is dead for good.
 */
static void fault_memoff(struct tgt *t, const char *before)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	int fd = p2pmr_dev_fd(p2pmr_nvme_dev(t->n));
	uint16_t cmd, off;

	fprintf(stderr, "p2pmr-nvmf: FAULT: memory decode of %s off and on before %s\n",
		t->o.bdf, before);
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &cfg) ||
	    pread(fd, &cmd, 2, cfg.offset + PCI_COMMAND) != 2) {
		fprintf(stderr, "p2pmr-nvmf: FAULT: cannot read PCI_COMMAND: %s\n",
			strerror(errno));
		return;
	}
	off = cmd & ~PCI_COMMAND_MEMORY;
	if (pwrite(fd, &off, 2, cfg.offset + PCI_COMMAND) != 2 ||
	    pwrite(fd, &cmd, 2, cfg.offset + PCI_COMMAND) != 2)
		fprintf(stderr, "p2pmr-nvmf: FAULT: cannot write PCI_COMMAND: %s\n",
			strerror(errno));
}

/*
 * Test hook (P2PMR_NVMF_FAULT=reset-every=N): a function reset of the
 * controller through sysfs, as an administrator's would be, but at a
 * chosen point of a command.  The write returns when the reset is done:
 * the exporter revoked the dma-buf in its reset_prepare, the controller
 * is disabled.  With memoff-every=N, memory decode off and on instead.
 */
static void fault_reset(struct tgt *t, const char *before)
{
	char path[96];
	int fd, ret;

	if (t->fault_memoff) {
		fault_memoff(t, before);
		return;
	}
	fprintf(stderr, "p2pmr-nvmf: FAULT: function reset of %s before %s\n",
		t->o.bdf, before);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", t->o.bdf);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	ret = fd < 0 ? -1 : write(fd, "1", 1);
	if (ret != 1)
		fprintf(stderr, "p2pmr-nvmf: FAULT: %s: %s\n", path,
			strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Entry @k of the batch. */
static struct tgt_io *bio(struct tgt *t, uint32_t k)
{
	return &t->io[t->batch[k]];
}

/* An entry whose buffer is free, else -1. */
static int io_free(const struct tgt *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_bufs; i++)
		if (!t->io[i].busy)
			return i;
	return -1;
}

/*
 * A free entry: when every buffer is busy, the rest hold answers being
 * sent, whose completions are taken, and if need be waited for: on one
 * answer's queue at a time, which frees (or drains) its buffer.  -1 only
 * when a queue's sends could not even be drained (the target stops).
 */
static int io_get(struct tgt *t)
{
	struct tgt_queue *q;
	struct tgt_io *io;
	uint32_t j;
	int i;

	i = io_free(t);
	if (i >= 0)
		return i;
	for (q = t->queues; q; q = q->next)
		tgt_reap_sends(q);
	i = io_free(t);
	for (j = 0; i < 0 && j < t->nr_bufs && !t->fatal; j++) {
		io = &t->io[j];
		if (io->busy && !io->batched && io->q->outstanding)
			tgt_wait_sends(io->q);
		i = io_free(t);
	}
	return i;
}

/**
 * tgt_io_add() - A checked Read or Write joins the batch.
 * @q: the I/O queue it came on
 * @cmd: the command
 * @rw: its range
 * @data: a Write's in-capsule data (rw->bytes of it), or NULL
 *
 * A full batch runs first.  The command is answered when its batch runs.
 * In-capsule data is copied into the command's buffer now (the capsule
 * is queue_poll()'s copy, gone after this): it is host memory, which
 * only --buf=host offers to take.
 *
 * Return: 0, or -ENOBUFS: no buffer came free (the target stops), the
 * caller answers the command.
 */
int tgt_io_add(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd,
		const struct p2pmr_nvmf_rw *rw, const uint8_t *data)
{
	struct tgt *t = q->t;
	struct tgt_io *io;
	int i;

	if (t->nr_io == t->nr_bufs)
		tgt_io_run(t);
	i = io_get(t);
	if (i < 0 && t->nr_io) {
		/* The buffers not in the batch hold answers being sent. */
		tgt_io_run(t);
		i = io_get(t);
	}
	if (i < 0) {
		fprintf(stderr, "p2pmr-nvmf: queue %u: no data buffer came free\n",
			q->qid);
		return -ENOBUFS;
	}
	io = &t->io[i];
	memset(io, 0, sizeof(*io));
	io->busy = 1;
	io->batched = 1;
	t->batch[t->nr_io++] = i;
	io->q = q;
	io->cmd = *cmd;
	io->rw = *rw;
	io->cid = -1;
	io->write = cmd->opc == P2PMR_NVME_CMD_WRITE;
	io->fua = io->write && (cdw12(cmd) & RW_FUA);
	if (data && io->write && t->host_buf) {
		memcpy((uint8_t *)t->host_buf + (uint64_t)i * t->max_data, data,
		       rw->bytes);
		io->incapsule = 1;
	} else if (data) {
		/* Not offered (the capsule's parser refuses it before). */
		io->status = P2PMR_NVMF_SC_INVALID_FIELD;
	}
	/* Test hook: 1 before the RDMA READ, 2 before the NVMe Write. */
	if (io->write && t->fault_reset &&
	    !(++t->fault_writes % t->fault_reset))
		io->reset = 2 - (t->fault_writes / t->fault_reset) % 2;
	return 0;
}

/* Whether @io is still to be served: its queue works, no status yet. */
static int live(const struct tgt_io *io)
{
	return !io->dropped && !io->status;
}

/* Every command still live gets @status (a command that failed). */
static void fail_all(struct tgt *t, uint16_t status)
{
	uint32_t k;

	for (k = 0; k < t->nr_io; k++)
		if (live(bio(t, k)))
			bio(t, k)->status = status;
}

/**
 * tgt_io_sent() - A send of entry @i completed.
 * @t: the target
 * @i: the entry
 * @status: its work completion's
 *
 * A local protection error is what rxe gives for an lkey whose dma-buf
 * the exporter revoked (docs/importer.md): t->revoked_by says so, and the
 * batch's step or tgt_io_idle() sets everything up again.
 */
void tgt_io_sent(struct tgt *t, uint32_t i, int status)
{
	struct tgt_io *io = &t->io[i];

	if (status == IBV_WC_LOC_PROT_ERR && !t->revoked_by)
		t->revoked_by = io->reading ? "RDMA READ" : "RDMA WRITE";
	if (!--io->sends && !io->batched)
		io->busy = 0;
}

/* What entry @i's sends are, for the log. */
const char *tgt_io_what(const struct tgt *t, uint32_t i)
{
	return t->io[i].reading ? "RDMA READ" : "RDMA WRITE or SEND";
}

/**
 * tgt_io_queue_gone() - Queue @q is destroyed: its entries are free.
 * @q: the queue, its QP destroyed (none of its sends runs any more)
 */
void tgt_io_queue_gone(struct tgt_queue *q)
{
	struct tgt *t = q->t;
	struct tgt_io *io;
	uint32_t i;

	for (i = 0; i < t->nr_bufs; i++) {
		io = &t->io[i];
		if (!io->busy || io->q != q)
			continue;
		io->sends = 0;
		io->dropped = 1;
		if (!io->batched)
			io->busy = 0;
	}
}

/*
 * Wait for the RDMA READs of the batch: for every send of their queues
 * (on an RC queue pair the answers posted before them complete first).
 * A queue whose operations failed is broken: its commands get no answer
 * (the host requeues them after reconnecting).  Return: whether one
 * found the data MR revoked (t->revoked_by).
 */
static int wait_reads(struct tgt *t)
{
	struct tgt_io *io;
	uint32_t k;

	for (k = 0; k < t->nr_io; k++) {
		io = bio(t, k);
		if (io->sends && io->q->outstanding)
			tgt_wait_sends(io->q);
	}
	for (k = 0; k < t->nr_io; k++)
		if (bio(t, k)->q->broken)
			bio(t, k)->dropped = 1;
	return t->revoked_by != NULL;
}

/*
 * The controller, dma-buf and data MR set up again (tgt_recover()), once
 * no send can still use the old MR: an answer's RDMA WRITE still on its
 * way would read the restarted device memory, or fail on the revoked MR
 * afterwards and start a second recovery.  What those sends found is
 * covered by this recovery.
 */
static void recover(struct tgt *t, const char *why)
{
	struct tgt_queue *q;

	for (q = t->queues; q; q = q->next)
		if (q->outstanding)
			tgt_wait_sends(q);
	if (t->fatal)
		return;
	tgt_recover(t, why);
	t->revoked_by = NULL;
}

/* The data MR was revoked under an RDMA operation: all set up again. */
static void revoked(struct tgt *t)
{
	char why[128];

	t->st.revokes++;
	snprintf(why, sizeof(why),
		 "%s on the data MR: local protection error, the dma-buf was revoked",
		 t->revoked_by);
	recover(t, why);
}

/**
 * tgt_io_idle() - No batch runs: a revoke that an answer found is handled.
 * @t: the target
 */
void tgt_io_idle(struct tgt *t)
{
	if (t->revoked_by && !t->nr_io && !t->fatal)
		revoked(t);
}

/* Step 1: the RDMA READs of the batch's writes into their buffers. */
static void batch_rdma_read(struct tgt *t)
{
	struct tgt_io *io;
	uint32_t i, k;
	int revoke;

	for (k = 0; k < t->nr_io; k++) {
		i = t->batch[k];
		io = &t->io[i];
		if (!io->write || !live(io) || io->q->broken)
			continue;
		if (io->reset == 1)
			fault_reset(t, "the RDMA READ of a host write");
		if (t->fault_skip_read || io->incapsule)
			continue;
		io->reading = 1;
		if (!tgt_post_read(io->q, i + 1, buf_rdma(t, i),
				   t->data_mr->lkey, &io->cmd.sgl, io->rw.bytes))
			io->sends++;
	}
	revoke = wait_reads(t);
	for (k = 0; k < t->nr_io; k++)
		bio(t, k)->reading = 0;
	if (revoke) {
		/* What the READs brought in went with the reset. */
		revoked(t);
		fail_all(t, P2PMR_NVMF_SC_INTERNAL);
		return;
	}
	for (k = 0; k < t->nr_io; k++) {
		io = bio(t, k);
		if (!io->write || !live(io))
			continue;
		if (io->incapsule)
			t->st.inline_in += io->rw.bytes;
		else if (!t->fault_skip_read)
			t->st.rdma_in += io->rw.bytes;
	}
}

/* The batch entry of backing command @cid, or NULL. */
static struct tgt_io *io_of_cid(struct tgt *t, uint16_t cid)
{
	uint32_t k;

	for (k = 0; k < t->nr_io; k++)
		if (bio(t, k)->cid == cid)
			return bio(t, k);
	return NULL;
}

/* The backing Read or Write of @io. */
static void io_sqe(const struct tgt_io *io, struct p2pmr_nvme_sqe *sqe)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = io->write ? P2PMR_NVME_CMD_WRITE : P2PMR_NVME_CMD_READ;
	sqe->nsid = TGT_NSID;
	sqe->cdw10 = (uint32_t)io->rw.slba;
	sqe->cdw11 = io->rw.slba >> 32;
	sqe->cdw12 = io->rw.nlb - 1;		/* 0's based */
}

/*
 * Step 2: the batch's Reads and Writes on the backing I/O queue, all
 * submitted, then polled for.  Commands that do not complete (the queue
 * or the controller stopped) fail with Internal Error, which carries no
 * DNR: the host retries them.
 */
static void batch_nvme(struct tgt *t)
{
	struct p2pmr_nvme_cqe cqes[TGT_MAX_BUFS];
	struct tgt_io *io, *lost = NULL;
	struct p2pmr_nvme_sqe sqe;
	const char *why = NULL;
	int pending = 0, ret, got, j;
	struct p2pmr_nvme_buf b;
	uint32_t i, k;

	if (!t->nqp) {
		fail_all(t, P2PMR_NVMF_SC_INTERNAL);
		return;
	}
	for (k = 0; k < t->nr_io && !why; k++) {
		i = t->batch[k];
		io = &t->io[i];
		if (!live(io))
			continue;
		if (io->reset == 2)
			fault_reset(t, "the backing Write of a host write");
		io_sqe(io, &sqe);
		b = (struct p2pmr_nvme_buf){ .addr = buf_nvme(t, i),
					     .len = io->rw.bytes };
		ret = p2pmr_nvme_submit(t->nqp, &sqe, &b);
		if (ret < 0) {
			/* Refused by the driver: nothing was submitted. */
			fprintf(stderr, "p2pmr-nvmf: backing opcode 0x%02x at LBA %llu not submitted (%d): %s\n",
				sqe.opc, (unsigned long long)io->rw.slba, ret,
				p2pmr_errmsg());
			io->status = P2PMR_NVMF_SC_INTERNAL;
			continue;
		}
		io->cid = ret;
		pending++;
		/* Test hook: submitted, never waited for, as if lost. */
		if (t->fault_timeout && !--t->fault_timeout) {
			why = "not waited for (P2PMR_NVMF_FAULT=nvme-timeout)";
			lost = io;
		}
	}
	while (pending && !why) {
		got = p2pmr_nvme_poll(t->nqp, cqes, TGT_MAX_BUFS,
				      TGT_NVME_TIMEOUT_MS);
		if (got <= 0)
			break;
		for (j = 0; j < got; j++) {
			io = io_of_cid(t, cqes[j].cid);
			if (!io)
				continue;
			io->cid = -1;
			io->status = P2PMR_NVME_STATUS(&cqes[j]);
			if (io->status && P2PMR_NVME_DNR(&cqes[j]))
				io->status |= P2PMR_NVMF_STATUS_DNR;
			pending--;
		}
	}
	if (!pending)
		return;
	/* Named: the lost one, or the first that did not complete. */
	for (k = 0; k < t->nr_io && !lost; k++)
		if (bio(t, k)->cid >= 0)
			lost = bio(t, k);
	io_sqe(lost, &sqe);
	for (k = 0; k < t->nr_io; k++) {
		io = bio(t, k);
		if (io->cid >= 0) {
			io->cid = -1;
			io->status = P2PMR_NVMF_SC_INTERNAL;
		}
	}
	/*
	 * The rest fail too: those not submitted after a lost one, and
	 * those that completed, whose buffers the recovery below may take.
	 */
	fail_all(t, P2PMR_NVMF_SC_INTERNAL);
	fprintf(stderr, "p2pmr-nvmf: %d backing command%s of the batch not completed (CSTS 0x%x)\n",
		pending, pending > 1 ? "s" : "", p2pmr_nvme_reg32(t->n, 0x1c));
	if (!why)
		why = p2pmr_nvme_ready(t->n) ?
		      "no completion within the timeout" :
		      "the controller stopped (reset, failed or memory decode off)";
	nvme_lost(t, &sqe, p2pmr_nvme_ready(t->n) ? -ETIMEDOUT : -EIO, why);
}

/*
 * Force Unit Access: the host completes journal commits and O_DSYNC
 * writes on it, so the data must be on the media, not in the
 * controller's volatile cache: one Flush after the batch's writes gives
 * that to every FUA write of it.
 */
static void batch_fua(struct tgt *t)
{
	struct p2pmr_nvme_sqe flush = { .opc = P2PMR_NVME_CMD_FLUSH,
					.nsid = TGT_NSID };
	uint16_t st = 0;
	int done = 0;
	uint32_t k;

	for (k = 0; k < t->nr_io; k++) {
		struct tgt_io *io = bio(t, k);

		if (!io->fua || !live(io))
			continue;
		if (!done) {
			st = tgt_nvme_io(t, &flush, NULL);
			done = 1;
		}
		io->status = st;
		if (!st)
			t->st.fua++;
	}
}

/* What went through, counted by where the PRPs point. */
static void batch_count(struct tgt *t)
{
	uint64_t *through;
	struct tgt_io *io;
	uint32_t k;

	if (t->cmb.size && t->data_nvme >= t->cmb.addr &&
	    buf_nvme(t, t->nr_bufs) <= t->cmb.addr + t->cmb.size)
		through = &t->st.cmb_bytes;
	else if (t->pmr.size && t->data_nvme >= t->pmr.addr &&
		 buf_nvme(t, t->nr_bufs) <= t->pmr.addr + t->pmr.size)
		through = &t->st.pmr_bytes;
	else
		through = &t->st.host_bytes;
	for (k = 0; k < t->nr_io; k++) {
		io = bio(t, k);
		if (!live(io))
			continue;
		if (io->write) {
			t->st.writes++;
			t->st.write_bytes += io->rw.bytes;
		} else {
			t->st.reads++;
			t->st.read_bytes += io->rw.bytes;
		}
		*through += io->rw.bytes;
	}
}

/*
 * Step 3: a read's data by RDMA WRITE, every command's response SEND;
 * not waited for (tgt_io_sent() frees the buffer).
 */
static void batch_respond(struct tgt *t)
{
	struct tgt_io *io;
	uint32_t i, k, len;
	int n;

	for (k = 0; k < t->nr_io; k++) {
		i = t->batch[k];
		io = &t->io[i];
		if (io->dropped || io->q->broken)
			continue;
		tgt_rsp_fill(io->q, io->rsp, &io->cmd, io->status, 0);
		len = io->write || io->status ? 0 : io->rw.bytes;
		n = tgt_post_rsp(io->q, io->rsp, t->io_mr->lkey, i + 1,
				 buf_rdma(t, i), t->data_mr->lkey,
				 &io->cmd.sgl, len);
		io->sends += n;
		if (n == 2)
			t->st.rdma_out += len;
	}
}

/**
 * tgt_io_run() - Serve the batch, and empty it.
 * @t: the target
 *
 * Every command of the batch is answered, unless its queue broke.
 */
void tgt_io_run(struct tgt *t)
{
	struct tgt_io *io;
	uint32_t k;

	if (!t->nr_io)
		return;
	/* An answer found the data MR revoked: set up again first. */
	if (t->revoked_by && !t->fatal)
		revoked(t);
	t->st.batches++;
	if (t->nr_io > t->st.batch_max)
		t->st.batch_max = t->nr_io;
	if (!tgt_backing_ready(t)) {
		fail_all(t, P2PMR_NVMF_SC_INTERNAL);
	} else {
		uint64_t resets = t->st.resets;

		batch_rdma_read(t);
		if (!t->fatal)
			batch_nvme(t);
		if (!t->fatal)
			batch_fua(t);
		/*
		 * A target that must stop did not run every step; a recovery
		 * (a reset found during a step) took what the device memory
		 * held: a read would send it, a write was not done.  No
		 * command of the batch succeeds then; the host retries.
		 */
		if (t->fatal || t->st.resets != resets)
			fail_all(t, P2PMR_NVMF_SC_INTERNAL);
		batch_count(t);
	}
	/* After a recovery that failed there is no data MR to answer from. */
	if (t->data_mr)
		batch_respond(t);
	for (k = 0; k < t->nr_io; k++) {
		io = bio(t, k);
		io->batched = 0;
		if (!io->sends)
			io->busy = 0;
	}
	t->nr_io = 0;
}
