/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --use_vfio=<PCI address>[,bar=N][,offset=X]: perftest buffers in a BAR of
 * a VFIO-bound PCI device (p2pmr project, perf/perftest/).
 *
 * The device is opened with libp2pmr.  Each buffer perftest asks for is the
 * next page-aligned piece of the BAR from the given offset on, made by
 * p2pmr_buf_open(): a dma-buf of its own, which perftest registers with
 * ibv_reg_dmabuf_mr(), and a CPU mapping of just that piece.  The address
 * perftest sees (and uses as the MR's iova) is that mapping, so the CPU can
 * still reach the buffer where perftest needs that.  A piece VFIO does not
 * let the CPU mmap (sparse-mmap capability, e.g. an MSI-X table) is refused
 * with libp2pmr's message.
 *
 * The BAR is MMIO: perftest's byte-wise random fill is turned off
 * (can_init = false) and the buffer is filled here with aligned 64-bit
 * stores of a known pattern instead: the 64-bit word at byte offset o of the
 * BAR is pattern_word(VFIO_FILL_SEED, o / 8) (p2pmr's tests/lib/pattern.h),
 * so a checker can tell where data seen elsewhere came from.  As perftest
 * does for host memory, WRITE latency tests get zeros instead (they poll
 * the buffer for a byte to change).  The copy helpers use volatile byte
 * accesses.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <p2pmr.h>
#include "pattern.h"
#include "vfio_memory.h"
#include "perftest_parameters.h"

/* "p2pmr" */
#define VFIO_FILL_SEED 0x7032706d72ULL


struct vfio_memory_ctx {
	struct memory_ctx base;
	struct vfio_memory_spec spec;
	struct p2pmr_dev *dev;
	uint64_t bar_size;
	struct p2pmr_buf **bufs;	/* closed by destroy */
	size_t nr_bufs;
	uint64_t next;		/* offset in the BAR of the next buffer */
	bool zero_fill;		/* WRITE latency test: zeros, not the pattern */
};


int vfio_memory_parse(const char *arg, struct vfio_memory_spec *spec) {
	struct vfio_memory_spec s = { .bar = -1 };
	char *copy, *tok, *save;
	int ret = FAILURE;

	copy = strdup(arg);
	if (!copy)
		return FAILURE;
	tok = strtok_r(copy, ",", &save);
	if (!tok || p2pmr_parse_bdf(tok, s.bdf, sizeof(s.bdf))) {
		fprintf(stderr, " --use_vfio: '%s' is not a PCI address (DDDD:BB:DD.F or BB:DD.F)\n",
			tok ? tok : "");
		goto out;
	}
	while ((tok = strtok_r(NULL, ",", &save))) {
		uint64_t v;

		if (!strncmp(tok, "bar=", 4)) {
			if (p2pmr_parse_size(tok + 4, &v) || v > 5) {
				fprintf(stderr, " --use_vfio: bad '%s': BARs are numbered 0-5\n", tok);
				goto out;
			}
			s.bar = v;
		} else if (!strncmp(tok, "offset=", 7)) {
			if (p2pmr_parse_size(tok + 7, &v)) {
				fprintf(stderr, " --use_vfio: bad '%s': want a number, optionally with K, M, G or T\n", tok);
				goto out;
			}
			if (v % p2pmr_page_size()) {
				fprintf(stderr, " --use_vfio: %s is not a multiple of %zu (the page size)\n",
					tok, p2pmr_page_size());
				goto out;
			}
			s.offset = v;
		} else {
			fprintf(stderr, " --use_vfio: unknown '%s': want <PCI address>[,bar=N][,offset=X]\n", tok);
			goto out;
		}
	}
	if (spec)
		*spec = s;
	ret = SUCCESS;
out:
	free(copy);
	return ret;
}

/* The largest memory BAR, for when no bar= was given. */
static int largest_bar(struct p2pmr_dev *dev) {
	struct p2pmr_region reg;
	uint64_t best_size = 0;
	int bar, best = -1;

	for (bar = 0; bar < P2PMR_NR_BARS; bar++) {
		if (p2pmr_query_region(dev, bar, &reg) == 0 && (reg.flags & P2PMR_REGION_MEM) &&
		    reg.size > best_size) {
			best = bar;
			best_size = reg.size;
		}
	}
	return best;
}

int vfio_memory_init(struct memory_ctx *ctx) {
	struct vfio_memory_ctx *vfio_ctx = container_of(ctx, struct vfio_memory_ctx, base);
	struct vfio_memory_spec *s = &vfio_ctx->spec;
	struct p2pmr_region reg;

	if (p2pmr_dev_open(s->bdf, &vfio_ctx->dev)) {
		fprintf(stderr, " --use_vfio: %s\n", p2pmr_errmsg());
		return FAILURE;
	}
	if (s->bar < 0) {
		s->bar = largest_bar(vfio_ctx->dev);
		if (s->bar < 0) {
			fprintf(stderr, " --use_vfio: %s has no memory BAR\n", s->bdf);
			return FAILURE;
		}
	}
	if (p2pmr_query_region(vfio_ctx->dev, s->bar, &reg) || !reg.size) {
		fprintf(stderr, " --use_vfio: BAR%d of %s is absent\n", s->bar, s->bdf);
		return FAILURE;
	}
	if (!(reg.flags & P2PMR_REGION_MEM)) {
		fprintf(stderr, " --use_vfio: BAR%d of %s is an I/O port BAR, not memory\n",
			s->bar, s->bdf);
		return FAILURE;
	}
	if (s->offset >= reg.size) {
		fprintf(stderr, " --use_vfio: offset %#llx is past the end of BAR%d of %s (%llu bytes)\n",
			(unsigned long long)s->offset, s->bar, s->bdf,
			(unsigned long long)reg.size);
		return FAILURE;
	}
	vfio_ctx->bar_size = reg.size;
	vfio_ctx->next = s->offset;
	printf("using BAR%d of %s (%llu bytes) from offset %#llx\n", s->bar, s->bdf,
	       (unsigned long long)reg.size, (unsigned long long)s->offset);
	return SUCCESS;
}

int vfio_memory_destroy(struct memory_ctx *ctx) {
	struct vfio_memory_ctx *vfio_ctx = container_of(ctx, struct vfio_memory_ctx, base);

	size_t i;

	for (i = 0; i < vfio_ctx->nr_bufs; i++)
		p2pmr_buf_close(vfio_ctx->bufs[i]);
	free(vfio_ctx->bufs);
	p2pmr_dev_close(vfio_ctx->dev);
	free(vfio_ctx);
	return SUCCESS;
}

int vfio_memory_allocate_buffer(struct memory_ctx *ctx, int alignment, uint64_t size, int *dmabuf_fd,
				uint64_t *dmabuf_offset, void **addr, bool *can_init) {
	struct vfio_memory_ctx *vfio_ctx = container_of(ctx, struct vfio_memory_ctx, base);
	struct vfio_memory_spec *s = &vfio_ctx->spec;
	uint64_t page = p2pmr_page_size();
	uint64_t align = (uint64_t)alignment > page ? (uint64_t)alignment : page;
	struct p2pmr_buf *buf, **bufs;
	struct p2pmr_range range;
	volatile uint64_t *p;
	uint64_t i;
	int fd;

	range.offset = (vfio_ctx->next + align - 1) / align * align;
	range.length = (size + page - 1) / page * page;
	if (range.offset > vfio_ctx->bar_size || range.length > vfio_ctx->bar_size - range.offset) {
		fprintf(stderr, " --use_vfio: a buffer of %llu bytes at offset %#llx does not fit in BAR%d of %s (%llu bytes)\n",
			(unsigned long long)size, (unsigned long long)range.offset, s->bar,
			s->bdf, (unsigned long long)vfio_ctx->bar_size);
		return FAILURE;
	}
	bufs = realloc(vfio_ctx->bufs, (vfio_ctx->nr_bufs + 1) * sizeof(*bufs));
	if (!bufs)
		return FAILURE;
	vfio_ctx->bufs = bufs;
	if (p2pmr_buf_open(vfio_ctx->dev, s->bar, range.offset, range.length,
			   PROT_READ | PROT_WRITE, 0, &buf)) {
		fprintf(stderr, " --use_vfio: %s\n", p2pmr_errmsg());
		return FAILURE;
	}
	/*
	 * perftest closes the fd once the MR is registered, and takes an fd
	 * of 0 for "no dma-buf": it gets a copy numbered 1 or above.
	 */
	fd = fcntl(buf->fd, F_DUPFD_CLOEXEC, 1);
	if (fd < 0) {
		perror(" --use_vfio: dup of the dma-buf fd");
		p2pmr_buf_close(buf);
		return FAILURE;
	}
	vfio_ctx->bufs[vfio_ctx->nr_bufs++] = buf;
	vfio_ctx->next = range.offset + range.length;

	p = buf->addr;
	for (i = 0; i < range.length / 8; i++)
		p[i] = vfio_ctx->zero_fill ? 0 : pattern_word(VFIO_FILL_SEED, range.offset / 8 + i);

	printf("exported %llu bytes at offset %#llx of BAR%d of %s as dma-buf fd %d\n",
	       (unsigned long long)range.length, (unsigned long long)range.offset, s->bar,
	       s->bdf, fd);
	*dmabuf_fd = fd;
	*dmabuf_offset = 0;
	*addr = buf->addr;
	*can_init = false;
	return SUCCESS;
}

int vfio_memory_free_buffer(struct memory_ctx *ctx, int dmabuf_fd, void *addr, uint64_t size) {
	/* perftest closes its copy of the dma-buf fd; the buffer stays until destroy. */
	return SUCCESS;
}

/* BAR memory is MMIO: byte accesses the compiler may not merge or widen. */
void *vfio_memory_copy(void *dest, const void *src, size_t size) {
	volatile char *d = dest;
	const volatile char *s = src;
	size_t i;

	for (i = 0; i < size; i++)
		d[i] = s[i];
	return dest;
}

struct memory_ctx *vfio_memory_create(struct perftest_parameters *params) {
	struct vfio_memory_ctx *ctx;

	ALLOCATE(ctx, struct vfio_memory_ctx, 1);
	memset(ctx, 0, sizeof(*ctx));
	ctx->base.init = vfio_memory_init;
	ctx->base.destroy = vfio_memory_destroy;
	ctx->base.allocate_buffer = vfio_memory_allocate_buffer;
	ctx->base.free_buffer = vfio_memory_free_buffer;
	ctx->base.copy_host_to_buffer = vfio_memory_copy;
	ctx->base.copy_buffer_to_host = vfio_memory_copy;
	ctx->base.copy_buffer_to_buffer = vfio_memory_copy;
	ctx->zero_fill = (params->verb == WRITE || params->verb == WRITE_IMM) && params->tst == LAT;
	/* Checked when the option was parsed. */
	vfio_memory_parse(params->vfio_spec, &ctx->spec);
	return &ctx->base;
}
