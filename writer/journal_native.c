/* SPDX-License-Identifier: MIT */
/*
 * journald's native protocol (systemd's "Native Journal Protocol"): a
 * datagram on a unix socket holds one entry, fields separated by LF, each
 * either NAME=value (no LF in the value) or NAME LF, a 64-bit
 * little-endian length, the value, LF. We always use the second form: it
 * takes any bytes. An entry larger than the socket takes goes in a memfd,
 * sealed so journald can trust its size, passed as SCM_RIGHTS with an
 * empty datagram. Sends time out after SEND_TIMEOUT_MS, so a journald that
 * stopped reading never holds the drain for longer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "journal_native.h"

#define SEND_TIMEOUT_MS 250

int journal_native_open(struct journal_native *j, const char *namespace_)
{
	struct timeval tv = { .tv_usec = SEND_TIMEOUT_MS * 1000 };
	int n;

	*j = (struct journal_native){ .fd = -1 };
	if (namespace_ && *namespace_)
		n = snprintf(j->path, sizeof(j->path), "/run/systemd/journal.%s/socket", namespace_);
	else
		n = snprintf(j->path, sizeof(j->path), "/run/systemd/journal/socket");
	if (n >= (int)sizeof(j->path))
		return -ENAMETOOLONG;
	j->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (j->fd < 0)
		return -errno;
	(void)setsockopt(j->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

void journal_native_close(struct journal_native *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

int journal_native_encode(const struct iovec *fields, int n, struct lb_buf *out)
{
	out->len = 0;
	for (int i = 0; i < n; i++) {
		const char *f = fields[i].iov_base, *eq = memchr(f, '=', fields[i].iov_len);
		size_t name = eq ? (size_t)(eq - f) : fields[i].iov_len;
		uint64_t len = eq ? fields[i].iov_len - name - 1 : 0;
		uint8_t le[8];

		for (int k = 0; k < 8; k++)
			le[k] = (uint8_t)(len >> (8 * k));
		lb_buf_put(out, f, name);
		lb_buf_putc(out, '\n');
		lb_buf_put(out, (const char *)le, sizeof(le));
		lb_buf_put(out, eq ? eq + 1 : "", (size_t)len);
		lb_buf_putc(out, '\n');
	}
	if (out->failed) {
		out->failed = false;
		return -ENOMEM;
	}
	return 0;
}

static struct sockaddr_un address(const struct journal_native *j)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memcpy(sa.sun_path, j->path, strlen(j->path) + 1);
	return sa;
}

/* Too big for a datagram: a sealed memfd. */
static int send_memfd(struct journal_native *j, const void *data, size_t len)
{
	struct sockaddr_un sa = address(j);
	int fd = memfd_create("logbus-journal", MFD_ALLOW_SEALING | MFD_CLOEXEC), r = 0;
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } control;
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa),
			     .msg_control = &control, .msg_controllen = sizeof(control) };

	if (fd < 0)
		return -errno;
	for (size_t done = 0; r == 0 && done < len;) {
		ssize_t w = write(fd, (const char *)data + done, len - done);
		if (w < 0)
			r = -errno;
		else
			done += (size_t)w;
	}
	if (r == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
					      F_SEAL_SEAL) < 0)
		r = -errno;
	if (r == 0) {
		memset(&control, 0, sizeof(control));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
		if (sendmsg(j->fd, &mh, MSG_NOSIGNAL) < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

int journal_native_send(struct journal_native *j, const void *data, size_t len)
{
	struct sockaddr_un sa = address(j);

	if (sendto(j->fd, data, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) >= 0)
		return 0;
	if (errno == EMSGSIZE || errno == ENOBUFS)
		return send_memfd(j, data, len);
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}
