/* SPDX-License-Identifier: MIT */
/*
 * An entry as one RFC 5424 syslog message, the format of the syslog sink:
 *
 *   <PRI>1 TIMESTAMP HOSTNAME TAG PID - [logbus@32473 tid="" seq="" lane=""
 *       lane_seq="" uid="" gid="" comm="" exe=""] [fields@32473 KEY="value" ...] MSG
 *
 * PID (PROCID), uid, gid, comm and exe are the writer's word for the
 * publishing process (see rfc5424.c), not the client's.
 *
 * 32473 is the example private enterprise number of RFC 5612, meant for
 * documentation; a site with a number of its own can change RFC5424_PEN.
 * Our metadata and the user's fields sit in separate SD-ELEMENTs, so a
 * user field named "tid" can never be mistaken for ours.
 */
#pragma once

#include <stddef.h>

#include "buf.h"
#include "sink.h"

#define RFC5424_PEN "32473"

struct rfc5424_origin {
	char hostname[256];     /* PRINTUSASCII, "-" when unknown */
	int facility;           /* LOG_USER.. as in syslog.h, already shifted */
};

/* rfc5424_origin_init - hostname (NULL: gethostname()) made valid for the
 * HOSTNAME field, and the facility. */
void rfc5424_origin_init(struct rfc5424_origin *o, const char *hostname, int facility);

/* rfc5424_put - append the entry as one message, without any framing.
 * On allocation failure b->failed is set. */
void rfc5424_put(struct lb_buf *b, const struct rfc5424_origin *o, const struct batch_entry *be);
