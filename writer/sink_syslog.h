/* SPDX-License-Identifier: MIT */
/*
 * syslog sink: entries as RFC 5424 messages with structured data, to a
 * local unix socket, or to a remote collector over TCP (RFC 6587 octet
 * counting) or RELP. Connects and sends without blocking the drain, and
 * acknowledges entries once they are done (the kernel took them; RELP:
 * the collector acknowledged them).
 */
#pragma once

#include <stddef.h>

#include "sink.h"

enum syslog_transport { SYSLOG_UNIX, SYSLOG_TCP, SYSLOG_RELP };

struct syslog_options {
	enum syslog_transport transport;
	const char *socket_path;    /* unix; NULL: /dev/log */
	const char *host;           /* tcp, relp */
	const char *port;           /* tcp, relp */
	const char *hostname;       /* HOSTNAME field; NULL: gethostname() */
	int facility;               /* LOG_USER.. as in syslog.h */
	size_t buffer_entries;      /* pending in memory before the sink spools */
	unsigned reconnect_max_ms;  /* backoff ceiling */
	const char *spool_dir;      /* where its spool goes; NULL: no spool */
	uint64_t spool_max;         /* bytes */
};

/* Returns 0 and the sink in *out, or a negative errno. */
int sink_syslog_new(const struct syslog_options *o, struct sink **out);
