// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Queue pairs (the admin pair and polled I/O pairs), PRPs, command
 * submission and completion.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "nvme-internal.h"

int p2pmr_nvme_prp_build(const struct p2pmr_nvme_buf *buf, uint32_t page,
			 uint64_t *list, size_t list_cap, uint64_t list_addr,
			 uint64_t *prp1, uint64_t *prp2)
{
	uint64_t first, mask = (uint64_t)page - 1;
	size_t pages, i;

	if (!buf->len || !page || (page & mask) || (buf->offset & 3))
		return -EINVAL;
	if (buf->pages) {
		if (buf->offset >= page)
			return -EINVAL;
		pages = (buf->offset + buf->len + mask) / page;
		if (pages > buf->nr_pages)
			return -EINVAL;
		for (i = 0; i < pages; i++)
			if (buf->pages[i] & mask)
				return -EINVAL;
		first = buf->pages[0] + buf->offset;
	} else {
		if (buf->addr & 3 || buf->addr + (buf->len - 1) < buf->addr)
			return -EINVAL;
		first = buf->addr;
		pages = ((first & mask) + buf->len + mask) / page;
	}
	*prp1 = first;
	*prp2 = 0;
	if (pages == 1)
		return 0;
	/* The address of page i of the buffer (i >= 1): page aligned. */
#define PAGE_AT(i) (buf->pages ? buf->pages[i] : \
		    (first & ~mask) + (uint64_t)(i) * page)
	if (pages == 2) {
		*prp2 = PAGE_AT(1);
		return 0;
	}
	if (pages - 1 > list_cap)
		return -E2BIG;
	for (i = 1; i < pages; i++)
		list[i - 1] = PAGE_AT(i);
#undef PAGE_AT
	*prp2 = list_addr;
	return (int)(pages - 1);
}

/* Free the queue memory and per-cid state of @qp (not @qp itself). */
void nvme_qp_free(struct p2pmr_nvme *n, struct p2pmr_nvme_qp *qp)
{
	if (qp->irq)
		nvme_irq_set(n, qp->qid, -1);
	qp->irq = 0;
	p2pmr_nvme_dma_free(n, qp->sq, (size_t)qp->depth * 64);
	p2pmr_nvme_dma_free(n, (void *)qp->cq, (size_t)qp->depth * 16);
	p2pmr_nvme_dma_free(n, qp->prp, (size_t)qp->depth * NVME_PAGE);
	free(qp->busy);
	qp->busy = NULL;
	qp->sq = NULL;
	qp->cq = NULL;
	qp->prp = NULL;
}

int nvme_qp_alloc(struct p2pmr_nvme *n, struct p2pmr_nvme_qp *qp)
{
	void *cq;
	int ret;

	qp->busy = calloc(qp->depth, 1);
	if (!qp->busy)
		return p2pmr_fail(-ENOMEM, "out of memory");
	ret = p2pmr_nvme_dma_alloc(n, (size_t)qp->depth * 64, (void **)&qp->sq,
				   &qp->sq_iova);
	if (!ret)
		ret = p2pmr_nvme_dma_alloc(n, (size_t)qp->depth * 16, &cq,
					   &qp->cq_iova);
	if (!ret) {
		qp->cq = cq;
		ret = p2pmr_nvme_dma_alloc(n, (size_t)qp->depth * NVME_PAGE,
					   (void **)&qp->prp, &qp->prp_iova);
	}
	if (ret) {
		nvme_qp_free(n, qp);
		return ret;
	}
	qp->sq_db = NVME_REG_DBS + 2 * qp->qid * n->dstrd;
	qp->cq_db = qp->sq_db + n->dstrd;
	nvme_qp_reset(qp);
	return 0;
}

void nvme_qp_reset(struct p2pmr_nvme_qp *qp)
{
	qp->sq_tail = qp->sq_head = qp->cq_head = 0;
	qp->phase = 1;
	qp->outstanding = 0;
	qp->next_cid = 0;
	memset(qp->busy, 0, qp->depth);
	memset((void *)qp->cq, 0, (size_t)qp->depth * 16);
}

uint16_t p2pmr_nvme_qp_id(const struct p2pmr_nvme_qp *qp)
{
	return qp->qid;
}

int p2pmr_nvme_submit(struct p2pmr_nvme_qp *qp, struct p2pmr_nvme_sqe *sqe,
		      const struct p2pmr_nvme_buf *buf)
{
	struct p2pmr_nvme *n = qp->ctrl;
	uint16_t cid;
	int ret;

	p2pmr_clear_error();
	if ((uint16_t)(qp->sq_tail + 1) % qp->depth == qp->sq_head ||
	    qp->outstanding >= qp->depth - 1)
		return p2pmr_fail(-EBUSY, "%s: queue %u is full",
				  p2pmr_dev_bdf(n->dev), qp->qid);
	for (cid = qp->next_cid; qp->busy[cid]; cid = (cid + 1) % qp->depth)
		;
	if (buf) {
		uint64_t *list = qp->prp + (size_t)cid * (NVME_PAGE / 8);

		if (buf->len > n->max_xfer)
			return p2pmr_fail(-EINVAL,
					  "%s: %zu bytes is over the largest transfer (%zu, MDTS)",
					  p2pmr_dev_bdf(n->dev), buf->len,
					  n->max_xfer);
		ret = p2pmr_nvme_prp_build(buf, NVME_PAGE, list, NVME_PAGE / 8,
					   qp->prp_iova + (uint64_t)cid * NVME_PAGE,
					   &sqe->prp1, &sqe->prp2);
		if (ret < 0)
			return p2pmr_fail(ret,
					  "%s: cannot describe a buffer of %zu bytes at 0x%llx+%u (%zu pages) with PRPs: %s",
					  p2pmr_dev_bdf(n->dev), buf->len,
					  (unsigned long long)(buf->pages ?
					  buf->pages[0] : buf->addr),
					  buf->offset, buf->nr_pages,
					  strerror(-ret));
		if (ret >= 2 && n->fault_prp) {
			uint64_t t = list[0];

			list[0] = list[1];
			list[1] = t;
		}
		sqe->flags &= ~0xc0;		/* PSDT 0: PRPs */
	}
	sqe->cid = cid;
	qp->busy[cid] = 1;
	qp->outstanding++;
	qp->next_cid = (cid + 1) % qp->depth;
	memcpy(&qp->sq[qp->sq_tail], sqe, sizeof(*sqe));
	qp->sq_tail = (qp->sq_tail + 1) % qp->depth;
	/* The entry (and its PRP list) in memory before the doorbell. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	nvme_wr32(n, qp->sq_db, qp->sq_tail);
	return cid;
}

/* Between two looks at a completion queue: the CPU to others. */
static void nap(const struct p2pmr_nvme *n)
{
	struct timespec ts = { .tv_nsec = (long)n->nap_us * 1000 };

	if (n->nap_us)
		nanosleep(&ts, NULL);
	else
		sched_yield();
}

int p2pmr_nvme_poll(struct p2pmr_nvme_qp *qp, struct p2pmr_nvme_cqe *cqes,
		    int max, uint32_t timeout_ms)
{
	uint64_t end = 0, look = 0, now;
	int got = 0;

	p2pmr_clear_error();
	while (got < max) {
		volatile struct p2pmr_nvme_cqe *e = &qp->cq[qp->cq_head];
		struct p2pmr_nvme_cqe c;

		if ((e->status & 1) != qp->phase) {
			if (got)
				break;
			now = nvme_now_ms();
			if (!end) {
				end = now + timeout_ms;
				look = now + NVME_CSTS_LOOK_MS;
			}
			if (now >= end)
				break;
			/* A controller reset or failed completes nothing. */
			if (now >= look) {
				if (!p2pmr_nvme_ready(qp->ctrl))
					break;
				look = now + NVME_CSTS_LOOK_MS;
			}
			nap(qp->ctrl);
			continue;
		}
		/* The rest of the entry is read after its phase bit. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		memcpy(&c, (const void *)e, sizeof(c));
		if (++qp->cq_head == qp->depth) {
			qp->cq_head = 0;
			qp->phase ^= 1;
		}
		qp->sq_head = c.sqhd % qp->depth;
		if (c.cid < qp->depth && qp->busy[c.cid]) {
			qp->busy[c.cid] = 0;
			qp->outstanding--;
		}
		cqes[got++] = c;
	}
	if (got)
		nvme_wr32(qp->ctrl, qp->cq_db, qp->cq_head);
	return got;
}

int p2pmr_nvme_exec(struct p2pmr_nvme_qp *qp, struct p2pmr_nvme_sqe *sqe,
		    const struct p2pmr_nvme_buf *buf,
		    struct p2pmr_nvme_cqe *cqe)
{
	struct p2pmr_nvme *n = qp->ctrl;
	struct p2pmr_nvme_cqe c;
	int cid;

	if (qp->outstanding) {
		p2pmr_clear_error();
		return p2pmr_fail(-EBUSY, "%s: queue %u has %u commands outstanding",
				  p2pmr_dev_bdf(n->dev), qp->qid,
				  qp->outstanding);
	}
	cid = p2pmr_nvme_submit(qp, sqe, buf);
	if (cid < 0)
		return cid;
	if (p2pmr_nvme_poll(qp, &c, 1, n->timeout_ms) != 1) {
		uint32_t csts = nvme_rd32(n, NVME_REG_CSTS);

		if (!p2pmr_nvme_csts_ok(csts))
			return p2pmr_fail(-EIO,
					  "%s: queue %u: opcode 0x%x (cid %d) not completed: the controller stopped (CSTS 0x%x: reset, failed or memory decode off)",
					  p2pmr_dev_bdf(n->dev), qp->qid,
					  sqe->opc, cid, csts);
		return p2pmr_fail(-ETIMEDOUT,
				  "%s: queue %u: no completion of opcode 0x%x (cid %d) within %u ms (CSTS 0x%x)",
				  p2pmr_dev_bdf(n->dev), qp->qid, sqe->opc, cid,
				  n->timeout_ms, csts);
	}
	if (c.cid != cid)
		return p2pmr_fail(-EIO, "%s: queue %u: completion for cid %u, want %d",
				  p2pmr_dev_bdf(n->dev), qp->qid, c.cid, cid);
	if (cqe)
		*cqe = c;
	return P2PMR_NVME_STATUS(&c);
}

int p2pmr_nvme_admin(struct p2pmr_nvme *n, struct p2pmr_nvme_sqe *sqe,
		     const struct p2pmr_nvme_buf *buf,
		     struct p2pmr_nvme_cqe *cqe)
{
	return p2pmr_nvme_exec(&n->admin, sqe, buf, cqe);
}

int p2pmr_nvme_rw(struct p2pmr_nvme_qp *qp, uint8_t opc, uint32_t nsid,
		  uint64_t slba, uint32_t nlb,
		  const struct p2pmr_nvme_buf *buf)
{
	struct p2pmr_nvme_sqe sqe = {
		.opc = opc,
		.nsid = nsid,
		.cdw10 = (uint32_t)slba,
		.cdw11 = slba >> 32,
		.cdw12 = nlb - 1,		/* 0's based */
	};

	if (!nlb || nlb > 65536) {
		p2pmr_clear_error();
		return p2pmr_fail(-EINVAL, "p2pmr_nvme_rw: %u blocks", nlb);
	}
	return p2pmr_nvme_exec(qp, &sqe, buf, NULL);
}

int p2pmr_nvme_qp_create(struct p2pmr_nvme *n, uint32_t depth,
			 struct p2pmr_nvme_qp **qpp)
{
	struct p2pmr_nvme_sqe sqe = { 0 };
	struct p2pmr_nvme_qp *qp, *o;
	uint16_t qid;
	int ret;

	p2pmr_clear_error();
	if (depth < 2 || depth > 4096 || depth > (n->cap & 0xffff) + 1)
		return p2pmr_fail(-EINVAL, "%s: queue depth %u: want 2..%llu",
				  p2pmr_dev_bdf(n->dev), depth,
				  (unsigned long long)(n->cap & 0xffff) + 1);
	/* The lowest queue id not in use. */
	for (qid = 1; qid; qid++) {
		for (o = n->ioqs; o && o->qid != qid; o = o->next)
			;
		if (!o)
			break;
	}
	if (!qid)
		return p2pmr_fail(-ENOSPC, "no queue id left");
	qp = calloc(1, sizeof(*qp));
	if (!qp)
		return p2pmr_fail(-ENOMEM, "out of memory");
	qp->ctrl = n;
	qp->qid = qid;
	qp->depth = depth;
	ret = nvme_qp_alloc(n, qp);
	if (ret)
		goto err_free;

	/*
	 * Physically contiguous (PC); with interrupts, IEN and the vector
	 * (IV) of the queue's id, its eventfd set before the controller
	 * can raise it.
	 */
	sqe.opc = P2PMR_NVME_ADMIN_CREATE_CQ;
	sqe.prp1 = qp->cq_iova;
	sqe.cdw10 = (depth - 1) << 16 | qid;
	sqe.cdw11 = NVME_CQ_PC;
	if (n->irq_fd >= 0) {
		ret = nvme_irq_set(n, qid, n->irq_fd);
		if (ret)
			goto err_qp;
		qp->irq = 1;
		sqe.cdw11 |= NVME_CQ_IEN | NVME_CQ_IV(qid);
	}
	ret = p2pmr_nvme_admin(n, &sqe, NULL, NULL);
	if (ret)
		goto err_qp;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = P2PMR_NVME_ADMIN_CREATE_SQ;
	sqe.prp1 = qp->sq_iova;
	sqe.cdw10 = (depth - 1) << 16 | qid;
	sqe.cdw11 = (uint32_t)qid << 16 | 1;
	ret = p2pmr_nvme_admin(n, &sqe, NULL, NULL);
	if (ret)
		goto err_cq;
	qp->next = n->ioqs;
	n->ioqs = qp;
	*qpp = qp;
	return 0;

err_cq:
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = P2PMR_NVME_ADMIN_DELETE_CQ;
	sqe.cdw10 = qid;
	p2pmr_nvme_admin(n, &sqe, NULL, NULL);
err_qp:
	nvme_qp_free(n, qp);
err_free:
	free(qp);
	return ret;
}

int p2pmr_nvme_qp_destroy(struct p2pmr_nvme_qp *qp)
{
	struct p2pmr_nvme_sqe sqe = { .opc = P2PMR_NVME_ADMIN_DELETE_SQ };
	struct p2pmr_nvme *n;
	struct p2pmr_nvme_qp **pp;
	int ret, ret2;

	if (!qp)
		return 0;
	n = qp->ctrl;
	sqe.cdw10 = qp->qid;
	ret = p2pmr_nvme_admin(n, &sqe, NULL, NULL);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = P2PMR_NVME_ADMIN_DELETE_CQ;
	sqe.cdw10 = qp->qid;
	ret2 = p2pmr_nvme_admin(n, &sqe, NULL, NULL);
	for (pp = &n->ioqs; *pp && *pp != qp; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = qp->next;
	nvme_qp_free(n, qp);
	free(qp);
	return ret ? ret : ret2;
}
