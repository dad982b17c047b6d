// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests against a fake sysfs tree in a temporary directory:
 * p2pmr_list_devices(), and the sysfs checks of p2pmr_dev_open() and
 * p2pmr_dev_adopt() (through $P2PMR_SYSFS).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

static char root[] = "/tmp/p2pmr-sysfs-XXXXXX";

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void dir(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void link_to(const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

#define ZERO "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"

/*
 * A PCI function; @drv and @group NULL for none.  @res is its "resource"
 * file, or NULL for six absent BARs.
 */
static void pci(const char *bdf, const char *drv, const char *group,
		const char *res)
{
	char rel[256], target[256];

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", bdf);
	dir(rel);
	if (drv) {
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", bdf);
		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s",
			 drv);
		link_to(target, rel);
	}
	if (group) {
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%s", group);
		mkdir(rel, 0755);	/* relative: we are chdir'd to root */
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu_group",
			 bdf);
		snprintf(target, sizeof(target),
			 "../../../kernel/iommu_groups/%s", group);
		link_to(target, rel);
	}
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vendor", bdf);
	put(rel, "0x1af4\n");
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/device", bdf);
	put(rel, "0x1110\n");
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/resource", bdf);
	put(rel, res ? res : ZERO ZERO ZERO ZERO ZERO ZERO ZERO);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(root) || chdir(root))
		return -1;
	dir("bus");
	dir("bus/pci");
	dir("bus/pci/devices");
	dir("kernel");
	dir("kernel/iommu_groups");
	/* BAR0 4K mem, BAR2 64M prefetchable 64-bit (BAR3 its upper half). */
	pci("0000:00:10.0", "vfio-pci-p2p", "5",
	    "0x00000000fea00000 0x00000000fea00fff 0x0000000000040200\n"
	    ZERO
	    "0x0000000800000000 0x0000000803ffffff 0x000000000014220c\n"
	    ZERO ZERO ZERO
	    "0x00000000fe000000 0x00000000fe03ffff 0x0000000000046200\n");
	/* I/O BAR0, group of vfio-noiommu. */
	pci("0000:00:11.0", "vfio-pci", "6",
	    "0x000000000000c000 0x000000000000c01f 0x0000000000040101\n"
	    ZERO ZERO ZERO ZERO ZERO ZERO);
	put("kernel/iommu_groups/6/name", "vfio-noiommu\n");
	pci("0000:00:02.0", "e1000e", "2", NULL);
	pci("0000:00:03.0", NULL, NULL, NULL);
	pci("0001:80:00.1", "vfio_pci_p2p", NULL, NULL);
	pci("0000:00:04.0", "vfio-pci-nvgrace", "7", NULL);
	/* Not a PCI address: skipped. */
	dir("bus/pci/devices/junk");
	return setenv("P2PMR_SYSFS", root, 1);
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	unsetenv("P2PMR_SYSFS");
	if (chdir("/"))
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_list_vfio(void **state)
{
	struct p2pmr_pci_info *l;
	size_t n;

	(void)state;
	assert_int_equal(p2pmr_list_devices(NULL, 0, &l, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(l[0].bdf, "0000:00:04.0");
	assert_string_equal(l[0].driver, "vfio-pci-nvgrace");
	assert_string_equal(l[1].bdf, "0000:00:10.0");
	assert_string_equal(l[2].bdf, "0000:00:11.0");
	assert_string_equal(l[3].bdf, "0001:80:00.1");

	assert_string_equal(l[1].driver, "vfio-pci-p2p");
	assert_int_equal(l[1].iommu_group, 5);
	assert_int_equal(l[1].noiommu, 0);
	assert_int_equal(l[1].vendor, 0x1af4);
	assert_int_equal(l[1].device, 0x1110);
	assert_int_equal(l[1].bar[0].size, 4096);
	assert_int_equal(l[1].bar[0].start, 0xfea00000);
	assert_int_equal(l[1].bar[0].flags, P2PMR_REGION_MEM);
	assert_int_equal(l[1].bar[1].size, 0);
	assert_int_equal(l[1].bar[2].size, 64 << 20);
	assert_int_equal(l[1].bar[2].flags,
			 P2PMR_REGION_MEM | P2PMR_REGION_PREFETCH);
	assert_int_equal(l[1].bar[3].size, 0);
	/* The ROM (line 7) is not a BAR. */
	assert_int_equal(l[1].bar[5].size, 0);

	assert_int_equal(l[2].iommu_group, 6);
	assert_int_equal(l[2].noiommu, 1);
	assert_int_equal(l[2].bar[0].size, 32);
	assert_int_equal(l[2].bar[0].flags, 0);	/* I/O */

	assert_string_equal(l[3].driver, "vfio_pci_p2p");
	assert_int_equal(l[3].iommu_group, -1);
	free(l);
}

static void test_list_all(void **state)
{
	struct p2pmr_pci_info *l;
	size_t n;

	(void)state;
	assert_int_equal(p2pmr_list_devices(root, P2PMR_LIST_ALL, &l, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(l[0].bdf, "0000:00:02.0");
	assert_string_equal(l[0].driver, "e1000e");
	assert_string_equal(l[1].bdf, "0000:00:03.0");
	assert_string_equal(l[1].driver, "");
	assert_int_equal(l[1].iommu_group, -1);
	free(l);
}

static void test_list_missing(void **state)
{
	struct p2pmr_pci_info *l;
	size_t n;

	(void)state;
	assert_fails_with(p2pmr_list_devices("/nonexistent", 0, &l, &n),
			  -ENOENT, "cannot read /nonexistent/bus/pci/devices");
}

static void test_vfio_driver_names(void **state)
{
	(void)state;
	assert_true(p2pmr_is_vfio_driver("vfio-pci"));
	assert_true(p2pmr_is_vfio_driver("vfio-pci-p2p"));
	assert_true(p2pmr_is_vfio_driver("vfio_pci_p2p"));
	assert_false(p2pmr_is_vfio_driver("vfio-pcix"));
	assert_false(p2pmr_is_vfio_driver("vfio_pci"));
	assert_false(p2pmr_is_vfio_driver(""));
}

/* p2pmr_dev_open() refuses before it touches /dev/vfio. */
static void test_open_refused(void **state)
{
	struct p2pmr_dev *dev;

	(void)state;
	assert_string_equal(p2pmr_sysfs_root(), root);
	assert_fails_with(p2pmr_dev_open("00:1f.0", &dev), -ENODEV,
			  "no PCI device 0000:00:1f.0");
	assert_fails_with(p2pmr_dev_open("00:02.0", &dev), -ENODEV,
			  "0000:00:02.0 is bound to e1000e, not to a VFIO driver");
	assert_fails_with(p2pmr_dev_open("00:03.0", &dev), -ENODEV,
			  "bound to (none)");
	assert_fails_with(p2pmr_dev_open("0001:80:00.1", &dev), -ENOTSUP,
			  "has no IOMMU group");
	assert_fails_with(p2pmr_dev_open("00:11.0", &dev), -ENOTSUP,
			  "vfio-noiommu group");
	assert_fails_with(p2pmr_dev_open("00:11", &dev), -EINVAL,
			  "not a PCI address");
}

static void test_adopt(void **state)
{
	struct p2pmr_dev *dev;
	struct p2pmr_range r = { 0, 4096 };
	int fd;

	(void)state;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_fails_with(p2pmr_dev_adopt(-1, NULL, &dev), -EBADF,
			  "not an open fd");
	/* A failed adopt leaves the fd with the caller. */
	assert_fails_with(p2pmr_dev_adopt(fd, "nonsense", &dev), -EINVAL,
			  "not a PCI address");
	assert_true(fcntl(fd, F_GETFD) >= 0);

	assert_int_equal(p2pmr_dev_adopt(fd, "00:10.0", &dev), 0);
	assert_int_equal(p2pmr_dev_fd(dev), fd);
	assert_int_equal(p2pmr_dev_group_fd(dev), -1);
	assert_string_equal(p2pmr_dev_bdf(dev), "0000:00:10.0");
	/* /dev/null answers ENOTTY to the PROBE, like a driver without it. */
	assert_fails_with(p2pmr_export(dev, 2, &r, 1, O_RDWR), -EOPNOTSUPP,
			  "the driver of 0000:00:10.0 (vfio-pci-p2p) lacks VFIO_DEVICE_FEATURE_DMA_BUF: bind it to vfio-pci-p2p (vfio-export/, insmod vfio-pci-p2p.ko) or use Linux >= 6.19 vfio-pci");
	/* Checked before the device is asked. */
	assert_fails_with(p2pmr_export(dev, 6, &r, 1, O_RDWR), -ENODEV,
			  "BARs are numbered 0-5");
	assert_fails_with(p2pmr_export(dev, 0, &r, 1, O_RDWR | O_APPEND),
			  -EINVAL, "open flags");
	p2pmr_dev_close(dev);
	/* The library owned the fd and closed it. */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);

	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_int_equal(p2pmr_dev_adopt(fd, NULL, &dev), 0);
	assert_string_equal(p2pmr_dev_bdf(dev), "?");
	assert_fails_with(p2pmr_export(dev, 2, &r, 1, O_RDWR), -EOPNOTSUPP,
			  "the driver of ? (?) lacks");
	p2pmr_dev_close(dev);
	p2pmr_dev_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_vfio),
		cmocka_unit_test(test_list_all),
		cmocka_unit_test(test_list_missing),
		cmocka_unit_test(test_vfio_driver_names),
		cmocka_unit_test(test_open_refused),
		cmocka_unit_test(test_adopt),
	};

	return cmocka_run_group_tests_name("sysfs", tests, setup, teardown);
}
