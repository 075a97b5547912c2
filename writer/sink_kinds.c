/* SPDX-License-Identifier: MIT */
/* The table of sink kinds (sink_kinds.h), and the sinks made from it. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_schema.h"
#include "sink.h"
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

/* Destroy n sinks and free the array. */
static void free_sinks(struct sink **sinks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sinks[i]->ops->destroy(sinks[i]);
	free(sinks);
}

/* Where the remote sinks' spools are kept, into out[cap]. */
static void spool_dir_of(const struct writer_config *c, char *out, size_t cap)
{
	if (c->spool_dir)
		snprintf(out, cap, "%s", c->spool_dir);
	else
		snprintf(out, cap, "%s/spool", config_state_dir(c));
}

/* Make the sinks of kind i into v[*n...], or say why not. */
static int make_kind(const struct writer_config *c, size_t i, const struct sink_context *sc,
		     struct sink **v, size_t *n, FILE *errs)
{
	const struct sink_kind *kind = &sink_kinds[i];
	const struct config_list *l = &c->sinks[i];

	for (size_t j = 0; j < l->count; j++) {
		int r = kind->make(sink_kind_opts(kind, l, j), (unsigned)j, sc, &v[*n]);
		if (r < 0) {
			fprintf(errs, "logbus-writer: cannot start the %s sink: %s\n", kind->name,
				strerror(-r));
			return r;
		}
		(*n)++;
	}
	return 0;
}

long sink_kinds_make(const struct writer_config *c, uint64_t segment_id, struct sink ***out,
		     FILE *errs)
{
	char spool_dir[PATH_MAX];
	struct sink_context sc = { .bus = c->bus, .segment_id = segment_id,
				   .spool_dir = spool_dir, .spool_max = c->spool_max };
	size_t cap = 1, n = 0;
	struct sink **v;
	int r = 0;

	spool_dir_of(c, spool_dir, sizeof(spool_dir));
	for (size_t i = 0; i < sink_kinds_count; i++)
		if (c->formats & (1u << i))
			cap += c->sinks[i].count;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < sink_kinds_count; i++)
		if (c->formats & (1u << i))
			r = make_kind(c, i, &sc, v, &n, errs);
	if (r < 0) {
		free_sinks(v, n);
		return r;
	}
	*out = v;
	return (long)n;
}
