/* SPDX-License-Identifier: MIT */
/*
 * The syslog sink's links to a collector: a unix socket (datagram, or
 * stream with a NUL after each message as glibc's syslog() does), TCP
 * with RFC 6587 octet counting, RELP (its client side, written here).
 * Only the sink's sender thread calls these; they may block, for a
 * bounded time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum syslog_transport { SYSLOG_UNIX, SYSLOG_TCP, SYSLOG_RELP };

struct syslog_msg {
	char *data;
	size_t len;
};

struct syslog_link {
	enum syslog_transport kind;
	char path[108];         /* unix */
	char host[256], port[32];
	int fd;
	bool stream;            /* unix: the socket is a stream socket */
	size_t partial;         /* stream: bytes of the first message already sent */
	unsigned txnr;          /* RELP: the next transaction number */
	size_t unacked;         /* RELP: messages sent and not acknowledged */
	char rbuf[4096];        /* RELP: responses not parsed yet */
	size_t rlen;
};

/* link_init - set up a link of kind to socket_path (unix; NULL:
 * /dev/log) or host and port (tcp, relp), unconnected. Returns 0 or a
 * negative errno (-EINVAL for missing host or port, -ENAMETOOLONG). */
int link_init(struct syslog_link *l, enum syslog_transport kind, const char *socket_path,
	      const char *host, const char *port);

/* link_connect - (re)connect; returns 0 or a negative errno. */
int link_connect(struct syslog_link *l);

/* link_send - send m[0..n) in order. Returns how many are done with (sent
 * whole, or refused for good, which *refused counts), possibly 0 when the
 * collector is slow (or, RELP, its window is full); or a negative errno
 * when the link broke (nothing more goes over it until link_connect). */
long link_send(struct syslog_link *l, const struct syslog_msg *m, size_t n, size_t *refused);

/* link_acknowledges - whether the collector acknowledges messages (RELP);
 * for the others a message is done once link_send took it. */
bool link_acknowledges(const struct syslog_link *l);

/* link_unacked - RELP: messages sent and not acknowledged yet. */
size_t link_unacked(const struct syslog_link *l);

/* link_acked - RELP: wait up to timeout_ms for acknowledgements; returns
 * how many more of the sent messages, oldest first, the collector
 * acknowledged (0 when none came), or a negative errno when the link
 * broke: then the unacknowledged ones must be sent again after
 * link_connect. */
long link_acked(struct syslog_link *l, int timeout_ms);

/* link_close - drop the connection; what it had not acknowledged is
 * forgotten (the sink sends it again). */
void link_close(struct syslog_link *l);

/* link_fini - close and free everything. */
void link_fini(struct syslog_link *l);
