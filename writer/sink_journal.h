/* SPDX-License-Identifier: MIT */
/*
 * journald sink: every entry becomes one journal entry through
 * sd_journal_sendv (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, the client's
 * pid/tid/time in LOGBUS_* fields, user fields upper-cased and checked
 * against journald's field-name rules).
 */
#pragma once

#include "sink.h"

struct journal_options {
	const char *identifier_prefix;  /* prepended to the tag; NULL: none */
};

/* Returns 0 and the sink in *out, or a negative errno. */
int sink_journal_new(const struct journal_options *o, struct sink **out);

/* sink_journal_renamed - user fields renamed so far because journald
 * would have refused or misfiled their names. */
uint64_t sink_journal_renamed(const struct sink *s);
