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

struct config_section;
struct sink;
struct sink_context;

/* The "journald" section of the configuration. */
extern const struct config_section sink_journal_section;

/* sink_journal_from_config - the sink of the "journald" section's
 * options opts (index unused), spooling into sc's spool directory (no
 * spool when it is NULL). Returns 0 with *out set, or a negative errno. */
int sink_journal_from_config(const void *opts, unsigned index, const struct sink_context *sc,
			     struct sink **out);
