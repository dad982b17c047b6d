/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef P2PMR_NVME_INTERNAL_H
#define P2PMR_NVME_INTERNAL_H

#include "p2pmr.h"
#include "p2pmr-nvme.h"

/* Controller registers (NVMe base spec 3.1). */
#define NVME_REG_CAP	0x00
#define NVME_REG_VS	0x08
#define NVME_REG_INTMS	0x0c
#define NVME_REG_CC	0x14
#define NVME_REG_CSTS	0x1c
#define NVME_REG_AQA	0x24
#define NVME_REG_ASQ	0x28
#define NVME_REG_ACQ	0x30
#define NVME_REG_CMBLOC	0x38
#define NVME_REG_CMBSZ	0x3c
#define NVME_REG_CMBMSC	0x50
#define NVME_REG_CMBSTS	0x58
#define NVME_REG_PMRCAP	0xe00
#define NVME_REG_PMRCTL	0xe04
#define NVME_REG_PMRSTS	0xe08
#define NVME_REG_PMRMSCL	0xe14
#define NVME_REG_PMRMSCU	0xe18
#define NVME_REG_DBS	0x1000

#define NVME_CC_EN		(1u << 0)
#define NVME_CC_SHN_NORMAL	(1u << 14)
#define NVME_CC_IOSQES		(6u << 16)
#define NVME_CC_IOCQES		(4u << 20)
#define NVME_CSTS_RDY		(1u << 0)
#define NVME_CSTS_CFS		(1u << 1)
#define NVME_CSTS_SHST_MASK	(3u << 2)
#define NVME_CSTS_SHST_DONE	(2u << 2)

/* Create I/O Completion Queue, CDW11: contiguous, interrupts, vector. */
#define NVME_CQ_PC		(1u << 0)
#define NVME_CQ_IEN		(1u << 1)
#define NVME_CQ_IV(v)		((uint32_t)(v) << 16)
/* MSI-X vectors enabled at most: interrupts for queues 1 to 31. */
#define NVME_IRQ_VECTORS	32

#define NVME_PAGE		4096u
#define NVME_ADMIN_QID		0
/* While a command is waited for, CSTS is read this often (ms). */
#define NVME_CSTS_LOOK_MS	100

struct p2pmr_nvme_qp {
	struct p2pmr_nvme *ctrl;
	uint16_t qid;
	uint16_t depth;
	struct p2pmr_nvme_sqe *sq;
	uint64_t sq_iova;
	volatile struct p2pmr_nvme_cqe *cq;
	uint64_t cq_iova;
	uint32_t sq_db;			/* doorbell offsets in BAR0 */
	uint32_t cq_db;
	uint16_t sq_tail;
	uint16_t sq_head;		/* as the last completion reported */
	uint16_t cq_head;
	uint8_t phase;
	uint16_t outstanding;
	uint16_t next_cid;
	uint8_t *busy;			/* per cid: submitted, not completed */
	uint8_t irq;			/* MSI-X vector qid signals irq_fd */
	uint64_t *prp;			/* one page of PRP list per cid */
	uint64_t prp_iova;
	struct p2pmr_nvme_qp *next;	/* the controller's I/O pairs */
};

struct p2pmr_nvme {
	struct p2pmr_dev *dev;
	volatile uint8_t *regs;		/* BAR0, or NULL: pread/pwrite */
	size_t regs_len;
	uint64_t regs_off;		/* BAR0's offset in the device fd */
	uint64_t cap;
	uint32_t dstrd;			/* doorbell stride, bytes */
	uint32_t ready_ms;		/* CAP.TO */
	uint32_t timeout_ms;
	uint32_t nap_us;		/* p2pmr_nvme_opts.nap_us */
	size_t max_xfer;
	int fault_prp;			/* P2PMR_NVME_FAULT=prp-list */
	int irq_fd;			/* p2pmr_nvme_opts.irq: eventfd, or -1 */
	uint32_t irq_vectors;		/* MSI-X vectors used (at most 32) */
	int irq_on;			/* MSI-X enabled through VFIO */

	uint8_t *dma;			/* the arena */
	size_t dma_len;
	uint64_t dma_iova;
	uint8_t *dma_used;		/* per page */

	uint64_t resv[6][2];		/* p2pmr_iova_reserve()d windows */
	int nr_resv;

	struct p2pmr_nvme_qp admin;
	uint32_t admin_depth;
	struct p2pmr_nvme_qp *ioqs;
	uint8_t *id_ctrl;
	uint64_t id_ctrl_iova;

	struct p2pmr_nvme_cmb cmb;
	void *cmb_bar_map;		/* the whole BAR, for munmap */
	size_t cmb_bar_len;
	struct p2pmr_nvme_pmr pmr;
};

uint32_t nvme_rd32(struct p2pmr_nvme *n, uint32_t off);
void nvme_wr32(struct p2pmr_nvme *n, uint32_t off, uint32_t v);
uint64_t nvme_now_ms(void);

/* MSI-X vector @vector signalling @fd (-1: none); 0 or -errno (with a
 * message only when @fd >= 0).
 */
int nvme_irq_set(struct p2pmr_nvme *n, uint32_t vector, int fd);

/* Identify Namespace data @id of @nsid digested into @ns; 0 or -errno. */
int nvme_ns_parse(const char *bdf, uint32_t nsid, const uint8_t *id,
		  struct p2pmr_nvme_ns *ns);

/* Set up the queue memory of @qp (qid, depth, ctrl set); 0 or -ENOSPC. */
int nvme_qp_alloc(struct p2pmr_nvme *n, struct p2pmr_nvme_qp *qp);
void nvme_qp_free(struct p2pmr_nvme *n, struct p2pmr_nvme_qp *qp);
/* Forget what the controller had: empty queues, phase 1. */
void nvme_qp_reset(struct p2pmr_nvme_qp *qp);

#endif
