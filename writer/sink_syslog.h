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

#include "syslog_transport.h"

struct config_section;
struct sink;
struct sink_context;

/* One destination's options; link_init (syslog_transport.h) takes where
 * it goes. */
struct syslog_options {
	enum syslog_transport transport;
	const char *socket_path;    /* unix; NULL: /dev/log */
	const char *host;           /* tcp, relp */
	const char *port;           /* tcp, relp */
	const char *hostname;       /* HOSTNAME field; NULL: gethostname() */
	int facility;               /* LOG_USER.. as in syslog.h */
	size_t buffer_entries;      /* pending in memory before the sink spools */
	unsigned reconnect_max_ms;  /* backoff ceiling */
};

/* One destination of the "syslog" list of the configuration. */
extern const struct config_section sink_syslog_section;

/* sink_syslog_from_config - the sink of the destination whose options are
 * opts (index unused), spooling into sc's spool directory (no spool when
 * it is NULL). Returns 0 with *out set, or a negative errno. */
int sink_syslog_from_config(const void *opts, unsigned index, const struct sink_context *sc,
			    struct sink **out);
