/* SPDX-License-Identifier: MIT */
/* Description: `logbus-stat --prometheus` is text exposition format 0.0.4
 * as a strict parser written here reads it: HELP and TYPE before each
 * family, families contiguous, valid names, escaped label values, float
 * values, no duplicate series, logbus_* names, counters ending _total,
 * summaries with quantiles, _sum and _count; and the numbers are right. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"
#include "stattest.h"

#define MAX_FAMILIES 256
#define MAX_SERIES 4096
#define WEIRD_NAME "we\"ird\\name"

struct family {
	char name[128];
	char type[16];
	bool help, closed;
};

/* What the parser kept: families, and each series as "name{labels}". */
struct exposition {
	struct family fam[MAX_FAMILIES];
	size_t nfam;
	struct family *open;     /* the family whose samples come now */
	char *series[MAX_SERIES];
	double values[MAX_SERIES];
	size_t nseries;
	unsigned line;
};

static void bad(const struct exposition *e, const char *what, const char *text)
{
	fail_msg("line %u: %s: '%s'", e->line, what, text);
}

static bool name_char(int c, bool first, bool colon)
{
	return isalpha(c) || c == '_' || (colon && c == ':') || (!first && isdigit(c));
}

/* A metric (colon true) or label name at *p; returns its length. */
static size_t parse_name(const char *p, bool colon)
{
	size_t n = 0;

	while (name_char((unsigned char)p[n], n == 0, colon))
		n++;
	return n;
}

static struct family *family_find(struct exposition *e, const char *name, size_t len)
{
	for (size_t i = 0; i < e->nfam; i++)
		if (strlen(e->fam[i].name) == len && !strncmp(e->fam[i].name, name, len))
			return &e->fam[i];
	return NULL;
}

static struct family *family_get(struct exposition *e, const char *name, size_t len)
{
	struct family *f = family_find(e, name, len);

	if (f)
		return f;
	assert_true(e->nfam < MAX_FAMILIES && len < sizeof(f->name));
	f = &e->fam[e->nfam++];
	memcpy(f->name, name, len);
	return f;
}

/* Samples of a family must follow each other: entering another family
 * closes the open one for good. */
static void family_enter(struct exposition *e, struct family *f, const char *line)
{
	if (e->open == f)
		return;
	if (f->closed)
		bad(e, "family continues after another one", line);
	if (e->open)
		e->open->closed = true;
	e->open = f;
}

static void parse_comment(struct exposition *e, const char *line)
{
	bool help = !strncmp(line, "# HELP ", 7), type = !strncmp(line, "# TYPE ", 7);
	const char *p = line + 7;
	size_t n = parse_name(p, true);
	struct family *f;

	if (!help && !type)
		bad(e, "a comment that is neither HELP nor TYPE", line);
	if (n == 0 || p[n] != ' ')
		bad(e, "bad metric name in comment", line);
	f = family_get(e, p, n);
	family_enter(e, f, line);
	if (help) {
		if (f->help)
			bad(e, "second HELP", line);
		for (const char *c = p + n + 1; *c; c++)
			if (*c == '\\' && c[1] != '\\' && c[1] != 'n')
				bad(e, "bad escape in HELP", line);
		f->help = true;
		return;
	}
	if (f->type[0])
		bad(e, "second TYPE", line);
	if (strcmp(p + n + 1, "counter") && strcmp(p + n + 1, "gauge") &&
	    strcmp(p + n + 1, "summary") && strcmp(p + n + 1, "histogram") &&
	    strcmp(p + n + 1, "untyped"))
		bad(e, "unknown TYPE", line);
	snprintf(f->type, sizeof(f->type), "%s", p + n + 1);
}

/* The family a sample name belongs to: itself, or a summary's base for
 * _sum and _count. */
static struct family *sample_family(struct exposition *e, const char *name, size_t n)
{
	static const char *const suffixes[] = { "_sum", "_count" };

	for (size_t i = 0; i < 2; i++) {
		size_t sl = strlen(suffixes[i]);
		if (n > sl && !strncmp(name + n - sl, suffixes[i], sl)) {
			struct family *f = family_find(e, name, n - sl);
			if (f && !strcmp(f->type, "summary"))
				return f;
		}
	}
	return family_find(e, name, n);
}

/* Append n bytes of s to the string out of capacity cap. */
static void append(char *out, size_t cap, const char *s, size_t n)
{
	size_t len = strlen(out);

	assert_true(len + n < cap);
	memcpy(out + len, s, n);
	out[len + n] = '\0';
}

/* Labels at *pp ("{" already consumed) up to "}"; appends them to out
 * unescaped; *quantile set when one is "quantile". */
static void parse_labels(struct exposition *e, const char **pp, const char *line, char *out,
			 size_t cap, bool *quantile)
{
	const char *p = *pp;
	char seen[16][64];
	size_t nseen = 0;

	while (*p != '}') {
		size_t n = parse_name(p, false);
		if (n == 0 || n >= 64 || p[n] != '=' || p[n + 1] != '"' || !strncmp(p, "__", 2))
			bad(e, "bad label", line);
		for (size_t i = 0; i < nseen; i++)
			if (strlen(seen[i]) == n && !strncmp(seen[i], p, n))
				bad(e, "duplicate label", line);
		assert_true(nseen < 16);
		snprintf(seen[nseen++], 64, "%.*s", (int)n, p);
		*quantile |= n == 8 && !strncmp(p, "quantile", 8);
		append(out, cap, p, n + 2);
		for (p += n + 2; *p != '"'; p++) {
			char c = *p;
			if (!c)
				bad(e, "unterminated label value", line);
			if (c == '\\') {
				c = *++p == 'n' ? '\n' : *p;
				if (*p != '\\' && *p != '"' && *p != 'n')
					bad(e, "bad escape in label value", line);
			}
			append(out, cap, &c, 1);
		}
		append(out, cap, "\",", 2);
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			bad(e, "labels not separated by ','", line);
	}
	*pp = p + 1;
}

static double parse_value(struct exposition *e, const char *s, const char *line)
{
	char *end;
	double v;

	if (!strcmp(s, "NaN") || !strcmp(s, "+Inf") || !strcmp(s, "-Inf"))
		return strtod(s, NULL);
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || (*end && *end != ' '))
		bad(e, "bad value", line);
	if (*end == ' ') {   /* a timestamp: an integer */
		for (const char *t = end + 1 + (end[1] == '-'); *t; t++)
			if (!isdigit((unsigned char)*t))
				bad(e, "bad timestamp", line);
	}
	return v;
}

static void parse_sample(struct exposition *e, const char *line)
{
	size_t n = parse_name(line, true);
	struct family *f = sample_family(e, line, n);
	char key[1024] = "";
	bool quantile = false;
	const char *p = line + n;

	if (n == 0)
		bad(e, "bad metric name", line);
	if (!f || !f->type[0] || !f->help)
		bad(e, "sample before its HELP and TYPE", line);
	family_enter(e, f, line);
	snprintf(key, sizeof(key), "%.*s{", (int)n, line);
	if (*p == '{') {
		p++;
		parse_labels(e, &p, line, key, sizeof(key), &quantile);
	}
	append(key, sizeof(key), "}", 1);
	if (*p != ' ')
		bad(e, "no space before the value", line);
	if (!strcmp(f->type, "summary") && strlen(f->name) == n && !quantile)
		bad(e, "summary sample without quantile", line);
	for (size_t i = 0; i < e->nseries; i++)
		if (!strcmp(e->series[i], key))
			bad(e, "duplicate series", line);
	assert_true(e->nseries < MAX_SERIES);
	e->values[e->nseries] = parse_value(e, p + 1, line);
	e->series[e->nseries++] = strdup(key);
}

/* Parse text strictly, failing the test at the first fault. */
static void parse(struct exposition *e, char *text)
{
	size_t len = strlen(text);
	char *line, *save = NULL;

	if (!len || text[len - 1] != '\n')
		fail_msg("the exposition does not end with a newline");
	for (const char *c = text; *c; c++)
		if (c[0] == '\n' && c[1] == '\n')
			fail_msg("an empty line in the exposition");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		e->line++;
		if (line[0] == '#')
			parse_comment(e, line);
		else
			parse_sample(e, line);
	}
	for (size_t i = 0; i < e->nfam; i++) {
		const struct family *f = &e->fam[i];
		size_t n = strlen(f->name);
		if (strncmp(f->name, "logbus_", 7))
			fail_msg("metric %s is not logbus_*", f->name);
		if (!strcmp(f->type, "counter") && (n < 6 || strcmp(f->name + n - 6, "_total")))
			fail_msg("counter %s does not end in _total", f->name);
		if (!f->help || !f->type[0])
			fail_msg("family %s lacks HELP or TYPE", f->name);
	}
}

static double series_value(const struct exposition *e, const char *key)
{
	for (size_t i = 0; i < e->nseries; i++)
		if (!strcmp(e->series[i], key))
			return e->values[i];
	fail_msg("no series %s", key);
	return NAN;
}

static void exposition_free(struct exposition *e)
{
	for (size_t i = 0; i < e->nseries; i++)
		free(e->series[i]);
}

/* A bus with a client whose name needs escaping, and one whose counts are
 * known: the parser accepts every line, and the values are the counts. */
static void test_exposition(void **state)
{
	static const char *const args[] = { "--lanes", "4", "--lane-size", "64K", NULL };
	static struct exposition e;
	struct harness h;
	char key[512], *out;
	pid_t weird;
	logbus_t *lb;
	int st;

	(void)state;
	harness_init(&h, "stats-prom");
	harness_start_writer(&h, args);
	weird = stattest_spawn_publisher(h.bus, WEIRD_NAME, 5, 50);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	for (int i = 0; i < 50; i++)
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "prom", "entry %d", i), 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	json_decref(stattest_wait_client(h.bus, getpid(), 50));
	json_decref(stattest_wait_client(h.bus, weird, 1));

	out = stattest_run(&st, "%s --bus %s --prometheus", stattest_stat_path(), h.bus);
	assert_int_equal(st, 0);
	parse(&e, out);
	snprintf(key, sizeof(key), "logbus_writer_up{bus=\"%s\",}", h.bus);
	assert_true(series_value(&e, key) == 1);
	bool found_mine = false, found_weird = false;
	for (size_t i = 0; i < e.nseries; i++) {
		char pid[64];
		if (strncmp(e.series[i], "logbus_client_written_total{", 28))
			continue;
		snprintf(pid, sizeof(pid), "pid=\"%d\"", (int)getpid());
		if (strstr(e.series[i], pid)) {
			found_mine = true;
			assert_true(e.values[i] == 50);
		}
		found_weird |= strstr(e.series[i], "program=\"" WEIRD_NAME "\"") != NULL;
	}
	assert_true(found_mine);
	assert_true(found_weird);
	free(out);
	exposition_free(&e);
	logbus_close(lb);
	stattest_kill(weird);
	harness_stop_writer(&h);
	harness_fini(&h);
}

/* A bus that does not exist: exit 1, and the --output file (and stdout)
 * still hold valid exposition text with logbus_writer_up 0, so that the
 * textfile collector reports the writer down instead of nothing. */
static void test_missing_bus(void **state)
{
	static struct exposition e;
	struct harness h;
	char key[512], path[400], *out;
	int st;

	(void)state;
	harness_init(&h, "stats-prom-missing");
	snprintf(path, sizeof(path), "%s.prom", h.dir);
	out = stattest_run(&st, "%s --bus %s --prometheus --output %s 2>/dev/null",
			   stattest_stat_path(), h.bus, path);
	assert_int_equal(st, 1);
	free(out);
	out = stattest_run(&st, "cat %s", path);
	assert_int_equal(st, 0);
	parse(&e, out);
	snprintf(key, sizeof(key), "logbus_writer_up{bus=\"%s\",}", h.bus);
	assert_true(series_value(&e, key) == 0);
	snprintf(key, sizeof(key), "logbus_writer_state{bus=\"%s\",state=\"dead\",}", h.bus);
	assert_true(series_value(&e, key) == 1);
	free(out);
	exposition_free(&e);
	assert_int_equal(unlink(path), 0);
	out = stattest_run(&st, "%s --bus %s --prometheus 2>/dev/null", stattest_stat_path(),
			   h.bus);
	assert_int_equal(st, 1);
	assert_non_null(strstr(out, "logbus_writer_up{"));
	free(out);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exposition),
		cmocka_unit_test(test_missing_bus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
