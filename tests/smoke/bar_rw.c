// SPDX-License-Identifier: GPL-2.0
/*
 * bar_rw: write a pattern into a VFIO device's BAR through mmap and read it
 * back, or check a file (the host's ivshmem backing file) for that pattern.
 *
 *   bar_rw write BDF BAR OFFSET LENGTH SEED
 *   bar_rw check FILE OFFSET LENGTH SEED [PATTERN_OFFSET]
 *
 * PATTERN_OFFSET (default OFFSET) is the pattern position of the byte at
 * OFFSET: a dma-buf made of several BAR ranges was written by buffer offset.
 *
 * Built static so the same binary runs in the guest and on the host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "p2pmr.h"
#include "../lib/pattern.h"

static int do_write(char **argv)
{
	uint64_t off = strtoull(argv[3], NULL, 0);
	uint64_t len = strtoull(argv[4], NULL, 0);
	uint64_t seed = strtoull(argv[5], NULL, 0);
	unsigned int bar = atoi(argv[2]);
	struct p2pmr_dev *dev;
	volatile uint8_t *p;
	uint8_t *buf;
	size_t maplen;
	void *map;
	long bad;
	int ret;

	ret = p2pmr_dev_open(argv[1], &dev);
	if (ret) {
		fprintf(stderr, "bar_rw: %s\n", p2pmr_errmsg());
		return 1;
	}
	ret = p2pmr_region_mmap(dev, bar, &map, &maplen);
	if (ret) {
		fprintf(stderr, "bar_rw: %s\n", p2pmr_errmsg());
		goto out_close;
	}
	if (off + len > maplen || off + len < off) {
		fprintf(stderr, "bar_rw: range past BAR end (%zu)\n", maplen);
		ret = -EINVAL;
		goto out_unmap;
	}
	buf = malloc(len);
	if (!buf) {
		ret = -ENOMEM;
		goto out_unmap;
	}
	pattern_fill(buf, len, seed, off);
	p = (volatile uint8_t *)map + off;
	for (uint64_t i = 0; i < len; i++)
		p[i] = buf[i];
	for (uint64_t i = 0; i < len; i++)
		buf[i] = p[i];
	bad = pattern_check(buf, len, seed, off);
	if (bad >= 0) {
		fprintf(stderr, "bar_rw: read back mismatch at BAR offset %#llx\n",
			(unsigned long long)(off + bad));
		ret = -EIO;
	} else {
		printf("bar_rw: wrote and read back %llu bytes at BAR%u+%#llx\n",
		       (unsigned long long)len, bar, (unsigned long long)off);
	}
	free(buf);
out_unmap:
	munmap(map, maplen);
out_close:
	p2pmr_dev_close(dev);
	return ret ? 1 : 0;
}

static int do_check(char **argv)
{
	uint64_t off = strtoull(argv[2], NULL, 0);
	uint64_t len = strtoull(argv[3], NULL, 0);
	uint64_t seed = strtoull(argv[4], NULL, 0);
	uint64_t poff = argv[5] ? strtoull(argv[5], NULL, 0) : off;
	uint8_t *buf;
	FILE *f;
	long bad;

	f = fopen(argv[1], "rb");
	buf = malloc(len);
	if (!f || !buf || fseek(f, off, SEEK_SET) ||
	    fread(buf, 1, len, f) != len) {
		fprintf(stderr, "bar_rw: cannot read %llu bytes at %#llx of %s\n",
			(unsigned long long)len, (unsigned long long)off,
			argv[1]);
		return 1;
	}
	fclose(f);
	bad = pattern_check(buf, len, seed, poff);
	free(buf);
	if (bad >= 0) {
		fprintf(stderr, "bar_rw: %s differs from pattern %llu at %#llx\n",
			argv[1], (unsigned long long)seed,
			(unsigned long long)(off + bad));
		return 1;
	}
	printf("bar_rw: %s holds pattern %llu at %#llx+%llu\n", argv[1],
	       (unsigned long long)seed, (unsigned long long)off,
	       (unsigned long long)len);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "write"))
		return do_write(argv + 1);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "check"))
		return do_check(argv + 1);
	fprintf(stderr, "usage: bar_rw write BDF BAR OFFSET LENGTH SEED\n"
			"       bar_rw check FILE OFFSET LENGTH SEED [PATTERN_OFFSET]\n");
	return 2;
}
