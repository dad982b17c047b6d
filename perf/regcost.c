// SPDX-License-Identifier: GPL-2.0
/*
 * regcost: the cost of registering BAR memory as a dma-buf MR against
 * registering the same amount of host memory (benchmark 2, docs/perf.md).
 *
 *   regcost [--ibdev NAME] [--bar N] [--max SIZE] [--reps N] BDF
 *
 * For each size from 4 KiB up to the BAR size (or --max), in steps of x4:
 * export BAR range [0, size) as a dma-buf with libp2pmr (timed once), then
 * time ibv_reg_dmabuf_mr() and ibv_dereg_mr() of it, and ibv_reg_mr() and
 * ibv_dereg_mr() of a host buffer of the same size whose pages are already
 * faulted in (so page allocation is not counted).  Each figure is the median
 * of --reps runs (default 9; 3 above 64 MiB).  Prints a markdown table on
 * stdout; timings are reported, never checked.
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

/* Median register and deregister times (us) of @reps registrations. */
static int time_reg(struct ibv_pd *pd, int fd, void *host, uint64_t size,
		    int reps, double *reg, double *dereg)
{
	double r[MAX_REPS], d[MAX_REPS], t0;
	struct ibv_mr *mr;
	int i, ret;

	for (i = 0; i < reps; i++) {
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
		r[i] = now_us() - t0;
		t0 = now_us();
		if (ibv_dereg_mr(mr)) {
			fprintf(stderr, "regcost: ibv_dereg_mr: %s\n", strerror(errno));
			return -errno;
		}
		d[i] = now_us() - t0;
	}
	*reg = median(r, reps);
	*dereg = median(d, reps);
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

	printf("# regcost: BAR%d of %s (%s) on %s, median of %d (3 above 64 MiB)\n",
	       bar, bdf, human(reg.size, b, sizeof(b)), ibv_get_device_name(list[i]), reps);
	printf("| size | export (us) | dma-buf reg (us) | host reg (us) | host/dma-buf | dma-buf dereg (us) | host dereg (us) |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size = 4096; size <= max; size *= 4) {
		struct p2pmr_range range = { 0, size };
		double t_exp, dr, dd, hr, hd;
		int r = size > (64 << 20) ? 3 : reps;
		void *host;
		int fd;

		t_exp = now_us();
		fd = p2pmr_export(dev, bar, &range, 1, O_RDWR | O_CLOEXEC);
		t_exp = now_us() - t_exp;
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
		ret = time_reg(pd, fd, NULL, size, r, &dr, &dd);
		if (!ret)
			ret = time_reg(pd, -1, host, size, r, &hr, &hd);
		munmap(host, size);
		close(fd);
		if (ret)
			return 1;
		printf("| %s | %.0f | %.0f | %.0f | %.1f | %.0f | %.0f |\n",
		       human(size, b, sizeof(b)), t_exp, dr, hr, hr / dr, dd, hd);
		fflush(stdout);
	}
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	p2pmr_dev_close(dev);
	return 0;
}
