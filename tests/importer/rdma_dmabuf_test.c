// SPDX-License-Identifier: GPL-2.0
/*
 * rdma_dmabuf_test: ibv_reg_dmabuf_mr() on VFIO BAR ranges exported by
 * vfio-pci-p2p, used by Soft-RoCE.
 *
 *   rdma_dmabuf_test BDF data|revoke-reset|revoke-mem|revoke-contract|
 *                        chaos|udmabuf|nocpu|atomic|advise|reg-race|shared|
 *                        multi-qp|qp-types [SECONDS]
 *   rdma_dmabuf_test EDU-BDF mmio
 *
 * Needs rxe0 (192.0.2.1) and rxe1 (192.0.2.2) from tests/lib/guest.sh's
 * rxe_pair.  The dma-buf MR lives on rxe0; its peer is a QP on rxe1 ("remote",
 * over the veth pair) or a second QP on rxe0 ("loopback").  Every write into
 * the BAR uses tests/lib/pattern.h with the BAR offset as pattern position,
 * so the host can check its backing file (see the case scripts).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/udmabuf.h>
#include <linux/vfio.h>

#include "p2pmr.h"
#include "../lib/pattern.h"
#include "../lib/tap.h"
#include "rdma_lib.h"


#define KiB 1024ULL
#define MiB (1024 * KiB)
#define IOVA 0x10000000ULL
#define IOVA2 0x20000000ULL	/* a second MR's, at a dma-buf offset */
#define ACCESS (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
		IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC)

static const char *bdf;
static struct p2pmr_dev *dev;
static volatile uint8_t *bar;	/* CPU view of BAR2, for checks */
static size_t bar_len;
static struct ibv_context *ctx0, *ctx1;

static int export(int nr, const struct p2pmr_range *r)
{
	return p2pmr_export(dev, 2, r, nr, O_RDWR | O_CLOEXEC);
}

/* Buffer offset -> BAR offset for a multi-range buffer. */
static uint64_t bar_off(const struct p2pmr_range *r, int nr,
			uint64_t off)
{
	int i;

	for (i = 0; i < nr; i++) {
		if (off < r[i].length)
			return r[i].offset + off;
		off -= r[i].length;
	}
	return UINT64_MAX;
}

static int bar_matches(uint64_t off, size_t len, uint64_t seed)
{
	uint8_t *tmp = malloc(len);
	long bad;

	for (size_t i = 0; i < len; i++)
		tmp[i] = bar[off + i];
	bad = pattern_check(tmp, len, seed, off);
	free(tmp);
	return bad < 0;
}

static void bar_fill(uint64_t off, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++)
		bar[off + i] = pattern_byte(seed, off + i);
}

struct pair {
	struct ep local;	/* holds the dma-buf MR */
	struct ep peer;
	struct ibv_pd *pd0, *pd1;
};

/* Send operations of the peer's QP beyond the legacy ones (ATOMIC_WRITE). */
#define PEER_SEND_OPS (IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_SEND | \
		       IBV_QP_EX_WITH_RDMA_READ | \
		       IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP | \
		       IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD | \
		       IBV_QP_EX_WITH_ATOMIC_WRITE)

/* The pair's two connected QPs (and their CQs), on its PDs. */
static int pair_connect(struct pair *p, int loopback, uint64_t peer_ops)
{
	int ret;

	memset(&p->local, 0, sizeof(p->local));
	memset(&p->peer, 0, sizeof(p->peer));
	ret = ep_init(&p->local, ctx0, p->pd0, "192.0.2.1");
	if (!ret)
		ret = ep_init_ex(&p->peer, loopback ? ctx0 : ctx1, p->pd1,
				 loopback ? "192.0.2.1" : "192.0.2.2",
				 peer_ops);
	if (!ret)
		ret = ep_connect(&p->local, &p->peer);
	if (!ret)
		ret = ep_connect(&p->peer, &p->local);
	return ret;
}

static int pair_init_ex(struct pair *p, int loopback, uint64_t peer_ops)
{
	p->pd0 = ibv_alloc_pd(ctx0);
	p->pd1 = loopback ? p->pd0 : ibv_alloc_pd(ctx1);
	return pair_connect(p, loopback, peer_ops);
}

static int pair_init(struct pair *p, int loopback)
{
	return pair_init_ex(p, loopback, 0);
}

/* Destroy the QPs and CQs of the pair, not its PDs. */
static void pair_disconnect(struct pair *p)
{
	if (p->local.ah)
		ibv_destroy_ah(p->local.ah);
	if (p->peer.ah)
		ibv_destroy_ah(p->peer.ah);
	if (p->local.qp)
		ibv_destroy_qp(p->local.qp);
	if (p->peer.qp)
		ibv_destroy_qp(p->peer.qp);
	if (p->local.cq)
		ibv_destroy_cq(p->local.cq);
	if (p->peer.cq)
		ibv_destroy_cq(p->peer.cq);
	memset(&p->local, 0, sizeof(p->local));
	memset(&p->peer, 0, sizeof(p->peer));
}

static void pair_fini(struct pair *p)
{
	pair_disconnect(p);
	if (p->pd1 != p->pd0)
		ibv_dealloc_pd(p->pd1);
	ibv_dealloc_pd(p->pd0);
}

/*
 * The dma-buf MR on the requester's side, as the place where responses
 * land: an RDMA READ from host memory into the BAR, and the original
 * values of a FETCH_ADD and a CMP_SWAP on host words, written into the BAR
 * by the requester's completion.  @mr's first @n * 7 + 24 bytes are its
 * first range's (at BAR offset @off); this uses [5n, 6n) and 6n + 8.
 */
static void test_data_requester(const char *name, struct pair *p,
				struct ibv_mr *mr, struct ibv_mr *hmr,
				uint8_t *host, size_t n, uint64_t off,
				uint64_t seed)
{
	volatile uint64_t *res = (volatile uint64_t *)(bar + off + 6 * n + 8);
	uint64_t *word = (uint64_t *)host;
	int ret;

	pattern_fill(host, n, seed + 4, off + 5 * n);
	bar_fill(off + 5 * n, n, seed + 5);	/* stale */
	ret = ep_do(&p->local, IBV_WR_RDMA_READ,
		    (void *)(uintptr_t)(IOVA + 5 * n), n, mr->lkey,
		    (uintptr_t)host, hmr->rkey);
	tap_result(!ret && bar_matches(off + 5 * n, n, seed + 4),
		   "%s: RDMA READ response lands in the BAR (requester side, status %d)",
		   name, ret);

	word[0] = 0x1122334455667788ULL;
	res[0] = 0;
	ret = ep_atomic(&p->local, IBV_WR_ATOMIC_FETCH_AND_ADD,
			(uint64_t *)(uintptr_t)(IOVA + 6 * n + 8), mr->lkey,
			(uintptr_t)host, hmr->rkey, 0x100000001ULL, 0);
	tap_result(!ret && res[0] == 0x1122334455667788ULL &&
		   word[0] == 0x1122334555667789ULL,
		   "%s: FETCH_ADD's original value lands in the BAR (requester side, status %d, got %#llx, host word %#llx)",
		   name, ret, (unsigned long long)res[0],
		   (unsigned long long)word[0]);
	ret = ep_atomic(&p->local, IBV_WR_ATOMIC_CMP_AND_SWP,
			(uint64_t *)(uintptr_t)(IOVA + 6 * n + 8), mr->lkey,
			(uintptr_t)host, hmr->rkey, 0x1122334555667789ULL,
			0xaaaaaaaabbbbbbbbULL);
	tap_result(!ret && res[0] == 0x1122334555667789ULL &&
		   word[0] == 0xaaaaaaaabbbbbbbbULL,
		   "%s: CMP_SWAP's original value lands in the BAR (requester side, status %d, got %#llx, host word %#llx)",
		   name, ret, (unsigned long long)res[0],
		   (unsigned long long)word[0]);
}

/*
 * WRITE, READ, SEND/RECV both ways and an atomic against a dma-buf MR made
 * of @nr BAR ranges, from a remote or a loopback QP.  Writes straddle every
 * range boundary, and are read back across it.  Then a second MR at a
 * dma-buf offset other than 0 (across the first boundary where there is
 * one), written and read through, and one reaching past the buffer's end,
 * refused.
 */
static void test_data(const char *name, int nr,
		      const struct p2pmr_range *r, int loopback,
		      uint64_t seed)
{
	size_t size = 0, n = 8 * KiB, i;
	struct ibv_mr *mr, *hmr, *mr2;
	uint64_t *atom, off2;
	int buf, ret, ok, rok;
	struct pair p;
	uint8_t *host;

	for (i = 0; i < (size_t)nr; i++)
		size += r[i].length;
	buf = export(nr, r);
	if (buf < 0 || pair_init(&p, loopback)) {
		tap_result(0, "%s: setup (export %d)", name, buf);
		return;
	}
	mr = ibv_reg_dmabuf_mr(p.pd0, 0, size, IOVA, buf, ACCESS);
	tap_result(mr != NULL, "%s: ibv_reg_dmabuf_mr of %zu bytes in %d range(s): %s",
		   name, size, nr, mr ? "ok" : strerror(errno));
	if (!mr)
		goto out;
	host = aligned_alloc(4096, 2 * n);
	hmr = ibv_reg_mr(p.pd1, host, 2 * n, ACCESS);

	/*
	 * RDMA WRITE into the BAR at each range boundary (and the start), and
	 * READ back across it.
	 */
	ok = 1;
	rok = 1;
	for (i = 0; i < (size_t)nr; i++) {
		uint64_t boff = 0, j;

		for (j = 0; j < i; j++)
			boff += r[j].length;
		/* straddle the boundary into range i (or start at 0) */
		boff = boff ? boff - n / 2 : 0;
		for (j = 0; j < n; j++)
			host[j] = pattern_byte(seed, bar_off(r, nr, boff + j));
		ret = ep_do(&p.peer, IBV_WR_RDMA_WRITE, host, n, hmr->lkey,
			    IOVA + boff, mr->rkey);
		for (j = 0; j < n && !ret; j++)
			if (bar[bar_off(r, nr, boff + j)] !=
			    pattern_byte(seed, bar_off(r, nr, boff + j)))
				ret = -EIO;
		ok &= !ret;
		if (ret || !boff)
			continue;
		memset(host + n, 0, n);
		ret = ep_do(&p.peer, IBV_WR_RDMA_READ, host + n, n, hmr->lkey,
			    IOVA + boff, mr->rkey);
		rok &= !ret && !memcmp(host, host + n, n);
	}
	tap_result(ok, "%s: RDMA WRITE into the BAR across range boundaries", name);
	if (nr > 1)
		tap_result(ok && rok, "%s: RDMA READ from the BAR across range boundaries",
			   name);

	/* RDMA READ of what the CPU put into the BAR. */
	bar_fill(bar_off(r, nr, size - n), n, seed + 1);
	memset(host, 0, n);
	ret = ep_do(&p.peer, IBV_WR_RDMA_READ, host, n, hmr->lkey,
		    IOVA + size - n, mr->rkey);
	tap_result(!ret && pattern_check(host, n, seed + 1,
					 bar_off(r, nr, size - n)) < 0,
		   "%s: RDMA READ from the BAR (status %d)", name, ret);

	/* SEND from host memory, received into the BAR. */
	for (i = 0; i < n; i++)
		host[i] = pattern_byte(seed + 2, r[0].offset + 2 * n + i);
	ret = ep_recv(&p.local, (void *)(uintptr_t)(IOVA + 2 * n), n, mr->lkey);
	if (!ret)
		ret = ep_do(&p.peer, IBV_WR_SEND, host, n, hmr->lkey, 0, 0);
	if (!ret)
		ret = ep_wait(&p.local, NULL);
	tap_result(!ret && bar_matches(r[0].offset + 2 * n, n, seed + 2),
		   "%s: SEND received into the BAR (status %d)", name, ret);

	/* SEND from the BAR, received into host memory. */
	bar_fill(r[0].offset + 4 * n, n, seed + 3);
	memset(host + n, 0, n);
	ret = ep_recv(&p.peer, host + n, n, hmr->lkey);
	if (!ret)
		ret = ep_do(&p.local, IBV_WR_SEND,
			    (void *)(uintptr_t)(IOVA + 4 * n), n, mr->lkey, 0, 0);
	if (!ret)
		ret = ep_wait(&p.peer, NULL);
	tap_result(!ret && pattern_check(host + n, n, seed + 3,
					 r[0].offset + 4 * n) < 0,
		   "%s: SEND from the BAR (status %d)", name, ret);

	/* Fetch-and-add on a BAR word. */
	atom = (uint64_t *)(uintptr_t)(bar + r[0].offset + 6 * n);
	*(volatile uint64_t *)atom = 40;
	{
		struct ibv_sge sge = { (uintptr_t)host, 8, hmr->lkey };
		struct ibv_send_wr wr = {
			.sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD,
			.send_flags = IBV_SEND_SIGNALED,
			.wr.atomic = { .remote_addr = IOVA + 6 * n,
				       .compare_add = 2, .rkey = mr->rkey },
		}, *bad;

		ret = ibv_post_send(p.peer.qp, &wr, &bad) ? -errno :
			ep_wait(&p.peer, NULL);
	}
	tap_result(!ret && *(uint64_t *)host == 40 &&
		   *(volatile uint64_t *)atom == 42,
		   "%s: atomic fetch-and-add on the BAR (status %d, now %llu)",
		   name, ret, (unsigned long long)*(volatile uint64_t *)atom);
	/* Leave the pattern for the host to check. */
	bar_fill(r[0].offset + 6 * n, 8, seed + 3);

	test_data_requester(name, &p, mr, hmr, host, n, r[0].offset, seed);

	/*
	 * A second MR at dma-buf offset @off2 (across the first boundary if
	 * there is one), n bytes: WRITE through it lands at that offset of
	 * the buffer, READ through it returns it.  The bytes are those the
	 * boundary WRITE above left, so the host's check still holds.
	 */
	off2 = nr > 1 ? r[0].length - n / 2 : n / 2;
	mr2 = ibv_reg_dmabuf_mr(p.pd0, off2, n, IOVA2, buf, ACCESS);
	tap_result(mr2 != NULL, "%s: ibv_reg_dmabuf_mr at dma-buf offset %llu: %s",
		   name, (unsigned long long)off2, mr2 ? "ok" : strerror(errno));
	if (mr2) {
		for (i = 0; i < n; i++)
			host[i] = pattern_byte(seed, bar_off(r, nr, off2 + i));
		bar_fill(bar_off(r, nr, off2), 8, seed + 9);	/* stale */
		ret = ep_do(&p.peer, IBV_WR_RDMA_WRITE, host, n, hmr->lkey,
			    IOVA2, mr2->rkey);
		for (i = 0; i < n && !ret; i++)
			if (bar[bar_off(r, nr, off2 + i)] != host[i])
				ret = -EIO;
		memset(host + n, 0, n);
		if (!ret)
			ret = ep_do(&p.peer, IBV_WR_RDMA_READ, host + n, n,
				    hmr->lkey, IOVA2, mr2->rkey);
		tap_result(!ret && !memcmp(host, host + n, n),
			   "%s: RDMA WRITE and READ through the MR at offset %llu (status %d)",
			   name, (unsigned long long)off2, ret);
		ibv_dereg_mr(mr2);
	}
	mr2 = ibv_reg_dmabuf_mr(p.pd0, size - n / 2, n, IOVA2, buf, ACCESS);
	tap_result(!mr2 && errno == EINVAL,
		   "%s: an MR reaching past the dma-buf's end is refused with EINVAL (%s)",
		   name, mr2 ? "registered!" : strerror(errno));
	if (mr2)
		ibv_dereg_mr(mr2);

	ibv_dereg_mr(hmr);
	free(host);
	ibv_dereg_mr(mr);
out:
	pair_fini(&p);
	close(buf);
}

struct streamer {
	struct pair *p;
	struct ibv_mr *mr, *hmr;
	uint8_t *host;
	size_t slot, slots;
	int writes, status;
};

/* Stream RDMA WRITEs into the MR until one fails. */
static void *stream(void *arg)
{
	struct streamer *s = arg;
	struct ibv_wc wc;
	int i, ret;

	for (i = 0; i < 100000; i++) {
		/* Each write carries its own byte: a late one would show. */
		memset(s->host, 1 + i % 255, s->slot);
		ret = ep_post(&s->p->peer, IBV_WR_RDMA_WRITE, s->host, s->slot,
			      s->hmr->lkey, IOVA + (i % s->slots) * s->slot,
			      s->mr->rkey);
		if (ret) {
			s->status = ret;
			break;
		}
		ret = ep_wait(&s->p->peer, &wc);
		if (ret) {
			s->status = ret;
			break;
		}
		s->writes++;
	}
	return NULL;
}

static int set_memory(int on)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
				       .index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint16_t cmd;

	ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_GET_REGION_INFO, &cfg);
	pread(p2pmr_dev_fd(dev), &cmd, 2, cfg.offset + PCI_COMMAND);
	cmd = on ? cmd | PCI_COMMAND_MEMORY : cmd & ~PCI_COMMAND_MEMORY;
	return pwrite(p2pmr_dev_fd(dev), &cmd, 2, cfg.offset + PCI_COMMAND) == 2 ?
	       0 : -errno;
}

/*
 * Revoke under traffic: a writer streams RDMA WRITEs into the MR while the
 * device is reset (or its memory decode cleared).  The writer must see an
 * error, and no byte of the BAR may change once the revoke completed: a
 * snapshot right after it goes to /vmout for the host to compare with its
 * backing file, and is compared again here after the writer stopped.
 */
static void test_revoke(int by_reset)
{
	struct p2pmr_range r = { 2 * MiB, 1 * MiB };
	const char *name = by_reset ? "revoke-by-reset" : "revoke-by-memory-disable";
	struct streamer s = { 0 };
	uint8_t *snap, *again;
	struct pair p;
	pthread_t th;
	int buf, ret;
	FILE *f;

	buf = export(1, &r);
	if (buf < 0 || pair_init(&p, 0)) {
		tap_result(0, "%s: setup", name);
		return;
	}
	s.p = &p;
	s.slot = 4 * KiB;
	s.slots = r.length / s.slot;
	s.mr = ibv_reg_dmabuf_mr(p.pd0, 0, r.length, IOVA, buf, ACCESS);
	s.host = aligned_alloc(4096, s.slot);
	memset(s.host, 0xa5, s.slot);
	s.hmr = ibv_reg_mr(p.pd1, s.host, s.slot, ACCESS);
	if (!s.mr || !s.hmr) {
		tap_result(0, "%s: registration: %s", name, strerror(errno));
		return;
	}
	pthread_create(&th, NULL, stream, &s);
	while (s.writes < 50 && !s.status)
		usleep(1000);
	ret = by_reset ? (ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_RESET) ? -errno : 0)
		       : set_memory(0);
	if (!by_reset)
		set_memory(1);	/* decode back on: the MR must stay revoked */
	/* The revoke completed: from now on the region must not change. */
	snap = malloc(r.length);
	for (size_t i = 0; i < r.length; i++)
		snap[i] = bar[r.offset + i];
	tap_result(!ret, "%s: trigger after %d writes (%d)", name, s.writes, ret);
	pthread_join(th, NULL);
	/*
	 * One WRITE at a time: the first one after the revoke is NAKed with a
	 * remote access error.  A retry or a flush would mean the responder
	 * did not answer, or answered something else.
	 */
	tap_result(s.status == IBV_WC_REM_ACCESS_ERR,
		   "%s: writer stopped with a remote access error (%s after %d writes)",
		   name, s.status > 0 ? ibv_wc_status_str(s.status) : strerror(-s.status),
		   s.writes);
	usleep(200000);
	again = malloc(r.length);
	for (size_t i = 0; i < r.length; i++)
		again[i] = bar[r.offset + i];
	tap_result(!memcmp(snap, again, r.length),
		   "%s: no byte of the region changed after the revoke", name);
	f = fopen(by_reset ? "/vmout/snap-reset.bin" : "/vmout/snap-mem.bin", "wb");
	if (f) {
		fwrite(snap, 1, r.length, f);
		fclose(f);
	}
	/*
	 * A local work request using the revoked MR completes with a local
	 * protection error (new QPs on the same PDs: the old ones are in
	 * the error state).
	 */
	{
		struct ibv_wc wc = { 0 };

		pair_disconnect(&p);
		ret = pair_connect(&p, 0, 0);
		if (!ret)
			ret = ep_recv(&p.peer, s.host, s.slot, s.hmr->lkey);
		if (!ret)
			ret = ep_post(&p.local, IBV_WR_SEND,
				      (void *)(uintptr_t)IOVA, s.slot,
				      s.mr->lkey, 0, 0);
		if (!ret)
			ret = ep_wait(&p.local, &wc);
		tap_result(ret == IBV_WC_LOC_PROT_ERR,
			   "%s: SEND from the revoked MR completes with a local protection error (%s)",
			   name, ret >= 0 ? ibv_wc_status_str(ret) :
			   strerror(-ret));
	}
	/* A new registration works again (the old MR stays dead). */
	{
		struct ibv_mr *mr2;
		int buf2 = export(1, &r);

		mr2 = ibv_reg_dmabuf_mr(p.pd0, 0, r.length, IOVA, buf2, ACCESS);
		tap_result(mr2 != NULL, "%s: re-registration after revoke: %s",
			   name, mr2 ? "ok" : strerror(errno));
		if (mr2)
			ibv_dereg_mr(mr2);
		close(buf2);
	}
	ibv_dereg_mr(s.hmr);
	ibv_dereg_mr(s.mr);
	pair_fini(&p);
	close(buf);
	free(snap);
	free(again);
	free(s.host);
}

/* Wait up to @ms for a completion on @ep: its status, or -ETIMEDOUT. */
static int ep_wait_ms(struct ep *ep, struct ibv_wc *wc, int ms)
{
	int n;

	for (; ms >= 0; ms--) {
		n = ibv_poll_cq(ep->cq, 1, wc);
		if (n < 0)
			return -EIO;
		if (n == 1)
			return wc->status;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

static const char *wc_str(int st)
{
	return st >= 0 ? ibv_wc_status_str(st) : strerror(-st);
}

/* New QPs on the same PDs (an error moved the old ones to the error state). */
static int contract_reconnect(struct pair *p, const char *name)
{
	int ret;

	pair_disconnect(p);
	ret = pair_connect(p, 0, PEER_SEND_OPS);
	if (ret)
		tap_result(0, "%s: new QPs: %s", name, strerror(-ret));
	return ret;
}

/*
 * At the MR's side of a remote operation the QP moved to the error state:
 * the one receive posted there (its only work request) completes flushed,
 * and nothing else completes.
 */
static int contract_flushed_recv(struct pair *p)
{
	struct ibv_wc wc;
	int st = ep_wait_ms(&p->local, &wc, 2000);

	if (st == IBV_WC_WR_FLUSH_ERR && ep_wait_ms(&p->local, &wc, 200) !=
	    -ETIMEDOUT)
		return -EEXIST;	/* a second completion */
	return st;
}

#define CONTRACT_BAR	(40 * MiB)	/* the region (not the revoke tests') */
#define CONTRACT_LEN	(64 * KiB)
#define CONTRACT_SZ	(4 * KiB)	/* bytes per operation */

/*
 * The revoke contract of docs/importer.md, one cell per operation and side:
 * after a reset revoked the buffer, each operation that touches the MR
 * completes with the status documented there, on fresh QPs (each error
 * moves its QP to the error state), and no byte of the region changes.
 * "Remote": the peer (rxe1) names the MR by rkey, or SENDs into a receive
 * buffer of the MR.  "Local": a work request of the MR's own QP (rxe0)
 * names it by lkey.  Before the revoke, the same WRITE succeeds.
 */
static void test_revoke_contract(void)
{
	struct p2pmr_range r = { CONTRACT_BAR, CONTRACT_LEN };
	const char *name = "revoke-contract";
	struct ibv_mr *mr, *hmr0, *hmr1;
	uint8_t *h0, *h1, *snap = NULL;
	uint64_t *w1;
	struct ibv_wc wc;
	struct pair p = { 0 };
	int buf, st, st2, ret;
	size_t i;

	buf = export(1, &r);
	p.pd0 = ibv_alloc_pd(ctx0);
	p.pd1 = ibv_alloc_pd(ctx1);
	h0 = aligned_alloc(4096, CONTRACT_SZ);
	h1 = aligned_alloc(4096, CONTRACT_SZ);
	mr = buf < 0 ? NULL :
	     ibv_reg_dmabuf_mr(p.pd0, 0, r.length, IOVA, buf, ACCESS);
	hmr0 = ibv_reg_mr(p.pd0, h0, CONTRACT_SZ, ACCESS);
	hmr1 = ibv_reg_mr(p.pd1, h1, CONTRACT_SZ, ACCESS);
	if (!mr || !hmr0 || !hmr1 || pair_connect(&p, 0, PEER_SEND_OPS)) {
		tap_result(0, "%s: setup (export %d): %s", name, buf,
			   strerror(errno));
		goto out;
	}
	w1 = (uint64_t *)h1;

	memset(h1, 0x11, CONTRACT_SZ);
	st = ep_do(&p.peer, IBV_WR_RDMA_WRITE, h1, CONTRACT_SZ, hmr1->lkey,
		   IOVA, mr->rkey);
	tap_result(st == IBV_WC_SUCCESS && bar[CONTRACT_BAR] == 0x11,
		   "%s: before the revoke, RDMA WRITE into the MR succeeds (%s)",
		   name, wc_str(st));

	ret = ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_RESET) ? -errno : 0;
	tap_result(!ret, "%s: device reset (%s)", name, strerror(-ret));
	snap = malloc(r.length);
	for (i = 0; i < r.length; i++)
		snap[i] = bar[r.offset + i];

	/* Remote WRITE, then a WRITE to host memory: that one is flushed. */
	if (contract_reconnect(&p, name))
		goto out;
	memset(h1, 0x22, CONTRACT_SZ);
	st = ep_recv(&p.local, h0, CONTRACT_SZ, hmr0->lkey);
	if (!st)
		st = ep_post(&p.peer, IBV_WR_RDMA_WRITE, h1, CONTRACT_SZ,
			     hmr1->lkey, IOVA, mr->rkey);
	if (!st)
		st = ep_post(&p.peer, IBV_WR_RDMA_WRITE, h1, CONTRACT_SZ,
			     hmr1->lkey, (uintptr_t)h0, hmr0->rkey);
	if (!st)
		st = ep_wait(&p.peer, NULL);
	st2 = st < 0 ? st : ep_wait(&p.peer, NULL);
	ret = contract_flushed_recv(&p);
	tap_result(st == IBV_WC_REM_ACCESS_ERR && st2 == IBV_WC_WR_FLUSH_ERR &&
		   ret == IBV_WC_WR_FLUSH_ERR,
		   "%s: remote RDMA WRITE into the MR: REM_ACCESS_ERR, the next work request WR_FLUSH_ERR; at the MR's side only the posted receive, flushed (%s, %s, %s)",
		   name, wc_str(st), wc_str(st2), wc_str(ret));

	if (contract_reconnect(&p, name))
		goto out;
	memset(h1, 0x33, CONTRACT_SZ);
	st = ep_recv(&p.local, h0, CONTRACT_SZ, hmr0->lkey);
	if (!st)
		st = ep_do(&p.peer, IBV_WR_RDMA_READ, h1, CONTRACT_SZ,
			   hmr1->lkey, IOVA, mr->rkey);
	ret = contract_flushed_recv(&p);
	tap_result(st == IBV_WC_REM_ACCESS_ERR && h1[0] == 0x33 &&
		   h1[CONTRACT_SZ - 1] == 0x33 && ret == IBV_WC_WR_FLUSH_ERR,
		   "%s: remote RDMA READ from the MR: REM_ACCESS_ERR, the reader's buffer untouched; at the MR's side only the posted receive, flushed (%s, %s)",
		   name, wc_str(st), wc_str(ret));

	if (contract_reconnect(&p, name))
		goto out;
	st = ep_atomic(&p.peer, IBV_WR_ATOMIC_FETCH_AND_ADD, w1, hmr1->lkey,
		       IOVA + 64, mr->rkey, 1, 0);
	tap_result(st == IBV_WC_REM_ACCESS_ERR,
		   "%s: remote FETCH_ADD on the MR: REM_ACCESS_ERR (%s)",
		   name, wc_str(st));

	if (contract_reconnect(&p, name))
		goto out;
	st = ep_atomic(&p.peer, IBV_WR_ATOMIC_CMP_AND_SWP, w1, hmr1->lkey,
		       IOVA + 64, mr->rkey, 0, 1);
	tap_result(st == IBV_WC_REM_ACCESS_ERR,
		   "%s: remote CMP_SWAP on the MR: REM_ACCESS_ERR (%s)",
		   name, wc_str(st));

	if (contract_reconnect(&p, name))
		goto out;
	st = ep_atomic_write(&p.peer, IOVA + 64, mr->rkey, 0x4444444444444444ULL);
	tap_result(st == IBV_WC_REM_ACCESS_ERR,
		   "%s: remote ATOMIC_WRITE on the MR: REM_ACCESS_ERR (%s)",
		   name, wc_str(st));

	/* A SEND into a receive buffer of the MR. */
	if (contract_reconnect(&p, name))
		goto out;
	st = ep_recv(&p.local, (void *)(uintptr_t)IOVA, CONTRACT_SZ, mr->lkey);
	if (!st)
		st = ep_do(&p.peer, IBV_WR_SEND, h1, CONTRACT_SZ, hmr1->lkey,
			   0, 0);
	st2 = ep_wait_ms(&p.local, &wc, 2000);
	tap_result(st == IBV_WC_REM_OP_ERR && st2 == IBV_WC_LOC_PROT_ERR,
		   "%s: SEND into a receive buffer of the MR: the sender REM_OP_ERR, the receive LOC_PROT_ERR (%s, %s)",
		   name, wc_str(st), wc_str(st2));

	/* Local: SEND from the MR, then a SEND from host memory (flushed). */
	if (contract_reconnect(&p, name))
		goto out;
	st = ep_recv(&p.peer, h1, CONTRACT_SZ, hmr1->lkey);
	if (!st)
		st = ep_post(&p.local, IBV_WR_SEND, (void *)(uintptr_t)IOVA,
			     CONTRACT_SZ, mr->lkey, 0, 0);
	if (!st)
		st = ep_post(&p.local, IBV_WR_SEND, h0, CONTRACT_SZ,
			     hmr0->lkey, 0, 0);
	if (!st)
		st = ep_wait(&p.local, NULL);
	st2 = st < 0 ? st : ep_wait(&p.local, NULL);
	ret = ep_wait_ms(&p.peer, &wc, 200);
	tap_result(st == IBV_WC_LOC_PROT_ERR && st2 == IBV_WC_WR_FLUSH_ERR &&
		   ret == -ETIMEDOUT,
		   "%s: SEND from the MR: LOC_PROT_ERR, the next work request WR_FLUSH_ERR, nothing received (%s, %s, peer %s)",
		   name, wc_str(st), wc_str(st2), wc_str(ret));

	if (contract_reconnect(&p, name))
		goto out;
	memset(h1, 0x55, CONTRACT_SZ);
	st = ep_do(&p.local, IBV_WR_RDMA_WRITE, (void *)(uintptr_t)IOVA,
		   CONTRACT_SZ, mr->lkey, (uintptr_t)h1, hmr1->rkey);
	tap_result(st == IBV_WC_LOC_PROT_ERR && h1[0] == 0x55 &&
		   h1[CONTRACT_SZ - 1] == 0x55,
		   "%s: RDMA WRITE from the MR: LOC_PROT_ERR, the target untouched (%s)",
		   name, wc_str(st));

	if (contract_reconnect(&p, name))
		goto out;
	st = ep_do(&p.local, IBV_WR_RDMA_READ, (void *)(uintptr_t)IOVA,
		   CONTRACT_SZ, mr->lkey, (uintptr_t)h1, hmr1->rkey);
	tap_result(st == IBV_WC_LOC_PROT_ERR,
		   "%s: RDMA READ into the MR: LOC_PROT_ERR (%s)",
		   name, wc_str(st));

	/*
	 * An atomic whose result goes into the MR: the responder executes
	 * it (the error is found when the result comes back), as for any
	 * local protection error of an atomic's result buffer.
	 */
	if (contract_reconnect(&p, name))
		goto out;
	w1[0] = 5;
	st = ep_atomic(&p.local, IBV_WR_ATOMIC_FETCH_AND_ADD,
		       (uint64_t *)(uintptr_t)IOVA, mr->lkey, (uintptr_t)h1,
		       hmr1->rkey, 1, 0);
	tap_result(st == IBV_WC_LOC_PROT_ERR,
		   "%s: FETCH_ADD with its result into the MR: LOC_PROT_ERR (%s; the remote word is now %llu)",
		   name, wc_str(st), (unsigned long long)w1[0]);

	for (i = 0; i < r.length && snap[i] == bar[r.offset + i]; i++)
		;
	tap_result(i == r.length,
		   "%s: no byte of the region changed after the revoke (first difference at %zu)",
		   name, i);

out:
	pair_disconnect(&p);
	if (hmr0)
		ibv_dereg_mr(hmr0);
	if (hmr1)
		ibv_dereg_mr(hmr1);
	if (mr)
		ibv_dereg_mr(mr);
	pair_fini(&p);
	if (buf >= 0)
		close(buf);
	free(snap);
	free(h0);
	free(h1);
}

/* Close things in every order; the kernel log must stay clean. */
static void test_chaos(void)
{
	struct p2pmr_range r = { 8 * MiB, 64 * KiB };
	static const char *const orders[] = {
		"mr pd buf dev", "buf mr pd dev", "dev buf mr pd",
		"pd-first buf mr dev", "buf dev pd mr",
	};
	int k;

	for (k = 0; k < 5; k++) {
		struct ibv_pd *pd = ibv_alloc_pd(ctx0);
		int buf = export(1, &r);
		struct ibv_mr *mr = ibv_reg_dmabuf_mr(pd, 0, r.length, IOVA,
						      buf, ACCESS);
		int ok = mr != NULL;

		switch (k) {
		case 0:
			ok &= !ibv_dereg_mr(mr);
			ok &= !ibv_dealloc_pd(pd);
			close(buf);
			break;
		case 1:
			close(buf);
			ok &= !ibv_dereg_mr(mr);
			ok &= !ibv_dealloc_pd(pd);
			break;
		case 2:
			p2pmr_dev_close(dev);
			close(buf);
			ok &= !ibv_dereg_mr(mr);
			ok &= !ibv_dealloc_pd(pd);
			break;
		case 3:
			/* A PD with an MR cannot go: EBUSY, then fine. */
			ok &= ibv_dealloc_pd(pd) == EBUSY;
			close(buf);
			ok &= !ibv_dereg_mr(mr);
			ok &= !ibv_dealloc_pd(pd);
			break;
		case 4:
			close(buf);
			p2pmr_dev_close(dev);
			/* The MR still holds the PD, revoked or not. */
			ok &= ibv_dealloc_pd(pd) == EBUSY;
			ok &= !ibv_dereg_mr(mr);
			ok &= !ibv_dealloc_pd(pd);
			break;
		}
		if (k == 2 || k == 4) {
			dev = NULL;
			if (p2pmr_dev_open(bdf, &dev))
				ok = 0;
		}
		tap_result(ok, "close order %s", orders[k]);
	}

	/* kill -9 of a process holding device, dma-buf and MR. */
	{
		pid_t pid;
		int st, pfd[2];
		char c = 0;

		p2pmr_dev_close(dev);
		dev = NULL;
		pipe(pfd);
		pid = fork();
		if (!pid) {
			struct ibv_context *c0 = ep_open_dev("rxe0");
			struct p2pmr_dev *d;
			struct ibv_pd *pd;
			int b;

			if (!c0 || p2pmr_dev_open(bdf, &d))
				_exit(1);
			dev = d;
			pd = ibv_alloc_pd(c0);
			b = export(1, &r);
			if (!ibv_reg_dmabuf_mr(pd, 0, r.length, IOVA, b, ACCESS))
				_exit(1);
			write(pfd[1], "x", 1);
			pause();
			_exit(0);
		}
		read(pfd[0], &c, 1);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		tap_result(c == 'x' && WIFSIGNALED(st),
			   "kill -9 of a process holding device, dma-buf and MR");
		tap_result(!p2pmr_dev_open(bdf, &dev), "device reopens after kill -9");
		close(pfd[0]);
		close(pfd[1]);
	}
}

/* Any CPU-accessible dma-buf works: a udmabuf over a memfd. */
/*
 * The rest of the data path on a system-memory dma-buf MR (the umem's
 * non-iomem branches): READ, SEND into and from it, FETCH_ADD carrying
 * across bit 32 and CMP_SWAP, each checked in the memfd's mapping @mem.
 */
static void test_udmabuf_more(struct pair *p, struct ibv_mr *mr,
			      struct ibv_mr *hmr, uint8_t *host, uint8_t *mem)
{
	volatile uint64_t *word = (volatile uint64_t *)(mem + 256 * KiB);
	uint64_t *res = (uint64_t *)host;
	int ret;

	pattern_fill(mem + 64 * KiB, 8192, 98, 0);
	memset(host, 0, 8192);
	ret = ep_do(&p->peer, IBV_WR_RDMA_READ, host, 8192, hmr->lkey,
		    IOVA + 64 * KiB, mr->rkey);
	tap_result(!ret && pattern_check(host, 8192, 98, 0) < 0,
		   "udmabuf: RDMA READ returns the memfd's bytes (status %d)", ret);

	pattern_fill(host, 8192, 97, 0);
	ret = ep_recv(&p->local, (void *)(uintptr_t)(IOVA + 128 * KiB), 8192,
		      mr->lkey);
	if (!ret)
		ret = ep_do(&p->peer, IBV_WR_SEND, host, 8192, hmr->lkey, 0, 0);
	if (!ret)
		ret = ep_wait(&p->local, NULL);
	tap_result(!ret && pattern_check(mem + 128 * KiB, 8192, 97, 0) < 0,
		   "udmabuf: SEND received into the MR (status %d)", ret);

	pattern_fill(mem + 192 * KiB, 8192, 96, 0);
	memset(host, 0, 8192);
	ret = ep_recv(&p->peer, host, 8192, hmr->lkey);
	if (!ret)
		ret = ep_do(&p->local, IBV_WR_SEND,
			    (void *)(uintptr_t)(IOVA + 192 * KiB), 8192,
			    mr->lkey, 0, 0);
	if (!ret)
		ret = ep_wait(&p->peer, NULL);
	tap_result(!ret && pattern_check(host, 8192, 96, 0) < 0,
		   "udmabuf: SEND from the MR (status %d)", ret);

	*word = 0xffffffffULL;
	*res = 0;
	ret = ep_atomic(&p->peer, IBV_WR_ATOMIC_FETCH_AND_ADD, res, hmr->lkey,
			IOVA + 256 * KiB, mr->rkey, 1, 0);
	tap_result(!ret && *res == 0xffffffffULL && *word == 0x100000000ULL,
		   "udmabuf: FETCH_ADD carries across bit 32 (status %d, was %#llx, now %#llx)",
		   ret, (unsigned long long)*res, (unsigned long long)*word);
	ret = ep_atomic(&p->peer, IBV_WR_ATOMIC_CMP_AND_SWP, res, hmr->lkey,
			IOVA + 256 * KiB, mr->rkey, 0x100000000ULL, 7);
	tap_result(!ret && *res == 0x100000000ULL && *word == 7,
		   "udmabuf: CMP_SWAP swaps on a match (status %d, now %#llx)",
		   ret, (unsigned long long)*word);
}

static void test_udmabuf(void)
{
	struct udmabuf_create c = { .size = 1 * MiB };
	struct pair p;
	struct ibv_mr *mr, *hmr;
	uint8_t *mem, *host;
	int memfd, ufd, buf, ret;

	memfd = memfd_create("p2pmr", MFD_ALLOW_SEALING);
	ftruncate(memfd, c.size);
	fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK);
	c.memfd = memfd;
	ufd = open("/dev/udmabuf", O_RDWR);
	buf = ufd < 0 ? -errno : ioctl(ufd, UDMABUF_CREATE, &c);
	if (buf < 0) {
		tap_result(0, "udmabuf: create (%s)", strerror(errno));
		return;
	}
	mem = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	pair_init(&p, 0);
	mr = ibv_reg_dmabuf_mr(p.pd0, 0, c.size, IOVA, buf, ACCESS);
	tap_result(mr != NULL, "udmabuf: ibv_reg_dmabuf_mr: %s",
		   mr ? "ok" : strerror(errno));
	host = aligned_alloc(4096, 8192);
	pattern_fill(host, 8192, 99, 0);
	hmr = ibv_reg_mr(p.pd1, host, 8192, ACCESS);
	ret = mr ? ep_do(&p.peer, IBV_WR_RDMA_WRITE, host, 8192, hmr->lkey,
			 IOVA + 4096, mr->rkey) : -1;
	tap_result(!ret && pattern_check(mem + 4096, 8192, 99, 0) < 0,
		   "udmabuf: RDMA WRITE lands in the memfd (status %d)", ret);
	if (mr)
		test_udmabuf_more(&p, mr, hmr, host, mem);
	if (mr)
		ibv_dereg_mr(mr);
	ibv_dereg_mr(hmr);
	pair_fini(&p);
	close(buf);
	close(ufd);
	close(memfd);
	free(host);
}

/* A dma-buf without CPU access (upstream vfio-pci): a clean EOPNOTSUPP. */
#define NOCPU_BURST 200

static void test_nocpu(void)
{
	struct p2pmr_range r = { 0, 64 * KiB };
	struct ibv_pd *pd = ibv_alloc_pd(ctx0);
	int buf = export(1, &r), i, refused;
	struct ibv_mr *mr;

	mr = ibv_reg_dmabuf_mr(pd, 0, r.length, IOVA, buf, ACCESS);
	tap_result(!mr && errno == EOPNOTSUPP,
		   "dma-buf without CPU access refused with EOPNOTSUPP (%s)",
		   mr ? "registered!" : strerror(errno));
	if (mr)
		ibv_dereg_mr(mr);
	/*
	 * Any user can ask again and again: the kernel's message about it
	 * must be ratelimited (tests/cases/importer-rxe-nocpu.sh counts them).
	 */
	for (i = 0, refused = 0; i < NOCPU_BURST; i++) {
		mr = ibv_reg_dmabuf_mr(pd, 0, r.length, IOVA, buf, ACCESS);
		if (mr)
			ibv_dereg_mr(mr);
		else if (errno == EOPNOTSUPP)
			refused++;
	}
	tap_result(refused == NOCPU_BURST,
		   "%d more registrations refused with EOPNOTSUPP (%d)",
		   NOCPU_BURST, refused);
	ibv_dealloc_pd(pd);
	close(buf);
}

/* The 8-byte words of test_atomic, at these offsets into its MR. */
#define ATOM_BAR	(24 * MiB)	/* the MR's first byte in the BAR */
#define ATOM_CARRY	0	/* FETCH_ADD carrying across bit 32 */
#define ATOM_CAS	8	/* CMP_SWAP */
#define ATOM_AWRITE	16	/* ATOMIC_WRITE */
#define ATOM_FAA_RUN	24	/* a run of FETCH_ADDs, watched */
#define ATOM_CAS_RUN	32	/* a run of CMP_SWAPs, watched */
#define ATOM_READ_RUN	48	/* FETCH_ADD 0 while the CPU rewrites it */
#define ATOM_RUN	1000	/* operations per run */
#define HALVES(v)	((uint64_t)(uint32_t)(v) * 0x100000001ULL)

struct watcher {
	volatile uint64_t *word;
	volatile int stop;
	long reads, torn;
	uint64_t example;
	int write;		/* rewrite the word instead of watching it */
};

/*
 * Watch an 8-byte BAR word with 8-byte loads: every value written to it by
 * the runs below has equal halves, so a value with unequal halves is a torn
 * write (two 4-byte stores seen half done).  With @write, store such values
 * instead, for the responder's reads to tear on.
 */
static void *watch(void *arg)
{
	struct watcher *w = arg;
	uint64_t v, i = 0;

	while (!w->stop) {
		/* Leave the CPU to rxe now and then: its acks must not time out. */
		if (!(++i % 4096))
			sched_yield();
		if (w->write) {
			*w->word = (i & 1) ? ~0ULL : 0;
			continue;
		}
		v = *w->word;
		w->reads++;
		if ((uint32_t)v != (uint32_t)(v >> 32)) {
			if (!w->torn)
				w->example = v;
			w->torn++;
		}
	}
	return NULL;
}

static void watch_start(struct watcher *w, pthread_t *th,
			volatile uint64_t *word, int write)
{
	memset(w, 0, sizeof(*w));
	w->word = word;
	w->write = write;
	pthread_create(th, NULL, watch, w);
}

static void watch_stop(struct watcher *w, pthread_t th)
{
	w->stop = 1;
	pthread_join(th, NULL);
}

/*
 * Atomics on a dma-buf MR over the BAR must be single-copy atomic (8-byte
 * accesses), as a device or a CPU reading the BAR sees them: a FETCH_ADD
 * that carries across bit 32, CMP_SWAP (hit and miss), ATOMIC_WRITE, then
 * runs of FETCH_ADD and CMP_SWAP while a CPU thread watches the word for
 * torn values, a run of FETCH_ADD 0 while the CPU rewrites the word (torn
 * reads), and a misaligned FETCH_ADD.  The
 * final values stay in the BAR for the host (tests/cases/importer-rxe-atomic.sh).
 */
static void test_atomic(void)
{
	struct p2pmr_range r = { ATOM_BAR, 64 * KiB };
	volatile uint64_t *w = (volatile uint64_t *)(bar + ATOM_BAR);
	struct ibv_mr *mr, *hmr;
	struct watcher wt;
	uint64_t *res, v;
	struct pair p;
	pthread_t th;
	int buf, ret, i, bad;

	buf = export(1, &r);
	if (buf < 0 || pair_init_ex(&p, 0, PEER_SEND_OPS)) {
		tap_result(0, "atomic: setup (export %d)", buf);
		return;
	}
	/*
	 * A longer ack timeout (about 4.3 s, not 17 ms) for the runs: under
	 * TCG, with a CPU thread spinning, an ack can be late.  0.27 s was
	 * not enough on the debug kernel (7.3-debug: RETRY_EXC_ERR after 170
	 * FETCH_ADDs on 2026-12-03); the test is of atomicity, not of time.
	 */
	{
		struct ibv_qp_attr a = { .qp_state = IBV_QPS_RTS, .timeout = 20 };

		ibv_modify_qp(p.peer.qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT);
	}
	mr = ibv_reg_dmabuf_mr(p.pd0, 0, r.length, IOVA, buf, ACCESS);
	res = aligned_alloc(4096, 4096);
	hmr = ibv_reg_mr(p.pd1, res, 4096, ACCESS);
	if (!mr || !hmr) {
		tap_result(0, "atomic: registration: %s", strerror(errno));
		return;
	}
	for (i = 0; i < 8; i++)
		w[i] = 0;

	w[ATOM_CARRY / 8] = 0xffffffffULL;
	ret = ep_atomic(&p.peer, IBV_WR_ATOMIC_FETCH_AND_ADD, res, hmr->lkey,
			IOVA + ATOM_CARRY, mr->rkey, 1, 0);
	v = w[ATOM_CARRY / 8];
	tap_result(!ret && *res == 0xffffffffULL && v == 0x100000000ULL,
		   "atomic: FETCH_ADD carries across bit 32 (status %d, orig %#llx, now %#llx)",
		   ret, (unsigned long long)*res, (unsigned long long)v);

	w[ATOM_CAS / 8] = 0x1111111122222222ULL;
	ret = ep_atomic(&p.peer, IBV_WR_ATOMIC_CMP_AND_SWP, res, hmr->lkey,
			IOVA + ATOM_CAS, mr->rkey, 0x1111111122222222ULL,
			0x3333333344444444ULL);
	v = w[ATOM_CAS / 8];
	tap_result(!ret && *res == 0x1111111122222222ULL &&
		   v == 0x3333333344444444ULL,
		   "atomic: CMP_SWAP that matches swaps (status %d, orig %#llx, now %#llx)",
		   ret, (unsigned long long)*res, (unsigned long long)v);
	ret = ep_atomic(&p.peer, IBV_WR_ATOMIC_CMP_AND_SWP, res, hmr->lkey,
			IOVA + ATOM_CAS, mr->rkey, 0x1111111122222222ULL,
			0x5555555566666666ULL);
	v = w[ATOM_CAS / 8];
	tap_result(!ret && *res == 0x3333333344444444ULL &&
		   v == 0x3333333344444444ULL,
		   "atomic: CMP_SWAP that does not match leaves the word (status %d, orig %#llx, now %#llx)",
		   ret, (unsigned long long)*res, (unsigned long long)v);

	ret = ep_atomic_write(&p.peer, IOVA + ATOM_AWRITE, mr->rkey,
			      0x5555555566666666ULL);
	v = w[ATOM_AWRITE / 8];
	tap_result(!ret && v == 0x5555555566666666ULL,
		   "atomic: ATOMIC_WRITE (status %d, now %#llx)", ret,
		   (unsigned long long)v);

	/* Runs, watched by a CPU thread for torn writes. */
	watch_start(&wt, &th, &w[ATOM_FAA_RUN / 8], 0);
	for (i = 0, ret = 0; i < ATOM_RUN && !ret; i++)
		ret = ep_atomic(&p.peer, IBV_WR_ATOMIC_FETCH_AND_ADD, res,
				hmr->lkey, IOVA + ATOM_FAA_RUN, mr->rkey,
				0x100000001ULL, 0);
	watch_stop(&wt, th);
	v = w[ATOM_FAA_RUN / 8];
	tap_result(!ret && v == HALVES(ATOM_RUN) && !wt.torn,
		   "atomic: %d FETCH_ADDs of 0x100000001, no torn value in %ld CPU reads (status %d, now %#llx, %ld torn, e.g. %#llx)",
		   i, wt.reads, ret, (unsigned long long)v, wt.torn,
		   (unsigned long long)wt.example);

	watch_start(&wt, &th, &w[ATOM_CAS_RUN / 8], 0);
	for (i = 0, ret = 0; i < ATOM_RUN && !ret; i++)
		ret = ep_atomic(&p.peer, IBV_WR_ATOMIC_CMP_AND_SWP, res,
				hmr->lkey, IOVA + ATOM_CAS_RUN, mr->rkey,
				HALVES(i), HALVES(i + 1));
	watch_stop(&wt, th);
	v = w[ATOM_CAS_RUN / 8];
	tap_result(!ret && v == HALVES(ATOM_RUN) && !wt.torn,
		   "atomic: %d CMP_SWAPs, no torn value in %ld CPU reads (status %d, now %#llx, %ld torn, e.g. %#llx)",
		   i, wt.reads, ret, (unsigned long long)v, wt.torn,
		   (unsigned long long)wt.example);

	/* The responder's read of the word must not tear either. */
	watch_start(&wt, &th, &w[ATOM_READ_RUN / 8], 1);
	for (i = 0, ret = 0, bad = 0; i < ATOM_RUN && !ret; i++) {
		ret = ep_atomic(&p.peer, IBV_WR_ATOMIC_FETCH_AND_ADD, res,
				hmr->lkey, IOVA + ATOM_READ_RUN, mr->rkey, 0, 0);
		if ((uint32_t)*res != (uint32_t)(*res >> 32))
			bad++;
	}
	watch_stop(&wt, th);
	w[ATOM_READ_RUN / 8] = 0x7777777788888888ULL;
	tap_result(!ret && !bad,
		   "atomic: %d FETCH_ADDs of 0 while the CPU rewrites the word, no torn result (status %d, %d torn)",
		   i, ret, bad);

	/*
	 * A misaligned atomic is refused (IBA A19.4.2).  rxe's requester
	 * already refuses to post it (EINVAL); a requester that sends it gets
	 * the responder's NAK (IBV_WC_REM_INV_REQ_ERR), which ends the QP.
	 * (uverbs makes a dma-buf MR's iova and offset share their page
	 * offset, so an aligned iova always names an aligned word.)
	 */
	ret = ep_atomic(&p.peer, IBV_WR_ATOMIC_FETCH_AND_ADD, res, hmr->lkey,
			IOVA + 4, mr->rkey, 1, 0);
	tap_result(ret == -EINVAL || ret == IBV_WC_REM_INV_REQ_ERR,
		   "atomic: FETCH_ADD on an iova 4 bytes past alignment refused (%s)",
		   ret > 0 ? ibv_wc_status_str(ret) :
		   ret ? strerror(-ret) : "success");
	/*
	 * rxe's provider does not check an ATOMIC_WRITE's alignment, so this
	 * one reaches the responder, which must NAK it without writing (the
	 * host checks the word at +0 afterwards).
	 */
	ret = ep_atomic_write(&p.peer, IOVA + 4, mr->rkey, ~0ULL);
	tap_result(ret == IBV_WC_REM_INV_REQ_ERR,
		   "atomic: ATOMIC_WRITE on an iova 4 bytes past alignment: the responder's NAK, REM_INV_REQ_ERR (%s)",
		   ret > 0 ? ibv_wc_status_str(ret) :
		   ret ? strerror(-ret) : "success");
	ibv_dereg_mr(mr);
	ibv_dereg_mr(hmr);
	pair_fini(&p);
	close(buf);
	free(res);
}

/*
 * ibv_advise_mr() prefetches only make sense for on-demand-paging MRs:
 * a dma-buf MR and a plain MR must be refused, synchronously (FLUSH) and
 * not, with EINVAL from a driver that implements advise_mr, EOPNOTSUPP from
 * one that does not (6.12's rxe).  An ODP MR, where the driver has them,
 * is prefetched.
 */
static void test_advise(void)
{
	struct p2pmr_range r = { 0, 64 * KiB };
	static const struct { enum ibv_advise_mr_advice advice; uint32_t flags;
			      const char *name; } adv[] = {
		{ IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, IBV_ADVISE_MR_FLAG_FLUSH,
		  "PREFETCH_WRITE, FLUSH" },
		{ IBV_ADVISE_MR_ADVICE_PREFETCH, 0, "PREFETCH, async" },
	};
	struct ibv_pd *pd = ibv_alloc_pd(ctx0);
	struct ibv_mr *mr[3];
	const char *what[3] = { "dma-buf MR", "plain MR", "ODP MR" };
	int buf = export(1, &r), want, ret;
	struct utsname u;
	void *host;
	size_t k, a;

	uname(&u);
	want = !strncmp(u.release, "6.12.", 5) ? EOPNOTSUPP : EINVAL;
	host = aligned_alloc(4096, r.length);
	memset(host, 0, r.length);
	mr[0] = ibv_reg_dmabuf_mr(pd, 0, r.length, IOVA, buf, ACCESS);
	mr[1] = ibv_reg_mr(pd, host, r.length, ACCESS);
	mr[2] = ibv_reg_mr(pd, host, r.length, ACCESS | IBV_ACCESS_ON_DEMAND);
	if (!mr[2])
		printf("# ODP MR: %s\n", strerror(errno));
	tap_result(mr[0] && mr[1], "advise: registration of a dma-buf MR (%s) and a plain MR (%s)",
		   mr[0] ? "ok" : "failed", mr[1] ? "ok" : "failed");
	for (k = 0; k < 3; k++) {
		for (a = 0; a < 2 && mr[k]; a++) {
			struct ibv_sge sge = { mr[k]->addr ?
					       (uintptr_t)mr[k]->addr : IOVA,
					       4096, mr[k]->lkey };

			if (k == 0)
				sge.addr = IOVA;
			ret = ibv_advise_mr(pd, adv[a].advice, adv[a].flags,
					    &sge, 1);
			if (k < 2)
				tap_result(ret == want,
					   "advise: %s on a %s refused with %s (%s)",
					   adv[a].name, what[k], strerror(want),
					   ret ? strerror(ret) : "accepted");
			else
				tap_result(ret == 0 || ret == EOPNOTSUPP,
					   "advise: %s on an ODP MR: %s",
					   adv[a].name, ret ? strerror(ret) : "ok");
		}
		if (!mr[k])
			printf("# no %s here, skipped\n", what[k]);
	}
	usleep(200000);	/* let an async prefetch run before the MRs go */
	for (k = 0; k < 3; k++)
		if (mr[k])
			ibv_dereg_mr(mr[k]);
	ibv_dealloc_pd(pd);
	close(buf);
	free(host);
}

struct registrar {
	struct ibv_pd *pd;
	int buf, cpu;
	volatile int stop;
	long ok, failed, other;
	int last_errno;
};

/* Register and deregister the dma-buf in a loop, on one CPU. */
static void *register_loop(void *arg)
{
	struct registrar *g = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(g->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (!g->stop) {
		struct ibv_mr *mr = ibv_reg_dmabuf_mr(g->pd, 0, 64 * KiB, IOVA,
						      g->buf, ACCESS);

		if (mr) {
			g->ok++;
			ibv_dereg_mr(mr);
		} else if (errno == ENODEV || errno == EFAULT ||
			   errno == EBUSY || errno == EIO) {
			g->failed++;
			g->last_errno = errno;
		} else {
			g->other++;
			g->last_errno = errno;
		}
	}
	return NULL;
}

/*
 * Device resets racing a stream of registrations of one dma-buf: an
 * invalidation may arrive while the attachment is being set up.  The
 * kernel must survive (the VM runner fails the case on an oops), and both
 * outcomes happen: registrations that succeed, and ones refused because
 * the buffer was revoked.
 */
static void test_reg_race(int seconds)
{
	struct p2pmr_range r = { 32 * MiB, 64 * KiB };
	struct registrar g[2];
	pthread_t th[2];
	struct timespec t0, t;
	long resets = 0, ok = 0, failed = 0, other = 0;
	cpu_set_t set;
	int buf, k, err = 0;

	buf = export(1, &r);
	if (buf < 0) {
		tap_result(0, "reg-race: export: %d", buf);
		return;
	}
	for (k = 0; k < 2; k++) {
		memset(&g[k], 0, sizeof(g[k]));
		g[k].pd = ibv_alloc_pd(ctx0);
		g[k].buf = buf;
		g[k].cpu = k;
		pthread_create(&th[k], NULL, register_loop, &g[k]);
	}
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_RESET))
			err = errno;
		else
			resets++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < seconds);
	for (k = 0; k < 2; k++) {
		g[k].stop = 1;
		pthread_join(th[k], NULL);
		ok += g[k].ok;
		failed += g[k].failed;
		other += g[k].other;
		if (g[k].other)
			err = g[k].last_errno;
		ibv_dealloc_pd(g[k].pd);
	}
	tap_result(resets > 0 && ok > 0 && !other,
		   "reg-race: %ld resets against %ld registrations (%ld refused as revoked, %ld other errors%s%s)",
		   resets, ok + failed + other, failed, other,
		   err ? ": " : "", err ? strerror(err) : "");
	close(buf);
}

/* BAR regions of the tests below (not used by the others). */
#define SHARED_BAR	(48 * MiB)
#define MULTI_BAR	(52 * MiB)
#define QPT_BAR		(56 * MiB)
#define TRAFFIC_LEN	(4 * KiB)

struct traffic {
	struct ep *ep;		/* the peer QP that carries it */
	struct ibv_mr *mr;	/* the dma-buf MR it goes to */
	uint64_t iova;		/* where in @mr */
	uint64_t bar_off;	/* the BAR offset of @iova */
	struct ibv_mr *hmr;	/* host memory, 2 * TRAFFIC_LEN at @host */
	uint8_t *host;
	uint64_t seed;
	long max_rounds;	/* 0: until @stop */
	uint64_t atom_iova;	/* with @atomics: FETCH_ADD 1 there */
	int atomics;		/* FETCH_ADDs per round */
	volatile int stop;
	long rounds;
	int status;		/* the first failure: a status, -EIO for data */
};

/*
 * Rounds of: WRITE a new pattern into the MR from host memory, READ it
 * back, compare; and @atomics FETCH_ADDs of 1 on a shared word.
 */
static void *traffic_loop(void *arg)
{
	struct traffic *t = arg;
	uint8_t *back = t->host + TRAFFIC_LEN;
	int i;

	while (!t->stop && !t->status &&
	       (!t->max_rounds || t->rounds < t->max_rounds)) {
		uint64_t seed = t->seed + t->rounds;

		pattern_fill(t->host, TRAFFIC_LEN, seed, t->bar_off);
		t->status = ep_do(t->ep, IBV_WR_RDMA_WRITE, t->host,
				  TRAFFIC_LEN, t->hmr->lkey, t->iova,
				  t->mr->rkey);
		memset(back, 0, TRAFFIC_LEN);
		if (!t->status)
			t->status = ep_do(t->ep, IBV_WR_RDMA_READ, back,
					  TRAFFIC_LEN, t->hmr->lkey, t->iova,
					  t->mr->rkey);
		if (!t->status &&
		    pattern_check(back, TRAFFIC_LEN, seed, t->bar_off) >= 0)
			t->status = -EIO;
		for (i = 0; i < t->atomics && !t->status; i++)
			t->status = ep_atomic(t->ep,
					      IBV_WR_ATOMIC_FETCH_AND_ADD,
					      (uint64_t *)back, t->hmr->lkey,
					      t->atom_iova, t->mr->rkey, 1, 0);
		t->rounds++;
	}
	return NULL;
}

#define SHARED_ROUNDS	30

/*
 * Two MRs on one dma-buf share its vmap: deregistering and registering
 * one again and again while the other carries WRITE/READ traffic must not
 * disturb that traffic, and the survivor works once the other is gone.
 */
static void test_shared(void)
{
	struct p2pmr_range r = { SHARED_BAR, 64 * KiB };
	struct traffic t = { 0 };
	struct ibv_mr *mr_a;
	int buf, regs = 0, failed;
	pthread_t th;
	long during;
	struct pair p;

	buf = export(1, &r);
	if (buf < 0 || pair_init(&p, 0)) {
		tap_result(0, "shared: setup (export %d)", buf);
		return;
	}
	t.ep = &p.peer;
	t.seed = 7000;
	t.iova = IOVA2;
	t.bar_off = SHARED_BAR + 32 * KiB;
	t.mr = ibv_reg_dmabuf_mr(p.pd0, 32 * KiB, 32 * KiB, IOVA2, buf, ACCESS);
	t.host = aligned_alloc(4096, 2 * TRAFFIC_LEN);
	t.hmr = ibv_reg_mr(p.pd1, t.host, 2 * TRAFFIC_LEN, ACCESS);
	mr_a = ibv_reg_dmabuf_mr(p.pd0, 0, r.length, IOVA, buf, ACCESS);
	if (!t.mr || !t.hmr || !mr_a) {
		tap_result(0, "shared: registration: %s", strerror(errno));
		goto out;
	}
	pthread_create(&th, NULL, traffic_loop, &t);
	/* Until the traffic has done SHARED_ROUNDS (or failed). */
	while (t.rounds < SHARED_ROUNDS && !t.status && mr_a) {
		ibv_dereg_mr(mr_a);
		mr_a = ibv_reg_dmabuf_mr(p.pd0, 0, r.length, IOVA, buf,
					 ACCESS);
		regs += mr_a != NULL;
	}
	failed = !mr_a;
	during = t.rounds;
	if (mr_a)
		ibv_dereg_mr(mr_a);
	mr_a = NULL;
	/* The survivor alone for ten more rounds. */
	t.max_rounds = t.rounds + 10;
	pthread_join(th, NULL);
	tap_result(!t.status && !failed && regs > 0 && during >= SHARED_ROUNDS,
		   "shared: a second MR on the dma-buf deregistered and registered %d times during %ld rounds of WRITE/READ through the first, which then carries on alone to %ld rounds (status %d%s)",
		   regs, during, t.rounds, t.status,
		   failed ? ", a registration failed" : "");
out:
	if (mr_a)
		ibv_dereg_mr(mr_a);
	if (t.mr)
		ibv_dereg_mr(t.mr);
	if (t.hmr)
		ibv_dereg_mr(t.hmr);
	free(t.host);
	pair_fini(&p);
	close(buf);
}

#define MULTI_QPS	4
#define MULTI_ROUNDS	20
#define MULTI_ATOMICS	5	/* per round */

/*
 * Several QPs (one thread each, on rxe1) on one dma-buf MR at once: each
 * writes and reads back its own slot, and all of them FETCH_ADD one shared
 * word, whose final count shows no add was lost between QPs.
 */
static void test_multi_qp(void)
{
	struct p2pmr_range r = { MULTI_BAR, 64 * KiB };
	volatile uint64_t *word = (volatile uint64_t *)(bar + MULTI_BAR +
							 60 * KiB);
	struct traffic t[MULTI_QPS] = { 0 };
	struct pair q[MULTI_QPS] = { 0 };
	pthread_t th[MULTI_QPS];
	struct ibv_pd *pd0, *pd1;
	int buf, k, ok = 1, status = 0;
	long rounds = 0;
	struct ibv_mr *mr;

	buf = export(1, &r);
	pd0 = ibv_alloc_pd(ctx0);
	pd1 = ibv_alloc_pd(ctx1);
	mr = ibv_reg_dmabuf_mr(pd0, 0, r.length, IOVA, buf, ACCESS);
	if (buf < 0 || !mr) {
		tap_result(0, "multi-qp: setup (export %d): %s", buf,
			   strerror(errno));
		goto out;
	}
	*word = 0;
	for (k = 0; k < MULTI_QPS; k++) {
		q[k].pd0 = pd0;
		q[k].pd1 = pd1;
		if (pair_connect(&q[k], 0, 0)) {
			tap_result(0, "multi-qp: QP pair %d", k);
			goto out;
		}
		t[k].ep = &q[k].peer;
		t[k].mr = mr;
		t[k].iova = IOVA + k * 8 * KiB;
		t[k].bar_off = MULTI_BAR + k * 8 * KiB;
		t[k].host = aligned_alloc(4096, 2 * TRAFFIC_LEN);
		t[k].hmr = ibv_reg_mr(pd1, t[k].host, 2 * TRAFFIC_LEN, ACCESS);
		t[k].seed = 8000 + 100 * k;
		t[k].max_rounds = MULTI_ROUNDS;
		t[k].atom_iova = IOVA + 60 * KiB;
		t[k].atomics = MULTI_ATOMICS;
	}
	for (k = 0; k < MULTI_QPS; k++)
		pthread_create(&th[k], NULL, traffic_loop, &t[k]);
	for (k = 0; k < MULTI_QPS; k++) {
		pthread_join(th[k], NULL);
		rounds += t[k].rounds;
		if (t[k].status && !status)
			status = t[k].status;
		ok &= !t[k].status && t[k].rounds == MULTI_ROUNDS &&
		      bar_matches(t[k].bar_off, TRAFFIC_LEN,
				  t[k].seed + MULTI_ROUNDS - 1);
	}
	tap_result(ok, "multi-qp: %d QPs at once on one dma-buf MR, %ld rounds of WRITE/READ, each slot holding its last pattern (status %d)",
		   MULTI_QPS, rounds, status);
	tap_result(ok && *word == MULTI_QPS * MULTI_ROUNDS * MULTI_ATOMICS,
		   "multi-qp: %d FETCH_ADDs from %d QPs on one word, none lost (now %llu)",
		   MULTI_QPS * MULTI_ROUNDS * MULTI_ATOMICS, MULTI_QPS,
		   (unsigned long long)*word);
out:
	for (k = 0; k < MULTI_QPS; k++) {
		pair_disconnect(&q[k]);
		if (t[k].hmr)
			ibv_dereg_mr(t[k].hmr);
		free(t[k].host);
	}
	if (mr)
		ibv_dereg_mr(mr);
	ibv_dealloc_pd(pd1);
	ibv_dealloc_pd(pd0);
	if (buf >= 0)
		close(buf);
}

#define GRH_LEN		40	/* what a UD receive buffer starts with */
#define UD_LEN		512	/* within the path MTU (1024 on the veth) */

/*
 * UC and UD QPs on a dma-buf MR: UC's RDMA WRITE (with immediate, so the
 * responder can tell it landed) and SEND both ways, UD's SEND both ways
 * (a UD receive buffer in the BAR takes the GRH, then the payload).
 */
static void test_qp_types(void)
{
	static const struct { enum ibv_qp_type type; const char *name; }
	qpt[] = { { IBV_QPT_UC, "UC" }, { IBV_QPT_UD, "UD" } };
	struct p2pmr_range r = { QPT_BAR, 64 * KiB };
	int buf = export(1, &r), ret, k;
	uint8_t *host = aligned_alloc(4096, 16 * KiB);
	struct ibv_wc wc;

	for (k = 0; k < 2; k++) {
		int ud = qpt[k].type == IBV_QPT_UD;
		uint32_t len = ud ? UD_LEN : 4 * KiB, rlen = len + ud * GRH_LEN;
		uint64_t base = k * 32 * KiB, seed = 9000 + 10 * k;
		struct ibv_mr *mr = NULL, *hmr = NULL;
		struct pair p;

		p.pd0 = ibv_alloc_pd(ctx0);
		p.pd1 = ibv_alloc_pd(ctx1);
		memset(&p.local, 0, sizeof(p.local));
		memset(&p.peer, 0, sizeof(p.peer));
		ret = ep_init_type(&p.local, ctx0, p.pd0, "192.0.2.1",
				   qpt[k].type, 0);
		ret = ret ? ret : ep_init_type(&p.peer, ctx1, p.pd1,
					       "192.0.2.2", qpt[k].type, 0);
		ret = ret ? ret : ep_connect(&p.local, &p.peer);
		ret = ret ? ret : ep_connect(&p.peer, &p.local);
		if (!ret) {
			mr = ibv_reg_dmabuf_mr(p.pd0, 0, r.length, IOVA, buf,
					       ACCESS);
			hmr = ibv_reg_mr(p.pd1, host, 16 * KiB, ACCESS);
		}
		if (ret || !mr || !hmr) {
			tap_result(0, "%s: setup (%d): %s", qpt[k].name, ret,
				   strerror(errno));
			goto next;
		}

		if (!ud) {
			pattern_fill(host, len, seed, QPT_BAR + base);
			ret = ep_recv(&p.local, (void *)(uintptr_t)(IOVA + 60 * KiB),
				      0, mr->lkey);
			ret = ret ? ret : ep_post(&p.peer,
						  IBV_WR_RDMA_WRITE_WITH_IMM,
						  host, len, hmr->lkey,
						  IOVA + base, mr->rkey);
			ret = ret ? ret : ep_wait(&p.peer, NULL);
			ret = ret ? ret : ep_wait(&p.local, &wc);
			tap_result(!ret && wc.opcode == IBV_WC_RECV_RDMA_WITH_IMM &&
				   bar_matches(QPT_BAR + base, len, seed),
				   "%s: RDMA WRITE with immediate into the BAR (status %d)",
				   qpt[k].name, ret);
			base += len;
		}

		/* SEND from host memory into a receive buffer in the BAR. */
		pattern_fill(host, len, seed + 1, QPT_BAR + base + rlen - len);
		bar_fill(QPT_BAR + base, rlen, seed + 2);	/* stale */
		ret = ep_recv(&p.local, (void *)(uintptr_t)(IOVA + base), rlen,
			      mr->lkey);
		ret = ret ? ret : ep_post(&p.peer, IBV_WR_SEND, host, len,
					  hmr->lkey, 0, 0);
		ret = ret ? ret : ep_wait(&p.peer, NULL);
		ret = ret ? ret : ep_wait(&p.local, &wc);
		tap_result(!ret && wc.byte_len == rlen &&
			   bar_matches(QPT_BAR + base + rlen - len, len, seed + 1),
			   "%s: SEND received into the BAR (status %d, %u bytes)",
			   qpt[k].name, ret, ret ? 0 : wc.byte_len);
		base += rlen;

		/* SEND from the BAR into host memory. */
		bar_fill(QPT_BAR + base, len, seed + 3);
		memset(host, 0, rlen);
		ret = ep_recv(&p.peer, host, rlen, hmr->lkey);
		ret = ret ? ret : ep_post(&p.local, IBV_WR_SEND,
					  (void *)(uintptr_t)(IOVA + base),
					  len, mr->lkey, 0, 0);
		ret = ret ? ret : ep_wait(&p.local, NULL);
		ret = ret ? ret : ep_wait(&p.peer, &wc);
		tap_result(!ret && wc.byte_len == rlen &&
			   pattern_check(host + rlen - len, len, seed + 3,
					 QPT_BAR + base) < 0,
			   "%s: SEND from the BAR (status %d, %u bytes)",
			   qpt[k].name, ret, ret ? 0 : wc.byte_len);
next:
		if (mr)
			ibv_dereg_mr(mr);
		if (hmr)
			ibv_dereg_mr(hmr);
		pair_fini(&p);
	}
	free(host);
	close(buf);
}

/* edu's registers (QEMU's hw/misc/edu.c), BAR0: 4-byte ones below 0x80 */
#define EDU_ID		0x00	/* reads 0x010000ed */
#define EDU_INV		0x04	/* reads back the inverse of what was written */
#define EDU_DMA_SRC	0x80	/* 8-byte: stores what is written */
#define EDU_DMA_DST	0x88

/*
 * A dma-buf MR over a non-prefetchable BAR of registers (edu's BAR0),
 * mapped uncached: RDMA READ and WRITE reach the registers with 4-byte
 * accesses (edu ignores any other size below 0x80: an 8-byte read returns
 * all ones), and atomics on its 8-byte registers are single 8-byte
 * accesses (4-byte halves would read all ones at +4 and lose the write).
 */
static void test_mmio(void)
{
	struct p2pmr_range r = { 0, 4096 };
	volatile uint32_t *reg32;
	volatile uint64_t *reg64;
	struct ibv_mr *mr, *hmr;
	char path[128], line[128];
	unsigned long long start, end, flags = 0;
	uint64_t *host;
	struct pair p;
	void *map;
	size_t len;
	int buf, ret;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f))
		sscanf(line, "%llx %llx %llx", &start, &end, &flags);
	if (f)
		fclose(f);
	tap_result(flags && !(flags & 0x2000),
		   "mmio: %s BAR0 is memory, not prefetchable (flags %#llx)",
		   bdf, flags);
	if (p2pmr_region_mmap(dev, 0, &map, &len)) {
		tap_result(0, "mmio: mmap of BAR0: %s", p2pmr_errmsg());
		return;
	}
	reg32 = map;
	reg64 = map;
	buf = p2pmr_export(dev, 0, &r, 1, O_RDWR | O_CLOEXEC);
	if (buf < 0 || pair_init_ex(&p, 0, PEER_SEND_OPS)) {
		tap_result(0, "mmio: setup (export %d)", buf);
		return;
	}
	mr = ibv_reg_dmabuf_mr(p.pd0, 0, r.length, IOVA, buf, ACCESS);
	host = aligned_alloc(4096, 4096);
	hmr = ibv_reg_mr(p.pd1, host, 4096, ACCESS);
	tap_result(mr && hmr, "mmio: ibv_reg_dmabuf_mr on the register BAR: %s",
		   mr ? "ok" : strerror(errno));
	if (!mr || !hmr)
		goto out;

	host[0] = 0;
	ret = ep_do(&p.peer, IBV_WR_RDMA_READ, host, 4, hmr->lkey,
		    IOVA + EDU_ID, mr->rkey);
	tap_result(!ret && (uint32_t)host[0] == 0x010000ed &&
		   reg32[EDU_ID / 4] == 0x010000ed,
		   "mmio: RDMA READ of the ID register (status %d, %#x)", ret,
		   (uint32_t)host[0]);

	*(uint32_t *)host = 0x12345678;
	ret = ep_do(&p.peer, IBV_WR_RDMA_WRITE, host, 4, hmr->lkey,
		    IOVA + EDU_INV, mr->rkey);
	tap_result(!ret && reg32[EDU_INV / 4] == 0xedcba987,
		   "mmio: RDMA WRITE reaches a register (status %d, the CPU reads %#x back)",
		   ret, reg32[EDU_INV / 4]);
	host[0] = 0;
	ret = ep_do(&p.peer, IBV_WR_RDMA_READ, host, 8, hmr->lkey,
		    IOVA + EDU_ID, mr->rkey);
	tap_result(!ret && host[0] == 0xedcba987010000edULL,
		   "mmio: an 8-byte RDMA READ over two 4-byte registers reads each with a 4-byte access (status %d, %#llx)",
		   ret, (unsigned long long)host[0]);

	reg64[EDU_DMA_SRC / 8] = 0xffffffffULL;
	ret = ep_atomic(&p.peer, IBV_WR_ATOMIC_FETCH_AND_ADD, host, hmr->lkey,
			IOVA + EDU_DMA_SRC, mr->rkey, 1, 0);
	tap_result(!ret && host[0] == 0xffffffffULL &&
		   reg64[EDU_DMA_SRC / 8] == 0x100000000ULL,
		   "mmio: FETCH_ADD on an 8-byte register, one 8-byte read and write (status %d, orig %#llx, now %#llx)",
		   ret, (unsigned long long)host[0],
		   (unsigned long long)reg64[EDU_DMA_SRC / 8]);
	ret = ep_atomic(&p.peer, IBV_WR_ATOMIC_CMP_AND_SWP, host, hmr->lkey,
			IOVA + EDU_DMA_SRC, mr->rkey, 0x100000000ULL,
			0x2222222233333333ULL);
	tap_result(!ret && host[0] == 0x100000000ULL &&
		   reg64[EDU_DMA_SRC / 8] == 0x2222222233333333ULL,
		   "mmio: CMP_SWAP on an 8-byte register (status %d, orig %#llx, now %#llx)",
		   ret, (unsigned long long)host[0],
		   (unsigned long long)reg64[EDU_DMA_SRC / 8]);
	ret = ep_atomic_write(&p.peer, IOVA + EDU_DMA_DST, mr->rkey,
			      0x4444444455555555ULL);
	tap_result(!ret && reg64[EDU_DMA_DST / 8] == 0x4444444455555555ULL,
		   "mmio: ATOMIC_WRITE of an 8-byte register (status %d, now %#llx)",
		   ret, (unsigned long long)reg64[EDU_DMA_DST / 8]);
	reg64[EDU_DMA_SRC / 8] = 0;
	reg64[EDU_DMA_DST / 8] = 0;
out:
	if (mr)
		ibv_dereg_mr(mr);
	if (hmr)
		ibv_dereg_mr(hmr);
	free(host);
	pair_fini(&p);
	close(buf);
	munmap(map, len);
}

int main(int argc, char **argv)
{
	const struct p2pmr_range one = { 1 * MiB, 1 * MiB };
	const struct p2pmr_range three[3] = {
		{ 4 * MiB, 64 * KiB }, { 6 * MiB, 64 * KiB }, { 12 * MiB, 128 * KiB },
	};
	const char *what;
	void *map;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: rdma_dmabuf_test BDF data|revoke-reset|revoke-mem|revoke-contract|chaos|udmabuf|nocpu|atomic|advise|reg-race|shared|multi-qp|qp-types|mmio [SECONDS]\n");
		return 2;
	}
	bdf = argv[1];
	what = argv[2];
	ctx0 = ep_open_dev("rxe0");
	ctx1 = ep_open_dev("rxe1");
	if (!ctx0 || !ctx1) {
		fprintf(stderr, "rdma_dmabuf_test: need rxe0 and rxe1\n");
		return 1;
	}
	printf("TAP version 13\n");
	if (!strcmp(what, "udmabuf")) {
		test_udmabuf();
		return tap_done();
	}
	if (!strcmp(what, "mmio")) {
		if (p2pmr_dev_open(bdf, &dev)) {
			fprintf(stderr, "rdma_dmabuf_test: %s\n", p2pmr_errmsg());
			return 1;
		}
		test_mmio();
		p2pmr_dev_close(dev);
		return tap_done();
	}
	if (p2pmr_dev_open(bdf, &dev) ||
	    p2pmr_region_mmap(dev, 2, &map, &bar_len)) {
		fprintf(stderr, "rdma_dmabuf_test: %s\n", p2pmr_errmsg());
		return 1;
	}
	bar = map;
	if (!strcmp(what, "data")) {
		test_data("one range, remote", 1, &one, 0, 1000);
		test_data("three ranges, remote", 3, three, 0, 2000);
		test_data("three ranges, loopback", 3, three, 1, 3000);
	} else if (!strcmp(what, "revoke-reset")) {
		test_revoke(1);
	} else if (!strcmp(what, "revoke-mem")) {
		test_revoke(0);
	} else if (!strcmp(what, "revoke-contract")) {
		test_revoke_contract();
	} else if (!strcmp(what, "chaos")) {
		munmap(map, bar_len);
		bar = NULL;
		test_chaos();
	} else if (!strcmp(what, "nocpu")) {
		test_nocpu();
	} else if (!strcmp(what, "atomic")) {
		test_atomic();
	} else if (!strcmp(what, "advise")) {
		test_advise();
	} else if (!strcmp(what, "shared")) {
		test_shared();
	} else if (!strcmp(what, "multi-qp")) {
		test_multi_qp();
	} else if (!strcmp(what, "qp-types")) {
		test_qp_types();
	} else if (!strcmp(what, "reg-race")) {
		test_reg_race(argc > 3 ? atoi(argv[3]) : 20);
	} else {
		fprintf(stderr, "rdma_dmabuf_test: unknown test %s\n", what);
		return 2;
	}
	p2pmr_dev_close(dev);
	return tap_done();
}
