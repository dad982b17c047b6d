// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmr: list VFIO-bound devices, export BAR ranges as dma-bufs, check that
 * an RDMA device can register and use them, show the exporter's dma-bufs.
 *
 * Exit status: 0 success, 1 failure, 2 usage error, 3 a feature is missing
 * (EOPNOTSUPP: driver without VFIO_DEVICE_FEATURE_DMA_BUF, no IOMMU, RDMA
 * device without dma-buf MRs), 4 permission denied, 5 no such device, BAR
 * or driver (ENODEV/ENOENT).  See p2pmr(1).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>
#include <json-c/json.h>

#include "p2pmr.h"

#ifndef P2PMR_VERSION
#define P2PMR_VERSION "0.1.0"
#endif

enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,
	EXIT_USAGE	= 2,
	EXIT_NOTSUP	= 3,
	EXIT_PERM	= 4,
	EXIT_NODEV	= 5,
};

enum cmd { CMD_NONE, CMD_LIST, CMD_EXPORT, CMD_MR_CHECK, CMD_STATUS };

/* Options that only some commands take. */
enum {
	OPT_BAR		= 1 << 0,
	OPT_RANGES	= 1 << 1,
	OPT_IB		= 1 << 2,	/* --ibdev, --ib-port, --gid-index */
	OPT_LENGTH	= 1 << 3,
	OPT_TIMEOUT	= 1 << 4,
	OPT_ALL		= 1 << 5,
	OPT_SEND	= 1 << 6,	/* --send, and "-- CMD" */
};

static const struct {
	const char *name;
	enum cmd cmd;
	unsigned int opts;	/* OPT_* it accepts */
	int needs_bdf;
} cmds[] = {
	{ "list", CMD_LIST, OPT_ALL, 0 },
	{ "export", CMD_EXPORT, OPT_BAR | OPT_RANGES | OPT_SEND, 1 },
	{ "mr-check", CMD_MR_CHECK, OPT_BAR | OPT_RANGES | OPT_IB |
				    OPT_LENGTH | OPT_TIMEOUT, 1 },
	{ "status", CMD_STATUS, 0, 0 },
};

struct opts {
	enum cmd cmd;
	const char *bdf;
	const char *ranges;	/* NULL: the whole BAR */
	const char *ibdev;	/* NULL: the first RDMA device */
	uint32_t bar;
	uint32_t ib_port;
	int gid_index;		/* -1: the port's first RoCE v2 GID */
	uint64_t length;	/* mr-check: bytes tested per range */
	unsigned int timeout;	/* mr-check: seconds per completion */
	const char *send;	/* export --send: the socket's path */
	char **run;		/* export -- CMD ARGS: argv of CMD */
	unsigned int given;	/* OPT_* given */
	int json;
	int all;
	int help;
	int version;
};

static const char usage_text[] =
"Usage: p2pmr [--json] COMMAND [ARGS]\n"
"\n"
"  list [--all]                 VFIO-bound PCI devices and their BARs\n"
"  export BDF --bar N [--ranges SPEC] [--send SOCKET | -- CMD [ARGS]]\n"
"                               export BAR ranges as a dma-buf and print it; hand\n"
"                               it to a process listening on SOCKET, or run CMD\n"
"                               with it (fd in $P2PMR_DMABUF_FD); else close it\n"
"  mr-check BDF --bar N [--ranges SPEC] [--ibdev NAME] [--ib-port N]\n"
"           [--gid-index N] [--length BYTES] [--timeout S]\n"
"                               register the dma-buf as an RDMA MR and check an\n"
"                               RDMA WRITE and READ through it (overwrites BAR data)\n"
"  status                       dma-bufs of vfio-pci-p2p (debugfs)\n"
"\n"
"Options:\n"
"  -b, --bar N          BAR index 0-5\n"
"  -r, --ranges SPEC    OFF:LEN[,OFF:LEN...], numbers decimal or 0x hex with an\n"
"                       optional K/M/G/T suffix, page aligned (default: whole BAR)\n"
"  -d, --ibdev NAME     RDMA device (default: the first one)\n"
"  -p, --ib-port N      its port (default 1)\n"
"  -g, --gid-index N    GID index (default: the port's first RoCE v2 GID)\n"
"  -l, --length BYTES   bytes tested at the start of each range (default 64K)\n"
"  -t, --timeout S      seconds to wait for each completion (default 10)\n"
"  -s, --send SOCKET    export: send the fd over the AF_UNIX socket SOCKET and\n"
"                       keep the device open until the receiver closes it\n"
"  -a, --all            list: every PCI device, not only VFIO-bound ones\n"
"  -j, --json           machine-readable output on stdout\n"
"  -h, --help           this text\n"
"  -V, --version        the version\n"
"\n"
"Exit status: 0 ok, 1 failure, 2 usage error, 3 feature missing (EOPNOTSUPP),\n"
"4 permission denied, 5 no such device, BAR or driver.\n"
"Environment: P2PMR_SYSFS (default /sys), P2PMR_DEBUGFS (default /sys/kernel/debug).\n";

static const struct option long_opts[] = {
	{ "bar", required_argument, NULL, 'b' },
	{ "ranges", required_argument, NULL, 'r' },
	{ "ibdev", required_argument, NULL, 'd' },
	{ "ib-port", required_argument, NULL, 'p' },
	{ "gid-index", required_argument, NULL, 'g' },
	{ "length", required_argument, NULL, 'l' },
	{ "timeout", required_argument, NULL, 't' },
	{ "send", required_argument, NULL, 's' },
	{ "all", no_argument, NULL, 'a' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* The last usage error, for the JSON failure object. */
static char usage_msg[512];

static int usage_error(const char *fmt, const char *arg)
{
	snprintf(usage_msg, sizeof(usage_msg), fmt, arg);
	fprintf(stderr, "p2pmr: %s\nTry 'p2pmr --help'.\n", usage_msg);
	return EXIT_USAGE;
}

/*
 * A number in the library's syntax (p2pmr_parse_size()), at most @max; the
 * K/M/G/T suffix only if @suffix.
 */
static int parse_uint(const char *s, uint64_t max, int suffix, uint64_t *v)
{
	uint64_t n;

	if (!*s || (!suffix && strchr("kKmMgGtT", s[strlen(s) - 1])) ||
	    p2pmr_parse_size(s, &n) || n > max)
		return -1;
	*v = n;
	return 0;
}

/*
 * Parse the command line into @o.  Return 0, or EXIT_USAGE after a message
 * on stderr.  Never exits: the fuzzer calls it over and over.
 */
static int parse_cmdline(int argc, char **argv, struct opts *o)
{
	unsigned int i, accepted;
	char bdf[16];
	uint64_t v;
	int c, k;

	memset(o, 0, sizeof(*o));
	/*
	 * "--" ends p2pmr's own arguments: what follows is export's command.
	 * getopt_long would move the arguments around it, so cut it here.
	 */
	for (k = 1; k < argc; k++)
		if (!strcmp(argv[k], "--"))
			break;
	if (k < argc) {
		if (k + 1 == argc)
			return usage_error("%s", "no command after '--'");
		o->run = argv + k + 1;
		o->given |= OPT_SEND;
		argc = k;
	}
	o->ib_port = 1;
	o->gid_index = -1;
	o->length = 64 << 10;
	o->timeout = 10;
	optind = 0;	/* glibc: full re-initialisation */
	while ((c = getopt_long(argc, argv, "b:r:d:p:g:l:t:s:ajhV", long_opts,
				NULL)) != -1) {
		switch (c) {
		case 'b':
			if (parse_uint(optarg, P2PMR_NR_BARS - 1, 0, &v))
				return usage_error("--bar: '%s' is not a BAR index (0-5)",
						   optarg);
			o->bar = v;
			o->given |= OPT_BAR;
			break;
		case 'r': {
			struct p2pmr_range *r;
			size_t n;

			/* Syntax only; p2pmr_export() checks against the BAR. */
			if (p2pmr_parse_ranges(optarg, &r, &n))
				return usage_error("%s", p2pmr_errmsg());
			p2pmr_free_ranges(r);
			o->ranges = optarg;
			o->given |= OPT_RANGES;
			break;
		}
		case 'd':
			o->ibdev = optarg;
			o->given |= OPT_IB;
			break;
		case 'p':
			if (parse_uint(optarg, 255, 0, &v) || !v)
				return usage_error("--ib-port: '%s' is not a port number (1-255)",
						   optarg);
			o->ib_port = v;
			o->given |= OPT_IB;
			break;
		case 'g':
			if (parse_uint(optarg, INT_MAX, 0, &v))
				return usage_error("--gid-index: '%s' is not a GID index",
						   optarg);
			o->gid_index = v;
			o->given |= OPT_IB;
			break;
		case 'l':
			if (parse_uint(optarg, 1ULL << 30, 1, &v) || !v)
				return usage_error("--length: '%s' is not a length (1 byte to 1G)",
						   optarg);
			o->length = v;
			o->given |= OPT_LENGTH;
			break;
		case 't':
			if (parse_uint(optarg, 3600, 0, &v) || !v)
				return usage_error("--timeout: '%s' is not a number of seconds (1-3600)",
						   optarg);
			o->timeout = v;
			o->given |= OPT_TIMEOUT;
			break;
		case 's':
			if (o->send || o->run)
				return usage_error("%s", "--send and '-- CMD' are two ways to hand the dma-buf on: choose one");
			o->send = optarg;
			o->given |= OPT_SEND;
			break;
		case 'a':
			o->all = 1;
			o->given |= OPT_ALL;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'h':
			o->help = 1;
			break;
		case 'V':
			o->version = 1;
			break;
		default:	/* getopt_long printed why */
			if (optopt && optopt != '?')
				return usage_error("invalid option or missing argument: -%s",
						   (char[]){ optopt, 0 });
			return usage_error("invalid option or missing argument: %s",
					   argv[optind - 1]);
		}
	}
	if (o->help || o->version)
		return 0;
	if (optind >= argc)
		return usage_error("%s", "no command given");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[optind], cmds[i].name))
			break;
	if (!strcmp(argv[optind], "help")) {
		o->help = 1;
		return 0;
	}
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		return usage_error("unknown command '%s'", argv[optind]);
	o->cmd = cmds[i].cmd;
	accepted = cmds[i].opts;
	optind++;
	if (cmds[i].needs_bdf) {
		if (optind >= argc)
			return usage_error("%s: no device address given",
					   cmds[i].name);
		o->bdf = argv[optind++];
		if (p2pmr_parse_bdf(o->bdf, bdf, sizeof(bdf)))
			return usage_error("%s", p2pmr_errmsg());
		if (!(o->given & OPT_BAR))
			return usage_error("%s: --bar is required",
					   cmds[i].name);
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->given & ~accepted)
		return usage_error("%s: option not valid for this command",
				   cmds[i].name);
	return 0;
}

/* -errno after a failed call, -EIO if it left errno 0. */
static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

static int exit_code(int err)
{
	switch (-err) {
	case 0:
		return EXIT_OK;
	case EOPNOTSUPP:
		return EXIT_NOTSUP;
	case EPERM:
	case EACCES:
		return EXIT_PERM;
	case ENODEV:
	case ENOENT:
		return EXIT_NODEV;
	}
	return EXIT_FAIL;
}

/*
 * JSON output (--json): one object per run, built with json-c while the
 * command runs and printed by run() at the end, so a run prints exactly one.
 * Every command has its own schema, versioned by "version" (p2pmr(1)):
 * {"command": NAME, "version": N, "ok": true, ...} or, on failure,
 * {"command": NAME, "version": N, "ok": false,
 *  "error": {"errno": E, "exit": X, "message": M}}.
 * The j*() helpers do nothing on a NULL object, i.e. in text mode.
 */
#define JSON_VERSION	1

static struct json_object *jroot;	/* NULL: text output */
static const char *jcommand;		/* the command word, NULL before it */

/* Length of the valid UTF-8 sequence at @p, 0 if it is not one. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 1;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 2;
		lo = p[0] == 0xe0 ? 0xa0 : lo;
		hi = p[0] == 0xed ? 0x9f : hi;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 3;
		lo = p[0] == 0xf0 ? 0x90 : lo;
		hi = p[0] == 0xf4 ? 0x8f : hi;
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i <= n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n + 1;
}

/*
 * A JSON string of @s.  json-c escapes control characters but passes other
 * bytes through, so a byte that is not valid UTF-8 (a driver or file name
 * from sysfs may hold any) becomes U+FFFD here.
 */
static struct json_object *jstring(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct json_object *v;
	size_t len, n, k = 0;
	char *buf;

	len = strlen(s);
	buf = malloc(3 * len + 1);
	if (!buf)
		return NULL;
	while (*p) {
		n = utf8_seq(p);
		if (n) {
			memcpy(buf + k, p, n);
			k += n;
			p += n;
		} else {
			memcpy(buf + k, "\xef\xbf\xbd", 3);
			k += 3;
			p++;
		}
	}
	v = json_object_new_string_len(buf, k);
	free(buf);
	return v;
}

static void jset(struct json_object *o, const char *key, struct json_object *v)
{
	if (o)
		json_object_object_add(o, key, v);
	else
		json_object_put(v);
}

static void jset_str(struct json_object *o, const char *key, const char *v)
{
	if (o)
		jset(o, key, v ? jstring(v) : NULL);
}

static void jset_u64(struct json_object *o, const char *key, uint64_t v)
{
	if (o)
		jset(o, key, json_object_new_uint64(v));
}

static void jset_int(struct json_object *o, const char *key, int64_t v)
{
	if (o)
		jset(o, key, json_object_new_int64(v));
}

static void jset_bool(struct json_object *o, const char *key, int v)
{
	if (o)
		jset(o, key, json_object_new_boolean(v));
}

static void jset_double(struct json_object *o, const char *key, double v)
{
	if (o)
		jset(o, key, json_object_new_double(v));
}

/* A new object or array under @key of @o (NULL in text mode). */
static struct json_object *jset_obj(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o)
		return NULL;
	v = json_object_new_object();
	jset(o, key, v);
	return v;
}

static struct json_object *jset_arr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o)
		return NULL;
	v = json_object_new_array();
	jset(o, key, v);
	return v;
}

/* A new object appended to the array @a. */
static struct json_object *jarr_obj(struct json_object *a)
{
	struct json_object *v;

	if (!a)
		return NULL;
	v = json_object_new_object();
	if (json_object_array_add(a, v)) {
		json_object_put(v);
		return NULL;
	}
	return v;
}

/* The head every object starts with. */
static struct json_object *jhead(int ok)
{
	struct json_object *o = json_object_new_object();

	jset_str(o, "command", jcommand);
	jset_int(o, "version", JSON_VERSION);
	jset_bool(o, "ok", ok);
	return o;
}

/* Replace whatever was built by the failure object. */
static void jfail(int err, int exit, const char *msg)
{
	struct json_object *e;

	if (!jroot)
		return;
	json_object_put(jroot);
	jroot = jhead(0);
	e = jset_obj(jroot, "error");
	jset_int(e, "errno", -err);
	jset_int(e, "exit", exit);
	jset_str(e, "message", msg);
}

static void jprint(void)
{
	if (!jroot)
		return;
	puts(json_object_to_json_string_ext(jroot, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(jroot);
	jroot = NULL;
}

/* Report a library failure: stderr always, the JSON object too. */
static int fail(const struct opts *o, int err)
{
	(void)o;
	fprintf(stderr, "p2pmr: %s\n", p2pmr_errmsg());
	jfail(err, exit_code(err), p2pmr_errmsg());
	return exit_code(err);
}

/* Same for the tool's own failures. */
static int failf(const struct opts *o, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int failf(const struct opts *o, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	(void)o;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "p2pmr: %s\n", msg);
	jfail(err, exit_code(err), msg);
	return exit_code(err);
}

/* "64 MiB", "4 KiB", "100 bytes": sizes as people read them. */
static const char *human(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB",
					    "TiB", "PiB", "EiB" };
	unsigned int i = 0;

	while (n >= 1024 && !(n % 1024) && i < 6) {
		n /= 1024;
		i++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", n, unit[i]);
	return buf;
}

static int cmd_list(const struct opts *o)
{
	struct json_object *devs, *jd, *bars, *jb, *g;
	struct p2pmr_pci_info *list;
	char buf[32];
	size_t n, i;
	int b, ret;

	ret = p2pmr_list_devices(NULL, o->all ? P2PMR_LIST_ALL : 0, &list, &n);
	if (ret)
		return fail(o, ret);
	devs = jset_arr(jroot, "devices");
	if (!o->json && !n)
		printf("no PCI device is bound to a VFIO driver\n");
	for (i = 0; i < n; i++) {
		const struct p2pmr_pci_info *d = &list[i];

		jd = jarr_obj(devs);
		jset_str(jd, "address", d->bdf);
		jset_str(jd, "driver", *d->driver ? d->driver : NULL);
		snprintf(buf, sizeof(buf), "%04x", d->vendor);
		jset_str(jd, "vendor_id", buf);
		snprintf(buf, sizeof(buf), "%04x", d->device);
		jset_str(jd, "device_id", buf);
		if (d->iommu_group < 0) {
			jset(jd, "iommu_group", NULL);
		} else {
			g = jset_obj(jd, "iommu_group");
			jset_int(g, "id", d->iommu_group);
			jset_bool(g, "noiommu", d->noiommu);
		}
		bars = jset_arr(jd, "bars");
		if (!o->json) {
			printf("%s %s %04x:%04x", d->bdf,
			       *d->driver ? d->driver : "-", d->vendor,
			       d->device);
			if (d->iommu_group < 0)
				printf(" no-iommu-group\n");
			else
				printf(" group %d%s\n", d->iommu_group,
				       d->noiommu ? " (vfio-noiommu)" : "");
		}
		for (b = 0; b < P2PMR_NR_BARS; b++) {
			const struct p2pmr_bar_info *bar = &d->bar[b];

			if (!bar->size)
				continue;
			jb = jarr_obj(bars);
			jset_int(jb, "index", b);
			jset_str(jb, "type",
				 bar->flags & P2PMR_REGION_MEM ? "mem" : "io");
			jset_bool(jb, "prefetchable",
				  bar->flags & P2PMR_REGION_PREFETCH);
			jset_u64(jb, "start", bar->start);
			jset_u64(jb, "size", bar->size);
			if (o->json)
				continue;
			printf("  BAR%d %s%s 0x%" PRIx64 " %s\n", b,
			       bar->flags & P2PMR_REGION_MEM ? "mem" : "io",
			       bar->flags & P2PMR_REGION_PREFETCH ? " prefetchable" : "",
			       bar->start, human(bar->size, buf, sizeof(buf)));
		}
	}
	p2pmr_free_devices(list);
	return EXIT_OK;
}

/* The device, the BAR's size and the ranges (the whole BAR by default). */
struct target {
	struct p2pmr_dev *dev;
	struct p2pmr_region reg;
	struct p2pmr_range *ranges;
	size_t n;
	uint64_t total;
	struct p2pmr_range whole;	/* @ranges without --ranges */
};

static void target_close(struct target *t)
{
	if (t->ranges != &t->whole)
		p2pmr_free_ranges(t->ranges);
	p2pmr_dev_close(t->dev);
}

static int target_open(const struct opts *o, struct target *t)
{
	size_t i;
	int ret;

	memset(t, 0, sizeof(*t));
	/* Syntax first: a typo should not need the device. */
	if (o->ranges) {
		ret = p2pmr_parse_ranges(o->ranges, &t->ranges, &t->n);
		if (ret)
			return ret;
	}
	ret = p2pmr_dev_open(o->bdf, &t->dev);
	if (ret)
		goto err_ranges;
	ret = p2pmr_query_region(t->dev, o->bar, &t->reg);
	if (ret)
		goto err_dev;
	if (!o->ranges) {
		/* An absent BAR stays empty: p2pmr_export() says so. */
		t->whole.length = t->reg.size;
		t->ranges = &t->whole;
		t->n = 1;
	}
	for (i = 0; i < t->n; i++)
		t->total += t->ranges[i].length;
	return 0;

err_dev:
	p2pmr_dev_close(t->dev);
err_ranges:
	p2pmr_free_ranges(t->ranges);
	return ret;
}

/* "bar" and "dmabuf" of export and mr-check: the BAR and the ranges. */
static struct json_object *jtarget(struct json_object *root,
				   const struct opts *o,
				   const struct target *t, int64_t size)
{
	struct json_object *b, *db, *a, *r;
	size_t i;

	if (!root)
		return NULL;
	jset_str(root, "device", p2pmr_dev_bdf(t->dev));
	b = jset_obj(root, "bar");
	jset_int(b, "index", o->bar);
	jset_u64(b, "size", t->reg.size);
	db = jset_obj(root, "dmabuf");
	jset_int(db, "size", size);
	a = jset_arr(db, "ranges");
	for (i = 0; i < t->n; i++) {
		r = jarr_obj(a);
		jset_u64(r, "offset", t->ranges[i].offset);
		jset_u64(r, "length", t->ranges[i].length);
	}
	return db;
}

/*
 * export --send: connect to @o->send (SOCK_SEQPACKET, else SOCK_STREAM),
 * send @fd with the buffer's description (export's JSON object without
 * the fd; without the ranges if that would pass 64 KiB) and wait until the
 * receiver closes the socket: the dma-buf is revoked when the device
 * closes, so p2pmr holds the device open as long as the receiver wants it.
 */
static int send_dmabuf(const struct opts *o, const struct target *t, int fd,
		       off_t size)
{
	static const int types[] = { SOCK_SEQPACKET, SOCK_STREAM };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct json_object *msg, *db;
	const char *text;
	int s = -1, err = 0, ret;
	unsigned int i;
	ssize_t n;
	char c;

	if (strlen(o->send) >= sizeof(sa.sun_path))
		return failf(o, -ENAMETOOLONG, "--send: the socket path %s is too long (at most %zu bytes)",
			     o->send, sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, o->send);
	for (i = 0; i < 2; i++) {
		s = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (s < 0)
			return failf(o, neg_errno(), "cannot create a socket: %s",
				     strerror(errno));
		if (!connect(s, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		err = errno;
		close(s);
		s = -1;
		if (err != EPROTOTYPE)
			break;
	}
	if (s < 0)
		return failf(o, -ECONNREFUSED, "cannot connect to %s: %s (is a receiver listening there?)",
			     o->send, strerror(err));
	msg = jhead(1);
	db = jtarget(msg, o, t, size);
	jset_u64(db, "nr_ranges", t->n);
	text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	if (text && strlen(text) > 65536) {
		json_object_object_del(db, "ranges");
		text = json_object_to_json_string_ext(msg,
						      JSON_C_TO_STRING_PLAIN);
	}
	ret = text ? p2pmr_send_fd(s, fd, text, strlen(text)) : -ENOMEM;
	json_object_put(msg);
	if (ret) {
		close(s);
		return text ? fail(o, ret) : failf(o, ret, "out of memory");
	}
	if (!o->json) {
		printf("sent to %s; the device stays open until the receiver closes the socket\n",
		       o->send);
		fflush(stdout);
	}
	do
		n = read(s, &c, 1);
	while (n > 0 || (n < 0 && errno == EINTR));
	close(s);
	jset_str(jset_obj(jroot, "sent"), "socket", o->send);
	return EXIT_OK;
}

/*
 * export -- CMD ARGS: run CMD with the dma-buf as fd @fd (inherited, named
 * by $P2PMR_DMABUF_FD) and wait for it; the device stays open meanwhile.
 * p2pmr's exit status is CMD's (128 + N after signal N, 127 if it could
 * not be run).  With --json, CMD's stdout goes to stderr: p2pmr's stdout
 * holds the JSON object only.
 */
static int run_with_dmabuf(const struct opts *o, const struct target *t,
			   int fd, off_t size)
{
	struct json_object *r, *a;
	char num[32];
	int status, i;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return failf(o, neg_errno(), "cannot fork: %s", strerror(errno));
	if (!pid) {
		snprintf(num, sizeof(num), "%d", fd);
		setenv("P2PMR_DMABUF_FD", num, 1);
		snprintf(num, sizeof(num), "%lld", (long long)size);
		setenv("P2PMR_DMABUF_SIZE", num, 1);
		setenv("P2PMR_DEVICE", p2pmr_dev_bdf(t->dev), 1);
		snprintf(num, sizeof(num), "%u", o->bar);
		setenv("P2PMR_BAR", num, 1);
		if (fcntl(fd, F_SETFD, 0) ||
		    (o->json && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)) {
			fprintf(stderr, "p2pmr: cannot pass the dma-buf on: %s\n",
				strerror(errno));
			_exit(127);
		}
		execvp(o->run[0], o->run);
		fprintf(stderr, "p2pmr: cannot run %s: %s\n", o->run[0],
			strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return failf(o, neg_errno(), "waiting for %s: %s",
				     o->run[0], strerror(errno));
	status = WIFEXITED(status) ? WEXITSTATUS(status) :
		 128 + WTERMSIG(status);
	r = jset_obj(jroot, "run");
	a = jset_arr(r, "argv");
	for (i = 0; a && o->run[i]; i++)
		json_object_array_add(a, jstring(o->run[i]));
	jset_int(r, "pid", pid);
	jset_int(r, "exit", status);
	return status;
}

static int cmd_export(const struct opts *o)
{
	struct target t;
	char buf[32];
	off_t size;
	int fd, ret;
	size_t i;

	ret = target_open(o, &t);
	if (ret)
		return fail(o, ret);
	fd = p2pmr_export(t.dev, o->bar, t.ranges, t.n, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = fail(o, fd);
		target_close(&t);
		return ret;
	}
	/* The size the kernel gave the dma-buf, not our own sum. */
	size = lseek(fd, 0, SEEK_END);
	if (size >= 0 && (uint64_t)size != t.total) {
		ret = failf(o, -EIO, "the dma-buf is %lld bytes, the ranges %" PRIu64,
			    (long long)size, t.total);
		goto out;
	}
	jset_int(jtarget(jroot, o, &t, size), "fd", fd);
	if (!o->json) {
		printf("%s BAR%u: dma-buf fd %d size %lld (%s), %zu range%s\n",
		       p2pmr_dev_bdf(t.dev), o->bar, fd, (long long)size,
		       human(size < 0 ? 0 : size, buf, sizeof(buf)), t.n,
		       t.n == 1 ? "" : "s");
		for (i = 0; i < t.n && i < 64; i++)
			printf("  range %zu offset 0x%" PRIx64 " length 0x%" PRIx64 "\n",
			       i, t.ranges[i].offset, t.ranges[i].length);
		if (i < t.n)
			printf("  ... %zu more\n", t.n - i);
	}
	ret = EXIT_OK;
	if (o->send)
		ret = send_dmabuf(o, &t, fd, size);
	else if (o->run)
		ret = run_with_dmabuf(o, &t, fd, size);
out:
	close(fd);
	target_close(&t);
	return ret;
}

/* Everything mr-check sets up, torn down by rc_close() in reverse. */
struct rc {
	struct ibv_device **list;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_mr *dmr;		/* the dma-buf */
	struct ibv_mr *hmr;		/* host buffer: [0, len) src, [len, 2 len) dst */
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	unsigned char *host;
	size_t len;
	union ibv_gid gid;
	int gid_index;
	const char *gid_type;
	struct ibv_port_attr port;
};

static void rc_close(struct rc *rc)
{
	if (rc->qp)
		ibv_destroy_qp(rc->qp);
	if (rc->cq)
		ibv_destroy_cq(rc->cq);
	if (rc->hmr)
		ibv_dereg_mr(rc->hmr);
	if (rc->dmr)
		ibv_dereg_mr(rc->dmr);
	if (rc->pd)
		ibv_dealloc_pd(rc->pd);
	if (rc->ctx)
		ibv_close_device(rc->ctx);
	if (rc->list)
		ibv_free_device_list(rc->list);
	free(rc->host);
}

/* The GID to reach ourselves by: --gid-index, else RoCE v2, else any. */
static int pick_gid(const struct opts *o, struct rc *rc)
{
	struct ibv_gid_entry e;
	int i, any = -1;

	if (rc->port.link_layer == IBV_LINK_LAYER_INFINIBAND &&
	    o->gid_index < 0) {
		rc->gid_index = -1;	/* LID routed, no GRH */
		rc->gid_type = "IB (LID)";
		return 0;
	}
	for (i = 0; i < rc->port.gid_tbl_len; i++) {
		if (o->gid_index >= 0 && i != o->gid_index)
			continue;
		if (ibv_query_gid_ex(rc->ctx, o->ib_port, i, &e, 0))
			continue;
		if (e.gid_type == IBV_GID_TYPE_ROCE_V2 || o->gid_index >= 0) {
			any = i;
			rc->gid = e.gid;
			break;
		}
		if (any < 0) {
			any = i;
			rc->gid = e.gid;
		}
	}
	if (any < 0)
		return -1;
	rc->gid_index = any;
	if (ibv_query_gid_ex(rc->ctx, o->ib_port, any, &e, 0))
		return -1;
	rc->gid_type = e.gid_type == IBV_GID_TYPE_ROCE_V2 ? "RoCE v2" :
		       e.gid_type == IBV_GID_TYPE_ROCE_V1 ? "RoCE v1" : "IB";
	return 0;
}

static int qp_connect_self(const struct opts *o, struct rc *rc)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = o->ib_port,
		.qp_access_flags = IBV_ACCESS_LOCAL_WRITE |
				   IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ,
	};

	if (ibv_modify_qp(rc->qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = rc->port.active_mtu;
	a.dest_qp_num = rc->qp->qp_num;
	a.rq_psn = 0;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.port_num = o->ib_port;
	a.ah_attr.dlid = rc->port.lid;
	if (rc->gid_index >= 0) {
		a.ah_attr.is_global = 1;
		a.ah_attr.grh.dgid = rc->gid;
		a.ah_attr.grh.sgid_index = rc->gid_index;
		a.ah_attr.grh.hop_limit = 1;
	}
	if (ibv_modify_qp(rc->qp, &a, IBV_QP_STATE | IBV_QP_AV |
			  IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.sq_psn = 0;
	a.max_rd_atomic = 1;
	return ibv_modify_qp(rc->qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			     IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			     IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC) ? -1 : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One signalled RDMA WRITE or READ of @len bytes, waited for. */
static int rdma_op(const struct opts *o, struct rc *rc, int write,
		   unsigned char *local, uint64_t remote, size_t len,
		   char *err, size_t errlen)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)local, .length = len, .lkey = rc->hmr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = write, .sg_list = &sge, .num_sge = 1,
		.opcode = write ? IBV_WR_RDMA_WRITE : IBV_WR_RDMA_READ,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = remote, .rkey = rc->dmr->rkey },
	}, *bad;
	double deadline = now() + o->timeout;
	struct ibv_wc wc;
	int n;

	errno = ibv_post_send(rc->qp, &wr, &bad);
	if (errno) {
		snprintf(err, errlen, "posting the RDMA %s: %s",
			 write ? "WRITE" : "READ", strerror(errno));
		return -1;
	}
	while (!(n = ibv_poll_cq(rc->cq, 1, &wc))) {
		if (now() > deadline) {
			snprintf(err, errlen, "no completion of the RDMA %s within %u s",
				 write ? "WRITE" : "READ", o->timeout);
			return -1;
		}
		usleep(100);
	}
	if (n < 0 || wc.status != IBV_WC_SUCCESS) {
		snprintf(err, errlen, "RDMA %s into the dma-buf MR failed: %s (vendor error 0x%x)",
			 write ? "WRITE" : "READ",
			 n < 0 ? "ibv_poll_cq failed" : ibv_wc_status_str(wc.status),
			 n < 0 ? 0 : wc.vendor_err);
		return -1;
	}
	return 0;
}

static int cmd_mr_check(const struct opts *o)
{
	struct ibv_qp_init_attr qpa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	size_t i, tested = 0, bytes = 0, mlen;
	struct rc rc = { .gid_index = -1 };
	const char *cpu = "not mmap-able";
	unsigned char *bar = NULL;
	char err[256] = "";
	struct target t;
	uint64_t doff;
	double t0;
	int num, fd, ret;

	ret = target_open(o, &t);
	if (ret)
		return fail(o, ret);
	fd = p2pmr_export(t.dev, o->bar, t.ranges, t.n, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = fail(o, fd);
		goto out_target;
	}

	rc.list = ibv_get_device_list(&num);
	if (!rc.list || !num) {
		ret = failf(o, -ENODEV, "no RDMA device (Soft-RoCE: modprobe rdma_rxe; rdma link add rxe0 type rxe netdev IFACE)");
		goto out_rc;
	}
	for (i = 0; i < (size_t)num; i++)
		if (!o->ibdev || !strcmp(o->ibdev, ibv_get_device_name(rc.list[i])))
			break;
	if (i == (size_t)num) {
		ret = failf(o, -ENODEV, "no RDMA device %s (ibv_devices lists them)",
			    o->ibdev);
		goto out_rc;
	}
	rc.ctx = ibv_open_device(rc.list[i]);
	if (!rc.ctx) {
		ret = failf(o, neg_errno(), "cannot open RDMA device %s: %s",
			    ibv_get_device_name(rc.list[i]), strerror(errno));
		goto out_rc;
	}
	if (ibv_query_port(rc.ctx, o->ib_port, &rc.port)) {
		ret = failf(o, -ENODEV, "RDMA device %s has no port %u",
			    ibv_get_device_name(rc.ctx->device), o->ib_port);
		goto out_rc;
	}
	if (rc.port.state != IBV_PORT_ACTIVE) {
		ret = failf(o, -ENODEV, "port %u of %s is not active (state %s): is its net device up?",
			    o->ib_port, ibv_get_device_name(rc.ctx->device),
			    ibv_port_state_str(rc.port.state));
		goto out_rc;
	}
	if (pick_gid(o, &rc)) {
		ret = failf(o, -ENODEV, "port %u of %s has no usable GID%s (does its net device have an IP address?)",
			    o->ib_port, ibv_get_device_name(rc.ctx->device),
			    o->gid_index >= 0 ? " at that index" : "");
		goto out_rc;
	}
	rc.pd = ibv_alloc_pd(rc.ctx);
	if (!rc.pd) {
		ret = failf(o, -ENOMEM, "cannot allocate a protection domain on %s",
			    ibv_get_device_name(rc.ctx->device));
		goto out_rc;
	}
	ret = p2pmr_reg_mr(rc.pd, 0, t.total, 0, fd,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			   IBV_ACCESS_REMOTE_READ, &rc.dmr);
	if (ret) {
		ret = fail(o, ret);
		goto out_rc;
	}
	rc.len = o->length;
	for (i = 0, mlen = 0; i < t.n; i++)
		if (t.ranges[i].length > mlen)
			mlen = t.ranges[i].length;
	if (rc.len > mlen)
		rc.len = mlen;
	rc.host = malloc(2 * rc.len);
	if (!rc.host) {
		ret = failf(o, -ENOMEM, "out of memory");
		goto out_rc;
	}
	rc.hmr = ibv_reg_mr(rc.pd, rc.host, 2 * rc.len,
			    IBV_ACCESS_LOCAL_WRITE);
	rc.cq = rc.hmr ? ibv_create_cq(rc.ctx, 4, NULL, NULL, 0) : NULL;
	qpa.send_cq = qpa.recv_cq = rc.cq;
	rc.qp = rc.cq ? ibv_create_qp(rc.pd, &qpa) : NULL;
	if (!rc.qp || qp_connect_self(o, &rc)) {
		ret = failf(o, neg_errno(), "cannot set up a loopback RC QP on %s port %u: %s",
			    ibv_get_device_name(rc.ctx->device), o->ib_port,
			    strerror(errno));
		goto out_rc;
	}
	/* The CPU's view of the BAR, to see that the data landed there. */
	if ((t.reg.flags & P2PMR_REGION_MMAP) &&
	    !p2pmr_region_mmap(t.dev, o->bar, (void **)&bar, &mlen))
		cpu = "matches";

	/* The start of each range: at most 16, and the last one. */
	srandom(getpid() ^ (unsigned int)time(NULL));
	t0 = now();
	for (i = 0, doff = 0; i < t.n; doff += t.ranges[i].length, i++) {
		size_t len = t.ranges[i].length < rc.len ? t.ranges[i].length :
							   rc.len;
		size_t k;

		if (i >= 16 && i != t.n - 1)
			continue;
		for (k = 0; k < len; k++) {
			rc.host[k] = random();
			rc.host[rc.len + k] = ~rc.host[k];
		}
		if (rdma_op(o, &rc, 1, rc.host, doff, len, err, sizeof(err)) ||
		    rdma_op(o, &rc, 0, rc.host + rc.len, doff, len, err,
			    sizeof(err))) {
			ret = failf(o, -EIO, "range %zu: %s", i, err);
			goto out_rc;
		}
		if (memcmp(rc.host, rc.host + rc.len, len)) {
			ret = failf(o, -EIO, "range %zu: the data read back differs from the data written",
				    i);
			goto out_rc;
		}
		if (bar && memcmp(rc.host, bar + t.ranges[i].offset, len)) {
			ret = failf(o, -EIO, "range %zu: RDMA read back what it wrote, but the BAR at offset 0x%" PRIx64 " (CPU mapping) holds other data",
				    i, t.ranges[i].offset);
			goto out_rc;
		}
		tested++;
		bytes += len;
	}
	t0 = now() - t0;
	if (o->json) {
		struct json_object *r, *c;

		jtarget(jroot, o, &t, t.total);
		r = jset_obj(jroot, "rdma");
		jset_str(r, "device", ibv_get_device_name(rc.ctx->device));
		jset_int(r, "port", o->ib_port);
		jset_int(r, "gid_index", rc.gid_index);
		jset_str(r, "gid_type", rc.gid_type);
		c = jset_obj(jroot, "check");
		jset_u64(c, "ranges_tested", tested);
		jset_u64(c, "bytes", bytes);
		jset_str(c, "cpu_view", bar ? cpu : "not checked");
		jset_double(c, "seconds", t0);
	} else {
		printf("mr-check ok: %s BAR%u, %zu range%s (%" PRIu64 " bytes) as an MR of %s port %u gid %d (%s): RDMA WRITE+READ of %zu bytes in %zu range%s in %.3f ms; CPU view of the BAR %s\n",
		       p2pmr_dev_bdf(t.dev), o->bar, t.n, t.n == 1 ? "" : "s",
		       t.total, ibv_get_device_name(rc.ctx->device), o->ib_port,
		       rc.gid_index, rc.gid_type, bytes, tested,
		       tested == 1 ? "" : "s", t0 * 1e3,
		       bar ? cpu : "not checked (BAR not mmap-able)");
	}
	ret = EXIT_OK;
out_rc:
	if (bar)
		munmap(bar, t.reg.size);
	rc_close(&rc);
	close(fd);
out_target:
	target_close(&t);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* @v of a "KEY VALUE" pair: a number if it is one (decimal or 0x). */
static struct json_object *jvalue(const char *v)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(v, &end, 0);
	if (!errno && !*end && *v >= '0' && *v <= '9')
		return json_object_new_uint64(n);
	return jstring(v);
}

/*
 * One line of a dmabufs file (vfio-export/debugfs.c) into @dev's
 * "dmabufs": "dmabuf KEY VALUE..." starts a buffer, "range INDEX KEY
 * VALUE..." and "attachment IMPORTER KEY VALUE..." belong to the last one.
 * A line of another shape goes to "unparsed" as it is.
 */
static void status_line_json(struct json_object *dev, char *line)
{
	static const char *const named[] = { "range", "index",
					     "attachment", "importer" };
	struct json_object *bufs, *buf, *list, *v;
	char *tok[32], *save = NULL, *p, *nl;
	int n = 0, i, k, first = 1, newbuf = 0;

	if ((nl = strchr(line, '\n')))
		*nl = 0;
	if (!json_object_object_get_ex(dev, "dmabufs", &bufs))
		return;
	for (p = strtok_r(line, " \t", &save); p && n < 32;
	     p = strtok_r(NULL, " \t", &save))
		tok[n++] = p;
	if (n && !strcmp(tok[0], "dmabuf") && n % 2) {
		v = jarr_obj(bufs);
		newbuf = 1;
	} else {
		k = json_object_array_length(bufs);
		buf = k ? json_object_array_get_idx(bufs, k - 1) : NULL;
		for (k = 0; n && buf && k < 4; k += 2)
			if (!strcmp(tok[0], named[k]) && n % 2 == 0)
				break;
		if (!n || !buf || k == 4) {
			/* strtok_r cut the line: rebuild it for "unparsed". */
			for (i = 1; i < n; i++)
				tok[i][-1] = ' ';
			if (!json_object_object_get_ex(dev, "unparsed", &list))
				list = jset_arr(dev, "unparsed");
			json_object_array_add(list, jstring(n ? tok[0] : ""));
			return;
		}
		json_object_object_get_ex(buf, k ? "attachments" : "ranges",
					  &list);
		v = json_object_new_object();
		json_object_array_add(list, v);
		jset(v, named[k + 1], k ? jstring(tok[1]) : jvalue(tok[1]));
		first = 2;
	}
	for (i = first; i + 1 < n; i += 2)
		jset(v, tok[i], jvalue(tok[i + 1]));
	if (newbuf) {
		jset_arr(v, "ranges");
		jset_arr(v, "attachments");
	}
}

static int cmd_status(const struct opts *o)
{
	const char *debugfs = getenv("P2PMR_DEBUGFS");
	char dir[PATH_MAX], path[PATH_MAX + 64], line[1024];
	char **names = NULL, **grown;
	struct json_object *devs, *jd;
	size_t n = 0, i, lines;
	struct dirent *de;
	int ret = EXIT_OK;
	DIR *d;

	if (!debugfs || !*debugfs)
		debugfs = "/sys/kernel/debug";
	snprintf(dir, sizeof(dir), "%s/vfio-pci-p2p", debugfs);
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return failf(o, -ENOENT, "no %s: vfio-pci-p2p is not loaded, or debugfs is not mounted (mount -t debugfs none /sys/kernel/debug)",
				     dir);
		return failf(o, -errno, "cannot read %s: %s%s", dir,
			     strerror(errno),
			     errno == EACCES ? " (debugfs needs root)" : "");
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			names = grown ? grown : names;
			ret = failf(o, -ENOMEM, "out of memory");
			goto out;
		}
		names = grown;
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	devs = jset_arr(jroot, "devices");
	if (!o->json && !n)
		printf("vfio-pci-p2p is bound to no device\n");
	for (i = 0; i < n; i++) {
		int err;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s/dmabufs", dir, names[i]);
		f = fopen(path, "r");
		err = errno;
		jd = jarr_obj(devs);
		jset_str(jd, "address", names[i]);
		jset_bool(jd, "readable", !!f);
		jset_arr(jd, "dmabufs");
		if (!f)
			jset_str(jd, "error", strerror(err));
		if (!o->json)
			printf("%s:%s\n", names[i], f ? "" : " (unreadable)");
		for (lines = 0; f && fgets(line, sizeof(line), f); lines++) {
			if (o->json)
				status_line_json(jd, line);
			else
				printf("  %s", line);
		}
		if (!o->json && f && !lines)
			printf("  no dma-bufs\n");
		if (f)
			fclose(f);
		else if (ret == EXIT_OK)
			ret = exit_code(-err);
	}
out:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

/* --json anywhere before "--", for the usage error's JSON object. */
static int wants_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			return 1;
	return 0;
}

static int run_cmd(const struct opts *o);

static int run(int argc, char **argv)
{
	struct opts o;
	int i, ret;

	ret = parse_cmdline(argc, argv, &o);
	if (ret) {
		if (o.json || wants_json(argc, argv)) {
			for (i = 1; i < argc && !jcommand; i++)
				if (!strcmp(argv[i], "list") ||
				    !strcmp(argv[i], "export") ||
				    !strcmp(argv[i], "mr-check") ||
				    !strcmp(argv[i], "status"))
					jcommand = argv[i];
			jroot = jhead(0);
			jfail(-EINVAL, ret, usage_msg);
			jprint();
		}
		return ret;
	}
	if (o.help) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (o.version) {
		printf("p2pmr %s\n", P2PMR_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < (int)(sizeof(cmds) / sizeof(cmds[0])); i++)
		if (cmds[i].cmd == o.cmd)
			jcommand = cmds[i].name;
	if (o.json)
		jroot = jhead(1);
	ret = run_cmd(&o);
	jprint();
	return ret;
}

static int run_cmd(const struct opts *o)
{
	switch (o->cmd) {
	case CMD_LIST:
		return cmd_list(o);
	case CMD_EXPORT:
		return cmd_export(o);
	case CMD_MR_CHECK:
		return cmd_mr_check(o);
	case CMD_STATUS:
		return cmd_status(o);
	case CMD_NONE:
		break;
	}
	return EXIT_USAGE;
}

#ifndef P2PMR_NO_MAIN
int main(int argc, char **argv)
{
	return run(argc, argv);
}
#endif
