// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The controller: VFIO device, BAR0 registers, the host DMA arena, enable
 * and disable, the CMB, identify.  Queues and PRPs are in queue.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>

#include "internal.h"
#include "nvme-internal.h"

uint64_t nvme_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Registers are 32-bit accesses through the mmap of BAR0, or pread/pwrite
 * of the region when VFIO does not let BAR0 be mmapped (the MSI-X table
 * lives there too).
 */
uint32_t nvme_rd32(struct p2pmr_nvme *n, uint32_t off)
{
	uint32_t v = ~0u;

	if (n->regs)
		return *(volatile uint32_t *)(n->regs + off);
	if (pread(p2pmr_dev_fd(n->dev), &v, 4, n->regs_off + off) != 4)
		return ~0u;
	return v;
}

void nvme_wr32(struct p2pmr_nvme *n, uint32_t off, uint32_t v)
{
	if (n->regs) {
		*(volatile uint32_t *)(n->regs + off) = v;
		return;
	}
	if (pwrite(p2pmr_dev_fd(n->dev), &v, 4, n->regs_off + off) != 4)
		return;	/* a lost register write shows as a timeout */
}

static uint64_t rd64(struct p2pmr_nvme *n, uint32_t off)
{
	uint32_t lo = nvme_rd32(n, off);

	return lo | (uint64_t)nvme_rd32(n, off + 4) << 32;
}

/* Low dword first: controllers latch 64-bit registers on either half. */
static void wr64(struct p2pmr_nvme *n, uint32_t off, uint64_t v)
{
	nvme_wr32(n, off, (uint32_t)v);
	nvme_wr32(n, off + 4, v >> 32);
}

uint32_t p2pmr_nvme_reg32(struct p2pmr_nvme *n, uint32_t off)
{
	return nvme_rd32(n, off);
}

/* Wait until (CSTS & @mask) == @want, for CAP.TO. */
static int wait_csts(struct p2pmr_nvme *n, uint32_t mask, uint32_t want,
		     const char *what)
{
	uint64_t end = nvme_now_ms() + n->ready_ms;
	uint32_t csts;

	for (;;) {
		csts = nvme_rd32(n, NVME_REG_CSTS);
		if (csts == ~0u)
			return p2pmr_fail(-EIO,
					  "%s: CSTS reads all ones (device gone or memory decode off)",
					  p2pmr_dev_bdf(n->dev));
		if ((csts & mask) == want)
			return 0;
		if ((csts & NVME_CSTS_CFS) && want)
			return p2pmr_fail(-EIO,
					  "%s: controller fatal status (CSTS 0x%x) while waiting for %s",
					  p2pmr_dev_bdf(n->dev), csts, what);
		if (nvme_now_ms() > end)
			return p2pmr_fail(-ETIMEDOUT,
					  "%s: no %s within CAP.TO (%u ms), CSTS 0x%x",
					  p2pmr_dev_bdf(n->dev), what, n->ready_ms,
					  csts);
		usleep(1000);
	}
}

/* PCI_COMMAND through the VFIO config region: set @set, clear @clear. */
static int pci_command(struct p2pmr_nvme *n, uint16_t set, uint16_t clear)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
				       .index = VFIO_PCI_CONFIG_REGION_INDEX };
	int fd = p2pmr_dev_fd(n->dev);
	uint16_t cmd;

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &cfg) ||
	    pread(fd, &cmd, 2, cfg.offset + PCI_COMMAND) != 2)
		return p2pmr_fail(-errno ? -errno : -EIO,
				  "%s: cannot read PCI_COMMAND: %s",
				  p2pmr_dev_bdf(n->dev), strerror(errno));
	cmd = (cmd | set) & ~clear;
	if (pwrite(fd, &cmd, 2, cfg.offset + PCI_COMMAND) != 2)
		return p2pmr_fail(-errno ? -errno : -EIO,
				  "%s: cannot write PCI_COMMAND: %s",
				  p2pmr_dev_bdf(n->dev), strerror(errno));
	return 0;
}

/*
 * p2pmr_nvme_opts.irq: the device's MSI-X vectors counted, the eventfd
 * made.  MSI-X is enabled when the first queue pair's vector is set
 * (nvme_irq_set()).
 */
static int irq_init(struct p2pmr_nvme *n)
{
	struct vfio_irq_info info = { .argsz = sizeof(info),
				      .index = VFIO_PCI_MSIX_IRQ_INDEX };

	if (ioctl(p2pmr_dev_fd(n->dev), VFIO_DEVICE_GET_IRQ_INFO, &info))
		return p2pmr_fail(-errno, "%s: VFIO_DEVICE_GET_IRQ_INFO (MSI-X): %s",
				  p2pmr_dev_bdf(n->dev), strerror(errno));
	if (!(info.flags & VFIO_IRQ_INFO_EVENTFD) || info.count < 2)
		return p2pmr_fail(-EOPNOTSUPP,
				  "%s: %u MSI-X vectors: interrupts need one for queue 1 beside the admin queue's",
				  p2pmr_dev_bdf(n->dev), info.count);
	n->irq_vectors = info.count < NVME_IRQ_VECTORS ? info.count :
							 NVME_IRQ_VECTORS;
	n->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->irq_fd < 0)
		return p2pmr_fail(-errno, "eventfd: %s", strerror(errno));
	return 0;
}

/* VFIO_DEVICE_SET_IRQS of MSI-X: @count vectors from @start, or off. */
static int irq_ioctl(struct p2pmr_nvme *n, uint32_t flags, uint32_t start,
		     uint32_t count, const int32_t *fds)
{
	struct {
		struct vfio_irq_set set;
		int32_t fds[NVME_IRQ_VECTORS];
	} s = { .set = { .flags = flags | VFIO_IRQ_SET_ACTION_TRIGGER,
			 .index = VFIO_PCI_MSIX_IRQ_INDEX,
			 .start = start, .count = count } };
	int ret;

	s.set.argsz = sizeof(s.set) + (fds ? count * sizeof(*fds) : 0);
	if (fds)
		memcpy(s.fds, fds, count * sizeof(*fds));
	ret = ioctl(p2pmr_dev_fd(n->dev), VFIO_DEVICE_SET_IRQS, &s.set);
	/* Positive: MSI-X could have only that many vectors. */
	return ret < 0 ? -errno : ret > 0 ? -ENOSPC : 0;
}

/*
 * The first time, MSI-X is enabled with all of n->irq_vectors at once
 * (none but @vector signalled): VFIO allocates vectors later only where
 * the platform can (VFIO_IRQ_INFO_NORESIZE clear); then one vector at a
 * time.  Vector 0, the admin queue's, gets no eventfd: it stays masked.
 */
int nvme_irq_set(struct p2pmr_nvme *n, uint32_t vector, int fd)
{
	int32_t fds[NVME_IRQ_VECTORS];
	uint32_t i;
	int ret;

	if (vector >= n->irq_vectors)
		return p2pmr_fail(-ENOSPC, "%s: no MSI-X vector %u for queue %u (%u used)",
				  p2pmr_dev_bdf(n->dev), vector, vector,
				  n->irq_vectors);
	if (n->irq_on) {
		ret = irq_ioctl(n, VFIO_IRQ_SET_DATA_EVENTFD, vector, 1, &fd);
	} else {
		for (i = 0; i < n->irq_vectors; i++)
			fds[i] = i == vector ? fd : -1;
		ret = irq_ioctl(n, VFIO_IRQ_SET_DATA_EVENTFD, 0,
				n->irq_vectors, fds);
		n->irq_on = !ret;
	}
	if (ret && fd >= 0)
		return p2pmr_fail(ret, "%s: VFIO_DEVICE_SET_IRQS of MSI-X vector %u: %s",
				  p2pmr_dev_bdf(n->dev), vector,
				  ret == -ENOSPC ? "too few vectors" :
				  strerror(-ret));
	return ret;
}

int p2pmr_nvme_irq_fd(const struct p2pmr_nvme *n)
{
	return n->irq_fd;
}

/*
 * Keep host IOVAs out of the device's memory BARs: the controller serves a
 * PRP inside its CMB from the CMB before any IOMMU translation.
 */
static int reserve_bars(struct p2pmr_nvme *n)
{
	struct p2pmr_pci_info *list = NULL;
	size_t nr = 0, i;
	int b, ret;

	ret = p2pmr_list_devices(NULL, P2PMR_LIST_ALL, &list, &nr);
	if (ret)
		return ret;
	for (i = 0; i < nr; i++)
		if (!strcmp(list[i].bdf, p2pmr_dev_bdf(n->dev)))
			break;
	for (b = 0; i < nr && b < P2PMR_NR_BARS; b++) {
		const struct p2pmr_bar_info *bar = &list[i].bar[b];
		uint64_t start = bar->start & ~(uint64_t)(NVME_PAGE - 1);
		uint64_t len;

		if (!bar->size || !(bar->flags & P2PMR_REGION_MEM))
			continue;
		len = (bar->start + bar->size - start + NVME_PAGE - 1) &
		      ~(uint64_t)(NVME_PAGE - 1);
		ret = p2pmr_iova_reserve(n->dev, start, len);
		if (ret)
			break;
		n->resv[n->nr_resv][0] = start;
		n->resv[n->nr_resv][1] = len;
		n->nr_resv++;
	}
	p2pmr_free_devices(list);
	return ret;
}

static int map_bar0(struct p2pmr_nvme *n)
{
	struct p2pmr_region reg;
	void *p;
	int ret;

	ret = p2pmr_query_region(n->dev, VFIO_PCI_BAR0_REGION_INDEX, &reg);
	if (ret)
		return ret;
	if (reg.size < NVME_REG_DBS + 8)
		return p2pmr_fail(-ENODEV, "%s: BAR0 of %llu bytes is no NVMe register file",
				  p2pmr_dev_bdf(n->dev),
				  (unsigned long long)reg.size);
	n->regs_off = reg.offset;
	if (!p2pmr_region_mmap(n->dev, VFIO_PCI_BAR0_REGION_INDEX, &p,
			       &n->regs_len))
		n->regs = p;
	p2pmr_clear_error();
	return 0;
}

static int arena_init(struct p2pmr_nvme *n, size_t len)
{
	int ret;

	n->dma_len = (len + NVME_PAGE - 1) & ~(size_t)(NVME_PAGE - 1);
	n->dma = mmap(NULL, n->dma_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (n->dma == MAP_FAILED) {
		n->dma = NULL;
		return p2pmr_fail(-ENOMEM, "cannot allocate %zu bytes for DMA",
				  n->dma_len);
	}
	n->dma_used = calloc(n->dma_len / NVME_PAGE, 1);
	if (!n->dma_used)
		return p2pmr_fail(-ENOMEM, "out of memory");
	ret = p2pmr_dma_map(n->dev, n->dma, n->dma_len,
			    P2PMR_DMA_READ | P2PMR_DMA_WRITE, &n->dma_iova);
	if (ret)
		n->dma_iova = 0;
	return ret;
}

int p2pmr_nvme_dma_alloc(struct p2pmr_nvme *n, size_t len, void **vaddrp,
			 uint64_t *iovap)
{
	size_t pages = (len + NVME_PAGE - 1) / NVME_PAGE;
	size_t total = n->dma_len / NVME_PAGE, i, run = 0;

	p2pmr_clear_error();
	if (!len)
		return p2pmr_fail(-EINVAL, "p2pmr_nvme_dma_alloc: length 0");
	for (i = 0; i < total; i++) {
		run = n->dma_used[i] ? 0 : run + 1;
		if (run == pages)
			break;
	}
	if (i == total)
		return p2pmr_fail(-ENOSPC,
				  "%s: no %zu contiguous free pages left in the DMA arena of %zu bytes",
				  p2pmr_dev_bdf(n->dev), pages, n->dma_len);
	i = i + 1 - pages;
	memset(n->dma_used + i, 1, pages);
	memset(n->dma + i * NVME_PAGE, 0, pages * NVME_PAGE);
	*vaddrp = n->dma + i * NVME_PAGE;
	*iovap = n->dma_iova + i * NVME_PAGE;
	return 0;
}

void p2pmr_nvme_dma_free(struct p2pmr_nvme *n, void *vaddr, size_t len)
{
	size_t pages = (len + NVME_PAGE - 1) / NVME_PAGE;
	size_t i;

	if (!vaddr)
		return;
	i = ((uint8_t *)vaddr - n->dma) / NVME_PAGE;
	memset(n->dma_used + i, 0, pages);
}

/* The bus address and size of BAR @bar of the controller. */
static int bar_addr(struct p2pmr_nvme *n, uint32_t bar, uint64_t *start,
		    uint64_t *size)
{
	struct p2pmr_pci_info *list = NULL;
	size_t nr = 0, i;
	int ret;

	*start = *size = 0;
	ret = p2pmr_list_devices(NULL, P2PMR_LIST_ALL, &list, &nr);
	if (ret)
		return ret;
	for (i = 0; i < nr; i++)
		if (!strcmp(list[i].bdf, p2pmr_dev_bdf(n->dev))) {
			*start = list[i].bar[bar].start;
			*size = list[i].bar[bar].size;
		}
	p2pmr_free_devices(list);
	if (!*start || !*size)
		return p2pmr_fail(-ENODEV, "%s: BAR%u has no address",
				  p2pmr_dev_bdf(n->dev), bar);
	return 0;
}

/*
 * The CMB (NVMe 1.4 scheme, 3.1.12-3.1.14): CMBMSC.CRE makes CMBLOC and
 * CMBSZ readable; CMSE with CBA turns the controller memory space on at
 * CBA.  CBA is the bus address of the CMB in its BAR, as Linux's nvme
 * driver chooses.  The high dword of CMBMSC is written first: QEMU acts on
 * the low one.  A controller of the 1.3 scheme shows CMBSZ at once and
 * serves the CMB at its bus address anyway.
 */
static int cmb_enable(struct p2pmr_nvme *n)
{
	uint64_t unit, bar_start, bar_size, cba;
	uint32_t loc, sz, sts;
	void *p;
	int ret;

	if (!((n->cap >> 57) & 1))
		return p2pmr_fail(-EOPNOTSUPP,
				  "%s: the controller has no CMB (CAP.CMBS clear)",
				  p2pmr_dev_bdf(n->dev));
	nvme_wr32(n, NVME_REG_CMBMSC + 4, 0);
	nvme_wr32(n, NVME_REG_CMBMSC, 1);		/* CRE */
	loc = nvme_rd32(n, NVME_REG_CMBLOC);
	sz = nvme_rd32(n, NVME_REG_CMBSZ);
	unit = 4096ULL << (4 * ((sz >> 8) & 0xf));
	if (!(sz >> 12) || (loc & 7) > 5)
		return p2pmr_fail(-EIO, "%s: CMBSZ 0x%x, CMBLOC 0x%x: no usable CMB",
				  p2pmr_dev_bdf(n->dev), sz, loc);
	n->cmb.size = (uint64_t)(sz >> 12) * unit;
	n->cmb.bar = loc & 7;
	n->cmb.bar_offset = (uint64_t)(loc >> 12) * unit;
	n->cmb.cmbsz = sz;

	ret = bar_addr(n, n->cmb.bar, &bar_start, &bar_size);
	if (ret)
		return ret;
	cba = bar_start + n->cmb.bar_offset;
	if (cba & (NVME_PAGE - 1))
		return p2pmr_fail(-EIO, "%s: CMB address 0x%llx is not 4 KiB aligned",
				  p2pmr_dev_bdf(n->dev), (unsigned long long)cba);
	nvme_wr32(n, NVME_REG_CMBMSC + 4, cba >> 32);
	nvme_wr32(n, NVME_REG_CMBMSC, (uint32_t)cba | 3);	/* CRE | CMSE */
	sts = nvme_rd32(n, NVME_REG_CMBSTS);
	if (sts & 1)
		return p2pmr_fail(-EIO, "%s: the controller refused CBA 0x%llx (CMBSTS.CBAI)",
				  p2pmr_dev_bdf(n->dev), (unsigned long long)cba);
	n->cmb.addr = cba;
	/* Mapped once: p2pmr_nvme_restart() enables the CMB again. */
	if (!n->cmb_bar_map &&
	    !p2pmr_region_mmap(n->dev, n->cmb.bar, &p, &n->cmb_bar_len)) {
		n->cmb_bar_map = p;
		n->cmb.map = (uint8_t *)p + n->cmb.bar_offset;
	}
	p2pmr_clear_error();
	return 0;
}

int p2pmr_nvme_disable(struct p2pmr_nvme *n)
{
	uint32_t cc = nvme_rd32(n, NVME_REG_CC);

	p2pmr_clear_error();
	nvme_wr32(n, NVME_REG_CC, cc & ~NVME_CC_EN);
	return p2pmr_ret(wait_csts(n, NVME_CSTS_RDY, 0, "CSTS.RDY clear"));
}

int p2pmr_nvme_enable(struct p2pmr_nvme *n)
{
	struct p2pmr_nvme_qp *a = &n->admin;
	int ret;

	p2pmr_clear_error();
	if (nvme_rd32(n, NVME_REG_CC) & NVME_CC_EN)
		return p2pmr_fail(-EBUSY, "%s: the controller is enabled",
				  p2pmr_dev_bdf(n->dev));
	nvme_qp_reset(a);
	nvme_wr32(n, NVME_REG_AQA, (uint32_t)(a->depth - 1) << 16 |
		  (a->depth - 1));
	wr64(n, NVME_REG_ASQ, a->sq_iova);
	wr64(n, NVME_REG_ACQ, a->cq_iova);
	/* NVM command set, MPS 0 (4 KiB), round robin. */
	nvme_wr32(n, NVME_REG_CC, NVME_CC_IOSQES | NVME_CC_IOCQES | NVME_CC_EN);
	ret = wait_csts(n, NVME_CSTS_RDY, NVME_CSTS_RDY, "CSTS.RDY");
	/* Completions are polled: mask the pin interrupt of the admin CQ. */
	if (!ret)
		nvme_wr32(n, NVME_REG_INTMS, ~0u);
	return p2pmr_ret(ret);
}

int p2pmr_nvme_csts_ok(uint32_t csts)
{
	return csts != ~0u && (csts & NVME_CSTS_RDY) && !(csts & NVME_CSTS_CFS);
}

/*
 * The PMR (NVMe 1.4, 3.1.15-3.1.21): PMRCTL.EN turns it on and PMRSTS.NRDY
 * clears when it is ready, within PMRCAP.PMRTO; PMRMSC.CMSE with CBA lets
 * commands' PRPs point into it at CBA, the bus address of its BAR, as for
 * the CMB.  The PMR is the whole BAR.  The high dword of PMRMSC first:
 * QEMU acts on the low one.
 */
static int pmr_enable(struct p2pmr_nvme *n)
{
	uint32_t cap, sts, bar;
	uint64_t start, size, end;
	int ret;

	if (!((n->cap >> 56) & 1))
		return p2pmr_fail(-EOPNOTSUPP,
				  "%s: the controller has no PMR (CAP.PMRS clear)",
				  p2pmr_dev_bdf(n->dev));
	cap = nvme_rd32(n, NVME_REG_PMRCAP);
	bar = (cap >> 5) & 7;
	if (!(cap & P2PMR_NVME_PMRCAP_CMSS))
		return p2pmr_fail(-EOPNOTSUPP,
				  "%s: PMRCAP 0x%x: the PMR has no controller memory space (CMSS): commands cannot move data through it",
				  p2pmr_dev_bdf(n->dev), cap);
	/* BIR 0 and 1 are reserved: BAR0/1 holds the registers. */
	if (bar < 2 || bar > 5)
		return p2pmr_fail(-EIO, "%s: PMRCAP 0x%x: BIR %u is no PMR BAR",
				  p2pmr_dev_bdf(n->dev), cap, bar);
	ret = bar_addr(n, bar, &start, &size);
	if (ret)
		return ret;
	if (start & (NVME_PAGE - 1))
		return p2pmr_fail(-EIO, "%s: PMR address 0x%llx is not 4 KiB aligned",
				  p2pmr_dev_bdf(n->dev), (unsigned long long)start);
	nvme_wr32(n, NVME_REG_PMRCTL, 1);		/* EN */
	/* PMRTO: units of 500 ms, or of minutes (PMRTU 1). */
	end = nvme_now_ms() + ((cap >> 16) & 0xff) *
			      (((cap >> 8) & 3) == 1 ? 60000 : 500) + 500;
	while ((sts = nvme_rd32(n, NVME_REG_PMRSTS)) & (1u << 8)) {
		if (nvme_now_ms() > end) {
			ret = p2pmr_fail(-ETIMEDOUT, "%s: the PMR is not ready (PMRSTS 0x%x)",
					 p2pmr_dev_bdf(n->dev), sts);
			goto off;
		}
		usleep(1000);
	}
	/* Health status (HSTS): 0 is normal operation. */
	if ((sts >> 9) & 7) {
		ret = p2pmr_fail(-EIO, "%s: PMRSTS 0x%x: the PMR's health status is %u, not normal",
				 p2pmr_dev_bdf(n->dev), sts, (sts >> 9) & 7);
		goto off;
	}
	nvme_wr32(n, NVME_REG_PMRMSCU, start >> 32);
	nvme_wr32(n, NVME_REG_PMRMSCL, (uint32_t)start | 2);	/* CMSE */
	sts = nvme_rd32(n, NVME_REG_PMRSTS);
	if (sts & (1u << 12)) {
		ret = p2pmr_fail(-EIO, "%s: the controller refused CBA 0x%llx for its PMR (PMRSTS.CBAI)",
				 p2pmr_dev_bdf(n->dev), (unsigned long long)start);
		goto off;
	}
	n->pmr.size = size;
	n->pmr.addr = start;
	n->pmr.bar = bar;
	n->pmr.pmrcap = cap;
	p2pmr_clear_error();
	return 0;
off:
	nvme_wr32(n, NVME_REG_PMRMSCL, 0);
	nvme_wr32(n, NVME_REG_PMRCTL, 0);
	return ret;
}

int p2pmr_nvme_ready(struct p2pmr_nvme *n)
{
	return p2pmr_nvme_csts_ok(nvme_rd32(n, NVME_REG_CSTS));
}

/*
 * After a reset under the driver (a function reset through sysfs, say)
 * the controller has forgotten its queues, its CMB set-up and its enable;
 * a fatal status needs the same.  The config write is also the barrier:
 * the PCI core blocks config accesses until its reset is done.
 */
int p2pmr_nvme_restart(struct p2pmr_nvme *n)
{
	uint64_t cap;
	int ret;

	p2pmr_clear_error();
	while (n->ioqs) {
		struct p2pmr_nvme_qp *qp = n->ioqs;

		n->ioqs = qp->next;
		nvme_qp_free(n, qp);
		free(qp);
	}
	ret = pci_command(n, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			  PCI_COMMAND_INTX_DISABLE, 0);
	if (ret)
		return ret;
	cap = rd64(n, NVME_REG_CAP);
	if (cap != n->cap)
		return p2pmr_fail(-EAGAIN, "%s: CAP reads 0x%llx, was 0x%llx: the device is not back",
				  p2pmr_dev_bdf(n->dev),
				  (unsigned long long)cap,
				  (unsigned long long)n->cap);
	ret = p2pmr_nvme_disable(n);
	if (!ret && n->cmb.size)
		ret = cmb_enable(n);
	if (!ret && n->pmr.size)
		ret = pmr_enable(n);
	if (!ret)
		ret = p2pmr_nvme_enable(n);
	return p2pmr_ret(ret);
}

static int ctrl_init(struct p2pmr_nvme *n, const struct p2pmr_nvme_opts *o)
{
	uint32_t mpsmin;
	int ret;

	ret = pci_command(n, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			  PCI_COMMAND_INTX_DISABLE, 0);
	if (!ret)
		ret = map_bar0(n);
	if (!ret)
		ret = reserve_bars(n);
	if (!ret)
		ret = arena_init(n, o->dma_size ? o->dma_size : 4 << 20);
	if (!ret && o->irq)
		ret = irq_init(n);
	if (ret)
		return ret;

	n->cap = rd64(n, NVME_REG_CAP);
	if (n->cap == ~0ULL)
		return p2pmr_fail(-EIO, "%s: CAP reads all ones",
				  p2pmr_dev_bdf(n->dev));
	n->dstrd = 4u << ((n->cap >> 32) & 0xf);
	n->ready_ms = ((n->cap >> 24) & 0xff) * 500;
	if (n->ready_ms < 500)
		n->ready_ms = 500;
	mpsmin = (n->cap >> 48) & 0xf;
	if (mpsmin || !((n->cap >> 37) & 1) || sysconf(_SC_PAGESIZE) != NVME_PAGE)
		return p2pmr_fail(-EOPNOTSUPP,
				  "%s: CAP 0x%llx: this driver needs 4 KiB pages (host and MPSMIN) and the NVM command set",
				  p2pmr_dev_bdf(n->dev),
				  (unsigned long long)n->cap);
	n->admin_depth = o->admin_depth ? o->admin_depth : 32;
	if (n->admin_depth < 2 || n->admin_depth > 4096 ||
	    n->admin_depth > (n->cap & 0xffff) + 1)
		return p2pmr_fail(-EINVAL, "%s: admin queue depth %u: want 2..%llu",
				  p2pmr_dev_bdf(n->dev), n->admin_depth,
				  (unsigned long long)(n->cap & 0xffff) + 1);

	if (nvme_rd32(n, NVME_REG_CC) & NVME_CC_EN) {
		ret = p2pmr_nvme_disable(n);
		if (ret)
			return ret;
	}
	if (o->cmb) {
		ret = cmb_enable(n);
		if (ret)
			return ret;
	}
	if (o->pmr) {
		ret = pmr_enable(n);
		if (ret)
			return ret;
	}
	n->max_xfer = NVME_PAGE;	/* until Identify gives MDTS */
	n->admin.ctrl = n;
	n->admin.qid = NVME_ADMIN_QID;
	n->admin.depth = n->admin_depth;
	ret = nvme_qp_alloc(n, &n->admin);
	if (!ret)
		ret = p2pmr_nvme_dma_alloc(n, NVME_PAGE, (void **)&n->id_ctrl,
					   &n->id_ctrl_iova);
	if (!ret)
		ret = p2pmr_nvme_enable(n);
	if (ret)
		return ret;
	ret = p2pmr_nvme_identify(n, 1, 0, n->id_ctrl);
	if (ret)
		return ret < 0 ? ret :
			p2pmr_fail(-EIO, "%s: Identify Controller failed with status 0x%x",
				   p2pmr_dev_bdf(n->dev), ret);
	/* MDTS is in units of CAP.MPSMIN; 0 means no limit. */
	n->max_xfer = (size_t)NVME_PAGE * (NVME_PAGE / 8);
	if (n->id_ctrl[77] && n->id_ctrl[77] < 20 &&
	    (size_t)NVME_PAGE << n->id_ctrl[77] < n->max_xfer)
		n->max_xfer = (size_t)NVME_PAGE << n->id_ctrl[77];
	return 0;
}

int p2pmr_nvme_open(const char *bdf, const struct p2pmr_nvme_opts *opts,
		    struct p2pmr_nvme **np)
{
	static const struct p2pmr_nvme_opts defaults;
	const char *fault = secure_getenv("P2PMR_NVME_FAULT");
	struct p2pmr_nvme *n;
	int ret;

	p2pmr_clear_error();
	n = calloc(1, sizeof(*n));
	if (!n)
		return p2pmr_fail(-ENOMEM, "out of memory");
	if (!opts)
		opts = &defaults;
	if (opts->nap_us >= 1000000) {
		free(n);
		return p2pmr_fail(-EINVAL, "p2pmr_nvme_open: nap_us %u: want below 1000000",
				  opts->nap_us);
	}
	n->irq_fd = -1;
	n->timeout_ms = opts->timeout_ms ? opts->timeout_ms : 30000;
	n->nap_us = opts->nap_us;
	n->fault_prp = fault && !strcmp(fault, "prp-list");
	ret = p2pmr_dev_open(bdf, &n->dev);
	if (ret) {
		free(n);
		return ret;
	}
	ret = ctrl_init(n, opts);
	if (ret) {
		char msg[512];

		/* Keep the first failure's message across the teardown. */
		snprintf(msg, sizeof(msg), "%s", p2pmr_errmsg());
		p2pmr_nvme_close(n);
		return p2pmr_fail(ret, "%s", msg);
	}
	*np = n;
	return 0;
}

void p2pmr_nvme_close(struct p2pmr_nvme *n)
{
	int i;

	if (!n)
		return;
	while (n->ioqs) {
		struct p2pmr_nvme_qp *qp = n->ioqs;

		n->ioqs = qp->next;
		nvme_qp_free(n, qp);
		free(qp);
	}
	if (n->regs || n->regs_off) {
		uint32_t cc = nvme_rd32(n, NVME_REG_CC);

		if (cc & NVME_CC_EN) {
			/* Normal shutdown, then disable; bounded by CAP.TO. */
			nvme_wr32(n, NVME_REG_CC, cc | NVME_CC_SHN_NORMAL);
			wait_csts(n, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_DONE,
				  "shutdown");
			p2pmr_nvme_disable(n);
		}
		if (n->cmb.size)
			nvme_wr32(n, NVME_REG_CMBMSC, 0);
		if (n->pmr.size) {
			nvme_wr32(n, NVME_REG_PMRMSCL, 0);
			nvme_wr32(n, NVME_REG_PMRCTL, 0);
		}
	}
	if (n->cmb_bar_map)
		munmap(n->cmb_bar_map, n->cmb_bar_len);
	if (n->regs)
		munmap((void *)n->regs, n->regs_len);
	if (n->dma_iova)
		p2pmr_dma_unmap(n->dev, n->dma_iova, n->dma_len);
	if (n->dma)
		munmap(n->dma, n->dma_len);
	free(n->dma_used);
	free(n->admin.busy);
	for (i = 0; i < n->nr_resv; i++)
		p2pmr_iova_unreserve(n->dev, n->resv[i][0], n->resv[i][1]);
	/* Before the device fd goes: it may have been passed on. */
	if (n->irq_on)
		irq_ioctl(n, VFIO_IRQ_SET_DATA_NONE, 0, 0, NULL);
	p2pmr_dev_close(n->dev);
	if (n->irq_fd >= 0)
		close(n->irq_fd);
	free(n);
}

struct p2pmr_dev *p2pmr_nvme_dev(struct p2pmr_nvme *n)
{
	return n->dev;
}

const uint8_t *p2pmr_nvme_id_ctrl(struct p2pmr_nvme *n)
{
	return n->id_ctrl;
}

size_t p2pmr_nvme_max_transfer(struct p2pmr_nvme *n)
{
	return n->max_xfer;
}

int p2pmr_nvme_identify(struct p2pmr_nvme *n, uint8_t cns, uint32_t nsid,
			void *data)
{
	struct p2pmr_nvme_sqe sqe = {
		.opc = P2PMR_NVME_ADMIN_IDENTIFY,
		.nsid = nsid,
		.cdw10 = cns,
	};
	struct p2pmr_nvme_buf buf = { .len = NVME_PAGE };
	void *page;
	int ret;

	ret = p2pmr_nvme_dma_alloc(n, NVME_PAGE, &page, &buf.addr);
	if (ret)
		return ret;
	ret = p2pmr_nvme_admin(n, &sqe, &buf, NULL);
	if (!ret)
		memcpy(data, page, NVME_PAGE);
	p2pmr_nvme_dma_free(n, page, NVME_PAGE);
	return ret;
}

/*
 * The LBA format FLBAS selects: its index's bits 3:0 in FLBAS 3:0, bits
 * 5:4 in FLBAS 6:5 (zero unless there are more than 16 formats).  A
 * format with metadata is refused: the commands built here carry no
 * metadata pointer, and with extended LBAs (FLBAS bit 4) the controller
 * would move more bytes than their PRPs describe.
 */
int nvme_ns_parse(const char *bdf, uint32_t nsid, const uint8_t *id,
		  struct p2pmr_nvme_ns *ns)
{
	/* NLBAF (0's based), then NULBAF unique-attribute formats (2.0) */
	unsigned int fmt, nlbaf = id[25] + 1u + id[82];
	const uint8_t *lbaf;
	uint16_t ms;
	uint8_t lbads;

	memcpy(&ns->nsze, id, 8);
	if (!ns->nsze)
		return p2pmr_fail(-ENODEV, "%s: namespace %u is not active",
				  bdf, nsid);
	fmt = (id[26] & 0xf) | (id[26] >> 5 & 0x3) << 4;
	if (fmt >= nlbaf)
		return p2pmr_fail(-EIO, "%s: namespace %u: FLBAS selects format %u of %u",
				  bdf, nsid, fmt, nlbaf);
	lbaf = &id[128 + 4 * fmt];		/* LBAF[fmt]: MS, LBADS, RP */
	ms = (uint16_t)(lbaf[0] | lbaf[1] << 8);
	lbads = lbaf[2];
	if (ms)
		return p2pmr_fail(-EOPNOTSUPP, "%s: namespace %u: format %u has %u bytes of metadata per block (%s): not supported",
				  bdf, nsid, fmt, ms,
				  id[26] & 0x10 ? "extended LBAs" :
						  "a separate buffer");
	ns->nsid = nsid;
	ns->lba_size = lbads >= 9 && lbads < 32 ? 1u << lbads : 0;
	if (!ns->lba_size)
		return p2pmr_fail(-EIO, "%s: namespace %u: LBA data size 2^%u",
				  bdf, nsid, lbads);
	return 0;
}

int p2pmr_nvme_ns_info(struct p2pmr_nvme *n, uint32_t nsid,
		       struct p2pmr_nvme_ns *ns)
{
	uint8_t *id = malloc(NVME_PAGE);
	int ret;

	p2pmr_clear_error();
	if (!id)
		return p2pmr_fail(-ENOMEM, "out of memory");
	ret = p2pmr_nvme_identify(n, 0, nsid, id);
	if (!ret)
		ret = nvme_ns_parse(p2pmr_dev_bdf(n->dev), nsid, id, ns);
	free(id);
	return ret;
}

int p2pmr_nvme_pmr_info(struct p2pmr_nvme *n, struct p2pmr_nvme_pmr *pmr)
{
	p2pmr_clear_error();
	if (!n->pmr.size)
		return p2pmr_fail(-ENODEV, "%s: no PMR enabled",
				  p2pmr_dev_bdf(n->dev));
	*pmr = n->pmr;
	return 0;
}

int p2pmr_nvme_cmb_info(struct p2pmr_nvme *n, struct p2pmr_nvme_cmb *cmb)
{
	p2pmr_clear_error();
	if (!n->cmb.size)
		return p2pmr_fail(-ENODEV, "%s: no CMB enabled",
				  p2pmr_dev_bdf(n->dev));
	*cmb = n->cmb;
	return 0;
}

static int cmb_check(struct p2pmr_nvme *n, uint64_t off, size_t len)
{
	p2pmr_clear_error();
	if (!n->cmb.map)
		return p2pmr_fail(-ENODEV, "%s: no CPU mapping of a CMB",
				  p2pmr_dev_bdf(n->dev));
	if (off % 8 || len % 8 || off > n->cmb.size || len > n->cmb.size - off)
		return p2pmr_fail(-EINVAL,
				  "%s: CMB copy of %zu bytes at %llu: want 8-byte aligned, inside %llu bytes",
				  p2pmr_dev_bdf(n->dev), len,
				  (unsigned long long)off,
				  (unsigned long long)n->cmb.size);
	return 0;
}

int p2pmr_nvme_cmb_write(struct p2pmr_nvme *n, uint64_t off, const void *src,
			 size_t len)
{
	volatile uint64_t *d;
	const uint8_t *s = src;
	size_t i;
	int ret = cmb_check(n, off, len);

	if (ret)
		return ret;
	d = (volatile uint64_t *)((volatile uint8_t *)n->cmb.map + off);
	for (i = 0; i < len / 8; i++) {
		uint64_t v;

		memcpy(&v, s + 8 * i, 8);
		d[i] = v;
	}
	return 0;
}

int p2pmr_nvme_cmb_read(struct p2pmr_nvme *n, uint64_t off, void *dst,
			size_t len)
{
	volatile uint64_t *s;
	uint8_t *d = dst;
	size_t i;
	int ret = cmb_check(n, off, len);

	if (ret)
		return ret;
	s = (volatile uint64_t *)((volatile uint8_t *)n->cmb.map + off);
	for (i = 0; i < len / 8; i++) {
		uint64_t v = s[i];

		memcpy(d + 8 * i, &v, 8);
	}
	return 0;
}
