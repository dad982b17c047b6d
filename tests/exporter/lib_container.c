// SPDX-License-Identifier: GPL-2.0
/*
 * lib_container: libp2pmr's shared groups and containers and its DMA
 * mapping helper against a real VFIO (type1), for whatever VFIO driver the
 * devices are bound to.
 *
 *   lib_container BDF [BDF2]
 *
 * Opens BDF twice (the second open shares group and container, no EBUSY),
 * refuses an unknown comp_mask bit, puts BDF2 into BDF's container with
 * p2pmr_dev_open_ex(), maps host memory through both and checks that the
 * IOVAs are disjoint, not 0 and outside the group's reserved regions
 * (sysfs reserved_regions), exports from the second handle, and checks
 * that the container outlives the device it was named by and that
 * everything is released at the end.  TAP output.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "p2pmr.h"
#include "../lib/tap.h"

/* Whether [iova, iova + len) meets a reserved region of @bdf's group. */
static int in_reserved(const char *bdf, uint64_t iova, uint64_t len)
{
	char path[PATH_MAX], link[PATH_MAX], type[32];
	uint64_t start, end;
	int hit = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = 0;
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/reserved_regions",
		 basename(link));
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%" SCNx64 " %" SCNx64 " %31s", &start, &end,
		      type) == 3) {
		printf("# group %s reserved 0x%" PRIx64 "-0x%" PRIx64 " %s\n",
		       basename(link), start, end, type);
		if (iova <= end && start <= iova + len - 1)
			hit = 1;
	}
	fclose(f);
	return hit;
}

static void *host_pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, len);
	return p;
}

int main(int argc, char **argv)
{
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_CONTAINER };
	struct p2pmr_dev_attr bad = { .comp_mask = 1u << 31 };
	struct p2pmr_dev *a = NULL, *a2 = NULL, *b = NULL, *x;
	size_t page = p2pmr_page_size(), len = 16 * page;
	struct p2pmr_range r = { 0, page };
	uint64_t iova1 = 0, iova2 = 0;
	const char *bdf2;
	void *m1, *m2;
	int ret, fd;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: lib_container BDF [BDF2]\n");
		return 2;
	}
	bdf2 = argc == 3 ? argv[2] : NULL;
	printf("TAP version 13\n");
	m1 = host_pages(len);
	m2 = host_pages(len);
	if (!m1 || !m2) {
		perror("lib_container: mmap");
		return 1;
	}

	ret = p2pmr_dev_open(argv[1], &a);
	tap_result(!ret, "open %s: %s", argv[1], ret ? p2pmr_errmsg() : "ok");
	if (ret)
		return tap_done();
	ret = p2pmr_dev_open(argv[1], &a2);
	tap_result(!ret, "second open of %s shares the group: %s", argv[1],
		   ret ? p2pmr_errmsg() : "ok");
	if (ret)
		return tap_done();
	tap_result(p2pmr_dev_group_fd(a2) == p2pmr_dev_group_fd(a) &&
		   p2pmr_dev_container_fd(a2) == p2pmr_dev_container_fd(a) &&
		   p2pmr_dev_container_fd(a) >= 0,
		   "same group fd (%d, %d) and container fd (%d, %d)",
		   p2pmr_dev_group_fd(a), p2pmr_dev_group_fd(a2),
		   p2pmr_dev_container_fd(a), p2pmr_dev_container_fd(a2));
	ret = p2pmr_dev_open_ex(argv[1], &bad, &x);
	tap_result(ret == -EOPNOTSUPP && errno == EOPNOTSUPP,
		   "unknown comp_mask bit: %d (%s)", ret, p2pmr_errmsg());

	if (bdf2) {
		attr.container = a;
		ret = p2pmr_dev_open_ex(bdf2, &attr, &b);
		tap_result(!ret, "open %s into the container of %s: %s", bdf2,
			   argv[1], ret ? p2pmr_errmsg() : "ok");
		if (!ret)
			tap_result(p2pmr_dev_container_fd(b) ==
				   p2pmr_dev_container_fd(a),
				   "%s shares the container fd (%d)", bdf2,
				   p2pmr_dev_container_fd(b));
	}

	ret = p2pmr_dma_map(a, m1, len, P2PMR_DMA_READ | P2PMR_DMA_WRITE,
			    &iova1);
	tap_result(!ret && iova1 && !in_reserved(argv[1], iova1, len),
		   "dma_map %zu bytes: iova 0x%" PRIx64 " outside the reserved regions: %s",
		   len, iova1, ret ? p2pmr_errmsg() : "ok");
	ret = p2pmr_dma_map(b ? b : a2, m2, len, P2PMR_DMA_READ, &iova2);
	tap_result(!ret && iova2 && (iova2 >= iova1 + len ||
				     iova1 >= iova2 + len) &&
		   !in_reserved(b ? bdf2 : argv[1], iova2, len),
		   "dma_map through the %s handle: iova 0x%" PRIx64 ", disjoint: %s",
		   b ? "other device's" : "second", iova2,
		   ret ? p2pmr_errmsg() : "ok");

	fd = p2pmr_export(a2, 2, &r, 1, O_RDWR | O_CLOEXEC);
	tap_result(fd >= 0, "export BAR2 through the second handle: %s",
		   fd < 0 ? p2pmr_errmsg() : "ok");
	if (fd >= 0)
		close(fd);

	/* The container outlives the first device. */
	p2pmr_dev_close(a);
	a = NULL;
	ret = p2pmr_dma_unmap(a2, iova1, len);
	tap_result(!ret, "dma_unmap after the first handle closed: %s",
		   ret ? p2pmr_errmsg() : "ok");
	ret = p2pmr_dma_unmap(a2, iova1, len);
	tap_result(ret == -ENOENT, "second dma_unmap: %d (%s)", ret,
		   p2pmr_errmsg());
	ret = p2pmr_dma_unmap(b ? b : a2, iova2, len);
	tap_result(!ret, "dma_unmap of the second mapping: %s",
		   ret ? p2pmr_errmsg() : "ok");
	p2pmr_dev_close(b);
	p2pmr_dev_close(a2);

	/* All released: the group opens afresh in a new container. */
	ret = p2pmr_dev_open(argv[1], &a);
	tap_result(!ret, "reopen after the last close: %s",
		   ret ? p2pmr_errmsg() : "ok");
	p2pmr_dev_close(a);
	munmap(m1, len);
	munmap(m2, len);
	return tap_done();
}
