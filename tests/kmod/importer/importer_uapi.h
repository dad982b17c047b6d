/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Test-only dma-buf importer: each open of /dev/p2pmr_importer is one
 * attachment to one dma-buf, driven by these ioctls.
 */
#ifndef P2PMR_IMPORTER_UAPI_H
#define P2PMR_IMPORTER_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Attach like a pinned-free dynamic importer unless flags say otherwise. */
#define IMP_NO_P2P		(1 << 0)  /* allow_peer2peer = false */
#define IMP_STATIC		(1 << 1)  /* dma_buf_attach(): no importer ops */
#define IMP_NO_INVALIDATE	(1 << 2)  /* importer ops without invalidate */
#define IMP_PIN			(1 << 3)  /* dma_buf_pin() after attaching */
#define IMP_NODEV		(1 << 4)  /* import as a non-PCI device */
#define IMP_LAZY_UNMAP		(1 << 5)  /* unmap 300 ms after invalidate */
/*
 * Import through the RDMA core instead, as an RDMA NIC driver does, with
 * edu as the ib_device's DMA device: ib_umem_dmabuf_get() (dynamic, with an
 * invalidate callback) or ib_umem_dmabuf_get_pinned_revocable_and_lock()
 * (mapped at attach, with a revoke callback).  The umem covers @offset,
 * @length of the dma-buf; IMP_DMA_WRITE offsets are then umem offsets,
 * translated through a per-page DMA address table like a NIC's MTT.
 */
#define IMP_UMEM		(1 << 6)
#define IMP_UMEM_PINNED		(1 << 7)
/* Give the CPU mapping back 7 s after invalidate (stop using it at once). */
#define IMP_SLOW_VUNMAP		(1 << 8)
/*
 * Each map adds a fence to the reservation object (DMA_RESV_USAGE_BOOKKEEP),
 * as a device with work in flight would; it signals 400 ms after the next
 * invalidate.
 */
#define IMP_FENCE		(1 << 9)

struct imp_attach {
	__s32 fd;		/* dma-buf */
	__u32 flags;		/* IMP_* */
	__u64 offset;		/* IMP_UMEM*: umem start in the dma-buf */
	__u64 length;		/* IMP_UMEM*: umem length, 0 = to the end */
};

struct imp_map {
	__u32 nents;		/* out: DMA segments */
	__u32 contiguous;	/* out: segments adjacent in DMA space */
	__u64 dma_addr;		/* out: first segment */
	__u64 length;		/* out: total */
	__u32 orig_nents;	/* out: CPU entries (0 for DMA-only tables) */
	__u32 pad;
};

struct imp_cpu {
	__u64 offset;		/* in the dma-buf */
	__u64 length;
	__u64 seed;		/* tests/lib/pattern.h */
};

struct imp_status {
	__u32 invalidates;	/* invalidate callbacks */
	__u32 maps;		/* successful maps */
	__u32 mapped;		/* holds a DMA mapping now */
	__u32 vmapped;		/* holds a CPU mapping now */
	__u64 last_unmap_ns;	/* CLOCK_MONOTONIC of the last unmap */
	/*
	 * Invalidations that found the BAR no longer decoding: the first word
	 * of the CPU mapping differed from what it held at vmap time.
	 */
	__u32 late_invalidates;
	__u32 fences;		/* IMP_FENCE: fences added */
	__u64 fence_signal_ns;	/* IMP_FENCE: when the last one signalled */
};

/* Claim a physical address range (request_mem_region) until close. */
struct imp_claim {
	__u64 start;
	__u64 length;
};

/*
 * edu's DMA engine copies @length (<= 4096) bytes of pattern @seed to the
 * DMA address of @offset in the current mapping: a real device DMA, split
 * where the mapping is not contiguous in DMA space.
 */
struct imp_dma {
	__u64 offset;		/* in the dma-buf */
	__u64 length;
	__u64 seed;		/* pattern position = @pattern_offset + i */
	__u64 pattern_offset;
	__u64 dma_addr;		/* out: where edu's first byte went */
};

#define IMP_ATTACH	_IOW('p', 1, struct imp_attach)
#define IMP_MAP		_IOR('p', 2, struct imp_map)
#define IMP_UNMAP	_IO('p', 3)
#define IMP_VMAP	_IO('p', 4)
#define IMP_VUNMAP	_IO('p', 5)
#define IMP_CPU_WRITE	_IOW('p', 6, struct imp_cpu)
#define IMP_CPU_CHECK	_IOW('p', 7, struct imp_cpu)
#define IMP_STATUS	_IOR('p', 8, struct imp_status)
#define IMP_DMA_WRITE	_IOWR('p', 9, struct imp_dma)
#define IMP_CLAIM	_IOW('p', 10, struct imp_claim)

#endif
