// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf_fuzz: seeded random VFIO_DEVICE_FEATURE calls against a device.
 *
 *   dmabuf_fuzz BDF SEED CALLS
 *
 * Arguments are drawn mostly near the valid space (so that validation is
 * exercised deeply) and sometimes anywhere.  Every returned dma-buf is
 * checked for its size and closed; some are kept open across device
 * config changes.  The same SEED gives the same calls.  Fails if a call
 * that should have worked did not, or if the device stops working; the VM
 * runner fails the run on any kernel report.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "p2pmr.h"
#include "../../vfio-export/vfio_dmabuf_uapi.h"
#include "../lib/vfio_cfg.h"


#define PAGE 4096ULL
#define MAXR 64

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t pick(uint64_t n)
{
	return n ? rnd() % n : 0;
}

int main(int argc, char **argv)
{
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_dma_buf buf;
		struct vfio_region_dma_range r[MAXR];
	} req;
	unsigned long calls, i, fds = 0, errs[256] = { 0 }, valid_failed = 0;
	struct p2pmr_region bar2;
	struct p2pmr_dev *dev;
	int keep[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };

	if (argc != 4) {
		fprintf(stderr, "usage: dmabuf_fuzz BDF SEED CALLS\n");
		return 2;
	}
	rng = strtoull(argv[2], NULL, 0) * 2654435761ULL + 1;
	calls = strtoul(argv[3], NULL, 0);
	if (p2pmr_dev_open(argv[1], &dev) || p2pmr_query_region(dev, 2, &bar2)) {
		fprintf(stderr, "dmabuf_fuzz: %s\n", p2pmr_errmsg());
		return 1;
	}

	for (i = 0; i < calls; i++) {
		uint32_t nr = pick(4) ? 1 + pick(8) : pick(MAXR + 1);
		int valid = 1, ret, k;
		uint64_t total = 0;

		memset(&req, 0, sizeof(req));
		req.hdr.argsz = pick(10) ? sizeof(req) : pick(sizeof(req) + 64);
		req.hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF;
		if (!pick(10))
			req.hdr.flags ^= 1u << pick(32);
		if (!pick(20))
			req.hdr.flags |= VFIO_DEVICE_FEATURE_PROBE;
		req.buf.region_index = pick(5) ? 2 : pick(12);
		req.buf.open_flags = pick(8) ? O_RDWR | O_CLOEXEC : (uint32_t)rnd();
		req.buf.flags = pick(16) ? 0 : (uint32_t)rnd();
		req.buf.nr_ranges = pick(30) ? nr : (uint32_t)rnd();
		for (k = 0; k < MAXR; k++) {
			uint64_t off = pick(bar2.size / PAGE) * PAGE;
			uint64_t len = (1 + pick(16)) * PAGE;

			if (!pick(10))
				off = pick(4) ? off + pick(PAGE) : rnd();
			if (!pick(10))
				len = pick(3) ? len + pick(PAGE) : rnd();
			req.r[k].offset = off;
			req.r[k].length = len;
		}
		/* Is this call one that must succeed? */
		if (req.hdr.argsz != sizeof(req) ||
		    req.hdr.flags != (VFIO_DEVICE_FEATURE_GET |
				      VFIO_DEVICE_FEATURE_DMA_BUF) ||
		    req.buf.region_index != 2 ||
		    req.buf.open_flags != (O_RDWR | O_CLOEXEC) ||
		    req.buf.flags || !req.buf.nr_ranges ||
		    req.buf.nr_ranges > MAXR)
			valid = 0;
		for (k = 0; valid && k < (int)req.buf.nr_ranges; k++) {
			if (!req.r[k].length || req.r[k].offset % PAGE ||
			    req.r[k].length % PAGE ||
			    req.r[k].offset + req.r[k].length < req.r[k].offset ||
			    req.r[k].offset + req.r[k].length > bar2.size)
				valid = 0;
			total += req.r[k].length;
		}

		ret = ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_FEATURE, &req);
		if (ret < 0) {
			errs[errno & 255]++;
			if (valid) {
				valid_failed++;
				fprintf(stderr, "call %lu: valid request failed: %s\n",
					i, strerror(errno));
			}
			continue;
		}
		if (req.hdr.flags & VFIO_DEVICE_FEATURE_PROBE)
			continue;
		fds++;
		if (valid && lseek(ret, 0, SEEK_END) != (off_t)total) {
			fprintf(stderr, "call %lu: dma-buf size %lld, want %llu\n",
				i, (long long)lseek(ret, 0, SEEK_END),
				(unsigned long long)total);
			valid_failed++;
		}
		/* Keep a few open so that revocation meets live buffers. */
		k = pick(8);
		if (keep[k] >= 0)
			close(keep[k]);
		keep[k] = ret;
		if (!pick(500)) {
			/* Flip memory decode under the live buffers. */
			vfio_cfg_command(p2pmr_dev_fd(dev), 0, PCI_COMMAND_MEMORY);
			vfio_cfg_command(p2pmr_dev_fd(dev), 1, PCI_COMMAND_MEMORY);
		}
	}
	for (i = 0; i < 8; i++)
		if (keep[i] >= 0)
			close(keep[i]);

	printf("dmabuf_fuzz: seed %s, %lu calls, %lu dma-bufs", argv[2], calls,
	       fds);
	for (i = 0; i < 256; i++)
		if (errs[i])
			printf(", %s %lu", strerrorname_np(i) ?: "?", errs[i]);
	printf("\n");
	p2pmr_dev_close(dev);
	if (valid_failed)
		printf("dmabuf_fuzz: %lu valid requests failed\n", valid_failed);
	return valid_failed ? 1 : 0;
}
