// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmr doctor BDF [--bar N] [--ibdev DEV | --importer BDF]: what to know
 * before blaming the hardware, in one report.  Each check says yes, no
 * (with what to change), or only informs; the route is worked out the way
 * vfio-pci-p2p's route.c chooses it, from sysfs, config space, /proc and
 * the kernel's configuration.
 *
 * P2PMR_PROCFS (default /proc) and P2PMR_KCONFIG (default
 * /boot/config-RELEASE) are for tests, as P2PMR_SYSFS is.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#include "cli.h"

enum verdict { V_YES, V_NO, V_INFO, V_UNKNOWN };

static const char *const verdict_name[] = { "yes", "no", "info", "unknown" };

struct doctor {
	const struct opts *o;
	struct json_object *checks;
	unsigned int problems;
};

/* One line of the report: NAME, VERDICT, what was found, what to change. */
static void report(struct doctor *d, const char *name, enum verdict v,
		   const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void report(struct doctor *d, const char *name, enum verdict v,
		   const char *fix, const char *fmt, ...)
{
	struct json_object *c;
	char found[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(found, sizeof(found), fmt, ap);
	va_end(ap);
	if (v == V_NO)
		d->problems++;
	c = jarr_obj(d->checks);
	jset_str(c, "check", name);
	jset_str(c, "result", verdict_name[v]);
	jset_str(c, "found", found);
	if (v == V_NO && fix)
		jset_str(c, "fix", fix);
	if (d->o->json)
		return;
	printf("  %-7s %-18s %s\n", v == V_NO ? "NO" : verdict_name[v], name,
	       found);
	if (v == V_NO && fix)
		printf("  %-7s %-18s fix: %s\n", "", "", fix);
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = secure_getenv(name);

	return v && *v ? v : def;
}

/* The first line of a small file, without its newline; -1 if unreadable. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int is_bdf(const char *s)
{
	unsigned int a, b, c, f;
	char end;

	return sscanf(s, "%4x:%2x:%2x.%1x%c", &a, &b, &c, &f, &end) == 4 &&
	       strlen(s) == 12;
}

/*
 * The PCI path of @bdf, from @bdf itself up to the last bridge below the
 * host bridge: @up[0] is @bdf.  @host receives the host bridge's directory
 * name ("pci0000:00").  Returns the number of functions, or -1.
 */
#define MAX_DEPTH 16
static int pci_path(const char *bdf, char up[][16], char *host, size_t hlen)
{
	char path[PATH_MAX], real[PATH_MAX], *slash;
	int n = 0;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s",
		 p2pmr_sysfs_root(), bdf);
	if (!realpath(path, real))
		return -1;
	*host = 0;
	snprintf(up[n++], 16, "%s", bdf);
	while ((slash = strrchr(real, '/'))) {
		*slash = 0;
		slash = strrchr(real, '/');
		if (!slash)
			break;
		if (!is_bdf(slash + 1)) {
			if (!strncmp(slash + 1, "pci", 3))
				snprintf(host, hlen, "%s", slash + 1);
			break;
		}
		if (n < MAX_DEPTH)
			snprintf(up[n++], 16, "%s", slash + 1);
	}
	return n;
}

/* Config space of @bdf (all of it as root, 64 bytes otherwise). */
static size_t read_config(const char *bdf, unsigned char *cfg, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config",
		 p2pmr_sysfs_root(), bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = pread(fd, cfg, len, 0);
	close(fd);
	return n > 0 ? n : 0;
}

static unsigned int cfg16(const unsigned char *c, size_t off)
{
	return c[off] | c[off + 1] << 8;
}

static uint32_t cfg32(const unsigned char *c, size_t off)
{
	return cfg16(c, off) | (uint32_t)cfg16(c, off + 2) << 16;
}

/* PCIe port type (PCI_EXP_TYPE_*), -1 if not PCIe or not readable. */
static int pcie_type(const unsigned char *cfg, size_t n)
{
	unsigned int pos, guard = 48;

	if (n < 0x40 || !(cfg16(cfg, 6) & 0x10))	/* PCI_STATUS_CAP_LIST */
		return -1;
	for (pos = cfg[0x34] & ~3u; pos >= 0x40 && pos + 4 <= n && guard--;
	     pos = cfg[pos + 1] & ~3u)
		if (cfg[pos] == 0x10)			/* PCI_CAP_ID_EXP */
			return (cfg16(cfg, pos + 2) >> 4) & 0xf;
	return -1;
}

/* Offset of extended capability @id, 0 if absent or not readable. */
static unsigned int ext_cap(const unsigned char *cfg, size_t n, unsigned int id)
{
	unsigned int pos = 0x100, guard = 512;
	uint32_t h;

	while (pos >= 0x100 && pos + 8 <= n && guard--) {
		h = cfg32(cfg, pos);
		if (!h || h == 0xffffffff)
			return 0;
		if ((h & 0xffff) == id)
			return pos;
		pos = (h >> 20) & ~3u;
	}
	return 0;
}

/* Why there are no extended capabilities to read, from what was read. */
static const char *no_ext(size_t len)
{
	return len == 0x100 ? "no extended config space (conventional PCI)" :
	       "extended config space not readable (run as root)";
}

#define EXT_CAP_ACS	0x0d
#define EXT_CAP_ATS	0x0f
#define ACS_RR		0x0004
#define ACS_CR		0x0008
#define ACS_EC		0x0020
#define EXP_TYPE_UPSTREAM 5

/* The group's type in sysfs: translated, passthrough or none. */
static const char *iommu_mode(const char *bdf, int *groupp, char *type,
			      size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *slash;
	ssize_t n;

	*groupp = -1;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group",
		 p2pmr_sysfs_root(), bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return "none";
	link[n] = 0;
	slash = strrchr(link, '/');
	*groupp = atoi(slash ? slash + 1 : link);
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/type",
		 p2pmr_sysfs_root(), *groupp);
	if (read_line(path, type, len))
		snprintf(type, len, "?");
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/name",
		 p2pmr_sysfs_root(), *groupp);
	if (!read_line(path, link, sizeof(link)) &&
	    !strcmp(link, "vfio-noiommu"))
		return "none";
	if (!strcmp(type, "identity"))
		return "passthrough";
	if (!strncmp(type, "DMA", 3) || !strcmp(type, "unmanaged"))
		return "translated";
	return "unknown";
}

static void check_iommu(struct doctor *d, const char *role, const char *bdf,
			int *translated)
{
	char name[32], type[32];
	const char *mode;
	int group;

	mode = iommu_mode(bdf, &group, type, sizeof(type));
	*translated = !strcmp(mode, "translated");
	snprintf(name, sizeof(name), "%s iommu", role);
	if (!strcmp(mode, "none"))
		report(d, name, !strcmp(role, "exporter") ? V_NO : V_INFO,
		       "boot with the IOMMU on (intel_iommu=on or amd_iommu=on); vfio-noiommu groups cannot export dma-bufs for peer-to-peer DMA",
		       "%s: %s", bdf, group < 0 ? "no IOMMU group" :
		       "vfio-noiommu group (no IOMMU)");
	else
		report(d, name, V_YES, NULL, "%s: group %d, %s (type %s)", bdf,
		       group, mode, type);
}

/*
 * ACS on the ports from @bdf's parent up to @top, @top itself included if
 * @with_top (the kernel checks the common bridge once, on the provider's
 * side).
 */
static int acs_redirects(struct doctor *d, char up[][16], int n,
			 const char *top, int with_top)
{
	unsigned char cfg[4096];
	unsigned int pos, ctrl;
	int i, last, redirects = 0;
	size_t len;

	for (i = 0, last = 0; i < n && !last; i++) {
		last = top && !strcmp(up[i], top);
		if (last && !with_top)
			break;
		len = read_config(up[i], cfg, sizeof(cfg));
		if (len <= 0x100) {
			report(d, "acs", len == 0x100 ? V_INFO : V_UNKNOWN,
			       NULL, "%s: %s", up[i], no_ext(len));
			continue;
		}
		pos = ext_cap(cfg, len, EXT_CAP_ACS);
		if (!pos) {
			report(d, "acs", V_INFO, NULL, "%s: no ACS capability",
			       up[i]);
			continue;
		}
		ctrl = cfg16(cfg, pos + 6);
		if (ctrl & (ACS_RR | ACS_CR | ACS_EC)) {
			redirects = 1;
			report(d, "acs", V_INFO, NULL,
			       "%s: ACS redirects peer-to-peer requests upstream (control 0x%04x): no direct switch route past it",
			       up[i], ctrl);
		} else {
			report(d, "acs", V_INFO, NULL,
			       "%s: ACS does not redirect (control 0x%04x)",
			       up[i], ctrl);
		}
	}
	return redirects;
}

static void check_ats(struct doctor *d, const char *bdf)
{
	unsigned char cfg[4096];
	unsigned int pos;
	size_t len;

	len = read_config(bdf, cfg, sizeof(cfg));
	if (len <= 0x100) {
		report(d, "ats", len == 0x100 ? V_INFO : V_UNKNOWN, NULL,
		       "%s: %s", bdf, no_ext(len));
		return;
	}
	pos = ext_cap(cfg, len, EXT_CAP_ATS);
	report(d, "ats", V_INFO, NULL, "%s: %s", bdf,
	       !pos ? "no ATS capability" :
	       cfg16(cfg, pos + 6) & 0x8000 ?
	       "ATS enabled: it may send translated requests that ACS lets pass directly" :
	       "ATS capability, disabled");
}

/*
 * vfio-pci-p2p's list of host bridges known to forward peer-to-peer: the
 * kernel's P2PDMA allow-list as of 7.3 (route.c keeps the same).
 */
static const struct {
	unsigned int vendor, device;	/* device 0xffff: any */
	int same;			/* only between its own ports */
} host_bridges[] = {
	{ 0x8086, 0x3c00, 1 }, { 0x8086, 0x3c01, 1 },
	{ 0x8086, 0x2f00, 1 }, { 0x8086, 0x2f01, 1 },
	{ 0x8086, 0x2030, 0 }, { 0x8086, 0x2031, 0 }, { 0x8086, 0x2032, 0 },
	{ 0x8086, 0x2033, 0 }, { 0x8086, 0x2020, 0 }, { 0x8086, 0x09a2, 0 },
	{ 0x8086, 0x0b25, 0 }, { 0x8086, 0x0cfe, 0 }, { 0x8086, 0x11fb, 0 },
	{ 0x8086, 0x1212, 0 }, { 0x8086, 0x1216, 0 }, { 0x8086, 0x4940, 0 },
	{ 0x8086, 0x4942, 0 }, { 0x8086, 0x4944, 0 }, { 0x8086, 0x4946, 0 },
	{ 0x8086, 0x4948, 0 },
	{ 0x1ae0, 0xffff, 0 },
	{ 0x10de, 0x2f95, 0 }, { 0x10de, 0x2f96, 0 }, { 0x10de, 0x2f97, 0 },
	{ 0x10de, 0x2f98, 0 },
};

/*
 * The function that stands for host bridge @host, as the kernel picks it:
 * the first device of its root bus, if that is 00.0 or a root port.  Its
 * address into @bdf (@host if none), its ID into @v and @dev.  Returns 1 if
 * it is on the list for any pair of devices, 2 only for devices below this
 * one host bridge, else 0.
 */
static int host_bridge_listed(const char *host, char *bdf, unsigned int *v,
			      unsigned int *dev)
{
	char path[PATH_MAX], line[64], first[16] = "";
	unsigned char cfg[256];
	struct dirent *de;
	unsigned int i;
	DIR *dir;

	*v = *dev = 0;
	*bdf = 0;
	snprintf(path, sizeof(path), "%s/devices/%s", p2pmr_sysfs_root(), host);
	dir = opendir(path);
	while (dir && (de = readdir(dir)))
		if (is_bdf(de->d_name) && (!*first || strcmp(de->d_name, first) < 0))
			snprintf(first, sizeof(first), "%s", de->d_name);
	if (dir)
		closedir(dir);
	if (!*first || (strcmp(first + 8, "00.0") &&
			pcie_type(cfg, read_config(first, cfg, sizeof(cfg))) != 4)) {
		snprintf(bdf, 16, "%s", host);	/* no function stands for it */
		return 0;
	}
	snprintf(bdf, 16, "%s", first);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vendor",
		 p2pmr_sysfs_root(), bdf);
	if (!read_line(path, line, sizeof(line)))
		*v = strtoul(line, NULL, 0);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/device",
		 p2pmr_sysfs_root(), bdf);
	if (!read_line(path, line, sizeof(line)))
		*dev = strtoul(line, NULL, 0);
	for (i = 0; i < sizeof(host_bridges) / sizeof(host_bridges[0]); i++)
		if (*v == host_bridges[i].vendor &&
		    (host_bridges[i].device == 0xffff ||
		     *dev == host_bridges[i].device))
			return host_bridges[i].same ? 2 : 1;
	return 0;
}

/*
 * Do the host bridges @ehost and @ihost forward peer-to-peer between the two
 * devices (route.c's vpp_host_bridges_ok())?  @why says why or why not.
 */
static int host_bridge_ok(const char *ehost, const char *ihost, char *why,
			  size_t len)
{
	char path[PATH_MAX], line[256], ebdf[16], ibdf[16];
	int amd = 0, family = 0, same = !strcmp(ehost, ihost), el, il;
	unsigned int ev, edev, iv, idev;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cpuinfo", env_or("P2PMR_PROCFS", "/proc"));
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "vendor_id", 9) && strstr(line, "AuthenticAMD"))
			amd = 1;
		if (!strncmp(line, "cpu family", 10) && strchr(line, ':'))
			family = atoi(strchr(line, ':') + 1);
		if (line[0] == '\n')
			break;		/* the first CPU is enough */
	}
	if (f)
		fclose(f);
	if (amd && family >= 0x17) {
		snprintf(why, len, "an AMD Zen or later CPU (family 0x%x)", family);
		return 1;
	}
	el = host_bridge_listed(ehost, ebdf, &ev, &edev);
	il = same ? el : host_bridge_listed(ihost, ibdf, &iv, &idev);
	if (same && el) {
		snprintf(why, len, "host bridge %s %04x:%04x is on the list",
			 ebdf, ev, edev);
		return 1;
	}
	if (!same && el == 1 && il == 1) {
		snprintf(why, len, "host bridges %s %04x:%04x and %s %04x:%04x are on the list",
			 ebdf, ev, edev, ibdf, iv, idev);
		return 1;
	}
	if (same)
		snprintf(why, len, "host bridge %s (%04x:%04x) and the CPU (%s family 0x%x) are not known to forward peer-to-peer",
			 ebdf, ev, edev, amd ? "AMD" : "not AMD", family);
	else
		snprintf(why, len, "host bridges %s (%04x:%04x) and %s (%04x:%04x) and the CPU (%s family 0x%x) are not known to forward peer-to-peer between each other",
			 ebdf, ev, edev, ibdf, iv, idev,
			 amd ? "AMD" : "not AMD", family);
	return 0;
}

/* The route vfio-pci-p2p would choose to a PCI importer (route.c). */
static void check_route(struct doctor *d, const char *exp, const char *imp)
{
	char eup[MAX_DEPTH][16], iup[MAX_DEPTH][16], ehost[64], ihost[64];
	char why[256], path[PATH_MAX], cmdline[4096];
	const char *common = NULL;
	unsigned char cfg[256];
	int ne, ni, i, k, redir, translated, type = -1, sw;
	size_t len;

	check_ats(d, exp);
	check_ats(d, imp);
	check_iommu(d, "importer", imp, &translated);
	ne = pci_path(exp, eup, ehost, sizeof(ehost));
	ni = pci_path(imp, iup, ihost, sizeof(ihost));
	if (ne < 0 || ni < 0) {
		report(d, "route", V_UNKNOWN, NULL, "cannot follow the PCI path of %s in sysfs",
		       ne < 0 ? exp : imp);
		return;
	}
	for (i = 0; i < ne && !common; i++)
		for (k = 0; k < ni; k++)
			if (!strcmp(eup[i], iup[k]) && strcmp(ehost, ihost) == 0) {
				common = eup[i];
				break;
			}
	if (common) {
		len = read_config(common, cfg, sizeof(cfg));
		type = pcie_type(cfg, len);
	}
	report(d, "path", V_INFO, NULL, "%s and %s: %s%s%s", exp, imp,
	       common ? "lowest common bridge " : !strcmp(ehost, ihost) ?
	       "only the host bridge " : "different host bridges ",
	       common ? common : ehost,
	       common ? (type == EXP_TYPE_UPSTREAM ? " (a PCIe switch's upstream port)" :
			 type < 0 ? " (type not readable)" : " (not a switch)") : "");
	redir = acs_redirects(d, eup, ne, common, 1);
	redir |= acs_redirects(d, iup, ni, common, 0);
	sw = common && type == EXP_TYPE_UPSTREAM;

	if (common && !redir) {
		report(d, "route", V_YES, NULL,
		       "bus-address: common %s %s, no ACS redirect%s",
		       sw ? "PCIe switch" : "upstream bridge", common,
		       translated ? " (the importer is translated, but its requests for the BAR turn at the bridge before they reach the IOMMU)" : "");
		return;
	}
	snprintf(path, sizeof(path), "%s/cmdline", env_or("P2PMR_PROCFS", "/proc"));
	if (!read_line(path, cmdline, sizeof(cmdline)) &&
	    strstr(cmdline, "swiotlb=force")) {
		report(d, "route", V_NO,
		       "boot without swiotlb=force: MMIO cannot be bounced",
		       "refused: the importer's DMA is forced through swiotlb");
		return;
	}
	if (host_bridge_ok(ehost, ihost, why, sizeof(why))) {
		report(d, "route", V_YES, NULL,
		       "host-bridge: %s; the importer's DMA API maps the BAR%s",
		       why, common ? " (no direct route: ACS redirects)" :
		       strcmp(ehost, ihost) ? " (the devices are below different host bridges)" : "");
		return;
	}
	report(d, "route", V_NO,
	       "put both devices below one PCIe switch without ACS redirection, or use a platform whose host bridge forwards peer-to-peer (AMD Zen, the listed Intel Xeons)",
	       "refused: %s", why);
}

/*
 * CONFIG_PCI_P2PDMA of the running kernel: $P2PMR_KCONFIG, else the first
 * of /boot/config-RELEASE and the .config of its headers (Debian installs
 * no /boot/config in a container or VM root, the headers have one).
 */
static void check_p2pdma(struct doctor *d)
{
	char paths[3][PATH_MAX], line[256], tried[3 * PATH_MAX + 8] = "";
	const char *env = secure_getenv("P2PMR_KCONFIG");
	int found = -1, i, n = 0;
	struct utsname u;
	FILE *f = NULL;

	if (env && *env) {
		snprintf(paths[n++], PATH_MAX, "%s", env);
	} else {
		uname(&u);
		snprintf(paths[n++], PATH_MAX, "/boot/config-%s", u.release);
		snprintf(paths[n++], PATH_MAX, "/lib/modules/%s/build/.config",
			 u.release);
		snprintf(paths[n++], PATH_MAX, "/usr/src/linux-headers-%s/.config",
			 u.release);
	}
	for (i = 0; i < n && !f; i++) {
		f = fopen(paths[i], "r");
		if (!f)
			snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried),
				 "%s%s", i ? ", " : "", paths[i]);
	}
	while (f && fgets(line, sizeof(line), f)) {
		if (!strcmp(line, "CONFIG_PCI_P2PDMA=y\n"))
			found = 1;
		else if (!strcmp(line, "# CONFIG_PCI_P2PDMA is not set\n"))
			found = 0;
	}
	if (f)
		fclose(f);
	if (!f)
		report(d, "kernel p2pdma", V_UNKNOWN, NULL,
		       "no kernel configuration to read (tried %s)", tried);
	else if (found < 0)
		report(d, "kernel p2pdma", V_UNKNOWN, NULL,
		       "%s has no CONFIG_PCI_P2PDMA line", paths[i - 1]);
	else
		report(d, "kernel p2pdma", V_INFO, NULL,
		       found ? "CONFIG_PCI_P2PDMA=y (%s): the kernel's P2PDMA decides whether a pair is served, vfio-pci-p2p picks the route by the same rules" :
		       "CONFIG_PCI_P2PDMA is off (%s): vfio-pci-p2p decides routes alone",
		       paths[i - 1]);
}

/* The BAR to look at: --bar, else the largest memory BAR. */
static int pick_bar(const struct opts *o, const struct p2pmr_pci_info *info)
{
	int b, best = -1;

	if (o->given & OPT_BAR)
		return o->bar;
	for (b = 0; b < P2PMR_NR_BARS; b++)
		if ((info->bar[b].flags & P2PMR_REGION_MEM) &&
		    (best < 0 || info->bar[b].size > info->bar[best].size))
			best = b;
	return best;
}

static void check_bar(struct doctor *d, const struct p2pmr_pci_info *info,
		      int bar)
{
	char path[PATH_MAX], line[128], buf[32];
	unsigned long long start, end, flags = 0;
	const struct p2pmr_bar_info *b;
	FILE *f;
	int i;

	if (bar < 0) {
		report(d, "bar", V_NO, "use a device with a memory BAR",
		       "%s has no memory BAR", info->bdf);
		return;
	}
	b = &info->bar[bar];
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/resource",
		 p2pmr_sysfs_root(), info->bdf);
	f = fopen(path, "r");
	for (i = 0; f && fgets(line, sizeof(line), f) && i <= bar; i++)
		if (i == bar && sscanf(line, "%llx %llx %llx", &start, &end,
				       &flags) != 3)
			flags = 0;
	if (f)
		fclose(f);
	if (!b->size || !(b->flags & P2PMR_REGION_MEM)) {
		report(d, "bar", V_NO, "choose a memory BAR with --bar (p2pmr list shows them)",
		       "BAR%d of %s is %s", bar, info->bdf,
		       b->size ? "an I/O BAR" : "absent");
		return;
	}
	report(d, "bar", V_YES, NULL, "BAR%d: %s, %s, %s", bar,
	       human(b->size, buf, sizeof(buf)),
	       b->flags & P2PMR_REGION_PREFETCH ? "prefetchable" :
	       "not prefetchable (exported all the same; importers map it uncached)",
	       flags & 0x00100000 ? "64-bit" : "32-bit");	/* IORESOURCE_MEM_64 */
}

/* Export one page of the BAR: does the driver export dma-bufs at all? */
static int check_export(struct doctor *d, const char *bdf, int bar,
			struct p2pmr_dev **devp)
{
	struct p2pmr_range r = { 0, p2pmr_page_size() };
	int fd, ret;

	ret = dev_open(d->o, bdf, devp);
	if (ret) {
		report(d, "dma-buf export", V_NO,
		       "see the message; p2pmr(1) SETTING UP A DEVICE",
		       "cannot open the device: %s", p2pmr_errmsg());
		*devp = NULL;
		return -1;
	}
	fd = p2pmr_export(*devp, bar, &r, 1, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		report(d, "dma-buf export", V_NO,
		       fd == -EOPNOTSUPP ? "modprobe vfio-pci-p2p and bind the device to it, or use Linux >= 6.19 vfio-pci" :
		       "see the message",
		       "%s", p2pmr_errmsg());
		return -1;
	}
	report(d, "dma-buf export", V_YES, NULL,
	       "VFIO_DEVICE_FEATURE_DMA_BUF works: one page of BAR%d exported",
	       bar);
	return fd;
}

/* --ibdev: does it register dma-buf MRs, and can it be revoked? */
static void check_ibdev(struct doctor *d, const char *name, int dmabuf,
			char *pci, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX], drv[64] = "";
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd = NULL;
	struct ibv_mr *mr = NULL;
	const char *base;
	ssize_t n;
	int i, num, ret;

	*pci = 0;
	list = ibv_get_device_list(&num);
	for (i = 0; list && i < num; i++)
		if (!strcmp(name, ibv_get_device_name(list[i])))
			break;
	if (!list || i == num) {
		report(d, "rdma device", V_NO,
		       "ibv_devices lists the RDMA devices; Soft-RoCE: rdma link add rxe0 type rxe netdev IFACE",
		       "no RDMA device %s", name);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/class/infiniband/%s/device",
		 p2pmr_sysfs_root(), name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		base = strrchr(link, '/');
		base = base ? base + 1 : link;
		if (is_bdf(base))
			snprintf(pci, len, "%s", base);
	}
	snprintf(path, sizeof(path), "%s/class/infiniband/%s/device/driver",
		 p2pmr_sysfs_root(), name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		base = strrchr(link, '/');
		snprintf(drv, sizeof(drv), "%.63s", base ? base + 1 : link);
	}
	report(d, "rdma device", V_YES, NULL, "%s%s%s%s%s", name,
	       *pci ? " on " : " (not a PCI device)", pci, *drv ? ", driver " : "",
	       drv);
	if (dmabuf < 0) {
		report(d, "dma-buf mr", V_UNKNOWN, NULL,
		       "not tried: no dma-buf was exported");
		goto out;
	}
	ctx = ibv_open_device(list[i]);
	pd = ctx ? ibv_alloc_pd(ctx) : NULL;
	if (!pd) {
		report(d, "dma-buf mr", V_UNKNOWN, NULL,
		       "cannot open %s or allocate a PD: %s", name,
		       strerror(errno));
		goto out;
	}
	ret = p2pmr_reg_mr(pd, 0, p2pmr_page_size(), 0, dmabuf,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
			   IBV_ACCESS_REMOTE_WRITE, &mr);
	if (ret)
		report(d, "dma-buf mr", V_NO,
		       ret == -EOPNOTSUPP ? "a driver with dma-buf MRs (mlx5; Soft-RoCE: p2pmr's rdma_rxe and rxe provider, see p2pmr(1))" :
		       "see the message", "%s", p2pmr_errmsg());
	else
		report(d, "dma-buf mr", V_YES, NULL,
		       "ibv_reg_dmabuf_mr of one page works");
	/*
	 * How the importer is revoked follows from its kind (docs/importer.md):
	 * software devices import by CPU access, mlx5 dynamically, other
	 * drivers pinned, which only kernels with revocable pinned imports
	 * (7.1 and later) accept.
	 */
	if (!*pci)
		report(d, "revocable", V_YES, NULL,
		       "%s imports by CPU access (p2pmr's rxe): a revoke unmaps it",
		       name);
	else if (!strncmp(drv, "mlx5", 4))
		report(d, "revocable", V_YES, NULL,
		       "%s is a dynamic importer (move_notify)", drv);
	else
		report(d, "revocable", V_INFO, NULL,
		       "%s imports pinned: revocable, so accepted, from Linux 7.1; refused (EOPNOTSUPP) before",
		       *drv ? drv : name);
out:
	if (mr)
		ibv_dereg_mr(mr);
	if (pd)
		ibv_dealloc_pd(pd);
	if (ctx)
		ibv_close_device(ctx);
	if (list)
		ibv_free_device_list(list);
}

static int doctor_run(const struct opts *o)
{
	struct p2pmr_pci_info *list, *info = NULL;
	struct doctor d = { .o = o };
	struct p2pmr_dev *dev = NULL;
	char bdf[16], imp[16], pci[16];
	int bar, fd = -1, translated, ret;
	size_t n, i;

	p2pmr_parse_bdf(o->bdf, bdf, sizeof(bdf));	/* checked already */
	if (o->importer)
		p2pmr_parse_bdf(o->importer, imp, sizeof(imp));
	ret = p2pmr_list_devices(NULL, P2PMR_LIST_ALL, &list, &n);
	if (ret)
		return fail(o, ret);
	for (i = 0; i < n && !info; i++)
		if (!strcmp(list[i].bdf, bdf))
			info = &list[i];
	if (!info) {
		p2pmr_free_devices(list);
		return failf(o, -ENODEV, "no PCI device %s", bdf);
	}
	jset_str(jroot, "device", bdf);
	d.checks = jset_arr(jroot, "checks");
	if (!o->json)
		printf("p2pmr doctor %s%s%s%s%s\n", bdf,
		       o->importer ? ", importer " : "", o->importer ? imp : "",
		       o->ibdev ? ", RDMA device " : "", o->ibdev ? o->ibdev : "");

	if (p2pmr_is_vfio_bound(NULL, bdf))
		report(&d, "driver", V_YES, NULL, "%s, a VFIO driver", info->driver);
	else
		report(&d, "driver", V_NO,
		       "modprobe vfio-pci-p2p; echo vfio-pci-p2p > /sys/bus/pci/devices/BDF/driver_override; unbind; echo BDF > /sys/bus/pci/drivers_probe (p2pmr(1))",
		       "%s is %s%s, not a VFIO driver", bdf,
		       *info->driver ? "bound to " : "bound to no driver",
		       info->driver);
	check_iommu(&d, "exporter", bdf, &translated);
	bar = pick_bar(o, info);
	check_bar(&d, info, bar);
	if (bar >= 0 && info->bar[bar].size &&
	    (info->bar[bar].flags & P2PMR_REGION_MEM) &&
	    p2pmr_is_vfio_bound(NULL, bdf))
		fd = check_export(&d, bdf, bar, &dev);
	check_p2pdma(&d);
	if (o->ibdev) {
		check_ibdev(&d, o->ibdev, fd, pci, sizeof(pci));
		if (*pci)
			check_route(&d, bdf, pci);
		else
			report(&d, "route", V_INFO, NULL,
			       "none needed: %s is not a PCI device, it reaches the BAR by CPU access",
			       o->ibdev);
	} else if (o->importer) {
		check_route(&d, bdf, imp);
		report(&d, "revocable", V_INFO, NULL,
		       "depends on %s's driver: dynamic importers (move_notify) always; pinned ones from Linux 7.1",
		       imp);
	}
	jset_int(jroot, "problems", d.problems);
	if (!o->json)
		printf("%u problem%s found\n", d.problems,
		       d.problems == 1 ? "" : "s");
	if (fd >= 0)
		close(fd);
	p2pmr_dev_close(dev);
	p2pmr_free_devices(list);
	return EXIT_OK;
}

const struct cmd cmd_doctor = {
	.name = "doctor",
	.opts = OPT_BAR | OPT_IBDEV | OPT_IMPORTER | OPT_VF_TOKEN,
	.needs_bdf = 1,
	.usage =
"  doctor BDF [--bar N] [--ibdev NAME | --importer BDF] [--vf-token UUID]\n"
"                               what stands in the way of peer-to-peer DMA from\n"
"                               the device (to the importer), each no with a fix\n",
	.run = doctor_run,
};
