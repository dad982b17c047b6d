// SPDX-License-Identifier: GPL-2.0
/* Unit tests: p2pmr_send_fd() and p2pmr_recv_fd() over socketpairs. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"

/* Pass a pipe's write end, write through the received copy, read it. */
static void pass_pipe(int type, const char *msg, size_t len)
{
	int sv[2], p[2], fd = -1;
	char buf[64] = "", data[64] = "";
	size_t n = sizeof(buf);

	assert_int_equal(socketpair(AF_UNIX, type, 0, sv), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(p2pmr_send_fd(sv[0], p[1], msg, len), 0);
	close(p[1]);	/* the sender's copy: only the received one is left */
	assert_int_equal(p2pmr_recv_fd(sv[1], &fd, buf, &n), 0);
	assert_true(fd >= 0);
	assert_int_equal(n, len ? len : 1);
	assert_memory_equal(buf, len ? msg : "\0", n);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(fd, "through", 7), 7);
	close(fd);
	assert_int_equal(read(p[0], data, sizeof(data)), 7);
	assert_memory_equal(data, "through", 7);
	/* Every write end is closed now: EOF. */
	assert_int_equal(read(p[0], data, sizeof(data)), 0);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

static void test_seqpacket(void **state)
{
	(void)state;
	pass_pipe(SOCK_SEQPACKET, "dmabuf bar2", 11);
}

static void test_stream(void **state)
{
	(void)state;
	pass_pipe(SOCK_STREAM, "x", 1);
}

static void test_empty_message(void **state)
{
	(void)state;
	pass_pipe(SOCK_SEQPACKET, NULL, 0);
	pass_pipe(SOCK_STREAM, NULL, 0);
}

static void test_recv_zero_len_buffer(void **state)
{
	int sv[2], fd = -1;
	size_t n = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(p2pmr_send_fd(sv[0], 0, NULL, 0), 0);
	assert_int_equal(p2pmr_recv_fd(sv[1], &fd, NULL, &n), 0);
	assert_int_equal(n, 0);
	assert_true(fd > 2);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

static void test_errors(void **state)
{
	int sv[2], fd = -1;
	char buf[4];
	size_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_fails_with(p2pmr_send_fd(sv[0], -1, "a", 1), -EBADF,
			  "not open");
	/* Data without an fd. */
	assert_int_equal(send(sv[0], "abc", 3, 0), 3);
	n = sizeof(buf);
	assert_fails_with(p2pmr_recv_fd(sv[1], &fd, buf, &n), -EBADMSG,
			  "carried none");
	/* Longer than the buffer: the fd is closed, not leaked. */
	assert_int_equal(p2pmr_send_fd(sv[0], 1, "too long", 8), 0);
	n = sizeof(buf);
	assert_fails_with(p2pmr_recv_fd(sv[1], &fd, buf, &n), -EMSGSIZE,
			  "longer than 4 bytes");
	/* The peer goes away. */
	close(sv[0]);
	n = sizeof(buf);
	assert_fails_with(p2pmr_recv_fd(sv[1], &fd, buf, &n), -ECONNRESET,
			  "peer closed");
	assert_fails_with(p2pmr_send_fd(sv[1], 1, "a", 1), -EPIPE,
			  "sending fd 1");
	close(sv[1]);
}

/* An fd sent with two SCM_RIGHTS entries: refused, both closed. */
static void test_two_fds(void **state)
{
	int sv[2], fds[2] = { 0, 1 }, fd = -1;
	char ctl[CMSG_SPACE(2 * sizeof(int))], buf[4];
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	size_t n = sizeof(buf);

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	memset(ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	assert_int_equal(sendmsg(sv[0], &msg, 0), 1);
	assert_fails_with(p2pmr_recv_fd(sv[1], &fd, buf, &n), -EBADMSG,
			  "more than one fd");
	close(sv[0]);
	close(sv[1]);
}

static void *thread_msg(void *arg)
{
	char out[16];

	(void)arg;
	p2pmr_parse_bdf("not-a-bdf", out, sizeof(out));
	return NULL;
}

/* p2pmr_errmsg() is per thread: another thread's failure does not show. */
static void test_errmsg_per_thread(void **state)
{
	pthread_t t;

	(void)state;
	p2pmr_send_fd(0, -1, NULL, 0);
	assert_non_null(strstr(p2pmr_errmsg(), "fd -1 is not open"));
	assert_int_equal(pthread_create(&t, NULL, thread_msg, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_non_null(strstr(p2pmr_errmsg(), "fd -1 is not open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seqpacket),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_recv_zero_len_buffer),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_two_fds),
		cmocka_unit_test(test_errmsg_per_thread),
	};

	return cmocka_run_group_tests_name("fdpass", tests, NULL, NULL);
}
