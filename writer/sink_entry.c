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
 * made are removed again and the error returned.
 *
 * Exactly once across restarts: the sink saves the batch's lane marks
 * (lane_marks.c) with the note "pending <T>" before it makes the batch's
 * files, and "done <T>" after; T is when the first writer to try the
 * unacknowledged entries began (a restarted writer keeps the T it found
 * until one of its own batches was acknowledged). A restarted writer gets
 * the unacknowledged batch again: after "done" it skips every entry the
 * marks hold; after "pending" some were
 * made, so at start it reads the first bytes of the documents changed
 * since T (less a second, for the coarse mtime), removes those left empty
 * or cut by the kill, and skips the held entries whose (lane, lane_seq)
 * it found. A duplicate cannot be found by its name: the time stamp comes
 * from the TSC, which each writer calibrates anew, so the same entry may
 * come back some microseconds apart. Rules sharing a directory should
 * not match the same entries.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "buf.h"
#include "bus.h"
#include "config_schema.h"
#include "entry_json.h"
#include "lane_marks.h"
#include "outfile.h"
#include "record.h"
#include "sink.h"
#include "sink_entry.h"
#include "text.h"

#define NAME_MAX_LEN 128
#define HEAD_LEN 256           /* enough for the keys up to lane_seq */

/* A rule of the "entry_files" section of the configuration. */
struct entry_options {
	const char *dir;
	const char *tag_glob;      /* fnmatch(3) pattern the tag must match */
	int level_min, level_max;  /* severities, emerg 0 .. debug 7, inclusive */
	bool zstd;
	int zstd_level;
};

/* A document of the previous writer's cut batch. */
struct made {
	uint32_t lane;
	uint64_t lane_seq;
};

struct entry_sink {
	struct sink sink;
	struct entry_options o;       /* its strings not kept */
	char *glob;
	int dirfd;
	struct lb_buf doc, z;
	ZSTD_CCtx *cctx;
	char (*made)[NAME_MAX_LEN];   /* names made by the current batch */
	size_t nmade, made_cap;
	struct lane_marks marks;
	bool done;                    /* the previous writer finished its batch */
	uint64_t pending_since;       /* s, CLOCK_REALTIME: T of the notes */
	bool acked;                   /* the last batch was taken, so acknowledged */
	struct made *found;           /* ... or made these of it */
	size_t nfound, found_cap;
};

static bool matches(const struct entry_sink *s, const struct lb_entry *e)
{
	char tag[LB_TAG_MAX + 1];
	size_t n = e->tag_len < LB_TAG_MAX ? e->tag_len : LB_TAG_MAX;

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
	struct lb_entry_ids ids = batch_entry_ids(be);
	struct lb_buf *out = &s->doc;
	char stem[LB_TAG_MAX + 1], name[NAME_MAX_LEN];
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

/* The first bytes of document name, decompressed when zstd, in
 * head[HEAD_LEN] (NUL-terminated); false when it cannot be read. */
static bool read_head(const struct entry_sink *s, const char *name, char *head)
{
	char raw[4096];
	int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : pread(fd, raw, sizeof(raw), 0);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	if (!s->o.zstd) {
		size_t k = (size_t)n < HEAD_LEN - 1 ? (size_t)n : HEAD_LEN - 1;
		memcpy(head, raw, k);
		head[k] = '\0';
		return true;
	}
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer in = { raw, (size_t)n, 0 };
	ZSTD_outBuffer out = { head, HEAD_LEN - 1, 0 };
	size_t r = d ? ZSTD_decompressStream(d, &out, &in) : 1;
	ZSTD_freeDCtx(d);
	head[out.pos] = '\0';
	return d && !ZSTD_isError(r);
}

/* The lane and lane_seq a document's head names; false when it names
 * none (empty, or cut before its lane_seq). */
static bool entry_ids(const char *head, struct made *m)
{
	const char *l = strstr(head, "\"lane\":"), *q = strstr(head, "\"lane_seq\":");
	char *end;

	if (!l || !q)
		return false;
	m->lane = (uint32_t)strtoul(l + 7, NULL, 10);
	m->lane_seq = strtoull(q + 11, &end, 10);
	return *end == ',';
}

static void note_found(struct entry_sink *s, const struct made *m)
{
	if (s->nfound == s->found_cap) {
		size_t cap = s->found_cap ? 2 * s->found_cap : 64;
		struct made *p = realloc(s->found, cap * sizeof(*p));
		if (!p)
			return;
		s->found = p;
		s->found_cap = cap;
	}
	s->found[s->nfound++] = *m;
}

/* After a "pending" state: the documents of the cut batch, those changed
 * since the state was saved; an unreadable one is removed. */
static void find_made(struct entry_sink *s, const char *suffix)
{
	struct dirent *de;
	int fd;
	DIR *d;

	if ((fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat f;
		char head[HEAD_LEN];
		struct made m;
		size_t n = strlen(de->d_name), k = strlen(suffix);

		if (n <= k || strcmp(de->d_name + n - k, suffix) != 0 ||
		    fstatat(s->dirfd, de->d_name, &f, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(f.st_mode) || (uint64_t)f.st_mtim.tv_sec + 1 < s->pending_since)
			continue;
		if (read_head(s, de->d_name, head) && entry_ids(head, &m))
			note_found(s, &m);
		else
			(void)unlinkat(s->dirfd, de->d_name, 0);
	}
	closedir(d);
}

/* Whether the previous writer made the document of this held entry. */
static bool made_before(const struct entry_sink *s, const struct batch_entry *be)
{
	if (s->done)
		return true;
	for (size_t i = 0; i < s->nfound; i++)
		if (s->found[i].lane == be->lane && s->found[i].lane_seq == be->e.seq)
			return true;
	return false;
}

static int save_note(struct entry_sink *s, const char *what)
{
	char note[40];

	snprintf(note, sizeof(note), "%s %llu", what, (unsigned long long)s->pending_since);
	return lane_marks_save(&s->marks, note);
}

/* Note the batch's marks and save them before any file is made. */
static int save_marks(struct entry_sink *s, const struct batch *b)
{
	lane_marks_begin(&s->marks);
	for (size_t i = 0; i < b->count; i++) {
		int r = lane_marks_note(&s->marks, b->entries[i].lane, b->entries[i].e.seq);
		if (r < 0)
			return r;
	}
	if (s->acked || !s->pending_since)
		s->pending_since = (uint64_t)time(NULL);
	return save_note(s, "pending");
}

static int entry_write(struct sink *sink, const struct batch *b)
{
	struct entry_sink *s = (struct entry_sink *)sink;
	int r = save_marks(s, b);

	s->nmade = 0;
	for (size_t i = 0; i < b->count && r == 0; i++) {
		const struct batch_entry *be = &b->entries[i];
		if (!matches(s, &be->e))
			continue;
		if (lane_marks_held(&s->marks, be->lane, be->e.seq) && made_before(s, be))
			continue;
		r = write_one(s, be);
	}
	if (r == 0)
		r = save_note(s, "done");
	s->acked = r == 0;
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
	lane_marks_close(&s->marks);
	free(s->found);
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

int sink_entry_from_config(const void *opts, unsigned index, const struct sink_context *sc,
			   struct sink **out)
{
	const struct entry_options *o = opts;
	struct entry_sink *s = calloc(1, sizeof(*s));
	int r = 0;

	if (!s)
		return -ENOMEM;
	*s = (struct entry_sink){
		.sink = { .name = "entry", .ops = &entry_ops },
		.o = *o,
		.glob = strdup(o->tag_glob ? o->tag_glob : "*"),
		.dirfd = -1,
		.marks = { .fd = -1 },
	};
	snprintf(s->sink.key, sizeof(s->sink.key), "entry %u %s %s", index, o->dir,
		 s->glob ? s->glob : "");
	snprintf(s->sink.dest, sizeof(s->sink.dest), "directory %s", o->dir);
	s->o.dir = s->o.tag_glob = NULL;   /* the caller's strings are not kept */
	if (!s->glob || (o->zstd && !(s->cctx = outfile_zstd_new(o->zstd_level))))
		r = -ENOMEM;
	if (r == 0 && (s->dirfd = outfile_open_dir(o->dir)) < 0)
		r = s->dirfd;
	if (r == 0) {
		char state[LB_BUS_NAME_MAX + 32], note[16];
		snprintf(state, sizeof(state), ".%s.entry%u.state", sc->bus, index);
		r = lane_marks_open(&s->marks, s->dirfd, state, sc->segment_id, note,
				    sizeof(note));
		unsigned long long since;
		char what[8];
		if (r == 0 && sscanf(note, "%7s %llu", what, &since) == 2) {
			s->pending_since = since;
			s->done = !strcmp(what, "done");
			if (!strcmp(what, "pending"))
				find_made(s, o->zstd ? ".json.zst" : ".json");
		}
	}
	if (r < 0) {
		entry_destroy(&s->sink);
		return r;
	}
	*out = &s->sink;
	return 0;
}

/* ---- a rule of the "entry_files" section of the configuration ---- */

static void entry_defaults(void *p)
{
	*(struct entry_options *)p = (struct entry_options){
		.tag_glob = NULL, .level_min = 0, .level_max = 7, .zstd_level = 3,
	};
}

static void entry_check(struct config_ctx *x, const char *path, void *p)
{
	struct entry_options *o = p;

	if (!o->dir)
		config_problem(x, path, "needs \"dir\", the directory of the entry files");
	if (!o->tag_glob)
		config_problem(x, path, "needs \"tag\", a glob such as \"response*\"");
	if (o->level_min > o->level_max)
		config_problem(x, path, "level_min (%s) is less severe than level_max (%s): no "
			       "entry could match", lb_level_name((unsigned)o->level_min),
			       lb_level_name((unsigned)o->level_max));
}

static const struct config_key entry_keys[] = {
	CONFIG_KEY("dir", CONFIG_DIR, struct entry_options, dir),
	CONFIG_KEY("tag", CONFIG_GLOB, struct entry_options, tag_glob),
	CONFIG_KEY("level_min", CONFIG_LEVEL, struct entry_options, level_min),
	CONFIG_KEY("level_max", CONFIG_LEVEL, struct entry_options, level_max),
	CONFIG_KEY("compress", CONFIG_COMPRESS, struct entry_options, zstd),
	CONFIG_KEY("zstd_level", CONFIG_ZSTD_LEVEL, struct entry_options, zstd_level),
	{ 0 },
};

const struct config_section sink_entry_section = {
	entry_keys, sizeof(struct entry_options), entry_defaults, entry_check,
};
