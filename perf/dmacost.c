// SPDX-License-Identifier: GPL-2.0
/*
 * dmacost: what a DMA importer pays the exporter, measured in the guest with
 * the test importer module (tests/kmod/importer, bound to edu) attached
 * directly to the dma-buf, exactly as in the DMA-master tests.
 *
 *   dmacost BDF map [LABEL]      benchmark 3: map + unmap of dma-bufs of
 *                                1, 16, 256 and 4096 one-page ranges
 *   dmacost BDF revoke [LABEL]   benchmark 4: VFIO_DEVICE_RESET and memory
 *                                disable with 0, 1 and 16 attached, mapped
 *                                importers
 *
 * Map: wall time of IMP_MAP and IMP_UNMAP (median), and the IOMMU
 * invalidation descriptors the intel-iommu driver queued during each
 * (tracepoint intel_iommu/qi_submit, split by trace_marker): IOTLB
 * invalidations (the wait descriptor closing each batch is not traced).
 * Revoke: wall time of the VFIO_DEVICE_RESET ioctl, and of the config
 * write that clears PCI_COMMAND_MEMORY, each of which returns once every
 * importer of the (one, 16-page) dma-buf was told and gave its mapping back
 * (medians of 100, all cases interleaved), and the invalidations the
 * importers counted (revoke and restore: 2 per importer and revoke).
 * Prints markdown table rows prefixed with LABEL (the exporter's name).
 * Times are reported, never judged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "p2pmr.h"
#include "stats.h"
#include "../tests/lib/importer.h"
#include "../tests/lib/sysfs.h"
#include "../tests/lib/vfio_cfg.h"

#define PAGE	4096ULL
#define TRACE	"/sys/kernel/tracing/"

static struct p2pmr_dev *dev;
static const char *label = "p2pmr";
static int marker = -1;

static void mark(const char *what)
{
	if (write(marker, what, strlen(what)) < 0)
		perror("trace_marker");
}

static int importer(int buf)
{
	return imp_open(buf, 0, 0, 0);
}

/* @n one-page ranges, each followed by a page that is not exported. */
static int export_n(int n)
{
	struct p2pmr_range *r = calloc(n, sizeof(*r));
	int buf;

	if (!r)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		r[i].offset = i * 2 * PAGE;
		r[i].length = PAGE;
	}
	buf = p2pmr_export(dev, 2, r, n, O_RDWR | O_CLOEXEC);
	free(r);
	return buf;
}

struct qi_count {
	unsigned long iotlb[2];		/* [0] map, [1] unmap */
};

/* Count the queued-invalidation descriptors after each marker. */
static int count_trace(struct qi_count *c)
{
	FILE *f = fopen(TRACE "trace", "r");
	char line[512];
	int phase = -1;

	if (!f)
		return -errno;
	memset(c, 0, sizeof(*c));
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "tracing_mark_write: dmacost-map"))
			phase = 0;
		else if (strstr(line, "tracing_mark_write: dmacost-unmap"))
			phase = 1;
		else if (phase < 0)
			continue;
		else if (strstr(line, "qi_submit:") && strstr(line, "iotlb_inv "))
			c->iotlb[phase]++;
	}
	fclose(f);
	return 0;
}

static int bench_map(void)
{
	static const int sizes[] = { 1, 16, 256, 4096 };
	/* Small maps take microseconds: many of them, for a stable median. */
	static const int iters[] = { 1000, 300, 20, 5 };

	if (sysfs_write(TRACE "buffer_size_kb", "32768") ||
	    sysfs_write(TRACE "events/intel_iommu/qi_submit/enable", "1")) {
		fprintf(stderr, "dmacost: cannot enable intel_iommu/qi_submit\n");
		return 1;
	}
	marker = open(TRACE "trace_marker", O_WRONLY);
	if (marker < 0) {
		perror("dmacost: trace_marker");
		return 1;
	}
	for (unsigned int s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		int n = sizes[s], it = iters[s], buf, fd, ret = 0;
		static double map[1000], unmap[1000];
		struct qi_count c;
		struct imp_map m;

		buf = export_n(n);
		fd = buf < 0 ? buf : importer(buf);
		/* One map first: the importer's first map allocates. */
		if (fd >= 0 && !ioctl(fd, IMP_MAP, &m))
			ioctl(fd, IMP_UNMAP);
		else
			ret = fd < 0 ? fd : -errno;
		sysfs_write(TRACE "trace", "");
		for (int i = 0; !ret && i < it; i++) {
			double t0, t1;

			mark("dmacost-map");
			t0 = now_us();
			ret = ioctl(fd, IMP_MAP, &m) ? -errno : 0;
			t1 = now_us();
			map[i] = t1 - t0;
			mark("dmacost-unmap");
			t0 = now_us();
			ioctl(fd, IMP_UNMAP);
			unmap[i] = now_us() - t0;
		}
		mark("dmacost-end");
		if (ret) {
			printf("| %d | %s | map fails: %s | | | | |\n", n, label,
			       strerror(-ret));
		} else {
			count_trace(&c);
			printf("| %d | %s | %u | %.1f | %.1f | %.1f | %.1f |\n",
			       n, label, m.nents, median(map, it),
			       median(unmap, it), (double)c.iotlb[0] / it,
			       (double)c.iotlb[1] / it);
		}
		fflush(stdout);
		if (fd >= 0)
			close(fd);
		if (buf >= 0)
			close(buf);
	}
	sysfs_write(TRACE "events/intel_iommu/qi_submit/enable", "0");
	return 0;
}

enum revoke_by { BY_RESET, BY_MEM_OFF, NR_BY };

/*
 * One revoke of the device's one dma-buf while it has @n attached and mapped
 * importers, by VFIO_DEVICE_RESET or by the config write that clears
 * PCI_COMMAND_MEMORY (the bit is set again afterwards, untimed): the ioctl's
 * or the write's wall time in @us, and the invalidations the importers saw
 * added to @inval.  On failure, @step names what failed; a failure to turn
 * memory decode back on is fatal (its error in @fatal), as every later case
 * would fail.
 */
static int revoke_once(enum revoke_by how, int n, double *us,
		       unsigned int *inval, const char **step, int *fatal)
{
	const struct p2pmr_range r = { 0, 16 * PAGE };
	int fd = p2pmr_dev_fd(dev), fds[16], buf, ret, i;
	int ret2, have_cmd = 0;
	uint16_t cmd = 0;
	off_t cfg = 0;
	double t0;

	*step = "export";
	buf = p2pmr_export(dev, 2, &r, 1, O_RDWR | O_CLOEXEC);
	if (buf < 0)
		return buf;
	ret = 0;
	for (i = 0; i < n; i++) {
		struct imp_map m;

		*step = "attach";
		fds[i] = importer(buf);
		if (fds[i] < 0) {
			ret = fds[i];
			break;
		}
		*step = "map";
		if (ioctl(fds[i], IMP_MAP, &m)) {
			ret = -errno;
			i++;
			break;
		}
	}
	if (!ret && how == BY_MEM_OFF) {
		*step = "read PCI_COMMAND";
		ret = vfio_cfg_offset(fd, &cfg);
		if (!ret)
			ret = vfio_cfg_rw16(fd, 0, cfg, PCI_COMMAND, &cmd);
		have_cmd = !ret;
		cmd &= ~PCI_COMMAND_MEMORY;
	}
	if (!ret) {
		*step = how == BY_RESET ? "reset" : "memory disable";
		t0 = now_us();
		if (how == BY_RESET)
			ret = ioctl(fd, VFIO_DEVICE_RESET) ? -errno : 0;
		else
			ret = vfio_cfg_rw16(fd, 1, cfg, PCI_COMMAND, &cmd);
		*us = now_us() - t0;
	}
	if (have_cmd) {
		/* Even if the disable failed: it may have taken effect. */
		cmd |= PCI_COMMAND_MEMORY;
		ret2 = vfio_cfg_rw16(fd, 1, cfg, PCI_COMMAND, &cmd);
		if (ret2) {
			*step = "memory enable";
			ret = ret2;
			*fatal = ret2;
		}
	}
	while (i--) {
		struct imp_status st;

		if (!ioctl(fds[i], IMP_STATUS, &st))
			*inval += st.invalidates;
		close(fds[i]);
	}
	close(buf);
	return ret;
}

/*
 * ROUNDS rounds; each round revokes once with 0, 1 and 16 importers by
 * reset and by memory disable, in an order shuffled anew for every round
 * (fixed seed), so that neither drift during the run (caches warming, the
 * host's load) nor what ran just before falls on one case more than on
 * another (in a fixed cyclic order, the reset that always came right after
 * another reset was mostly faster than that one).  Each importer sees two
 * invalidations per revoke (revoke, restore): 2 * n * ROUNDS per case.
 */
static int bench_revoke(void)
{
	static const int counts[] = { 0, 1, 16 };
	enum { NC = sizeof(counts) / sizeof(counts[0]), ROUNDS = 100,
	       WARMUP = 3 };
	static double t[NR_BY][NC][ROUNDS];
	unsigned int inval[NR_BY][NC] = { { 0 } }, none = 0, seed = 1;
	const char *step[NR_BY][NC];
	int err[NR_BY][NC] = { { 0 } }, fatal = 0;
	const char *dummy_step;
	double dummy;

	for (int k = 0; k < WARMUP; k++)
		revoke_once(BY_RESET, 0, &dummy, &none, &dummy_step, &fatal);
	for (int k = 0; k < ROUNDS && !fatal; k++) {
		int order[NR_BY * NC];

		for (int j = 0; j < NR_BY * NC; j++)
			order[j] = j;
		for (int j = NR_BY * NC - 1; j > 0; j--) {	/* Fisher-Yates */
			int r = rand_r(&seed) % (j + 1), x = order[j];

			order[j] = order[r];
			order[r] = x;
		}
		for (int j = 0; j < NR_BY * NC && !fatal; j++) {
			int b = order[j] / NC, c = order[j] % NC;

			if (!err[b][c])
				err[b][c] = revoke_once(b, counts[c], &t[b][c][k],
							&inval[b][c], &step[b][c],
							&fatal);
		}
	}
	for (int c = 0; c < NC && !fatal; c++) {
		printf("| %d | %s |", counts[c], label);
		for (int b = 0; b < NR_BY; b++) {
			if (err[b][c])
				printf(" fails at %s: %s |", step[b][c],
				       strerror(-err[b][c]));
			else
				printf(" %.1f |", median(t[b][c], ROUNDS));
		}
		for (int b = 0; b < NR_BY; b++) {
			unsigned int want = 2 * counts[c] * ROUNDS;

			printf(" %u", inval[b][c]);
			if (!err[b][c] && inval[b][c] != want)
				printf(" (expected %u)", want);
			printf(" %s", b + 1 < NR_BY ? "/" : "|\n");
		}
	}
	fflush(stdout);
	if (fatal) {
		fprintf(stderr, "dmacost: cannot turn memory decode back on: %s\n",
			strerror(-fatal));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int ret;

	if (argc < 3 || argc > 4 ||
	    (strcmp(argv[2], "map") && strcmp(argv[2], "revoke"))) {
		fprintf(stderr, "usage: dmacost BDF map|revoke [LABEL]\n");
		return 2;
	}
	if (argc == 4)
		label = argv[3];
	if (p2pmr_dev_open(argv[1], &dev)) {
		fprintf(stderr, "dmacost: %s\n", p2pmr_errmsg());
		return 1;
	}
	ret = strcmp(argv[2], "map") ? bench_revoke() : bench_map();
	p2pmr_dev_close(dev);
	return ret;
}
