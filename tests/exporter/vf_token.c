// SPDX-License-Identifier: GPL-2.0
/*
 * vf_token: a VF of a PF that a VFIO driver owns, opened through libp2pmr
 * with the PF's VF token, and one of its BARs exported.
 *
 *   vf_token PF VF BAR
 *
 * Opens the PF and sets its VF token (p2pmr_dev_set_vf_token()); the VF
 * must then be refused without a token and with another token (EACCES,
 * the library saying why), and open with the PF's.  Exports the first
 * 4 KiB of the VF's BAR and checks the buffer is usable (the exporter's
 * begin_cpu_access: not revoked, as the PF has VF Enable and VF Memory
 * Space Enable set).  A token on the PF of a non-SR-IOV device is covered
 * by the unit tests.  TAP output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/dma-buf.h>

#include "p2pmr.h"
#include "../lib/tap.h"

#define TOKEN "5a3c9c1e-0d4b-4c2f-9e7a-8b6d2f1a0c3e"
#define OTHER "00000000-0000-0000-0000-000000000001"

int main(int argc, char **argv)
{
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_VF_TOKEN };
	struct dma_buf_sync sync = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	struct p2pmr_range r = { 0, 4096 };
	struct p2pmr_dev *pf, *vf = NULL;
	int ret, fd, bar;

	if (argc != 4) {
		fprintf(stderr, "usage: vf_token PF VF BAR\n");
		return 2;
	}
	bar = atoi(argv[3]);
	printf("TAP version 13\n");
	ret = p2pmr_dev_open(argv[1], &pf);
	tap_result(!ret, "PF %s opened (%s)", argv[1], ret ? p2pmr_errmsg() : "ok");
	if (ret)
		return tap_done();
	ret = p2pmr_dev_set_vf_token(pf, TOKEN);
	tap_result(!ret, "the PF's VF token set (%s)", ret ? p2pmr_errmsg() : "ok");

	ret = p2pmr_dev_open(argv[2], &vf);
	tap_result(ret == -EACCES && strstr(p2pmr_errmsg(), "it needs a VF token"),
		   "VF %s without a token: EACCES, said why (%d: %s)", argv[2],
		   ret, p2pmr_errmsg());
	if (!ret)
		p2pmr_dev_close(vf);
	attr.vf_token = OTHER;
	ret = p2pmr_dev_open_ex(argv[2], &attr, &vf);
	tap_result(ret == -EACCES && strstr(p2pmr_errmsg(), "is not the PF's"),
		   "VF with another token: EACCES, said why (%d: %s)", ret,
		   p2pmr_errmsg());
	if (!ret)
		p2pmr_dev_close(vf);
	attr.vf_token = TOKEN;
	ret = p2pmr_dev_open_ex(argv[2], &attr, &vf);
	tap_result(!ret, "VF with the PF's token opens (%s)",
		   ret ? p2pmr_errmsg() : "ok");
	if (ret)
		goto out;

	fd = p2pmr_export(vf, bar, &r, 1, O_RDWR | O_CLOEXEC);
	tap_result(fd >= 0, "VF BAR%d exported (%s)", bar,
		   fd < 0 ? p2pmr_errmsg() : "ok");
	if (fd >= 0) {
		/* begin_cpu_access: -ENODEV while the exporter revokes it. */
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
		tap_result(!ret, "the VF's buffer is usable, not revoked (%s)",
			   ret ? strerror(-ret) : "ok");
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
		ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
		close(fd);
	}
	p2pmr_dev_close(vf);
out:
	p2pmr_dev_close(pf);
	return tap_done();
}
