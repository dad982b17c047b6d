// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of p2pmr_buf_open() without VFIO: the device is a memfd
 * (p2pmr_dev_adopt()) that holds a fake config space and BAR2, and
 * ioctl() is wrapped (-Wl,--wrap=ioctl) by a fake kernel that answers
 * VFIO_DEVICE_GET_REGION_INFO (with or without a sparse-mmap capability)
 * and VFIO_DEVICE_FEATURE_DMA_BUF.  The CPU mappings are real mmaps of the
 * memfd, so the tests see which BAR bytes land where in the window, and
 * /proc/self/maps shows their protection.  Also: the parsing of the
 * region info's capability chain (p2pmr_mmap_areas()).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "unit.h"
#include "../../userspace/lib/internal.h"
#include "../../vfio-export/vfio_dmabuf_uapi.h"

#define PG		0x1000ULL
#define BAR_SIZE	(16 * PG)
#define BAR_OFF		(4 * PG)	/* region offset of BAR2 in the fd */
#define MAX_AREAS	4

/* The fake kernel's state and what it saw. */
static struct {
	int mmap;			/* BAR2 has VFIO_REGION_INFO_FLAG_MMAP */
	int nr_areas;			/* > 0: a sparse-mmap capability */
	struct vfio_region_sparse_mmap_area areas[MAX_AREAS];
	int export_err;
	int exports;
	uint32_t nr_ranges;
	struct vfio_region_dma_range ranges[4];
} k;

static int devfd;
static struct p2pmr_dev *dev;

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

static int region_info(struct vfio_region_info *ri)
{
	struct vfio_region_info_cap_sparse_mmap *sp;
	size_t caps = 0;

	if (ri->index == VFIO_PCI_CONFIG_REGION_INDEX) {
		ri->offset = 0;
		ri->size = 256;
		ri->flags = VFIO_REGION_INFO_FLAG_READ |
			    VFIO_REGION_INFO_FLAG_WRITE;
		return 0;
	}
	if (ri->index != 2) {
		ri->offset = ri->size = 0;
		ri->flags = 0;
		return 0;
	}
	ri->offset = BAR_OFF;
	ri->size = BAR_SIZE;
	ri->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		    (k.mmap ? VFIO_REGION_INFO_FLAG_MMAP : 0);
	ri->cap_offset = 0;
	if (!k.nr_areas)
		return 0;
	/* As vfio-pci does: the needed argsz when the caller's is short. */
	caps = sizeof(*sp) + k.nr_areas * sizeof(sp->areas[0]);
	ri->flags |= VFIO_REGION_INFO_FLAG_CAPS;
	if (ri->argsz < sizeof(*ri) + caps) {
		ri->argsz = sizeof(*ri) + caps;
		return 0;
	}
	sp = (void *)(ri + 1);
	memset(sp, 0, caps);
	sp->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	sp->header.version = 1;
	sp->nr_areas = k.nr_areas;
	memcpy(sp->areas, k.areas, k.nr_areas * sizeof(sp->areas[0]));
	ri->cap_offset = sizeof(*ri);
	return 0;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	struct vfio_device_feature_dma_buf *db;
	struct vfio_device_feature *f;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != devfd)
		return __real_ioctl(fd, req, arg);
	switch (req) {
	case VFIO_DEVICE_GET_REGION_INFO:
		return region_info(arg);
	case VFIO_DEVICE_FEATURE:
		f = arg;
		if (f->flags & VFIO_DEVICE_FEATURE_PROBE)
			return 0;
		if (k.export_err) {
			errno = k.export_err;
			return -1;
		}
		db = (void *)f->data;
		k.exports++;
		k.nr_ranges = db->nr_ranges;
		memcpy(k.ranges, db->dma_ranges,
		       db->nr_ranges * sizeof(db->dma_ranges[0]));
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	}
	errno = ENOTTY;
	return -1;
}

/* Byte o of BAR2 holds o / PG + 1 (the page's number, from 1). */
static int each(void **state)
{
	uint8_t page[PG];
	uint32_t bar2 = PCI_BASE_ADDRESS_MEM_PREFETCH |
			PCI_BASE_ADDRESS_MEM_TYPE_64;
	uint64_t o;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.mmap = 1;
	devfd = memfd_create("fake-vfio-device", MFD_CLOEXEC);
	assert_true(devfd >= 0);
	assert_int_equal(ftruncate(devfd, BAR_OFF + BAR_SIZE), 0);
	assert_int_equal(pwrite(devfd, &bar2, 4, PCI_BASE_ADDRESS_2), 4);
	for (o = 0; o < BAR_SIZE; o += PG) {
		memset(page, o / PG + 1, PG);
		assert_int_equal(pwrite(devfd, page, PG, BAR_OFF + o), PG);
	}
	assert_int_equal(p2pmr_dev_adopt(devfd, NULL, &dev), 0);
	return 0;
}

static int done(void **state)
{
	(void)state;
	p2pmr_dev_close(dev);
	return 0;
}

/* The protection /proc/self/maps shows for @addr, as "rw-s"; "none". */
static const char *perms(const void *addr)
{
	static char p[8];
	unsigned long lo, hi;
	char line[512], found[8] = "none";
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 &&
		    (unsigned long)addr >= lo && (unsigned long)addr < hi) {
			memcpy(found, p, sizeof(found));
			break;
		}
	}
	fclose(f);
	memcpy(p, found, sizeof(p));
	return p;
}

static uint8_t bar_byte(uint64_t o)
{
	uint8_t b;

	assert_int_equal(pread(devfd, &b, 1, BAR_OFF + o), 1);
	return b;
}

static void test_whole_region(void **state)
{
	struct p2pmr_buf *b;
	uint8_t *p;

	(void)state;
	assert_int_equal(p2pmr_buf_open(dev, 2, 2 * PG, 3 * PG,
					PROT_READ | PROT_WRITE, 0, &b), 0);
	assert_true(b->fd >= 0);
	assert_int_equal(b->length, 3 * PG);
	assert_int_equal(b->bar, 2);
	assert_int_equal(b->nr_ranges, 1);
	assert_int_equal(b->ranges[0].offset, 2 * PG);
	assert_int_equal(k.exports, 1);
	assert_int_equal(k.nr_ranges, 1);
	assert_int_equal(k.ranges[0].offset, 2 * PG);
	assert_int_equal(k.ranges[0].length, 3 * PG);
	assert_int_equal(b->nr_mapped, 1);
	assert_int_equal(b->mapped[0].offset, 0);
	assert_int_equal(b->mapped[0].length, 3 * PG);
	p = b->addr;
	/* Only the range is mapped, at the region's offset in the fd. */
	assert_int_equal(p[0], 3);
	assert_int_equal(p[3 * PG - 1], 5);
	assert_string_equal(perms(p), "rw-s");
	p[PG + 7] = 0xab;
	assert_int_equal(bar_byte(3 * PG + 7), 0xab);
	p2pmr_buf_close(b);
}

static void test_read_only(void **state)
{
	struct p2pmr_buf *b;

	(void)state;
	assert_int_equal(p2pmr_buf_open(dev, 2, 0, PG, PROT_READ, 0, &b), 0);
	assert_string_equal(perms(b->addr), "r--s");
	assert_int_equal(((uint8_t *)b->addr)[0], 1);
	p2pmr_buf_close(b);
	/* PROT_WRITE alone is read-write. */
	assert_int_equal(p2pmr_buf_open(dev, 2, 0, PG, PROT_WRITE, 0, &b), 0);
	assert_string_equal(perms(b->addr), "rw-s");
	p2pmr_buf_close(b);
}

static void test_sparse(void **state)
{
	struct p2pmr_buf *b;
	uint8_t *p;

	(void)state;
	/* An MSI-X table in pages 3 and 4, as vfio-pci describes it. */
	k.nr_areas = 2;
	k.areas[0] = (struct vfio_region_sparse_mmap_area){ 0, 3 * PG };
	k.areas[1] = (struct vfio_region_sparse_mmap_area){ 5 * PG, 11 * PG };

	/* Refused without P2PMR_BUF_SPARSE, before anything is exported. */
	assert_fails_with(p2pmr_buf_open(dev, 2, PG, 5 * PG, PROT_READ, 0, &b),
			  -ENXIO, "offset 0x3000 of BAR2");
	assert_int_equal(errno, ENXIO);
	assert_true(strstr(p2pmr_errmsg(), "P2PMR_BUF_SPARSE") != NULL);
	assert_int_equal(k.exports, 0);

	/* With it: pages 1-2 and 5 mapped, 3-4 a PROT_NONE hole. */
	assert_int_equal(p2pmr_buf_open(dev, 2, PG, 5 * PG, PROT_READ,
					P2PMR_BUF_SPARSE, &b), 0);
	assert_int_equal(k.exports, 1);
	assert_int_equal(b->length, 5 * PG);
	assert_int_equal(b->nr_mapped, 2);
	assert_int_equal(b->mapped[0].offset, 0);
	assert_int_equal(b->mapped[0].length, 2 * PG);
	assert_int_equal(b->mapped[1].offset, 4 * PG);
	assert_int_equal(b->mapped[1].length, PG);
	p = b->addr;
	assert_int_equal(p[0], 2);
	assert_int_equal(p[4 * PG], 6);
	assert_string_equal(perms(p + 2 * PG), "---p");
	assert_string_equal(perms(p + 4 * PG), "r--s");
	p2pmr_buf_close(b);

	/* The hole alone: nothing to map, even with P2PMR_BUF_SPARSE. */
	assert_fails_with(p2pmr_buf_open(dev, 2, 3 * PG, 2 * PG, PROT_READ,
					 P2PMR_BUF_SPARSE, &b),
			  -ENXIO, "any part of the range of BAR2");
	/* ...but the dma-buf alone is fine. */
	assert_int_equal(p2pmr_buf_open(dev, 2, 3 * PG, 2 * PG, PROT_NONE, 0,
					&b), 0);
	assert_null(b->addr);
	assert_int_equal(b->nr_mapped, 0);
	p2pmr_buf_close(b);

	/* Inside one area: no flag needed. */
	assert_int_equal(p2pmr_buf_open(dev, 2, 6 * PG, 4 * PG,
					PROT_READ | PROT_WRITE, 0, &b), 0);
	assert_int_equal(((uint8_t *)b->addr)[0], 7);
	p2pmr_buf_close(b);
}

static void test_sparse_odd_areas(void **state)
{
	struct p2pmr_buf *b;

	(void)state;
	/* Unaligned areas shrink to whole pages; overlaps are mapped once. */
	k.nr_areas = 3;
	k.areas[0] = (struct vfio_region_sparse_mmap_area){ 0x800, 0x2000 };
	k.areas[1] = (struct vfio_region_sparse_mmap_area){ 8 * PG, 4 * PG };
	k.areas[2] = (struct vfio_region_sparse_mmap_area){ 6 * PG, 4 * PG };
	assert_int_equal(p2pmr_buf_open(dev, 2, 0, 12 * PG, PROT_READ,
					P2PMR_BUF_SPARSE, &b), 0);
	assert_int_equal(b->nr_mapped, 2);
	assert_int_equal(b->mapped[0].offset, PG);
	assert_int_equal(b->mapped[0].length, PG);
	assert_int_equal(b->mapped[1].offset, 6 * PG);
	assert_int_equal(b->mapped[1].length, 6 * PG);
	assert_int_equal(((uint8_t *)b->addr)[PG], 2);
	assert_int_equal(((uint8_t *)b->addr)[11 * PG], 12);
	assert_string_equal(perms((uint8_t *)b->addr), "---p");
	p2pmr_buf_close(b);
	assert_fails_with(p2pmr_buf_open(dev, 2, 0, 12 * PG, PROT_READ, 0, &b),
			  -ENXIO, "offset 0x0 of BAR2");
}

static void test_ranges_layout(void **state)
{
	struct p2pmr_range r[] = { { 8 * PG, 2 * PG }, { PG, PG } };
	struct p2pmr_buf *b;
	uint8_t *p;

	(void)state;
	/* The window is laid out as the dma-buf: range after range. */
	assert_int_equal(p2pmr_buf_open_ranges(dev, 2, r, 2,
					       PROT_READ | PROT_WRITE, 0, &b),
			 0);
	assert_int_equal(k.nr_ranges, 2);
	assert_int_equal(k.ranges[1].offset, PG);
	assert_int_equal(b->length, 3 * PG);
	assert_int_equal(b->nr_ranges, 2);
	assert_int_equal(b->nr_mapped, 1);
	assert_int_equal(b->mapped[0].length, 3 * PG);
	p = b->addr;
	assert_int_equal(p[0], 9);
	assert_int_equal(p[2 * PG - 1], 10);
	assert_int_equal(p[2 * PG], 2);
	p2pmr_buf_close(b);

	/* A hole in the second range only. */
	k.nr_areas = 1;
	k.areas[0] = (struct vfio_region_sparse_mmap_area){ 4 * PG, 12 * PG };
	assert_fails_with(p2pmr_buf_open_ranges(dev, 2, r, 2, PROT_READ, 0,
						&b),
			  -ENXIO, "offset 0x1000 of BAR2");
	assert_int_equal(p2pmr_buf_open_ranges(dev, 2, r, 2, PROT_READ,
					       P2PMR_BUF_SPARSE, &b), 0);
	assert_int_equal(b->nr_mapped, 1);
	assert_int_equal(b->mapped[0].offset, 0);
	assert_int_equal(b->mapped[0].length, 2 * PG);
	assert_string_equal(perms((uint8_t *)b->addr + 2 * PG), "---p");
	p2pmr_buf_close(b);
}

static void test_refusals(void **state)
{
	struct p2pmr_range overlap[] = { { 0, 2 * PG }, { PG, PG } };
	struct p2pmr_buf *b = NULL;

	(void)state;
	assert_fails_with(p2pmr_buf_open(dev, 2, 0, PG, PROT_EXEC, 0, &b),
			  -EINVAL, "protection 0x4");
	assert_fails_with(p2pmr_buf_open(dev, 2, 0, PG, PROT_READ, 0x10, &b),
			  -EINVAL, "only P2PMR_BUF_SPARSE");
	assert_fails_with(p2pmr_buf_open(dev, 6, 0, PG, PROT_READ, 0, &b),
			  -ENODEV, "BARs are numbered 0-5");
	assert_fails_with(p2pmr_buf_open(dev, 1, 0, PG, PROT_READ, 0, &b),
			  -ENODEV, "BAR1 of ? is absent");
	assert_fails_with(p2pmr_buf_open(dev, 2, 0x800, PG, PROT_READ, 0, &b),
			  -EINVAL, "aligned");
	assert_fails_with(p2pmr_buf_open(dev, 2, 15 * PG, 2 * PG, PROT_READ, 0,
					 &b), -EINVAL, "past the end");
	assert_fails_with(p2pmr_buf_open(dev, 2, 0, 0, PROT_READ, 0, &b),
			  -EINVAL, "empty");
	assert_fails_with(p2pmr_buf_open_ranges(dev, 2, overlap, 2, PROT_READ,
						0, &b), -EINVAL, "overlap");
	assert_int_equal(k.exports, 0);

	/* A region VFIO does not let the CPU mmap at all. */
	k.mmap = 0;
	assert_fails_with(p2pmr_buf_open(dev, 2, 0, PG, PROT_READ, 0, &b),
			  -ENXIO, "the region is not mmappable");
	assert_int_equal(k.exports, 0);
	assert_int_equal(p2pmr_buf_open(dev, 2, 0, PG, PROT_NONE, 0, &b), 0);
	assert_null(b->addr);
	assert_true(b->fd >= 0);
	p2pmr_buf_close(b);
	p2pmr_buf_close(NULL);

	/* The export's own message comes through; nothing stays mapped. */
	k.mmap = 1;
	k.export_err = EPERM;
	b = NULL;
	assert_fails_with(p2pmr_buf_open(dev, 2, 0, PG, PROT_READ, 0, &b),
			  -EPERM, "permission denied exporting BAR2");
	assert_int_equal(errno, EPERM);
	assert_null(b);
}

/* A region info reply: the header, then capabilities from byte 32 on. */
struct reply {
	struct vfio_region_info ri;
	uint8_t caps[256];
};

static void test_mmap_areas(void **state)
{
	struct vfio_region_info_cap_sparse_mmap *sp;
	struct vfio_info_cap_header *other;
	struct p2pmr_range *a;
	struct reply r;
	size_t n;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.ri.size = BAR_SIZE;
	/* Not mmappable: no areas. */
	assert_int_equal(p2pmr_mmap_areas(&r, sizeof(r), &a, &n), 0);
	assert_null(a);
	assert_int_equal(n, 0);
	/* Mmappable, no capability: the whole region. */
	r.ri.flags = VFIO_REGION_INFO_FLAG_MMAP;
	assert_int_equal(p2pmr_mmap_areas(&r, sizeof(r), &a, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].length, BAR_SIZE);
	free(a);

	/* Another capability first, then the sparse one. */
	r.ri.flags |= VFIO_REGION_INFO_FLAG_CAPS;
	r.ri.cap_offset = sizeof(r.ri);
	other = (void *)r.caps;
	other->id = VFIO_REGION_INFO_CAP_TYPE;
	other->next = sizeof(r.ri) + 16;
	sp = (void *)(r.caps + 16);
	sp->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	sp->nr_areas = 2;
	sp->areas[0] = (struct vfio_region_sparse_mmap_area){ 0, PG };
	sp->areas[1] = (struct vfio_region_sparse_mmap_area){ 4 * PG, PG };
	assert_int_equal(p2pmr_mmap_areas(&r, sizeof(r), &a, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(a[1].offset, 4 * PG);
	free(a);

	/* No areas: nothing may be mapped. */
	sp->nr_areas = 0;
	assert_int_equal(p2pmr_mmap_areas(&r, sizeof(r), &a, &n), 0);
	assert_int_equal(n, 0);

	/* Malformed: more areas than the reply holds. */
	sp->nr_areas = 1000;
	assert_int_equal(p2pmr_mmap_areas(&r, sizeof(r), &a, &n), -EIO);
	sp->nr_areas = 2;
	/* A capability past the end, inside the header, unaligned, a loop. */
	r.ri.cap_offset = sizeof(r) - 4;
	assert_int_equal(p2pmr_mmap_areas(&r, sizeof(r), &a, &n), -EIO);
	r.ri.cap_offset = 8;
	assert_int_equal(p2pmr_mmap_areas(&r, sizeof(r), &a, &n), -EIO);
	r.ri.cap_offset = sizeof(r.ri) + 2;
	assert_int_equal(p2pmr_mmap_areas(&r, sizeof(r), &a, &n), -EIO);
	r.ri.cap_offset = sizeof(r.ri);
	other->next = sizeof(r.ri);
	assert_int_equal(p2pmr_mmap_areas(&r, sizeof(r), &a, &n), -EIO);
	/* A reply shorter than the header. */
	assert_int_equal(p2pmr_mmap_areas(&r, 8, &a, &n), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_region, each, done),
		cmocka_unit_test_setup_teardown(test_read_only, each, done),
		cmocka_unit_test_setup_teardown(test_sparse, each, done),
		cmocka_unit_test_setup_teardown(test_sparse_odd_areas, each,
						done),
		cmocka_unit_test_setup_teardown(test_ranges_layout, each, done),
		cmocka_unit_test_setup_teardown(test_refusals, each, done),
		cmocka_unit_test(test_mmap_areas),
	};

	if (sysconf(_SC_PAGESIZE) != PG) {
		printf("1..0 # SKIP the tests assume 4 KiB pages\n");
		return 0;
	}
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
