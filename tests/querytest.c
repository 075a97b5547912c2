/* SPDX-License-Identifier: MIT */
/* Helpers for the logbus-query tests (see querytest.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "querytest.h"

static const char *query_path(void)
{
	const char *p = getenv("LOGBUS_TEST_QUERY");

	assert_non_null(p);
	return p;
}

static char *slurp_fd(int fd, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *data = malloc(cap + 1);
	ssize_t got;

	assert_non_null(data);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	while ((got = read(fd, data + n, cap - n)) > 0) {
		n += (size_t)got;
		if (n == cap) {
			cap *= 2;
			data = realloc(data, cap + 1);
			assert_non_null(data);
		}
	}
	data[n] = '\0';
	*len = n;
	return data;
}

static int temp_fd(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/logbus-query-out-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

static void exec_query(const char *const *args)
{
	const char *argv[64] = { query_path() };
	int n = 1;

	for (; *args && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	setenv("TZ", "UTC", 1);
	unsetenv("NO_COLOR");
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

void querytest_runv(struct qrun *r, const char *const *args, const char *const *env)
{
	int out = temp_fd(), err = temp_fd(), st;
	size_t len;
	pid_t pid = harness_fork();

	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		for (; env && *env; env++)
			putenv((char *)*env);
		exec_query(args);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st))
		fail_msg("logbus-query did not exit: status 0x%x", st);
	r->status = WEXITSTATUS(st);
	r->out = slurp_fd(out, &r->out_len);
	r->err = slurp_fd(err, &len);
	close(out);
	close(err);
}

void querytest_run(struct qrun *r, ...)
{
	const char *args[64];
	size_t n = 0;
	va_list ap;

	va_start(ap, r);
	while (n < 63 && (args[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	args[n] = NULL;
	querytest_runv(r, args, NULL);
}

void querytest_free(struct qrun *r)
{
	free(r->out);
	free(r->err);
	*r = (struct qrun){ 0 };
}

json_t *querytest_lines(const struct qrun *r)
{
	json_t *v = json_array();

	for (const char *p = r->out, *end = r->out + r->out_len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			fail_msg("the output ends without a newline: '%s'", p);
		json_array_append_new(v, json_stringn_nocheck(p, (size_t)(nl - p)));
		p = nl + 1;
	}
	return v;
}

json_t *querytest_parse_lines(const struct qrun *r)
{
	json_t *lines = querytest_lines(r), *v = json_array(), *line;
	size_t i;

	json_array_foreach(lines, i, line) {
		json_error_t err;
		json_t *e = json_loadb(json_string_value(line), json_string_length(line),
				       JSON_ALLOW_NUL, &err);
		if (!e)
			fail_msg("output line %zu is not JSON (%s): %s", i, err.text,
				 json_string_value(line));
		json_array_append_new(v, e);
	}
	json_decref(lines);
	return v;
}

pid_t querytest_spawn(const char *const *args, int *out_fd)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = harness_fork();
	if (pid == 0) {
		dup2(p[1], 1);
		exec_query(args);
	}
	close(p[1]);
	*out_fd = p[0];
	return pid;
}

void querytest_read_lines(int fd, json_t *lines, size_t want)
{
	static char buf[1 << 20];
	static size_t held;
	static int last_fd = -1;
	struct timespec start, now;

	if (fd != last_fd)
		held = 0;   /* what an earlier follower left is not this one's */
	last_fd = fd;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (json_array_size(lines) < want) {
		char *nl;
		while ((nl = memchr(buf, '\n', held))) {
			json_error_t err;
			json_t *e = json_loadb(buf, (size_t)(nl - buf), JSON_ALLOW_NUL, &err);
			if (!e)
				fail_msg("followed line is not JSON (%s): %.*s", err.text,
					 (int)(nl - buf), buf);
			json_array_append_new(lines, e);
			held -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, held);
		}
		if (json_array_size(lines) >= want)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 30)
			fail_msg("logbus-query -f printed %zu lines in 30 s, expected %zu",
				 json_array_size(lines), want);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 1000) <= 0)
			continue;
		ssize_t n = read(fd, buf + held, sizeof(buf) - held);
		if (n <= 0)
			fail_msg("logbus-query -f closed its output after %zu lines, expected %zu",
				 json_array_size(lines), want);
		held += (size_t)n;
	}
}

void querytest_same_entries(json_t *got, json_t *want, const char *what)
{
	size_t n = json_array_size(got) < json_array_size(want) ? json_array_size(got)
								: json_array_size(want);

	for (size_t i = 0; i < n; i++) {
		if (json_equal(json_array_get(got, i), json_array_get(want, i)))
			continue;
		char *a = json_dumps(json_array_get(got, i), JSON_ENCODE_ANY | JSON_COMPACT);
		char *b = json_dumps(json_array_get(want, i), JSON_ENCODE_ANY | JSON_COMPACT);
		fail_msg("%s: entry %zu differs:\n got  %s\n want %s", what, i, a, b);
	}
	if (json_array_size(got) != json_array_size(want))
		fail_msg("%s: %zu entries, expected %zu", what, json_array_size(got),
			 json_array_size(want));
}

void querytest_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected '%s' in:\n%s", needle, haystack);
}
