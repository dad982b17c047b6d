// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmr-nvmf: serve namespace 1 of a VFIO-owned NVMe controller over
 * NVMe-oF/RDMA, with the data buffer in the controller's CMB.
 *
 *   p2pmr-nvmf --bdf BDF --addr IP [--port 4420] --nqn SUBNQN
 *              (--allow-host HOSTNQN ... | --allow-any-host)
 *              [--buf cmb|host|pmr] [--ibdev DEV] [--mdts KIB] [--stats FILE]
 *              [--max-connections N] [--buffers N] [--poll-us N]
 *              [--nap-us N] [--nvme-irq]
 *
 * Set-up order: the controller is opened and enabled with its CMB on, an
 * I/O queue pair created, and only then the CMB exported as a dma-buf (a
 * later CMB or controller change would revoke it) and registered on the
 * RDMA device of --addr.  SIGTERM or SIGINT stops it; the data counters
 * are printed then and written to --stats (also whenever a controller
 * goes away).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "p2pmr.h"
#include "tgt.h"

#define MR_IOVA		0x40000000ULL	/* RDMA address of the CMB MR */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: p2pmr-nvmf --bdf BDF --addr IP --nqn SUBNQN\n"
		"                  (--allow-host HOSTNQN ... | --allow-any-host)\n"
		"                  [options]\n"
		"  --bdf BDF            NVMe controller bound to vfio-pci-p2p\n"
		"  --addr IP            address to listen on (its RDMA device serves)\n"
		"  --port PORT          RDMA CM port [4420]\n"
		"  --ibdev DEV          check that --addr is on this RDMA device\n"
		"  --nqn SUBNQN         the subsystem's NQN\n"
		"  --allow-host NQN     a host allowed to connect (repeatable, at most %d)\n"
		"  --allow-any-host     any host may connect\n"
		"  --buf cmb|host|pmr   where data buffers live [cmb]\n"
		"  --mdts KIB           largest transfer of one command [128]\n"
		"  --max-connections N  RDMA connections (queues) at once [%d]\n"
		"  --buffers N          data buffers: Reads and Writes served at once\n"
		"                       (1..%d) [as many as fit, at most %d]\n"
		"  --poll-us N          after a command, look for the next one for N us\n"
		"                       before sleeping (0..1000000) [%d]\n"
		"  --nap-us N           while the controller works, sleep N us between\n"
		"                       looks at its completions (0: only yield) [%d]\n"
		"  --nvme-irq           while the controller works, sleep until its\n"
		"                       MSI-X interrupt instead of polling and napping\n"
		"  --stats FILE         write the data counters there\n",
		TGT_MAX_HOSTS, TGT_MAX_CONNS, TGT_MAX_BUFS, TGT_MAX_BUFS,
		TGT_POLL_US, TGT_NAP_US);
}

static int parse_opts(int argc, char **argv, struct tgt_opts *o)
{
	static const struct option lo[] = {
		{ "bdf", required_argument, NULL, 'b' },
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "ibdev", required_argument, NULL, 'd' },
		{ "nqn", required_argument, NULL, 'n' },
		{ "allow-host", required_argument, NULL, 'H' },
		{ "allow-any-host", no_argument, NULL, 'A' },
		{ "buf", required_argument, NULL, 'B' },
		{ "mdts", required_argument, NULL, 'm' },
		{ "stats", required_argument, NULL, 's' },
		{ "max-connections", required_argument, NULL, 'C' },
		{ "buffers", required_argument, NULL, 'N' },
		{ "poll-us", required_argument, NULL, 'P' },
		{ "nap-us", required_argument, NULL, 'S' },
		{ "nvme-irq", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint64_t v;
	int c;

	o->port = "4420";
	o->mdts_kib = 128;
	o->max_conns = TGT_MAX_CONNS;
	o->poll_us = TGT_POLL_US;
	o->nap_us = TGT_NAP_US;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bdf = optarg;
			break;
		case 'a':
			o->addr = optarg;
			break;
		case 'p':
			o->port = optarg;
			break;
		case 'd':
			o->ibdev = optarg;
			break;
		case 'n':
			o->nqn = optarg;
			break;
		case 'A':
			o->allow_any_host = 1;
			break;
		case 's':
			o->stats = optarg;
			break;
		case 'H':
			if (o->nr_hosts == TGT_MAX_HOSTS ||
			    strlen(optarg) >= P2PMR_NVMF_NQN_SIZE) {
				fprintf(stderr, "p2pmr-nvmf: too many hosts, or NQN too long\n");
				return -1;
			}
			o->hosts[o->nr_hosts++] = optarg;
			break;
		case 'B':
			if (!strcmp(optarg, "cmb")) {
				o->buf = TGT_BUF_CMB;
			} else if (!strcmp(optarg, "host")) {
				o->buf = TGT_BUF_HOST;
			} else if (!strcmp(optarg, "pmr")) {
				o->buf = TGT_BUF_PMR;
			} else {
				fprintf(stderr, "p2pmr-nvmf: --buf cmb, host or pmr\n");
				return -1;
			}
			break;
		case 'm':
			if (p2pmr_parse_size(optarg, &v) || v < 4 || v > 4096 ||
			    (v & (v - 1))) {
				fprintf(stderr, "p2pmr-nvmf: --mdts: a power of two of KiB, 4..4096\n");
				return -1;
			}
			o->mdts_kib = v;
			break;
		case 'C':
			if (p2pmr_parse_size(optarg, &v) || !v || v > 1024) {
				fprintf(stderr, "p2pmr-nvmf: --max-connections: 1..1024\n");
				return -1;
			}
			o->max_conns = v;
			break;
		case 'N':
			if (p2pmr_parse_size(optarg, &v) || !v ||
			    v > TGT_MAX_BUFS) {
				fprintf(stderr, "p2pmr-nvmf: --buffers: 1..%d\n",
					TGT_MAX_BUFS);
				return -1;
			}
			o->bufs = v;
			break;
		case 'P':
			if (p2pmr_parse_size(optarg, &v) || v > 1000000) {
				fprintf(stderr, "p2pmr-nvmf: --poll-us: 0..1000000\n");
				return -1;
			}
			o->poll_us = v;
			break;
		case 'S':
			if (p2pmr_parse_size(optarg, &v) || v > 999999) {
				fprintf(stderr, "p2pmr-nvmf: --nap-us: 0..999999\n");
				return -1;
			}
			o->nap_us = v;
			break;
		case 'I':
			o->nvme_irq = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || !o->bdf || !o->addr || !o->nqn ||
	    strlen(o->nqn) >= P2PMR_NVMF_NQN_SIZE ||
	    (!o->nr_hosts && !o->allow_any_host)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The counters as one line of KEY=VALUE words. */
static void stats_line(const struct tgt *t, char *line, size_t len)
{
	const struct tgt_stats *s = &t->st;
	size_t n;
	int i;

	n = snprintf(line, len,
		 "buf=%s bufs=%u writes=%llu reads=%llu flushes=%llu fua=%llu shutdowns=%llu recoveries=%llu resets=%llu revokes=%llu errors=%llu write_bytes=%llu read_bytes=%llu cmb_bytes=%llu pmr_bytes=%llu host_bytes=%llu rdma_in=%llu inline_in=%llu rdma_out=%llu inflight_max=%llu held=%llu irqs=%llu",
		 t->o.buf == TGT_BUF_CMB ? "cmb" :
		 t->o.buf == TGT_BUF_PMR ? "pmr" : "host", t->nr_bufs,
		 (unsigned long long)s->writes, (unsigned long long)s->reads,
		 (unsigned long long)s->flushes, (unsigned long long)s->fua,
		 (unsigned long long)s->shutdowns,
		 (unsigned long long)s->recoveries,
		 (unsigned long long)s->resets,
		 (unsigned long long)s->revokes,
		 (unsigned long long)s->errors,
		 (unsigned long long)s->write_bytes,
		 (unsigned long long)s->read_bytes,
		 (unsigned long long)s->cmb_bytes,
		 (unsigned long long)s->pmr_bytes,
		 (unsigned long long)s->host_bytes,
		 (unsigned long long)s->rdma_in,
		 (unsigned long long)s->inline_in,
		 (unsigned long long)s->rdma_out,
		 (unsigned long long)s->inflight_max,
		 (unsigned long long)s->held,
		 (unsigned long long)s->irqs);
	for (i = 0; i < TGT_MAX_IO_QUEUES && n < len; i++)
		n += snprintf(line + n, len - n, " q%d_cmds=%llu", i + 1,
			      (unsigned long long)s->queue_cmds[i]);
}

/*
 * The stats file is replaced whole (written beside it, then renamed), so
 * a reader sees the old line or the new one, never an empty file.
 */
void tgt_stats_write(const struct tgt *t)
{
	char line[1024], tmp[PATH_MAX];
	FILE *f;

	stats_line(t, line, sizeof(line));
	if (!t->o.stats)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", t->o.stats) >= (int)sizeof(tmp)) {
		fprintf(stderr, "p2pmr-nvmf: %s: path too long\n", t->o.stats);
		return;
	}
	f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		return;
	}
	fprintf(f, "%s\n", line);
	if (fclose(f) || rename(tmp, t->o.stats))
		perror(t->o.stats);
}

/* A monotonic clock in milliseconds. */
uint64_t tgt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/*
 * Whether a refusal (a host's bad command, Connect or connect request) may
 * be logged now: a host sending them in a loop must not flood the log.
 * At most TGT_REFUSAL_BURST per TGT_REFUSAL_MS, then how many were not.
 */
int tgt_log_refusal(struct tgt *t)
{
	uint32_t missed;
	int ok;

	ok = p2pmr_nvmf_ratelimit(&t->refusals, tgt_now_ms(), &missed);
	if (missed)
		printf("p2pmr-nvmf: %u refusal messages suppressed\n", missed);
	return ok;
}

static void stats_print(const struct tgt *t)
{
	char line[1024];

	stats_line(t, line, sizeof(line));
	printf("p2pmr-nvmf: stats %s\n", line);
	tgt_stats_write(t);
}

/* The controller, its namespace 1 and an I/O queue pair. */
static int nvme_setup(struct tgt *t)
{
	struct p2pmr_nvme_opts no = { .cmb = t->o.buf == TGT_BUF_CMB,
				      .pmr = t->o.buf == TGT_BUF_PMR,
				      .timeout_ms = TGT_NVME_TIMEOUT_MS,
				      .nap_us = t->o.nap_us,
				      .irq = t->o.nvme_irq,
				      .dma_size = (8 << 20) +
						  TGT_HOST_BUFS_SIZE };
	int ret;

	ret = p2pmr_nvme_open(t->o.bdf, &no, &t->n);
	if (ret) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't open %s: %s\n", t->o.bdf,
			p2pmr_errmsg());
		return ret;
	}
	ret = p2pmr_nvme_ns_info(t->n, TGT_NSID, &t->ns);
	ret = ret ? ret : p2pmr_nvme_identify(t->n, 0, TGT_NSID, t->ns_id);
	if (ret) {
		if (ret < 0)
			fprintf(stderr, "p2pmr-nvmf: namespace %d: %s\n",
				TGT_NSID, p2pmr_errmsg());
		else
			fprintf(stderr, "p2pmr-nvmf: no namespace %d: NVMe status 0x%x\n",
				TGT_NSID, ret);
		return ret < 0 ? ret : -EIO;
	}
	/* The descriptor list is optional (NVMe 1.3); zeroes if refused. */
	if (p2pmr_nvme_identify(t->n, 3, TGT_NSID, t->ns_desc))
		memset(t->ns_desc, 0, sizeof(t->ns_desc));
	t->max_data = t->o.mdts_kib * 1024;
	if (t->max_data > p2pmr_nvme_max_transfer(t->n))
		t->max_data = p2pmr_nvme_max_transfer(t->n);
	ret = p2pmr_nvme_qp_create(t->n, TGT_NVME_DEPTH, &t->nqp);
	if (ret) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't create an I/O queue: %d\n",
			ret);
		return ret < 0 ? ret : -EIO;
	}
	printf("p2pmr-nvmf: %s: namespace %d: %llu blocks of %u bytes, max transfer %u\n",
	       t->o.bdf, TGT_NSID, (unsigned long long)t->ns.nsze,
	       t->ns.lba_size, t->max_data);
	if (no.irq)
		printf("p2pmr-nvmf: backing completions: interrupts (MSI-X vector %u, eventfd; --nvme-irq)\n",
		       p2pmr_nvme_qp_id(t->nqp));
	else
		printf("p2pmr-nvmf: backing completions: polled, naps of %u us\n",
		       t->o.nap_us);
	return 0;
}

/* The CMB or PMR exported as a dma-buf and registered as the data MR. */
static int dev_mr(struct tgt *t)
{
	struct p2pmr_range r = { t->dev_offset, t->dev_size };
	int ret;

	t->dmabuf_fd = p2pmr_export(p2pmr_nvme_dev(t->n), t->dev_bar, &r, 1,
				    O_RDWR | O_CLOEXEC);
	if (t->dmabuf_fd < 0) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't export the %s: %s\n",
			t->dev_name, p2pmr_errmsg());
		return t->dmabuf_fd;
	}
	ret = p2pmr_reg_mr(t->pd, 0, t->dev_size, MR_IOVA, t->dmabuf_fd,
			   IBV_ACCESS_LOCAL_WRITE, &t->data_mr);
	if (ret) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't register the %s: %s\n",
			t->dev_name, p2pmr_errmsg());
		close(t->dmabuf_fd);
		t->dmabuf_fd = -1;
		t->data_mr = NULL;
	}
	return ret;
}

/*
 * How many data buffers of max_data bytes: --buffers, else as many as
 * @room holds, at most TGT_MAX_BUFS.  0 (said why) if --buffers asks for
 * more than fit.
 */
static uint32_t bufs_fit(const struct tgt *t, uint64_t room, const char *where)
{
	uint64_t n = room / t->max_data;

	if (n > TGT_MAX_BUFS)
		n = TGT_MAX_BUFS;
	if (t->o.bufs > n) {
		fprintf(stderr, "p2pmr-nvmf: --buffers %u: %llu of %u bytes fit in the %s\n",
			t->o.bufs, (unsigned long long)n, t->max_data, where);
		return 0;
	}
	return t->o.bufs ? t->o.bufs : n;
}

/*
 * Data buffers in device memory, the CMB or the PMR (@name): @size bytes
 * at @offset in BAR @bar, at controller address @addr, exported and
 * registered whole as the data MR.
 */
static int dev_bufs(struct tgt *t, const char *name, uint32_t bar,
		    uint64_t offset, uint64_t size, uint64_t addr)
{
	int ret;

	t->nr_bufs = bufs_fit(t, size, name);
	if (!t->nr_bufs)
		return -ENOSPC;
	t->dev_name = name;
	t->dev_bar = bar;
	t->dev_offset = offset;
	t->dev_size = size;
	ret = dev_mr(t);
	if (ret)
		return ret;
	t->data_rdma = MR_IOVA;
	t->data_nvme = addr;
	printf("p2pmr-nvmf: %u data buffers of %u bytes in the %s (BAR%u, %llu bytes at controller address 0x%llx), MR on %s\n",
	       t->nr_bufs, t->max_data, name, bar, (unsigned long long)size,
	       (unsigned long long)addr,
	       ibv_get_device_name(t->listen->verbs->device));
	return 0;
}

/*
 * --buf pmr: the data buffers in the persistent memory region, which
 * p2pmr_nvme_open() enabled with its controller memory space; exported
 * and registered whole.
 */
static int pmr_setup(struct tgt *t)
{
	if (!t->pmr.size) {
		fprintf(stderr, "p2pmr-nvmf: no PMR enabled\n");
		return -ENODEV;
	}
	if (!(t->pmr.pmrcap & P2PMR_NVME_PMRCAP_RDS) ||
	    !(t->pmr.pmrcap & P2PMR_NVME_PMRCAP_WDS)) {
		fprintf(stderr, "p2pmr-nvmf: the PMR of %s holds no %s data (PMRCAP 0x%x: RDS %u, WDS %u): use --buf host\n",
			t->o.bdf, t->pmr.pmrcap & P2PMR_NVME_PMRCAP_RDS ?
			"write" : "read", t->pmr.pmrcap,
			!!(t->pmr.pmrcap & P2PMR_NVME_PMRCAP_RDS),
			!!(t->pmr.pmrcap & P2PMR_NVME_PMRCAP_WDS));
		return -EOPNOTSUPP;
	}
	return dev_bufs(t, "PMR", t->pmr.bar, 0, t->pmr.size, t->pmr.addr);
}

/*
 * The data buffers: the CMB as a dma-buf MR, or host memory; and their
 * entries, which hold the responses.  The target only initiates
 * RDMA (READ from and WRITE to the host's buffers), so the MR grants no
 * remote access: a peer that merely connected cannot touch the buffers
 * that hold other hosts' data.
 */
static int buf_setup(struct tgt *t)
{
	int acc = IBV_ACCESS_LOCAL_WRITE;
	size_t io_size;
	int ret;

	t->pd = ibv_alloc_pd(t->listen->verbs);
	t->cc = ibv_create_comp_channel(t->listen->verbs);
	if (!t->pd || !t->cc) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't allocate a PD\n");
		return -ENOMEM;
	}
	if (fcntl(t->cc->fd, F_SETFL, fcntl(t->cc->fd, F_GETFL) | O_NONBLOCK))
		return -errno;
	/* aligned_alloc() wants a multiple of the alignment. */
	io_size = (TGT_MAX_BUFS * sizeof(*t->io) + 63) & ~(size_t)63;
	t->io = aligned_alloc(64, io_size);
	t->io_mr = t->io ? ibv_reg_mr(t->pd, t->io, io_size, acc) : NULL;
	if (!t->io_mr) {
		fprintf(stderr, "p2pmr-nvmf: Couldn't register the response buffers\n");
		return -ENOMEM;
	}
	/* The CMB and PMR windows, where enabled: io.c counts by them. */
	if (p2pmr_nvme_pmr_info(t->n, &t->pmr))
		memset(&t->pmr, 0, sizeof(t->pmr));
	ret = p2pmr_nvme_cmb_info(t->n, &t->cmb);
	if (ret)
		memset(&t->cmb, 0, sizeof(t->cmb));
	if (t->o.buf == TGT_BUF_PMR)
		return pmr_setup(t);
	if (t->o.buf == TGT_BUF_HOST) {
		t->nr_bufs = bufs_fit(t, TGT_HOST_BUFS_SIZE,
				      "host memory budget");
		if (!t->nr_bufs)
			return -ENOSPC;
		ret = p2pmr_nvme_dma_alloc(t->n, (size_t)t->nr_bufs * t->max_data,
					   &t->host_buf, &t->data_nvme);
		if (ret)
			return ret;
		t->data_mr = ibv_reg_mr(t->pd, t->host_buf,
					(size_t)t->nr_bufs * t->max_data, acc);
		if (!t->data_mr) {
			fprintf(stderr, "p2pmr-nvmf: Couldn't register host memory\n");
			return -errno;
		}
		t->data_rdma = (uintptr_t)t->host_buf;
		/* Host memory anyway: writes that fit come in the capsule. */
		t->inline_size = TGT_INLINE_SIZE;
		printf("p2pmr-nvmf: %u data buffers in host memory, %u bytes each; in-capsule data up to %u bytes\n",
		       t->nr_bufs, t->max_data, t->inline_size);
		return 0;
	}
	if (ret || t->cmb.size < t->max_data) {
		fprintf(stderr, "p2pmr-nvmf: no usable CMB\n");
		return ret ? ret : -ENOSPC;
	}
	/* Many CMBs hold submission queues only: data needs RDS and WDS. */
	if (!(t->cmb.cmbsz & P2PMR_NVME_CMBSZ_RDS) ||
	    !(t->cmb.cmbsz & P2PMR_NVME_CMBSZ_WDS)) {
		fprintf(stderr, "p2pmr-nvmf: the CMB of %s holds no %s data (CMBSZ 0x%x: RDS %u, WDS %u): use --buf host\n",
			t->o.bdf, t->cmb.cmbsz & P2PMR_NVME_CMBSZ_RDS ?
			"write" : "read", t->cmb.cmbsz,
			!!(t->cmb.cmbsz & P2PMR_NVME_CMBSZ_RDS),
			!!(t->cmb.cmbsz & P2PMR_NVME_CMBSZ_WDS));
		return -EOPNOTSUPP;
	}
	return dev_bufs(t, "CMB", t->cmb.bar, t->cmb.bar_offset, t->cmb.size,
			t->cmb.addr);
}

/*
 * One attempt at serving again: the controller re-initialised (CC.EN
 * cycle, admin queue, CMB), a backing I/O queue, and in CMB mode the CMB
 * exported again and registered as a new data MR (new lkey).
 */
static int restart_once(struct tgt *t)
{
	int ret;

	/* Freed by p2pmr_nvme_restart(), also one an attempt before made. */
	t->nqp = NULL;
	ret = p2pmr_nvme_restart(t->n);
	if (ret) {
		printf("p2pmr-nvmf: recovery: controller not enabled: %s\n",
		       p2pmr_errmsg());
		return ret;
	}
	printf("p2pmr-nvmf: recovery: controller enabled again (CSTS 0x%x)%s%s\n",
	       p2pmr_nvme_reg32(t->n, 0x1c),
	       t->cmb.size ? ", CMB on at the same address" : "",
	       t->pmr.size ? ", PMR on at the same address" : "");
	ret = p2pmr_nvme_qp_create(t->n, TGT_NVME_DEPTH, &t->nqp);
	if (ret) {
		printf("p2pmr-nvmf: recovery: no backing I/O queue (%d)\n", ret);
		t->nqp = NULL;
		return ret < 0 ? ret : -EIO;
	}
	printf("p2pmr-nvmf: recovery: backing I/O queue %u created\n",
	       p2pmr_nvme_qp_id(t->nqp));
	if (t->o.buf == TGT_BUF_HOST)
		return 0;
	ret = dev_mr(t);
	if (ret)
		return ret;
	printf("p2pmr-nvmf: recovery: %s exported again, data MR registered (lkey 0x%x)\n",
	       t->dev_name, t->data_mr->lkey);
	return 0;
}

#define RESTART_TRIES	50	/* attempts, RESTART_MS apart */
#define RESTART_MS	200

/*
 * The backing controller was reset, failed or stopped decoding memory
 * under the target: found by CSTS before a command, by a backing command
 * that stopped (the driver reads CSTS while it waits), or by an RDMA
 * operation on the data MR that failed with a local protection error
 * (the exporter revoked the dma-buf: a reset's reset_prepare).  The MR
 * is dead for good (docs/importer.md), the controller forgot its queues
 * and its CMB set-up.  So: the MR deregistered and its dma-buf closed,
 * the controller restarted (p2pmr_nvme_restart() disables it first:
 * nothing it held reaches the media afterwards), a new I/O queue, the
 * CMB exported and registered again; tried again while the device is
 * not back yet, and if it never comes back the target stops.  The caller
 * answers the command it was serving, if it can, with a status the host
 * retries; other commands are not taken meanwhile (one thread).
 */
void tgt_recover(struct tgt *t, const char *why)
{
	int i;

	printf("p2pmr-nvmf: backing controller lost (%s; CSTS 0x%x): recovering\n",
	       why, p2pmr_nvme_reg32(t->n, 0x1c));
	if (t->data_mr && t->o.buf != TGT_BUF_HOST) {
		printf("p2pmr-nvmf: recovery: data MR (lkey 0x%x) deregistered, its dma-buf closed\n",
		       t->data_mr->lkey);
		ibv_dereg_mr(t->data_mr);
		t->data_mr = NULL;
		close(t->dmabuf_fd);
		t->dmabuf_fd = -1;
	}
	for (i = 1; restart_once(t); i++) {
		if (i == RESTART_TRIES) {
			fprintf(stderr, "p2pmr-nvmf: recovery: the controller did not come back in %d attempts: stopping\n",
				i);
			t->fatal = 1;
			return;
		}
		usleep(RESTART_MS * 1000);
	}
	t->st.resets++;
	printf("p2pmr-nvmf: recovered: serving again (reset %llu, after %d attempt%s)\n",
	       (unsigned long long)t->st.resets, i, i > 1 ? "s" : "");
	tgt_stats_write(t);
}

/* Microseconds, monotonic. */
static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* What woke epoll_wait() in serve(). */
enum { EV_CM, EV_CQ, EV_IRQ };

/*
 * Serve until stopped.  While commands are in flight (io.c) or capsules
 * wait for a data buffer (rdma.c), and for --poll-us after the last
 * command came or moved, the queues and the backing controller are
 * polled with no system call (a system call under emulation costs a pass
 * many times over), and epoll (RDMA CM events, keep alive) is looked at
 * every TGT_LOOK_US.  A pass that found nothing while commands are in
 * flight is followed by a nap (--nap-us); with --nvme-irq, by a sleep in
 * epoll_wait() until a completion comes: the backing controller's
 * interrupt, an RDMA CQ's event; up to TGT_IRQ_WAIT_MS, so that timeouts
 * are still seen.  (The controller then interrupts for every completion,
 * also those a polling pass takes.)  Otherwise
 * the target sleeps in epoll_wait(): a command that follows soon after
 * another is taken without the wake-up of a sleeping thread.
 */
static int serve(struct tgt *t)
{
	struct epoll_event ev = { .events = EPOLLIN }, got[4];
	int irq_fd = p2pmr_nvme_irq_fd(t->n);
	uint64_t spin_end = 0, look = 0, now, count;
	int ep, n, i, moved, cq_event, irq, wait = 0, ret = 0;
	uint32_t busy;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		ret = -errno;
		perror("p2pmr-nvmf: epoll_create1");
		return ret;
	}
	ev.data.u32 = EV_CM;
	epoll_ctl(ep, EPOLL_CTL_ADD, t->ec->fd, &ev);
	ev.data.u32 = EV_CQ;
	epoll_ctl(ep, EPOLL_CTL_ADD, t->cc->fd, &ev);
	ev.data.u32 = EV_IRQ;
	if (irq_fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, irq_fd, &ev)) {
		ret = -errno;
		perror("p2pmr-nvmf: epoll_ctl of the interrupt eventfd");
		goto out;
	}
	printf("p2pmr-nvmf: serving %s\n", t->o.nqn);
	fflush(stdout);
	while (!stop && !t->fatal) {
		/* A held capsule waits for a buffer: polled for too. */
		busy = tgt_io_busy(t) + t->held;
		now = now_us();
		if ((busy || spin_end) && now < look && !wait) {
			moved = tgt_poll_queues(t, 0);
		} else {
			look = now + TGT_LOOK_US;
			n = epoll_wait(ep, got, 4, wait ? TGT_IRQ_WAIT_MS :
					  busy || spin_end ? 0 : 1000);
			cq_event = 0;
			irq = 0;
			/* The interrupt taken before the completion queue is
			 * polled: a later one then means a new entry.
			 */
			for (i = 0; i < n; i++)
				if (got[i].data.u32 == EV_IRQ &&
				    read(irq_fd, &count, sizeof(count)) > 0)
					irq = 1;
			for (i = 0; i < n && !t->fatal; i++) {
				if (got[i].data.u32 == EV_CM)
					tgt_cm_event(t);
				else if (got[i].data.u32 == EV_CQ)
					cq_event = 1;
			}
			/* Also when nothing woke it: the answers' sends are
			 * taken after an idle second.
			 */
			moved = t->fatal ? 0 : tgt_poll_queues(t, cq_event);
			if (wait && irq && moved)
				t->st.irqs++;
			wait = 0;
			tgt_check_kato(t);
			fflush(stdout);
		}
		if (moved && t->o.poll_us)
			spin_end = now_us() + t->o.poll_us;
		else if (spin_end && now_us() >= spin_end)
			spin_end = 0;
		if (busy && !moved && (tgt_io_busy(t) || t->held)) {
			if (irq_fd >= 0)
				wait = 1;
			else
				tgt_io_nap(t);
		}
	}
	ret = t->fatal ? -EIO : 0;
out:
	close(ep);
	return ret;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct tgt t = { .dmabuf_fd = -1, .next_cntlid = 1,
			 .refusals = { .interval_ms = TGT_REFUSAL_MS,
				       .burst = TGT_REFUSAL_BURST } };
	const char *fault = getenv("P2PMR_NVMF_FAULT");
	int ret = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_opts(argc, argv, &t.o))
		return 2;
	/*
	 * The naps between looks at the NVMe completions are short: the
	 * default timer slack (50 us) would stretch each to twice its length
	 * (in the bed, 4 KiB reads at depth 1: 0.78x nvmet-rdma with it,
	 * 0.85x with a slack of 1 us).
	 */
	if (t.o.nap_us && prctl(PR_SET_TIMERSLACK, TGT_NAP_SLACK_NS, 0, 0, 0))
		perror("p2pmr-nvmf: PR_SET_TIMERSLACK");
	if (fault && !strcmp(fault, "skip-rdma-read")) {
		fprintf(stderr, "p2pmr-nvmf: FAULT: host writes skip the RDMA READ\n");
		t.fault_skip_read = 1;
	} else if (fault && sscanf(fault, "nvme-timeout=%u",
				   &t.fault_timeout) == 1) {
		fprintf(stderr, "p2pmr-nvmf: FAULT: backing NVMe command %u is left to time out\n",
			t.fault_timeout);
	} else if (fault && sscanf(fault, "reset-every=%u",
				   &t.fault_reset) == 1 && t.fault_reset) {
		fprintf(stderr, "p2pmr-nvmf: FAULT: every %uth host write resets the controller, before its RDMA READ or its backing Write in turn\n",
			t.fault_reset);
	} else if (fault && sscanf(fault, "memoff-every=%u",
				   &t.fault_reset) == 1 && t.fault_reset) {
		t.fault_memoff = 1;
		fprintf(stderr, "p2pmr-nvmf: FAULT: every %uth host write turns the controller's memory decode off and on, before its RDMA READ or its backing Write in turn\n",
			t.fault_reset);
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (nvme_setup(&t))
		goto out_nvme;
	if (tgt_listen(&t))
		goto out_listen;
	if (buf_setup(&t))
		goto out_buf;
	ret = serve(&t) ? 1 : 0;
	tgt_queues_free(&t);
	stats_print(&t);
out_buf:
	if (t.data_mr)
		ibv_dereg_mr(t.data_mr);
	if (t.io_mr)
		ibv_dereg_mr(t.io_mr);
	free(t.io);
	if (t.dmabuf_fd >= 0)
		close(t.dmabuf_fd);
	if (t.cc)
		ibv_destroy_comp_channel(t.cc);
	if (t.pd)
		ibv_dealloc_pd(t.pd);
out_listen:
	if (t.listen)
		rdma_destroy_id(t.listen);
	if (t.ec)
		rdma_destroy_event_channel(t.ec);
out_nvme:
	p2pmr_nvme_qp_destroy(t.nqp);
	p2pmr_nvme_close(t.n);
	return ret;
}
