// SPDX-License-Identifier: GPL-2.0
/* p2pmr status: the dma-bufs of vfio-pci-p2p, from its debugfs files. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

	nl = strchr(line, '\n');
	if (nl)
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

static int status_run(const struct opts *o)
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
		if (grown)
			grown[n] = strdup(de->d_name);
		if (!grown || !grown[n]) {
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

const struct cmd cmd_status = {
	.name = "status",
	.usage = "  status                       dma-bufs of vfio-pci-p2p (debugfs)\n",
	.run = status_run,
};
