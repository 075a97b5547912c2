/* SPDX-License-Identifier: MIT */
/*
 * The writer's configuration, table-driven: each JSON object is described
 * by a table of keys (name, type, where the value goes), and one walker
 * checks every key of the file against its table. A key the table does
 * not know is an error; keys starting with '_' ("_comment") are ignored,
 * so the example file can carry its own documentation. A new section is
 * one more table and one more line in top_keys (or, like "hooks", one
 * more type whose parser lives with its feature).
 *
 * Errors are printed as they are found, all of them, each naming its JSON
 * path ("$.entry_files[1].tag"), so `--check-config` reads like
 * `rsyslogd -N1`.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <unistd.h>
#include <zstd.h>

#include "config.h"
#include "hooks.h"
#include "logbus.h"
#include "stats.h"
#include "text.h"

#define PATH_LEN 160

struct ctx {
	FILE *errs;
	const char *source;     /* the file's name, for messages */
	int errors;
	int warnings;
};

void config_put_one_line(FILE *f, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

/* Print "logbus-writer: SOURCE[: PATH]: [warning: ]WHAT" as one line to
 * x->errs. */
__attribute__((format(printf, 4, 0)))
static void say(struct ctx *x, const char *path, const char *kind, const char *fmt, va_list ap)
{
	char *what = NULL;

	fprintf(x->errs, "logbus-writer: ");
	config_put_one_line(x->errs, x->source);
	fprintf(x->errs, ": ");
	if (path) {
		config_put_one_line(x->errs, path);
		fprintf(x->errs, ": ");
	}
	fputs(kind, x->errs);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	config_put_one_line(x->errs, what ? what : "(out of memory)");
	free(what);
	fputc('\n', x->errs);
}

/* problem - say what is wrong at path, and count it. */
__attribute__((format(printf, 3, 4)))
static void problem(struct ctx *x, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(x, path, "", fmt, ap);
	va_end(ap);
	x->errors++;
}

/* warning - say what is valid but likely not meant; not a problem. */
__attribute__((format(printf, 3, 4)))
static void warning(struct ctx *x, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(x, path, "warning: ", fmt, ap);
	va_end(ap);
	x->warnings++;
}

/* ---- value types ---- */

enum key_type {
	T_STRING, T_BOOL, T_COUNT, T_SIZE, T_SECONDS, T_LEVEL, T_GLOB, T_COMPRESS,
	T_ZSTD_LEVEL, T_FACILITY, T_TRANSPORT, T_FORMATS, T_BUS, T_OBJECT, T_LIST,
	T_HOOKS, T_MODE, T_GROUP, T_USERS, T_GROUPS,
};

struct section;

struct key {
	const char *name;
	enum key_type type;
	size_t off;                  /* in the struct the section fills */
	size_t size;                 /* of the member there */
	const struct section *sub;   /* T_OBJECT, T_LIST */
};

#define KEY(name, type, st, member) \
	{ name, type, offsetof(st, member), sizeof(((st *)0)->member), NULL }
#define SUB(name, type, st, member, sec) \
	{ name, type, offsetof(st, member), sizeof(((st *)0)->member), sec }

struct section {
	const struct key *keys;
	size_t size;                 /* of one element (T_LIST) */
	void (*defaults)(void *dst);
	void (*check)(struct ctx *x, const char *path, void *dst);
};

static const struct { const char *name; unsigned bit; } format_names[] = {
	{ "json", FORMAT_JSON }, { "journald", FORMAT_JOURNALD },
	{ "syslog", FORMAT_SYSLOG }, { "entry", FORMAT_ENTRY },
};

/* "64M", "1G", "4096": bytes. Returns 0 or -EINVAL. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* The longest duration: the writer counts time in 64-bit nanoseconds. */
#define SECONDS_MAX (UINT64_MAX / 1000000000u)

/* "90", "90s", "15m", "1h", "7d": seconds. */
static int parse_seconds(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 's': end++; break;
	case 'm': mul = 60; end++; break;
	case 'h': mul = 3600; end++; break;
	case 'd': mul = 86400; end++; break;
	}
	if (*end || v > UINT64_MAX / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

/* A tag glob: like a tag (printable ASCII, no space), with balanced,
 * non-empty brackets and no trailing backslash. */
static const char *glob_problem(const char *g)
{
	if (!*g)
		return "is empty";
	if (strlen(g) > LOGBUS_TAG_MAX * 2)
		return "is too long";
	for (const char *p = g; *p; p++) {
		if (*p <= ' ' || *p > '~')
			return "holds a space or a character that is not printable ASCII";
		if (*p == '\\' && !*++p)
			return "ends in a backslash";
		if (*p != '[')
			continue;
		const char *q = p + 1;
		if (*q == '!' || *q == '^')
			q++;
		if (*q == ']')
			q++;
		while (*q && *q != ']')
			q++;
		if (!*q)
			return "has a '[' without its ']'";
		p = q;
	}
	return NULL;
}

/* A whole number >= 0, as a JSON integer or a string parse() reads,
 * stored into an unsigned member of size bytes; false when it is not one
 * or does not fit. */
static bool uint_of(json_t *v, int (*parse)(const char *, uint64_t *), void *dst, size_t size)
{
	uint64_t u;

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		u = (uint64_t)json_integer_value(v);
	else if (!json_is_string(v) || parse(json_string_value(v), &u) < 0)
		return false;
	if (size == sizeof(uint32_t)) {
		if (u > UINT32_MAX)
			return false;
		*(uint32_t *)dst = (uint32_t)u;
	} else
		*(uint64_t *)dst = u;
	return true;
}

/* Counts take no suffix. */
static int parse_count(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' ? -EINVAL : 0;
}

/* A level: 0..7, or a string lb_level_parse takes ("error", "3"). */
static bool lookup_level(json_t *v, int *out)
{
	int level = -EINVAL;

	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 7)
		level = (int)json_integer_value(v);
	else if (json_is_string(v))
		level = lb_level_parse(json_string_value(v), json_string_length(v));
	if (level < 0)
		return false;
	*out = level;
	return true;
}

/* A facility: 0..23, or a name lb_facility_parse takes ("local3"). */
static bool lookup_facility(json_t *v, int *out)
{
	int f = -EINVAL;

	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 23)
		f = (int)json_integer_value(v);
	else if (json_is_string(v))
		f = lb_facility_parse(json_string_value(v), json_string_length(v));
	if (f < 0)
		return false;
	*out = f << 3;
	return true;
}

/* "json,journald" or ["json", "journald"]; NULL, or why not. */
static const char *formats_of_word(const char *w, size_t n, unsigned *bits)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(*format_names); i++)
		if (strlen(format_names[i].name) == n && !strncmp(w, format_names[i].name, n)) {
			*bits |= format_names[i].bit;
			return NULL;
		}
	static __thread char why[128];
	snprintf(why, sizeof(why), "'%.*s' names no sink (want json, journald, syslog, entry)",
		 (int)(n < 40 ? n : 40), w);
	return why;
}

static const char *formats_of_string(const char *s, unsigned *bits)
{
	*bits = 0;
	for (const char *p = s;; p++) {
		const char *q = p + strcspn(p, ",");
		const char *why = formats_of_word(p, (size_t)(q - p), bits);
		if (why)
			return why;
		if (!*q)
			return NULL;
		p = q;
	}
}

static const char *formats_of(json_t *v, unsigned *bits)
{
	size_t i;
	json_t *e;

	if (json_is_string(v))
		return formats_of_string(json_string_value(v), bits);
	if (!json_is_array(v))
		return "is not a list of sink names";
	*bits = 0;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return "is not a list of sink names";
		const char *why = formats_of_word(json_string_value(e),
						  strlen(json_string_value(e)), bits);
		if (why)
			return why;
	}
	return NULL;
}

/* A file mode: a string of octal digits, at most "0777". */
static bool mode_of(json_t *v, unsigned *out)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	char *end;
	unsigned long m;

	if (!*s || strspn(s, "01234567") != strlen(s))
		return false;
	errno = 0;
	m = strtoul(s, &end, 8);
	if (errno || m > 0777)
		return false;
	*out = (unsigned)m;
	return true;
}

/* A user (group true: a group): a name getpwnam(3) (getgrnam(3)) knows,
 * or an id, a number or a string of digits. NULL, or why not. */
static const char *id_of(json_t *v, bool group, uint32_t *out)
{
	const char *what = group ? "group" : "user", *name = json_string_value(v);
	static __thread char why[160];
	uint64_t id = UINT64_MAX;
	struct passwd *pw;
	struct group *gr;

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		id = (uint64_t)json_integer_value(v);
	else if (!name || !*name)
		id = UINT64_MAX;
	else if (group && (gr = getgrnam(name)))
		id = gr->gr_gid;
	else if (!group && (pw = getpwnam(name)))
		id = pw->pw_uid;
	else if (parse_count(name, &id) < 0) {
		snprintf(why, sizeof(why), "'%.64s' names no %s of this system", name, what);
		return why;
	}
	if (id >= UINT32_MAX) {   /* (uid_t)-1 is nobody's id */
		snprintf(why, sizeof(why), "is not a %s (a name, or an id below 4294967295)", what);
		return why;
	}
	*out = (uint32_t)id;
	return NULL;
}

/* A list of users or groups, into ids (allocated even when empty: an
 * empty list is a list given). */
static void parse_ids(struct ctx *x, const char *path, json_t *v, bool group,
		      struct registrar_ids *ids)
{
	char sub[PATH_LEN];
	const char *why;
	size_t i;
	json_t *e;

	if (!json_is_array(v)) {
		problem(x, path, "is not a list of %s", group ? "groups" : "users");
		return;
	}
	ids->ids = calloc(json_array_size(v) + 1, sizeof(*ids->ids));
	if (!ids->ids) {
		problem(x, path, "out of memory");
		return;
	}
	json_array_foreach(v, i, e) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if ((why = id_of(e, group, &ids->ids[ids->count])))
			problem(x, sub, "%s", why);
		else
			ids->count++;
	}
}

/* ---- the walker ---- */

static void parse_section(struct ctx *x, const char *path, json_t *obj,
			  const struct section *sec, void *dst);

static void parse_list(struct ctx *x, const char *path, json_t *v, const struct section *sec,
		       struct config_list *list)
{
	char sub[PATH_LEN];
	size_t i;
	json_t *e;

	if (!json_is_array(v)) {
		problem(x, path, "is not a list");
		return;
	}
	list->items = calloc(json_array_size(v) + 1, sec->size);
	list->count = 0;
	if (!list->items) {
		problem(x, path, "out of memory");
		return;
	}
	json_array_foreach(v, i, e) {
		void *item = (char *)list->items + i * sec->size;
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		parse_section(x, sub, e, sec, item);
		list->count++;
	}
}

/* A problem of the hooks, already "PATH: what": one line of its own. */
static void hook_problem(void *ctx, const char *msg)
{
	problem(ctx, NULL, "%s", msg);
}

static void parse_value(struct ctx *x, const char *path, json_t *v, const struct key *k,
			void *base)
{
	void *dst = (char *)base + k->off;
	const char *why;
	int zmin = ZSTD_minCLevel(), zmax = ZSTD_maxCLevel();

	switch (k->type) {
	case T_STRING:
	case T_BUS:
	case T_GLOB:
		if (!json_is_string(v) || !*json_string_value(v)) {
			problem(x, path, "is not a non-empty string");
			return;
		}
		if (k->type == T_BUS && !lb_bus_name_valid(json_string_value(v)))
			problem(x, path, "'%s' is not a bus name (want 1-64 of [A-Za-z0-9_.-])",
				json_string_value(v));
		else if (k->type == T_GLOB && (why = glob_problem(json_string_value(v))))
			problem(x, path, "'%s' is not a tag glob: it %s", json_string_value(v), why);
		*(const char **)dst = json_string_value(v);
		return;
	case T_BOOL:
		if (!json_is_boolean(v))
			problem(x, path, "is not true or false");
		else
			*(bool *)dst = json_is_true(v);
		return;
	case T_COUNT:
		if (!uint_of(v, parse_count, dst, k->size))
			problem(x, path, "is not a count (a whole number >= 0 that fits)");
		return;
	case T_SIZE:
		if (!uint_of(v, parse_size, dst, k->size))
			problem(x, path, "is not a size (bytes, or a string like \"64M\")");
		return;
	case T_SECONDS:
		if (!uint_of(v, parse_seconds, dst, k->size))
			problem(x, path, "is not a duration (seconds, or a string like \"1h\")");
		else if (*(uint64_t *)dst > SECONDS_MAX)
			problem(x, path, "is too long: at most %llu seconds (its nanoseconds must "
				"fit in 64 bits)", (unsigned long long)SECONDS_MAX);
		return;
	case T_LEVEL:
		if (!lookup_level(v, dst))
			problem(x, path, "is not a level (%s)", LB_LEVEL_WORDS);
		return;
	case T_COMPRESS:
		if (json_is_string(v) && !strcmp(json_string_value(v), "zstd"))
			*(bool *)dst = true;
		else if (json_is_string(v) && !strcmp(json_string_value(v), "none"))
			*(bool *)dst = false;
		else
			problem(x, path, "is not \"none\" or \"zstd\"");
		return;
	case T_ZSTD_LEVEL:
		if (!json_is_integer(v) || json_integer_value(v) < zmin ||
		    json_integer_value(v) > zmax)
			problem(x, path, "is not a zstd level (%d to %d)", zmin, zmax);
		else
			*(int *)dst = (int)json_integer_value(v);
		return;
	case T_FACILITY:
		if (!lookup_facility(v, dst))
			problem(x, path, "is not a syslog facility (" LB_FACILITY_WORDS ", or 0-23)");
		return;
	case T_TRANSPORT: {
		static const char *const names[] = { "unix", "tcp", "relp" };
		for (int i = 0; json_is_string(v) && i < 3; i++)
			if (!strcmp(json_string_value(v), names[i])) {
				*(enum syslog_transport *)dst = (enum syslog_transport)i;
				return;
			}
		problem(x, path, "is not \"unix\", \"tcp\" or \"relp\"");
		return;
	}
	case T_FORMATS:
		if ((why = formats_of(v, dst)))
			problem(x, path, "%s", why);
		return;
	case T_OBJECT:
		parse_section(x, path, v, k->sub, dst);
		return;
	case T_LIST:
		parse_list(x, path, v, k->sub, dst);
		return;
	case T_HOOKS:
		(void)hooks_conf_parse(v, path, dst, hook_problem, x);
		return;
	case T_MODE:
		if (!mode_of(v, dst))
			problem(x, path, "is not a mode (a string of octal digits, at most \"0777\")");
		return;
	case T_GROUP:
		if ((why = id_of(v, true, dst)))
			problem(x, path, "%s", why);
		return;
	case T_USERS:
	case T_GROUPS:
		parse_ids(x, path, v, k->type == T_GROUPS, dst);
		return;
	}
}

static const struct key *find_key(const struct section *sec, const char *name)
{
	for (const struct key *k = sec->keys; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

static void parse_section(struct ctx *x, const char *path, json_t *obj,
			  const struct section *sec, void *dst)
{
	char sub[PATH_LEN];
	const char *name;
	json_t *v;

	if (sec->defaults)
		sec->defaults(dst);
	if (!json_is_object(obj)) {
		problem(x, path, "is not an object");
		return;
	}
	json_object_foreach(obj, name, v) {
		const struct key *k = find_key(sec, name);
		snprintf(sub, sizeof(sub), "%s.%s", path, name);
		if (name[0] == '_')
			continue;   /* "_comment" and the like: documentation */
		if (!k)
			problem(x, sub, "unknown key");
		else
			parse_value(x, sub, v, k, dst);
	}
	if (sec->check)
		sec->check(x, path, dst);
}

/* ---- the schema ---- */

#define DEFAULT_DIR "logbus-logs"
#define DEFAULT_SPOOL_MAX (UINT64_C(1) << 30)

static void file_defaults(void *p)
{
	struct file_options *o = p;

	*o = (struct file_options){
		.dir = DEFAULT_DIR,
		.zstd_level = 3,
		.rotate_bytes = UINT64_C(64) << 20,
		.rotate_seconds = 86400,
		.keep_files = 100,
		.keep_bytes = 0,
	};
}

static const struct key file_keys[] = {
	KEY("dir", T_STRING, struct file_options, dir),
	KEY("compress", T_COMPRESS, struct file_options, zstd),
	KEY("zstd_level", T_ZSTD_LEVEL, struct file_options, zstd_level),
	KEY("rotate_size", T_SIZE, struct file_options, rotate_bytes),
	KEY("rotate_age", T_SECONDS, struct file_options, rotate_seconds),
	KEY("keep_files", T_COUNT, struct file_options, keep_files),
	KEY("keep_size", T_SIZE, struct file_options, keep_bytes),
	{ 0 },
};

static const struct section file_section = { file_keys, sizeof(struct file_options),
					     file_defaults, NULL };

static void entry_defaults(void *p)
{
	*(struct entry_options *)p = (struct entry_options){
		.tag_glob = NULL, .level_min = 0, .level_max = 7, .zstd_level = 3,
	};
}

static void entry_check(struct ctx *x, const char *path, void *p)
{
	struct entry_options *o = p;

	if (!o->dir)
		problem(x, path, "needs \"dir\", the directory of the entry files");
	if (!o->tag_glob)
		problem(x, path, "needs \"tag\", a glob such as \"response*\"");
	if (o->level_min > o->level_max)
		problem(x, path, "level_min (%s) is less severe than level_max (%s): no entry "
			"could match", lb_level_name((unsigned)o->level_min), lb_level_name((unsigned)o->level_max));
}

static const struct key entry_keys[] = {
	KEY("dir", T_STRING, struct entry_options, dir),
	KEY("tag", T_GLOB, struct entry_options, tag_glob),
	KEY("level_min", T_LEVEL, struct entry_options, level_min),
	KEY("level_max", T_LEVEL, struct entry_options, level_max),
	KEY("compress", T_COMPRESS, struct entry_options, zstd),
	KEY("zstd_level", T_ZSTD_LEVEL, struct entry_options, zstd_level),
	{ 0 },
};

static const struct section entry_section = { entry_keys, sizeof(struct entry_options),
					      entry_defaults, entry_check };

static const struct key journal_keys[] = {
	KEY("identifier_prefix", T_STRING, struct journal_options, identifier_prefix),
	KEY("namespace", T_STRING, struct journal_options, namespace_),
	{ 0 },
};

static const struct section journal_section = { journal_keys, 0, NULL, NULL };

static void syslog_defaults(void *p)
{
	*(struct syslog_options *)p = (struct syslog_options){
		.transport = SYSLOG_UNIX,
		.facility = LOG_USER,
		.buffer_entries = 100000,
		.reconnect_max_ms = 30000,
	};
}

static void syslog_check(struct ctx *x, const char *path, void *p)
{
	struct syslog_options *o = p;

	if (o->transport != SYSLOG_UNIX && (!o->host || !o->port))
		problem(x, path, "needs \"host\" and \"port\" for transport %s",
			o->transport == SYSLOG_TCP ? "tcp" : "relp");
	if (o->reconnect_max_ms == 0)
		problem(x, path, "reconnect_max_ms must be at least 1");
}

static const struct key syslog_keys[] = {
	KEY("transport", T_TRANSPORT, struct syslog_options, transport),
	KEY("socket", T_STRING, struct syslog_options, socket_path),
	KEY("host", T_STRING, struct syslog_options, host),
	KEY("port", T_STRING, struct syslog_options, port),
	KEY("hostname", T_STRING, struct syslog_options, hostname),
	KEY("facility", T_FACILITY, struct syslog_options, facility),
	KEY("buffer_entries", T_COUNT, struct syslog_options, buffer_entries),
	KEY("reconnect_max_ms", T_COUNT, struct syslog_options, reconnect_max_ms),
	{ 0 },
};

static const struct section syslog_section = { syslog_keys, sizeof(struct syslog_options),
					       syslog_defaults, syslog_check };

static void clients_defaults(void *p)
{
	*(struct clients_options *)p = (struct clients_options){
		.registrar = { .socket_mode = 0666, .socket_group = (gid_t)-1 },
		.stats_mode = LB_STATS_MODE,
		.stats_group = (gid_t)-1,
	};
}

static void clients_check(struct ctx *x, const char *path, void *p)
{
	struct clients_options *o = p;
	char sub[PATH_LEN];

	snprintf(sub, sizeof(sub), "%s.stats_mode", path);
	if (o->stats_mode & ~0644u)
		problem(x, sub, "%04o is more than 0644: only the writer writes the stats, the "
			"others may only read them", o->stats_mode);
}

static const struct key clients_keys[] = {
	KEY("socket_mode", T_MODE, struct clients_options, registrar.socket_mode),
	KEY("socket_group", T_GROUP, struct clients_options, registrar.socket_group),
	KEY("allowed_users", T_USERS, struct clients_options, registrar.allowed_users),
	KEY("allowed_groups", T_GROUPS, struct clients_options, registrar.allowed_groups),
	KEY("lanes_per_uid", T_COUNT, struct clients_options, registrar.lanes_per_uid),
	KEY("lanes_per_client", T_COUNT, struct clients_options, registrar.lanes_per_client),
	KEY("stats_mode", T_MODE, struct clients_options, stats_mode),
	KEY("stats_group", T_GROUP, struct clients_options, stats_group),
	{ 0 },
};

static const struct section clients_section = { clients_keys, sizeof(struct clients_options),
						clients_defaults, clients_check };

static const struct key top_keys[] = {
	KEY("bus", T_BUS, struct writer_config, bus),
	KEY("lanes", T_COUNT, struct writer_config, geometry.lane_count),
	KEY("lane_size", T_SIZE, struct writer_config, geometry.lane_size),
	KEY("format", T_FORMATS, struct writer_config, formats),
	KEY("status_interval", T_SECONDS, struct writer_config, status_seconds),
	KEY("state_dir", T_STRING, struct writer_config, state_dir),
	KEY("spool_dir", T_STRING, struct writer_config, spool_dir),
	KEY("spool_max", T_SIZE, struct writer_config, spool_max),
	SUB("file", T_OBJECT, struct writer_config, file, &file_section),
	SUB("journald", T_OBJECT, struct writer_config, journal, &journal_section),
	SUB("entry_files", T_LIST, struct writer_config, entry_files, &entry_section),
	SUB("syslog", T_LIST, struct writer_config, syslog, &syslog_section),
	KEY("hooks", T_HOOKS, struct writer_config, hooks),
	SUB("clients", T_OBJECT, struct writer_config, clients, &clients_section),
	{ 0 },
};

static const struct section top_section = { top_keys, 0, NULL, NULL };

/* ---- loading ---- */

static void top_defaults(struct writer_config *c)
{
	*c = (struct writer_config){
		.bus = "default",
		.geometry = { .lane_count = LB_DEFAULT_LANES, .lane_size = LB_DEFAULT_LANE_SIZE },
		.status_seconds = 10,
		.spool_max = DEFAULT_SPOOL_MAX,
	};
	file_defaults(&c->file);
	clients_defaults(&c->clients);
}

/* The sinks that run when nothing names them: the file, and every other
 * sink the file configures. */
static unsigned implied_formats(const struct writer_config *c)
{
	unsigned f = FORMAT_JSON;

	if (json_object_get(c->root, "journald"))
		f |= FORMAT_JOURNALD;
	if (c->syslog.count)
		f |= FORMAT_SYSLOG;
	if (c->entry_files.count)
		f |= FORMAT_ENTRY;
	return f;
}

static void load_file(struct ctx *x, const char *path, struct writer_config *c)
{
	json_error_t err;

	x->source = path;
	c->root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!c->root) {
		if (err.line < 0)   /* not read at all: no place in it to name */
			problem(x, NULL, "%s", err.text);
		else
			problem(x, "$", "%s (line %d, column %d)", err.text, err.line, err.column);
		return;
	}
	parse_section(x, "$", c->root, &top_section, c);
}

/* A variable of the environment; empty counts as unset. */
static const char *env_value(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* One override: a string value for a key, checked like the file's. An
 * empty flag is a value (and an error), not an absent one. */
static void override(struct ctx *x, const char *source, const char *value, const char *key,
		     struct writer_config *c)
{
	const struct section *sec = &top_section;
	void *base = c;
	const struct key *k;
	json_t *v;

	if (!value)
		return;
	if (!strcmp(key, "dir")) {
		sec = &file_section;
		base = &c->file;
	}
	char named[200];

	k = find_key(sec, key);
	snprintf(named, sizeof(named), "%s '%s'", source, value);
	x->source = named;
	/* Strings must outlive the call: environment and argv do. */
	v = json_string_nocheck(value);
	if (!v) {
		problem(x, "$", "out of memory");
		return;
	}
	parse_value(x, NULL, v, k, base);
	if (k->type == T_STRING || k->type == T_BUS)
		*(const char **)((char *)base + k->off) = value;
	json_decref(v);
}

/* Why the directory dir cannot be written, or NULL: it, or the nearest
 * ancestor that exists (it would be made), must be a writable directory
 * on a file system mounted read-write. */
static const char *dir_problem(const char *dir, char *why, size_t cap)
{
	char path[4096];
	struct statvfs vfs;
	struct stat st;

	snprintf(path, sizeof(path), "%s", dir);
	while (stat(path, &st) < 0) {
		char *slash = strrchr(path, '/');
		if (errno != ENOENT) {
			snprintf(why, cap, "'%s': %s", path, strerror(errno));
			return why;
		}
		if (!slash)
			snprintf(path, sizeof(path), ".");
		else if (slash == path)
			path[1] = '\0';
		else
			*slash = '\0';
	}
	if (!S_ISDIR(st.st_mode))
		snprintf(why, cap, "'%s' is not a directory", path);
	else if (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		snprintf(why, cap, "'%s' is on a read-only file system", path);
	else if (access(path, W_OK | X_OK) < 0)
		snprintf(why, cap, "'%s' is not writable: %s", path, strerror(errno));
	else
		return NULL;
	return why;
}

static void check_dir(struct ctx *x, const char *path, const char *dir)
{
	char why[4200];

	if (dir && dir_problem(dir, why, sizeof(why)))
		problem(x, path, "unwritable: %s", why);
}

/* A warning for each section the file configures that no chosen format
 * runs: its settings would be silently unused. */
static void unused_sections(struct ctx *x, const struct writer_config *c)
{
	static const struct { const char *key, *format; unsigned bit; } sections[] = {
		{ "file", "json", FORMAT_JSON }, { "journald", "journald", FORMAT_JOURNALD },
		{ "syslog", "syslog", FORMAT_SYSLOG }, { "entry_files", "entry", FORMAT_ENTRY },
	};
	char path[32];

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (!json_object_get(c->root, sections[i].key) || (c->formats & sections[i].bit))
			continue;
		snprintf(path, sizeof(path), "$.%s", sections[i].key);
		warning(x, path, "is configured, but no sink runs it: \"format\" lacks \"%s\"",
			sections[i].format);
	}
}

/* What only the whole configuration can tell. */
static void check_all(struct ctx *x, const char *source, struct writer_config *c)
{
	struct lb_bus_geometry g;
	struct lb_bus_error err;

	x->source = source;
	/* Each half of the geometry on its own, so the message names the key. */
	g = (struct lb_bus_geometry){ .lane_count = c->geometry.lane_count,
				      .lane_size = LB_DEFAULT_LANE_SIZE };
	if (lb_bus_geometry_check(&g, &err) < 0)
		problem(x, "$.lanes", "%s", err.why);
	g = (struct lb_bus_geometry){ .lane_count = LB_DEFAULT_LANES,
				      .lane_size = c->geometry.lane_size };
	if (lb_bus_geometry_check(&g, &err) < 0)
		problem(x, "$.lane_size", "%s", err.why);
	unused_sections(x, c);
	if (c->formats & FORMAT_JSON)
		check_dir(x, "$.file.dir", c->file.dir);
	check_dir(x, "$.state_dir", c->state_dir);
	check_dir(x, "$.spool_dir", c->spool_dir);
	if (c->formats & FORMAT_ENTRY) {
		struct entry_options *e = c->entry_files.items;
		char path[64];
		if (!c->entry_files.count)
			problem(x, "$.entry_files", "the entry sink is chosen but has no rule");
		for (size_t i = 0; i < c->entry_files.count; i++) {
			snprintf(path, sizeof(path), "$.entry_files[%zu].dir", i);
			check_dir(x, path, e[i].dir);
		}
	}
	if (!c->formats)
		problem(x, "$.format", "chooses no sink");
}

int config_load(const struct config_overrides *ov, struct writer_config *c, FILE *errs)
{
	struct ctx x = { .errs = errs, .source = "defaults" };
	bool chosen;

	top_defaults(c);
	if (ov->config_path)
		load_file(&x, ov->config_path, c);
	chosen = c->formats != 0 || json_object_get(c->root, "format");
	override(&x, "LOGBUS_BUS", env_value("LOGBUS_BUS"), "bus", c);
	override(&x, "LOGBUS_DIR", env_value("LOGBUS_DIR"), "dir", c);
	override(&x, "LOGBUS_FORMAT", env_value("LOGBUS_FORMAT"), "format", c);
	override(&x, "--bus", ov->bus, "bus", c);
	override(&x, "--dir", ov->dir, "dir", c);
	override(&x, "--format", ov->format, "format", c);
	override(&x, "--lanes", ov->lanes, "lanes", c);
	override(&x, "--lane-size", ov->lane_size, "lane_size", c);
	if (!chosen && !env_value("LOGBUS_FORMAT") && !ov->format)
		c->formats = implied_formats(c);
	check_all(&x, ov->config_path ? ov->config_path : "configuration", c);
	c->warnings = x.warnings;
	return x.errors;
}

void config_free(struct writer_config *c)
{
	hooks_conf_free(c->hooks);
	free(c->entry_files.items);
	free(c->syslog.items);
	free(c->clients.registrar.allowed_users.ids);
	free(c->clients.registrar.allowed_groups.ids);
	json_decref(c->root);
	*c = (struct writer_config){ 0 };
}

/* ---- sinks ---- */

/* Destroy n sinks and free the array. */
static void free_sinks(struct sink **sinks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sinks[i]->ops->destroy(sinks[i]);
	free(sinks);
}

/* Append the sink a constructor made (r its result), or say why not. */
static int add_sink(struct sink **v, size_t *n, int r, struct sink **made, const char *what,
		    FILE *errs)
{
	if (r < 0) {
		fprintf(errs, "logbus-writer: cannot start the %s sink: %s\n", what, strerror(-r));
		return r;
	}
	v[(*n)++] = *made;
	return 0;
}

const char *config_state_dir(const struct writer_config *c)
{
	return c->state_dir ? c->state_dir : c->file.dir;
}

/* Where the remote sinks' spools are kept, into out[cap]. */
static void spool_dir_of(const struct writer_config *c, char *out, size_t cap)
{
	if (c->spool_dir)
		snprintf(out, cap, "%s", c->spool_dir);
	else
		snprintf(out, cap, "%s/spool", config_state_dir(c));
}

long config_make_sinks(const struct writer_config *c, uint64_t segment_id, struct sink ***out,
		       FILE *errs)
{
	size_t cap = 2 + c->entry_files.count + c->syslog.count, n = 0;
	struct sink **v = calloc(cap, sizeof(*v)), *s = NULL;
	const struct entry_options *e = c->entry_files.items;
	const struct syslog_options *sl = c->syslog.items;
	struct syslog_options unix_default;
	int r = 0;

	if (!v)
		return -ENOMEM;
	char spool_dir[PATH_MAX];
	spool_dir_of(c, spool_dir, sizeof(spool_dir));
	if (c->formats & FORMAT_JSON) {
		struct file_options fo = c->file;
		fo.prefix = c->bus;
		fo.segment_id = segment_id;
		r = add_sink(v, &n, sink_file_new(&fo, &s), &s, "file", errs);
	}
	for (size_t i = 0; r == 0 && (c->formats & FORMAT_ENTRY) && i < c->entry_files.count; i++) {
		struct entry_options eo = e[i];
		eo.prefix = c->bus;
		eo.rule = (unsigned)i;
		eo.segment_id = segment_id;
		r = add_sink(v, &n, sink_entry_new(&eo, &s), &s, "entry", errs);
	}
	if (r == 0 && (c->formats & FORMAT_JOURNALD)) {
		struct journal_options jo = c->journal;
		jo.spool_dir = spool_dir;
		jo.spool_max = c->spool_max;
		r = add_sink(v, &n, sink_journal_new(&jo, &s), &s, "journald", errs);
	}
	if ((c->formats & FORMAT_SYSLOG) && !c->syslog.count) {
		syslog_defaults(&unix_default);
		sl = &unix_default;
	}
	for (size_t i = 0; r == 0 && (c->formats & FORMAT_SYSLOG) &&
			   i < (c->syslog.count ? c->syslog.count : 1); i++) {
		struct syslog_options so = sl[i];
		so.spool_dir = spool_dir;
		so.spool_max = c->spool_max;
		r = add_sink(v, &n, sink_syslog_new(&so, &s), &s, "syslog", errs);
	}
	if (r < 0) {
		free_sinks(v, n);
		return r;
	}
	*out = v;
	return (long)n;
}
