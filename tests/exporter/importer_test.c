// SPDX-License-Identifier: GPL-2.0
/*
 * importer_test: vfio-pci-p2p's dma-buf exporter seen from an importer
 * (tests/kmod/importer): attach rules, DMA mapping by route, CPU access,
 * every revocation trigger, un-revoke, that revocation waits for the
 * importer to unmap, and lifetime orders.
 *
 *   importer_test BDF ROUTE [aer [SIBLING]]
 *
 * ROUTE is what mapping for the edu device must give: "host-bridge",
 * "bus-address" or "none" (refused).  Needs p2pmr_importer loaded with edu
 * bound to it, and BDF bound to vfio-pci-p2p.  With "aer", only PCIe error
 * recovery is tested, errors injected at BDF's root port through
 * /dev/aer_inject (module aer_inject).  SIBLING, another function below
 * that port bound to a driver with error handlers, is then unbound to make
 * a last recovery fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "p2pmr.h"
#include "../../vfio-export/vfio_dmabuf_uapi.h"
#include "../lib/importer.h"
#include "../lib/sysfs.h"
#include "../lib/tap.h"
#include "../lib/vfio_cfg.h"

#define PAGE 4096ULL

static const char *bdf;
static const char *route;
static struct p2pmr_dev *dev;
static int kernel_7;	/* revocable pinned importers exist (7.1+) */

static int export(struct p2pmr_dev *d, int nr, const struct p2pmr_range *r)
{
	return p2pmr_export(d, 2, r, nr, O_RDWR | O_CLOEXEC);
}

static int export1(void)
{
	struct p2pmr_range r = { 0, 16 * PAGE };

	return export(dev, 1, &r);
}

/* Open an importer attached to @buf; returns its fd or -errno. */
static int importer(int buf, unsigned int flags)
{
	return imp_open(buf, flags, 0, 0);
}

static int imp_call(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static struct imp_status status(int fd)
{
	struct imp_status st = {};

	imp_call(fd, IMP_STATUS, &st);
	return st;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int map_expect_route(int fd, const char *name)
{
	struct imp_map m = {};
	int ret = imp_call(fd, IMP_MAP, &m);

	if (!strcmp(route, "none")) {
		tap_result(ret == -EINVAL, "%s: refused map (got %d)", name, ret);
		return -1;
	}
	tap_result(!ret && m.length, "%s: map (%d, %u segments, %llu bytes at %#llx)",
		   name, ret, m.nents, (unsigned long long)m.length,
		   (unsigned long long)m.dma_addr);
	return ret;
}

static void test_attach_rules(void)
{
	int buf = export1(), fd;

	fd = importer(buf, IMP_STATIC);
	tap_result(fd == -EOPNOTSUPP, "attach-static refused (%d)", fd);
	if (fd >= 0)
		close(fd);
	fd = importer(buf, IMP_NO_P2P);
	tap_result(fd == -EOPNOTSUPP, "attach-without-peer2peer refused (%d)", fd);
	if (fd >= 0)
		close(fd);
	if (kernel_7) {
		fd = importer(buf, IMP_NO_INVALIDATE);
		tap_result(fd == -EOPNOTSUPP,
			   "attach-without-invalidate refused (%d)", fd);
		if (fd >= 0)
			close(fd);
	} else {
		printf("ok %d # SKIP attach-without-invalidate: 6.12's dma-buf core itself rejects it\n",
		       ++tap_count);
	}
	fd = importer(buf, IMP_PIN);
	if (kernel_7) {
		struct imp_map m;
		int ret = fd < 0 ? fd : imp_call(fd, IMP_MAP, &m);

		tap_result(fd >= 0 && (!ret || !strcmp(route, "none")),
			   "pinned revocable importer accepted (%d, map %d)", fd, ret);
	} else {
		struct imp_map m;
		int ret = fd < 0 ? fd : imp_call(fd, IMP_MAP, &m);

		tap_result(ret == -EOPNOTSUPP,
			   "pinned importer refused: kernel cannot revoke it (%d)", ret);
	}
	if (fd >= 0)
		close(fd);
	fd = importer(buf, IMP_NODEV);
	if (fd >= 0) {
		struct imp_map m;
		int ret = imp_call(fd, IMP_MAP, &m);

		tap_result(ret == -EINVAL, "map for a non-PCI device refused (%d)", ret);
		close(fd);
	} else {
		tap_result(0, "attach as non-PCI device (%d)", fd);
	}
	close(buf);
}

/* The exporter's debugfs view of this device must contain a line. */
static void debugfs_expect(const char *fmt, ...)
{
	char want[128], line[256], path[128];
	int found = 0;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/vfio-pci-p2p/%s/dmabufs", bdf);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		found |= !!strstr(line, want);
	if (f)
		fclose(f);
	tap_result(found, "debugfs shows \"%s\"", want);
}

static void test_map_and_cpu(void)
{
	struct p2pmr_range r[3] = {
		{ 0, PAGE }, { 64 * PAGE, 4 * PAGE }, { 1024 * PAGE, 2 * PAGE },
	};
	struct imp_cpu c = { .offset = 0, .length = 7 * PAGE, .seed = 42 };
	struct imp_map m = {};
	int buf = export(dev, 3, r), fd, ret;

	fd = importer(buf, 0);
	if (!strcmp(route, "none")) {
		map_expect_route(fd, "multi-range");
	} else {
		ret = imp_call(fd, IMP_MAP, &m);
		tap_result(!ret && m.length == 7 * PAGE,
			   "multi-range map covers 7 pages (%d, %llu)", ret,
			   (unsigned long long)m.length);
		tap_result(!m.orig_nents,
			   "multi-range map is DMA-only: orig_nents 0 (%u)",
			   m.orig_nents);
		if (kernel_7 && !strcmp(route, "host-bridge"))
			tap_result(m.nents == 1 && m.contiguous,
				   "multi-range map is one contiguous IOVA range (%u segments)",
				   m.nents);
		else
			tap_result(m.nents == 3,
				   "multi-range map has one segment per range (%u)",
				   m.nents);
		imp_call(fd, IMP_UNMAP, NULL);
	}
	if (strcmp(route, "none"))
		debugfs_expect("route %s maps 1", route);
	ret = imp_call(fd, IMP_VMAP, NULL);
	tap_result(!ret, "vmap gives an iomem mapping (%d)", ret);
	debugfs_expect("range 2 offset 0x400000 length 0x2000");
	ret = imp_call(fd, IMP_CPU_WRITE, &c);
	tap_result(!ret, "CPU write through vmap (%d)", ret);
	ret = imp_call(fd, IMP_CPU_CHECK, &c);
	tap_result(!ret, "CPU read back through vmap (%d)", ret);
	/* Host checks BAR offsets 0, 64 and 1024 pages: see the case script. */
	close(fd);
	close(buf);
}

/* A trigger revokes; @restore (may be NULL) undoes it. */
struct trigger {
	const char *name;
	int (*fire)(void);
	int (*restore)(void);
	int permanent;
};

static int mem_off(void)
{
	return vfio_cfg_command(p2pmr_dev_fd(dev), 0, PCI_COMMAND_MEMORY);
}

static int mem_on(void)
{
	return vfio_cfg_command(p2pmr_dev_fd(dev), 1, PCI_COMMAND_MEMORY);
}

static int dev_reset(void)
{
	return ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_RESET) ? -errno : 0;
}

static int sysfs_reset(void)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", bdf);
	return sysfs_write(path, "1");
}

static int low_power(uint32_t feature)
{
	struct vfio_device_feature f = {
		.argsz = sizeof(f),
		.flags = VFIO_DEVICE_FEATURE_SET | feature,
	};

	return ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
}

static int lp_enter(void) { return low_power(VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY); }
static int lp_exit(void) { return low_power(VFIO_DEVICE_FEATURE_LOW_POWER_EXIT); }

static int hot_reset(void)
{
	struct vfio_pci_hot_reset *hr;
	int32_t group = p2pmr_dev_group_fd(dev);
	int ret;

	hr = calloc(1, sizeof(*hr) + sizeof(int32_t));
	hr->argsz = sizeof(*hr) + sizeof(int32_t);
	hr->count = 1;
	hr->group_fds[0] = group;
	ret = ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_PCI_HOT_RESET, hr) ? -errno : 0;
	free(hr);
	return ret;
}

static void test_trigger(const struct trigger *t, unsigned int flags)
{
	struct imp_status st;
	struct imp_cpu c = { .offset = 0, .length = PAGE, .seed = 5 };
	int buf = export1(), fd, ret, mapped = 0;
	uint64_t t0, t1;

	fd = importer(buf, flags);
	if (fd < 0) {
		tap_result(0, "%s: attach (%d)", t->name, fd);
		close(buf);
		return;
	}
	if (strcmp(route, "none")) {
		struct imp_map m;

		mapped = !imp_call(fd, IMP_MAP, &m);
	}
	imp_call(fd, IMP_VMAP, NULL);
	t0 = now_ns();
	ret = t->fire();
	t1 = now_ns();
	if (ret) {
		tap_result(0, "%s: trigger failed: %s", t->name, strerror(-ret));
		goto out;
	}
	st = status(fd);
	if (flags & IMP_LAZY_UNMAP) {
		/* The importer unmaps 300 ms after being told: wait for it. */
		tap_result(st.invalidates >= 1 && !st.mapped && !st.vmapped &&
			   st.last_unmap_ns && st.last_unmap_ns <= t1 &&
			   t1 - t0 >= 250000000ULL,
			   "%s: exporter waited %.0f ms for the lazy importer to unmap",
			   t->name, (t1 - t0) / 1e6);
	} else {
		tap_result(st.invalidates >= 1 && !st.mapped && !st.vmapped,
			   "%s: importer invalidated and unmapped (inval %u mapped %u vmapped %u, had map %d)",
			   t->name, st.invalidates, st.mapped, st.vmapped, mapped);
	}
	tap_result(!st.late_invalidates,
		   "%s: importer invalidated while the BAR still decoded (late %u)",
		   t->name, st.late_invalidates);
	ret = imp_call(fd, IMP_CPU_WRITE, &c);
	tap_result(ret == -ENXIO, "%s: CPU access after revoke refused (%d)",
		   t->name, ret);
	if (t->restore) {
		struct imp_map m;

		ret = imp_call(fd, IMP_VMAP, NULL);
		tap_result(ret == -ENODEV, "%s: vmap while revoked refused (%d)",
			   t->name, ret);
		if (strcmp(route, "none")) {
			ret = imp_call(fd, IMP_MAP, &m);
			tap_result(ret == -ENODEV, "%s: map while revoked refused (%d)",
				   t->name, ret);
		}
		ret = t->restore();
		if (ret)
			tap_result(0, "%s: restore: %s", t->name, strerror(-ret));
	}
	if (!t->permanent) {
		ret = imp_call(fd, IMP_VMAP, NULL);
		if (!ret)
			ret = imp_call(fd, IMP_CPU_WRITE, &c);
		tap_result(!ret, "%s: usable again afterwards (%d)", t->name, ret);
	}
out:
	close(fd);
	close(buf);
}

/*
 * A CPU importer that gives its mapping back late (7 s, past the exporter's
 * old 5 s grace): the exporter must not unmap behind the dma-buf core, which
 * caches the mapping and hands it to the next dma_buf_vmap().
 */
static void test_slow_cpu_importer(void)
{
	/* Pattern 5 at offset 0, as the triggers leave it: the host checks it. */
	struct imp_cpu c = { .offset = 0, .length = PAGE, .seed = 5 };
	int buf = export1(), a, b, ret;
	uint64_t t0, t1;

	a = importer(buf, IMP_SLOW_VUNMAP);
	ret = a < 0 ? a : imp_call(a, IMP_VMAP, NULL);
	tap_result(!ret, "slow CPU importer: vmap (%d)", ret);
	t0 = now_ns();
	ret = mem_off();
	t1 = now_ns();
	tap_result(!ret && t1 - t0 >= 6500000000ULL,
		   "slow CPU importer: revoke waited %.1f s for its vunmap (%d)",
		   (t1 - t0) / 1e9, ret);
	mem_on();
	b = importer(buf, 0);
	ret = b < 0 ? b : imp_call(b, IMP_VMAP, NULL);
	if (!ret)
		ret = imp_call(b, IMP_CPU_WRITE, &c);
	if (!ret)
		ret = imp_call(b, IMP_CPU_CHECK, &c);
	tap_result(!ret, "slow CPU importer: the next vmap reaches the BAR (%d)",
		   ret);
	if (b >= 0)
		close(b);
	if (a >= 0)
		close(a);
	close(buf);
}

/*
 * A buffer that outlives its device (held by an importer) across unbind:
 * it must not keep the unbound VFIO device in the device set, where a hot
 * reset of the rebound device would find it.
 */
static void test_unbind_buffer_held(void)
{
	char path[128];
	struct imp_map m;
	int buf = export1(), fd, ret;

	fd = importer(buf, 0);
	if (strcmp(route, "none"))
		imp_call(fd, IMP_MAP, &m);
	close(buf);
	p2pmr_dev_close(dev);
	dev = NULL;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	ret = sysfs_write(path, bdf);
	if (!ret)
		ret = sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (!ret)
		ret = p2pmr_dev_open(bdf, &dev);
	tap_result(!ret, "unbind and rebind with a buffer held by an importer (%d)",
		   ret);
	ret = dev ? hot_reset() : -ENODEV;
	tap_result(!ret, "hot reset of the rebound device (%d)", ret);
	close(fd);
}

#define DYNDBG "/sys/kernel/debug/dynamic_debug/control"

/* A racing thread flips the PCI_COMMAND value between two writes. */
static volatile uint16_t race_cmd;
static volatile int race_stop;
static uint16_t race_on;

static void *race_flipper(void *arg)
{
	(void)arg;
	while (!race_stop) {
		race_cmd = race_on & ~PCI_COMMAND_MEMORY;
		race_cmd = race_on;
	}
	return NULL;
}

/*
 * Config writes of PCI_COMMAND whose memory bit another thread flips while
 * the write is in flight: importers must be invalidated before decode goes
 * off, whatever value the exporter saw first.
 */
static void test_command_race(void)
{
	/* Pattern 5 at offset 0, as the triggers leave it: the host checks it. */
	struct imp_cpu c = { .offset = 0, .length = PAGE, .seed = 5 };
	struct imp_status st;
	int buf = export1(), fd, offs = 0, i, devfd = p2pmr_dev_fd(dev);
	uint64_t end = now_ns() + 4000000000ULL;
	off_t off = 0;
	pthread_t th;

	vfio_cfg_offset(devfd, &off);
	vfio_cfg_rw16(devfd, 0, off, PCI_COMMAND, (uint16_t *)&race_on);
	race_on |= PCI_COMMAND_MEMORY;
	race_cmd = race_on;
	fd = importer(buf, 0);
	imp_call(fd, IMP_VMAP, NULL);
	imp_call(fd, IMP_CPU_WRITE, &c);
	imp_call(fd, IMP_VUNMAP, NULL);
	/* Two debug lines per write would push everything else out of dmesg. */
	sysfs_write(DYNDBG, "module vfio_pci_p2p -p");
	race_stop = 0;
	pthread_create(&th, NULL, race_flipper, NULL);
	while (now_ns() < end) {
		uint16_t cmd;

		imp_call(fd, IMP_VMAP, NULL);
		for (i = 0; i < 50; i++)
			pwrite(devfd, (void *)&race_cmd, 2, off + PCI_COMMAND);
		vfio_cfg_rw16(devfd, 0, off, PCI_COMMAND, &cmd);
		if (!(cmd & PCI_COMMAND_MEMORY)) {
			offs++;
			mem_on();
		}
	}
	race_stop = 1;
	pthread_join(th, NULL);
	sysfs_write(DYNDBG, "module vfio_pci_p2p +p");
	mem_on();
	st = status(fd);
	tap_result(!st.late_invalidates,
		   "racing PCI_COMMAND writes: no importer invalidated after decode went off (late %u of %u invalidations, %d disables)",
		   st.late_invalidates, st.invalidates, offs);
	close(fd);
	close(buf);
}

/*
 * Another driver holds the BAR's resource: the device opens, but the BAR
 * cannot be claimed and must not be exported.
 */
static void test_bar_claimed(void)
{
	struct imp_claim cl = { 0 };
	unsigned long long start = 0, end = 0, flags;
	char path[128];
	int fd, buf, i, ret;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	for (i = 0; f && i <= 2; i++)
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			break;
	if (f)
		fclose(f);
	cl.start = start;
	cl.length = end - start + 1;
	p2pmr_dev_close(dev);
	dev = NULL;
	fd = open("/dev/p2pmr_importer", O_RDWR);
	ret = fd < 0 ? -errno : imp_call(fd, IMP_CLAIM, &cl);
	if (ret) {
		tap_result(0, "claim BAR2 [%#llx +%#llx] (%d)",
			   (unsigned long long)cl.start,
			   (unsigned long long)cl.length, ret);
	} else {
		ret = p2pmr_dev_open(bdf, &dev);
		buf = ret ? ret : export1();
		tap_result(buf == -ENODEV,
			   "BAR held by another driver: export refused with ENODEV (%d)",
			   buf);
		if (buf >= 0)
			close(buf);
		if (dev)
			p2pmr_dev_close(dev);
		dev = NULL;
	}
	if (fd >= 0)
		close(fd);
	tap_result(!p2pmr_dev_open(bdf, &dev), "device reopens after the claim");
}

/* IMP_FENCE: the exporter waits for the fences in the reservation object. */
static void test_fence_wait(void)
{
	struct imp_status st;
	struct imp_map m;
	int buf = export1(), fd, ret;
	uint64_t t1;

	if (!strcmp(route, "none")) {
		printf("ok %d # SKIP fence wait: no DMA route here\n", ++tap_count);
		close(buf);
		return;
	}
	fd = importer(buf, IMP_FENCE);
	ret = fd < 0 ? fd : imp_call(fd, IMP_MAP, &m);
	st = status(fd);
	tap_result(!ret && st.fences == 1, "fence: mapped with a fence (%d, %u)",
		   ret, st.fences);
	ret = mem_off();
	t1 = now_ns();
	st = status(fd);
	tap_result(!ret && st.fence_signal_ns && st.fence_signal_ns <= t1,
		   "fence: revoke returned after the importer's fence signalled (%s)",
		   st.fence_signal_ns ? "signalled" : "still pending");
	mem_on();
	if (fd >= 0)
		close(fd);
	close(buf);
}

/*
 * PROBE and a low-power entry that fails must not revoke anything: only a
 * SET that passed validation may.
 */
static void test_probe_no_revoke(void)
{
	struct {
		struct vfio_device_feature f;
		struct vfio_device_low_power_entry_with_wakeup w;
	} lp = {};
	struct imp_status st;
	struct imp_map m;
	int buf = export1(), fd, ret, ret2;

	fd = importer(buf, 0);
	if (strcmp(route, "none"))
		imp_call(fd, IMP_MAP, &m);
	imp_call(fd, IMP_VMAP, NULL);
	lp.f.argsz = sizeof(lp.f);
	lp.f.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
		     VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY;
	ret = ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_FEATURE, &lp) ? -errno : 0;
	lp.f.argsz = sizeof(lp);
	lp.f.flags = VFIO_DEVICE_FEATURE_SET |
		     VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP;
	lp.w.wakeup_eventfd = -1;
	ret2 = ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_FEATURE, &lp) ? -errno : 0;
	st = status(fd);
	tap_result(!ret && ret2 && !st.invalidates && st.vmapped,
		   "PROBE (%d) and a failing LOW_POWER_ENTRY_WITH_WAKEUP (%d) revoke nothing (inval %u)",
		   ret, ret2, st.invalidates);
	close(fd);
	close(buf);
}

/*
 * Overlapping ranges: 65536 times the first 16 MiB of the BAR is a 1 TiB
 * buffer.  Exporting it is allowed (as upstream); a CPU mapping of it is
 * refused with E2BIG before anything is allocated for it (a page array
 * for 1 TiB is 2 GiB: past INT_MAX, kvmalloc() WARNs).  libp2pmr refuses
 * overlapping ranges, so the buffer is asked for with the raw ioctl.
 */
static void test_vmap_bounded(void)
{
	const uint32_t n = 65536;
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_dma_buf buf;
	} *req;
	size_t argsz = sizeof(*req) + n * sizeof(struct vfio_region_dma_range);
	int buf, fd, ret;
	uint32_t i;

	req = calloc(1, argsz);
	req->hdr.argsz = argsz;
	req->hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF;
	req->buf.region_index = 2;
	req->buf.open_flags = O_RDWR | O_CLOEXEC;
	req->buf.nr_ranges = n;
	for (i = 0; i < n; i++)
		req->buf.dma_ranges[i] = (struct vfio_region_dma_range){
			.offset = 0, .length = 16 << 20 };
	buf = ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_FEATURE, req);
	if (buf < 0)
		buf = -errno;
	free(req);
	tap_result(buf >= 0, "1 TiB of overlapping ranges exported (%d)", buf);
	if (buf < 0)
		return;
	fd = importer(buf, 0);
	ret = fd < 0 ? fd : imp_call(fd, IMP_VMAP, NULL);
	tap_result(ret == -E2BIG,
		   "vmap of a buffer larger than its BAR refused with E2BIG (%s)",
		   ret ? strerror(-ret) : "mapped");
	if (fd >= 0)
		close(fd);
	close(buf);
}

static void test_starts_revoked(void)
{
	int buf, fd;

	mem_off();
	buf = export1();
	tap_result(buf >= 0, "export with memory decode off (%d)", buf);
	fd = importer(buf, 0);
	tap_result(fd == -ENODEV, "buffer exported with memory off starts revoked (%d)", fd);
	if (fd >= 0)
		close(fd);
	mem_on();
	fd = importer(buf, 0);
	tap_result(fd >= 0, "memory decode on: attach works (%d)", fd);
	if (fd >= 0)
		close(fd);
	close(buf);
}

static void test_device_close(void)
{
	struct imp_status st;
	struct imp_map m;
	int buf = export1(), fd, ret;

	fd = importer(buf, 0);
	imp_call(fd, IMP_VMAP, NULL);
	p2pmr_dev_close(dev);
	dev = NULL;
	st = status(fd);
	tap_result(st.invalidates >= 1 && !st.vmapped,
		   "device close revokes (inval %u)", st.invalidates);
	ret = imp_call(fd, IMP_VMAP, NULL);
	tap_result(ret == -ENODEV, "no vmap after device close (%d)", ret);
	if (strcmp(route, "none")) {
		ret = imp_call(fd, IMP_MAP, &m);
		tap_result(ret == -ENODEV, "no map after device close (%d)", ret);
	}
	close(fd);
	close(buf);
	ret = p2pmr_dev_open(bdf, &dev);
	tap_result(!ret, "device reopens after its dma-buf outlived it (%d)", ret);
	buf = export1();
	fd = importer(buf, 0);
	tap_result(fd >= 0 && !imp_call(fd, IMP_VMAP, NULL),
		   "fresh buffer after reopen works (%d)", fd);
	if (fd >= 0)
		close(fd);
	close(buf);
}

static void test_buffer_closed_first(void)
{
	int buf = export1(), fd;

	fd = importer(buf, 0);
	close(buf);	/* the importer still holds it */
	tap_result(!imp_call(fd, IMP_VMAP, NULL),
		   "dma-buf fd closed first: importer's reference keeps it usable");
	close(fd);
}

/* The owner dies with kill -9 while another process holds its buffer. */
static void test_owner_killed(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr msg = { 0 };
	struct imp_status st;
	struct cmsghdr *cmsg;
	int sv[2], fd = -1, buf = -1;
	struct iovec iov;
	char c;
	pid_t pid;

	/* The parent's device must not hold the group: close it first. */
	p2pmr_dev_close(dev);
	dev = NULL;
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid = fork();
	if (!pid) {
		struct p2pmr_dev *d;
		struct p2pmr_range r = { 0, PAGE };
		int b;

		if (p2pmr_dev_open(bdf, &d))
			_exit(1);
		b = export(d, 1, &r);
		iov.iov_base = &c;
		iov.iov_len = 1;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &b, sizeof(int));
		sendmsg(sv[1], &msg, 0);
		pause();
		_exit(0);
	}
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	if (recvmsg(sv[0], &msg, 0) == 1 && (cmsg = CMSG_FIRSTHDR(&msg)))
		memcpy(&buf, CMSG_DATA(cmsg), sizeof(int));
	if (buf >= 0)
		fd = importer(buf, 0);
	if (fd >= 0)
		imp_call(fd, IMP_VMAP, NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	st = status(fd);
	tap_result(fd >= 0 && st.invalidates >= 1 && !st.vmapped,
		   "owner killed: buffer passed over SCM_RIGHTS revoked (inval %u)",
		   st.invalidates);
	close(fd);
	close(buf);
	close(sv[0]);
	close(sv[1]);
	tap_result(!p2pmr_dev_open(bdf, &dev), "device reopens after kill -9");
}

/*
 * Unbinding the driver waits until the owner closes the device; importers
 * must be revoked at once, not when the owner finally lets go.
 */
static void test_unbind(void)
{
	char path[128];
	struct imp_status st;
	int buf = export1(), fd, wstatus, i;
	pid_t pid;

	fd = importer(buf, 0);
	imp_call(fd, IMP_VMAP, NULL);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	pid = fork();
	if (!pid) {
		closefrom(3);	/* must not hold the device it unbinds */
		_exit(sysfs_write(path, bdf) ? 1 : 0);
	}
	/* The child is blocked in the unbind until the owner closes. */
	for (i = 0; i < 1000; i++) {
		st = status(fd);
		if (st.invalidates >= 1)
			break;
		usleep(10000);
	}
	tap_result(st.invalidates >= 1 && !st.vmapped,
		   "unbind revokes while the owner still holds the device (inval %u, after %d ms)",
		   st.invalidates, i * 10);
	p2pmr_dev_close(dev);
	dev = NULL;
	waitpid(pid, &wstatus, 0);
	tap_result(WIFEXITED(wstatus) && !WEXITSTATUS(wstatus),
		   "unbind completes once the owner closes");
	close(fd);
	close(buf);
	sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	tap_result(!p2pmr_dev_open(bdf, &dev), "device rebinds and reopens");
}

/*
 * PCIe error recovery (AER).  Errors are injected through aer_inject's
 * /dev/aer_inject, which takes this record (drivers/pci/pcie/aer_inject.c,
 * not in the uAPI headers; the kernel's has the same layout: three bytes,
 * then naturally aligned words).
 */
struct aer_inj {
	uint8_t bus, dev, fn, pad;
	uint32_t uncor_status;
	uint32_t cor_status;
	uint32_t header_log[4];
	uint32_t domain;
};

/* Uncorrectable errors whose default severity is fatal and non-fatal. */
#define AER_UNC_DLP		0x00000010	/* data link protocol: fatal */
#define AER_UNC_COMP_TIME	0x00004000	/* completion timeout: non-fatal */

/* BDF's parent in sysfs: its root port in the rootports topology. */
static int root_port(unsigned int *dom, unsigned int *bus, unsigned int *dev,
		     unsigned int *fn)
{
	char path[128], real[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (!realpath(path, real))
		return -errno;
	if (sscanf(basename(dirname(real)), "%x:%x:%x.%x", dom, bus, dev,
		   fn) != 4)
		return -ENODEV;
	return 0;
}

/* Occurrences of @what in the kernel log. */
static int klog_count(const char *what)
{
	int size = klogctl(10, NULL, 0), n = 0, len;	/* SIZE_BUFFER */
	char *log, *p;

	if (size <= 0)
		return -1;
	log = malloc(size + 1);
	len = log ? klogctl(3, log, size) : -1;		/* READ_ALL */
	if (len < 0) {
		free(log);
		return -1;
	}
	log[len] = 0;
	for (p = log; (p = strstr(p, what)); p++)
		n++;
	free(log);
	return n;
}

#define AER_DONE "AER: device recovery"

/*
 * Inject @uncor at BDF's root port and wait (30 s at most) until the
 * kernel's recovery (pcie_do_recovery(), run by the AER interrupt thread)
 * says it is over, successful or not.  Returns 0 or -errno.
 */
static int aer_inject(uint32_t uncor)
{
	unsigned int dom, bus, d, fn;
	struct aer_inj inj = { .uncor_status = uncor };
	int fd, ret, before, i;

	ret = root_port(&dom, &bus, &d, &fn);
	if (ret)
		return ret;
	inj.domain = dom;
	inj.bus = bus;
	inj.dev = d;
	inj.fn = fn;
	before = klog_count(AER_DONE);
	fd = open("/dev/aer_inject", O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, &inj, sizeof(inj)) == sizeof(inj) ? 0 : -errno;
	close(fd);
	for (i = 0; !ret && i < 300; i++) {
		if (klog_count(AER_DONE) > before)
			return 0;
		usleep(100000);
	}
	return ret ? ret : -ETIMEDOUT;
}

/* PCI_COMMAND as the hardware has it, not VFIO's virtual one. */
static int phys_command(void)
{
	char path[128];
	uint16_t cmd;
	int fd, n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = pread(fd, &cmd, 2, PCI_COMMAND);
	close(fd);
	return n == 2 ? cmd : -EIO;
}

/*
 * An export of BDF and an importer of it, mapped (unless the route is none)
 * and vmapped, before an error is injected.
 */
static int aer_importer(int *buf)
{
	struct imp_map m;
	int fd;

	*buf = export1();
	fd = importer(*buf, 0);
	if (strcmp(route, "none"))
		imp_call(fd, IMP_MAP, &m);
	imp_call(fd, IMP_VMAP, NULL);
	return fd;
}

/* Whether an export made now logs that it starts revoked for @why. */
static int export_logs_revoked(const char *why)
{
	char what[128];
	int before, buf;

	snprintf(what, sizeof(what), "(revoked: %s)", why);
	before = klog_count(what);
	buf = export1();
	if (buf >= 0)
		close(buf);
	return buf >= 0 && klog_count(what) == before + 1;
}

/*
 * The owner's error eventfd (VFIO_PCI_ERR_IRQ_INDEX), which vfio-pci signals
 * from error_detected(): the variant driver must keep doing so.  6.12 offers
 * it only for a PCI Express device (pci_is_pcie()), and ivshmem is a
 * conventional PCI device behind the root port; 7.x offers it for all.
 */
static int aer_efd = -1;

/* 0, -EOPNOTSUPP if VFIO offers no error eventfd, or a negative errno. */
static int err_eventfd_set(void)
{
	char b[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)b;
	struct vfio_irq_info info = { .argsz = sizeof(info),
				      .index = VFIO_PCI_ERR_IRQ_INDEX };
	int32_t fd;

	/* 6.12 refuses the index itself (EINVAL) for such a device. */
	if (ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_GET_IRQ_INFO, &info))
		return errno == EINVAL ? -EOPNOTSUPP : -errno;
	if (!info.count)
		return -EOPNOTSUPP;
	aer_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (aer_efd < 0)
		return -errno;
	fd = aer_efd;
	set->argsz = sizeof(b);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_ERR_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &fd, sizeof(fd));
	return ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

/* How often the error eventfd fired since the last call (0: not at all). */
static long err_eventfd_count(void)
{
	uint64_t n;

	if (aer_efd < 0)
		return -EBADF;
	return read(aer_efd, &n, sizeof(n)) == sizeof(n) ? (long)n :
	       errno == EAGAIN ? 0 : -errno;
}

/* The check that the error eventfd fired once, or its skip. */
static void err_eventfd_check(const char *what)
{
	long n = err_eventfd_count();

	if (aer_efd < 0) {
		printf("ok %d # SKIP %s: no error eventfd for this device on this kernel (6.12: PCI Express devices only)\n",
		       ++tap_count, what);
		return;
	}
	tap_result(n == 1, "%s: the owner's error eventfd fired once (%ld)",
		   what, n);
}

/*
 * A non-fatal error: recovery neither freezes nor resets the device (on
 * 7.3 unless a driver below the same port asks for a reset), so importers
 * keep their mappings.
 */
static void test_aer_nonfatal(void)
{
	struct imp_cpu c = { .offset = 0, .length = PAGE, .seed = 5 };
	struct imp_status st;
	int buf, fd, ret;

	fd = aer_importer(&buf);
	err_eventfd_count();
	ret = aer_inject(AER_UNC_COMP_TIME);
	tap_result(!ret, "non-fatal AER: injected at the root port, recovery done (%s)",
		   ret ? strerror(-ret) : "ok");
	err_eventfd_check("non-fatal AER");
	st = status(fd);
	ret = imp_call(fd, IMP_CPU_WRITE, &c);
	tap_result(!st.invalidates && st.vmapped && !ret,
		   "non-fatal AER: importer kept its mappings (inval %u vmapped %u, CPU write %d)",
		   st.invalidates, st.vmapped, ret);
	close(fd);
	close(buf);
}

/*
 * A fatal error freezes the channel; recovery then resets the device with a
 * secondary bus reset, without reset_prepare() and without restoring its
 * config space.  Importers must be invalidated while the BAR still decodes
 * (from error_detected()), and stay revoked until the owner has the BARs
 * decoding again (here: memory decode set in PCI_COMMAND, which makes
 * vfio-pci restore the BARs).
 */
static void test_aer_fatal(void)
{
	struct imp_cpu c = { .offset = 0, .length = PAGE, .seed = 5 };
	struct imp_status st;
	struct imp_map m;
	int buf, fd, ret, cmd, revoked;

	fd = aer_importer(&buf);
	revoked = klog_count("revoking dma-buf of BAR2: PCIe error recovery");
	err_eventfd_count();
	ret = aer_inject(AER_UNC_DLP);
	tap_result(!ret, "fatal AER: injected at the root port, recovery done (%s)",
		   ret ? strerror(-ret) : "ok");
	err_eventfd_check("fatal AER");
	st = status(fd);
	tap_result(st.invalidates >= 1 && !st.mapped && !st.vmapped,
		   "fatal AER: importer invalidated and unmapped (inval %u mapped %u vmapped %u)",
		   st.invalidates, st.mapped, st.vmapped);
	tap_result(!st.late_invalidates,
		   "fatal AER: importer invalidated while the BAR still decoded (late %u)",
		   st.late_invalidates);
	tap_result(klog_count("revoking dma-buf of BAR2: PCIe error recovery") ==
		   revoked + 1, "fatal AER: the revoke logs why");
	cmd = phys_command();
	tap_result(cmd >= 0 && !(cmd & PCI_COMMAND_MEMORY),
		   "fatal AER: recovery reset the device (hardware PCI_COMMAND %#x)",
		   cmd);
	ret = imp_call(fd, IMP_VMAP, NULL);
	tap_result(ret == -ENODEV,
		   "fatal AER: vmap refused until the BARs decode again (%d)", ret);
	tap_result(export_logs_revoked("BARs not decoding since PCIe error recovery"),
		   "fatal AER: a new export logs that it starts revoked, and why");
	if (strcmp(route, "none")) {
		ret = imp_call(fd, IMP_MAP, &m);
		tap_result(ret == -ENODEV,
			   "fatal AER: map refused until the BARs decode again (%d)",
			   ret);
	}
	ret = mem_on();
	if (!ret)
		ret = imp_call(fd, IMP_VMAP, NULL);
	if (!ret)
		ret = imp_call(fd, IMP_CPU_WRITE, &c);
	if (!ret)
		ret = imp_call(fd, IMP_CPU_CHECK, &c);
	tap_result(!ret,
		   "fatal AER: usable again once the owner re-enables memory (%d)",
		   ret);
	close(fd);
	close(buf);
}

/*
 * A fatal error whose recovery fails: SIBLING, below the same root port,
 * is left without a driver, and a device without error handlers makes the
 * PCI core give up after resetting the link.  7.3 then reports a permanent
 * failure to the drivers (without disconnecting the device); 6.12 tells
 * them nothing and leaves the channel frozen.  Either way importers stay
 * revoked while the owner keeps the device open, memory decode on or not,
 * and buffers exported after the owner closed and opened it again work
 * (the close restored the config space saved at the open).
 */
static void test_aer_failed(const char *sibling)
{
	struct imp_cpu c = { .offset = 0, .length = PAGE, .seed = 9 };
	struct imp_status st;
	char path[128];
	int buf, fd, ret, failed, perm;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
		 sibling);
	ret = sysfs_write(path, sibling);
	tap_result(!ret, "failed AER: %s left without a driver (%d)", sibling, ret);
	fd = aer_importer(&buf);
	failed = klog_count("AER: device recovery failed");
	perm = klog_count("error_detected: channel permanently failed");
	ret = aer_inject(AER_UNC_DLP);
	tap_result(!ret && klog_count("AER: device recovery failed") == failed + 1,
		   "failed AER: injected, recovery failed (%s)",
		   ret ? strerror(-ret) : "ok");
	if (kernel_7)
		tap_result(klog_count("error_detected: channel permanently failed") ==
			   perm + 1, "failed AER, 7.3: the driver was told of the permanent failure");
	st = status(fd);
	tap_result(st.invalidates >= 1 && !st.mapped && !st.vmapped,
		   "failed AER: importer invalidated and unmapped (inval %u mapped %u vmapped %u)",
		   st.invalidates, st.mapped, st.vmapped);
	ret = mem_on();
	tap_result(!ret, "failed AER: memory decode on, device still open (%d)", ret);
	ret = imp_call(fd, IMP_VMAP, NULL);
	tap_result(ret == -ENODEV,
		   "failed AER: the importer stays revoked (vmap %d)", ret);
	tap_result(export_logs_revoked(kernel_7 ? "PCIe error recovery failed" :
				       "PCIe error recovery"),
		   "failed AER: a new export logs that it starts revoked, and why");
	close(fd);
	close(buf);

	p2pmr_dev_close(dev);
	dev = NULL;
	ret = p2pmr_dev_open(bdf, &dev);
	tap_result(!ret, "failed AER: the owner opens the device again (%d)", ret);
	if (ret)
		return;
	ret = mem_on();
	tap_result(!ret, "failed AER: memory decode on after the reopen (%d)", ret);
	/* aer_importer() vmaps: usable if that worked. */
	fd = aer_importer(&buf);
	ret = fd;
	if (fd >= 0) {
		st = status(fd);
		ret = st.vmapped ? imp_call(fd, IMP_CPU_WRITE, &c) : -ENODEV;
	}
	if (!ret)
		ret = imp_call(fd, IMP_CPU_CHECK, &c);
	tap_result(!ret,
		   "failed AER: a new export is usable after the reopen (export %d, importer and CPU access %d)",
		   buf < 0 ? buf : 0, ret);
	close(fd);
	close(buf);
}

int main(int argc, char **argv)
{
	static const struct trigger mem = { "memory-decode-off", mem_off, mem_on, 0 };
	static const struct trigger reset = { "VFIO_DEVICE_RESET", dev_reset, NULL, 0 };
	static const struct trigger sreset = { "sysfs-reset", sysfs_reset, NULL, 0 };
	static const struct trigger hreset = { "VFIO_DEVICE_PCI_HOT_RESET", hot_reset, NULL, 0 };
	static const struct trigger lp = { "low-power-entry", lp_enter, lp_exit, 0 };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct utsname u;

	if (argc < 3 || argc > 5 || (argc >= 4 && strcmp(argv[3], "aer"))) {
		fprintf(stderr, "usage: importer_test BDF host-bridge|bus-address|none [aer [SIBLING]]\n");
		return 2;
	}
	bdf = argv[1];
	route = argv[2];
	uname(&u);
	kernel_7 = atoi(u.release) >= 7;
	if (p2pmr_dev_open(bdf, &dev)) {
		fprintf(stderr, "importer_test: %s\n", p2pmr_errmsg());
		return 1;
	}
	printf("TAP version 13\n");
	if (argc >= 4) {
		int ret = err_eventfd_set();

		tap_result(!ret || (ret == -EOPNOTSUPP && !kernel_7),
			   "AER: the owner's error eventfd is set, or VFIO offers none on 6.12 (%s)",
			   strerror(-ret));
		test_aer_nonfatal();
		test_aer_fatal();
		if (argc == 5)
			test_aer_failed(argv[4]);
		if (dev)
			p2pmr_dev_close(dev);
		return tap_done();
	}
	test_attach_rules();
	test_map_and_cpu();
	test_trigger(&mem, 0);
	test_trigger(&lp, 0);
	ioctl(p2pmr_dev_fd(dev), VFIO_DEVICE_GET_INFO, &info);
	if (info.flags & VFIO_DEVICE_FLAGS_RESET) {
		test_trigger(&reset, 0);
		test_trigger(&sreset, 0);
		test_trigger(&hreset, 0);
		test_trigger(&reset, IMP_LAZY_UNMAP);
	} else {
		printf("ok %d # SKIP %s cannot be reset in this topology\n",
		       ++tap_count, bdf);
	}
	test_probe_no_revoke();
	test_fence_wait();
	test_slow_cpu_importer();
	test_command_race();
	test_vmap_bounded();
	test_starts_revoked();
	test_buffer_closed_first();
	test_device_close();
	test_owner_killed();
	test_unbind();
	if (info.flags & VFIO_DEVICE_FLAGS_RESET)
		test_unbind_buffer_held();
	test_bar_claimed();
	p2pmr_dev_close(dev);
	return tap_done();
}
