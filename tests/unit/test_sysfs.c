// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests against a fake sysfs tree and a fake /dev in a temporary
 * directory: p2pmr_list_devices() and p2pmr_is_vfio_bound() with upstream
 * VFIO variant drivers, and the checks of p2pmr_dev_open(),
 * p2pmr_dev_open_ex() and p2pmr_dev_adopt() (through $P2PMR_SYSFS and
 * $P2PMR_DEVFS).  The real ioctls fail on the fake group nodes (regular
 * files) with ENOTTY, which shows how far an open got.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
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

/* A driver directory, with the module it belongs to (NULL: built in). */
static void driver(const char *drv, const char *module, int vfio)
{
	char rel[256], target[256];

	snprintf(rel, sizeof(rel), "bus/pci/drivers/%s", drv);
	dir(rel);
	if (!module)
		return;
	snprintf(rel, sizeof(rel), "module/%s", module);
	mkdir(rel, 0755);
	snprintf(rel, sizeof(rel), "bus/pci/drivers/%s/module", drv);
	snprintf(target, sizeof(target), "../../../../module/%s", module);
	link_to(target, rel);
	if (vfio) {
		snprintf(rel, sizeof(rel), "module/vfio_pci_core/holders/%s",
			 module);
		dir(rel);
	}
}

/* Open fds of the process, to show that failures leak none. */
static int nr_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
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
	static char devfs[300];

	(void)state;
	if (!mkdtemp(root) || chdir(root))
		return -1;
	dir("bus");
	dir("bus/pci");
	dir("bus/pci/devices");
	dir("kernel");
	dir("kernel/iommu_groups");
	dir("bus/pci/drivers");
	dir("module");
	dir("module/vfio_pci_core");
	dir("module/vfio_pci_core/holders");
	dir("dev");
	dir("dev/vfio");
	/* Upstream VFIO variant drivers are modules using vfio_pci_core. */
	driver("mlx5_vfio_pci", "mlx5_vfio_pci", 1);
	driver("nvgrace_gpu_vfio_pci", "nvgrace_gpu_vfio_pci", 1);
	driver("hisi_acc_vfio_pci", "hisi_acc_vfio_pci", 1);
	driver("pds_vfio_pci", "pds_vfio_pci", 1);
	driver("mlx5_core", "mlx5_core", 0);
	driver("e1000e", "e1000e", 0);
	driver("acme", "acme", 0);
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
	pci("0000:01:00.0", "mlx5_core", "9", NULL);
	pci("0000:01:00.1", "mlx5_vfio_pci", "8", NULL);
	pci("0000:02:00.0", "nvgrace_gpu_vfio_pci", "10", NULL);
	pci("0000:03:00.0", "hisi_acc_vfio_pci", "11", NULL);
	pci("0000:04:00.0", "pds_vfio_pci", "12", NULL);
	/* A driver unknown by name, whose VFIO cdev shows it is VFIO's. */
	pci("0000:05:00.0", "acme", "13", NULL);
	dir("bus/pci/devices/0000:05:00.0/vfio-dev");
	dir("bus/pci/devices/0000:05:00.0/vfio-dev/vfio0");
	/* VFIO's through the iommufd cdev only: no group node. */
	pci("0000:06:00.0", "acme", "14", NULL);
	dir("bus/pci/devices/0000:06:00.0/vfio-dev");
	dir("bus/pci/devices/0000:06:00.0/vfio-dev/vfio1");
	/* The VFIO groups: nodes that ioctls fail on with ENOTTY. */
	put("dev/vfio/vfio", "");
	put("dev/vfio/5", "");
	put("dev/vfio/8", "");
	put("dev/vfio/10", "");
	put("dev/vfio/11", "");
	put("dev/vfio/12", "");
	put("dev/vfio/13", "");
	/* Not a PCI address: skipped. */
	dir("bus/pci/devices/junk");
	snprintf(devfs, sizeof(devfs), "%s/dev", root);
	if (setenv("P2PMR_DEVFS", devfs, 1))
		return -1;
	return setenv("P2PMR_SYSFS", root, 1);
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	unsetenv("P2PMR_SYSFS");
	unsetenv("P2PMR_DEVFS");
	if (chdir("/"))
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_list_vfio(void **state)
{
	static const char *const want[] = {
		"0000:00:04.0", "0000:00:10.0", "0000:00:11.0", "0000:01:00.1",
		"0000:02:00.0", "0000:03:00.0", "0000:04:00.0", "0000:05:00.0",
		"0000:06:00.0", "0001:80:00.1",
	};
	struct p2pmr_pci_info *l;
	size_t n, i;

	(void)state;
	assert_int_equal(p2pmr_list_devices(NULL, 0, &l, &n), 0);
	assert_string_equal(p2pmr_errmsg(), "");
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++)
		assert_string_equal(l[i].bdf, want[i]);
	assert_string_equal(l[0].driver, "vfio-pci-nvgrace");

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

	assert_string_equal(l[3].driver, "mlx5_vfio_pci");
	assert_int_equal(l[3].iommu_group, 8);
	assert_string_equal(l[4].driver, "nvgrace_gpu_vfio_pci");
	assert_string_equal(l[5].driver, "hisi_acc_vfio_pci");
	assert_string_equal(l[6].driver, "pds_vfio_pci");
	assert_string_equal(l[7].driver, "acme");

	assert_string_equal(l[9].driver, "vfio_pci_p2p");
	assert_int_equal(l[9].iommu_group, -1);
	p2pmr_free_devices(l);
	p2pmr_free_devices(NULL);
}

static void test_list_all(void **state)
{
	struct p2pmr_pci_info *l;
	size_t n;

	(void)state;
	assert_int_equal(p2pmr_list_devices(root, P2PMR_LIST_ALL, &l, &n), 0);
	assert_int_equal(n, 13);
	assert_string_equal(l[0].bdf, "0000:00:02.0");
	assert_string_equal(l[0].driver, "e1000e");
	assert_string_equal(l[1].bdf, "0000:00:03.0");
	assert_string_equal(l[1].driver, "");
	assert_int_equal(l[1].iommu_group, -1);
	assert_string_equal(l[5].bdf, "0000:01:00.0");
	assert_string_equal(l[5].driver, "mlx5_core");
	p2pmr_free_devices(l);
}

static void test_list_missing(void **state)
{
	struct p2pmr_pci_info *l;
	size_t n;

	(void)state;
	assert_fails_with(p2pmr_list_devices("/nonexistent", 0, &l, &n),
			  -ENOENT, "cannot read /nonexistent/bus/pci/devices");
	assert_int_equal(errno, ENOENT);
}

/* Decided by the kernel's sysfs links, not by the driver's name. */
static void test_vfio_bound(void **state)
{
	static const struct {
		const char *bdf;
		int bound;
	} cases[] = {
		{ "0000:01:00.1", 1 },	/* mlx5_vfio_pci, holder */
		{ "0000:02:00.0", 1 },	/* nvgrace_gpu_vfio_pci */
		{ "0000:03:00.0", 1 },	/* hisi_acc_vfio_pci */
		{ "0000:04:00.0", 1 },	/* pds_vfio_pci */
		{ "0000:05:00.0", 1 },	/* vfio-dev/ */
		{ "0000:00:10.0", 1 },	/* built in, "vfio" in the name */
		{ "0000:01:00.0", 0 },	/* mlx5_core, a module but no holder */
		{ "0000:00:02.0", 0 },	/* e1000e */
		{ "0000:00:03.0", 0 },	/* no driver */
		{ "0000:00:1f.0", 0 },	/* no device */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (p2pmr_is_vfio_bound(NULL, cases[i].bdf) != cases[i].bound)
			fail_msg("%s: want %d", cases[i].bdf, cases[i].bound);
	assert_int_equal(p2pmr_is_vfio_bound(root, "0000:01:00.1"), 1);
}

/* p2pmr_dev_open() refuses before it touches VFIO's nodes. */
static void test_open_refused(void **state)
{
	struct p2pmr_dev *dev;
	int fds = nr_fds();
	char msg[600];

	(void)state;
	assert_string_equal(p2pmr_sysfs_root(), root);
	assert_fails_with(p2pmr_dev_open("00:1f.0", &dev), -ENODEV,
			  "no PCI device 0000:00:1f.0");
	assert_int_equal(errno, ENODEV);
	/* Not VFIO's: its group has no node in /dev/vfio. */
	snprintf(msg, sizeof(msg),
		 "0000:00:02.0 is bound to e1000e, not to a VFIO driver (there is no %s/dev/vfio/2): modprobe vfio-pci-p2p and bind the device to it, or to vfio-pci or a VFIO variant driver; see p2pmr(1)",
		 root);
	assert_fails_with(p2pmr_dev_open("00:02.0", &dev), -ENODEV, msg);
	assert_fails_with(p2pmr_dev_open("01:00.0", &dev), -ENODEV,
			  "0000:01:00.0 is bound to mlx5_core, not to a VFIO driver");
	/* VFIO's, but without its group node here: not "not VFIO's". */
	snprintf(msg, sizeof(msg),
		 "0000:00:04.0 is bound to vfio-pci-nvgrace, a VFIO driver, but there is no %s/dev/vfio/7: is VFIO's /dev/vfio visible here",
		 root);
	assert_fails_with(p2pmr_dev_open("00:04.0", &dev), -ENODEV, msg);
	assert_fails_with(p2pmr_dev_open("00:03.0", &dev), -ENOTSUP,
			  "0000:00:03.0 (driver (none)) has no IOMMU group");
	assert_fails_with(p2pmr_dev_open("0001:80:00.1", &dev), -ENOTSUP,
			  "has no IOMMU group");
	assert_fails_with(p2pmr_dev_open("00:11.0", &dev), -ENOTSUP,
			  "vfio-noiommu group");
	assert_fails_with(p2pmr_dev_open("00:11", &dev), -EINVAL,
			  "not a PCI address");
	/*
	 * The iommufd cdev only: opened through it, which needs /dev/iommu
	 * (there is none here); said so, not "not VFIO's".
	 */
	snprintf(msg, sizeof(msg),
		 "%s/dev/iommu missing: modprobe iommufd (the kernel needs CONFIG_IOMMUFD; a container needs the node passed in) to open 0000:06:00.0 through its VFIO cdev vfio1",
		 root);
	assert_fails_with(p2pmr_dev_open("06:00.0", &dev), -EOPNOTSUPP, msg);
	assert_int_equal(nr_fds(), fds);
}

/*
 * Upstream variant drivers get as far as VFIO's own answer: the group
 * node is opened and asked (here a file, so ENOTTY).
 */
static void test_open_variant_drivers(void **state)
{
	static const char *const bdfs[] = {
		"0000:01:00.1", "0000:02:00.0", "0000:03:00.0", "0000:04:00.0",
		"0000:05:00.0", "0000:00:10.0",
	};
	struct p2pmr_dev *dev;
	int fds = nr_fds();
	char want[600];
	size_t i;
	int group;

	(void)state;
	for (i = 0; i < sizeof(bdfs) / sizeof(bdfs[0]); i++) {
		group = i < 5 ? (int[]){ 8, 10, 11, 12, 13 }[i] : 5;
		snprintf(want, sizeof(want),
			 "VFIO_GROUP_GET_STATUS on %s/dev/vfio/%d: Inappropriate ioctl for device",
			 root, group);
		assert_fails_with(p2pmr_dev_open(bdfs[i], &dev), -ENOTTY, want);
	}
	assert_int_equal(nr_fds(), fds);
}

static void test_open_ex_attr(void **state)
{
	struct p2pmr_dev_attr attr = { 0 };
	struct p2pmr_dev *dev, *adopted;
	int fd;

	(void)state;
	/* No attributes: as p2pmr_dev_open(). */
	assert_fails_with(p2pmr_dev_open_ex("00:02.0", &attr, &dev), -ENODEV,
			  "not to a VFIO driver");
	assert_fails_with(p2pmr_dev_open_ex("00:02.0", NULL, &dev), -ENODEV,
			  "not to a VFIO driver");
	/* A bit from a later version of the library. */
	attr.comp_mask = 1u << 31;
	assert_fails_with(p2pmr_dev_open_ex("00:10.0", &attr, &dev),
			  -EOPNOTSUPP,
			  "comp_mask 0x80000000 has bits this libp2pmr does not know (0x80000000)");
	assert_int_equal(errno, EOPNOTSUPP);
	/* 2 is the VF token, 4 the iommufd cdev */
	attr.comp_mask = P2PMR_DEV_ATTR_CONTAINER | 8;
	assert_fails_with(p2pmr_dev_open_ex("00:10.0", &attr, &dev),
			  -EOPNOTSUPP, "(0x8)");
	/* The container of an adopted fd is not the library's to share. */
	attr.comp_mask = P2PMR_DEV_ATTR_CONTAINER;
	attr.container = NULL;
	assert_fails_with(p2pmr_dev_open_ex("00:10.0", &attr, &dev), -EINVAL,
			  "needs a device opened by p2pmr_dev_open()");
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_int_equal(p2pmr_dev_adopt(fd, NULL, &adopted), 0);
	attr.container = adopted;
	assert_fails_with(p2pmr_dev_open_ex("00:10.0", &attr, &dev), -EINVAL,
			  "not an adopted one");
	p2pmr_dev_close(adopted);
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
	assert_int_equal(p2pmr_dev_container_fd(dev), -1);
	assert_string_equal(p2pmr_dev_bdf(dev), "0000:00:10.0");
	/* /dev/null answers ENOTTY to the PROBE, like a driver without it. */
	assert_fails_with(p2pmr_export(dev, 2, &r, 1, O_RDWR), -EOPNOTSUPP,
			  "the driver of 0000:00:10.0 (vfio-pci-p2p) lacks VFIO_DEVICE_FEATURE_DMA_BUF: bind it to vfio-pci-p2p (modprobe vfio-pci-p2p; see p2pmr(1)) or use Linux >= 6.19 vfio-pci");
	assert_int_equal(errno, EOPNOTSUPP);
	/* An adopted fd has no container to map host memory into. */
	{
		static char page[1 << 16] __attribute__((aligned(1 << 16)));
		uint64_t iova;

		assert_fails_with(p2pmr_dma_map(dev, page, 4096,
						P2PMR_DMA_READ, &iova),
				  -EINVAL, "is an adopted device fd");
		assert_fails_with(p2pmr_dma_unmap(dev, 4096, 4096), -EINVAL,
				  "is an adopted device fd");
	}
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
		cmocka_unit_test(test_vfio_bound),
		cmocka_unit_test(test_open_refused),
		cmocka_unit_test(test_open_variant_drivers),
		cmocka_unit_test(test_open_ex_attr),
		cmocka_unit_test(test_adopt),
	};

	return cmocka_run_group_tests_name("sysfs", tests, setup, teardown);
}
