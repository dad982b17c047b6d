// SPDX-License-Identifier: GPL-2.0
/*
 * regcost: the cost of registering BAR memory as a dma-buf MR against
 * registering the same amount of host memory (benchmark 2, docs/perf.md).
 *
 *   regcost [--ibdev NAME] [--bar N] [--max SIZE] [--reps N] BDF
 *
 * For each size from 4 KiB up to the BAR size (or --max), in steps of x4:
 * export BAR range [0, size) as a dma-buf with libp2pmr, then time
 * ibv_reg_dmabuf_mr() and ibv_dereg_mr() of it, and ibv_reg_mr() and
 * ibv_dereg_mr() of a host buffer of the same size whose pages are already
 * faulted in (so page allocation is not counted).  Each figure is the median
 * of --reps repetitions (default 9, at every size), and the repetitions are
 * interleaved: each one times an export (of a dma-buf closed at once), a
 * dma-buf registration and a host one, the two registrations in turns
 * first, so that drift hits all alike.
 *
 * Then the cost of a revoke with MRs registered: the time of the config
 * write that clears the device's memory decode (which revokes every
 * dma-buf of the device and returns once the importers let go), with 0, 1,
 * 4, 16 and 64 dma-buf MRs registered (64 KiB each), either all on one
 * dma-buf, as a ratio to that dma-buf without MRs, or one each on as many
 * dma-bufs, as a ratio to as many dma-bufs without MRs; median of --reps.
 *
 * Prints markdown tables on stdout; timings are reported, never checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <infiniband/verbs.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "p2pmr.h"
#include "stats.h"

#define ACCESS (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
		IBV_ACCESS_REMOTE_READ)
#define MAX_REPS 64

static const char *human(uint64_t n, char *buf, size_t len)
{
	const char *unit[] = { "B", "KiB", "MiB", "GiB" };
	int i = 0;

	while (n >= 1024 && !(n % 1024) && i < 3) {
		n /= 1024;
		i++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)n, unit[i]);
	return buf;
}

/* One registration and deregistration, timed (us); fd < 0: host memory. */
static int time_reg1(struct ibv_pd *pd, int fd, void *host, uint64_t size,
		     double *reg, double *dereg)
{
	struct ibv_mr *mr;
	double t0;
	int ret;

	t0 = now_us();
	if (fd >= 0) {
		ret = p2pmr_reg_mr(pd, 0, size, 0, fd, ACCESS, &mr);
		if (ret) {
			fprintf(stderr, "regcost: %s\n", p2pmr_errmsg());
			return ret;
		}
	} else {
		mr = ibv_reg_mr(pd, host, size, ACCESS);
		if (!mr) {
			fprintf(stderr, "regcost: ibv_reg_mr of %llu bytes: %s\n",
				(unsigned long long)size, strerror(errno));
			return -errno;
		}
	}
	*reg = now_us() - t0;
	t0 = now_us();
	if (ibv_dereg_mr(mr)) {
		fprintf(stderr, "regcost: ibv_dereg_mr: %s\n", strerror(errno));
		return -errno;
	}
	*dereg = now_us() - t0;
	return 0;
}

struct regcost {
	double exp, dreg, ddereg, hreg, hdereg;	/* medians, us */
};

/*
 * @reps interleaved repetitions on BAR range [0, size): each exports a
 * dma-buf (timed, closed again), then registers and deregisters dma-buf
 * @fd and host memory @host, dma-buf first in even repetitions and host
 * memory first in odd ones.
 */
static int time_size(struct p2pmr_dev *dev, int bar, struct ibv_pd *pd,
		     int fd, void *host, uint64_t size, int reps,
		     struct regcost *c)
{
	double e[MAX_REPS], dr[MAX_REPS], dd[MAX_REPS], hr[MAX_REPS],
	       hd[MAX_REPS], t0;
	struct p2pmr_range range = { 0, size };
	int i, x;

	for (i = 0; i < reps; i++) {
		t0 = now_us();
		x = p2pmr_export(dev, bar, &range, 1, O_RDWR | O_CLOEXEC);
		e[i] = now_us() - t0;
		if (x < 0) {
			fprintf(stderr, "regcost: %s\n", p2pmr_errmsg());
			return -1;
		}
		close(x);
		if (i % 2 ?
		    time_reg1(pd, -1, host, size, &hr[i], &hd[i]) ||
		    time_reg1(pd, fd, NULL, size, &dr[i], &dd[i]) :
		    time_reg1(pd, fd, NULL, size, &dr[i], &dd[i]) ||
		    time_reg1(pd, -1, host, size, &hr[i], &hd[i]))
			return -1;
	}
	c->exp = median(e, reps);
	c->dreg = median(dr, reps);
	c->ddereg = median(dd, reps);
	c->hreg = median(hr, reps);
	c->hdereg = median(hd, reps);
	return 0;
}

/* The command register, read or written through the config region. */
static int command(struct p2pmr_dev *dev, uint64_t cfg, uint16_t *cmd,
		   int write)
{
	int fd = p2pmr_dev_fd(dev);
	ssize_t n;

	n = write ? pwrite(fd, cmd, sizeof(*cmd), cfg + PCI_COMMAND) :
		    pread(fd, cmd, sizeof(*cmd), cfg + PCI_COMMAND);
	if (n == sizeof(*cmd))
		return 0;
	fprintf(stderr, "regcost: %s the command register: %s\n",
		write ? "writing" : "reading", n < 0 ? strerror(errno) : "short");
	return -1;
}

/*
 * One revoke with @nmr MRs on @nbuf dma-bufs (the i-th MR on dma-buf
 * i % nbuf): returns the time of the memory-disable write in
 * microseconds, or < 0 with memory decode left on where possible.
 */
static double time_revoke(struct p2pmr_dev *dev, int bar, uint64_t cfg,
			  struct ibv_pd *pd, int nmr, int nbuf)
{
	struct p2pmr_range range = { 0, 64 << 10 };
	struct ibv_mr *mr[64];
	int fd[64], i, ok = 0;
	uint16_t on, off;
	double t = -1;

	if (command(dev, cfg, &on, 0))
		return -1;
	on |= PCI_COMMAND_MEMORY;
	off = on & ~PCI_COMMAND_MEMORY;

	for (i = 0; i < nbuf; i++) {
		fd[i] = p2pmr_export(dev, bar, &range, 1, O_RDWR | O_CLOEXEC);
		if (fd[i] < 0) {
			fprintf(stderr, "regcost: %s\n", p2pmr_errmsg());
			nbuf = i;
			goto out;
		}
	}
	for (ok = 0; ok < nmr; ok++) {
		if (p2pmr_reg_mr(pd, 0, range.length, 0, fd[ok % nbuf],
				 ACCESS, &mr[ok])) {
			fprintf(stderr, "regcost: %s\n", p2pmr_errmsg());
			goto out;
		}
	}
	t = now_us();
	if (command(dev, cfg, &off, 1)) {
		t = -1;
		goto out;
	}
	t = now_us() - t;
	if (command(dev, cfg, &on, 1)) {
		fprintf(stderr, "regcost: memory decode stays off\n");
		t = -1;
	}
out:
	while (ok--)
		ibv_dereg_mr(mr[ok]);
	while (nbuf--)
		close(fd[nbuf]);
	return t;
}

/* The revoke table (top of file). */
static int revoke_table(struct p2pmr_dev *dev, int bar, struct ibv_pd *pd,
			int reps)
{
	static const int counts[] = { 0, 1, 4, 16, 64 };
	double one[MAX_REPS], many[MAX_REPS], bare[MAX_REPS], base = 0;
	struct p2pmr_region cfg, reg;
	size_t c;
	int i;

	if (p2pmr_query_region(dev, bar, &reg) || reg.size < (64 << 10)) {
		fprintf(stderr, "regcost: revoke table: BAR%d is smaller than the 64 KiB its buffers take\n",
			bar);
		return -1;
	}
	if (p2pmr_query_region(dev, VFIO_PCI_CONFIG_REGION_INDEX, &cfg)) {
		fprintf(stderr, "regcost: %s\n", p2pmr_errmsg());
		return -1;
	}
	printf("\n# revoke: memory decode cleared with dma-buf MRs registered, median of %d\n",
	       reps);
	printf("| N | N MRs on one dma-buf (us) | x of no MR | N dma-bufs, no MR (us) | N dma-bufs, one MR each (us) | x of no MR |\n");
	printf("|---:|---:|---:|---:|---:|---:|\n");
	for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		int n = counts[c];

		/* Interleaved, so that drift hits every layout alike. */
		for (i = 0; i < reps; i++) {
			one[i] = time_revoke(dev, bar, cfg.offset, pd, n, 1);
			bare[i] = time_revoke(dev, bar, cfg.offset, pd, 0,
					      n ? n : 1);
			many[i] = n ? time_revoke(dev, bar, cfg.offset, pd, n, n)
				    : bare[i];
			if (one[i] < 0 || bare[i] < 0 || many[i] < 0)
				return -1;
		}
		one[0] = median(one, reps);
		bare[0] = median(bare, reps);
		many[0] = median(many, reps);
		if (!n)
			base = one[0];
		printf("| %d | %.0f | %.1f | %.0f | %.0f | %.1f |\n", n, one[0],
		       one[0] / base, bare[0], many[0], many[0] / bare[0]);
		fflush(stdout);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: regcost [--ibdev NAME] [--bar N] [--max SIZE] [--reps N] BDF\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *ibdev = NULL, *bdf;
	struct ibv_device **list;
	struct p2pmr_region reg;
	struct ibv_context *ctx;
	struct p2pmr_dev *dev;
	uint64_t max = 0, size;
	int bar = 2, reps = 9, i, n, ret;
	struct ibv_pd *pd;
	char b[32];

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--ibdev"))
			ibdev = argv[++i];
		else if (!strcmp(argv[i], "--bar"))
			bar = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--max")) {
			/* The library's syntax: 0x hex, K/M/G/T suffixes. */
			if (p2pmr_parse_size(argv[++i], &max)) {
				fprintf(stderr, "regcost: --max: %s\n",
					p2pmr_errmsg());
				usage();
			}
		}
		else if (!strcmp(argv[i], "--reps"))
			reps = atoi(argv[++i]);
		else
			usage();
	}
	if (i != argc - 1 || reps < 1 || reps > MAX_REPS)
		usage();
	bdf = argv[i];

	if (p2pmr_dev_open(bdf, &dev) || p2pmr_query_region(dev, bar, &reg)) {
		fprintf(stderr, "regcost: %s\n", p2pmr_errmsg());
		return 1;
	}
	if (!max || max > reg.size)
		max = reg.size;

	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (!ibdev || !strcmp(ibv_get_device_name(list[i]), ibdev))
			break;
	if (!list || i == n) {
		fprintf(stderr, "regcost: no RDMA device %s\n", ibdev ? ibdev : "");
		return 1;
	}
	ctx = ibv_open_device(list[i]);
	pd = ctx ? ibv_alloc_pd(ctx) : NULL;
	if (!pd) {
		fprintf(stderr, "regcost: cannot open %s: %s\n",
			ibv_get_device_name(list[i]), strerror(errno));
		return 1;
	}

	printf("# regcost: BAR%d of %s (%s) on %s, median of %d interleaved repetitions at every size\n",
	       bar, bdf, human(reg.size, b, sizeof(b)), ibv_get_device_name(list[i]), reps);
	printf("| size | export (us) | dma-buf reg (us) | host reg (us) | host/dma-buf | dma-buf dereg (us) | host dereg (us) |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size = 4096; size <= max; size *= 4) {
		struct p2pmr_range range = { 0, size };
		struct regcost c;
		void *host;
		int fd;

		fd = p2pmr_export(dev, bar, &range, 1, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "regcost: %s\n", p2pmr_errmsg());
			return 1;
		}
		host = mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (host == MAP_FAILED) {
			fprintf(stderr, "regcost: no %llu bytes of host memory: %s\n",
				(unsigned long long)size, strerror(errno));
			return 1;
		}
		memset(host, 0x5a, size);
		ret = time_size(dev, bar, pd, fd, host, size, reps, &c);
		munmap(host, size);
		close(fd);
		if (ret)
			return 1;
		printf("| %s | %.0f | %.0f | %.0f | %.1f | %.0f | %.0f |\n",
		       human(size, b, sizeof(b)), c.exp, c.dreg, c.hreg,
		       c.hreg / c.dreg, c.ddereg, c.hdereg);
		fflush(stdout);
	}
	if (revoke_table(dev, bar, pd, reps))
		return 1;
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	p2pmr_dev_close(dev);
	return 0;
}
