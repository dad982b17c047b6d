// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * p2pmr_buf_open(): a BAR range as a dma-buf plus a CPU mapping of the
 * same bytes, mapping only what VFIO's sparse-mmap capability allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#include "internal.h"

int p2pmr_mmap_areas(const void *info, size_t size,
		     struct p2pmr_range **areasp, size_t *np)
{
	const struct vfio_region_info *ri = info;
	const struct vfio_region_info_cap_sparse_mmap *sp;
	const struct vfio_info_cap_header *h;
	struct p2pmr_range *areas;
	uint32_t off, i, hops = 0;

	*areasp = NULL;
	*np = 0;
	if (size < sizeof(*ri))
		return -EIO;
	if (!(ri->flags & VFIO_REGION_INFO_FLAG_MMAP) || !ri->size)
		return 0;
	off = ri->flags & VFIO_REGION_INFO_FLAG_CAPS ? ri->cap_offset : 0;
	for (; off; off = h->next) {
		if (off < sizeof(*ri) || off % 4 || off > size - sizeof(*h) ||
		    ++hops > 64)
			return -EIO;
		h = (const void *)((const char *)info + off);
		if (h->id != VFIO_REGION_INFO_CAP_SPARSE_MMAP)
			continue;
		sp = (const void *)h;
		if (off > size - sizeof(*sp) ||
		    sp->nr_areas > (size - off - sizeof(*sp)) /
				   sizeof(sp->areas[0]))
			return -EIO;
		if (!sp->nr_areas)
			return 0;
		areas = calloc(sp->nr_areas, sizeof(*areas));
		if (!areas)
			return -ENOMEM;
		for (i = 0; i < sp->nr_areas; i++) {
			areas[i].offset = sp->areas[i].offset;
			areas[i].length = sp->areas[i].size;
		}
		*areasp = areas;
		*np = sp->nr_areas;
		return 0;
	}
	/* No sparse capability: the whole region may be mapped. */
	areas = malloc(sizeof(*areas));
	if (!areas)
		return -ENOMEM;
	areas->offset = 0;
	areas->length = ri->size;
	*areasp = areas;
	*np = 1;
	return 0;
}

/* VFIO_DEVICE_GET_REGION_INFO with its capability chain, into a new buffer. */
static int region_info(struct p2pmr_dev *dev, uint32_t index, void **infop,
		       size_t *sizep)
{
	struct vfio_region_info *ri, *bigger;
	size_t size = sizeof(*ri);

	ri = calloc(1, size);
	if (!ri)
		return -ENOMEM;
	for (;;) {
		ri->argsz = size;
		ri->index = index;
		if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
			free(ri);
			return -errno;
		}
		if (ri->argsz <= size)
			break;
		if (ri->argsz > 1 << 20) {
			free(ri);
			return -EIO;
		}
		size = ri->argsz;
		bigger = realloc(ri, size);
		if (!bigger) {
			free(ri);
			return -ENOMEM;
		}
		ri = bigger;
		memset(ri, 0, size);
	}
	*infop = ri;
	*sizep = size;
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* A piece of the window to map: @len bytes of the BAR at @bar, at @boff. */
struct piece {
	uint64_t boff;
	uint64_t bar;
	uint64_t len;
};

static int piece_cmp(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	return x->boff < y->boff ? -1 : x->boff > y->boff;
}

/*
 * The pieces of @b->ranges that @areas allow to be mapped, trimmed to
 * whole pages, sorted by buffer offset and without overlaps.
 * Return: 0, -ENXIO (with a message) or -ENOMEM.
 */
static int plan(struct p2pmr_dev *dev, struct p2pmr_buf *b, uint32_t flags,
		const struct p2pmr_range *areas, size_t nr_areas,
		struct piece **piecesp, size_t *np)
{
	uint64_t page = p2pmr_page_size(), boff = 0, hole = UINT64_MAX;
	struct piece *pc, *grown;
	size_t i, j, first, n = 0, cap = 8;

	pc = malloc(cap * sizeof(*pc));
	if (!pc)
		return p2pmr_fail(-ENOMEM, "out of memory");
	for (i = 0; i < b->nr_ranges; boff += b->ranges[i].length, i++) {
		uint64_t s = b->ranges[i].offset, e = s + b->ranges[i].length;
		uint64_t at = s;

		first = n;
		for (j = 0; j < nr_areas; j++) {
			uint64_t as = align_up(areas[j].offset, page);
			uint64_t ae = areas[j].offset + areas[j].length;

			if (ae < areas[j].offset)	/* wraps: to the end */
				ae = UINT64_MAX;
			ae = ae / page * page;
			as = as > s ? as : s;
			ae = ae < e ? ae : e;
			if (as >= ae)
				continue;
			if (n == cap) {
				cap *= 2;
				grown = realloc(pc, cap * sizeof(*pc));
				if (!grown) {
					free(pc);
					return p2pmr_fail(-ENOMEM, "out of memory");
				}
				pc = grown;
			}
			pc[n++] = (struct piece){ boff + (as - s), as, ae - as };
		}
		/* Areas overlapping each other are mapped once. */
		qsort(pc + first, n - first, sizeof(*pc), piece_cmp);
		for (j = first; j < n; j++) {
			uint64_t pe = pc[j].bar + pc[j].len;

			if (pc[j].bar > at && hole == UINT64_MAX)
				hole = at;
			if (pe <= at) {
				pc[j].len = 0;
				continue;
			}
			if (pc[j].bar < at) {
				pc[j].boff += at - pc[j].bar;
				pc[j].len = pe - at;
				pc[j].bar = at;
			}
			at = pe;
		}
		if (at < e && hole == UINT64_MAX)
			hole = at;
	}
	/* Drop the pieces emptied above. */
	for (i = 0, j = 0; i < n; i++)
		if (pc[i].len)
			pc[j++] = pc[i];
	n = j;
	if (!n) {
		free(pc);
		return p2pmr_fail(-ENXIO, "VFIO does not let the CPU mmap any part of the range%s of BAR%u of %s%s (pass PROT_NONE for the dma-buf alone)",
				  b->nr_ranges == 1 ? "" : "s", b->bar,
				  dev->bdf, nr_areas ? "" :
				  ": the region is not mmappable");
	}
	if (hole != UINT64_MAX && !(flags & P2PMR_BUF_SPARSE)) {
		free(pc);
		return p2pmr_fail(-ENXIO, "VFIO does not let the CPU mmap offset 0x%" PRIx64 " of BAR%u of %s (sparse-mmap capability; an MSI-X table?): choose a range without it, or pass P2PMR_BUF_SPARSE to leave holes",
				  hole, b->bar, dev->bdf);
	}
	*piecesp = pc;
	*np = n;
	return 0;
}

/* @b->mapped: the pieces as buffer offsets, merged where adjacent. */
static int set_mapped(struct p2pmr_buf *b, const struct piece *pc, size_t n)
{
	size_t i, k = 0;

	b->mapped = calloc(n, sizeof(*b->mapped));
	if (!b->mapped)
		return p2pmr_fail(-ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (k && b->mapped[k - 1].offset + b->mapped[k - 1].length ==
			 pc[i].boff)
			b->mapped[k - 1].length += pc[i].len;
		else
			b->mapped[k++] = (struct p2pmr_range){ pc[i].boff,
							       pc[i].len };
	}
	b->nr_mapped = k;
	return 0;
}

void p2pmr_buf_close(struct p2pmr_buf *buf)
{
	int saved = errno;

	if (!buf)
		return;
	if (buf->addr)
		munmap(buf->addr, buf->length);
	if (buf->fd >= 0)
		close(buf->fd);
	free(buf->mapped);
	free(buf->ranges);
	free(buf);
	errno = saved;
}

int p2pmr_buf_open_ranges(struct p2pmr_dev *dev, uint32_t bar,
			  const struct p2pmr_range *ranges, size_t n, int prot,
			  uint32_t flags, struct p2pmr_buf **bufp)
{
	struct p2pmr_range *areas = NULL;
	struct p2pmr_region reg;
	struct piece *pc = NULL;
	struct p2pmr_buf *b;
	size_t i, nr_areas = 0, npc = 0, isize = 0;
	void *info = NULL, *p;
	int ret;

	p2pmr_clear_error();
	if (prot & ~(PROT_READ | PROT_WRITE))
		return p2pmr_fail(-EINVAL, "protection 0x%x: only PROT_READ, PROT_WRITE or PROT_NONE",
				  prot);
	if (prot & PROT_WRITE)
		prot |= PROT_READ;
	if (flags & ~P2PMR_BUF_SPARSE)
		return p2pmr_fail(-EINVAL, "flags 0x%x: only P2PMR_BUF_SPARSE",
				  flags);
	if (bar >= P2PMR_NR_BARS)
		return p2pmr_fail(-ENODEV, "BAR%u: BARs are numbered 0-5", bar);
	ret = p2pmr_bar_ranges(dev, bar, ranges, n, &reg);
	if (ret)
		return ret;

	b = calloc(1, sizeof(*b));
	if (!b)
		return p2pmr_fail(-ENOMEM, "out of memory");
	b->fd = -1;
	b->bar = bar;
	b->ranges = malloc(n * sizeof(*ranges));
	if (!b->ranges) {
		ret = p2pmr_fail(-ENOMEM, "out of memory");
		goto err_buf;
	}
	memcpy(b->ranges, ranges, n * sizeof(*ranges));
	b->nr_ranges = n;
	for (i = 0; i < n; i++)
		b->length += ranges[i].length;

	/* Decide what can be mapped before anything is exported. */
	if (prot != PROT_NONE) {
		ret = region_info(dev, bar, &info, &isize);
		if (ret) {
			ret = p2pmr_fail(ret, "cannot read region %u of %s: %s",
					 bar, dev->bdf, strerror(-ret));
			goto err_buf;
		}
		ret = p2pmr_mmap_areas(info, isize, &areas, &nr_areas);
		free(info);
		if (ret) {
			ret = p2pmr_fail(ret, "the region info of BAR%u of %s is malformed: %s",
					 bar, dev->bdf, strerror(-ret));
			goto err_buf;
		}
		ret = plan(dev, b, flags, areas, nr_areas, &pc, &npc);
		free(areas);
		if (ret)
			goto err_buf;
	}

	ret = p2pmr_export(dev, bar, ranges, n, O_RDWR | O_CLOEXEC);
	if (ret < 0)
		goto err_buf;
	b->fd = ret;
	if (prot == PROT_NONE)
		goto done;

	/* A window of the dma-buf's size; the mappable pieces over it. */
	p = mmap(NULL, b->length, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		ret = p2pmr_fail(-errno, "cannot reserve %" PRIu64 " bytes of address space: %s",
				 b->length, strerror(errno));
		goto err_buf;
	}
	b->addr = p;
	for (i = 0; i < npc; i++) {
		p = mmap((char *)b->addr + pc[i].boff, pc[i].len, prot,
			 MAP_SHARED | MAP_FIXED, dev->fd, reg.offset + pc[i].bar);
		if (p == MAP_FAILED) {
			ret = p2pmr_fail(-errno, "mmap of offset 0x%" PRIx64 " (%" PRIu64 " bytes) of BAR%u of %s: %s",
					 pc[i].bar, pc[i].len, bar, dev->bdf,
					 strerror(errno));
			goto err_buf;
		}
	}
	ret = set_mapped(b, pc, npc);
	if (ret)
		goto err_buf;
done:
	free(pc);
	*bufp = b;
	return 0;

err_buf:
	free(pc);
	p2pmr_buf_close(b);
	return p2pmr_ret(ret);
}

int p2pmr_buf_open(struct p2pmr_dev *dev, uint32_t bar, uint64_t offset,
		   uint64_t length, int prot, uint32_t flags,
		   struct p2pmr_buf **bufp)
{
	struct p2pmr_range r = { offset, length };

	return p2pmr_buf_open_ranges(dev, bar, &r, 1, prot, flags, bufp);
}
