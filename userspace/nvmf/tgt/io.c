// SPDX-License-Identifier: GPL-2.0
/*
 * The data path of p2pmr-nvmf: Reads, Writes and Flushes, each on its own
 * data buffer (a Flush uses none of it), moved along as their operations
 * complete; and the commands of the backing controller.
 *
 * do_rw() and do_io() (cmd.c) check a command and hand it to
 * tgt_io_add(), which takes a free data buffer and starts it at once:
 *
 *  1. a write's RDMA READ, from the host's buffer into the data buffer
 *     (not for in-capsule data), posted (IO_READING);
 *  2. when it completed, and at once for a read: the backing NVMe Read or
 *     Write, submitted (IO_NVME); a FUA write's Flush after it;
 *  3. when that completed: the answer, a read's RDMA WRITE and then the
 *     response SEND, posted (IO_SENDING); the buffer is free again when
 *     both completed, or when the queue went.
 *
 * tgt_io_poll() takes the completions of all three (the RDMA send CQs and
 * the backing completion queue, polled: it never waits), so up to
 * TGT_MAX_BUFS commands of any queues are at different steps at once, and
 * a command arriving meanwhile starts without waiting for the others.
 * A Flush goes the same way, with no data: its backing Flush submitted at
 * once, its answer when it completed.  A Property Set waits until none
 * is in flight (tgt_io_drain()); other commands do not (cmd.c,
 * waits_for_io()).  A recovery (a reset, a revoked MR, a lost backing
 * command) fails every command in flight with a status the host retries.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
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

static void fail_inflight(struct tgt *t, int reads_too);
static int io_free(const struct tgt *t);

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
		goto out;
	}
	ret = p2pmr_nvme_qp_create(t->n, TGT_NVME_DEPTH, &t->nqp);
	if (ret) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't create a backing I/O queue (%d): stopping\n",
			ret);
		t->nqp = NULL;
		t->fatal = 1;
		goto out;
	}
	t->st.recoveries++;
	printf("p2pmr-nvmf: backing I/O queue recovered (now queue %u)\n",
	       p2pmr_nvme_qp_id(t->nqp));
out:
	/* Their backing commands were aborted, or will never complete. */
	fail_inflight(t, 0);
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
 * @t: the target; nothing is in flight (tgt_io_drain())
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

/* How often a backing command in flight has CSTS looked at, in ms. */
#define CSTS_LOOK_MS	100

/* Whether entry @io holds a command in flight (not its answer). */
static int inflight(const struct tgt_io *io)
{
	return io->state == IO_READING || io->state == IO_NVME;
}

/**
 * tgt_io_busy() - How many Reads, Writes and Flushes are in flight.
 * @t: the target
 *
 * Return: the entries reading their data or on the backing controller;
 * their completions are polled for, not waited for (tgt_io_poll()).
 */
uint32_t tgt_io_busy(const struct tgt *t)
{
	uint32_t i, n = 0;

	for (i = 0; i < t->nr_bufs; i++)
		n += inflight(&t->io[i]);
	return n;
}

/*
 * Backing Writes of queues that went (tgt_io_queue_gone()): no answer
 * waits for them, but no Read, Write or Flush may start before they
 * complete.  (A gone queue's Read or Flush cannot be overtaken in a way
 * anyone sees.)
 */
static uint32_t io_orphans(const struct tgt *t)
{
	const struct tgt_io *io;
	uint32_t i, n = 0;

	for (i = 0; i < t->nr_bufs; i++) {
		io = &t->io[i];
		n += io->state == IO_NVME && !io->q && io->write;
	}
	return n;
}

/**
 * tgt_io_room() - Whether a Read, Write or Flush can start now.
 * @t: the target
 *
 * The send and backing completions are taken first when every buffer is
 * in use, or while a queue that went still has a command on the backing
 * controller: until that completes nothing starts, so that nothing can
 * overtake it (such as the host's retry of the same write on its new
 * queue, and later writes to the same blocks).  A target that must stop
 * has room: tgt_io_add() refuses the command, which is answered at once.
 *
 * Return: whether tgt_io_add() would start a command at once.
 */
int tgt_io_room(struct tgt *t)
{
	if (t->fatal || (!io_orphans(t) && io_free(t) >= 0))
		return 1;
	t->room_moved += tgt_io_poll(t);
	return t->fatal || (!io_orphans(t) && io_free(t) >= 0);
}

/**
 * tgt_io_nap() - Between two polls that found nothing: the CPU to others.
 * @t: the target
 *
 * With --nap-us 0 a yield; else a sleep that long (docs/perf.md: in the
 * bed, a target spinning on its vCPU slows the emulated controller).
 */
void tgt_io_nap(const struct tgt *t)
{
	struct timespec ts = { .tv_nsec = (long)t->o.nap_us * 1000 };

	if (t->o.nap_us)
		nanosleep(&ts, NULL);
	else
		sched_yield();
}

/* The counter of data bytes through the buffers: by where PRPs point. */
static uint64_t *through(struct tgt *t)
{
	if (t->cmb.size && t->data_nvme >= t->cmb.addr &&
	    buf_nvme(t, t->nr_bufs) <= t->cmb.addr + t->cmb.size)
		return &t->st.cmb_bytes;
	if (t->pmr.size && t->data_nvme >= t->pmr.addr &&
	    buf_nvme(t, t->nr_bufs) <= t->pmr.addr + t->pmr.size)
		return &t->st.pmr_bytes;
	return &t->st.host_bytes;
}

/*
 * Entry @i's answer: its response SEND, after a successful read's data
 * by RDMA WRITE; not waited for (tgt_io_sent() frees the buffer).  A
 * command whose queue broke or went gets none.  A successful one that was
 * answered is counted, by where its PRPs point.
 */
static void io_answer(struct tgt *t, uint32_t i)
{
	struct tgt_io *io = &t->io[i];
	uint32_t len;
	int n;

	io->state = IO_SENDING;
	io->cid = -1;
	if (t->fatal && !io->status)
		io->status = P2PMR_NVMF_SC_INTERNAL;
	/* After a recovery that failed there is no data MR to answer from. */
	if (io->dropped || !io->q || io->q->broken || !t->data_mr)
		goto out;
	tgt_rsp_fill(io->q, io->rsp, &io->cmd, io->status, 0);
	len = io->write || io->flush || io->status ? 0 : io->rw.bytes;
	n = tgt_post_rsp(io->q, io->rsp, t->io_mr->lkey, i + 1, buf_rdma(t, i),
			 t->data_mr->lkey, &io->cmd.sgl, len);
	io->sends += n;
	if (n == 2)
		t->st.rdma_out += len;
	if (io->status || n < (len ? 2 : 1))
		goto out;
	if (io->flush) {
		t->st.flushes++;
		goto out;
	}
	if (io->write) {
		t->st.writes++;
		t->st.write_bytes += io->rw.bytes;
		t->st.fua += io->fua;
	} else {
		t->st.reads++;
		t->st.read_bytes += io->rw.bytes;
	}
	*through(t) += io->rw.bytes;
out:
	if (!io->sends)
		io->state = IO_FREE;
}

/* Every command on the backing controller, and with @reads_too
 * every one reading its data, fails with Internal Error (no DNR: the
 * host retries it) and is answered.
 */
static void fail_inflight(struct tgt *t, int reads_too)
{
	struct tgt_io *io;
	uint32_t i;

	for (i = 0; i < t->nr_bufs; i++) {
		io = &t->io[i];
		if (io->state != IO_NVME &&
		    !(reads_too && io->state == IO_READING))
			continue;
		io->status = P2PMR_NVMF_SC_INTERNAL;
		io_answer(t, i);
	}
}

/*
 * The controller, dma-buf and data MR set up again (tgt_recover()), once
 * no send can still use the old MR: an answer's RDMA WRITE still on its
 * way would read the restarted device memory, or fail on the revoked MR
 * afterwards and start a second recovery.  What those sends found is
 * covered by this recovery.  The device memory went with the reset: no
 * command in flight succeeds (a write's data read into it is gone, a
 * read would send what the reset left).
 */
static void recover(struct tgt *t, const char *why)
{
	struct tgt_queue *q;

	for (q = t->queues; q; q = q->next)
		if (q->outstanding)
			tgt_wait_sends(q);
	if (!t->fatal) {
		tgt_recover(t, why);
		t->revoked_by = NULL;
	}
	fail_inflight(t, 1);
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

/* The backing Read or Write of @io, or its Flush. */
static void io_sqe(const struct tgt_io *io, struct p2pmr_nvme_sqe *sqe)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->nsid = TGT_NSID;
	if (io->flushing) {
		sqe->opc = P2PMR_NVME_CMD_FLUSH;
		return;
	}
	sqe->opc = io->write ? P2PMR_NVME_CMD_WRITE : P2PMR_NVME_CMD_READ;
	sqe->cdw10 = (uint32_t)io->rw.slba;
	sqe->cdw11 = io->rw.slba >> 32;
	sqe->cdw12 = io->rw.nlb - 1;		/* 0's based */
}

/*
 * @io's backing command did not complete, @why: the backing queue (or,
 * for a controller that stopped, all of it) is set up again, and every
 * command on it fails (nvme_lost()).
 */
static void io_lost(struct tgt *t, struct tgt_io *io, const char *why)
{
	int ready = p2pmr_nvme_ready(t->n);
	struct p2pmr_nvme_sqe sqe;
	uint32_t i, n = 0;

	for (i = 0; i < t->nr_bufs; i++)
		n += t->io[i].state == IO_NVME;
	io_sqe(io, &sqe);
	fprintf(stderr, "p2pmr-nvmf: %u backing command%s not completed (CSTS 0x%x)\n",
		n, n > 1 ? "s" : "", p2pmr_nvme_reg32(t->n, 0x1c));
	nvme_lost(t, &sqe, ready ? -ETIMEDOUT : -EIO, why);
}

/*
 * Entry @i's backing command (its Read, Write or Flush, or the Flush after
 * a FUA write), submitted; when it cannot be, answered with Internal Error.
 */
static void io_submit(struct tgt *t, uint32_t i)
{
	struct tgt_io *io = &t->io[i];
	struct p2pmr_nvme_buf b = { .addr = buf_nvme(t, i),
				    .len = io->rw.bytes };
	struct p2pmr_nvme_sqe sqe;
	int ret;

	if (io->reset == 2 && !io->flushing)
		fault_reset(t, "the backing Write of a host write");
	if (!t->nqp) {
		io->status = P2PMR_NVMF_SC_INTERNAL;
		io_answer(t, i);
		return;
	}
	io_sqe(io, &sqe);
	ret = p2pmr_nvme_submit(t->nqp, &sqe, io->flushing ? NULL : &b);
	if (ret < 0) {
		/* Refused by the driver: nothing was submitted. */
		if (io->flush)
			fprintf(stderr, "p2pmr-nvmf: backing Flush not submitted (%d): %s\n",
				ret, p2pmr_errmsg());
		else
			fprintf(stderr, "p2pmr-nvmf: backing opcode 0x%02x at LBA %llu not submitted (%d): %s\n",
				sqe.opc, (unsigned long long)io->rw.slba, ret,
				p2pmr_errmsg());
		io->status = P2PMR_NVMF_SC_INTERNAL;
		io_answer(t, i);
		return;
	}
	io->cid = ret;
	io->since_ms = tgt_now_ms();
	io->state = IO_NVME;
	/* Test hook: submitted, never waited for, as if lost. */
	if (t->fault_timeout && !--t->fault_timeout)
		io_lost(t, io, "not waited for (P2PMR_NVMF_FAULT=nvme-timeout)");
}

/* Entry @i's RDMA READ completed (or failed: its queue broke). */
static void io_read_done(struct tgt *t, uint32_t i)
{
	struct tgt_io *io = &t->io[i];

	if (io->dropped || io->q->broken) {
		/* No answer can go; nothing else touches the buffer. */
		io->dropped = 1;
		io->state = IO_FREE;
		return;
	}
	if (t->fatal) {
		io_answer(t, i);
		return;
	}
	t->st.rdma_in += io->rw.bytes;
	io_submit(t, i);
}

/* The entry whose backing command is @cid, or NULL. */
static struct tgt_io *io_of_cid(struct tgt *t, uint16_t cid)
{
	uint32_t i;

	for (i = 0; i < t->nr_bufs; i++)
		if (t->io[i].state == IO_NVME && t->io[i].cid == cid)
			return &t->io[i];
	return NULL;
}

/*
 * @io's backing command completed with @cqe (its cid already taken off
 * @io).  A FUA write is on the media only after a Flush (the host
 * completes journal commits and O_DSYNC writes on it, and the controller
 * may have a volatile cache): its Flush follows.
 */
static void io_nvme_done(struct tgt *t, struct tgt_io *io,
			 const struct p2pmr_nvme_cqe *cqe)
{
	uint16_t st;

	st = P2PMR_NVME_STATUS(cqe);
	if (st && P2PMR_NVME_DNR(cqe))
		st |= P2PMR_NVMF_STATUS_DNR;
	if (!st && io->fua && !io->flushing) {
		io->flushing = 1;
		io_submit(t, io - t->io);
		return;
	}
	io->status = st;
	io_answer(t, io - t->io);
}

/*
 * No backing completion came: every CSTS_LOOK_MS, a controller that
 * stopped serving (reset, failed, memory decode off) is looked for; the
 * oldest command waits TGT_NVME_TIMEOUT_MS at most.
 */
static void io_nvme_stalled(struct tgt *t)
{
	struct tgt_io *io, *oldest = NULL;
	uint64_t now = tgt_now_ms();
	uint32_t i;

	if (now - t->csts_ms < CSTS_LOOK_MS)
		return;
	t->csts_ms = now;
	for (i = 0; i < t->nr_bufs; i++) {
		io = &t->io[i];
		if (io->state == IO_NVME &&
		    (!oldest || io->since_ms < oldest->since_ms))
			oldest = io;
	}
	if (!oldest)
		return;
	if (!p2pmr_nvme_ready(t->n))
		io_lost(t, oldest,
			"the controller stopped (reset, failed or memory decode off)");
	else if (now - oldest->since_ms > TGT_NVME_TIMEOUT_MS)
		io_lost(t, oldest, "no completion within the timeout");
}

/**
 * tgt_io_poll() - Move the commands in flight along, not waiting.
 * @t: the target
 *
 * Takes the send completions of every queue (RDMA READs done, answers
 * sent), then the backing controller's completions; a revoke an RDMA
 * operation found, a stopped controller or a lost backing command starts
 * a recovery here.
 *
 * Return: how many commands moved to their next step.
 */
int tgt_io_poll(struct tgt *t)
{
	struct p2pmr_nvme_cqe cqes[TGT_MAX_BUFS];
	struct tgt_queue *q;
	struct tgt_io *done[TGT_MAX_BUFS];
	int moved = 0, got, j;
	uint64_t gen;
	uint32_t i;

	for (q = t->queues; q; q = q->next)
		tgt_reap_sends(q);
	/* Before a READ's data is used: it may have come after a reset. */
	if (t->revoked_by && !t->fatal) {
		revoked(t);
		return 1;
	}
	for (i = 0; i < t->nr_bufs; i++) {
		if (t->io[i].state == IO_READING && !t->io[i].sends) {
			io_read_done(t, i);
			moved++;
		}
	}
	if (!t->nqp || t->fatal)
		return moved;
	for (i = 0; i < t->nr_bufs; i++)
		if (t->io[i].state == IO_NVME)
			break;
	if (i == t->nr_bufs)
		return moved;
	got = p2pmr_nvme_poll(t->nqp, cqes, TGT_MAX_BUFS, 0);
	/*
	 * Every completion matched to its command first: the poll freed
	 * their cids, which a FUA write's Flush submitted below may take.
	 */
	for (j = 0; j < got; j++) {
		done[j] = io_of_cid(t, cqes[j].cid);
		if (done[j])
			done[j]->cid = -1;
	}
	/* The rest are stale after a FUA Flush's recovery (test hook). */
	gen = t->st.recoveries + t->st.resets;
	for (j = 0; j < got && !t->fatal &&
	     gen == t->st.recoveries + t->st.resets; j++) {
		if (!done[j])
			continue;
		io_nvme_done(t, done[j], &cqes[j]);
		moved++;
	}
	/* Also while others complete: one may never. */
	io_nvme_stalled(t);
	return moved;
}

/* An entry whose buffer is free, else -1. */
static int io_free(const struct tgt *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_bufs; i++)
		if (t->io[i].state == IO_FREE)
			return i;
	return -1;
}

/*
 * The sends of a queue that has some waited for: the first queue with an
 * RDMA READ in flight, else with an answer.  Return: whether there was
 * one.
 */
static int io_wait_one(struct tgt *t)
{
	struct tgt_io *io;
	int pass;
	uint32_t i;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < t->nr_bufs; i++) {
			io = &t->io[i];
			if (io->state != (pass ? IO_SENDING : IO_READING) ||
			    !io->sends || !io->q->outstanding)
				continue;
			tgt_wait_sends(io->q);
			return 1;
		}
	return 0;
}

/*
 * Until @done(t) or the target must stop: polled, and when nothing moved
 * a queue's sends waited for (a send completes without the target doing
 * anything), else a nap while the backing controller works.
 */
static void io_wait(struct tgt *t, int (*done)(const struct tgt *))
{
	while (!done(t) && !t->fatal)
		if (!tgt_io_poll(t) && !done(t) && !io_wait_one(t))
			tgt_io_nap(t);
}

static int io_some_free(const struct tgt *t)
{
	return io_free(t) >= 0;
}

static int io_none_busy(const struct tgt *t)
{
	return !tgt_io_busy(t);
}

static int io_none_live(const struct tgt *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_bufs; i++)
		if (inflight(&t->io[i]) && t->io[i].q)
			return 0;
	return 1;
}

/**
 * tgt_io_drain_live() - Wait until no Read, Write or Flush of a queue
 *	still there is in flight.
 * @t: the target
 *
 * Those of queues that went may still be on the backing controller.
 */
void tgt_io_drain_live(struct tgt *t)
{
	io_wait(t, io_none_live);
	if (t->fatal)
		fail_inflight(t, 1);
}

/**
 * tgt_io_drain() - Wait until no Read, Write or Flush is in flight.
 * @t: the target
 *
 * Their answers may still be on their way.  A target that must stop
 * fails the rest.
 */
void tgt_io_drain(struct tgt *t)
{
	io_wait(t, io_none_busy);
	if (t->fatal)
		fail_inflight(t, 1);
}

/* Entry @i, set up: started. */
static void io_start(struct tgt *t, uint32_t i)
{
	struct tgt_io *io = &t->io[i];
	uint32_t busy, j;

	if (t->revoked_by && !t->fatal)
		revoked(t);
	/*
	 * A reset since the last command: set up again first.  While others
	 * are in flight, io_nvme_stalled() looks at CSTS instead (a read of
	 * a device register a command costs, in a VM an exit).
	 */
	if (!io->status && !tgt_io_busy(t) && !tgt_backing_ready(t))
		io->status = P2PMR_NVMF_SC_INTERNAL;
	if (io->status || t->fatal) {
		io_answer(t, i);
		return;
	}
	/* The most Reads and Writes at once (a Flush moves no data). */
	for (j = 0, busy = 1; j < t->nr_bufs && !io->flush; j++)
		busy += j != i && inflight(&t->io[j]) && !t->io[j].flush;
	if (!io->flush && busy > t->st.inflight_max)
		t->st.inflight_max = busy;
	/* Test hook: 1 before the RDMA READ, 2 before the NVMe Write. */
	if (io->reset == 1)
		fault_reset(t, "the RDMA READ of a host write");
	if (!io->write || io->incapsule || t->fault_skip_read) {
		if (io->incapsule)
			t->st.inline_in += io->rw.bytes;
		io_submit(t, i);
		return;
	}
	io->state = IO_READING;
	if (!tgt_post_read(io->q, i + 1, buf_rdma(t, i), t->data_mr->lkey,
			   &io->cmd.sgl, io->rw.bytes))
		io->sends++;
}

/**
 * tgt_io_add() - Start a checked Read, Write or Flush.
 * @q: the I/O queue it came on
 * @cmd: the command
 * @rw: its range (all zero for a Flush)
 * @data: a Write's in-capsule data (rw->bytes of it), or NULL
 *
 * It takes a free data buffer, waiting for one (for commands in flight
 * to end, or answers to be sent) when all are taken: only a fallback,
 * since rdma.c holds such a capsule until tgt_io_room().  In-capsule data is
 * copied into the buffer now (the capsule is queue_serve()'s copy, gone
 * after this): it is host memory, which only --buf=host offers to take.
 *
 * Return: 0, or -ENOBUFS: no buffer came free (the target stops), the
 * caller answers the command, if its queue still works.
 */
int tgt_io_add(struct tgt_queue *q, const struct p2pmr_nvmf_cmd *cmd,
	       const struct p2pmr_nvmf_rw *rw, const uint8_t *data)
{
	struct tgt *t = q->t;
	struct tgt_io *io;
	int i;

	io_wait(t, io_some_free);
	/* Stopping: a freed buffer may still be the controller's. */
	i = t->fatal ? -1 : io_free(t);
	if (i < 0) {
		fprintf(stderr, "p2pmr-nvmf: queue %u: no data buffer came free\n",
			q->qid);
		return -ENOBUFS;
	}
	/* Its queue broke meanwhile: no answer could go (the host requeues). */
	if (q->broken)
		return 0;
	io = &t->io[i];
	memset(io, 0, sizeof(*io));
	io->q = q;
	io->cmd = *cmd;
	io->rw = *rw;
	io->cid = -1;
	io->write = cmd->opc == P2PMR_NVME_CMD_WRITE;
	io->fua = io->write && (cdw12(cmd) & RW_FUA);
	io->flush = cmd->opc == P2PMR_NVME_CMD_FLUSH;
	io->flushing = io->flush;
	if (data && io->write && t->host_buf) {
		memcpy((uint8_t *)t->host_buf + (uint64_t)i * t->max_data, data,
		       rw->bytes);
		io->incapsule = 1;
	} else if (data) {
		/* Not offered (the capsule's parser refuses it before). */
		io->status = P2PMR_NVMF_SC_INVALID_FIELD;
	}
	if (io->write && t->fault_reset &&
	    !(++t->fault_writes % t->fault_reset))
		io->reset = 2 - (t->fault_writes / t->fault_reset) % 2;
	io_start(t, i);
	return 0;
}

/**
 * tgt_io_sent() - A send of entry @i completed.
 * @t: the target
 * @i: the entry
 * @status: its work completion's
 *
 * A local protection error is what rxe gives for an lkey whose dma-buf
 * the exporter revoked (docs/importer.md): t->revoked_by says so, and
 * tgt_io_poll() sets everything up again.  An answer's last send frees
 * the buffer; a READ's is taken up by tgt_io_poll().
 */
void tgt_io_sent(struct tgt *t, uint32_t i, int status)
{
	struct tgt_io *io = &t->io[i];

	if (status == IBV_WC_LOC_PROT_ERR && !t->revoked_by)
		t->revoked_by = io->state == IO_READING ? "RDMA READ" :
							   "RDMA WRITE";
	if (!--io->sends && io->state == IO_SENDING)
		io->state = IO_FREE;
}

/* What entry @i's sends are, for the log. */
const char *tgt_io_what(const struct tgt *t, uint32_t i)
{
	return t->io[i].state == IO_READING ? "RDMA READ" :
					      "RDMA WRITE or SEND";
}

/**
 * tgt_io_queue_gone() - Queue @q is destroyed: its entries go.
 * @q: the queue, its QP destroyed (none of its sends runs any more), out
 *	of t->queues
 *
 * A command on the backing controller keeps its buffer until it
 * completes, and gets no answer.  It is not waited for here: the thread
 * goes on serving the other queues (Keep Alives), and tgt_io_room() holds
 * every new Read, Write and Flush back until it completed (or was lost
 * after TGT_NVME_TIMEOUT_MS), so that nothing the target serves
 * afterwards, such as the host's retry of a write after it reconnected
 * and later writes to the same blocks, can be overtaken by it.
 */
void tgt_io_queue_gone(struct tgt_queue *q)
{
	struct tgt *t = q->t;
	struct tgt_io *io;
	uint32_t i;

	for (i = 0; i < t->nr_bufs; i++) {
		io = &t->io[i];
		if (io->state == IO_FREE || io->q != q)
			continue;
		io->sends = 0;
		io->dropped = 1;
		io->q = NULL;
		if (io->state != IO_NVME)
			io->state = IO_FREE;
	}
}

/**
 * tgt_io_wait_orphans() - Wait until no queue that went has a command on
 *	the backing controller.
 * @t: the target
 *
 * For a caller that starts commands without tgt_io_room() (a Property
 * Set's tgt_serve_held()).
 */
void tgt_io_wait_orphans(struct tgt *t)
{
	if (io_orphans(t))
		tgt_io_drain(t);
}
