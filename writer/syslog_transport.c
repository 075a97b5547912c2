/* SPDX-License-Identifier: MIT */
/*
 * Links from the syslog sink to a collector. Sockets get a send timeout
 * (SEND_TIMEOUT_MS), so a collector that stops reading holds the sender
 * thread that long at most and the sink can still stop. On a stream a
 * message cut by the timeout is finished before the next one starts
 * (`partial`), so framing never breaks.
 *
 * What each link can lose: a unix datagram socket loses nothing it
 * accepted (the kernel queues it at the receiver, or the send fails);
 * TCP loses what sat in the kernel's buffers when the collector died,
 * though a close seen before a send (a FIN) is caught; RELP loses nothing:
 * librelp keeps every message until the collector acknowledged it and
 * sends it again after a reconnect, so a collector killed at the wrong
 * moment may get a message twice, never zero times.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <librelp.h>

#include "syslog_transport.h"

#define SEND_TIMEOUT_MS 250
#define CONNECT_TIMEOUT_MS 1000
#define RELP_TIMEOUT_S 5
#define IOV_BATCH 64

int link_init(struct syslog_link *l, const struct syslog_options *o)
{
	const char *path = o->socket_path ? o->socket_path : "/dev/log";

	*l = (struct syslog_link){ .kind = o->transport, .fd = -1 };
	if (o->transport == SYSLOG_UNIX)
		return snprintf(l->path, sizeof(l->path), "%s", path) < (int)sizeof(l->path)
			       ? 0 : -ENAMETOOLONG;
	if (!o->host || !o->port || !*o->host || !*o->port)
		return -EINVAL;
	if (snprintf(l->host, sizeof(l->host), "%s", o->host) >= (int)sizeof(l->host) ||
	    snprintf(l->port, sizeof(l->port), "%s", o->port) >= (int)sizeof(l->port))
		return -ENAMETOOLONG;
	return 0;
}

static void set_send_timeout(int fd)
{
	struct timeval tv = { .tv_usec = SEND_TIMEOUT_MS * 1000 };

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int unix_connect(struct syslog_link *l)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int types[] = { SOCK_DGRAM, SOCK_STREAM };

	memcpy(sa.sun_path, l->path, strlen(l->path) + 1);
	for (int i = 0; i < 2; i++) {
		l->fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (l->fd < 0)
			return -errno;
		if (connect(l->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			l->stream = types[i] == SOCK_STREAM;
			set_send_timeout(l->fd);
			return 0;
		}
		int err = errno;
		close(l->fd);
		l->fd = -1;
		if (err != EPROTOTYPE)
			return -err;
	}
	return -EPROTOTYPE;
}

/* Connect without blocking past CONNECT_TIMEOUT_MS. */
static int tcp_connect_one(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			ai->ai_protocol);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		err = errno;
	else if (poll(&p, 1, CONNECT_TIMEOUT_MS) != 1)
		err = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		close(fd);
		return -err;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	set_send_timeout(fd);
	return fd;
}

static int tcp_connect(struct syslog_link *l)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int r = getaddrinfo(l->host, l->port, &hints, &res);

	if (r)
		return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	r = -EHOSTUNREACH;
	for (ai = res; ai && r < 0; ai = ai->ai_next)
		r = tcp_connect_one(ai);
	freeaddrinfo(res);
	if (r < 0)
		return r;
	l->fd = r;
	l->stream = true;
	return 0;
}

/* librelp calls its debug hook unconditionally, and it has none of its
 * own. */
static void __attribute__((format(printf, 1, 2))) relp_quiet(char *fmt, ...)
{
	(void)fmt;
}

static int relp_connect(struct syslog_link *l)
{
	relpRetVal r;

	if (!l->relp) {
		if (relpEngineConstruct(&l->relp) != RELP_RET_OK)
			return -ENOMEM;
		relpEngineSetDbgprint(l->relp, relp_quiet);
		relpEngineSetEnableCmd(l->relp, (unsigned char *)"syslog",
				       eRelpCmdState_Required);
	}
	if (!l->clt) {
		if (relpEngineCltConstruct(l->relp, &l->clt) != RELP_RET_OK)
			return -ENOMEM;
		relpCltSetTimeout(l->clt, RELP_TIMEOUT_S);
		relpCltSetConnTimeout(l->clt, (CONNECT_TIMEOUT_MS + 999) / 1000);
	}
	/* As rsyslog's omrelp: connect until it worked once, then reconnect,
	 * which sends again what was not acknowledged. */
	if (l->relp_started)
		r = relpCltReconnect(l->clt);
	else
		r = relpCltConnect(l->clt, AF_UNSPEC, (unsigned char *)l->port,
				   (unsigned char *)l->host);
	if (r != RELP_RET_OK)
		return -ECONNREFUSED;
	l->relp_started = true;
	return 0;
}

int link_connect(struct syslog_link *l)
{
	link_close(l);
	switch (l->kind) {
	case SYSLOG_UNIX:
		return unix_connect(l);
	case SYSLOG_TCP:
		return tcp_connect(l);
	case SYSLOG_RELP:
		return relp_connect(l);
	}
	return -EINVAL;
}

static long dgram_send(struct syslog_link *l, const struct syslog_msg *m, size_t n,
		       size_t *refused)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (send(l->fd, m[i].data, m[i].len, MSG_NOSIGNAL) >= 0)
			continue;
		if (errno == EMSGSIZE) {
			(*refused)++;   /* larger than any datagram can be */
			continue;
		}
		if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS)
			return (long)i;
		return -errno;
	}
	return (long)i;
}

/* Whether the peer closed: a FIN already here means what we would send
 * now would be lost. */
static bool peer_closed(int fd)
{
	char c;
	ssize_t r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Frame m[i] into up to three iovecs: "LEN " (TCP), message, NUL (unix
 * stream). */
static int frame(const struct syslog_link *l, const struct syslog_msg *m, char *prefix,
		 struct iovec *iov)
{
	int k = 0;

	if (l->kind == SYSLOG_TCP) {
		int n = snprintf(prefix, 24, "%zu ", m->len);
		iov[k++] = (struct iovec){ prefix, (size_t)n };
	}
	iov[k++] = (struct iovec){ m->data, m->len };
	if (l->kind == SYSLOG_UNIX)
		iov[k++] = (struct iovec){ (char *)"", 1 };
	return k;
}

/* Drop the first skip bytes of the iovecs. */
static void iov_skip(struct iovec **iov, int *cnt, size_t skip)
{
	while (*cnt && skip >= (*iov)->iov_len) {
		skip -= (*iov)->iov_len;
		(*iov)++, (*cnt)--;
	}
	if (*cnt) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + skip;
		(*iov)->iov_len -= skip;
	}
}

static long stream_send(struct syslog_link *l, const struct syslog_msg *m, size_t n)
{
	struct iovec iov[IOV_BATCH * 3], *v = iov;
	char prefix[IOV_BATCH][24];
	size_t ends[IOV_BATCH], total = 0, done = 0;
	int cnt = 0;

	if (n > IOV_BATCH)
		n = IOV_BATCH;
	if (l->partial == 0 && peer_closed(l->fd))
		return -ECONNRESET;
	for (size_t i = 0; i < n; i++) {
		int k = frame(l, &m[i], prefix[i], iov + cnt);
		for (int j = 0; j < k; j++)
			total += iov[cnt + j].iov_len;
		ends[i] = total;
		cnt += k;
	}
	iov_skip(&v, &cnt, l->partial);
	ssize_t w = writev(l->fd, v, cnt);
	if (w < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	l->partial += (size_t)w;
	while (done < n && ends[done] <= l->partial)
		done++;
	l->partial = done ? l->partial - ends[done - 1] : l->partial;
	return (long)done;
}

static long relp_send(struct syslog_link *l, const struct syslog_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (relpCltSendSyslog(l->clt, (unsigned char *)m[i].data, m[i].len) != RELP_RET_OK)
			return i ? (long)i : -ECONNRESET;
	return (long)n;
}

long link_send(struct syslog_link *l, const struct syslog_msg *m, size_t n, size_t *refused)
{
	if (l->kind == SYSLOG_RELP)
		return relp_send(l, m, n);
	if (l->fd < 0)
		return -ENOTCONN;
	return l->stream ? stream_send(l, m, n) : dgram_send(l, m, n, refused);
}

void link_close(struct syslog_link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->partial = 0;
}

void link_fini(struct syslog_link *l)
{
	link_close(l);
	if (l->clt)
		relpEngineCltDestruct(l->relp, &l->clt);
	if (l->relp)
		relpEngineDestruct(&l->relp);
}
