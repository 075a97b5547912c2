/* SPDX-License-Identifier: MIT */
/*
 * Parsing the "hooks" array of the writer's configuration into an
 * immutable hooks_conf. Every error names its JSON path:
 *
 *	"hooks": [
 *	  { "name": "redact", "type": "filter",
 *	    "plugin": "/usr/lib/x86_64-linux-gnu/logbus/hooks/redact.so",
 *	    "config": { "patterns": [ "password=[^ ]*" ] } },
 *	  { "name": "alert", "type": "action",
 *	    "command": [ "/usr/libexec/logbus/logbus-alert", "/var/log/alerts" ],
 *	    "match": { "level": "err", "tag": "app*", "fields": { "user": true } },
 *	    "confirm": true, "timeout_ms": 2000, "queue": 1024, "after": [ "count" ] }
 *	]
 *
 * "level" is one name (that severity or a more severe one) or "a..b" (the
 * inclusive range, in either order); a field matches on presence (true) or
 * on an exact string value. Unknown keys are errors, so typos show.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hooks_impl.h"
#include "text.h"

struct parse {
	hooks_conf_report_fn *report;
	void *ctx;
	char msg[1024];
	char path[128];
};

/* Hand one problem, "PATH[.key]: what", to the caller's report. */
__attribute__((format(printf, 3, 4)))
static int fail(struct parse *p, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->msg, sizeof(p->msg), "%s%s%s: ", p->path, key ? "." : "",
			 key ? key : "");

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(p->msg))
		vsnprintf(p->msg + n, sizeof(p->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	p->report(p->ctx, p->msg);
	return -EINVAL;
}

static int parse_level(struct parse *p, const json_t *v, struct hook_match *m)
{
	const char *s = json_string_value(v);
	const char *dots = s ? strstr(s, "..") : NULL;
	int a, b;

	if (!s)
		return fail(p, "match.level", "want a level name or \"from..to\"");
	a = lb_level_parse(s, dots ? (size_t)(dots - s) : strlen(s));
	b = dots ? lb_level_parse(dots + 2, strlen(dots + 2)) : 0;
	if (a < 0 || b < 0)
		return fail(p, "match.level", "'%s' is not a level or a range \"from..to\" of them "
			    "(%s)", s, LB_LEVEL_WORDS);
	m->level_min = (uint8_t)(a < b ? a : b);
	m->level_max = (uint8_t)(a < b ? b : a);
	return 0;
}

static int parse_fields(struct parse *p, const json_t *v, struct hook_match *m)
{
	const char *key;
	const json_t *val;

	if (!json_is_object(v))
		return fail(p, "match.fields", "want an object of key: true or key: \"value\"");
	m->fields = calloc(json_object_size(v) + 1, sizeof(*m->fields));
	if (!m->fields)
		return -ENOMEM;
	json_object_foreach((json_t *)v, key, val) {
		struct hook_field_match *f = &m->fields[m->nfields++];

		if (!lb_key_valid(key, strlen(key)))
			return fail(p, "match.fields", "'%s' is not a field key ([A-Za-z0-9_]{1,64})",
				    key);
		if (!json_is_true(val) && !json_is_string(val))
			return fail(p, "match.fields", "'%s' wants true or a string", key);
		f->key = strdup(key);
		f->value = json_is_string(val) ? strdup(json_string_value(val)) : NULL;
		if (!f->key || (json_is_string(val) && !f->value))
			return -ENOMEM;
	}
	return 0;
}

static int parse_match(struct parse *p, const json_t *v, struct hook_match *m)
{
	const char *key;
	const json_t *val;
	int r;

	if (!json_is_object(v))
		return fail(p, "match", "want an object with level, tag, fields");
	json_object_foreach((json_t *)v, key, val) {
		if (strcmp(key, "level") == 0)
			r = parse_level(p, val, m);
		else if (strcmp(key, "fields") == 0)
			r = parse_fields(p, val, m);
		else if (strcmp(key, "tag") == 0 && json_is_string(val))
			r = (m->tag = strdup(json_string_value(val))) ? 0 : -ENOMEM;
		else if (strcmp(key, "tag") == 0)
			r = fail(p, "match.tag", "want a glob string");
		else
			r = fail(p, "match", "unknown key '%s'", key);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_argv(struct parse *p, const json_t *v, struct hook_conf *c)
{
	size_t n = json_array_size(v);

	if (!json_is_array(v) || n == 0)
		return fail(p, "command", "want a non-empty array of strings (argv; no shell runs)");
	c->argv = calloc(n + 1, sizeof(*c->argv));
	if (!c->argv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(v, i));
		if (!s)
			return fail(p, "command", "[%zu] is not a string", i);
		if (!(c->argv[i] = strdup(s)))
			return -ENOMEM;
	}
	return 0;
}

/* A non-negative integer in 1..max. */
static int parse_uint(struct parse *p, const char *key, const json_t *v, unsigned max,
		      unsigned *out)
{
	json_int_t i = json_integer_value(v);

	if (!json_is_integer(v) || i < 1 || i > (json_int_t)max)
		return fail(p, key, "want an integer in 1..%u", max);
	*out = (unsigned)i;
	return 0;
}

static int parse_type(struct parse *p, const json_t *v, struct hook_conf *c)
{
	const char *s = json_string_value(v);

	if (s && strcmp(s, "filter") == 0)
		c->type = HOOK_FILTER;
	else if (s && strcmp(s, "action") == 0)
		c->type = HOOK_ACTION;
	else
		return fail(p, "type", "want \"filter\" or \"action\"");
	return 0;
}

static int parse_config(struct parse *p, const json_t *v, struct hook_conf *c)
{
	if (!json_is_object(v))
		return fail(p, "config", "want an object (handed to the plugin's init)");
	c->config = json_dumps(v, JSON_COMPACT);
	return c->config ? 0 : -ENOMEM;
}

static bool name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > HOOK_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!lb_key_valid(s, 1) && *s != '-' && *s != '.')
			return false;
	return true;
}

/* One key of a hook object; "after" is resolved later. */
static int parse_key(struct parse *p, const char *key, const json_t *v, struct hook_conf *c)
{
	if (strcmp(key, "name") == 0) {
		if (!json_is_string(v) || !name_valid(json_string_value(v)))
			return fail(p, key, "want 1 to %d of [A-Za-z0-9_.-]", HOOK_NAME_MAX);
		return (c->name = strdup(json_string_value(v))) ? 0 : -ENOMEM;
	}
	if (strcmp(key, "type") == 0)
		return parse_type(p, v, c);
	if (strcmp(key, "plugin") == 0) {
		if (!json_is_string(v) || !*json_string_value(v))
			return fail(p, key, "want the path of a shared object");
		return (c->plugin = strdup(json_string_value(v))) ? 0 : -ENOMEM;
	}
	if (strcmp(key, "command") == 0)
		return parse_argv(p, v, c);
	if (strcmp(key, "config") == 0)
		return parse_config(p, v, c);
	if (strcmp(key, "match") == 0)
		return parse_match(p, v, &c->match);
	if (strcmp(key, "timeout_ms") == 0)
		return parse_uint(p, key, v, 3600000, &c->timeout_ms);
	if (strcmp(key, "queue") == 0)
		return parse_uint(p, key, v, 1u << 20, &c->queue);
	if (strcmp(key, "confirm") == 0) {
		if (!json_is_boolean(v))
			return fail(p, key, "want true or false");
		c->confirm = json_is_true(v);
		return 0;
	}
	if (strcmp(key, "after") == 0)
		return json_is_array(v) ? 0 : fail(p, key, "want an array of hook names");
	return fail(p, NULL, "unknown key '%s'", key);
}

/* The rules between keys, once all of them are read. */
static int check_hook(struct parse *p, const json_t *o, struct hook_conf *c)
{
	if (!c->name)
		return fail(p, "name", "missing");
	if (!json_object_get(o, "type"))
		return fail(p, "type", "missing (\"filter\" or \"action\")");
	if (!c->plugin == !c->argv)
		return fail(p, NULL, "want exactly one of \"plugin\" and \"command\"");
	if (c->type == HOOK_FILTER && c->argv)
		return fail(p, "command", "a filter runs inline in the drain and must be a "
			    "plugin; commands run as actions");
	if (c->type == HOOK_FILTER && (json_object_get(o, "after") || json_object_get(o, "queue")))
		return fail(p, NULL, "\"after\" and \"queue\" are for action hooks");
	if (c->confirm && !c->argv)
		return fail(p, "confirm", "is for command hooks");
	if (!c->config && !(c->config = strdup("{}")))
		return -ENOMEM;
	return 0;
}

static int parse_hook(struct parse *p, const json_t *o, struct hook_conf *c)
{
	const char *key;
	const json_t *v;
	int r;

	c->timeout_ms = HOOK_TIMEOUT_MS_DEFAULT;
	c->queue = HOOK_QUEUE_DEFAULT;
	c->match.level_max = LOGBUS_DEBUG;
	if (!json_is_object(o))
		return fail(p, NULL, "want an object");
	json_object_foreach((json_t *)o, key, v)
		if ((r = parse_key(p, key, v, c)) < 0)
			return r;
	return check_hook(p, o, c);
}

static ssize_t find_hook(const struct hooks_conf *c, const char *name)
{
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->hooks[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static int resolve_after(struct parse *p, const json_t *arr, struct hooks_conf *c, size_t i)
{
	struct hook_conf *h = &c->hooks[i];
	size_t n = json_array_size(arr);

	h->after = calloc(n + 1, sizeof(*h->after));
	if (!h->after)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		const char *name = json_string_value(json_array_get(arr, k));
		ssize_t j = name ? find_hook(c, name) : -1;

		if (j < 0)
			return fail(p, "after", "[%zu] names no hook", k);
		if (c->hooks[j].type != HOOK_ACTION || (size_t)j == i)
			return fail(p, "after", "'%s' is not another action hook", name);
		h->after[h->nafter++] = (size_t)j;
	}
	return 0;
}

/* Depth-first search for a cycle through "after"; 1 visiting, 2 done. */
static bool cyclic(const struct hooks_conf *c, size_t i, uint8_t *mark)
{
	if (mark[i] == 1)
		return true;
	if (mark[i] == 2)
		return false;
	mark[i] = 1;
	for (size_t k = 0; k < c->hooks[i].nafter; k++)
		if (cyclic(c, c->hooks[i].after[k], mark))
			return true;
	mark[i] = 2;
	return false;
}

static int link_hooks(struct parse *p, const json_t *array, const char *path,
		      struct hooks_conf *c)
{
	uint8_t mark[HOOKS_MAX] = { 0 };
	int r;

	for (size_t i = 0; i < c->count; i++) {
		snprintf(p->path, sizeof(p->path), "%s[%zu]", path, i);
		if ((ssize_t)i != find_hook(c, c->hooks[i].name))
			return fail(p, "name", "'%s' is used twice", c->hooks[i].name);
		const json_t *after = json_object_get(json_array_get(array, i), "after");
		if (after && (r = resolve_after(p, after, c, i)) < 0)
			return r;
	}
	for (size_t i = 0; i < c->count; i++) {
		snprintf(p->path, sizeof(p->path), "%s[%zu]", path, i);
		if (cyclic(c, i, mark))
			return fail(p, "after", "makes a cycle through '%s'", c->hooks[i].name);
	}
	return 0;
}

int hooks_conf_parse(const json_t *array, const char *path, struct hooks_conf **out,
		     hooks_conf_report_fn *report, void *ctx)
{
	struct parse p = { .report = report, .ctx = ctx };
	struct hooks_conf *c = calloc(1, sizeof(*c));
	int r = -ENOMEM, bad = 0;

	snprintf(p.path, sizeof(p.path), "%s", path);
	if (!c)
		goto fail;
	if (!json_is_array(array) || json_array_size(array) > HOOKS_MAX) {
		r = fail(&p, NULL, "want an array of at most %d hooks", HOOKS_MAX);
		goto fail;
	}
	c->hooks = calloc(json_array_size(array) + 1, sizeof(*c->hooks));
	if (!c->hooks)
		goto fail;
	/* Every hook, so that each bad one is reported; the links between
	 * them only when all parsed. */
	for (size_t i = 0; i < json_array_size(array); i++) {
		snprintf(p.path, sizeof(p.path), "%s[%zu]", path, i);
		c->count++;
		r = parse_hook(&p, json_array_get(array, i), &c->hooks[i]);
		if (r == -ENOMEM)
			goto fail;
		bad += r < 0;
	}
	if (bad) {
		r = -EINVAL;
		goto fail;
	}
	if ((r = link_hooks(&p, array, path, c)) < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	if (r == -ENOMEM) {
		snprintf(p.msg, sizeof(p.msg), "%s: out of memory", path);
		report(ctx, p.msg);
	}
	hooks_conf_free(c);
	return r;
}

static void hook_conf_free(struct hook_conf *c)
{
	free(c->name);
	free(c->plugin);
	for (char **a = c->argv; a && *a; a++)
		free(*a);
	free(c->argv);
	free(c->config);
	free(c->match.tag);
	for (size_t i = 0; i < c->match.nfields; i++) {
		free(c->match.fields[i].key);
		free(c->match.fields[i].value);
	}
	free(c->match.fields);
	free(c->after);
}

void hooks_conf_free(struct hooks_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->count; i++)
		hook_conf_free(&c->hooks[i]);
	free(c->hooks);
	free(c);
}

/* Whether argv0 names an executable file, directly or through $PATH, as
 * posix_spawnp will look for it. */
static bool runnable(const char *argv0)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(argv0, '/'))
		return access(argv0, X_OK) == 0;
	for (const char *p = path ? path : "/bin:/usr/bin"; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? p : ".", argv0);
		if (access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

int hooks_conf_check(const struct hooks_conf *c, hooks_conf_report_fn *report, void *ctx)
{
	char err[1024];
	int problems = 0;

	for (size_t i = 0; c && i < c->count; i++) {
		const struct hook_conf *h = &c->hooks[i];
		const struct logbus_hook_plugin *desc;
		void *dl;

		if (h->argv && !runnable(h->argv[0])) {
			snprintf(err, sizeof(err), "hook '%s': command '%s' is not an executable "
				 "file (nor found in $PATH)", h->name, h->argv[0]);
			report(ctx, err);
			problems++;
			continue;
		}
		if (!h->plugin)
			continue;
		if (hook_plugin_open(h, &dl, &desc, err, sizeof(err)) < 0) {
			report(ctx, err);
			problems++;
			continue;
		}
		dlclose(dl);
	}
	return problems;
}
