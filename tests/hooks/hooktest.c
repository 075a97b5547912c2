/* SPDX-License-Identifier: MIT */
/* Helpers for the hook tests: writers with hooks, their counters. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hooktest.h"

void hooktest_init(struct hooktest *t, const char *name)
{
	harness_init(&t->h, name);
	snprintf(t->config, sizeof(t->config), "%s.json", t->h.dir);
	snprintf(t->log, sizeof(t->log), "%s.log", t->h.dir);
}

const char *hooktest_config(struct hooktest *t, const char *hooks)
{
	FILE *f = fopen(t->config, "we");

	assert_non_null(f);
	fprintf(f, "{ \"hooks\": %s }\n", hooks);
	assert_int_equal(fclose(f), 0);
	return t->config;
}

void hooktest_start(struct hooktest *t, const char *hooks)
{
	const char *args[] = { "--config", hooktest_config(t, hooks), "--lanes", "8",
			       "--lane-size", "1M", NULL };
	int log, saved;

	fflush(stderr);
	log = open(t->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	assert_true(log >= 0 && saved >= 0);
	dup2(log, STDERR_FILENO);
	harness_start_writer(&t->h, args);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(log);
}

struct hooktest_metrics hooktest_metrics(const struct hooktest *t, const char *name)
{
	struct hooktest_metrics m = { 0 };
	char *log = hooktest_read(t->log, NULL), key[128];
	char *at;
	unsigned long long v[9];

	snprintf(key, sizeof(key), "hook %s (", name);
	at = strstr(log, key);
	if (!at)
		fail_msg("no counters for hook %s in the writer's log:\n%s", name, log);
	at = strchr(at, ':');
	assert_int_equal(sscanf(at, ": %llu matched, %llu calls, %llu ok, %llu dropped, "
				"%llu rewritten, %llu errors, %llu timeouts, %llu queue drops, "
				"%llu restarts", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
				&v[7], &v[8]), 9);
	m = (struct hooktest_metrics){ v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8] };
	free(log);
	return m;
}

static void metrics_print(char *buf, size_t cap, const struct hooktest_metrics *m)
{
	snprintf(buf, cap, "matched %llu calls %llu ok %llu dropped %llu rewritten %llu "
		 "errors %llu timeouts %llu queue_drops %llu restarts %llu",
		 (unsigned long long)m->matched, (unsigned long long)m->calls,
		 (unsigned long long)m->ok, (unsigned long long)m->dropped,
		 (unsigned long long)m->rewritten, (unsigned long long)m->errors,
		 (unsigned long long)m->timeouts, (unsigned long long)m->queue_drops,
		 (unsigned long long)m->restarts);
}

void hooktest_expect(const struct hooktest *t, const char *name,
		     const struct hooktest_metrics *want)
{
	struct hooktest_metrics got = hooktest_metrics(t, name);
	char a[256], b[256];

	if (memcmp(&got, want, sizeof(got)) == 0)
		return;
	metrics_print(a, sizeof(a), &got);
	metrics_print(b, sizeof(b), want);
	fail_msg("hook %s: got %s\nwant %s", name, a, b);
}

void hooktest_fini(struct hooktest *t)
{
	harness_fini(&t->h);
	unlink(t->config);
	unlink(t->log);
}

const char *hooktest_path(char *buf, size_t cap, const char *file)
{
	const char *dir = getenv("LOGBUS_TEST_HOOKS");

	assert_non_null(dir);
	snprintf(buf, cap, "%s/%s", dir, file);
	return buf;
}

const char *hooktest_file(const struct hooktest *t, char *buf, size_t cap, const char *file)
{
	snprintf(buf, cap, "%s/%s", t->h.dir, file);
	return buf;
}

char *hooktest_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *s = NULL;
	size_t n = 0;

	if (!f) {
		s = calloc(1, 1);
	} else {
		FILE *m = open_memstream(&s, &n);
		char buf[65536];
		size_t got;
		while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, got, m);
		fclose(m);
		fclose(f);
	}
	assert_non_null(s);
	if (len)
		*len = n;
	return s;
}

static size_t count_lines(const char *path)
{
	char *s = hooktest_read(path, NULL);
	size_t n = 0;

	for (char *p = s; (p = strchr(p, '\n')); p++)
		n++;
	free(s);
	return n;
}

size_t hooktest_wait_lines(const char *path, size_t n)
{
	size_t have = 0;

	for (int i = 0; i < 2000 && (have = count_lines(path)) < n; i++)
		harness_sleep_us(10000);
	return have;
}
