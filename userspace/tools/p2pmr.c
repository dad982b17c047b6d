// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmr: list VFIO-bound devices, export BAR ranges as dma-bufs, check that
 * an RDMA device can register and use them, show the exporter's dma-bufs.
 *
 * This file parses the command line and dispatches; each command is a file
 * of its own (list.c, export.c, mr_check.c, status.c) and output.c holds
 * the failure reports and the JSON layer, as in iproute2's rdma tool.
 *
 * Exit status: 0 success, 1 failure, 2 usage error, 3 a feature is missing
 * (EOPNOTSUPP: driver without VFIO_DEVICE_FEATURE_DMA_BUF, no IOMMU, RDMA
 * device without dma-buf MRs), 4 permission denied, 5 no such device, BAR
 * or driver (ENODEV/ENOENT).  See p2pmr(1).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef P2PMR_VERSION
#define P2PMR_VERSION "0.1.0"
#endif

static const char options_text[] =
"Options:\n"
"  -b, --bar N          BAR index 0-5\n"
"  -r, --ranges SPEC    OFF:LEN[,OFF:LEN...], numbers decimal or 0x hex with an\n"
"                       optional K/M/G/T suffix, page aligned (default: whole BAR)\n"
"  -d, --ibdev NAME     RDMA device (default: the first one)\n"
"  -i, --importer BDF   doctor: the PCI device that will import the dma-buf\n"
"  -p, --ib-port N      its port (default 1)\n"
"  -g, --gid-index N    GID index (default: the port's first RoCE v2 GID)\n"
"  -l, --length BYTES   bytes tested at the start of each range (default 64K)\n"
"  -t, --timeout S      seconds to wait for each completion (default 10)\n"
"  -s, --send SOCKET    export: send the fd over the AF_UNIX socket SOCKET and\n"
"                       keep the device open until the receiver closes it\n"
"  -T, --vf-token UUID  the VF token the device's PF was given: needed to open\n"
"                       a VF whose PF a VFIO driver owns\n"
"  -a, --all            list: every PCI device, not only VFIO-bound ones\n"
"  -j, --json           machine-readable output on stdout\n"
"  -h, --help           this text\n"
"  -V, --version        the version\n"
"\n"
"Exit status: 0 ok, 1 failure, 2 usage error, 3 feature missing (EOPNOTSUPP),\n"
"4 permission denied, 5 no such device, BAR or driver.\n"
"Environment: P2PMR_SYSFS (default /sys), P2PMR_DEBUGFS (default /sys/kernel/debug).\n";

static const struct cmd *const cmds[] = {
	&cmd_list, &cmd_export, &cmd_mr_check, &cmd_status, &cmd_doctor,
};

/* The OPT_* bits by number, as the user types them. */
static const char *const opt_names[OPT_NR] = {
	"--bar", "--ranges", "--ibdev", "--ib-port", "--gid-index",
	"--length", "--timeout", "--all", "--send", "'-- CMD'", "--importer",
	"--vf-token",
};

static const struct cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(name, cmds[i]->name))
			return cmds[i];
	return NULL;
}

static void usage(void)
{
	size_t i;

	fputs("Usage: p2pmr [--json] COMMAND [ARGS]\n\n", stdout);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fputs(cmds[i]->usage, stdout);
	fputs("\n", stdout);
	fputs(options_text, stdout);
}

static const struct option long_opts[] = {
	{ "bar", required_argument, NULL, 'b' },
	{ "ranges", required_argument, NULL, 'r' },
	{ "ibdev", required_argument, NULL, 'd' },
	{ "importer", required_argument, NULL, 'i' },
	{ "ib-port", required_argument, NULL, 'p' },
	{ "gid-index", required_argument, NULL, 'g' },
	{ "length", required_argument, NULL, 'l' },
	{ "timeout", required_argument, NULL, 't' },
	{ "send", required_argument, NULL, 's' },
	{ "vf-token", required_argument, NULL, 'T' },
	{ "all", no_argument, NULL, 'a' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* The last usage error, for the JSON failure object. */
static char usage_msg[512];

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(usage_msg, sizeof(usage_msg), fmt, ap);
	va_end(ap);
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

/* A UUID in its 36-character text form, as VFIO takes a VF token. */
static int is_uuid(const char *s)
{
	int i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ?
		    s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * Parse the command line into @o.  Return 0, or EXIT_USAGE after a message
 * on stderr.  Never exits: the fuzzer calls it over and over.
 */
static int parse_cmdline(int argc, char **argv, struct opts *o)
{
	const struct cmd *cmd = NULL;
	unsigned int i, bad;
	char bdf[16];
	uint64_t v;
	int c, k, ret;

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
		o->given |= OPT_RUN;
		argc = k;
	}
	o->ib_port = 1;
	o->gid_index = -1;
	o->length = 64 << 10;
	o->timeout = 10;
	optind = 0;	/* glibc: full re-initialisation */
	while ((c = getopt_long(argc, argv, "b:r:d:i:p:g:l:t:s:T:ajhV", long_opts,
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

			/*
			 * Syntax, alignment, overlaps: usage errors.  Only
			 * the BAR's end needs the device (p2pmr_export()).
			 */
			if (p2pmr_parse_ranges(optarg, &r, &n))
				return usage_error("%s", p2pmr_errmsg());
			ret = p2pmr_check_ranges(r, n, UINT64_MAX);
			p2pmr_free_ranges(r);
			if (ret)
				return usage_error("--ranges: %s", p2pmr_errmsg());
			o->ranges = optarg;
			o->given |= OPT_RANGES;
			break;
		}
		case 'd':
			o->ibdev = optarg;
			o->given |= OPT_IBDEV;
			break;
		case 'i':
			if (p2pmr_parse_bdf(optarg, bdf, sizeof(bdf)))
				return usage_error("--importer: %s",
						   p2pmr_errmsg());
			o->importer = optarg;
			o->given |= OPT_IMPORTER;
			break;
		case 'p':
			if (parse_uint(optarg, 255, 0, &v) || !v)
				return usage_error("--ib-port: '%s' is not a port number (1-255)",
						   optarg);
			o->ib_port = v;
			o->given |= OPT_IB_PORT;
			break;
		case 'g':
			if (parse_uint(optarg, INT_MAX, 0, &v))
				return usage_error("--gid-index: '%s' is not a GID index",
						   optarg);
			o->gid_index = v;
			o->given |= OPT_GID_INDEX;
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
		case 'T':
			if (!is_uuid(optarg))
				return usage_error("--vf-token: '%s' is not a UUID (8-4-4-4-12 hexadecimal digits)",
						   optarg);
			o->vf_token = optarg;
			o->given |= OPT_VF_TOKEN;
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
	if (!strcmp(argv[optind], "help")) {
		o->help = 1;
		return 0;
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[optind]);
	optind++;
	bad = o->given & ~cmd->opts;
	for (i = 0; bad && i < OPT_NR; i++)
		if (bad & (1U << i))
			return usage_error("%s: option %s is not valid for this command",
					   cmd->name, opt_names[i]);
	if (cmd->needs_bdf) {
		if (optind >= argc)
			return usage_error("%s: no device address given",
					   cmd->name);
		o->bdf = argv[optind++];
		if (p2pmr_parse_bdf(o->bdf, bdf, sizeof(bdf)))
			return usage_error("%s", p2pmr_errmsg());
		if (cmd->needs_bar && !(o->given & OPT_BAR))
			return usage_error("%s: --bar is required", cmd->name);
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->ibdev && o->importer)
		return usage_error("%s", "--ibdev and --importer name the importer twice: choose one");
	o->cmd = cmd;
	return 0;
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

static int run(int argc, char **argv)
{
	struct opts o;
	int i, ret;

	ret = parse_cmdline(argc, argv, &o);
	if (ret) {
		if (o.json || wants_json(argc, argv)) {
			for (i = 1; i < argc && !jcommand; i++) {
				if (!strcmp(argv[i], "--"))
					break;
				if (find_cmd(argv[i]))
					jcommand = find_cmd(argv[i])->name;
			}
			jroot = jhead(0);
			jfail(-EINVAL, ret, usage_msg);
			jprint();
		}
		return ret;
	}
	if (o.help) {
		usage();
		return EXIT_OK;
	}
	if (o.version) {
		printf("p2pmr %s\n", P2PMR_VERSION);
		return EXIT_OK;
	}
	jcommand = o.cmd->name;
	if (o.json)
		jroot = jhead(1);
	ret = o.cmd->run(&o);
	jprint();
	return ret;
}
#ifndef P2PMR_NO_MAIN
int main(int argc, char **argv)
{
	return run(argc, argv);
}
#endif
