// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma_test: a real DMA master (QEMU's edu, driven by the test importer
 * module) writes into a VFIO BAR through the DMA addresses vfio-pci-p2p
 * mapped for it, as an RDMA NIC would.
 *
 *   edu_dma_test BDF
 *
 * Writes 4 KiB of pattern at both sides of every range boundary of a
 * three-range buffer and checks the BAR through the CPU; the host checks
 * its backing file too (see the case script).  Then DMA in a loop while the
 * device is reset: DMA stops at the revoke and no byte changes after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "p2pmr.h"
#include "../kmod/importer/importer_uapi.h"
#include "../lib/pattern.h"
#include "../lib/tap.h"


#define PAGE 4096ULL

static struct p2pmr_dev *dev;
static volatile uint8_t *bar;

static int export(int nr, const struct p2pmr_range *r)
{
	return p2pmr_export(dev, 2, r, nr, O_RDWR | O_CLOEXEC);
}

static int importer(int buf)
{
	struct imp_attach a = { .fd = buf };
	int fd = open("/dev/p2pmr_importer", O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, IMP_ATTACH, &a))
		return -errno;
	return fd;
}

static int bar_has(uint64_t off, uint64_t len, uint64_t seed)
{
	for (uint64_t i = 0; i < len; i++)
		if (bar[off + i] != pattern_byte(seed, off + i))
			return 0;
	return 1;
}

static void test_boundaries(void)
{
	const struct p2pmr_range r[3] = {
		{ 0x100000, 4 * PAGE }, { 0x300000, 2 * PAGE }, { 0x800000, 4 * PAGE },
	};
	uint64_t boff = 0;
	struct imp_map m = {};
	int buf, fd, i, ok = 1;

	buf = export(3, r);
	fd = importer(buf);
	if (fd < 0 || ioctl(fd, IMP_MAP, &m)) {
		tap_result(0, "map for edu: %s", strerror(errno));
		return;
	}
	printf("# mapped %u segment(s), first at %#llx%s\n", m.nents,
	       (unsigned long long)m.dma_addr, m.contiguous ? ", contiguous" : "");
	for (i = 0; i < 3; i++) {
		/* Last page of range i and first page of range i + 1. */
		uint64_t offs[2] = { boff, boff + r[i].length - PAGE };

		for (int k = 0; k < 2; k++) {
			uint64_t in_range = offs[k] - boff;
			struct imp_dma d = {
				.offset = offs[k], .length = PAGE, .seed = 77,
				.pattern_offset = r[i].offset + in_range,
			};
			int ret = ioctl(fd, IMP_DMA_WRITE, &d) ? -errno : 0;

			if (ret || !bar_has(d.pattern_offset, PAGE, 77)) {
				printf("# DMA to buffer offset %#llx (BAR %#llx, bus %#llx): %s\n",
				       (unsigned long long)offs[k],
				       (unsigned long long)d.pattern_offset,
				       (unsigned long long)d.dma_addr,
				       ret ? strerror(-ret) : "bytes not in the BAR");
				ok = 0;
			}
		}
		boff += r[i].length;
	}
	tap_result(ok, "edu DMA lands in the BAR at both ends of all 3 ranges");
	close(fd);
	close(buf);
}

struct loop {
	int fd, writes, err;
};

static void *dma_loop(void *arg)
{
	struct loop *l = arg;

	for (int i = 0; i < 100000; i++) {
		struct imp_dma d = {
			.offset = (i % 16) * PAGE, .length = PAGE,
			.seed = 1000 + i, .pattern_offset = 0x2000000 + (i % 16) * PAGE,
		};

		if (ioctl(l->fd, IMP_DMA_WRITE, &d)) {
			l->err = errno;
			break;
		}
		l->writes++;
	}
	return NULL;
}

static void test_revoke_during_dma(void)
{
	const struct p2pmr_range r = { 0x2000000, 16 * PAGE };
	struct imp_status st = {};
	struct imp_map m;
	struct loop l = { 0 };
	uint8_t snap[16 * PAGE];
	pthread_t th;
	int buf, ret, same = 1;
	FILE *f;

	buf = export(1, &r);
	l.fd = importer(buf);
	if (l.fd < 0 || ioctl(l.fd, IMP_MAP, &m)) {
		tap_result(0, "revoke during DMA: setup");
		return;
	}
	pthread_create(&th, NULL, dma_loop, &l);
	while (l.writes < 20 && !l.err)
		usleep(1000);
	ret = ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_RESET) ? -errno : 0;
	for (size_t i = 0; i < sizeof(snap); i++)
		snap[i] = bar[r.offset + i];
	pthread_join(th, NULL);
	ioctl(l.fd, IMP_STATUS, &st);
	tap_result(!ret && l.err == ENXIO && st.invalidates >= 1 && !st.mapped,
		   "reset during a DMA loop: invalidated, DMA stopped (%d writes, then %s)",
		   l.writes, strerror(l.err));
	usleep(200000);
	for (size_t i = 0; i < sizeof(snap); i++)
		same &= snap[i] == bar[r.offset + i];
	tap_result(same, "no DMA lands in the BAR after the revoke");
	f = fopen("/vmout/snap-dma.bin", "wb");
	if (f) {
		fwrite(snap, 1, sizeof(snap), f);
		fclose(f);
	}
	close(l.fd);
	close(buf);
}

int main(int argc, char **argv)
{
	size_t len;
	void *map;

	if (argc != 2) {
		fprintf(stderr, "usage: edu_dma_test BDF\n");
		return 2;
	}
	if (p2pmr_dev_open(argv[1], &dev) ||
	    p2pmr_region_mmap(dev, 2, &map, &len)) {
		fprintf(stderr, "edu_dma_test: %s\n", p2pmr_errmsg());
		return 1;
	}
	bar = map;
	printf("TAP version 13\n");
	test_boundaries();
	test_revoke_during_dma();
	p2pmr_dev_close(dev);
	return tap_done();
}
