// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmr export: BAR ranges as a dma-buf, printed, then closed (a check) or
 * handed on: --send SOCKET, or -- CMD ARGS.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

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

static int export_run(const struct opts *o)
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

const struct cmd cmd_export = {
	.name = "export",
	.opts = OPT_BAR | OPT_RANGES | OPT_SEND | OPT_RUN | OPT_VF_TOKEN,
	.needs_bdf = 1,
	.needs_bar = 1,
	.usage =
"  export BDF --bar N [--ranges SPEC] [--vf-token UUID]\n"
"         [--send SOCKET | -- CMD [ARGS]]\n"
"                               export BAR ranges as a dma-buf and print it; hand\n"
"                               it to a process listening on SOCKET, or run CMD\n"
"                               with it (fd in $P2PMR_DMABUF_FD); else close it\n",
	.run = export_run,
};
