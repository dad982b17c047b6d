// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf_uapi: VFIO_DEVICE_FEATURE_DMA_BUF against the device given on the
 * command line, whatever VFIO driver it is bound to (vfio-pci-p2p on any
 * kernel, upstream vfio-pci on 7.3+).
 *
 *   dmabuf_uapi [--ours] [--io N] BDF
 *
 * Each case prints "ok/not ok N name" and, for comparing drivers, a line
 * "# case NAME RESULT" where RESULT is "fd" or the errno name.  --ours adds
 * the cases where vfio-pci-p2p deliberately differs from upstream 7.3: a
 * cap on nr_ranges (upstream copies whatever count it is given, EFAULT
 * here) and a check of open_flags (upstream accepts O_APPEND and others).
 * --io N checks only that BAR N, an I/O-port BAR, cannot be exported:
 * EINVAL (vfio-pci-p2p and upstream alike).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "p2pmr.h"
#include "../../vfio-export/vfio_dmabuf_uapi.h"
#include "../lib/tap.h"


#define PAGE 4096ULL
#define MAX_RANGES 8

struct req {
	struct vfio_device_feature hdr;
	struct vfio_device_feature_dma_buf buf;
	struct vfio_region_dma_range r[MAX_RANGES];
};

static int devfd;
static uint64_t bar_size;

/* Returns the fd, or -errno. */
static int _export(uint32_t feature_flags, size_t argsz, uint32_t region,
		   uint32_t open_flags, uint32_t flags, uint32_t nr,
		   const struct vfio_region_dma_range *r, uint32_t nr_copy)
{
	struct req req;
	int ret;

	memset(&req, 0, sizeof(req));
	req.hdr.argsz = argsz;
	req.hdr.flags = feature_flags;
	req.buf.region_index = region;
	req.buf.open_flags = open_flags;
	req.buf.flags = flags;
	req.buf.nr_ranges = nr;
	memcpy(req.r, r, nr_copy * sizeof(*r));
	ret = ioctl(devfd, VFIO_DEVICE_FEATURE, &req);
	return ret < 0 ? -errno : ret;
}

static int export_ranges(uint32_t region, uint32_t nr,
			 const struct vfio_region_dma_range *r)
{
	return _export(VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF,
		       sizeof(struct req), region, O_CLOEXEC | O_RDWR, 0, nr,
		       r, nr);
}

static const char *result_name(int ret)
{
	static char buf[32];

	if (ret >= 0)
		return "fd";
	switch (-ret) {
	case EINVAL: return "EINVAL";
	case ENODEV: return "ENODEV";
	case EOVERFLOW: return "EOVERFLOW";
	case E2BIG: return "E2BIG";
	case EFAULT: return "EFAULT";
	case ENOTTY: return "ENOTTY";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOMEM: return "ENOMEM";
	}
	snprintf(buf, sizeof(buf), "errno%d", -ret);
	return buf;
}

/* Check one result: @want is 0 for "an fd", else the expected errno. */
static void expect(const char *name, int ret, int want, uint64_t size)
{
	struct stat st;
	int ok;

	printf("# case %s %s\n", name, result_name(ret));
	if (want) {
		ok = ret == -want;
		tap_result(ok, "%s: want %s got %s", name, result_name(-want),
			   result_name(ret));
		if (ret >= 0)
			close(ret);
		return;
	}
	ok = ret >= 0 && !fstat(ret, &st);
	if (ok && size) {
		off_t end = lseek(ret, 0, SEEK_END);

		ok = end == (off_t)size;
		if (!ok)
			printf("# %s: dma-buf size %lld, want %llu\n", name,
			       (long long)end, (unsigned long long)size);
	}
	tap_result(ok, "%s: want fd got %s", name, result_name(ret));
	if (ret >= 0)
		close(ret);
}

#define R(o, l) { .offset = (o), .length = (l) }

/*
 * An I/O-port BAR has nothing to map: no dma-buf of it.  The range is one
 * that the range checks alone would refuse with EOVERFLOW (any page-aligned
 * range is past the end of a 256-byte BAR and would give EINVAL), so
 * EINVAL shows that the BAR itself was refused, before its ranges.
 */
static int io_bar(const char *bdf, uint32_t bar)
{
	const struct vfio_region_dma_range one = R(-PAGE, PAGE);
	struct p2pmr_region reg;
	struct p2pmr_dev *dev;
	int ret;

	if (p2pmr_dev_open(bdf, &dev)) {
		fprintf(stderr, "dmabuf_uapi: %s\n", p2pmr_errmsg());
		return 1;
	}
	if (p2pmr_query_region(dev, bar, &reg) || !reg.size ||
	    (reg.flags & P2PMR_REGION_MEM)) {
		fprintf(stderr, "dmabuf_uapi: BAR%u of %s is not an I/O BAR\n",
			bar, bdf);
		return 1;
	}
	devfd = p2pmr_dev_fd(dev);
	printf("TAP version 13\n# %s BAR%u: I/O, %llu bytes\n", bdf, bar,
	       (unsigned long long)reg.size);
	ret = export_ranges(bar, 1, &one);
	printf("# case io-bar %s\n", result_name(ret));
	tap_result(ret == -EINVAL, "I/O BAR: want EINVAL got %s",
		   result_name(ret));
	if (ret >= 0)
		close(ret);
	p2pmr_dev_close(dev);
	return tap_done();
}

int main(int argc, char **argv)
{
	const uint32_t get = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF;
	struct vfio_region_dma_range r[MAX_RANGES];
	struct p2pmr_region reg;
	struct p2pmr_dev *dev;
	int ours = 0;

	if (argc > 1 && !strcmp(argv[1], "--ours")) {
		ours = 1;
		argc--;
		argv++;
	}
	if (argc == 4 && !strcmp(argv[1], "--io"))
		return io_bar(argv[3], strtoul(argv[2], NULL, 0));
	if (argc != 2) {
		fprintf(stderr, "usage: dmabuf_uapi [--ours] [--io N] BDF\n");
		return 2;
	}
	if (p2pmr_dev_open(argv[1], &dev)) {
		fprintf(stderr, "dmabuf_uapi: %s\n", p2pmr_errmsg());
		return 1;
	}
	devfd = p2pmr_dev_fd(dev);
	if (p2pmr_query_region(dev, 2, &reg) || !reg.size) {
		fprintf(stderr, "dmabuf_uapi: %s has no BAR2\n", argv[1]);
		return 1;
	}
	bar_size = reg.size;
	printf("TAP version 13\n# %s BAR2 %llu bytes\n", argv[1],
	       (unsigned long long)bar_size);

	/* PROBE: GET is supported, SET is not. */
	expect("probe-get",
	       _export(get | VFIO_DEVICE_FEATURE_PROBE, sizeof(struct req), 0,
		       0, 0, 0, NULL, 0), 0, 0);
	expect("probe-set",
	       _export(VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PROBE |
		       VFIO_DEVICE_FEATURE_DMA_BUF, sizeof(struct req), 0, 0, 0,
		       0, NULL, 0), EINVAL, 0);

	r[0] = (struct vfio_region_dma_range)R(0, PAGE);
	expect("one-page", export_ranges(2, 1, r), 0, PAGE);
	r[0] = (struct vfio_region_dma_range)R(0, bar_size);
	expect("whole-bar", export_ranges(2, 1, r), 0, bar_size);
	r[0] = (struct vfio_region_dma_range)R(PAGE, PAGE);
	r[1] = (struct vfio_region_dma_range)R(16 * PAGE, 4 * PAGE);
	r[2] = (struct vfio_region_dma_range)R(bar_size - PAGE, PAGE);
	expect("three-ranges", export_ranges(2, 3, r), 0, 6 * PAGE);
	/* Overlapping ranges are allowed: a buffer may alias BAR memory. */
	r[0] = (struct vfio_region_dma_range)R(0, 2 * PAGE);
	r[1] = (struct vfio_region_dma_range)R(PAGE, 2 * PAGE);
	expect("overlapping-ranges", export_ranges(2, 2, r), 0, 4 * PAGE);

	/* argsz too small for the payload header. */
	r[0] = (struct vfio_region_dma_range)R(0, PAGE);
	expect("argsz-short",
	       _export(get, sizeof(struct vfio_device_feature) + 4, 2, 0, 0, 1,
		       r, 1), EINVAL, 0);
	expect("flags-nonzero",
	       _export(get, sizeof(struct req), 2, O_CLOEXEC, 1, 1, r, 1),
	       EINVAL, 0);
	expect("nr-ranges-zero",
	       _export(get, sizeof(struct req), 2, O_CLOEXEC, 0, 0, r, 0),
	       EINVAL, 0);
	expect("region-rom", export_ranges(VFIO_PCI_ROM_REGION_INDEX, 1, r),
	       ENODEV, 0);
	expect("region-config",
	       export_ranges(VFIO_PCI_CONFIG_REGION_INDEX, 1, r), ENODEV, 0);
	expect("region-vga", export_ranges(VFIO_PCI_VGA_REGION_INDEX, 1, r),
	       ENODEV, 0);
	expect("region-huge", export_ranges(1000, 1, r), ENODEV, 0);
	/* ivshmem-plain has no BAR1. */
	expect("region-absent-bar", export_ranges(1, 1, r), ENODEV, 0);
	/* BAR0 of ivshmem is 256 bytes: no page fits. */
	expect("range-past-small-bar", export_ranges(0, 1, r), EINVAL, 0);

	r[0] = (struct vfio_region_dma_range)R(0, 0);
	expect("range-empty", export_ranges(2, 1, r), EINVAL, 0);
	r[0] = (struct vfio_region_dma_range)R(100, PAGE);
	expect("range-offset-unaligned", export_ranges(2, 1, r), EINVAL, 0);
	r[0] = (struct vfio_region_dma_range)R(0, PAGE + 1);
	expect("range-length-unaligned", export_ranges(2, 1, r), EINVAL, 0);
	r[0] = (struct vfio_region_dma_range)R(bar_size - PAGE, 2 * PAGE);
	expect("range-past-end", export_ranges(2, 1, r), EINVAL, 0);
	r[0] = (struct vfio_region_dma_range)R(bar_size, PAGE);
	expect("range-at-end", export_ranges(2, 1, r), EINVAL, 0);
	r[0] = (struct vfio_region_dma_range)R(-2 * PAGE, 4 * PAGE);
	expect("range-overflow", export_ranges(2, 1, r), EOVERFLOW, 0);
	r[0] = (struct vfio_region_dma_range)R(0, PAGE);
	r[1] = (struct vfio_region_dma_range)R(0, bar_size + PAGE);
	expect("second-range-bad", export_ranges(2, 2, r), EINVAL, 0);
	/*
	 * Upstream's order (issue 12, item 10): every range's length and
	 * alignment first (EINVAL), then each range against the BAR, where
	 * BAR start + offset (+ length) overflowing is EOVERFLOW.
	 */
	r[0] = (struct vfio_region_dma_range)R(-PAGE, PAGE);
	r[1] = (struct vfio_region_dma_range)R(0, 0);
	expect("overflow-then-empty", export_ranges(2, 2, r), EINVAL, 0);
	r[0] = (struct vfio_region_dma_range)R(-2 * PAGE, 4 * PAGE);
	r[1] = (struct vfio_region_dma_range)R(100, PAGE);
	expect("overflow-then-unaligned", export_ranges(2, 2, r), EINVAL, 0);
	/* Offset + length fits in 64 bits, BAR start + offset does not. */
	r[0] = (struct vfio_region_dma_range)R(-2 * PAGE, PAGE);
	expect("bar-start-overflow", export_ranges(2, 1, r), EOVERFLOW, 0);

	if (ours) {
		/* Bounded kernel memory per call. */
		expect("nr-ranges-above-cap",
		       _export(get, sizeof(struct req), 2, O_CLOEXEC, 0, 65537,
			       r, 1), E2BIG, 0);
		r[0] = (struct vfio_region_dma_range)R(0, PAGE);
		expect("open-flags-bad",
		       _export(get, sizeof(struct req), 2, O_APPEND, 0, 1, r,
			       1), EINVAL, 0);
	}

	p2pmr_dev_close(dev);
	return tap_done();
}
