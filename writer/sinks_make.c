/* SPDX-License-Identifier: MIT */
/* The sinks a configuration enables, made kind by kind from the table of
 * sink kinds (sink_kinds.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_schema.h"
#include "sink.h"
#include "sink_kinds.h"
#include "sinks_make.h"

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

long sinks_make(const struct writer_config *c, uint64_t segment_id, struct sink ***out,
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
