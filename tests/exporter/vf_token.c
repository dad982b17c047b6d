// SPDX-License-Identifier: GPL-2.0
/*
 * vf_token: a VF of a PF that a VFIO driver owns, opened through libp2pmr
 * with the PF's VF token, and one of its BARs exported.
 *
 *   vf_token PF VF BAR [reset]
 *
 * Opens the PF and sets its VF token (p2pmr_dev_set_vf_token()); the VF
 * must then be refused without a token and with another token (EACCES,
 * the library saying why), and open with the PF's.  Exports the first
 * 4 KiB of the VF's BAR and checks the buffer is usable (the exporter's
 * begin_cpu_access: not revoked, as the PF has VF Enable and VF Memory
 * Space Enable set).  With "reset", the test importer (tests/kmod/importer)
 * attaches to that buffer and maps it for the CPU, and the PF is reset,
 * by VFIO_DEVICE_RESET and then by closing it (vfio-pci resets a device at
 * its last close): a PF reset clears VF Enable, so the VF's importer must
 * be invalidated and unmapped before it, and the buffer is usable again
 * after it.  A token on the PF
 * of a non-SR-IOV device is covered by the unit tests.  TAP output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/vfio.h>

#include "p2pmr.h"
#include "../lib/importer.h"
#include "../lib/tap.h"

#define TOKEN "5a3c9c1e-0d4b-4c2f-9e7a-8b6d2f1a0c3e"
#define OTHER "00000000-0000-0000-0000-000000000001"

/*
 * The importer (IMP_NODEV: a CPU mapping is all it needs) on the VF's
 * buffer @fd, mapped for the CPU.  Returns its fd, or -errno.
 */
static int importer_mapped(int fd, const char *what)
{
	struct imp_status st = { 0 };
	int imp, ret;

	imp = imp_open(fd, IMP_NODEV, 0, 0);
	ret = imp < 0 ? imp : ioctl(imp, IMP_VMAP) ? -errno : 0;
	if (!ret)
		ret = ioctl(imp, IMP_STATUS, &st) ? -errno : 0;
	tap_result(!ret && st.vmapped && !st.invalidates,
		   "%s: an importer maps the VF's buffer (%s, vmapped %u)",
		   what, ret ? strerror(-ret) : "ok", st.vmapped);
	if (ret && imp >= 0)
		close(imp);
	return ret ? ret : imp;
}

/*
 * After a reset of the PF (@what), the importer @imp must have been told
 * before the VF's BAR stopped decoding, and the buffer @fd must be usable
 * again.  The importer checks the order by reading the buffer's first
 * word when told (late_invalidates); that cannot see a BAR whose first
 * word reads 0 or all ones either way (@word0, igbvf's VTCTRL reads 0), so
 * the order is then reported, not checked: it holds by construction
 * (reset_prepare() runs before the reset).
 */
static void check_revoked(int imp, int fd, const char *what, uint32_t word0)
{
	struct dma_buf_sync sync = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	struct imp_status st = { 0 };
	int ret, blind = word0 == 0 || word0 == ~0U;

	ioctl(imp, IMP_STATUS, &st);
	tap_result(st.invalidates >= 1 && !st.vmapped && !st.late_invalidates,
		   "%s: the VF's buffer was revoked, its importer unmapped (invalidates %u, vmapped %u, late %u%s)",
		   what, st.invalidates, st.vmapped, st.late_invalidates,
		   blind ? "; order not seen: the BAR's first word reads 0 or all ones" : "");
	ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
	tap_result(!ret, "%s: the VF's buffer is usable again after it (%s)",
		   what, ret ? strerror(-ret) : "ok");
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
}

/*
 * A reset of the PF clears VF Enable until the PCI core restores it: the
 * VF's importers must be revoked around it.  First VFIO_DEVICE_RESET of
 * the PF, then the reset vfio-pci does when the PF is closed (which calls
 * no reset_prepare()).  Closes the PF (*@pfp = NULL).
 */
static void pf_resets(struct p2pmr_dev **pfp, struct p2pmr_dev *vf, int fd)
{
	volatile uint32_t *bar;
	uint32_t word0 = 0;
	size_t len = 0;
	void *map;
	int imp, ret;

	if (!p2pmr_region_mmap(vf, 0, &map, &len)) {
		bar = map;
		word0 = bar[0];
		munmap(map, len);
	}
	imp = importer_mapped(fd, "PF reset");
	if (imp < 0)
		return;
	ret = ioctl(p2pmr_dev_fd(*pfp), VFIO_DEVICE_RESET) ? -errno : 0;
	tap_result(!ret, "PF reset: VFIO_DEVICE_RESET of the PF (%s)",
		   ret ? strerror(-ret) : "ok");
	check_revoked(imp, fd, "PF reset", word0);
	close(imp);

	imp = importer_mapped(fd, "PF close");
	if (imp < 0)
		return;
	p2pmr_dev_close(*pfp);
	*pfp = NULL;
	check_revoked(imp, fd, "PF close", word0);
	close(imp);
}

int main(int argc, char **argv)
{
	struct p2pmr_dev_attr attr = { .comp_mask = P2PMR_DEV_ATTR_VF_TOKEN };
	struct dma_buf_sync sync = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	struct p2pmr_range r = { 0, 4096 };
	struct p2pmr_dev *pf, *vf = NULL;
	int ret, fd, bar;

	if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "reset"))) {
		fprintf(stderr, "usage: vf_token PF VF BAR [reset]\n");
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
		if (argc == 5)
			pf_resets(&pf, vf, fd);
		close(fd);
	}
	p2pmr_dev_close(vf);
out:
	if (pf)
		p2pmr_dev_close(pf);
	return tap_done();
}
