// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the p2pmr command's option parsing.  The input is
 * split at NUL bytes into argv; parse_cmdline() must return 0 or the usage
 * exit code and leave a consistent result.  Nothing is run.  Run with
 * -close_fd_mask=2: the usage errors go to stderr at nearly every input.
 */
#define P2PMR_NO_MAIN
#include "../../../userspace/tools/p2pmr.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[34];
	struct opts o;
	size_t i;
	int argc = 1, ret;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[0] = "p2pmr";
	argv[argc++] = buf;
	for (i = 0; i < size && argc < 33; i++)
		if (!buf[i])
			argv[argc++] = buf + i + 1;
	argv[argc] = NULL;
	ret = parse_cmdline(argc, argv, &o);
	if (ret && ret != EXIT_USAGE)
		abort();
	if (!ret && !o.help && !o.version) {
		if (!o.cmd || o.bar > 5 || !o.ib_port || !o.length ||
		    !o.timeout)
			abort();
		if (o.cmd->needs_bdf && !o.bdf)
			abort();
		if (o.given & ~o.cmd->opts)
			abort();
	}
	free(buf);
	return 0;
}
