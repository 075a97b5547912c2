/* SPDX-License-Identifier: MIT */
/*
 * The syslog sink's links to a collector: a unix socket (datagram, or
 * stream with a NUL after each message as glibc's syslog() does), TCP
 * with RFC 6587 octet counting, RELP through librelp. Only the sink's
 * sender thread calls these; they may block, for a bounded time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sink_syslog.h"

struct syslog_msg {
	char *data;
	size_t len;
};

struct relpEngine_s;
struct relpClt_s;

struct syslog_link {
	enum syslog_transport kind;
	char path[108];         /* unix */
	char host[256], port[32];
	int fd;
	bool stream;            /* unix: the socket is a stream socket */
	size_t partial;         /* stream: bytes of the first message already sent */
	struct relpEngine_s *relp;
	struct relpClt_s *clt;
	bool relp_started;      /* the first connect succeeded: reconnect from now on */
};

/* link_init - set up from the options, unconnected. Returns 0 or a
 * negative errno (-EINVAL for missing host or port, -ENAMETOOLONG). */
int link_init(struct syslog_link *l, const struct syslog_options *o);

/* link_connect - (re)connect; returns 0 or a negative errno. */
int link_connect(struct syslog_link *l);

/* link_send - send m[0..n) in order. Returns how many are done with (sent
 * whole, or refused for good, which *refused counts), possibly 0 when the
 * collector is slow; or a negative errno when the link broke (nothing
 * more goes over it until link_connect). */
long link_send(struct syslog_link *l, const struct syslog_msg *m, size_t n, size_t *refused);

/* link_close - drop the connection; RELP keeps its unacknowledged
 * messages and sends them again on the next link_connect. */
void link_close(struct syslog_link *l);

/* link_fini - close and free everything. */
void link_fini(struct syslog_link *l);
