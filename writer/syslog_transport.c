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
 * the sink keeps every message until the collector acknowledged it
 * (link_acked) and sends it again after a reconnect, so a collector
 * killed at the wrong moment may get a message twice, never zero times.
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

#include "syslog_transport.h"

#define SEND_TIMEOUT_MS 250
#define CONNECT_TIMEOUT_MS 1000
#define IOV_BATCH 64
#define PREFIX_MAX 48
/* Messages in flight before RELP waits for acknowledgements: enough to
 * fill a loopback round trip, few enough to send again after a break. */
#define RELP_WINDOW 1024u
/* The longest response we accept: open's offers are a few hundred bytes. */
#define RELP_RSP_MAX 4000u
#define RELP_TXNR_MAX 999999999u

/* The transaction number of the i-th message after the next one; RELP
 * numbers wrap from 999999999 to 1. */
static unsigned relp_txnr_at(const struct syslog_link *l, size_t i)
{
	return (unsigned)((l->txnr - 1 + i) % RELP_TXNR_MAX) + 1;
}

int link_init(struct syslog_link *l, enum syslog_transport kind, const char *socket_path,
	      const char *host, const char *port)
{
	const char *path = socket_path ? socket_path : "/dev/log";

	*l = (struct syslog_link){ .kind = kind, .fd = -1 };
	if (kind == SYSLOG_UNIX)
		return snprintf(l->path, sizeof(l->path), "%s", path) < (int)sizeof(l->path)
			       ? 0 : -ENAMETOOLONG;
	if (!host || !port || !*host || !*port)
		return -EINVAL;
	if (snprintf(l->host, sizeof(l->host), "%s", host) >= (int)sizeof(l->host) ||
	    snprintf(l->port, sizeof(l->port), "%s", port) >= (int)sizeof(l->port))
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

/* Whether fd is connected to itself: a connect to a local port nobody
 * listens on can pick that very port as its own and succeed (TCP
 * simultaneous open), and everything sent then goes nowhere. */
static bool self_connected(int fd)
{
	struct sockaddr_storage a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);

	return getsockname(fd, (struct sockaddr *)&a, &la) == 0 &&
	       getpeername(fd, (struct sockaddr *)&b, &lb) == 0 && la == lb &&
	       memcmp(&a, &b, la) == 0;
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
	else if (!err && self_connected(fd))
		err = ECONNREFUSED;
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

/* ---- RELP ----
 *
 * RELP is octet-framed commands over TCP, each answered in order by a
 * "rsp" of the same transaction number:
 *
 *	TXNR SP COMMAND SP DATALEN [SP DATA] LF
 *
 * The session opens with "1 open" (offers: relp_version=0, commands=
 * syslog) and must get "200" back; each message is "TXNR syslog LEN MSG";
 * a "200" response acknowledges it: rsyslog's imrelp answers once the
 * message is in its queue (with a Direct queue: in its output). At most
 * RELP_WINDOW messages are unacknowledged at a time. Anything else from
 * the server (an error code, "serverclose") breaks the link; the sink
 * sends again whatever was not acknowledged. Written here rather than
 * through librelp, whose client API tells nobody which messages the
 * collector acknowledged.
 */

static const char relp_offers[] = "relp_version=0\nrelp_software=logbus\ncommands=syslog";

/* Parse one frame at the start of buf[0..n); returns its length, 0 when
 * it is not all there yet, -EPROTO when it is no frame. */
static long relp_frame(const char *buf, size_t n, uint64_t *txnr, char *cmd, size_t cmd_cap,
		       const char **data, size_t *data_len)
{
	size_t i = 0, k = 0;
	uint64_t t = 0, len = 0;

	for (; i < n && buf[i] >= '0' && buf[i] <= '9' && i < 9; i++)
		t = t * 10 + (uint64_t)(buf[i] - '0');
	if (i == n)
		return 0;
	if (i == 0 || buf[i++] != ' ')
		return -EPROTO;
	for (; i < n && buf[i] >= 'a' && buf[i] <= 'z' && k + 1 < cmd_cap; i++)
		cmd[k++] = buf[i];
	cmd[k] = '\0';
	if (i == n)
		return 0;
	if (k == 0 || buf[i++] != ' ')
		return -EPROTO;
	size_t digits = i;
	for (; i < n && buf[i] >= '0' && buf[i] <= '9' && i - digits < 9; i++)
		len = len * 10 + (uint64_t)(buf[i] - '0');
	if (i == n)
		return 0;
	if (i == digits || len > RELP_RSP_MAX)
		return -EPROTO;
	if (len && buf[i++] != ' ')
		return -EPROTO;
	if (n - i < len + 1)
		return 0;
	if (buf[i + len] != '\n')
		return -EPROTO;
	*txnr = t;
	*data = buf + i;
	*data_len = len;
	return (long)(i + len + 1);
}

/* Read what the server sent, waiting up to timeout_ms for the first
 * bytes; -ECONNRESET when it closed, -ETIMEDOUT when nothing came. */
static int relp_fill(struct syslog_link *l, int timeout_ms)
{
	struct pollfd p = { .fd = l->fd, .events = POLLIN };

	if (l->rlen == sizeof(l->rbuf))
		return -EPROTO;
	int r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return -ETIMEDOUT;
	ssize_t got = recv(l->fd, l->rbuf + l->rlen, sizeof(l->rbuf) - l->rlen, MSG_DONTWAIT);
	if (got == 0)
		return -ECONNRESET;
	if (got < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	l->rlen += (size_t)got;
	return 0;
}

/* Take the complete frames out of rbuf: each "200" response counts one
 * acknowledgement in *acked. Returns 0 or -EPROTO. */
static int relp_take(struct syslog_link *l, long *acked)
{
	size_t off = 0;
	int r = 0;

	while (off < l->rlen) {
		uint64_t txnr;
		char cmd[16];
		const char *data;
		size_t len;
		long n = relp_frame(l->rbuf + off, l->rlen - off, &txnr, cmd, sizeof(cmd), &data,
				    &len);
		if (n == 0)
			break;
		if (n < 0 || strcmp(cmd, "rsp") != 0 || len < 3 || memcmp(data, "200", 3) != 0) {
			r = -EPROTO;
			break;
		}
		off += (size_t)n;
		(*acked)++;
	}
	memmove(l->rbuf, l->rbuf + off, l->rlen - off);
	l->rlen -= off;
	return r;
}

/* Send a whole command; the socket has a send timeout. */
static int relp_command(struct syslog_link *l, const char *cmd, const char *data, size_t len)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "%u %s %zu%s", l->txnr, cmd, len, len ? " " : "");
	struct iovec iov[3] = { { head, (size_t)n }, { (char *)data, len }, { (char *)"\n", 1 } };
	size_t total = (size_t)n + len + 1;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 3 };

	ssize_t w = sendmsg(l->fd, &mh, MSG_NOSIGNAL);
	if (w < 0)
		return -errno;
	return (size_t)w == total ? 0 : -EIO;
}

static int relp_open(struct syslog_link *l)
{
	int r = tcp_connect(l);
	long acked = 0;

	if (r < 0)
		return r;
	l->txnr = 1;
	l->unacked = 0;
	l->rlen = 0;
	r = relp_command(l, "open", relp_offers, sizeof(relp_offers) - 1);
	while (r == 0 && acked == 0) {
		r = relp_fill(l, CONNECT_TIMEOUT_MS);
		if (r == 0)
			r = relp_take(l, &acked);
	}
	if (r < 0) {
		link_close(l);
		return r == -EPROTO ? -ECONNREFUSED : r;
	}
	l->txnr = 2;
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
		return relp_open(l);
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

/* Frame m, the i-th message of this send, into up to three iovecs:
 * "LEN " (TCP) or "TXNR syslog LEN " (RELP), message, NUL (unix stream)
 * or LF (RELP). */
static int frame(const struct syslog_link *l, const struct syslog_msg *m, size_t i,
		 char *prefix, struct iovec *iov)
{
	int k = 0, n = 0;

	if (l->kind == SYSLOG_TCP)
		n = snprintf(prefix, PREFIX_MAX, "%zu ", m->len);
	else if (l->kind == SYSLOG_RELP)
		n = snprintf(prefix, PREFIX_MAX, "%u syslog %zu ", relp_txnr_at(l, i), m->len);
	if (n)
		iov[k++] = (struct iovec){ prefix, (size_t)n };
	iov[k++] = (struct iovec){ m->data, m->len };
	if (l->kind == SYSLOG_UNIX)
		iov[k++] = (struct iovec){ (char *)"", 1 };
	else if (l->kind == SYSLOG_RELP)
		iov[k++] = (struct iovec){ (char *)"\n", 1 };
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
	char prefix[IOV_BATCH][PREFIX_MAX];
	size_t ends[IOV_BATCH], total = 0, done = 0;
	int cnt = 0;

	if (n > IOV_BATCH)
		n = IOV_BATCH;
	if (l->partial == 0 && peer_closed(l->fd))
		return -ECONNRESET;
	for (size_t i = 0; i < n; i++) {
		int k = frame(l, &m[i], i, prefix[i], iov + cnt);
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

long link_send(struct syslog_link *l, const struct syslog_msg *m, size_t n, size_t *refused)
{
	if (l->fd < 0)
		return -ENOTCONN;
	if (l->kind == SYSLOG_RELP) {
		if (l->unacked >= RELP_WINDOW)
			return 0;
		n = n < RELP_WINDOW - l->unacked ? n : RELP_WINDOW - l->unacked;
		long done = stream_send(l, m, n);
		if (done > 0) {
			l->txnr = relp_txnr_at(l, (size_t)done);
			l->unacked += (size_t)done;
		}
		return done;
	}
	return l->stream ? stream_send(l, m, n) : dgram_send(l, m, n, refused);
}

bool link_acknowledges(const struct syslog_link *l)
{
	return l->kind == SYSLOG_RELP;
}

size_t link_unacked(const struct syslog_link *l)
{
	return l->unacked;
}

long link_acked(struct syslog_link *l, int timeout_ms)
{
	long acked = 0;
	int r;

	if (l->fd < 0)
		return -ENOTCONN;
	r = relp_fill(l, timeout_ms);
	if (r == -ETIMEDOUT)
		return 0;
	if (r == 0)
		r = relp_take(l, &acked);
	if (r == 0 && (size_t)acked > l->unacked)
		r = -EPROTO;   /* answers to what we never sent */
	if (r < 0)
		return r;
	l->unacked -= (size_t)acked;
	return acked;
}

void link_close(struct syslog_link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->partial = 0;
	l->unacked = 0;
	l->rlen = 0;
}

void link_fini(struct syslog_link *l)
{
	/* RELP: say goodbye; what was not acknowledged stays in the bus. */
	if (l->kind == SYSLOG_RELP && l->fd >= 0 && l->partial == 0)
		(void)relp_command(l, "close", "", 0);
	link_close(l);
}
