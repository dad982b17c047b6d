// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Passing dma-buf (or VFIO device) fds between processes: SCM_RIGHTS over an
 * AF_UNIX socket, with a message alongside.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

int p2pmr_send_fd(int sock, int fd, const void *data, size_t len)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	static const char zero;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	p2pmr_clear_error();
	if (fd < 0)
		return p2pmr_fail(-EBADF, "p2pmr_send_fd: fd %d is not open", fd);
	if (!len) {
		iov.iov_base = (void *)&zero;
		iov.iov_len = 1;
	}
	memset(&ctl, 0, sizeof(ctl));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return p2pmr_fail(-errno, "sending fd %d: %s", fd, strerror(errno));
	/* The fd went with the first byte; a stream socket may take less. */
	while ((size_t)n < iov.iov_len) {
		ssize_t m = send(sock, (char *)iov.iov_base + n,
				 iov.iov_len - n, MSG_NOSIGNAL);

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0)
			return p2pmr_fail(-errno, "sending fd %d: %s", fd,
					  strerror(errno));
		n += m;
	}
	return 0;
}

/* Close every fd of an SCM_RIGHTS message; return how many there were. */
static int close_fds(struct msghdr *msg, int *first)
{
	struct cmsghdr *cmsg;
	int nfds = 0;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		size_t i, cnt;
		int fd;

		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < cnt; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			       sizeof(int));
			if (!nfds++ && first)
				*first = fd;
			else
				close(fd);
		}
	}
	return nfds;
}

int p2pmr_recv_fd(int sock, int *fdp, void *data, size_t *lenp)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = data, .iov_len = *lenp };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	int fd = -1, nfds;
	char dummy;
	ssize_t n;

	p2pmr_clear_error();
	/* Room for the byte p2pmr_send_fd() sends with an empty message. */
	if (!*lenp) {
		iov.iov_base = &dummy;
		iov.iov_len = 1;
	}
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return p2pmr_fail(-errno, "receiving an fd: %s", strerror(errno));
	if (!n)
		return p2pmr_fail(-ECONNRESET,
				  "receiving an fd: the peer closed the socket");
	nfds = close_fds(&msg, &fd);
	if (msg.msg_flags & MSG_CTRUNC) {
		if (nfds)
			close(fd);
		return p2pmr_fail(-EBADMSG,
				  "receiving an fd: the message carried more than one fd");
	}
	if (nfds != 1) {
		if (nfds)
			close(fd);
		return p2pmr_fail(-EBADMSG, nfds ?
				  "receiving an fd: the message carried more than one fd" :
				  "receiving an fd: the message carried none");
	}
	if (msg.msg_flags & MSG_TRUNC) {
		close(fd);
		return p2pmr_fail(-EMSGSIZE,
				  "receiving an fd: the message was longer than %zu bytes",
				  *lenp);
	}
	*fdp = fd;
	*lenp = *lenp ? (size_t)n : 0;
	return 0;
}
