// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma_test: a real DMA master (QEMU's edu, driven by the test importer
 * module) writes into a VFIO BAR through the DMA addresses vfio-pci-p2p
 * mapped for it, as an RDMA NIC would.
 *
 *   edu_dma_test BDF MODE [-c] [-r]
 *
 * MODE is how the test importer takes the buffer: "direct" (its own
 * dma_buf_dynamic_attach()), "umem" (the RDMA core's ib_umem_dmabuf_get(),
 * dynamic with an invalidate callback) or "pinned" (its
 * ib_umem_dmabuf_get_pinned_revocable_and_lock()).  -c: the importer must
 * see the three ranges as one contiguous DMA range; -r: the pinned import
 * must be refused (a kernel that cannot revoke pinned importers); -n: the
 * route to edu must be refused (topology, swiotlb): no mapping, no DMA.
 *
 * Writes 4 KiB of pattern at both sides of every range boundary of a
 * three-range buffer and checks the BAR through the CPU; the host checks
 * its backing file too (tests/dma/host-check.sh reads /vmout/expect-MODE).
 * Then DMA in a loop while the device is reset: DMA stops at the revoke and
 * no byte changes after it (/vmout/snap-MODE.bin for the host).  Each mode
 * uses its own 16 MiB of the BAR and its own pattern seed.
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
#include "../lib/importer.h"
#include "../lib/pattern.h"
#include "../lib/tap.h"


#define PAGE 4096ULL

static struct p2pmr_dev *dev;
static volatile uint8_t *bar;

static const struct mode {
	const char *name;
	uint32_t flags;
	uint64_t base;		/* this mode's part of the BAR */
	uint64_t seed;
} modes[] = {
	{ "direct", 0, 0, 77 },
	{ "umem", IMP_UMEM, 0x1000000, 78 },
	{ "pinned", IMP_UMEM_PINNED, 0x2000000, 79 },
};
static const struct mode *mode;
static int want_contiguous, want_refused, want_no_route;

static int export(int nr, const struct p2pmr_range *r)
{
	return p2pmr_export(dev, 2, r, nr, O_RDWR | O_CLOEXEC);
}

/* An importer on @buf, its umem (if any) at @offset, @length (0: all). */
static int importer(int buf, uint64_t offset, uint64_t length)
{
	return imp_open(buf, mode->flags, offset, length);
}

static FILE *vmout(const char *what, const char *ext)
{
	char path[64];

	snprintf(path, sizeof(path), "/vmout/%s-%s%s", what, mode->name, ext);
	return fopen(path, "w");
}

/* Does the BAR hold pattern @seed, from position @pos, at @off? */
static int bar_has_at(uint64_t off, uint64_t len, uint64_t seed, uint64_t pos)
{
	for (uint64_t i = 0; i < len; i++)
		if (bar[off + i] != pattern_byte(seed, pos + i))
			return 0;
	return 1;
}

static int bar_has(uint64_t off, uint64_t len, uint64_t seed)
{
	return bar_has_at(off, len, seed, off);
}

static void test_boundaries(void)
{
	const uint64_t b = mode->base, seed = mode->seed;
	const struct p2pmr_range r[3] = {
		{ b + 0x100000, 4 * PAGE }, { b + 0x300000, 2 * PAGE },
		{ b + 0x800000, 4 * PAGE },
	};
	uint64_t boff = 0;
	struct imp_map m = {};
	int buf, fd, i, ok = 1;
	FILE *expect;

	buf = export(3, r);
	fd = importer(buf, 0, 0);
	if (fd >= 0 && ioctl(fd, IMP_MAP, &m))
		fd = -errno;
	if (fd < 0) {
		tap_result(0, "%s: map for edu: %s", mode->name, strerror(-fd));
		return;
	}
	printf("# %s: mapped %u segment(s), first at %#llx%s\n", mode->name,
	       m.nents, (unsigned long long)m.dma_addr,
	       m.contiguous ? ", contiguous" : "");
	if (want_contiguous)
		tap_result(m.nents == 1 && m.length == 10 * PAGE,
			   "%s: 3 ranges mapped as one contiguous DMA range (%u segments)",
			   mode->name, m.nents);
	else
		tap_result(m.nents == 3 && m.length == 10 * PAGE,
			   "%s: 3 ranges mapped as 3 DMA segments (%u)",
			   mode->name, m.nents);
	expect = vmout("expect", "");
	for (i = 0; i < 3; i++) {
		/* Last page of range i and first page of range i + 1. */
		uint64_t offs[2] = { boff, boff + r[i].length - PAGE };

		for (int k = 0; k < 2; k++) {
			uint64_t in_range = offs[k] - boff;
			struct imp_dma d = {
				.offset = offs[k], .length = PAGE, .seed = seed,
				.pattern_offset = r[i].offset + in_range,
			};
			int ret = ioctl(fd, IMP_DMA_WRITE, &d) ? -errno : 0;

			if (!ret && expect)
				fprintf(expect, "%#llx %llu %llu\n",
					(unsigned long long)d.pattern_offset,
					PAGE, (unsigned long long)seed);
			if (ret || !bar_has(d.pattern_offset, PAGE, seed)) {
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
	if (expect)
		fclose(expect);
	tap_result(ok, "%s: edu DMA lands in the BAR at both ends of all 3 ranges",
		   mode->name);
	close(fd);
	close(buf);
}

/*
 * An MR over part of a buffer: the RDMA core trims the mapping to the umem,
 * so umem offset 0 is buffer offset @PAGE, and a DMA across the first range
 * boundary is split where the DMA addresses are not contiguous.
 */
static void test_umem_offset(void)
{
	const uint64_t b = mode->base + 0xa00000, seed = mode->seed + 100;
	const struct p2pmr_range r[2] = { { b, 4 * PAGE }, { b + 0x100000, 4 * PAGE } };
	struct imp_map m = {};
	struct imp_dma d = {
		.offset = 2 * PAGE + PAGE / 2, .length = PAGE, .seed = seed,
		.pattern_offset = 0,
	};
	int buf, fd, ret;

	buf = export(2, r);
	fd = importer(buf, PAGE, 6 * PAGE);
	ret = fd < 0 ? fd : ioctl(fd, IMP_MAP, &m) ? -errno : 0;
	if (!ret)
		ret = ioctl(fd, IMP_DMA_WRITE, &d) ? -errno : 0;
	/* Buffer offset 3.5 pages: the last half page of range 0, then
	 * the first half page of range 1. */
	tap_result(!ret && m.length == 6 * PAGE &&
		   bar_has_at(b + 3 * PAGE + PAGE / 2, PAGE / 2, seed, 0) &&
		   bar_has_at(b + 0x100000, PAGE / 2, seed, PAGE / 2),
		   "%s: umem at buffer offset 1 page, 6 pages: DMA across the range boundary lands on both sides (%s, %llu bytes mapped)",
		   mode->name, ret ? strerror(-ret) : "ok",
		   (unsigned long long)m.length);
	if (fd >= 0)
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
			.seed = 1000 + i,
			.pattern_offset = mode->base + 0xc00000 + (i % 16) * PAGE,
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
	const struct p2pmr_range r = { mode->base + 0xc00000, 16 * PAGE };
	struct imp_status st = {};
	struct imp_map m;
	struct loop l = { 0 };
	uint8_t snap[16 * PAGE];
	pthread_t th;
	int buf, ret, same = 1;
	FILE *f;

	buf = export(1, &r);
	l.fd = importer(buf, 0, 0);
	if (l.fd < 0 || ioctl(l.fd, IMP_MAP, &m)) {
		tap_result(0, "%s: revoke during DMA: setup", mode->name);
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
		   "%s: reset during a DMA loop: invalidated, DMA stopped (%d writes, then %s)",
		   mode->name, l.writes, strerror(l.err));
	ret = ioctl(l.fd, IMP_MAP, &m) ? -errno : 0;
	if (mode->flags & IMP_UMEM_PINNED)
		tap_result(ret == -ENODEV, "%s: no new mapping after the revoke (%d)",
			   mode->name, ret);
	else	/* a dynamic importer maps again once the device is back */
		tap_result(!ret, "%s: maps again after the reset (%d)",
			   mode->name, ret);
	ioctl(l.fd, IMP_UNMAP);
	usleep(200000);
	for (size_t i = 0; i < sizeof(snap); i++)
		same &= snap[i] == bar[r.offset + i];
	tap_result(same, "%s: no DMA lands in the BAR after the revoke",
		   mode->name);
	f = vmout("snap", ".bin");
	if (f) {
		fprintf(f, "%#llx\n", (unsigned long long)r.offset);
		fwrite(snap, 1, sizeof(snap), f);
		fclose(f);
	}
	close(l.fd);
	close(buf);
}

/*
 * No route from edu to the BAR: the map is refused (EINVAL, and the
 * exporter says why in dmesg), so there is no address to DMA to, and the
 * BAR keeps its bytes.  A pinned import maps at attach, so it fails there.
 */
static void test_no_route(void)
{
	const struct p2pmr_range r = { mode->base + 0xe00000, PAGE };
	struct imp_dma d = {
		.offset = 0, .length = PAGE, .seed = mode->seed + 200,
		.pattern_offset = r.offset,
	};
	uint8_t before[PAGE];
	struct imp_map m;
	int buf, fd, ret, same = 1;

	for (size_t i = 0; i < PAGE; i++)
		before[i] = bar[r.offset + i];
	buf = export(1, &r);
	fd = importer(buf, 0, 0);
	ret = fd < 0 ? fd : ioctl(fd, IMP_MAP, &m) ? -errno : 0;
	tap_result(ret == -EINVAL, "%s: no route to edu: map refused (%s)",
		   mode->name, ret ? strerror(-ret) : "mapped");
	if (fd >= 0) {
		ret = ioctl(fd, IMP_DMA_WRITE, &d) ? -errno : 0;
		tap_result(ret == -ENXIO, "%s: nothing to DMA to (%s)",
			   mode->name, ret ? strerror(-ret) : "DMA done");
		close(fd);
	}
	for (size_t i = 0; i < PAGE; i++)
		same &= before[i] == bar[r.offset + i];
	tap_result(same, "%s: the BAR kept its bytes", mode->name);
	close(buf);
}

/* A kernel that cannot revoke a pinned importer must not let one in. */
static void test_pinned_refused(void)
{
	const struct p2pmr_range r = { mode->base, PAGE };
	int buf = export(1, &r), fd;

	fd = importer(buf, 0, 0);
	tap_result(fd == -EOPNOTSUPP,
		   "%s: pinned import refused, this kernel cannot revoke it (%s)",
		   mode->name, fd < 0 ? strerror(-fd) : "accepted");
	if (fd >= 0)
		close(fd);
	close(buf);
}

int main(int argc, char **argv)
{
	size_t len;
	void *map;

	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "-c"))
			want_contiguous = 1;
		else if (!strcmp(argv[i], "-r"))
			want_refused = 1;
		else if (!strcmp(argv[i], "-n"))
			want_no_route = 1;
		else
			argc = 0;
	}
	for (size_t i = 0; argc >= 3 && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[2], modes[i].name))
			mode = &modes[i];
	if (!mode) {
		fprintf(stderr, "usage: edu_dma_test BDF direct|umem|pinned [-c] [-r] [-n]\n");
		return 2;
	}
	if (p2pmr_dev_open(argv[1], &dev) ||
	    p2pmr_region_mmap(dev, 2, &map, &len)) {
		fprintf(stderr, "edu_dma_test: %s\n", p2pmr_errmsg());
		return 1;
	}
	bar = map;
	printf("TAP version 13\n");
	if (want_refused) {
		test_pinned_refused();
	} else if (want_no_route) {
		test_no_route();
	} else {
		test_boundaries();
		if (mode->flags)
			test_umem_offset();
		test_revoke_during_dma();
	}
	p2pmr_dev_close(dev);
	return tap_done();
}
