/* SPDX-License-Identifier: MIT */
/* The table of sink kinds (sink_kinds.h). */
#include "config_schema.h"
#include "sink_entry.h"
#include "sink_file.h"
#include "sink_journal.h"
#include "sink_kinds.h"
#include "sink_syslog.h"

const struct sink_kind sink_kinds[] = {
	{ .format = "json", .name = "file", .key = "file", .section = &sink_file_section,
	  .implied = true, .dir_key = "dir", .make = sink_file_from_config },
	{ .format = "journald", .name = "journald", .key = "journald",
	  .section = &sink_journal_section, .make = sink_journal_from_config },
	{ .format = "syslog", .name = "syslog", .key = "syslog", .section = &sink_syslog_section,
	  .list = true, .make = sink_syslog_from_config },
	{ .format = "entry", .name = "entry", .key = "entry_files", .section = &sink_entry_section,
	  .list = true, .none = "the entry sink is chosen but has no rule",
	  .make = sink_entry_from_config },
};

/* "format" is a bit per kind in an unsigned. */
_Static_assert(sizeof(sink_kinds) / sizeof(sink_kinds[0]) <= 32, "too many sink kinds");

const size_t sink_kinds_count = sizeof(sink_kinds) / sizeof(sink_kinds[0]);

void *sink_kind_opts(const struct sink_kind *kind, const struct config_list *l, size_t i)
{
	return (char *)l->items + i * kind->section->size;
}
