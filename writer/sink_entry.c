/* SPDX-License-Identifier: MIT */
/*
 * The per-entry sink, for the "one file per agent response" use: every
 * entry whose tag matches the rule's glob and whose level is in its range
 * becomes one JSON document holding the whole entry (the keys of a JSON
 * line), named after its tag and time stamp to the microsecond, created
 * with O_EXCL (the microsecond bumped on a collision) and O_NOFOLLOW.
 * A tag's characters outside [A-Za-z0-9_.-] become '_' in the name, and
 * a leading '.' too, so a tag never names a path elsewhere.
 *
 * A batch is all or nothing: when one file fails, the files this batch
 * made are removed again and the error returned. Across a writer restart
 * the entries of the last, unacknowledged batch may be written again (at
 * least once; the documents carry lane and lane_seq to recognise them).
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "buf.h"
#include "entry_json.h"
#include "outfile.h"
#include "record.h"
#include "sink_entry.h"

#define NAME_MAX_LEN 128

struct entry_sink {
	struct sink sink;
	struct entry_options o;
	char *glob;
	int dirfd;
	struct lb_buf doc, z;
	ZSTD_CCtx *cctx;
	char (*made)[NAME_MAX_LEN];   /* names made by the current batch */
	size_t nmade, made_cap;
};

static bool matches(const struct entry_sink *s, const struct lb_entry *e)
{
	char tag[LOGBUS_TAG_MAX + 1];
	size_t n = e->tag_len < LOGBUS_TAG_MAX ? e->tag_len : LOGBUS_TAG_MAX;

	if (e->level < s->o.level_min || e->level > s->o.level_max)
		return false;
	memcpy(tag, e->tag, n);
	tag[n] = '\0';
	return fnmatch(s->glob, tag, 0) == 0;
}

static void safe_stem(const struct lb_entry *e, char *out, size_t cap)
{
	size_t n = e->tag_len < cap - 1 ? e->tag_len : cap - 1;

	for (size_t i = 0; i < n; i++) {
		char c = e->tag[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-' || (c == '.' && i);
		out[i] = ok ? c : '_';
	}
	out[n] = '\0';
}

static bool note_made(struct entry_sink *s, const char *name)
{
	if (s->nmade == s->made_cap) {
		size_t cap = s->made_cap ? 2 * s->made_cap : 64;
		void *p = realloc(s->made, cap * sizeof(*s->made));
		if (!p)
			return false;
		s->made = p;
		s->made_cap = cap;
	}
	snprintf(s->made[s->nmade++], NAME_MAX_LEN, "%s", name);
	return true;
}

static int write_one(struct entry_sink *s, const struct batch_entry *be)
{
	struct lb_entry_ids ids = { .seq = be->seq, .lane = be->lane };
	struct lb_buf *out = &s->doc;
	char stem[LOGBUS_TAG_MAX + 1], name[NAME_MAX_LEN];
	int fd = -1, r = 0;

	s->doc.len = 0;
	lb_entry_json_put(&s->doc, &be->e, be->ts_ns, &ids);
	if (s->doc.failed) {
		s->doc.failed = false;
		return -ENOMEM;
	}
	if (s->o.zstd) {
		r = outfile_zstd(s->cctx, s->doc.data, s->doc.len, &s->z);
		out = &s->z;
	}
	safe_stem(&be->e, stem, sizeof(stem));
	if (r == 0) {
		fd = outfile_create(s->dirfd, stem, s->o.zstd ? ".json.zst" : ".json",
				    be->ts_ns / 1000u, name, sizeof(name));
		r = fd;
	}
	if (r < 0)
		return r;
	if (!note_made(s, name)) {
		close(fd);
		(void)unlinkat(s->dirfd, name, 0);
		return -ENOMEM;
	}
	r = outfile_write_all(fd, out->data, out->len);
	close(fd);
	if (r == 0)
		s->sink.counters.bytes += out->len;
	return r;
}

static int entry_write(struct sink *sink, const struct batch *b)
{
	struct entry_sink *s = (struct entry_sink *)sink;
	int r = 0;

	s->nmade = 0;
	for (size_t i = 0; i < b->count && r == 0; i++)
		if (matches(s, &b->entries[i].e))
			r = write_one(s, &b->entries[i]);
	if (r < 0)
		for (size_t i = 0; i < s->nmade; i++)
			(void)unlinkat(s->dirfd, s->made[i], 0);
	return r;
}

static int entry_reopen(struct sink *sink)
{
	(void)sink;
	return 0;   /* every file is closed after its entry */
}

static void entry_destroy(struct sink *sink)
{
	struct entry_sink *s = (struct entry_sink *)sink;

	if (s->dirfd >= 0)
		close(s->dirfd);
	lb_buf_free(&s->doc);
	lb_buf_free(&s->z);
	ZSTD_freeCCtx(s->cctx);
	free(s->glob);
	free(s->made);
	free(s);
}

static const struct sink_ops entry_ops = {
	.write = entry_write,
	.reopen = entry_reopen,
	.destroy = entry_destroy,
};

int sink_entry_new(const struct entry_options *o, struct sink **out)
{
	struct entry_sink *s = calloc(1, sizeof(*s));
	int r = 0;

	if (!s)
		return -ENOMEM;
	*s = (struct entry_sink){
		.sink = { .name = "entry", .ops = &entry_ops },
		.o = *o,
		.glob = strdup(o->tag_glob ? o->tag_glob : "*"),
		.dirfd = -1,
	};
	s->o.dir = s->o.tag_glob = NULL;   /* the caller's strings are not kept */
	if (!s->glob || (o->zstd && !(s->cctx = outfile_zstd_new(o->zstd_level))))
		r = -ENOMEM;
	if (r == 0 && (s->dirfd = outfile_open_dir(o->dir)) < 0)
		r = s->dirfd;
	if (r < 0) {
		entry_destroy(&s->sink);
		return r;
	}
	*out = &s->sink;
	return 0;
}
