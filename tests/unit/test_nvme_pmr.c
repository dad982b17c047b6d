// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the userspace NVMe driver's PMR set-up (pmr_enable(), in
 * userspace/nvme/ctrl.c, built in) against a register file in memory and
 * a fake PCI listing.  Refused, each with its reason: a controller with
 * no PMR, a PMR that commands cannot move data through (PMRCAP.CMSS
 * clear), one in a BAR that cannot hold it (BIR 0, 1, 6, 7), one whose
 * BAR has no address or a misaligned one, one that never gets ready
 * (PMRSTS.NRDY within PMRCAP.PMRTO), one whose health is not normal
 * (PMRSTS.HSTS) and one whose address the controller refuses
 * (PMRSTS.CBAI); a refusal after the PMR was turned on turns it off
 * again.  A good one is turned on at its BAR's bus address.
 */
#include "unit.h"
#include "../../userspace/nvme/ctrl.c"

#define PMR_BAR		2
#define PMR_START	0xfd000000ULL
#define PMR_SIZE	(16ULL << 20)
#define CAP_PMRS	(1ULL << 56)
#define HSTS(v)		((uint32_t)(v) << 9)

static struct p2pmr_dev fake_dev = { .bdf = "0000:00:04.0" };
static uint32_t bar0[0x1000 / 4];
static uint64_t pmr_start;		/* BAR PMR_BAR's bus address */

int __wrap_p2pmr_list_devices(const char *sysfs, unsigned int flags,
			      struct p2pmr_pci_info **listp, size_t *np);
int __wrap_p2pmr_list_devices(const char *sysfs, unsigned int flags,
			      struct p2pmr_pci_info **listp, size_t *np)
{
	struct p2pmr_pci_info *l = calloc(1, sizeof(*l));

	(void)sysfs; (void)flags;
	assert_non_null(l);
	strcpy(l->bdf, fake_dev.bdf);
	l->bar[PMR_BAR].start = pmr_start;
	l->bar[PMR_BAR].size = PMR_SIZE;
	*listp = l;
	*np = 1;
	return 0;
}

void __wrap_p2pmr_free_devices(struct p2pmr_pci_info *list);
void __wrap_p2pmr_free_devices(struct p2pmr_pci_info *list)
{
	free(list);
}

static uint32_t *reg(uint32_t off)
{
	return &bar0[off / 4];
}

/* A controller with a PMR: PMRCAP @cap, PMRSTS reading @sts. */
static void ctrl(struct p2pmr_nvme *n, uint32_t cap, uint32_t sts)
{
	memset(n, 0, sizeof(*n));
	memset(bar0, 0, sizeof(bar0));
	n->dev = &fake_dev;
	n->regs = (volatile uint8_t *)bar0;
	n->cap = CAP_PMRS;
	*reg(NVME_REG_PMRCAP) = cap;
	*reg(NVME_REG_PMRSTS) = sts;
	pmr_start = PMR_START;
}

/* PMRCAP of a usable PMR in BAR @bir: read and write data, CMSS. */
static uint32_t good_cap(uint32_t bir)
{
	return P2PMR_NVME_PMRCAP_RDS | P2PMR_NVME_PMRCAP_WDS |
	       P2PMR_NVME_PMRCAP_CMSS | bir << 5;
}

/* Refused before it was turned on: nothing written. */
static void assert_untouched(const struct p2pmr_nvme *n)
{
	assert_int_equal(*reg(NVME_REG_PMRCTL), 0);
	assert_int_equal(*reg(NVME_REG_PMRMSCL), 0);
	assert_int_equal(n->pmr.size, 0);
}

static void test_pmr_refused_early(void **state)
{
	struct p2pmr_nvme n;
	uint32_t bir;

	(void)state;
	ctrl(&n, good_cap(PMR_BAR), 0);
	n.cap = 0;
	assert_fails_with(pmr_enable(&n), -EOPNOTSUPP, "no PMR (CAP.PMRS clear)");
	assert_untouched(&n);

	ctrl(&n, good_cap(PMR_BAR) & ~P2PMR_NVME_PMRCAP_CMSS, 0);
	assert_fails_with(pmr_enable(&n), -EOPNOTSUPP,
			  "has no controller memory space (CMSS)");
	assert_untouched(&n);

	for (bir = 0; bir < 8; bir++) {
		if (bir >= 2 && bir <= 5)
			continue;
		ctrl(&n, good_cap(bir), 0);
		assert_fails_with(pmr_enable(&n), -EIO, "is no PMR BAR");
		assert_untouched(&n);
	}

	ctrl(&n, good_cap(PMR_BAR), 0);
	pmr_start = 0;
	assert_fails_with(pmr_enable(&n), -ENODEV, "BAR2 has no address");
	assert_untouched(&n);

	ctrl(&n, good_cap(PMR_BAR), 0);
	pmr_start = PMR_START + 0x800;
	assert_fails_with(pmr_enable(&n), -EIO, "is not 4 KiB aligned");
	assert_untouched(&n);
}

/* Refused after PMRCTL.EN was set: turned off again. */
static void test_pmr_refused_late(void **state)
{
	struct p2pmr_nvme n;
	uint64_t t0;

	(void)state;
	/* NRDY never clears; PMRTO 0: half a second of grace. */
	ctrl(&n, good_cap(PMR_BAR), 1u << 8);
	t0 = nvme_now_ms();
	assert_fails_with(pmr_enable(&n), -ETIMEDOUT, "the PMR is not ready");
	assert_true(nvme_now_ms() - t0 >= 500);
	assert_int_equal(*reg(NVME_REG_PMRCTL), 0);
	assert_int_equal(n.pmr.size, 0);

	ctrl(&n, good_cap(PMR_BAR), HSTS(2));
	assert_fails_with(pmr_enable(&n), -EIO, "health status is 2, not normal");
	assert_int_equal(*reg(NVME_REG_PMRCTL), 0);
	assert_int_equal(*reg(NVME_REG_PMRMSCL), 0);
	assert_int_equal(n.pmr.size, 0);

	ctrl(&n, good_cap(PMR_BAR), 1u << 12);
	assert_fails_with(pmr_enable(&n), -EIO,
			  "refused CBA 0xfd000000 for its PMR (PMRSTS.CBAI)");
	assert_int_equal(*reg(NVME_REG_PMRCTL), 0);
	assert_int_equal(*reg(NVME_REG_PMRMSCL), 0);
	assert_int_equal(n.pmr.size, 0);
}

static void test_pmr_good(void **state)
{
	struct p2pmr_nvme n;

	(void)state;
	ctrl(&n, good_cap(PMR_BAR), 0);
	assert_int_equal(pmr_enable(&n), 0);
	assert_int_equal(*reg(NVME_REG_PMRCTL), 1);
	assert_int_equal(*reg(NVME_REG_PMRMSCU), PMR_START >> 32);
	assert_int_equal(*reg(NVME_REG_PMRMSCL), (uint32_t)PMR_START | 2);
	assert_int_equal(n.pmr.size, PMR_SIZE);
	assert_int_equal(n.pmr.addr, PMR_START);
	assert_int_equal(n.pmr.bar, PMR_BAR);
	assert_int_equal(n.pmr.pmrcap, good_cap(PMR_BAR));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pmr_refused_early),
		cmocka_unit_test(test_pmr_refused_late),
		cmocka_unit_test(test_pmr_good),
	};

	return cmocka_run_group_tests_name("nvme-pmr", tests, NULL, NULL);
}
