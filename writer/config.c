/* SPDX-License-Identifier: MIT */
/*
 * The writer's configuration, table-driven: each JSON object is described
 * by a table of keys (name, type, where the value goes: config_schema.h),
 * and one walker checks every key of the file against its table, reading
 * each value with the one parser of its type. A key the table does not
 * know is an error; keys starting with '_' ("_comment") are ignored, so
 * the example file can carry its own documentation. The sinks' sections
 * are described in the sinks' own files and listed in sink_kinds[]
 * (sink_kinds.h): this file reads them by their tables and chooses the
 * kinds that run (sinks_make() makes their sinks), and knows no
 * sink's options. A new section of the writer's own is one more table
 * and one more line in top_keys (or, like "hooks", one more type whose
 * parser lives with its feature).
 *
 * Errors are printed as they are found, all of them, each naming its JSON
 * path ("$.entry_files[1].tag"), so `--check-config` reads like
 * `rsyslogd -N1`.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zstd.h>

#include "config.h"
#include "config_schema.h"
#include "hooks.h"
#include "logbus.h"
#include "sink_kinds.h"
#include "stats.h"
#include "text.h"

#define PATH_LEN 160

struct config_ctx {
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
static void say(struct config_ctx *x, const char *path, const char *kind, const char *fmt, va_list ap)
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
void config_problem(struct config_ctx *x, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(x, path, "", fmt, ap);
	va_end(ap);
	x->errors++;
}

/* warning - say what is valid but likely not meant; not a problem. */
__attribute__((format(printf, 3, 4)))
static void warning(struct config_ctx *x, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(x, path, "warning: ", fmt, ap);
	va_end(ap);
	x->warnings++;
}

/* ---- value types: one parser each ---- */

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

/* "json, journald, ...": the sink kinds' words, for a message. */
static const char *format_words(void)
{
	static __thread char words[96];
	size_t len = 0;

	for (size_t i = 0; i < sink_kinds_count && len < sizeof(words); i++)
		len += (size_t)snprintf(words + len, sizeof(words) - len, "%s%s", i ? ", " : "",
					sink_kinds[i].format);
	return words;
}

/* "json,journald" or ["json", "journald"]: the sink kinds by their
 * words, bit i for sink_kinds[i]; NULL, or why not. */
static const char *formats_of_word(const char *w, size_t n, unsigned *bits)
{
	static __thread char why[160];

	for (size_t i = 0; i < sink_kinds_count; i++)
		if (strlen(sink_kinds[i].format) == n && !strncmp(w, sink_kinds[i].format, n)) {
			*bits |= 1u << i;
			return NULL;
		}
	snprintf(why, sizeof(why), "'%.*s' names no sink (want %s)", (int)(n < 40 ? n : 40), w,
		 format_words());
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
static void parse_ids(struct config_ctx *x, const char *path, json_t *v, bool group,
		      struct registrar_ids *ids)
{
	char sub[PATH_LEN];
	const char *why;
	size_t i;
	json_t *e;

	if (!json_is_array(v)) {
		config_problem(x, path, "is not a list of %s", group ? "groups" : "users");
		return;
	}
	ids->ids = calloc(json_array_size(v) + 1, sizeof(*ids->ids));
	if (!ids->ids) {
		config_problem(x, path, "out of memory");
		return;
	}
	json_array_foreach(v, i, e) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if ((why = id_of(e, group, &ids->ids[ids->count])))
			config_problem(x, sub, "%s", why);
		else
			ids->count++;
	}
}

/* The words of a CONFIG_CHOICE key, for a message: "a", "b" or "c". */
static const char *choice_words(const char *const *words)
{
	static __thread char list[128];
	size_t len = 0;

	for (size_t i = 0; words[i] && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s\"%s\"",
					!i ? "" : words[i + 1] ? ", " : " or ", words[i]);
	return list;
}

/* A CONFIG_CHOICE value: the index of the word v is; false when none. */
static bool choice_of(json_t *v, const char *const *words, int *out)
{
	for (int i = 0; json_is_string(v) && words[i]; i++)
		if (!strcmp(json_string_value(v), words[i])) {
			*out = i;
			return true;
		}
	return false;
}

/* ---- the walker ---- */

static void parse_section(struct config_ctx *x, const char *path, json_t *obj,
			  const struct config_section *sec, void *dst);

static void parse_list(struct config_ctx *x, const char *path, json_t *v,
		       const struct config_section *sec, struct config_list *list)
{
	char sub[PATH_LEN];
	size_t i;
	json_t *e;

	if (!json_is_array(v)) {
		config_problem(x, path, "is not a list");
		return;
	}
	list->items = calloc(json_array_size(v) + 1, sec->size);
	list->count = 0;
	if (!list->items) {
		config_problem(x, path, "out of memory");
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
	config_problem(ctx, NULL, "%s", msg);
}

/* Whether a key's value is a string kept by pointer. */
static bool is_string(enum config_type t)
{
	return t == CONFIG_STRING || t == CONFIG_DIR || t == CONFIG_BUS || t == CONFIG_GLOB;
}

static void parse_value(struct config_ctx *x, const char *path, json_t *v,
			const struct config_key *k, void *base)
{
	void *dst = (char *)base + k->off;
	const char *why;
	int zmin = ZSTD_minCLevel(), zmax = ZSTD_maxCLevel();

	switch (k->type) {
	case CONFIG_STRING:
	case CONFIG_DIR:
	case CONFIG_BUS:
	case CONFIG_GLOB:
		if (!json_is_string(v) || !*json_string_value(v)) {
			config_problem(x, path, "is not a non-empty string");
			return;
		}
		if (k->type == CONFIG_BUS && !lb_bus_name_valid(json_string_value(v)))
			config_problem(x, path, "'%s' is not a bus name (want 1-64 of [A-Za-z0-9_.-])",
				       json_string_value(v));
		else if (k->type == CONFIG_GLOB && (why = glob_problem(json_string_value(v))))
			config_problem(x, path, "'%s' is not a tag glob: it %s", json_string_value(v),
				       why);
		*(const char **)dst = json_string_value(v);
		return;
	case CONFIG_BOOL:
		if (!json_is_boolean(v))
			config_problem(x, path, "is not true or false");
		else
			*(bool *)dst = json_is_true(v);
		return;
	case CONFIG_COUNT:
		if (!uint_of(v, parse_count, dst, k->size))
			config_problem(x, path, "is not a count (a whole number >= 0 that fits)");
		return;
	case CONFIG_SIZE:
		if (!uint_of(v, parse_size, dst, k->size))
			config_problem(x, path, "is not a size (bytes, or a string like \"64M\")");
		return;
	case CONFIG_SECONDS:
		if (!uint_of(v, parse_seconds, dst, k->size))
			config_problem(x, path, "is not a duration (seconds, or a string like \"1h\")");
		else if (*(uint64_t *)dst > SECONDS_MAX)
			config_problem(x, path, "is too long: at most %llu seconds (its nanoseconds "
				       "must fit in 64 bits)", (unsigned long long)SECONDS_MAX);
		return;
	case CONFIG_LEVEL:
		if (!lookup_level(v, dst))
			config_problem(x, path, "is not a level (%s)", LB_LEVEL_WORDS);
		return;
	case CONFIG_COMPRESS:
		if (json_is_string(v) && !strcmp(json_string_value(v), "zstd"))
			*(bool *)dst = true;
		else if (json_is_string(v) && !strcmp(json_string_value(v), "none"))
			*(bool *)dst = false;
		else
			config_problem(x, path, "is not \"none\" or \"zstd\"");
		return;
	case CONFIG_ZSTD_LEVEL:
		if (!json_is_integer(v) || json_integer_value(v) < zmin ||
		    json_integer_value(v) > zmax)
			config_problem(x, path, "is not a zstd level (%d to %d)", zmin, zmax);
		else
			*(int *)dst = (int)json_integer_value(v);
		return;
	case CONFIG_FACILITY:
		if (!lookup_facility(v, dst))
			config_problem(x, path, "is not a syslog facility (" LB_FACILITY_WORDS
				       ", or 0-23)");
		return;
	case CONFIG_CHOICE:
		if (!choice_of(v, k->words, dst))
			config_problem(x, path, "is not %s", choice_words(k->words));
		return;
	case CONFIG_FORMATS:
		if ((why = formats_of(v, dst)))
			config_problem(x, path, "%s", why);
		return;
	case CONFIG_OBJECT:
		parse_section(x, path, v, k->sub, dst);
		return;
	case CONFIG_LIST:
		parse_list(x, path, v, k->sub, dst);
		return;
	case CONFIG_HOOKS:
		(void)hooks_conf_parse(v, path, dst, hook_problem, x);
		return;
	case CONFIG_MODE:
		if (!mode_of(v, dst))
			config_problem(x, path, "is not a mode (a string of octal digits, at most "
				       "\"0777\")");
		return;
	case CONFIG_GROUP:
		if ((why = id_of(v, true, dst)))
			config_problem(x, path, "%s", why);
		return;
	case CONFIG_USERS:
	case CONFIG_GROUPS:
		parse_ids(x, path, v, k->type == CONFIG_GROUPS, dst);
		return;
	}
}

static const struct config_key *find_key(const struct config_section *sec, const char *name)
{
	for (const struct config_key *k = sec->keys; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

/* ---- the writer's own sections ---- */

#define DEFAULT_SPOOL_MAX (UINT64_C(1) << 30)

static void clients_defaults(void *p)
{
	*(struct clients_options *)p = (struct clients_options){
		.registrar = { .socket_mode = 0666, .socket_group = (gid_t)-1 },
		.stats_mode = LB_STATS_MODE,
		.stats_group = (gid_t)-1,
	};
}

static void clients_check(struct config_ctx *x, const char *path, void *p)
{
	struct clients_options *o = p;
	char sub[PATH_LEN];

	snprintf(sub, sizeof(sub), "%s.stats_mode", path);
	if (o->stats_mode & ~0644u)
		config_problem(x, sub, "%04o is more than 0644: only the writer writes the stats, "
			       "the others may only read them", o->stats_mode);
}

static const struct config_key clients_keys[] = {
	CONFIG_KEY("socket_mode", CONFIG_MODE, struct clients_options, registrar.socket_mode),
	CONFIG_KEY("socket_group", CONFIG_GROUP, struct clients_options, registrar.socket_group),
	CONFIG_KEY("allowed_users", CONFIG_USERS, struct clients_options,
		   registrar.allowed_users),
	CONFIG_KEY("allowed_groups", CONFIG_GROUPS, struct clients_options,
		   registrar.allowed_groups),
	CONFIG_KEY("lanes_per_uid", CONFIG_COUNT, struct clients_options, registrar.lanes_per_uid),
	CONFIG_KEY("lanes_per_client", CONFIG_COUNT, struct clients_options,
		   registrar.lanes_per_client),
	CONFIG_KEY("stats_mode", CONFIG_MODE, struct clients_options, stats_mode),
	CONFIG_KEY("stats_group", CONFIG_GROUP, struct clients_options, stats_group),
	{ 0 },
};

static const struct config_section clients_section = {
	clients_keys, sizeof(struct clients_options), clients_defaults, clients_check,
};

/* The top-level object; it also holds the sink kinds' sections. */
static const struct config_key top_keys[] = {
	CONFIG_KEY("bus", CONFIG_BUS, struct writer_config, bus),
	CONFIG_KEY("lanes", CONFIG_COUNT, struct writer_config, geometry.lane_count),
	CONFIG_KEY("lane_size", CONFIG_SIZE, struct writer_config, geometry.lane_size),
	CONFIG_KEY("format", CONFIG_FORMATS, struct writer_config, formats),
	CONFIG_KEY("status_interval", CONFIG_SECONDS, struct writer_config, status_seconds),
	CONFIG_KEY("state_dir", CONFIG_DIR, struct writer_config, state_dir),
	CONFIG_KEY("spool_dir", CONFIG_DIR, struct writer_config, spool_dir),
	CONFIG_KEY("spool_max", CONFIG_SIZE, struct writer_config, spool_max),
	CONFIG_KEY("hooks", CONFIG_HOOKS, struct writer_config, hooks),
	CONFIG_SUB("clients", CONFIG_OBJECT, struct writer_config, clients, &clients_section),
	{ 0 },
};

static const struct config_section top_section = {
	top_keys, sizeof(struct writer_config), NULL, NULL,
};

/* ---- the sink kinds' sections ---- */

/* Make l a list of one element of the kind's defaults (an object's part
 * before the file is read; a list chosen with no element). Returns 0 or
 * -ENOMEM (told). */
static int sink_defaults(struct config_ctx *x, const struct sink_kind *kind,
			 struct config_list *l)
{
	free(l->items);
	*l = (struct config_list){ .items = calloc(1, kind->section->size) };
	if (!l->items) {
		config_problem(x, NULL, "out of memory");
		return -ENOMEM;
	}
	if (kind->section->defaults)
		kind->section->defaults(l->items);
	l->count = 1;
	return 0;
}

/* A key of the top-level object that names a sink kind's section: read
 * it by the kind's schema. Returns whether one does. */
static bool parse_sink_section(struct config_ctx *x, const char *path, const char *name,
			       json_t *v, struct writer_config *c)
{
	for (size_t i = 0; i < sink_kinds_count; i++) {
		const struct sink_kind *kind = &sink_kinds[i];
		if (strcmp(name, kind->key))
			continue;
		if (kind->list)
			parse_list(x, path, v, kind->section, &c->sinks[i]);
		else
			parse_section(x, path, v, kind->section, c->sinks[i].items);
		return true;
	}
	return false;
}

static void parse_section(struct config_ctx *x, const char *path, json_t *obj,
			  const struct config_section *sec, void *dst)
{
	char sub[PATH_LEN];
	const char *name;
	json_t *v;

	if (sec->defaults)
		sec->defaults(dst);
	if (!json_is_object(obj)) {
		config_problem(x, path, "is not an object");
		return;
	}
	json_object_foreach(obj, name, v) {
		const struct config_key *k = find_key(sec, name);
		snprintf(sub, sizeof(sub), "%s.%s", path, name);
		if (name[0] == '_')
			continue;   /* "_comment" and the like: documentation */
		if (k)
			parse_value(x, sub, v, k, dst);
		else if (sec != &top_section || !parse_sink_section(x, sub, name, v, dst))
			config_problem(x, sub, "unknown key");
	}
	if (sec->check)
		sec->check(x, path, dst);
}

/* The key --dir and LOGBUS_DIR set (a sink kind's dir_key), with *base
 * set to the struct it is in. */
static const struct config_key *dir_key(const struct writer_config *c, void **base)
{
	for (size_t i = 0; i < sink_kinds_count; i++)
		if (sink_kinds[i].dir_key) {
			*base = c->sinks[i].items;
			return find_key(sink_kinds[i].section, sink_kinds[i].dir_key);
		}
	return NULL;
}

/* ---- loading ---- */

/* Every default, before the file: each object kind's part has its one
 * element. Returns 0 or -ENOMEM (told). */
static int top_defaults(struct config_ctx *x, struct writer_config *c)
{
	*c = (struct writer_config){
		.bus = "default",
		.geometry = { .lane_count = LB_DEFAULT_LANES, .lane_size = LB_DEFAULT_LANE_SIZE },
		.status_seconds = 10,
		.spool_max = DEFAULT_SPOOL_MAX,
		.sinks = calloc(sink_kinds_count, sizeof(*c->sinks)),
	};
	clients_defaults(&c->clients);
	if (!c->sinks) {
		config_problem(x, NULL, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < sink_kinds_count; i++)
		if (!sink_kinds[i].list && sink_defaults(x, &sink_kinds[i], &c->sinks[i]) < 0)
			return -ENOMEM;
	return 0;
}

/* Whether the file configures the kind: holds its object, or a list of
 * one element or more. */
static bool sink_configured(const struct writer_config *c, size_t i)
{
	return sink_kinds[i].list ? c->sinks[i].count > 0
				  : json_object_get(c->root, sink_kinds[i].key) != NULL;
}

/* The sinks that run when nothing names them: the implied ones, and
 * every other sink the file configures. */
static unsigned implied_formats(const struct writer_config *c)
{
	unsigned f = 0;

	for (size_t i = 0; i < sink_kinds_count; i++)
		if (sink_kinds[i].implied || sink_configured(c, i))
			f |= 1u << i;
	return f;
}

static void load_file(struct config_ctx *x, const char *path, struct writer_config *c)
{
	json_error_t err;

	x->source = path;
	c->root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!c->root) {
		if (err.line < 0)   /* not read at all: no place in it to name */
			config_problem(x, NULL, "%s", err.text);
		else
			config_problem(x, "$", "%s (line %d, column %d)", err.text, err.line,
				       err.column);
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

/* One override: a string value for a key of the top-level object, or
 * ("dir") for the key --dir sets, checked like the file's. An empty flag
 * is a value (and an error), not an absent one. */
static void override(struct config_ctx *x, const char *source, const char *value,
		     const char *key, struct writer_config *c)
{
	void *base = c;
	const struct config_key *k;
	char named[200];
	json_t *v;

	if (!value)
		return;
	k = !strcmp(key, "dir") ? dir_key(c, &base) : find_key(&top_section, key);
	snprintf(named, sizeof(named), "%s '%s'", source, value);
	x->source = named;
	/* Strings must outlive the call: environment and argv do. */
	v = json_string_nocheck(value);
	if (!v) {
		config_problem(x, "$", "out of memory");
		return;
	}
	parse_value(x, NULL, v, k, base);
	if (is_string(k->type))
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

static void check_dir(struct config_ctx *x, const char *path, const char *dir)
{
	char why[4200];

	if (dir && dir_problem(dir, why, sizeof(why)))
		config_problem(x, path, "unwritable: %s", why);
}

/* The directories (CONFIG_DIR keys) of the struct at base, which sec
 * describes and path names. */
static void check_dirs(struct config_ctx *x, const char *path, const struct config_section *sec,
		       const void *base)
{
	char sub[PATH_LEN];

	for (const struct config_key *k = sec->keys; k->name; k++) {
		if (k->type != CONFIG_DIR)
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", path, k->name);
		check_dir(x, sub, *(const char *const *)((const char *)base + k->off));
	}
}

/* A warning for each section the file configures that no chosen format
 * runs: its settings would be silently unused. */
static void unused_sections(struct config_ctx *x, const struct writer_config *c)
{
	char path[PATH_LEN];

	for (size_t i = 0; i < sink_kinds_count; i++) {
		if (!json_object_get(c->root, sink_kinds[i].key) || (c->formats & (1u << i)))
			continue;
		snprintf(path, sizeof(path), "$.%s", sink_kinds[i].key);
		warning(x, path, "is configured, but no sink runs it: \"format\" lacks \"%s\"",
			sink_kinds[i].format);
	}
}

/* The sinks that run: their directories, and a list with no element;
 * of the kind with the directory --dir sets (dir_kind), or of the others. */
static void check_sinks(struct config_ctx *x, const struct writer_config *c, bool dir_kind)
{
	char path[64];

	for (size_t i = 0; i < sink_kinds_count; i++) {
		const struct sink_kind *kind = &sink_kinds[i];
		const struct config_list *l = &c->sinks[i];
		if (!(c->formats & (1u << i)) || !kind->dir_key != !dir_kind)
			continue;
		if (kind->list && !l->count && kind->none) {
			snprintf(path, sizeof(path), "$.%s", kind->key);
			config_problem(x, path, "%s", kind->none);
		}
		for (size_t j = 0; j < l->count; j++) {
			if (kind->list)
				snprintf(path, sizeof(path), "$.%s[%zu]", kind->key, j);
			else
				snprintf(path, sizeof(path), "$.%s", kind->key);
			check_dirs(x, path, kind->section, sink_kind_opts(kind, l, j));
		}
	}
}

/* What only the whole configuration can tell. */
static void check_all(struct config_ctx *x, const char *source, struct writer_config *c)
{
	struct lb_bus_geometry g;
	struct lb_bus_error err;

	x->source = source;
	/* Each half of the geometry on its own, so the message names the key. */
	g = (struct lb_bus_geometry){ .lane_count = c->geometry.lane_count,
				      .lane_size = LB_DEFAULT_LANE_SIZE };
	if (lb_bus_geometry_check(&g, &err) < 0)
		config_problem(x, "$.lanes", "%s", err.why);
	g = (struct lb_bus_geometry){ .lane_count = LB_DEFAULT_LANES,
				      .lane_size = c->geometry.lane_size };
	if (lb_bus_geometry_check(&g, &err) < 0)
		config_problem(x, "$.lane_size", "%s", err.why);
	unused_sections(x, c);
	/* The directory --dir sets, then state_dir and spool_dir, which
	 * default to it, then the other sinks'. */
	check_sinks(x, c, true);
	check_dirs(x, "$", &top_section, c);
	check_sinks(x, c, false);
	if (!c->formats)
		config_problem(x, "$.format", "chooses no sink");
}

/* A list kind that runs with no element runs one sink of its defaults
 * (syslog: the local socket), unless it has a problem for that. */
static void default_sinks(struct config_ctx *x, struct writer_config *c)
{
	for (size_t i = 0; i < sink_kinds_count; i++)
		if ((c->formats & (1u << i)) && sink_kinds[i].list && !c->sinks[i].count &&
		    !sink_kinds[i].none)
			(void)sink_defaults(x, &sink_kinds[i], &c->sinks[i]);
}

int config_load(const struct config_overrides *ov, struct writer_config *c, FILE *errs)
{
	struct config_ctx x = { .errs = errs, .source = "defaults" };
	bool chosen;

	if (top_defaults(&x, c) < 0)
		return x.errors;
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
	default_sinks(&x, c);
	c->warnings = x.warnings;
	return x.errors;
}

void config_free(struct writer_config *c)
{
	hooks_conf_free(c->hooks);
	for (size_t i = 0; c->sinks && i < sink_kinds_count; i++)
		free(c->sinks[i].items);
	free(c->sinks);
	free(c->clients.registrar.allowed_users.ids);
	free(c->clients.registrar.allowed_groups.ids);
	json_decref(c->root);
	*c = (struct writer_config){ 0 };
}

const char *config_state_dir(const struct writer_config *c)
{
	void *base;
	const struct config_key *k;

	if (c->state_dir)
		return c->state_dir;
	k = dir_key(c, &base);
	return *(const char *const *)((const char *)base + k->off);
}
