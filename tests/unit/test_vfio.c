// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the VFIO paths without VFIO: ioctl() is wrapped
 * (-Wl,--wrap=ioctl) by a fake kernel that answers the group, container
 * and type1 IOMMU requests, and the VFIO cdev and iommufd ones, against a
 * fake sysfs and /dev in a temporary directory.  Covered: groups and
 * containers shared by reference count, p2pmr_dev_open_ex()'s container
 * attribute, failures that leak nothing, p2pmr_dma_map()/p2pmr_dma_unmap()
 * and the IOVA allocator, p2pmr_iova_reserve()/p2pmr_iova_unreserve(), the
 * parsing of VFIO_IOMMU_GET_INFO's capability chain, VF tokens (the open's
 * attribute and p2pmr_dev_set_vf_token()); the iommufd cdev path: when it
 * is taken (cdev only, the attribute, P2PMR_IOMMUFD, the container), bind,
 * IOAS, attach, devices sharing an IOAS, IOMMU_IOAS_MAP/UNMAP inside
 * IOMMU_IOAS_IOVA_RANGES (read again after each attach), its failures and
 * their messages.  The fake checks which fd each request goes to.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/iommufd.h>
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
	char feature_fd[PATH_MAX];	/* what its fd was */
	uint8_t vf_token[16];
	/* iommufd and the VFIO cdev */
	int wrong_fd;			/* requests sent to the wrong kind of fd */
	int ioas_alloc_err;
	int ioas_allocs;
	uint32_t ioas_next;		/* the next IOAS ID */
	int bind_err;
	int binds;
	struct {
		uint32_t argsz, flags;
		uint8_t token[16];
	} last_bind;
	int attach_err;
	int attaches;
	uint32_t last_pt_id;
	int ranges_err;
	int ranges_calls;
	int nr_ranges;
	struct iommu_iova_range ranges[2];
	int narrow;			/* the second attach narrows ranges[1] */
	int grow;			/* ranges added after an EMSGSIZE */
	int ioas_map_err;
	int ioas_maps;
	struct iommu_ioas_map last_ioas_map;
	int ioas_unmap_err;
	int ioas_unmaps;
	struct iommu_ioas_unmap last_ioas_unmap;
} k;

static void reset_kernel(void)
{
	memset(&k, 0, sizeof(k));
	k.viable = 1;
	k.api_version = VFIO_API_VERSION;
	k.ioas_next = 7;
	/* Out of order, as the kernel may give them: the library sorts. */
	k.nr_ranges = 2;
	k.ranges[0] = (struct iommu_iova_range){ 0xfef00000, 0xffffffffffULL };
	k.ranges[1] = (struct iommu_iova_range){ 0, 0xfedfffff };
}

/* The file @fd is open on, into @path ("" if none). */
static void fd_path(int fd, char *path, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, len - 1);
	path[n < 0 ? 0 : n] = 0;
}

/* The file @fd is open on ends with @suffix. */
static int fd_is(int fd, const char *suffix)
{
	char path[PATH_MAX];
	size_t n;

	fd_path(fd, path, sizeof(path));
	n = strlen(path);
	return n >= strlen(suffix) && !strcmp(path + n - strlen(suffix), suffix);
}

/* @fd is one of the fake VFIO cdevs. */
static int is_cdev(int fd)
{
	return fd_is(fd, "/dev/vfio/devices/vfio3") ||
	       fd_is(fd, "/dev/vfio/devices/vfio4") ||
	       fd_is(fd, "/dev/vfio/devices/vfio5");
}

/* Answer an iommufd request on @fd; 1 if @req was one. */
static int fake_iommufd(int fd, unsigned long req, void *arg, int *ret)
{
	*ret = 0;
	switch (req) {
	case IOMMU_IOAS_ALLOC: {
		struct iommu_ioas_alloc *a = arg;

		k.wrong_fd += !fd_is(fd, "/dev/iommu") ||
			      a->size != sizeof(*a) || a->flags;
		k.ioas_allocs++;
		if (k.ioas_alloc_err)
			goto err;
		a->out_ioas_id = k.ioas_next++;
		return 1;
	}
	case IOMMU_IOAS_IOVA_RANGES: {
		struct iommu_ioas_iova_ranges *q = arg;

		k.wrong_fd += !fd_is(fd, "/dev/iommu") ||
			      q->ioas_id < 7 || q->ioas_id >= k.ioas_next;
		k.ranges_calls++;
		if (k.ranges_err)
			goto err;
		/* As the kernel: too small an array is EMSGSIZE, with the count. */
		if (q->num_iovas < (uint32_t)k.nr_ranges) {
			q->num_iovas = k.nr_ranges;
			/* A device attached meanwhile split a range. */
			if (k.grow && k.nr_ranges < 2) {
				k.grow--;
				k.nr_ranges++;
			}
			errno = EMSGSIZE;
			*ret = -1;
			return 1;
		}
		if (k.nr_ranges)
			memcpy((void *)(uintptr_t)q->allowed_iovas, k.ranges,
			       k.nr_ranges * sizeof(k.ranges[0]));
		q->num_iovas = k.nr_ranges;
		q->out_iova_alignment = 4096;
		return 1;
	}
	case IOMMU_IOAS_MAP:
		k.wrong_fd += !fd_is(fd, "/dev/iommu");
		k.ioas_maps++;
		k.last_ioas_map = *(struct iommu_ioas_map *)arg;
		if (k.ioas_map_err)
			goto err;
		return 1;
	case IOMMU_IOAS_UNMAP:
		k.wrong_fd += !fd_is(fd, "/dev/iommu");
		k.ioas_unmaps++;
		k.last_ioas_unmap = *(struct iommu_ioas_unmap *)arg;
		if (k.ioas_unmap_err)
			goto err;
		return 1;
	case VFIO_DEVICE_BIND_IOMMUFD: {
		struct vfio_device_bind_iommufd *b = arg;
		uint64_t token;

		k.wrong_fd += !is_cdev(fd) || !fd_is(b->iommufd, "/dev/iommu");
		k.binds++;
		k.last_bind.argsz = b->argsz;
		k.last_bind.flags = b->flags;
		if (b->flags & 1) {
			/* token_uuid_ptr follows out_devid (Linux 7.3) */
			memcpy(&token, (char *)b + 16, 8);
			memcpy(k.last_bind.token, (void *)(uintptr_t)token, 16);
		}
		if (k.bind_err)
			goto err;
		b->out_devid = 3;
		return 1;
	}
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT: {
		struct vfio_device_attach_iommufd_pt *at = arg;

		k.wrong_fd += !is_cdev(fd);
		k.attaches++;
		k.last_pt_id = at->pt_id;
		if (k.attach_err)
			goto err;
		/* A second device reserves the low megabyte (say). */
		if (k.narrow && k.attaches == 2)
			k.ranges[1].start = 0x100000;
		return 1;
	}
	}
	return 0;
err:
	errno = req == IOMMU_IOAS_ALLOC ? k.ioas_alloc_err :
		req == IOMMU_IOAS_IOVA_RANGES ? k.ranges_err :
		req == IOMMU_IOAS_MAP ? k.ioas_map_err :
		req == IOMMU_IOAS_UNMAP ? k.ioas_unmap_err :
		req == VFIO_DEVICE_BIND_IOMMUFD ? k.bind_err : k.attach_err;
	*ret = -1;
	return 1;
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

	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fake_iommufd(fd, req, arg, &ret))
		return ret;
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
		fd_path(fd, k.feature_fd, sizeof(k.feature_fd));
		if (k.feature_err) {
			errno = k.feature_err;
			return -1;
		}
		/* An export (GET without PROBE) gives a new fd. */
		if ((f->flags & (VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_PROBE)) ==
		    VFIO_DEVICE_FEATURE_GET)
			return open("/dev/null", O_RDWR | O_CLOEXEC);
		if (f->argsz >= sizeof(*f) + 16)
			memcpy(k.vf_token, f->data, 16);
		return 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info *ri = arg;

		/* Every region a 1 MiB memory BAR; config space is the file. */
		ri->flags = VFIO_REGION_INFO_FLAG_READ |
			    VFIO_REGION_INFO_FLAG_WRITE;
		ri->cap_offset = 0;
		ri->size = 1 << 20;
		ri->offset = 0;
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
	/* Config space: BAR0 (at 0x10) reads 0x30303030, a memory BAR. */
	put(rel, "0123456789abcdef0000");
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
	/* VFIO's through the iommufd cdev only: no /dev/vfio/8, 9. */
	pci("0000:00:13.0", "vfio-pci", 8);
	cdev("0000:00:13.0", 3);
	unlink("dev/vfio/8");
	pci("0000:00:14.0", "vfio-pci", 9);
	cdev("0000:00:14.0", 4);
	unlink("dev/vfio/9");
	/* Both: /dev/vfio/10 and the cdev vfio5. */
	pci("0000:00:15.0", "vfio-pci", 10);
	cdev("0000:00:15.0", 5);
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

/* Nothing of the group path went to iommufd, nor the other way round. */
static void assert_group_path_only(void)
{
	assert_int_equal(k.ioas_allocs + k.binds + k.attaches +
			 k.ranges_calls + k.ioas_maps + k.ioas_unmaps, 0);
}

static void assert_cdev_path_only(void)
{
	assert_int_equal(k.set_container + k.set_iommu + k.get_device +
			 k.get_info + k.maps + k.unmaps, 0);
	assert_int_equal(k.wrong_fd, 0);
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
	assert_int_equal(p2pmr_dev_ioas_id(a), -1);
	assert_group_path_only();

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

/*
 * A device VFIO offers through its cdev only opens, by default: cdev
 * bound to a new iommufd, attached to a new IOAS.
 */
static void test_cdev_only(void **state)
{
	struct p2pmr_range r = { 0, 0x10000 };
	struct p2pmr_dev *dev;
	int fds = nr_fds(), buf;

	(void)state;
	dev = open_ok("00:13.0", NULL);
	assert_int_equal(p2pmr_dev_group_fd(dev), -1);
	assert_true(fd_is(p2pmr_dev_fd(dev), "/dev/vfio/devices/vfio3"));
	assert_true(fd_is(p2pmr_dev_container_fd(dev), "/dev/iommu"));
	assert_int_equal(p2pmr_dev_ioas_id(dev), 7);
	assert_int_equal(k.ioas_allocs, 1);
	assert_int_equal(k.binds, 1);
	/* Linux 6.12's struct, no token. */
	assert_int_equal(k.last_bind.argsz, 16);
	assert_int_equal(k.last_bind.flags, 0);
	assert_int_equal(k.attaches, 1);
	assert_int_equal(k.last_pt_id, 7);
	/* Export works on the cdev's device fd as on the group's. */
	buf = p2pmr_export(dev, 0, &r, 1, O_RDWR | O_CLOEXEC);
	if (buf < 0)
		fail_msg("%s", p2pmr_errmsg());
	assert_true(fd_is(buf, "/dev/null"));
	close(buf);
	assert_string_equal(strrchr(k.feature_fd, '/'), "/vfio3");
	assert_int_equal(p2pmr_dev_set_vf_token(dev, TOKEN), 0);
	assert_string_equal(strrchr(k.feature_fd, '/'), "/vfio3");
	assert_cdev_path_only();
	/* The last device closes the iommufd, which drops the IOAS. */
	p2pmr_dev_close(dev);
	assert_int_equal(nr_fds(), fds);
}

/* Which path: groups first where both exist, unless asked. */
static void test_cdev_choice(void **state)
{
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_IOMMUFD };
	struct p2pmr_dev *dev, *g, *none = NULL;
	int fds = nr_fds();

	(void)state;
	/* 00:15.0 has /dev/vfio/10 and the cdev vfio5: the group. */
	dev = open_ok("00:15.0", NULL);
	assert_true(p2pmr_dev_group_fd(dev) >= 0);
	assert_int_equal(p2pmr_dev_ioas_id(dev), -1);
	assert_int_equal(k.set_container, 1);
	assert_group_path_only();
	p2pmr_dev_close(dev);
	/* The attribute asks for the cdev. */
	reset_kernel();
	dev = open_ok("00:15.0", &attr);
	assert_int_equal(p2pmr_dev_group_fd(dev), -1);
	assert_true(fd_is(p2pmr_dev_fd(dev), "/dev/vfio/devices/vfio5"));
	assert_int_equal(k.binds, 1);
	assert_cdev_path_only();
	p2pmr_dev_close(dev);
	/* So does P2PMR_IOMMUFD=1, for opens without it; other values do not. */
	reset_kernel();
	assert_int_equal(setenv("P2PMR_IOMMUFD", "1", 1), 0);
	dev = open_ok("00:15.0", NULL);
	assert_int_equal(p2pmr_dev_ioas_id(dev), 7);
	assert_cdev_path_only();
	p2pmr_dev_close(dev);
	assert_int_equal(setenv("P2PMR_IOMMUFD", "0", 1), 0);
	dev = open_ok("00:15.0", NULL);
	assert_int_equal(p2pmr_dev_ioas_id(dev), -1);
	p2pmr_dev_close(dev);
	/* ... and the environment does not move a device into an IOAS it cannot use. */
	assert_int_equal(setenv("P2PMR_IOMMUFD", "1", 1), 0);
	assert_fails_with(p2pmr_dev_open("00:11.0", &none), -EOPNOTSUPP,
			  "0000:00:11.0 (bound to vfio-pci-p2p) has no VFIO cdev");
	unsetenv("P2PMR_IOMMUFD");

	/* Asked for on a device without a cdev: refused, said why. */
	reset_kernel();
	assert_fails_with(p2pmr_dev_open_ex("00:11.0", &attr, &none),
			  -EOPNOTSUPP,
			  "needs a VFIO driver and a kernel with CONFIG_VFIO_DEVICE_CDEV");
	/* A device not VFIO's at all: ENODEV. */
	assert_fails_with(p2pmr_dev_open_ex("00:10.2", &attr, &none), -ENODEV,
			  "0000:00:10.2 (bound to pci-stub) has no VFIO cdev");
	assert_null(none);
	/* The attribute with a group's container is a contradiction. */
	g = open_ok("00:11.0", NULL);
	attr.comp_mask |= P2PMR_DEV_ATTR_CONTAINER;
	attr.container = g;
	assert_fails_with(p2pmr_dev_open_ex("00:15.0", &attr, &none), -EINVAL,
			  "a device opened through its cdev joins an IOAS, not a VFIO container");
	/* A cdev-only device cannot join a VFIO container. */
	attr.comp_mask = P2PMR_DEV_ATTR_CONTAINER;
	assert_fails_with(p2pmr_dev_open_ex("00:13.0", &attr, &none),
			  -EOPNOTSUPP, "it cannot join a VFIO container");
	/* A device with both joins it through its group. */
	dev = open_ok("00:15.0", &attr);
	assert_int_equal(p2pmr_dev_container_fd(dev),
			 p2pmr_dev_container_fd(g));
	p2pmr_dev_close(dev);
	p2pmr_dev_close(g);
	assert_int_equal(k.binds, 0);
	assert_int_equal(nr_fds(), fds);
}

/* Several devices in one IOAS: the cdev path's container. */
static void test_cdev_share(void **state)
{
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_CONTAINER };
	struct p2pmr_dev *a, *b, *a2, *c, *none = NULL;
	int fds = nr_fds(), ifd;

	(void)state;
	a = open_ok("00:13.0", NULL);
	attr.container = a;
	b = open_ok("00:14.0", &attr);
	ifd = p2pmr_dev_container_fd(a);
	assert_int_equal(p2pmr_dev_container_fd(b), ifd);
	assert_int_equal(p2pmr_dev_ioas_id(b), p2pmr_dev_ioas_id(a));
	assert_true(fd_is(p2pmr_dev_fd(b), "/dev/vfio/devices/vfio4"));
	/* One iommufd and IOAS, two binds to it and attaches to the IOAS. */
	assert_int_equal(k.ioas_allocs, 1);
	assert_int_equal(k.binds, 2);
	assert_int_equal(k.attaches, 2);
	assert_int_equal(k.last_pt_id, 7);
	/* The same function again shares its open file: VFIO binds once. */
	a2 = open_ok("00:13.0", NULL);
	assert_int_not_equal(p2pmr_dev_fd(a2), p2pmr_dev_fd(a));
	assert_true(fd_is(p2pmr_dev_fd(a2), "/dev/vfio/devices/vfio3"));
	assert_int_equal(p2pmr_dev_container_fd(a2), ifd);
	assert_int_equal(k.binds, 2);
	/* A cdev device in another IOAS; a cannot move there. */
	c = open_ok("00:15.0", &(struct p2pmr_dev_attr){
			    .comp_mask = P2PMR_DEV_ATTR_IOMMUFD });
	assert_int_equal(p2pmr_dev_ioas_id(c), 8);
	assert_int_not_equal(p2pmr_dev_container_fd(c), ifd);
	attr.container = c;
	assert_fails_with(p2pmr_dev_open_ex("00:13.0", &attr, &none), -EBUSY,
			  "0000:00:13.0 is already open through its VFIO cdev in another IOAS of this process");
	/* A device without a cdev cannot join an IOAS. */
	assert_fails_with(p2pmr_dev_open_ex("00:10.0", &attr, &none),
			  -EOPNOTSUPP, "0000:00:10.0 (bound to mlx5_vfio_pci) has no VFIO cdev");
	assert_null(none);
	assert_cdev_path_only();

	/* The IOAS outlives the device it was named by. */
	p2pmr_dev_close(a);
	assert_true(is_open(ifd));
	assert_true(fd_is(p2pmr_dev_fd(a2), "/dev/vfio/devices/vfio3"));
	p2pmr_dev_close(a2);
	assert_true(is_open(ifd));
	p2pmr_dev_close(b);
	assert_false(is_open(ifd));
	p2pmr_dev_close(c);
	assert_int_equal(nr_fds(), fds);
}

/* What can go wrong on the way, each said, nothing left open. */
static void test_cdev_failures(void **state)
{
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_VF_TOKEN,
				       .vf_token = TOKEN };
	static const uint8_t bytes[16] = {
		0xbd, 0x8d, 0x9d, 0x2b, 0x5a, 0x5f, 0x4f, 0x5a,
		0xa2, 0x11, 0xf5, 0x91, 0x51, 0x4b, 0xa1, 0xf3,
	};
	struct p2pmr_dev *dev, *a, *none = NULL;
	char path[PATH_MAX];
	int fds = nr_fds();

	(void)state;
	/* No /dev/iommu: the kernel lacks iommufd. */
	assert_int_equal(rename("dev/iommu", "dev/iommu.off"), 0);
	assert_fails_with(p2pmr_dev_open("00:13.0", &none), -EOPNOTSUPP,
			  "/dev/iommu missing: modprobe iommufd (the kernel needs CONFIG_IOMMUFD; a container needs the node passed in) to open 0000:00:13.0 through its VFIO cdev vfio3");
	assert_int_equal(errno, EOPNOTSUPP);
	assert_int_equal(rename("dev/iommu.off", "dev/iommu"), 0);
	/* No cdev node although sysfs has one. */
	assert_int_equal(rename("dev/vfio/devices/vfio3", "dev/vfio3.off"), 0);
	snprintf(path, sizeof(path), "there is no %s/dev/vfio/devices/vfio3",
		 root);
	assert_fails_with(p2pmr_dev_open("00:13.0", &none), -ENODEV, path);
	assert_int_equal(rename("dev/vfio3.off", "dev/vfio/devices/vfio3"), 0);
	k.ioas_alloc_err = ENOMEM;
	assert_fails_with(p2pmr_dev_open("00:13.0", &none), -ENOMEM,
			  "IOMMU_IOAS_ALLOC on");
	k.ioas_alloc_err = 0;
	/* The group is open (through /dev/vfio/N, by someone): EBUSY. */
	k.bind_err = EBUSY;
	assert_fails_with(p2pmr_dev_open("00:13.0", &none), -EBUSY,
			  "cannot bind 0000:00:13.0 to an iommufd: its IOMMU group 8 is open through");
	assert_int_equal(errno, EBUSY);
	/* Bound already, in another process: VFIO says EINVAL. */
	k.bind_err = EINVAL;
	assert_fails_with(p2pmr_dev_open("00:13.0", &none), -EBUSY,
			  "it is most likely open through its VFIO cdev in another process");
	k.bind_err = ENOMEM;
	assert_fails_with(p2pmr_dev_open("00:13.0", &none), -ENOMEM,
			  "VFIO_DEVICE_BIND_IOMMUFD of 0000:00:13.0: Cannot allocate memory");
	k.bind_err = 0;
	/* Attach fails: generic, and mappings in the way of the device. */
	k.attach_err = ENODEV;
	assert_fails_with(p2pmr_dev_open("00:13.0", &none), -ENODEV,
			  "VFIO_DEVICE_ATTACH_IOMMUFD_PT of 0000:00:13.0 to IOAS");
	k.attach_err = EADDRINUSE;
	assert_fails_with(p2pmr_dev_open("00:13.0", &none), -EADDRINUSE,
			  "open every device before mapping memory");
	k.attach_err = 0;
	assert_null(none);
	assert_int_equal(nr_fds(), fds);

	/* A failed join leaves the IOAS to the devices in it. */
	a = open_ok("00:13.0", NULL);
	k.attach_err = EINVAL;
	assert_fails_with(p2pmr_dev_open_ex("00:14.0", &(struct p2pmr_dev_attr){
			.comp_mask = P2PMR_DEV_ATTR_CONTAINER, .container = a },
			&none), -EINVAL, "VFIO_DEVICE_ATTACH_IOMMUFD_PT of 0000:00:14.0");
	k.attach_err = 0;
	assert_true(is_open(p2pmr_dev_container_fd(a)));
	p2pmr_dev_close(a);
	assert_int_equal(nr_fds(), fds);

	/* A VF token goes with the bind (Linux 7.3's struct). */
	k.binds = 0;
	dev = open_ok("00:13.0", &attr);
	assert_int_equal(k.last_bind.argsz, 24);
	assert_int_equal(k.last_bind.flags, 1);
	assert_memory_equal(k.last_bind.token, bytes, 16);
	p2pmr_dev_close(dev);
	k.bind_err = EACCES;
	assert_fails_with(p2pmr_dev_open("00:13.0", &none), -EACCES,
			  "it needs a VF token");
	assert_fails_with(p2pmr_dev_open_ex("00:13.0", &attr, &none), -EACCES,
			  "the VF token is not the PF's");
	/* 6.12 takes no token here, nor does a device neither VF nor PF. */
	k.bind_err = EINVAL;
	assert_fails_with(p2pmr_dev_open_ex("00:13.0", &attr, &none), -EINVAL,
			  "or this kernel takes no VF token through the cdev");
	k.bind_err = 0;
	assert_null(none);
	assert_int_equal(k.wrong_fd, 0);
	assert_int_equal(nr_fds(), fds);
}

/* Host memory in an IOAS: IOMMU_IOAS_MAP at IOVAs inside its ranges. */
static void test_cdev_dma(void **state)
{
	size_t page = p2pmr_page_size();
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_CONTAINER };
	struct p2pmr_dev *a, *b;
	uint64_t iova, iova2, iova3;
	char *buf;

	(void)state;
	buf = aligned_alloc(page, 4 * page);
	assert_non_null(buf);
	k.narrow = 1;
	a = open_ok("00:13.0", NULL);
	assert_int_equal(p2pmr_dma_map(a, buf, 2 * page,
				       P2PMR_DMA_READ | P2PMR_DMA_WRITE,
				       &iova), 0);
	/* Asked with no room, then with room (EMSGSIZE); never IOVA 0. */
	assert_int_equal(k.ranges_calls, 2);
	assert_int_equal(iova, page);
	assert_int_equal(k.last_ioas_map.size, sizeof(k.last_ioas_map));
	assert_int_equal(k.last_ioas_map.flags, IOMMU_IOAS_MAP_FIXED_IOVA |
			 IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE);
	assert_int_equal(k.last_ioas_map.ioas_id, 7);
	assert_int_equal(k.last_ioas_map.user_va, (uintptr_t)buf);
	assert_int_equal(k.last_ioas_map.length, 2 * page);
	assert_int_equal(k.last_ioas_map.iova, page);
	/* Read once while no device attaches... */
	assert_int_equal(p2pmr_dma_map(a, buf + 2 * page, page,
				       P2PMR_DMA_WRITE, &iova2), 0);
	assert_int_equal(iova2, 3 * page);
	assert_int_equal(k.last_ioas_map.flags, IOMMU_IOAS_MAP_FIXED_IOVA |
			 IOMMU_IOAS_MAP_WRITEABLE);
	assert_int_equal(k.ranges_calls, 2);
	/* ... and again after one did: it reserves the low megabyte. */
	attr.container = a;
	b = open_ok("00:14.0", &attr);
	assert_int_equal(p2pmr_dma_map(b, buf + 3 * page, page,
				       P2PMR_DMA_READ, &iova3), 0);
	assert_int_equal(k.ranges_calls, 4);
	assert_int_equal(iova3, 0x100000);
	assert_int_equal(k.last_ioas_map.flags, IOMMU_IOAS_MAP_FIXED_IOVA |
			 IOMMU_IOAS_MAP_READABLE);

	/* A failed map leaves no trace in the allocator. */
	k.ioas_map_err = ENOMEM;
	assert_fails_with(p2pmr_dma_map(a, buf, page, P2PMR_DMA_READ, &iova3),
			  -ENOMEM, "IOMMU_IOAS_MAP of 4096 bytes at IOVA 0x101000 for 0000:00:13.0: Cannot allocate memory (pinned memory counts against ulimit -l)");
	k.ioas_map_err = 0;
	/* Unmap through either device, the mapping as it was made. */
	assert_fails_with(p2pmr_dma_unmap(b, iova, page), -ENOENT,
			  "no mapping of 4096 bytes at IOVA 0x1000");
	k.ioas_unmap_err = EINVAL;
	assert_fails_with(p2pmr_dma_unmap(b, iova, 2 * page), -EINVAL,
			  "IOMMU_IOAS_UNMAP of 8192 bytes at IOVA 0x1000 for 0000:00:14.0");
	k.ioas_unmap_err = 0;
	assert_int_equal(p2pmr_dma_unmap(b, iova, 2 * page), 0);
	assert_int_equal(k.last_ioas_unmap.size, sizeof(k.last_ioas_unmap));
	assert_int_equal(k.last_ioas_unmap.ioas_id, 7);
	assert_int_equal(k.last_ioas_unmap.iova, page);
	assert_int_equal(k.last_ioas_unmap.length, 2 * page);
	/* The freed IOVAs are outside the narrowed range now. */
	assert_int_equal(p2pmr_dma_map(a, buf, page, P2PMR_DMA_READ, &iova),
			 0);
	assert_int_equal(iova, 0x101000);
	/* Reservations work on an IOAS as on a container. */
	assert_int_equal(p2pmr_iova_reserve(a, 0x102000, page), 0);
	assert_int_equal(p2pmr_dma_map(b, buf, page, P2PMR_DMA_READ, &iova),
			 0);
	assert_int_equal(iova, 0x103000);
	/* Larger than every usable range. */
	assert_fails_with(p2pmr_dma_map(a, buf, (size_t)1 << 40,
					P2PMR_DMA_READ, &iova), -ENOSPC,
			  "no free IOVA range of 1099511627776 bytes");
	assert_cdev_path_only();
	p2pmr_dev_close(a);
	p2pmr_dev_close(b);

	/* IOMMU_IOAS_IOVA_RANGES fails, or has nothing: said so. */
	reset_kernel();
	a = open_ok("00:13.0", NULL);
	k.ranges_err = EFAULT;
	assert_fails_with(p2pmr_dma_map(a, buf, page, P2PMR_DMA_READ, &iova),
			  -EFAULT, "IOMMU_IOAS_IOVA_RANGES of IOAS 7: Bad address");
	k.ranges_err = 0;
	k.nr_ranges = 0;
	assert_fails_with(p2pmr_dma_map(a, buf, page, P2PMR_DMA_READ, &iova),
			  -ENOSPC, "IOMMU_IOAS_IOVA_RANGES of IOAS 7: no usable IOVA range");
	k.nr_ranges = 1;
	k.ranges[0] = (struct iommu_iova_range){ 0x2000, 0x1000 };
	assert_fails_with(p2pmr_dma_map(a, buf, page, P2PMR_DMA_READ, &iova),
			  -EIO, "range 0 ends before it starts");
	k.ranges[0] = (struct iommu_iova_range){ 0x10000, 0x1ffff };
	assert_int_equal(p2pmr_dma_map(a, buf, page, P2PMR_DMA_READ, &iova),
			 0);
	assert_int_equal(iova, 0x10000);
	assert_int_equal(k.ioas_maps, 1);
	p2pmr_dev_close(a);

	/* The count grows between the calls: asked again, with room. */
	reset_kernel();
	k.nr_ranges = 1;
	k.ranges[0] = (struct iommu_iova_range){ 0x10000, 0x1ffff };
	k.ranges[1] = (struct iommu_iova_range){ 0x4000, 0x4fff };
	k.grow = 1;
	a = open_ok("00:13.0", NULL);
	assert_int_equal(p2pmr_dma_map(a, buf, page, P2PMR_DMA_READ, &iova),
			 0);
	assert_int_equal(k.ranges_calls, 3);
	assert_int_equal(iova, 0x4000);		/* from the range that came */
	p2pmr_dev_close(a);
	free(buf);
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
	assert_group_path_only();

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
	assert_group_path_only();

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

/*
 * Four threads mapping through the devices @bdf_a and @bdf_b of one
 * container (or IOAS): the library's view of the mappings afterwards is
 * sorted, disjoint, half of them left.  Returns the first device's
 * container, the devices in @a and @b.
 */
static struct p2pmr_container *dma_threads(const char *bdf_a,
					   const char *bdf_b,
					   struct p2pmr_dev **a,
					   struct p2pmr_dev **b)
{
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_CONTAINER };
	struct p2pmr_container *c;
	pthread_t t[4];
	void *ret;
	size_t i;

	*a = open_ok(bdf_a, NULL);
	attr.container = *a;
	*b = open_ok(bdf_b, &attr);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, mapper,
						i % 2 ? *a : *b), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	/* A group's devices reach the container through their group. */
	c = (*a)->group ? (*a)->group->container : (*a)->container;
	assert_ptr_equal((*b)->group ? (*b)->group->container :
				       (*b)->container, c);
	assert_int_equal(c->nr_maps, 4 * PER_THREAD / 2);
	for (i = 1; i < c->nr_maps; i++)
		assert_true(c->maps[i - 1].iova + c->maps[i - 1].length <=
			    c->maps[i].iova);
	return c;
}

/* Concurrent mappings through two devices of one container. */
static void test_dma_threads(void **state)
{
	struct p2pmr_dev *a, *b;

	(void)state;
	dma_threads("00:10.0", "00:11.0", &a, &b);
	assert_non_null(a->group);
	p2pmr_dev_close(a);
	p2pmr_dev_close(b);
}

/* Concurrent mappings through two devices of one IOAS. */
static void test_cdev_dma_threads(void **state)
{
	struct p2pmr_dev *a, *b;

	(void)state;
	dma_threads("00:13.0", "00:14.0", &a, &b);
	assert_int_equal(k.ioas_maps, 4 * PER_THREAD);
	assert_int_equal(k.ioas_unmaps, 4 * PER_THREAD / 2);
	assert_cdev_path_only();
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
		cmocka_unit_test_setup(test_cdev_choice, each),
		cmocka_unit_test_setup(test_cdev_share, each),
		cmocka_unit_test_setup(test_cdev_failures, each),
		cmocka_unit_test_setup(test_cdev_dma, each),
		cmocka_unit_test_setup(test_dma_map, each),
		cmocka_unit_test_setup(test_iova_reserve, each),
		cmocka_unit_test_setup(test_get_info_fails, each),
		cmocka_unit_test_setup(test_dma_threads, each),
		cmocka_unit_test_setup(test_cdev_dma_threads, each),
		cmocka_unit_test(test_iova_ranges),
		cmocka_unit_test(test_iova_alloc),
	};

	return cmocka_run_group_tests_name("vfio", tests, setup, teardown);
}
