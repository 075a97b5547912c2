/* SPDX-License-Identifier: MIT */
/*
 * logbus-query - read, filter and follow what logbus-writer wrote.
 *
 * NAME
 *	logbus-query - show the entries of a bus's files, as journalctl does
 *
 * SYNOPSIS
 *	logbus-query [OPTIONS] [FIELD=VALUE...] [FILE...]
 *
 * DESCRIPTION
 *	Reads the writer's JSON-lines files, plain and .zst, across
 *	rotations, with the fallback files beside them: entries of one bus in
 *	seq order, merged by time across buses and other files. A last zstd
 *	frame cut by a crash and a last line without its newline are read;
 *	a damaged line or frame is reported with its file and line and
 *	skipped. With -n or -r it reads from the end of the newest files.
 *
 * EXIT STATUS
 *	0 the query ran (matches or not), 1 nothing could be read, 2 bad
 *	arguments.
 *
 * EXAMPLES
 *	logbus-query --dir /var/log/logbus -p err --since "1h ago"
 *	logbus-query -t 'web*' user=bob -o json
 *	logbus-query -f -n 20 --bus app
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "entry.h"
#include "logbus.h"
#include "output.h"
#include "qtime.h"
#include "reader.h"
#include "record.h"
#include "sources.h"
#include "version.h"

static const char usage[] =
	"Usage: logbus-query [OPTIONS] [FIELD=VALUE...] [FILE...]\n"
	"Show the entries logbus-writer wrote, oldest first, as journalctl does.\n"
	"\n"
	"Sources (default: the --dir directory):\n"
	"  -D, --dir DIR          the writer's file directory (default: $LOGBUS_DIR,\n"
	"                         else file.dir of --config, else ./logbus-logs)\n"
	"  -c, --config FILE      the writer's configuration, for its file.dir\n"
	"  -b, --bus NAME         only this bus's files (repeatable; default: every\n"
	"                         bus in the directory, and its other .jsonl files)\n"
	"  FILE                   files to read (plain or .zst), e.g. fallback files\n"
	"Filters (all must match):\n"
	"  -S, --since TIME       entries at or after TIME: RFC 3339 (local without\n"
	"      --until TIME       a zone), YYYY-MM-DD, \"1h ago\", today, yesterday, now\n"
	"  -p, --priority LEVEL   LEVEL or more severe, or a range FROM..TO (emerg,\n"
	"                         alert, crit, err, warning, notice, info, debug, 0-7)\n"
	"  -t, --tag GLOB         tag matching the glob (repeatable: any of them)\n"
	"      --pid PID          published by this process (repeatable)\n"
	"  -g, --grep REGEX       message matching the POSIX extended regex\n"
	"  FIELD=VALUE            a field with this value (a field given twice: any\n"
	"                         of its values)\n"
	"What and how:\n"
	"  -n, --lines N          only the last N entries\n"
	"  -r, --reverse          newest first\n"
	"  -f, --follow           show the last 10 (or -n) entries, then new ones as\n"
	"                         they are written, across rotations, until SIGINT\n"
	"  -o, --output MODE      short (default), short-precise, json, json-pretty,\n"
	"                         cat, verbose; err and worse in colour on a terminal\n"
	"                         unless NO_COLOR is set\n"
	"  -h, --help             this text\n"
	"  -V, --version          print the version\n"
	"\n"
	"Exit status: 0 the query ran, 1 nothing could be read, 2 bad arguments.\n"
	"Examples:\n"
	"  logbus-query --dir /var/log/logbus -p err --since \"1h ago\"\n"
	"  logbus-query -t 'web*' user=bob -o json\n"
	"  logbus-query -f -n 20 --bus app\n";

struct options {
	const char *dir;
	const char *config;
	const char **buses;
	size_t nbuses;
	const char **files;
	size_t nfiles;
	struct entry_filter filter;
	long long lines;          /* -1: all */
	bool reverse, follow;
	enum output_mode mode;
};

/* One stream being read: its reader, the lines of its chunk not looked
 * at yet, and the next entry in the direction of reading. Lines are
 * parsed one at a time, as the merge asks: -n 10 parses about 10. */
struct cursor {
	size_t cur;               /* index of the file being read */
	bool open, started, done;
	struct reader r;
	size_t line;              /* lines of r's chunk looked at */
	bool ready;               /* next holds the next entry */
	struct entry next;
	uint64_t follow_from;     /* offset in files[follow_file] to read on from */
	size_t follow_file;
	bool follow_known;
};

struct query {
	struct options o;
	struct source_set set;
	struct cursor *c;
	size_t ncursors;
	bool colour;
	bool read_any;            /* a file could be opened */
	int failed;               /* -errno of a failure that ends the query */
};

static volatile sig_atomic_t interrupted;

/* SIGINT, SIGTERM: end the query (a follow) after the current entry. */
static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Print "logbus-query: " and fmt with arg as one line; returns -EINVAL. */
static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "logbus-query: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return -EINVAL;
}

/* Append item (size bytes) to the array *vp of *n items, growing *cap.
 * Returns 0 or -ENOMEM. */
static int push(void *vp, size_t *n, size_t *cap, size_t size, const void *item)
{
	void **v = vp;
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 8;
		void *nv = realloc(*v, nc * size);
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	memcpy((char *)*v + *n * size, item, size);
	(*n)++;
	return 0;
}

/* -p LEVEL (that or more severe) or FROM..TO (either order), through
 * logbus_level_parse. Returns 0 or -EINVAL after saying why. */
static int parse_level_range(const char *s, struct entry_filter *f)
{
	const char *dots = strstr(s, "..");
	char from[32];
	int a, b;

	if (!dots) {
		a = logbus_level_parse(s);
		if (a < 0)
			return bad("-p '%s': not a level (emerg alert crit err warning notice "
				   "info debug, or 0-7)", s);
		f->level_min = 0;
		f->level_max = a;
		return 0;
	}
	snprintf(from, sizeof(from), "%.*s", (int)(dots - s), s);
	a = logbus_level_parse(from);
	b = logbus_level_parse(dots + 2);
	if (a < 0 || b < 0 || (size_t)(dots - s) >= sizeof(from))
		return bad("-p '%s': not a range FROM..TO of levels (emerg alert crit err "
			   "warning notice info debug, or 0-7)", s);
	f->level_min = a < b ? a : b;
	f->level_max = a < b ? b : a;
	return 0;
}

/* --since/--until s, or -EINVAL after naming flag and s. */
static int parse_time(const char *flag, const char *s, int64_t *ns)
{
	char text[200];

	if (qtime_parse(s, (int64_t)lb_clock_ns(CLOCK_REALTIME), ns) == 0)
		return 0;
	snprintf(text, sizeof(text), "%s '%%s': not a time (RFC 3339, YYYY-MM-DD, \"1h ago\", "
		 "today, yesterday, now)", flag);
	return bad(text, s);
}

/* FIELD=VALUE: 1 when arg is one (and it was added), 0 when it is not,
 * -ENOMEM. */
static int parse_match(const char *arg, struct entry_filter *f, size_t *cap)
{
	const char *eq = strchr(arg, '=');
	struct entry_match m;

	if (!eq || !lb_key_valid(arg, (size_t)(eq - arg)))
		return 0;
	m.key = strndup(arg, (size_t)(eq - arg));
	m.value = (char *)eq + 1;
	if (!m.key || push(&f->matches, &f->nmatches, cap, sizeof(m), &m) < 0)
		return -ENOMEM;
	return 1;
}

/* -n N: a count of 0 or more, or -EINVAL after saying why. */
static int parse_count(const char *s, long long *out)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return bad("-n '%s': not a count of entries (0 or more)", s);
	*out = v;
	return 0;
}

/* The command line into *o. Returns 0, or -EINVAL (-ENOMEM) after one line
 * on stderr; --help prints the usage and exits 0. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "config", required_argument, NULL, 'c' },
		{ "bus", required_argument, NULL, 'b' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "priority", required_argument, NULL, 'p' },
		{ "tag", required_argument, NULL, 't' },
		{ "pid", required_argument, NULL, 'P' },
		{ "grep", required_argument, NULL, 'g' },
		{ "lines", required_argument, NULL, 'n' },
		{ "reverse", no_argument, NULL, 'r' },
		{ "follow", no_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	size_t bus_cap = 0, tag_cap = 0, pid_cap = 0, match_cap = 0, file_cap = 0;
	struct entry_filter *f = &o->filter;
	int c, r;

	*o = (struct options){ .lines = -1, .mode = OUTPUT_SHORT,
			       .filter = { .level_min = 0, .level_max = LOGBUS_DEBUG } };
	while ((c = getopt_long(argc, argv, "D:c:b:S:U:p:t:g:n:rfo:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'D':
			if (!*optarg)
				return bad("--dir '%s': empty", optarg);
			o->dir = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'b':
			if (!lb_bus_name_valid(optarg))
				return bad("--bus '%s': not a bus name (1 to 64 of A-Za-z0-9_.-)",
					   optarg);
			if (push(&o->buses, &o->nbuses, &bus_cap, sizeof(char *), &optarg) < 0)
				return -ENOMEM;
			break;
		case 'S':
			if (parse_time("--since", optarg, &f->since_ns) < 0)
				return -EINVAL;
			f->has_since = true;
			break;
		case 'U':
			if (parse_time("--until", optarg, &f->until_ns) < 0)
				return -EINVAL;
			f->has_until = true;
			break;
		case 'p':
			if (parse_level_range(optarg, f) < 0)
				return -EINVAL;
			break;
		case 't':
			if (!*optarg || strlen(optarg) > LOGBUS_TAG_MAX * 2)
				return bad("-t '%s': not a tag glob (1 to 128 characters)", optarg);
			if (push(&f->tags, &f->ntags, &tag_cap, sizeof(char *), &optarg) < 0)
				return -ENOMEM;
			break;
		case 'P': {
			char *end;
			errno = 0;
			long pid = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || pid <= 0)
				return bad("--pid '%s': not a process id", optarg);
			if (push(&f->pids, &f->npids, &pid_cap, sizeof(pid), &pid) < 0)
				return -ENOMEM;
			break;
		}
		case 'g': {
			int e = regcomp(&f->regex, optarg, REG_EXTENDED | REG_NOSUB);
			if (e) {
				char why[200], text[300];
				regerror(e, &f->regex, why, sizeof(why));
				snprintf(text, sizeof(text), "-g '%%s': not a regular expression: %s",
					 why);
				return bad(text, optarg);
			}
			if (f->has_regex)
				return bad("-g '%s': only one -g", optarg);
			f->has_regex = true;
			break;
		}
		case 'n':
			if (parse_count(optarg, &o->lines) < 0)
				return -EINVAL;
			break;
		case 'r':
			o->reverse = true;
			break;
		case 'f':
			o->follow = true;
			break;
		case 'o':
			if ((r = output_mode_parse(optarg)) < 0)
				return bad("-o '%s': not an output mode (short, short-precise, json, "
					   "json-pretty, cat, verbose)", optarg);
			o->mode = (enum output_mode)r;
			break;
		default:
			return lb_tool_option(c, "logbus-query", usage, "Try 'logbus-query --help'.\n");
		}
	}
	for (int i = optind; i < argc; i++) {
		r = parse_match(argv[i], f, &match_cap);
		if (r < 0)
			return r;
		if (r == 0 && push(&o->files, &o->nfiles, &file_cap, sizeof(char *), &argv[i]) < 0)
			return -ENOMEM;
	}
	if (o->follow && o->reverse)
		return bad("%s: -f and -r do not go together", "-r");
	if (o->follow && o->lines < 0)
		o->lines = 10;
	return 0;
}

/* The directory the writer's configuration names (file.dir), into *dir
 * (owned by *root). Returns 0, or -EINVAL after saying why. */
static int config_dir(const char *path, json_t **root, const char **dir)
{
	json_error_t err;
	json_t *v;

	*root = json_load_file(path, 0, &err);
	if (!*root) {
		fprintf(stderr, "logbus-query: %s: %s (line %d)\n", path, err.text, err.line);
		return -EINVAL;
	}
	v = json_object_get(json_object_get(*root, "file"), "dir");
	if (v && !json_is_string(v)) {
		fprintf(stderr, "logbus-query: %s: $.file.dir: not a string\n", path);
		return -EINVAL;
	}
	if (v)
		*dir = json_string_value(v);
	return 0;
}

/* ---- reading ---- */

/* "logbus-query: WHERE: damaged line skipped: why" on stderr. */
static void report_line(const struct reader *r, const struct reader_line *l, const char *why)
{
	char where[4200];

	reader_where(r, l, where, sizeof(where));
	fprintf(stderr, "logbus-query: %s: damaged line skipped: %s%s\n", where,
		l->cut ? "the last line, without its newline: " : "", why);
}

/* Look at the next line of c's chunk (forward: in file order; backward:
 * from its last); sets c->ready when the filter keeps it. Returns 0 or
 * -ENOMEM. */
static int take_line(struct query *q, struct cursor *c, bool backward)
{
	size_t k = c->line++;
	const struct reader_line *l = &c->r.lines[backward ? c->r.nlines - 1 - k : k];
	const char *why = NULL;
	int r = entry_keep(&q->o.filter, l->p, l->len, &c->next, &why);

	if (r == -EBADMSG)
		report_line(&c->r, l, why);
	else if (r < 0)
		return r;
	c->ready = r == 1;
	return 0;
}

/* A file that cannot be read: one line naming it; the others are read. */
static void open_failed(const char *path, int e)
{
	fprintf(stderr, "logbus-query: %s: %s\n", path, strerror(-e));
}

/* Fill c's queue with the next entries forward; false when the stream
 * has nothing more (for now, when following). */
static bool fill_forward(struct query *q, size_t i)
{
	struct cursor *c = &q->c[i];
	const struct source_stream *s = &q->set.v[i];

	while (!c->ready && q->failed == 0) {
		if (c->open && c->line < c->r.nlines) {
			int e = take_line(q, c, false);
			if (e < 0)
				q->failed = e;
			continue;
		}
		c->line = 0;
		if (!c->open) {
			if (c->cur >= s->nfiles)
				return false;
			uint64_t from = c->follow_known && c->cur == c->follow_file ? c->follow_from : 0;
			int e = reader_open(&c->r, s->files[c->cur], from);
			if (e < 0) {
				open_failed(s->files[c->cur], e);
				reader_close(&c->r);
				c->cur++;
				continue;
			}
			q->read_any = true;
			c->open = true;
		}
		bool newest = c->cur + 1 >= s->nfiles;
		long n = reader_next(&c->r, !(q->o.follow && newest));
		if (n < 0)
			fprintf(stderr, "logbus-query: %s: %s\n", s->files[c->cur], strerror((int)-n));
		if (n > 0)
			continue;
		if (n == 0 && q->o.follow && newest)
			return false;
		reader_close(&c->r);
		c->open = false;
		c->cur++;
	}
	return c->ready;
}

/* Fill c's queue with the next entries backward, newest file first. */
static bool fill_backward(struct query *q, size_t i)
{
	struct cursor *c = &q->c[i];
	const struct source_stream *s = &q->set.v[i];

	if (!c->started) {
		c->started = true;
		c->cur = s->nfiles;
	}
	while (!c->ready && q->failed == 0) {
		if (c->open && c->line < c->r.nlines) {
			int e = take_line(q, c, true);
			if (e < 0)
				q->failed = e;
			continue;
		}
		c->line = 0;
		if (!c->open) {
			if (c->cur == 0)
				return false;
			c->cur--;
			bool newest = c->cur + 1 == s->nfiles;
			int e = reader_open_backward(&c->r, s->files[c->cur], !(q->o.follow && newest));
			if (e < 0) {
				open_failed(s->files[c->cur], e);
				reader_close(&c->r);
				continue;
			}
			if (newest) {
				c->follow_file = c->cur;
				c->follow_from = reader_whole_end(&c->r);
				c->follow_known = true;
			}
			q->read_any = true;
			c->open = true;
		}
		long n = reader_prev(&c->r);
		if (n < 0)
			fprintf(stderr, "logbus-query: %s: %s\n", s->files[c->cur], strerror((int)-n));
		if (n > 0)
			continue;
		reader_close(&c->r);
		c->open = false;
	}
	return c->ready;
}

/* The stream whose next entry comes first (forward: oldest; backward:
 * newest; ties to the stream listed first); -1 when all are done. */
static long pick(struct query *q, bool backward)
{
	long best = -1;

	for (size_t i = 0; i < q->ncursors; i++) {
		struct cursor *c = &q->c[i];
		if (c->done)
			continue;
		if (!(backward ? fill_backward(q, i) : fill_forward(q, i))) {
			if (!q->o.follow || backward)
				c->done = true;
			continue;
		}
		if (best < 0) {
			best = (long)i;
			continue;
		}
		int64_t a = c->next.ts_ns, b = q->c[best].next.ts_ns;
		if (backward ? a > b : a < b)
			best = (long)i;
	}
	return best;
}

/* Take the next entry of stream i (the caller owns it). */
static struct entry take(struct query *q, long i)
{
	struct cursor *c = &q->c[i];
	struct entry e = c->next;

	c->ready = false;
	c->next = (struct entry){ 0 };
	return e;
}

/* Print e in the chosen mode and free it. */
static void emit(struct query *q, struct entry *e)
{
	output_entry(stdout, q->o.mode, q->colour, e);
	entry_free(e);
}

/* A cursor for every stream of the set (new streams start at their first
 * file). Returns 0 or -ENOMEM. */
static int ensure_cursors(struct query *q)
{
	if (q->ncursors == q->set.n)
		return 0;
	struct cursor *v = realloc(q->c, q->set.n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = q->ncursors; i < q->set.n; i++)
		v[i] = (struct cursor){ .r = { .fd = -1 } };
	q->c = v;
	q->ncursors = q->set.n;
	return 0;
}

/* Everything forward, oldest first. */
static void run_forward(struct query *q)
{
	long i;

	while ((i = pick(q, false)) >= 0 && !interrupted) {
		struct entry e = take(q, i);
		emit(q, &e);
	}
}

/* Newest first: all (-r), or the last N in either order. */
static int run_backward(struct query *q)
{
	long long limit = q->o.lines, n = 0;
	struct entry *kept = NULL;
	size_t nkept = 0, cap = 0;
	long i;

	while ((limit < 0 || n < limit) && (i = pick(q, true)) >= 0 && !interrupted) {
		struct entry e = take(q, i);
		n++;
		if (q->o.reverse)
			emit(q, &e);
		else if (push(&kept, &nkept, &cap, sizeof(e), &e) < 0) {
			entry_free(&e);
			return -ENOMEM;
		}
	}
	while (nkept)
		emit(q, &kept[--nkept]);
	free(kept);
	return 0;
}

/* Release the readers and queued entries of every cursor. */
static void cursors_reset(struct query *q, bool keep_follow)
{
	for (size_t i = 0; i < q->ncursors; i++) {
		struct cursor *c = &q->c[i];
		entry_free(&c->next);
		reader_close(&c->r);
		struct cursor fresh = { .r = { .fd = -1 } };
		if (keep_follow) {
			fresh.follow_known = c->follow_known;
			fresh.follow_file = c->follow_file;
			fresh.follow_from = c->follow_from;
			/* Read on from the newest file as the backward pass saw it;
			 * a stream it found empty starts at its first file. */
			fresh.cur = c->follow_known ? c->follow_file : 0;
		}
		*c = fresh;
	}
}

/* Add what appeared in the sources since the last look. */
static int rescan(struct query *q)
{
	if (q->o.dir) {
		int e = source_add_dir(&q->set, q->o.dir, q->o.buses, q->o.nbuses);
		if (e < 0 && e != -ENOENT)
			return e;
	}
	return ensure_cursors(q);
}

/* Where -f reads on in streams the backward pass did not open (-n 0):
 * after the whole lines their newest file holds now. */
static void learn_follow_start(struct query *q)
{
	for (size_t i = 0; i < q->ncursors; i++) {
		struct cursor *c = &q->c[i];
		const struct source_stream *s = &q->set.v[i];
		struct reader r;

		if (c->follow_known || !s->nfiles)
			continue;
		if (reader_open_backward(&r, s->files[s->nfiles - 1], false) == 0) {
			c->follow_file = s->nfiles - 1;
			c->follow_from = reader_whole_end(&r);
			c->follow_known = true;
			q->read_any = true;
		}
		reader_close(&r);
	}
}

/* -f: new entries as they come, across rotations, until a signal. Each
 * round merges by time what every stream holds now. */
static int run_follow(struct query *q)
{
	int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	int r = 0;

	if (ino >= 0) {
		if (q->o.dir)
			(void)inotify_add_watch(ino, q->o.dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO);
		for (size_t i = 0; i < q->set.n; i++)
			for (size_t j = 0; j < q->set.v[i].nfiles; j++)
				if (!q->set.v[i].bus)
					(void)inotify_add_watch(ino, q->set.v[i].files[j], IN_MODIFY);
	}
	learn_follow_start(q);
	cursors_reset(q, true);
	while (!interrupted && r == 0) {
		r = rescan(q);
		if (r == 0)
			run_forward(q);
		fflush(stdout);
		if (q->failed)
			r = q->failed;
		/* inotify wakes us at once; the timeout covers a directory
		 * that could not be watched (or was made after we started). */
		struct pollfd p = { .fd = ino, .events = POLLIN };
		if (poll(&p, ino >= 0 ? 1 : 0, 500) > 0) {
			char events[4096];
			while (read(ino, events, sizeof(events)) > 0)
				;
		}
	}
	if (ino >= 0)
		close(ino);
	return r;
}

int main(int argc, char **argv)
{
	struct query q = { 0 };
	json_t *config = NULL;
	int r;

	r = parse_args(argc, argv, &q.o);
	if (r < 0)
		return 2;
	/* As the writer ranks them: --dir, $LOGBUS_DIR, the file, the default. */
	const char *env = getenv("LOGBUS_DIR");
	const char *from_config = NULL;
	if (q.o.config && config_dir(q.o.config, &config, &from_config) < 0)
		return 2;
	if (!q.o.dir && !q.o.nfiles && env && *env)
		q.o.dir = env;   /* files named alone are read alone */
	if (!q.o.dir && (from_config || !q.o.nfiles))
		q.o.dir = from_config ? from_config : "logbus-logs";
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	q.colour = q.o.mode != OUTPUT_JSON && q.o.mode != OUTPUT_JSON_PRETTY &&
		   output_colour_wanted(stdout);
	if (q.o.dir && (r = source_add_dir(&q.set, q.o.dir, q.o.buses, q.o.nbuses)) < 0) {
		fprintf(stderr, "logbus-query: %s: %s\n", q.o.dir, strerror(-r));
		if (!q.o.follow || r != -ENOENT)
			return 1;
	}
	for (size_t i = 0; i < q.o.nfiles; i++)
		if (source_add_file(&q.set, q.o.files[i]) < 0)
			return 1;
	source_set_sort(&q.set);
	if (ensure_cursors(&q) < 0)
		return 1;
	if (q.set.n == 0 && !q.o.follow) {
		fprintf(stderr, "logbus-query: %s: no log files%s%s\n", q.o.dir ? q.o.dir : "",
			q.o.nbuses ? " of bus " : "", q.o.nbuses ? q.o.buses[0] : "");
		return 1;
	}
	if (q.o.lines == 0)
		q.read_any = true;   /* there are files, and nothing is asked of them */
	if (q.o.reverse || q.o.lines >= 0)
		r = run_backward(&q);
	else
		run_forward(&q);
	if (r == 0 && q.o.follow) {
		fflush(stdout);
		r = run_follow(&q);
	}
	if (q.failed)
		r = q.failed;
	if (r < 0)
		fprintf(stderr, "logbus-query: %s\n", strerror(-r));
	cursors_reset(&q, false);
	free(q.c);
	source_set_free(&q.set);
	entry_filter_free(&q.o.filter);
	free(q.o.buses);
	free(q.o.files);
	json_decref(config);
	if (fflush(stdout) != 0)
		return 1;
	if (r < 0 || (!q.read_any && !q.o.follow))
		return 1;
	return 0;
}
