/* SPDX-License-Identifier: MIT */
/* Entries of JSON-lines files: the prefix scan, the full parse, filters. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "logbus.h"
#include "qtime.h"
#include "record.h"

/* What the scan of the writer's prefix found. */
struct scan {
	int64_t ts_ns;
	int level;
	const char *tag;
	size_t tag_len;
	int64_t pid;
};

/* Step *p over the literal lit[0..n) when the text starts with it. */
static bool take(const char **p, const char *end, const char *lit, size_t n)
{
	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}
#define TAKE(p, end, lit) take(p, end, lit, sizeof(lit) - 1)

/* Step *p over the digits of a whole number (up to 18) into *v; false
 * when there is none or it is longer. */
static bool number(const char **p, const char *end, int64_t *v)
{
	const char *s = *p;
	int64_t n = 0;

	while (*p < end && **p >= '0' && **p <= '9' && *p - s < 18)
		n = n * 10 + (*(*p)++ - '0');
	*v = n;
	return *p > s && (*p == end || **p < '0' || **p > '9');
}

/* The level whose name is exactly s[0..len), or -1. */
static int level_named(const char *s, size_t len)
{
	for (int l = LOGBUS_EMERG; l <= LOGBUS_DEBUG; l++) {
		const char *name = logbus_level_name(l);
		if (strlen(name) == len && !memcmp(name, s, len))
			return l;
	}
	return -1;
}

/* The prefix the writer (shm/entry_json.c) writes, key by key, in its
 * order; false when the line is not of that shape (a tag with an escape
 * included): then only the full parse can tell. */
static bool scan_prefix(const char *p, size_t len, struct scan *s)
{
	const char *end = p + len, *q;
	int64_t v;

	if (!TAKE(&p, end, "{\"ts\":\"") || end - p < 31 || p[30] != '"' ||
	    qtime_rfc3339(p, 30, false, &s->ts_ns) < 0)
		return false;
	p += 31;
	if (TAKE(&p, end, ",\"seq\":") &&
	    !(number(&p, end, &v) && TAKE(&p, end, ",\"lane\":") && number(&p, end, &v) &&
	      TAKE(&p, end, ",\"lane_seq\":") && number(&p, end, &v)))
		return false;
	if (!TAKE(&p, end, ",\"level\":\"") || !(q = memchr(p, '"', (size_t)(end - p))) ||
	    (s->level = level_named(p, (size_t)(q - p))) < 0)
		return false;
	p = q + 1;
	if (!TAKE(&p, end, ",\"tag\":\"") || !(q = memchr(p, '"', (size_t)(end - p))) ||
	    memchr(p, '\\', (size_t)(q - p)))
		return false;
	s->tag = p;
	s->tag_len = (size_t)(q - p);
	p = q + 1;
	return TAKE(&p, end, ",\"pid\":") && number(&p, end, &s->pid);
}

/* Whether g holds a character fnmatch treats specially. */
static bool is_glob(const char *g)
{
	return strpbrk(g, "*?[\\") != NULL;
}

/* Whether the tag matches one of the -t globs (a plain name compared
 * whole, without fnmatch). */
static bool tag_wanted(const struct entry_filter *f, const char *tag, size_t len)
{
	char z[LOGBUS_TAG_MAX * 2 + 1];

	if (!f->ntags)
		return true;
	if (len >= sizeof(z))
		return false;
	memcpy(z, tag, len);
	z[len] = '\0';
	for (size_t i = 0; i < f->ntags; i++)
		if (is_glob(f->tags[i]) ? fnmatch(f->tags[i], z, 0) == 0 : !strcmp(f->tags[i], z))
			return true;
	return false;
}

/* The filters the prefix can answer: time, level, tag, pid. */
static bool head_wanted(const struct entry_filter *f, int64_t ts_ns, int level, const char *tag,
			size_t tag_len, int64_t pid)
{
	if ((f->has_since && ts_ns < f->since_ns) || (f->has_until && ts_ns > f->until_ns))
		return false;
	if (level < f->level_min || level > f->level_max)
		return false;
	if (f->npids) {
		size_t i = 0;
		while (i < f->npids && f->pids[i] != pid)
			i++;
		if (i == f->npids)
			return false;
	}
	return tag_wanted(f, tag, tag_len);
}

char *entry_base64_decode(const char *s, size_t len, size_t *out_len)
{
	char *out = malloc(len / 4 * 3 + 4);
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;

	if (!out)
		return NULL;
	while (len && s[len - 1] == '=')
		len--;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 :
			c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)(acc >> bits);
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

/* Whether a field value of e (fields, or fields_b64 decoded) equals value. */
static bool field_is(const struct entry *e, const char *key, const char *value)
{
	size_t vlen = strlen(value);
	json_t *v = json_object_get(json_object_get(e->obj, "fields"), key);

	if (json_is_string(v))
		return json_string_length(v) == vlen && !memcmp(json_string_value(v), value, vlen);
	v = json_object_get(json_object_get(e->obj, "fields_b64"), key);
	if (!json_is_string(v))
		return false;
	size_t n;
	char *raw = entry_base64_decode(json_string_value(v), json_string_length(v), &n);
	bool same = raw && n == vlen && !memcmp(raw, value, n);
	free(raw);
	return same;
}

/* FIELD=VALUE: every key matched by one of its values. */
static bool fields_wanted(const struct entry_filter *f, const struct entry *e)
{
	for (size_t i = 0; i < f->nmatches; i++) {
		bool any = false, seen_before = false;
		for (size_t j = 0; j < i && !seen_before; j++)
			seen_before = !strcmp(f->matches[j].key, f->matches[i].key);
		if (seen_before)
			continue;   /* its key was judged with its first value */
		for (size_t j = i; j < f->nmatches && !any; j++)
			any = !strcmp(f->matches[j].key, f->matches[i].key) &&
			      field_is(e, f->matches[j].key, f->matches[j].value);
		if (!any)
			return false;
	}
	return true;
}

/* Whether the message (NULs and all) matches -g. */
static bool regex_wanted(const struct entry_filter *f, const struct entry *e)
{
	regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)e->msg_len };

	return !f->has_regex || regexec(&f->regex, e->msg, 1, &m, REG_STARTEND) == 0;
}

/* The string under key (its length to *len), or NULL. */
static const char *string_of(json_t *o, const char *key, size_t *len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return NULL;
	if (len)
		*len = json_string_length(v);
	return json_string_value(v);
}

/* The integer under key into *out; false when there is none. */
static bool int_of(json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

/* The text under key into *s and *len, or under key_b64 decoded into
 * *owned (then *utf8 is false). Returns 0, -ENOENT when neither is there,
 * -EBADMSG when key_b64 is not base64. */
static int text_of(json_t *o, const char *key, const char **s, size_t *len, char **owned,
		   bool *utf8)
{
	char b64[16];
	const char *v;
	size_t n;

	*utf8 = true;
	if ((*s = string_of(o, key, len)))
		return 0;
	snprintf(b64, sizeof(b64), "%s_b64", key);
	if (!(v = string_of(o, b64, &n)))
		return -ENOENT;
	*utf8 = false;
	if (!(*owned = entry_base64_decode(v, n, len)))
		return -EBADMSG;
	*s = *owned;
	return 0;
}

/* Fill e from its parsed line; the reason it is no entry, or NULL. */
static const char *entry_fill(struct entry *e)
{
	const char *s;
	size_t len;
	int64_t seq = 0;
	int r;

	if (!json_is_object(e->obj))
		return "not a JSON object";
	if (!(s = string_of(e->obj, "ts", &len)) || qtime_rfc3339(s, len, false, &e->ts_ns) < 0)
		return "no \"ts\" in RFC 3339";
	if (!(s = string_of(e->obj, "level", NULL)) || (e->level = level_named(s, strlen(s))) < 0)
		return "no \"level\" name";
	if (!(e->tag = string_of(e->obj, "tag", NULL)))
		return "no \"tag\"";
	if (!int_of(e->obj, "pid", &e->pid))
		return "no \"pid\"";
	if (!int_of(e->obj, "tid", &e->tid))
		e->tid = e->pid;
	e->has_seq = int_of(e->obj, "seq", &seq) && seq >= 0;
	e->seq = (uint64_t)seq;
	r = text_of(e->obj, "msg", &e->msg, &e->msg_len, &e->msg_owned, &e->msg_utf8);
	if (r == -ENOENT)
		return "neither \"msg\" nor \"msg_b64\"";
	if (r < 0)
		return "\"msg_b64\" is not base64";
	r = text_of(e->obj, "comm", &e->comm, &e->comm_len, &e->comm_owned, &e->comm_utf8);
	return r == -EBADMSG ? "\"comm_b64\" is not base64" : NULL;
}

int entry_keep(const struct entry_filter *f, const char *line, size_t len, struct entry *e,
	       const char **why)
{
	static __thread json_error_t err;
	struct scan s;

	*e = (struct entry){ 0 };
	if (scan_prefix(line, len, &s) && !head_wanted(f, s.ts_ns, s.level, s.tag, s.tag_len, s.pid))
		return 0;
	e->obj = json_loadb(line, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &err);
	if (!e->obj) {
		*why = len ? err.text : "an empty line";
		return -EBADMSG;
	}
	if ((*why = entry_fill(e))) {
		entry_free(e);
		return -EBADMSG;
	}
	if (!head_wanted(f, e->ts_ns, e->level, e->tag, strlen(e->tag), e->pid) ||
	    !fields_wanted(f, e) || !regex_wanted(f, e)) {
		entry_free(e);
		return 0;
	}
	e->line = malloc(len + 1);
	if (!e->line) {
		entry_free(e);
		return -ENOMEM;
	}
	memcpy(e->line, line, len);
	e->line[len] = '\0';
	e->line_len = len;
	return 1;
}

void entry_free(struct entry *e)
{
	json_decref(e->obj);
	free(e->msg_owned);
	free(e->comm_owned);
	free(e->line);
	*e = (struct entry){ 0 };
}

void entry_filter_free(struct entry_filter *f)
{
	if (f->has_regex)
		regfree(&f->regex);
	free(f->tags);
	free(f->pids);
	for (size_t i = 0; i < f->nmatches; i++)
		free(f->matches[i].key);
	free(f->matches);
	*f = (struct entry_filter){ 0 };
}
