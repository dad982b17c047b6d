// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: how export and MR registration failures read.  The verbs
 * calls are replaced with mocks (-Wl,--wrap), so no RDMA device is needed.
 */
#include <errno.h>
#include <stdlib.h>
#include <infiniband/verbs.h>

#include "unit.h"
#include "../../userspace/lib/internal.h"

static void test_probe_errors(void **state)
{
	static const char lacks[] =
		"the driver of 0000:00:10.0 (vfio-pci) lacks VFIO_DEVICE_FEATURE_DMA_BUF: bind it to vfio-pci-p2p (modprobe vfio-pci-p2p; see p2pmr(1)) or use Linux >= 6.19 vfio-pci";

	(void)state;
	assert_fails_with(p2pmr_export_fail("0000:00:10.0", "vfio-pci", 2, 1,
					    ENOTTY), -EOPNOTSUPP, lacks);
	assert_string_equal(p2pmr_errmsg(), lacks);
	assert_fails_with(p2pmr_export_fail("0000:00:10.0", "vfio-pci", 2, 1,
					    EOPNOTSUPP), -EOPNOTSUPP, lacks);
	/* Anything else from the PROBE is passed on as it is. */
	assert_fails_with(p2pmr_export_fail("0000:00:10.0", "vfio-pci", 2, 1,
					    EFAULT), -EFAULT,
			  "probe on 0000:00:10.0 failed: Bad address");
}

static void test_get_errors(void **state)
{
	static const struct {
		int err;
		int ret;
		const char *needle;
	} cases[] = {
		{ ENODEV, -ENODEV, "BAR2 of 0000:00:10.0 is not a present memory BAR" },
		{ EINVAL, -EINVAL, "0000:00:10.0 (vfio-pci-p2p) refused the ranges of BAR2" },
		{ EOVERFLOW, -EOVERFLOW, "overflows" },
		{ E2BIG, -E2BIG, "at most 65536" },
		{ EOPNOTSUPP, -EOPNOTSUPP, "0000:00:10.0 has no IOMMU translation (vfio-noiommu?)" },
		{ EPERM, -EPERM, "permission denied exporting BAR2 of 0000:00:10.0" },
		{ EACCES, -EACCES, "permission denied" },
		{ EMFILE, -EMFILE, "ulimit -n" },
		{ ENOMEM, -ENOMEM, "cannot export BAR2 of 0000:00:10.0: Cannot allocate memory" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_fails_with(p2pmr_export_fail("0000:00:10.0",
						    "vfio-pci-p2p", 2, 0,
						    cases[i].err),
				  cases[i].ret, cases[i].needle);
}

/* The mocks: ibv_reg_dmabuf_mr() returns what the test queued. */
struct ibv_mr *__wrap_ibv_reg_dmabuf_mr(struct ibv_pd *pd, uint64_t offset,
					size_t length, uint64_t iova, int fd,
					int access);
const char *__wrap_ibv_get_device_name(struct ibv_device *device);

struct ibv_mr *__wrap_ibv_reg_dmabuf_mr(struct ibv_pd *pd, uint64_t offset,
					size_t length, uint64_t iova, int fd,
					int access)
{
	(void)pd;
	check_expected(offset);
	check_expected(length);
	check_expected(iova);
	check_expected(fd);
	check_expected(access);
	errno = mock_type(int);
	return mock_ptr_type(struct ibv_mr *);
}

const char *__wrap_ibv_get_device_name(struct ibv_device *device)
{
	(void)device;
	return "rxe0";
}

static struct ibv_context ctx;
static struct ibv_pd pd = { .context = &ctx };

static void expect_reg(int err, struct ibv_mr *mr)
{
	expect_value(__wrap_ibv_reg_dmabuf_mr, offset, 4096);
	expect_value(__wrap_ibv_reg_dmabuf_mr, length, 8192);
	expect_value(__wrap_ibv_reg_dmabuf_mr, iova, 0x10000);
	expect_value(__wrap_ibv_reg_dmabuf_mr, fd, 7);
	expect_value(__wrap_ibv_reg_dmabuf_mr, access,
		     IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ);
	will_return(__wrap_ibv_reg_dmabuf_mr, err);
	will_return(__wrap_ibv_reg_dmabuf_mr, mr);
}

static int reg(struct ibv_mr **mr)
{
	/* ibv_reg_dmabuf_mr()'s order: offset, length, iova, fd, access. */
	return p2pmr_reg_mr(&pd, 4096, 8192, 0x10000, 7,
			    IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ,
			    mr);
}

static void test_reg_mr(void **state)
{
	struct ibv_mr fake, *mr = NULL;

	(void)state;
	expect_reg(0, &fake);
	assert_int_equal(reg(&mr), 0);
	assert_ptr_equal(mr, &fake);
	assert_string_equal(p2pmr_errmsg(), "");

	expect_reg(EOPNOTSUPP, NULL);
	assert_fails_with(reg(&mr), -EOPNOTSUPP,
			  "RDMA device rxe0 lacks dma-buf MR support (Soft-RoCE needs p2pmr's rebuilt rdma_rxe; see p2pmr(1))");
	assert_int_equal(errno, EOPNOTSUPP);
	/* The next call starts with no message. */
	expect_reg(0, &fake);
	assert_int_equal(reg(&mr), 0);
	assert_string_equal(p2pmr_errmsg(), "");
	expect_reg(EINVAL, NULL);
	assert_fails_with(reg(&mr), -EINVAL,
			  "rxe0 refused the dma-buf MR (offset 0x1000 length 0x2000 iova 0x10000");
	expect_reg(EACCES, NULL);
	assert_fails_with(reg(&mr), -EACCES, "permission denied");
	/* dma-buf MRs pin nothing: no RLIMIT_MEMLOCK hint. */
	expect_reg(ENOMEM, NULL);
	assert_fails_with(reg(&mr), -ENOMEM,
			  "rxe0: out of memory registering the dma-buf MR");
	assert_null(strstr(p2pmr_errmsg(), "ulimit"));
	assert_int_equal(errno, ENOMEM);
	expect_reg(EIO, NULL);
	assert_fails_with(reg(&mr), -EIO, "rxe0: ibv_reg_dmabuf_mr: Input/output error");

	/* Refused before the call. */
	assert_fails_with(p2pmr_reg_mr(NULL, 0, 4096, 0, 7, 0, &mr), -EINVAL,
			  "needs a PD");
	assert_int_equal(errno, EINVAL);
	assert_fails_with(p2pmr_reg_mr(&pd, 0, 4096, 0, -1, 0, &mr), -EINVAL,
			  "needs a PD");
	assert_fails_with(p2pmr_reg_mr(&pd, 0, 0, 0, 7, 0, &mr), -EINVAL,
			  "non-zero length");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_errors),
		cmocka_unit_test(test_get_errors),
		cmocka_unit_test(test_reg_mr),
	};

	return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
