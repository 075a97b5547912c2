/* SPDX-License-Identifier: MIT */
/*
 * The file sink: every batch appended to the current file as JSON lines,
 * or as whole zstd frames (see outfile.c for why a frame ends per batch).
 *
 * Names carry the creation time to the microsecond and are created with
 * O_EXCL, bumping the microsecond on a collision, so no file is ever
 * overwritten, even at hundreds of rotations a second; O_NOFOLLOW keeps a
 * symlink planted in the directory from redirecting us, and retention
 * removes with unlinkat() on the directory descriptor only regular files
 * whose names match this bus's pattern. A batch is written whole or not
 * at all: a failed write is cut back with ftruncate().
 *
 * Exactly once across restarts. The drain moves the lanes' tails after the
 * sinks took a batch, so a writer killed in between reads that batch again
 * when it restarts: only the last batch is at risk. After each batch (and
 * after starting a file) the sink saves its lane marks (lane_marks.c) in
 * ".<bus>.state", with the note "<current file> <its size>".
 *
 * At start, when the state's segment is the bus's segment (lane sequences
 * restart with a new segment, so a state of another segment is ignored):
 * the named file is cut back to the recorded size (a kill between the
 * write and the state's update left a batch that the drain will deliver
 * again; files left empty are removed), and the entries delivered again
 * whose lane_seq is at most the recorded one (held) are skipped. That works the
 * same for zstd files, with no decompression: batches end at frame
 * boundaries.
 *
 * Cost: one pwrite of a few hundred bytes per batch (see lane_marks.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "buf.h"
#include "clock.h"
#include "config_schema.h"
#include "entry_json.h"
#include "lane_marks.h"
#include "outfile.h"
#include "sink.h"
#include "sink_file.h"

/* Bytes of JSON lines formatted before they are written (and, with zstd,
 * become one frame). */
#define CHUNK (UINT64_C(1) << 20)

/* The "file" section of the configuration. */
struct file_options {
	const char *dir;
	bool zstd;                 /* .jsonl.zst, one zstd frame per batch */
	int zstd_level;
	uint64_t rotate_bytes;     /* start a new file past this size; 0: never */
	uint64_t rotate_seconds;   /* ... or when the file is this old; 0: never */
	uint64_t keep_files;       /* remove the oldest beyond this many; 0: all */
	uint64_t keep_bytes;       /* ... or beyond this total; 0: no limit */
};

struct file_sink {
	struct sink sink;
	struct file_options o;     /* its dir not kept */
	uint64_t segment_id;       /* lb_bus_id() of the bus drained */
	char prefix[80];           /* the bus name: names start "<prefix>_" */
	char state_name[100];
	struct lane_marks marks;
	int dirfd;
	int fd;
	char name[160];         /* the current file, relative to the directory */
	uint64_t size;          /* bytes of whole batches in the current file */
	uint64_t opened_ns;     /* CLOCK_MONOTONIC, for rotation by age */
	struct lb_buf line;
	struct lb_buf z;
	ZSTD_CCtx *cctx;
};

static uint64_t now_ns(void)
{
	return lb_clock_ns(CLOCK_MONOTONIC);
}

static int state_write(struct file_sink *s)
{
	char note[200];

	snprintf(note, sizeof(note), "%s %llu", s->name, (unsigned long long)s->size);
	return lane_marks_save(&s->marks, note);
}

static bool ours(const struct file_sink *s, const char *name);

/* How long ago (ns) file name was made, from the time in its name; 0 when
 * the name tells none. */
static uint64_t age_of(const struct file_sink *s, const char *name)
{
	struct tm tm = { 0 };
	unsigned long long usec;
	uint64_t now = lb_clock_ns(CLOCK_REALTIME), made;

	if (sscanf(name + strlen(s->prefix), "_%4d%2d%2d_%2d%2d%2d_%6llu", &tm.tm_year,
		   &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &usec) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t sec = timegm(&tm);
	if (sec < 0)
		return 0;
	made = (uint64_t)sec * 1000000000u + usec * 1000u;
	return now > made ? now - made : 0;
}

/*
 * The previous writer's last file: cut it back to what its state vouches
 * for, and go on writing it (a restart opens no new file, so no number of
 * restarts pushes entries out through keep_files) unless it is of the
 * other compression. Its age, for rotate_age, comes from its name.
 */
static void recover_file(struct file_sink *s, const char *name, uint64_t size)
{
	const char *ext = s->o.zstd ? ".jsonl.zst" : ".jsonl";
	size_t n = strlen(name), e = strlen(ext);
	struct stat st;
	int fd;

	if (!ours(s, name) || strchr(name, '/'))
		return;
	fd = openat(s->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < size) {
		close(fd);
		return;
	}
	if ((uint64_t)st.st_size > size)
		(void)ftruncate(fd, (off_t)size);
	if (size == 0 || n < e || strcmp(name + n - e, ext) != 0 ||
	    snprintf(s->name, sizeof(s->name), "%s", name) >= (int)sizeof(s->name)) {
		close(fd);
		s->name[0] = '\0';
		return;
	}
	(void)fcntl(fd, F_SETFL, O_APPEND);   /* blocking again */
	uint64_t age = age_of(s, name), now = now_ns();
	s->fd = fd;
	s->size = size;
	s->opened_ns = now > age ? now - age : 0;
}

/* Open the marks; cut the file they name back to its size then, and go on
 * with it. */
static int state_load(struct file_sink *s)
{
	char note[200], name[160];
	unsigned long long size;
	int r = lane_marks_open(&s->marks, s->dirfd, s->state_name, s->segment_id, note,
				sizeof(note));

	if (r == 0 && sscanf(note, "%159s %llu", name, &size) == 2)
		recover_file(s, name, size);
	return r;
}

/* ---- retention ---- */

/* Whether name is <prefix>_YYYYMMDD_HHMMSS_UUUUUU.jsonl[.zst]. */
static bool ours(const struct file_sink *s, const char *name)
{
	static const char shape[] = "_99999999_999999_999999.jsonl";
	size_t p = strlen(s->prefix);

	if (strncmp(name, s->prefix, p) != 0)
		return false;
	name += p;
	for (size_t i = 0; i < sizeof(shape) - 1; i++, name++) {
		if (shape[i] == '9' ? (*name < '0' || *name > '9') : *name != shape[i])
			return false;
	}
	return !*name || !strcmp(name, ".zst");
}

struct old_file {
	char *name;
	uint64_t size;
};

static int old_cmp(const void *a, const void *b)
{
	return strcmp(((const struct old_file *)a)->name, ((const struct old_file *)b)->name);
}

/* Our files, oldest first (names sort by time); returns the count or a
 * negative errno. */
static long list_files(struct file_sink *s, struct old_file **out)
{
	int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct old_file *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (!ours(s, de->d_name) ||
		    fstatat(s->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			struct old_file *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[n].name = strdup(de->d_name);
		v[n].size = (uint64_t)st.st_size;
		if (v[n].name)
			n++;
	}
	closedir(d);
	if (n)   /* v may be NULL: qsort's pointer must not be */
		qsort(v, n, sizeof(*v), old_cmp);
	*out = v;
	return (long)n;
}

/* A file left empty (a kill between its creation and its first batch)
 * holds nothing, and `zstd -d` refuses an empty .zst: remove it. */
static void remove_empty(struct file_sink *s)
{
	struct old_file *v = NULL;
	long n = list_files(s, &v);

	for (long i = 0; i < n; i++) {
		if (v[i].size == 0)
			(void)unlinkat(s->dirfd, v[i].name, 0);
		free(v[i].name);
	}
	free(v);
}

/* Remove the oldest of our files beyond keep_files or keep_bytes, never
 * the current one. */
static void retention(struct file_sink *s)
{
	struct old_file *v = NULL;
	uint64_t total = 0;
	long n;

	if (!s->o.keep_files && !s->o.keep_bytes)
		return;
	n = list_files(s, &v);
	for (long i = 0; i < n; i++)
		total += v[i].size;
	for (long i = 0; i < n; i++) {
		uint64_t left = (uint64_t)(n - i);
		bool over = (s->o.keep_files && left > s->o.keep_files) ||
			    (s->o.keep_bytes && total > s->o.keep_bytes);
		if (over && strcmp(v[i].name, s->name) != 0 &&
		    unlinkat(s->dirfd, v[i].name, 0) == 0)
			total -= v[i].size;
		else if (!over)
			break;
	}
	for (long i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* ---- files ---- */

static void close_file(struct file_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static int open_file(struct file_sink *s)
{
	int fd = outfile_create(s->dirfd, s->prefix, s->o.zstd ? ".jsonl.zst" : ".jsonl",
				lb_clock_ns(CLOCK_REALTIME) / 1000u, s->name, sizeof(s->name));

	if (fd < 0)
		return fd;
	s->fd = fd;
	s->size = 0;
	s->opened_ns = now_ns();
	/* The state names the new file at once: a batch written to it and
	 * then cut off by a kill before the next state is removed at start. */
	int r = state_write(s);
	if (r < 0) {
		close_file(s);
		(void)unlinkat(s->dirfd, s->name, 0);
		s->name[0] = '\0';
		return r;
	}
	retention(s);
	return 0;
}

static bool due(const struct file_sink *s)
{
	return (s->o.rotate_bytes && s->size >= s->o.rotate_bytes) ||
	       (s->o.rotate_seconds && now_ns() - s->opened_ns >= s->o.rotate_seconds * 1000000000u);
}

/* Write what s->line holds (compressed when zstd) after the batch's
 * earlier chunks; *done counts the bytes written. */
static int put_chunk(struct file_sink *s, uint64_t *done)
{
	struct lb_buf *out = &s->line;
	int r = 0;

	if (s->line.failed) {
		s->line.failed = false;
		return -ENOMEM;
	}
	if (!s->line.len)
		return 0;
	if (s->o.zstd) {
		r = outfile_zstd(s->cctx, s->line.data, s->line.len, &s->z);
		out = &s->z;
	}
	if (r == 0)
		r = outfile_write_all(s->fd, out->data, out->len);
	if (r == 0)
		*done += out->len;
	s->line.len = 0;
	return r;
}

/* The batch as JSON lines, less what the restart marks hold back, in
 * chunks of CHUNK bytes (a batch can hold hundreds of megabytes: memory
 * stays bounded and warm); notes each lane's last lane_seq. */
static int write_batch(struct file_sink *s, const struct batch *b, uint64_t *done)
{
	int r = 0;

	s->line.len = 0;
	lane_marks_begin(&s->marks);
	for (size_t i = 0; i < b->count && r == 0; i++) {
		const struct batch_entry *be = &b->entries[i];
		struct lb_entry_ids ids = batch_entry_ids(be);
		int held = lane_marks_note(&s->marks, be->lane, be->e.seq);

		if (held < 0)
			return held;
		if (!held)
			lb_entry_json_put(&s->line, &be->e, be->ts_ns, &ids);
		if (s->line.len >= CHUNK)
			r = put_chunk(s, done);
	}
	return r ? r : put_chunk(s, done);
}

static int file_write(struct sink *sink, const struct batch *b)
{
	struct file_sink *s = (struct file_sink *)sink;
	uint64_t done = 0;
	int r;

	if (s->fd >= 0 && due(s))
		close_file(s);
	if (s->fd < 0 && (r = open_file(s)) < 0)
		return r;
	r = write_batch(s, b, &done);
	if (r == 0) {
		s->size += done;
		r = state_write(s);
		if (r < 0)
			s->size -= done;
	}
	if (r < 0) {
		/* Cut back to the last whole batch: the file stays valid and
		 * a retry duplicates nothing. */
		(void)!ftruncate(s->fd, (off_t)s->size);
		return r;
	}
	s->sink.counters.bytes += done;
	return 0;
}

static int file_reopen(struct sink *sink)
{
	struct file_sink *s = (struct file_sink *)sink;

	close_file(s);
	return open_file(s);
}

static void file_destroy(struct sink *sink)
{
	struct file_sink *s = (struct file_sink *)sink;

	close_file(s);
	if (s->dirfd >= 0)
		close(s->dirfd);
	lane_marks_close(&s->marks);
	lb_buf_free(&s->line);
	lb_buf_free(&s->z);
	ZSTD_freeCCtx(s->cctx);
	free(s);
}

static const struct sink_ops file_ops = {
	.write = file_write,
	.reopen = file_reopen,
	.destroy = file_destroy,
};

int sink_file_from_config(const void *opts, unsigned index, const struct sink_context *sc,
			  struct sink **out)
{
	const struct file_options *o = opts;
	struct file_sink *s = calloc(1, sizeof(*s));

	(void)index;
	if (!s)
		return -ENOMEM;
	*s = (struct file_sink){
		.sink = { .name = "file", .ops = &file_ops },
		.o = *o,
		.segment_id = sc->segment_id,
		.dirfd = -1,
		.fd = -1,
		.marks = { .fd = -1 },
	};
	snprintf(s->prefix, sizeof(s->prefix), "%s", sc->bus);
	snprintf(s->state_name, sizeof(s->state_name), ".%s.state", s->prefix);
	snprintf(s->sink.key, sizeof(s->sink.key), "file %s", o->dir);
	snprintf(s->sink.dest, sizeof(s->sink.dest), "directory %s", o->dir);
	s->o.dir = NULL;   /* not kept: the caller's string */
	if (o->zstd && !(s->cctx = outfile_zstd_new(o->zstd_level))) {
		file_destroy(&s->sink);
		return -EINVAL;
	}
	s->dirfd = outfile_open_dir(o->dir);
	int r = s->dirfd < 0 ? s->dirfd : state_load(s);
	if (r < 0) {
		file_destroy(&s->sink);
		return r;
	}
	remove_empty(s);
	retention(s);
	*out = &s->sink;
	return 0;
}

/* ---- the "file" section of the configuration ---- */

static void file_defaults(void *p)
{
	*(struct file_options *)p = (struct file_options){
		.dir = "logbus-logs",
		.zstd_level = 3,
		.rotate_bytes = UINT64_C(64) << 20,
		.rotate_seconds = 86400,
		.keep_files = 100,
		.keep_bytes = 0,
	};
}

static const struct config_key file_keys[] = {
	CONFIG_KEY("dir", CONFIG_DIR, struct file_options, dir),
	CONFIG_KEY("compress", CONFIG_COMPRESS, struct file_options, zstd),
	CONFIG_KEY("zstd_level", CONFIG_ZSTD_LEVEL, struct file_options, zstd_level),
	CONFIG_KEY("rotate_size", CONFIG_SIZE, struct file_options, rotate_bytes),
	CONFIG_KEY("rotate_age", CONFIG_SECONDS, struct file_options, rotate_seconds),
	CONFIG_KEY("keep_files", CONFIG_COUNT, struct file_options, keep_files),
	CONFIG_KEY("keep_size", CONFIG_SIZE, struct file_options, keep_bytes),
	{ 0 },
};

const struct config_section sink_file_section = {
	file_keys, sizeof(struct file_options), file_defaults, NULL,
};
