// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the VFIO paths without VFIO: ioctl() is wrapped
 * (-Wl,--wrap=ioctl) by a fake kernel that answers the group, container
 * and type1 IOMMU requests, against a fake sysfs and /dev in a temporary
 * directory.  Covered: groups and containers shared by reference count,
 * p2pmr_dev_open_ex()'s container attribute, failures that leak nothing,
 * p2pmr_dma_map()/p2pmr_dma_unmap() and the IOVA allocator,
 * p2pmr_iova_reserve()/p2pmr_iova_unreserve(), the parsing of
 * VFIO_IOMMU_GET_INFO's capability chain, VF tokens (the open's attribute
 * and p2pmr_dev_set_vf_token()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "unit.h"
#include "../../userspace/lib/internal.h"

static char root[] = "/tmp/p2pmr-vfio-XXXXXX";

/* The fake kernel's state and what it saw. */
static struct {
	int viable;
	int api_version;
	int set_iommu_err;
	int get_info_err;
	int map_err;
	int unmap_err;
	int set_container;
	int set_iommu;
	int get_device;
	int get_info;
	int maps;
	int unmaps;
	int container_fd;		/* of the last SET_CONTAINER */
	struct vfio_iommu_type1_dma_map last_map;
	char dev_name[128];		/* of the last GET_DEVICE_FD */
	int get_device_err;
	int feature_err;
	uint32_t feature_flags;		/* of the last DEVICE_FEATURE */
	uint8_t vf_token[16];
} k;

static void reset_kernel(void)
{
	memset(&k, 0, sizeof(k));
	k.viable = 1;
	k.api_version = VFIO_API_VERSION;
}

/* The reply of VFIO_IOMMU_GET_INFO: a migration cap, then the IOVA ranges. */
struct info_reply {
	struct vfio_iommu_type1_info info;
	struct vfio_iommu_type1_info_cap_migration mig;
	struct vfio_iommu_type1_info_cap_iova_range iova;
	struct vfio_iova_range ranges[2];
};

static void fill_info(struct info_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->info.argsz = sizeof(*r);
	r->info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	r->info.iova_pgsizes = 4096 | (2 << 20);
	r->info.cap_offset = offsetof(struct info_reply, mig);
	r->mig.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION;
	r->mig.header.next = offsetof(struct info_reply, iova);
	r->iova.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	r->iova.nr_iovas = 2;
	/* Out of order: the library sorts them. */
	r->ranges[0] = (struct vfio_iova_range){ 0xfef00000, 0xffffffffffULL };
	r->ranges[1] = (struct vfio_iova_range){ 0, 0xfedfffff };
}

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	switch (req) {
	case VFIO_GET_API_VERSION:
		return k.api_version;
	case VFIO_CHECK_EXTENSION:
		return (uint32_t)(uintptr_t)arg == VFIO_TYPE1v2_IOMMU;
	case VFIO_GROUP_GET_STATUS:
		((struct vfio_group_status *)arg)->flags =
			k.viable ? VFIO_GROUP_FLAGS_VIABLE : 0;
		return 0;
	case VFIO_GROUP_SET_CONTAINER:
		k.set_container++;
		k.container_fd = *(int *)arg;
		return 0;
	case VFIO_SET_IOMMU:
		k.set_iommu++;
		if (k.set_iommu_err) {
			errno = k.set_iommu_err;
			return -1;
		}
		return 0;
	case VFIO_GROUP_GET_DEVICE_FD:
		k.get_device++;
		snprintf(k.dev_name, sizeof(k.dev_name), "%s", (char *)arg);
		if (k.get_device_err) {
			errno = k.get_device_err;
			return -1;
		}
		/* 0000:00:10.2 is in the group but not VFIO's. */
		if (!strcmp(arg, "0000:00:10.2")) {
			errno = ENODEV;
			return -1;
		}
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	case VFIO_IOMMU_GET_INFO: {
		struct vfio_iommu_type1_info *info = arg;
		struct info_reply r;

		k.get_info++;
		if (k.get_info_err) {
			errno = k.get_info_err;
			return -1;
		}
		fill_info(&r);
		/* As the kernel: what fits, and the size it needs. */
		memcpy(info, &r, info->argsz < sizeof(r) ? info->argsz :
		       sizeof(r));
		if (info->argsz < sizeof(r))
			info->flags &= ~VFIO_IOMMU_INFO_CAPS;
		info->argsz = sizeof(r);
		return 0;
	}
	case VFIO_IOMMU_MAP_DMA:
		k.maps++;
		k.last_map = *(struct vfio_iommu_type1_dma_map *)arg;
		if (k.map_err) {
			errno = k.map_err;
			return -1;
		}
		return 0;
	case VFIO_DEVICE_FEATURE: {
		struct vfio_device_feature *f = arg;

		k.feature_flags = f->flags;
		if (k.feature_err) {
			errno = k.feature_err;
			return -1;
		}
		if (f->argsz >= sizeof(*f) + 16)
			memcpy(k.vf_token, f->data, 16);
		return 0;
	}
	case VFIO_IOMMU_UNMAP_DMA:
		k.unmaps++;
		if (k.unmap_err) {
			errno = k.unmap_err;
			return -1;
		}
		return 0;
	}
	return __real_ioctl(fd, req, arg);
}

static void put(const char *rel, const char *text)
{
	FILE *f = fopen(rel, "w");	/* relative: we are chdir'd to root */

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A PCI function bound to @drv in IOMMU group @group. */
static void pci(const char *bdf, const char *drv, int group)
{
	char rel[256], target[256];

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", bdf);
	assert_int_equal(mkdir(rel, 0755), 0);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", bdf);
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", drv);
	assert_int_equal(symlink(target, rel), 0);
	snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d", group);
	mkdir(rel, 0755);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu_group", bdf);
	snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d",
		 group);
	assert_int_equal(symlink(target, rel), 0);
	snprintf(rel, sizeof(rel), "dev/vfio/%d", group);
	put(rel, "");
}

/* @bdf has the VFIO cdev vfio@n: sysfs vfio-dev/vfioN, /dev/vfio/devices/vfioN. */
static void cdev(const char *bdf, int n)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vfio-dev", bdf);
	assert_int_equal(mkdir(rel, 0755), 0);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vfio-dev/vfio%d", bdf, n);
	assert_int_equal(mkdir(rel, 0755), 0);
	mkdir("dev/vfio/devices", 0755);
	snprintf(rel, sizeof(rel), "dev/vfio/devices/vfio%d", n);
	put(rel, "");
}

static int setup(void **state)
{
	static char devfs[300];

	(void)state;
	if (!mkdtemp(root) || chdir(root))
		return -1;
	if (system("mkdir -p bus/pci/devices kernel/iommu_groups dev/vfio"))
		return -1;
	put("dev/vfio/vfio", "");
	pci("0000:00:10.0", "mlx5_vfio_pci", 5);
	pci("0000:00:10.1", "vfio-pci", 5);
	pci("0000:00:10.2", "pci-stub", 5);
	pci("0000:00:11.0", "vfio-pci-p2p", 6);
	pci("0000:00:12.0", "nvgrace_gpu_vfio_pci", 7);
	/* VFIO's through the iommufd cdev only: no /dev/vfio/8. */
	pci("0000:00:13.0", "vfio-pci", 8);
	cdev("0000:00:13.0", 3);
	unlink("dev/vfio/8");
	put("dev/iommu", "");
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

static int each(void **state)
{
	(void)state;
	reset_kernel();
	return 0;
}

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

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static struct p2pmr_dev *open_ok(const char *bdf,
				 const struct p2pmr_dev_attr *attr)
{
	struct p2pmr_dev *dev = NULL;

	if (p2pmr_dev_open_ex(bdf, attr, &dev))
		fail_msg("%s: %s", bdf, p2pmr_errmsg());
	assert_string_equal(p2pmr_errmsg(), "");
	return dev;
}

/* Two functions of one group, and one function twice: no EBUSY. */
static void test_share_group(void **state)
{
	struct p2pmr_dev *a, *b, *a2;
	int fds = nr_fds(), gfd, cfd, afd;

	(void)state;
	a = open_ok("0000:00:10.0", NULL);
	b = open_ok("00:10.1", NULL);
	a2 = open_ok("00:10.0", NULL);
	gfd = p2pmr_dev_group_fd(a);
	cfd = p2pmr_dev_container_fd(a);
	afd = p2pmr_dev_fd(a);
	assert_true(gfd >= 0 && cfd >= 0 && gfd != cfd);
	assert_int_equal(p2pmr_dev_group_fd(b), gfd);
	assert_int_equal(p2pmr_dev_group_fd(a2), gfd);
	assert_int_equal(p2pmr_dev_container_fd(b), cfd);
	assert_int_not_equal(p2pmr_dev_fd(a2), afd);
	/* The group was opened and attached once, the IOMMU set once. */
	assert_int_equal(k.set_container, 1);
	assert_int_equal(k.container_fd, cfd);
	assert_int_equal(k.set_iommu, 1);
	assert_int_equal(k.get_device, 3);

	p2pmr_dev_close(a);
	assert_false(is_open(afd));
	assert_true(is_open(gfd));
	p2pmr_dev_close(a2);
	assert_true(is_open(gfd));
	assert_true(is_open(cfd));
	/* The last device of the group releases group and container. */
	p2pmr_dev_close(b);
	assert_false(is_open(gfd));
	assert_false(is_open(cfd));
	assert_int_equal(nr_fds(), fds);
}

static void test_container_attr(void **state)
{
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_CONTAINER };
	struct p2pmr_dev *a, *b, *c, *d;
	int fds = nr_fds();

	(void)state;
	a = open_ok("00:10.0", NULL);
	attr.container = a;
	/* Another group joins a's container: no second SET_IOMMU. */
	b = open_ok("00:11.0", &attr);
	assert_int_equal(p2pmr_dev_container_fd(b), p2pmr_dev_container_fd(a));
	assert_int_not_equal(p2pmr_dev_group_fd(b), p2pmr_dev_group_fd(a));
	assert_int_equal(k.set_container, 2);
	assert_int_equal(k.container_fd, p2pmr_dev_container_fd(a));
	assert_int_equal(k.set_iommu, 1);
	/* Without the attribute, a new group gets a new container. */
	c = open_ok("00:12.0", NULL);
	assert_int_not_equal(p2pmr_dev_container_fd(c),
			     p2pmr_dev_container_fd(a));
	assert_int_equal(k.set_iommu, 2);
	/* Group 5 is open in a's container; it cannot move to c's. */
	attr.container = c;
	assert_fails_with(p2pmr_dev_open_ex("00:10.1", &attr, &d), -EBUSY,
			  "IOMMU group 5 of 0000:00:10.1 is already open in another container of this process");
	/* Asking for the container it is in anyway is fine. */
	attr.container = b;
	d = open_ok("00:10.1", &attr);
	assert_int_equal(p2pmr_dev_group_fd(d), p2pmr_dev_group_fd(a));

	/* The container outlives the device it was named by. */
	p2pmr_dev_close(a);
	assert_true(is_open(p2pmr_dev_container_fd(b)));
	p2pmr_dev_close(d);
	p2pmr_dev_close(b);
	p2pmr_dev_close(c);
	assert_int_equal(nr_fds(), fds);
}

#define TOKEN "bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3"

/* A VF token goes to VFIO in the device's name; VFIO's refusals explained. */
static void test_vf_token(void **state)
{
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_VF_TOKEN,
				       .vf_token = TOKEN };
	static const uint8_t bytes[16] = {
		0xbd, 0x8d, 0x9d, 0x2b, 0x5a, 0x5f, 0x4f, 0x5a,
		0xa2, 0x11, 0xf5, 0x91, 0x51, 0x4b, 0xa1, 0xf3,
	};
	static const char *const bad[] = {
		"", "bd8d9d2b5a5f4f5aa211f591514ba1f3",
		"bd8d9d2b-5a5f-4f5a-a211-f591514ba1f", "bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3x",
		"gd8d9d2b-5a5f-4f5a-a211-f591514ba1f3", "bd8d9d2b-5a5f-4f5a-a211_f591514ba1f3",
	};
	struct p2pmr_dev *dev, *none = NULL;
	int fds = nr_fds();
	size_t i;

	(void)state;
	dev = open_ok("00:10.0", &attr);
	assert_string_equal(k.dev_name, "0000:00:10.0 vf_token=" TOKEN);
	assert_int_equal(p2pmr_dev_set_vf_token(dev, TOKEN), 0);
	assert_int_equal(k.feature_flags, VFIO_DEVICE_FEATURE_SET |
					  VFIO_DEVICE_FEATURE_PCI_VF_TOKEN);
	assert_memory_equal(k.vf_token, bytes, 16);
	/* Upper case is a UUID too. */
	assert_int_equal(p2pmr_dev_set_vf_token(dev, "BD8D9D2B-5A5F-4F5A-A211-F591514BA1F3"), 0);
	assert_memory_equal(k.vf_token, bytes, 16);
	k.feature_err = ENOTTY;
	assert_fails_with(p2pmr_dev_set_vf_token(dev, TOKEN), -EINVAL,
			  "it is not an SR-IOV PF");
	k.feature_err = 0;
	p2pmr_dev_close(dev);
	/* Without the attribute, the bare address. */
	dev = open_ok("00:10.0", NULL);
	assert_string_equal(k.dev_name, "0000:00:10.0");

	/* Not UUIDs: refused before VFIO is asked. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct p2pmr_dev *d = NULL;

		k.get_device = 0;
		attr.vf_token = bad[i];
		assert_fails_with(p2pmr_dev_open_ex("00:10.1", &attr, &d), -EINVAL,
				  "is not a UUID");
		assert_int_equal(k.get_device, 0);
		assert_null(d);
		assert_fails_with(p2pmr_dev_set_vf_token(dev, bad[i]), -EINVAL,
				  "is not a UUID");
	}
	attr.vf_token = NULL;
	assert_fails_with(p2pmr_dev_open_ex("00:10.1", &attr, &none), -EINVAL,
			  "'(null)' is not a UUID");
	p2pmr_dev_close(dev);

	/* VFIO wants a token, or another one: EACCES, said why. */
	k.get_device_err = EACCES;
	assert_fails_with(p2pmr_dev_open("00:10.1", &none), -EACCES,
			  "it needs a VF token");
	attr.vf_token = TOKEN;
	assert_fails_with(p2pmr_dev_open_ex("00:10.1", &attr, &none), -EACCES,
			  "the VF token is not the PF's");
	/* A token for a device that is neither VF nor PF: EINVAL, not ENODEV. */
	k.get_device_err = EINVAL;
	assert_fails_with(p2pmr_dev_open_ex("00:10.1", &attr, &none), -EINVAL,
			  "it is neither a VF nor a PF");
	/* ... while EINVAL without a token still means VFIO does not know it. */
	assert_fails_with(p2pmr_dev_open("00:10.1", &none), -ENODEV,
			  "VFIO does not know 0000:00:10.1");
	k.get_device_err = 0;
	/* Failures leak nothing. */
	assert_null(none);
	assert_int_equal(nr_fds(), fds);
}

static void test_open_failures(void **state)
{
	struct p2pmr_dev *dev;
	int fds = nr_fds();

	(void)state;
	k.viable = 0;
	assert_fails_with(p2pmr_dev_open("00:10.0", &dev), -EBUSY,
			  "IOMMU group 5 of 0000:00:10.0 is not viable");
	assert_int_equal(errno, EBUSY);
	k.viable = 1;
	k.api_version = 1;
	assert_fails_with(p2pmr_dev_open("00:10.0", &dev), -ENOTSUP,
			  "VFIO type1v2 IOMMU not supported");
	k.api_version = VFIO_API_VERSION;
	k.set_iommu_err = EPERM;
	assert_fails_with(p2pmr_dev_open("00:10.0", &dev), -EPERM,
			  "VFIO_SET_IOMMU for 0000:00:10.0: Operation not permitted");
	assert_int_equal(errno, EPERM);
	k.set_iommu_err = 0;
	assert_int_equal(nr_fds(), fds);
	/* VFIO does not know the function, though the group is VFIO's. */
	assert_fails_with(p2pmr_dev_open("00:10.2", &dev), -ENODEV,
			  "VFIO does not know 0000:00:10.2 (bound to pci-stub), although its IOMMU group 5 is VFIO's");
	assert_int_equal(nr_fds(), fds);
	/* Nothing was left behind: the group opens afresh. */
	k.set_container = 0;
	dev = open_ok("00:10.0", NULL);
	assert_int_equal(k.set_container, 1);
	p2pmr_dev_close(dev);
	assert_int_equal(nr_fds(), fds);
}

/* A device VFIO offers through its cdev only opens, by default. */
static void test_cdev_only(void **state)
{
	struct p2pmr_dev *dev;

	(void)state;
	dev = open_ok("00:13.0", NULL);
	assert_int_equal(p2pmr_dev_group_fd(dev), -1);
	p2pmr_dev_close(dev);
}

static void test_dma_map(void **state)
{
	size_t page = p2pmr_page_size();
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_CONTAINER };
	struct p2pmr_dev *a, *b;
	uint64_t iova, iova2, iova3;
	char *buf;

	(void)state;
	buf = aligned_alloc(page, 4 * page);
	assert_non_null(buf);
	a = open_ok("00:10.0", NULL);
	attr.container = a;
	b = open_ok("00:11.0", &attr);

	assert_int_equal(p2pmr_dma_map(a, buf, 2 * page,
				       P2PMR_DMA_READ | P2PMR_DMA_WRITE,
				       &iova), 0);
	/* Never IOVA 0; the capabilities needed a second GET_INFO. */
	assert_int_equal(iova, page);
	assert_int_equal(k.get_info, 2);
	assert_int_equal(k.last_map.vaddr, (uintptr_t)buf);
	assert_int_equal(k.last_map.size, 2 * page);
	assert_int_equal(k.last_map.iova, page);
	assert_int_equal(k.last_map.flags,
			 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	/* Through the other device of the container: the same allocator. */
	assert_int_equal(p2pmr_dma_map(b, buf + 2 * page, page,
				       P2PMR_DMA_READ, &iova2), 0);
	assert_int_equal(iova2, 3 * page);
	assert_int_equal(k.last_map.flags, VFIO_DMA_MAP_FLAG_READ);
	assert_int_equal(k.get_info, 2);	/* read once per container */

	/* A failed map leaves no trace in the allocator. */
	k.map_err = ENOMEM;
	assert_fails_with(p2pmr_dma_map(a, buf, page, P2PMR_DMA_WRITE, &iova3),
			  -ENOMEM, "(pinned memory counts against ulimit -l)");
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(k.last_map.flags, VFIO_DMA_MAP_FLAG_WRITE);
	k.map_err = 0;
	assert_int_equal(p2pmr_dma_map(a, buf, page, P2PMR_DMA_WRITE, &iova3),
			 0);
	assert_int_equal(iova3, 4 * page);

	/* Unmapping frees the IOVA for reuse, first fit. */
	assert_fails_with(p2pmr_dma_unmap(a, iova, page), -ENOENT,
			  "no mapping of");
	assert_int_equal(errno, ENOENT);
	k.unmap_err = EINVAL;
	assert_fails_with(p2pmr_dma_unmap(a, iova, 2 * page), -EINVAL,
			  "VFIO_IOMMU_UNMAP_DMA of");
	k.unmap_err = 0;
	assert_int_equal(p2pmr_dma_unmap(b, iova, 2 * page), 0);
	assert_int_equal(k.unmaps, 2);
	assert_int_equal(p2pmr_dma_map(a, buf, page, P2PMR_DMA_READ, &iova), 0);
	assert_int_equal(iova, page);
	assert_fails_with(p2pmr_dma_unmap(a, 2 * page, page), -ENOENT,
			  "no mapping");

	/* Refused before the kernel is asked. */
	k.maps = 0;
	assert_fails_with(p2pmr_dma_map(a, buf + 1, page, P2PMR_DMA_READ,
					&iova), -EINVAL,
			  "must be non-zero multiples of the page size");
	assert_fails_with(p2pmr_dma_map(a, buf, page + 1, P2PMR_DMA_READ,
					&iova), -EINVAL, "page size");
	assert_fails_with(p2pmr_dma_map(a, buf, 0, P2PMR_DMA_READ, &iova),
			  -EINVAL, "page size");
	assert_fails_with(p2pmr_dma_map(a, buf, page, 0, &iova), -EINVAL,
			  "want P2PMR_DMA_READ and/or P2PMR_DMA_WRITE");
	assert_fails_with(p2pmr_dma_map(a, buf, page, 4, &iova), -EINVAL,
			  "flags 0x4");
	/* Larger than every usable range (the larger is just under 1 TiB). */
	assert_fails_with(p2pmr_dma_map(a, buf, (size_t)1 << 40,
					P2PMR_DMA_READ, &iova), -ENOSPC,
			  "no free IOVA range of 1099511627776 bytes");
	assert_int_equal(k.maps, 0);
	/* Just below 4 GiB does not fit under the MSI window: above it. */
	assert_int_equal(p2pmr_dma_map(a, buf, (size_t)0xfee00000,
				       P2PMR_DMA_READ, &iova2), 0);
	assert_int_equal(iova2, 0xfef00000);

	p2pmr_dev_close(a);
	p2pmr_dev_close(b);
	free(buf);
}

/* Reserved windows: the allocator steps over them, nothing is mapped. */
static void test_iova_reserve(void **state)
{
	size_t page = p2pmr_page_size();
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_CONTAINER };
	struct p2pmr_dev *a, *b;
	uint64_t iova, iova2;
	char *buf;

	(void)state;
	buf = aligned_alloc(page, 4 * page);
	assert_non_null(buf);
	a = open_ok("00:10.0", NULL);
	attr.container = a;
	b = open_ok("00:11.0", &attr);

	/* Pages 1-2 reserved through one device: the other maps above. */
	assert_int_equal(p2pmr_iova_reserve(a, page, 2 * page), 0);
	assert_int_equal(k.maps, 0);
	assert_int_equal(p2pmr_dma_map(b, buf, page, P2PMR_DMA_READ, &iova),
			 0);
	assert_int_equal(iova, 3 * page);
	/* A window outside the usable ranges (the MSI hole) is fine too. */
	assert_int_equal(p2pmr_iova_reserve(b, 0xfee00000, 0x100000), 0);

	/* Overlaps with a reservation or a mapping are refused. */
	assert_fails_with(p2pmr_iova_reserve(b, 2 * page, 2 * page), -EEXIST,
			  "overlaps the reservation at");
	assert_int_equal(errno, EEXIST);
	assert_fails_with(p2pmr_iova_reserve(a, 3 * page, page), -EEXIST,
			  "overlaps the mapping at");
	assert_fails_with(p2pmr_iova_reserve(a, 0, 2 * page), -EEXIST,
			  "overlaps the reservation");
	/* Bad arguments, before anything is recorded. */
	assert_fails_with(p2pmr_iova_reserve(a, page + 1, page), -EINVAL,
			  "multiples of the page size");
	assert_fails_with(p2pmr_iova_reserve(a, 8 * page, 0), -EINVAL,
			  "multiples of the page size");
	assert_fails_with(p2pmr_iova_reserve(a, -(uint64_t)page, 2 * page),
			  -EINVAL, "must not wrap");
	/* The very last page is a valid window. */
	assert_int_equal(p2pmr_iova_reserve(a, -(uint64_t)page, page), 0);

	/* Unmap and unreserve do not mix. */
	assert_fails_with(p2pmr_dma_unmap(a, page, 2 * page), -ENOENT,
			  "no mapping of");
	assert_fails_with(p2pmr_iova_unreserve(a, iova, page), -ENOENT,
			  "no reservation of");
	assert_fails_with(p2pmr_iova_unreserve(a, page, page), -ENOENT,
			  "no reservation of 4096 bytes at IOVA 0x1000");
	assert_int_equal(k.unmaps, 0);
	assert_int_equal(p2pmr_iova_unreserve(b, page, 2 * page), 0);
	assert_int_equal(k.unmaps, 0);
	/* The window is free again, first fit. */
	assert_int_equal(p2pmr_dma_map(a, buf, 2 * page, P2PMR_DMA_WRITE,
				       &iova2), 0);
	assert_int_equal(iova2, page);
	assert_int_equal(p2pmr_dma_unmap(a, iova2, 2 * page), 0);
	assert_int_equal(p2pmr_dma_unmap(a, iova, page), 0);
	assert_int_equal(k.unmaps, 2);

	/* Closing the container forgets reservations with the mappings. */
	p2pmr_dev_close(a);
	p2pmr_dev_close(b);
	a = open_ok("00:10.0", NULL);
	assert_int_equal(p2pmr_iova_reserve(a, 0xfee00000, 0x100000), 0);
	p2pmr_dev_close(a);
	free(buf);
}

static void test_get_info_fails(void **state)
{
	struct p2pmr_dev *dev;
	uint64_t iova;
	size_t page = p2pmr_page_size();
	char *buf = aligned_alloc(page, page);

	(void)state;
	dev = open_ok("00:12.0", NULL);
	k.get_info_err = EFAULT;
	assert_fails_with(p2pmr_dma_map(dev, buf, page, P2PMR_DMA_READ, &iova),
			  -EFAULT, "VFIO_IOMMU_GET_INFO: Bad address");
	k.get_info_err = 0;
	assert_int_equal(p2pmr_dma_map(dev, buf, page, P2PMR_DMA_READ, &iova),
			 0);
	assert_int_equal(iova, page);
	p2pmr_dev_close(dev);
	free(buf);
}

#define PER_THREAD 64

static void *mapper(void *arg)
{
	static __thread uint64_t mine[PER_THREAD];
	struct p2pmr_dev *dev = arg;
	size_t page = p2pmr_page_size();
	int i;

	for (i = 0; i < PER_THREAD; i++)
		if (p2pmr_dma_map(dev, (void *)(uintptr_t)page, page,
				  P2PMR_DMA_READ, &mine[i]))
			return (void *)1;
	for (i = 0; i < PER_THREAD; i += 2)
		if (p2pmr_dma_unmap(dev, mine[i], page))
			return (void *)1;
	return NULL;
}

/* Concurrent mappings through two devices of one container. */
static void test_dma_threads(void **state)
{
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_CONTAINER };
	struct p2pmr_dev *a, *b;
	struct p2pmr_container *c;
	pthread_t t[4];
	void *ret;
	size_t i;

	(void)state;
	a = open_ok("00:10.0", NULL);
	attr.container = a;
	b = open_ok("00:11.0", &attr);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, mapper,
						i % 2 ? a : b), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	/* The library's view: sorted, disjoint, half of them left. */
	c = a->group->container;
	assert_int_equal(c->nr_maps, 4 * PER_THREAD / 2);
	for (i = 1; i < c->nr_maps; i++)
		assert_true(c->maps[i - 1].iova + c->maps[i - 1].length <=
			    c->maps[i].iova);
	p2pmr_dev_close(a);
	p2pmr_dev_close(b);
}

static void test_iova_ranges(void **state)
{
	struct p2pmr_iova_range *r;
	struct info_reply reply;
	size_t n;

	(void)state;
	fill_info(&reply);
	assert_int_equal(p2pmr_iova_ranges(&reply, sizeof(reply), &r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].end, 0xfedfffff);
	assert_int_equal(r[1].start, 0xfef00000);
	assert_int_equal(r[1].end, 0xffffffffffULL);
	free(r);

	/* No capabilities (kernels before 5.4): below x86's MSI window. */
	reply.info.flags &= ~VFIO_IOMMU_INFO_CAPS;
	assert_int_equal(p2pmr_iova_ranges(&reply, sizeof(reply), &r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].end, P2PMR_IOVA_FALLBACK_END);
	free(r);
	/* A chain without the IOVA cap: the same. */
	fill_info(&reply);
	reply.mig.header.next = 0;
	assert_int_equal(p2pmr_iova_ranges(&reply, sizeof(reply), &r, &n), 0);
	assert_int_equal(n, 1);
	free(r);

	/* Malformed replies. */
	assert_int_equal(p2pmr_iova_ranges(&reply, 4, &r, &n), -EIO);
	fill_info(&reply);
	reply.info.cap_offset = sizeof(reply);		/* past the end */
	assert_int_equal(p2pmr_iova_ranges(&reply, sizeof(reply), &r, &n), -EIO);
	fill_info(&reply);
	reply.info.cap_offset = 4;			/* inside the header */
	assert_int_equal(p2pmr_iova_ranges(&reply, sizeof(reply), &r, &n), -EIO);
	fill_info(&reply);
	reply.mig.header.next = offsetof(struct info_reply, mig);  /* a loop */
	assert_int_equal(p2pmr_iova_ranges(&reply, sizeof(reply), &r, &n), -EIO);
	fill_info(&reply);
	reply.iova.nr_iovas = 3;			/* more than sent */
	assert_int_equal(p2pmr_iova_ranges(&reply, sizeof(reply), &r, &n), -EIO);
	fill_info(&reply);
	reply.iova.nr_iovas = 0;
	assert_int_equal(p2pmr_iova_ranges(&reply, sizeof(reply), &r, &n), -EIO);
	fill_info(&reply);
	reply.ranges[1].end = 0;
	reply.ranges[1].start = 1;			/* end < start */
	assert_int_equal(p2pmr_iova_ranges(&reply, sizeof(reply), &r, &n), -EIO);
}

static void test_iova_alloc(void **state)
{
	const struct p2pmr_iova_range two[] = {
		{ 0, 0xfedfffff }, { 0xfef00000, 0xffffffffffULL },
	};
	const struct p2pmr_iova_range odd[] = { { 0x1234, 0x9fff } };
	const struct p2pmr_iova_range top[] = {
		{ 0xffffffffffff0000ULL, UINT64_MAX },
	};
	struct p2pmr_mapping m[3];
	uint64_t iova;

	(void)state;
	assert_int_equal(p2pmr_iova_alloc(two, 2, NULL, 0, 0x2000, 0x1000,
					  &iova), 0);
	assert_int_equal(iova, 0x1000);
	/* Gaps are reused when large enough. */
	m[0] = (struct p2pmr_mapping){ .iova = 0x1000, .length = 0x1000 };
	m[1] = (struct p2pmr_mapping){ .iova = 0x3000, .length = 0x1000 };
	assert_int_equal(p2pmr_iova_alloc(two, 2, m, 2, 0x1000, 0x1000,
					  &iova), 0);
	assert_int_equal(iova, 0x2000);
	assert_int_equal(p2pmr_iova_alloc(two, 2, m, 2, 0x2000, 0x1000,
					  &iova), 0);
	assert_int_equal(iova, 0x4000);
	/* Alignment larger than the page. */
	assert_int_equal(p2pmr_iova_alloc(two, 2, m, 2, 0x1000, 0x10000,
					  &iova), 0);
	assert_int_equal(iova, 0x10000);
	/* What does not fit below the hole goes above it. */
	m[0] = (struct p2pmr_mapping){ .iova = 0x1000, .length = 0xfedfe000 };
	assert_int_equal(p2pmr_iova_alloc(two, 2, m, 1, 0x2000, 0x1000,
					  &iova), 0);
	assert_int_equal(iova, 0xfef00000);
	/* The last page below the hole, exactly. */
	assert_int_equal(p2pmr_iova_alloc(two, 2, m, 1, 0x1000, 0x1000,
					  &iova), 0);
	assert_int_equal(iova, 0xfedff000);
	/* A range starting off alignment. */
	assert_int_equal(p2pmr_iova_alloc(odd, 1, NULL, 0, 0x1000, 0x1000,
					  &iova), 0);
	assert_int_equal(iova, 0x2000);
	assert_int_equal(p2pmr_iova_alloc(odd, 1, NULL, 0, 0x8000, 0x1000,
					  &iova), 0);
	assert_int_equal(p2pmr_iova_alloc(odd, 1, NULL, 0, 0x9000, 0x1000,
					  &iova), -ENOSPC);
	/* The very top of the address space, without wrapping. */
	assert_int_equal(p2pmr_iova_alloc(top, 1, NULL, 0, 0x10000, 0x1000,
					  &iova), 0);
	assert_int_equal(iova, 0xffffffffffff0000ULL);
	m[0] = (struct p2pmr_mapping){ .iova = 0xffffffffffff0000ULL, .length = 0x10000 };
	assert_int_equal(p2pmr_iova_alloc(top, 1, m, 1, 0x1000, 0x1000,
					  &iova), -ENOSPC);
	m[0] = (struct p2pmr_mapping){ .iova = 0xffffffffffff0000ULL, .length = 0x8000 };
	assert_int_equal(p2pmr_iova_alloc(top, 1, m, 1, 0x8000, 0x1000,
					  &iova), 0);
	assert_int_equal(iova, 0xffffffffffff8000ULL);
	assert_int_equal(p2pmr_iova_alloc(top, 1, m, 1, 0x9000, 0x1000,
					  &iova), -ENOSPC);
	assert_int_equal(p2pmr_iova_alloc(two, 2, NULL, 0, 0, 0x1000, &iova),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_share_group, each),
		cmocka_unit_test_setup(test_container_attr, each),
		cmocka_unit_test_setup(test_open_failures, each),
		cmocka_unit_test_setup(test_vf_token, each),
		cmocka_unit_test_setup(test_cdev_only, each),
		cmocka_unit_test_setup(test_dma_map, each),
		cmocka_unit_test_setup(test_iova_reserve, each),
		cmocka_unit_test_setup(test_get_info_fails, each),
		cmocka_unit_test_setup(test_dma_threads, each),
		cmocka_unit_test(test_iova_ranges),
		cmocka_unit_test(test_iova_alloc),
	};

	return cmocka_run_group_tests_name("vfio", tests, setup, teardown);
}
