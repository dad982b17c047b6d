// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Host memory for DMA by the devices of a container: VFIO_IOMMU_MAP_DMA
 * (a VFIO container) or IOMMU_IOAS_MAP at a fixed IOVA (an iommufd IOAS)
 * at IOVAs picked inside the ranges the kernel reports as usable.  The
 * allocator is first fit over the container's sorted list of mappings and
 * reservations (windows a device decodes itself, such as an NVMe CMB);
 * containers hold a handful of large mappings, not thousands.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "internal.h"

static int cmp_range(const void *a, const void *b)
{
	const struct p2pmr_iova_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int p2pmr_iova_ranges(const void *buf, size_t size,
		      struct p2pmr_iova_range **rangesp, size_t *np)
{
	const struct vfio_iommu_type1_info *info = buf;
	const struct vfio_iommu_type1_info_cap_iova_range *cap;
	const struct vfio_info_cap_header *hdr;
	struct p2pmr_iova_range *r;
	uint32_t off, hops = 0;
	size_t i;

	if (size < sizeof(*info))
		return -EIO;
	off = (info->flags & VFIO_IOMMU_INFO_CAPS) ? info->cap_offset : 0;
	while (off) {
		/* Every header inside the reply, a bounded number of them. */
		if (off < sizeof(*info) || off > size ||
		    size - off < sizeof(*hdr) || ++hops > 64)
			return -EIO;
		hdr = (const void *)((const char *)buf + off);
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
			break;
		off = hdr->next;
	}
	if (!off) {
		r = malloc(sizeof(*r));
		if (!r)
			return -ENOMEM;
		r->start = 0;
		r->end = P2PMR_IOVA_FALLBACK_END;
		*rangesp = r;
		*np = 1;
		return 0;
	}
	cap = (const void *)hdr;
	if (size - off < sizeof(*cap) || !cap->nr_iovas ||
	    (size - off - sizeof(*cap)) / sizeof(cap->iova_ranges[0]) <
	    cap->nr_iovas)
		return -EIO;
	r = calloc(cap->nr_iovas, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < cap->nr_iovas; i++) {
		r[i].start = cap->iova_ranges[i].start;
		r[i].end = cap->iova_ranges[i].end;
		if (r[i].end < r[i].start) {
			free(r);
			return -EIO;
		}
	}
	qsort(r, cap->nr_iovas, sizeof(*r), cmp_range);
	*rangesp = r;
	*np = cap->nr_iovas;
	return 0;
}

/* @v rounded up to @align (a power of two); 0 if that wraps. */
static uint64_t align_up(uint64_t v, uint64_t align)
{
	return v > UINT64_MAX - (align - 1) ? 0 : (v + align - 1) & ~(align - 1);
}

int p2pmr_iova_alloc(const struct p2pmr_iova_range *ranges, size_t nr,
		     const struct p2pmr_mapping *maps, size_t nr_maps,
		     uint64_t length, uint64_t align, uint64_t *iova)
{
	size_t i, j;

	if (!length)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		uint64_t cand = align_up(ranges[i].start < align ? align :
					 ranges[i].start, align);

		for (j = 0; cand && j < nr_maps; j++) {
			const struct p2pmr_mapping *m = &maps[j];
			uint64_t last = m->iova + m->length - 1;

			if (last < cand)
				continue;	/* wholly below */
			if (m->iova >= cand && m->iova - cand >= length)
				break;		/* the gap before it fits */
			cand = last == UINT64_MAX ? 0 : align_up(last + 1, align);
		}
		/* cand 0: wrapped past the top of the address space. */
		if (cand && cand <= ranges[i].end &&
		    ranges[i].end - cand >= length - 1) {
			*iova = cand;
			return 0;
		}
	}
	return -ENOSPC;
}

/*
 * The usable IOVA ranges of an IOAS, sorted, into a new array.  Asked
 * until the array is large enough: the kernel says how many there are
 * (EMSGSIZE), and the number may change between two calls as devices
 * attach.  The IOVA alignment it also reports is at most the page size
 * (iommufd.h), which p2pmr_dma_map() aligns to anyway.
 */
static int ioas_ranges(struct p2pmr_container *c,
		       struct p2pmr_iova_range **rangesp, size_t *np)
{
	struct iommu_ioas_iova_ranges q = { .size = sizeof(q),
					    .ioas_id = c->ioas_id };
	struct iommu_iova_range *kr = NULL, *grown;
	struct p2pmr_iova_range *r;
	uint32_t i, have = 0;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		q.num_iovas = have;
		q.allowed_iovas = (uintptr_t)kr;
		if (!ioctl(c->fd, IOMMU_IOAS_IOVA_RANGES, &q))
			break;
		if (errno != EMSGSIZE || q.num_iovas <= have) {
			int err = errno;

			free(kr);
			return p2pmr_fail(-err,
					  "IOMMU_IOAS_IOVA_RANGES of IOAS %u: %s",
					  c->ioas_id, strerror(err));
		}
		have = q.num_iovas;
		grown = realloc(kr, have * sizeof(*kr));
		if (!grown) {
			free(kr);
			return p2pmr_fail(-ENOMEM, "out of memory");
		}
		kr = grown;
	}
	if (tries == 8 || !q.num_iovas || q.num_iovas > have) {
		free(kr);
		return p2pmr_fail(tries == 8 ? -EAGAIN : q.num_iovas ? -EIO :
				  -ENOSPC, "IOMMU_IOAS_IOVA_RANGES of IOAS %u: %s",
				  c->ioas_id, tries == 8 ?
				  "the number of ranges kept changing" :
				  q.num_iovas ? "more ranges reported than filled in" :
				  "no usable IOVA range");
	}
	r = calloc(q.num_iovas, sizeof(*r));
	if (!r) {
		free(kr);
		return p2pmr_fail(-ENOMEM, "out of memory");
	}
	for (i = 0; i < q.num_iovas; i++) {
		r[i].start = kr[i].start;
		r[i].end = kr[i].last;
		if (r[i].end < r[i].start) {
			free(kr);
			free(r);
			return p2pmr_fail(-EIO,
					  "IOMMU_IOAS_IOVA_RANGES of IOAS %u: range %u ends before it starts",
					  c->ioas_id, i);
		}
	}
	free(kr);
	qsort(r, q.num_iovas, sizeof(*r), cmp_range);
	*rangesp = r;
	*np = q.num_iovas;
	return 0;
}

/*
 * Read the usable IOVA ranges, once for a VFIO container, after each
 * device attached for an IOAS.  Called with c->lock held.
 */
static int container_ranges(struct p2pmr_container *c)
{
	struct vfio_iommu_type1_info *info, *grown;
	size_t size = sizeof(*info);
	int ret;

	if (c->have_ranges)
		return 0;
	if (c->iommufd) {
		struct p2pmr_iova_range *r = NULL;
		size_t n = 0;

		ret = ioas_ranges(c, &r, &n);
		if (ret)
			return ret;
		free(c->ranges);
		c->ranges = r;
		c->nr_ranges = n;
		c->have_ranges = 1;
		return 0;
	}
	info = calloc(1, size);
	if (!info)
		return p2pmr_fail(-ENOMEM, "out of memory");
	for (;;) {
		info->argsz = size;
		if (ioctl(c->fd, VFIO_IOMMU_GET_INFO, info)) {
			ret = p2pmr_fail(-errno, "VFIO_IOMMU_GET_INFO: %s",
					 strerror(errno));
			goto out;
		}
		if (info->argsz <= size)
			break;
		/* The capabilities did not fit: ask again with room. */
		size = info->argsz;
		grown = realloc(info, size);
		if (!grown) {
			ret = p2pmr_fail(-ENOMEM, "out of memory");
			goto out;
		}
		info = grown;
		memset(info, 0, size);
	}
	ret = p2pmr_iova_ranges(info, size, &c->ranges, &c->nr_ranges);
	if (ret)
		ret = p2pmr_fail(ret,
				 "VFIO_IOMMU_GET_INFO: cannot read the IOVA ranges: %s",
				 strerror(-ret));
	else
		c->have_ranges = 1;
out:
	free(info);
	return ret;
}

/* Insert @m into the sorted list.  Called with c->lock held. */
static int add_map(struct p2pmr_container *c, const struct p2pmr_mapping *m)
{
	size_t i;

	if (c->nr_maps == c->cap_maps) {
		size_t cap = c->cap_maps ? 2 * c->cap_maps : 8;
		struct p2pmr_mapping *grown = realloc(c->maps,
						      cap * sizeof(*grown));

		if (!grown)
			return p2pmr_fail(-ENOMEM, "out of memory");
		c->maps = grown;
		c->cap_maps = cap;
	}
	for (i = c->nr_maps; i && c->maps[i - 1].iova > m->iova; i--)
		c->maps[i] = c->maps[i - 1];
	c->maps[i] = *m;
	c->nr_maps++;
	return 0;
}

/* Map @length bytes at @vaddr to @iova: 0 or a positive errno. */
static int iommu_map(struct p2pmr_container *c, void *vaddr, uint64_t length,
		     uint64_t iova, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = (flags & P2PMR_DMA_READ ? VFIO_DMA_MAP_FLAG_READ : 0) |
			 (flags & P2PMR_DMA_WRITE ? VFIO_DMA_MAP_FLAG_WRITE : 0),
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = length,
	};
	struct iommu_ioas_map ioas = {
		.size = sizeof(ioas),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
			 (flags & P2PMR_DMA_READ ? IOMMU_IOAS_MAP_READABLE : 0) |
			 (flags & P2PMR_DMA_WRITE ? IOMMU_IOAS_MAP_WRITEABLE : 0),
		.ioas_id = c->ioas_id,
		.user_va = (uintptr_t)vaddr,
		.length = length,
		.iova = iova,
	};

	if (c->iommufd ? ioctl(c->fd, IOMMU_IOAS_MAP, &ioas) :
			 ioctl(c->fd, VFIO_IOMMU_MAP_DMA, &map))
		return errno;
	return 0;
}

static int iommu_unmap(struct p2pmr_container *c, uint64_t iova,
		       uint64_t length)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = length,
	};
	struct iommu_ioas_unmap ioas = {
		.size = sizeof(ioas), .ioas_id = c->ioas_id,
		.iova = iova, .length = length,
	};

	if (c->iommufd ? ioctl(c->fd, IOMMU_IOAS_UNMAP, &ioas) :
			 ioctl(c->fd, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return errno;
	return 0;
}

int p2pmr_dma_map(struct p2pmr_dev *dev, void *vaddr, size_t length,
		  uint32_t flags, uint64_t *iovap)
{
	uint64_t page = p2pmr_page_size();
	struct p2pmr_container *c;
	struct p2pmr_mapping m;
	int ret, err;

	p2pmr_clear_error();
	if (!dev->container)
		return p2pmr_fail(-EINVAL,
				  "p2pmr_dma_map: %s is an adopted device fd; the library knows no container of it",
				  dev->bdf);
	if (!flags || (flags & ~(P2PMR_DMA_READ | P2PMR_DMA_WRITE)))
		return p2pmr_fail(-EINVAL,
				  "p2pmr_dma_map: flags 0x%x: want P2PMR_DMA_READ and/or P2PMR_DMA_WRITE",
				  flags);
	if (!length || length % page || (uintptr_t)vaddr % page)
		return p2pmr_fail(-EINVAL,
				  "p2pmr_dma_map: %p, %zu bytes: address and length must be non-zero multiples of the page size (%llu)",
				  vaddr, length, (unsigned long long)page);
	c = dev->container;
	pthread_mutex_lock(&c->lock);
	ret = container_ranges(c);
	if (ret)
		goto out;
	m.length = length;
	m.reserved = 0;
	ret = p2pmr_iova_alloc(c->ranges, c->nr_ranges, c->maps, c->nr_maps,
			       length, page, &m.iova);
	if (ret) {
		ret = p2pmr_fail(-ENOSPC,
				 "p2pmr_dma_map: no free IOVA range of %zu bytes in the container of %s",
				 length, dev->bdf);
		goto out;
	}
	/* Recorded first: a full list must not leave a mapping unknown. */
	ret = add_map(c, &m);
	if (ret)
		goto out;
	err = iommu_map(c, vaddr, length, m.iova, flags);
	if (err) {
		size_t i;

		for (i = 0; c->maps[i].iova != m.iova; i++)
			;
		memmove(&c->maps[i], &c->maps[i + 1],
			(c->nr_maps - i - 1) * sizeof(c->maps[0]));
		c->nr_maps--;
		ret = p2pmr_fail(-err,
				 "%s of %zu bytes at IOVA 0x%llx for %s: %s%s",
				 c->iommufd ? "IOMMU_IOAS_MAP" : "VFIO_IOMMU_MAP_DMA",
				 length, (unsigned long long)m.iova, dev->bdf,
				 strerror(err),
				 err == ENOMEM ? " (pinned memory counts against ulimit -l)" : "");
		goto out;
	}
	*iovap = m.iova;
out:
	pthread_mutex_unlock(&c->lock);
	return p2pmr_ret(ret);
}

int p2pmr_dma_unmap(struct p2pmr_dev *dev, uint64_t iova, size_t length)
{
	struct p2pmr_container *c;
	size_t i;
	int ret = 0, err;

	p2pmr_clear_error();
	if (!dev->container)
		return p2pmr_fail(-EINVAL,
				  "p2pmr_dma_unmap: %s is an adopted device fd; the library knows no container of it",
				  dev->bdf);
	c = dev->container;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nr_maps; i++)
		if (c->maps[i].iova == iova && c->maps[i].length == length &&
		    !c->maps[i].reserved)
			break;
	if (i == c->nr_maps) {
		ret = p2pmr_fail(-ENOENT,
				 "p2pmr_dma_unmap: no mapping of %zu bytes at IOVA 0x%llx in the container of %s",
				 length, (unsigned long long)iova, dev->bdf);
		goto out;
	}
	err = iommu_unmap(c, iova, length);
	if (err) {
		ret = p2pmr_fail(-err, "%s of %zu bytes at IOVA 0x%llx for %s: %s",
				 c->iommufd ? "IOMMU_IOAS_UNMAP" :
					      "VFIO_IOMMU_UNMAP_DMA",
				 length, (unsigned long long)iova, dev->bdf,
				 strerror(err));
		goto out;
	}
	memmove(&c->maps[i], &c->maps[i + 1],
		(c->nr_maps - i - 1) * sizeof(c->maps[0]));
	c->nr_maps--;
out:
	pthread_mutex_unlock(&c->lock);
	return p2pmr_ret(ret);
}

int p2pmr_iova_reserve(struct p2pmr_dev *dev, uint64_t iova, uint64_t length)
{
	uint64_t page = p2pmr_page_size();
	struct p2pmr_mapping m = { iova, length, 1 };
	struct p2pmr_container *c;
	size_t i;
	int ret;

	p2pmr_clear_error();
	if (!dev->container)
		return p2pmr_fail(-EINVAL,
				  "p2pmr_iova_reserve: %s is an adopted device fd; the library knows no container of it",
				  dev->bdf);
	if (!length || length % page || iova % page ||
	    iova + (length - 1) < iova)
		return p2pmr_fail(-EINVAL,
				  "p2pmr_iova_reserve: 0x%llx, %llu bytes: address and length must be non-zero multiples of the page size (%llu) and must not wrap",
				  (unsigned long long)iova,
				  (unsigned long long)length,
				  (unsigned long long)page);
	c = dev->container;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nr_maps; i++) {
		const struct p2pmr_mapping *o = &c->maps[i];

		if (o->iova + (o->length - 1) >= iova &&
		    o->iova <= iova + (length - 1)) {
			ret = p2pmr_fail(-EEXIST,
					 "p2pmr_iova_reserve: 0x%llx, %llu bytes overlaps the %s at 0x%llx (%llu bytes) in the container of %s",
					 (unsigned long long)iova,
					 (unsigned long long)length,
					 o->reserved ? "reservation" : "mapping",
					 (unsigned long long)o->iova,
					 (unsigned long long)o->length,
					 dev->bdf);
			goto out;
		}
	}
	ret = add_map(c, &m);
out:
	pthread_mutex_unlock(&c->lock);
	return p2pmr_ret(ret);
}

int p2pmr_iova_unreserve(struct p2pmr_dev *dev, uint64_t iova,
			 uint64_t length)
{
	struct p2pmr_container *c;
	size_t i;
	int ret = 0;

	p2pmr_clear_error();
	if (!dev->container)
		return p2pmr_fail(-EINVAL,
				  "p2pmr_iova_unreserve: %s is an adopted device fd; the library knows no container of it",
				  dev->bdf);
	c = dev->container;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nr_maps; i++)
		if (c->maps[i].iova == iova && c->maps[i].length == length &&
		    c->maps[i].reserved)
			break;
	if (i == c->nr_maps) {
		ret = p2pmr_fail(-ENOENT,
				 "p2pmr_iova_unreserve: no reservation of %llu bytes at IOVA 0x%llx in the container of %s",
				 (unsigned long long)length,
				 (unsigned long long)iova, dev->bdf);
		goto out;
	}
	memmove(&c->maps[i], &c->maps[i + 1],
		(c->nr_maps - i - 1) * sizeof(c->maps[0]));
	c->nr_maps--;
out:
	pthread_mutex_unlock(&c->lock);
	return p2pmr_ret(ret);
}
