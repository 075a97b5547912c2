/* SPDX-License-Identifier: MIT */
/*
 * journald sink: every entry becomes one journal entry over journald's
 * native protocol (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, the publishing
 * process's attested identity in OBJECT_* and LOGBUS_* fields, its tid and
 * time in LOGBUS_* fields, user fields upper-cased and checked against
 * journald's field-name rules: journal_fields.c), to the default journald
 * or a namespace's; while journald is down, into a spool replayed later.
 */
#pragma once

#include <stdint.h>

#include "sink.h"

struct journal_options {
	const char *identifier_prefix;  /* prepended to the tag; NULL: none */
	const char *namespace_;         /* journald namespace; NULL: the default one */
	const char *spool_dir;          /* where its spool goes; NULL: no spool */
	uint64_t spool_max;             /* bytes */
};

/* Returns 0 and the sink in *out, or a negative errno. */
int sink_journal_new(const struct journal_options *o, struct sink **out);
