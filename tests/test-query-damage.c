/* SPDX-License-Identifier: MIT */
/* Description: logbus-query on files as crashes and damage leave them: a
 * writer SIGKILLed under load (plain and zstd), a last line without its
 * newline, a last line or zstd frame cut short, a damaged line and a
 * damaged frame in the middle (reported with file and line, skipped, the
 * rest read, forward and from the end), a fallback file merged by time,
 * and the exit status and one-line error of each kind of bad input. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus.h"
#include "logbus.h"
#include "outfiles.h"
#include "querytest.h"

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The writer files of dir, sorted (names sort by time). */
static size_t writer_files(const char *dir, char paths[][600], size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[4096];
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) && n < 4096)
		if (de->d_name[0] != '.' && strstr(de->d_name, ".jsonl"))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	assert_true(n <= max);
	for (size_t i = 0; i < n; i++) {
		snprintf(paths[i], 600, "%s/%s", dir, names[i]);
		free(names[i]);
	}
	return n;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	char *data;

	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	data = malloc((size_t)st.st_size + 1);
	assert_non_null(data);
	*len = fread(data, 1, (size_t)st.st_size, f);
	data[*len] = '\0';
	fclose(f);
	return data;
}

/* Every whole line of every file of dir as a crash left it, in order. */
static json_t *as_left(const char *dir)
{
	static char paths[4096][600];
	json_t *v = json_array();
	size_t n = writer_files(dir, paths, 4096), len;

	for (size_t i = 0; i < n; i++) {
		char *data = strstr(paths[i], ".zst") ? outfiles_decompress(paths[i], &len)
						      : slurp(paths[i], &len);
		outfiles_add_lines(v, paths[i], data, len, true);
		free(data);
	}
	return v;
}

static json_t *query_json(struct qrun *r, const char *const *args)
{
	querytest_runv(r, args, NULL);
	if (r->status != 0)
		fail_msg("exit %d, stderr: %s", r->status, r->err);
	return querytest_parse_lines(r);
}

static json_t *tail(json_t *v, size_t n)
{
	json_t *out = json_array();
	size_t len = json_array_size(v);

	for (size_t i = len > n ? len - n : 0; i < len; i++)
		json_array_append(out, json_array_get(v, i));
	return out;
}

/* SIGKILL under load: the files read as they were left; after a restart,
 * every entry once (with the producer's fallback file). */
static void killed_writer(const char *name, bool zstd)
{
	struct outfiles_producer p;
	struct harness h;
	struct qrun r;
	const char *config;

	harness_init(&h, name);
	config = outfiles_config(&h, "{\"file\":{\"compress\":\"%s\",\"rotate_size\":\"16K\","
				  "\"keep_files\":0}}",
				 zstd ? "zstd" : "none");
	outfiles_start(&h, config, NULL);
	outfiles_producer_start(&p, h.bus, "load", 200);   /* about 40k entries/s */
	harness_sleep_us(300 * 1000);
	harness_kill_writer(&h);

	json_t *want = as_left(h.dir);
	assert_true(json_array_size(want) > 0);
	json_t *got = query_json(&r, (const char *[]){ "--dir", h.dir, "-o", "json", NULL });
	querytest_same_entries(got, want, "after SIGKILL");
	json_decref(got);
	querytest_free(&r);
	got = query_json(&r, (const char *[]){ "--dir", h.dir, "-o", "json", "-n", "25", NULL });
	json_t *last = tail(want, 25);
	querytest_same_entries(got, last, "-n 25 after SIGKILL");
	json_decref(last);
	json_decref(got);
	json_decref(want);
	querytest_free(&r);

	outfiles_start(&h, config, NULL);
	harness_sleep_us(100 * 1000);
	uint64_t n = outfiles_producer_stop(&p);
	harness_stop_writer(&h);
	got = query_json(&r, (const char *[]){ "--dir", h.dir, "-o", "json", p.fallback, NULL });
	outfiles_check_once(got, "load", n);
	json_decref(got);
	querytest_free(&r);
	unlink(p.fallback);
	harness_fini(&h);
}

static void test_killed_plain(void **state)
{
	(void)state;
	killed_writer("qkill", false);
}

static void test_killed_zstd(void **state)
{
	(void)state;
	killed_writer("qzkill", true);
}

/* 100 entries "entry <i>" into one file, written in batches of 10. */
static void one_file(struct harness *h, const char *name, bool zstd, char *path)
{
	char paths[4][600];
	logbus_t *lb;

	harness_init(h, name);
	outfiles_start(h, outfiles_config(h, "{\"file\":{\"compress\":\"%s\"}}",
					   zstd ? "zstd" : "none"), NULL);
	lb = logbus_open(h->bus);
	assert_non_null(lb);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "cut", "entry %d", i), 0);
		if (i % 10 == 9)
			assert_int_equal(logbus_flush(lb, 10000), 0);
	}
	logbus_close(lb);
	harness_stop_writer(h);
	assert_int_equal(writer_files(h->dir, paths, 4), 1);
	strcpy(path, paths[0]);
}

static void cut_to(const char *path, off_t size)
{
	assert_int_equal(truncate(path, size), 0);
}

static void expect_msgs(json_t *got, int from, int to, const char *what)
{
	if (json_array_size(got) != (size_t)(to - from))
		fail_msg("%s: %zu entries, expected %d", what, json_array_size(got), to - from);
	for (int i = from; i < to; i++) {
		char want[32];
		snprintf(want, sizeof(want), "entry %d", i);
		if (strcmp(outfiles_msg(got, (size_t)(i - from)), want))
			fail_msg("%s: entry %d is '%s', expected '%s'", what, i - from,
				 outfiles_msg(got, (size_t)(i - from)), want);
	}
}

/* A last line without its newline is read; one cut short is reported
 * with its file and line (forward) or byte (backward) and skipped. */
static void test_cut_line(void **state)
{
	struct harness h;
	char path[600], where[700];
	struct qrun r;
	size_t len;
	json_t *got;

	(void)state;
	one_file(&h, "qcutline", false, path);
	char *data = slurp(path, &len);
	cut_to(path, (off_t)len - 1);
	got = query_json(&r, (const char *[]){ "--dir", h.dir, "-o", "json", NULL });
	expect_msgs(got, 0, 100, "no last newline");
	assert_string_equal(r.err, "");
	json_decref(got);
	querytest_free(&r);

	cut_to(path, (off_t)len - 10);
	got = query_json(&r, (const char *[]){ "--dir", h.dir, "-o", "json", NULL });
	expect_msgs(got, 0, 99, "last line cut");
	snprintf(where, sizeof(where), "logbus-query: %s:100: damaged line skipped: the last line, "
		 "without its newline", path);
	querytest_contains(r.err, where);
	json_decref(got);
	querytest_free(&r);

	got = query_json(&r, (const char *[]){ "--dir", h.dir, "-o", "json", "-n", "3", NULL });
	expect_msgs(got, 96, 99, "-n 3, last line cut");
	const char *last_line = data;
	for (int i = 0; i < 99; i++)
		last_line = strchr(last_line, '\n') + 1;
	snprintf(where, sizeof(where), "logbus-query: %s: byte %zu: damaged line skipped", path,
		 (size_t)(last_line - data));
	querytest_contains(r.err, where);
	json_decref(got);
	querytest_free(&r);
	free(data);
	harness_fini(&h);
}

/* A damaged line in the middle: reported with its line, the rest read. */
static void test_damaged_line(void **state)
{
	struct harness h;
	char path[600], where[700];
	struct qrun r;
	size_t len;

	(void)state;
	one_file(&h, "qbadline", false, path);
	char *data = slurp(path, &len);
	char *line50 = data;
	for (int i = 0; i < 49; i++)
		line50 = strchr(line50, '\n') + 1;
	memcpy(line50, "{\"ts\":", 6);   /* the line's start is no longer JSON */
	line50[6] = '}';
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	querytest_run(&r, "-o", "cat", "--dir", h.dir, NULL);
	assert_int_equal(r.status, 0);
	json_t *lines = querytest_lines(&r);
	assert_int_equal(json_array_size(lines), 99);
	assert_string_equal(json_string_value(json_array_get(lines, 48)), "entry 48");
	assert_string_equal(json_string_value(json_array_get(lines, 49)), "entry 50");
	snprintf(where, sizeof(where), "logbus-query: %s:50: damaged line skipped", path);
	querytest_contains(r.err, where);
	json_decref(lines);
	querytest_free(&r);
	free(data);
	harness_fini(&h);
}

/* A last zstd frame cut short: what it held is kept, and said. */
static void test_cut_frame(void **state)
{
	struct harness h;
	char path[600];
	struct qrun r;
	size_t len, zlen;

	(void)state;
	one_file(&h, "qcutframe", true, path);
	free(slurp(path, &zlen));
	cut_to(path, (off_t)zlen - 7);
	char *data = outfiles_decompress(path, &len);
	json_t *want = json_array();
	outfiles_add_lines(want, path, data, len, true);
	free(data);
	assert_in_range(json_array_size(want), 80, 99);

	json_t *got = query_json(&r, (const char *[]){ "--dir", h.dir, "-o", "json", NULL });
	querytest_same_entries(got, want, "cut frame");
	querytest_contains(r.err, "the last zstd frame is cut short");
	json_decref(got);
	querytest_free(&r);

	got = query_json(&r, (const char *[]){ "--dir", h.dir, "-o", "json", "-n", "5", NULL });
	json_t *last = tail(want, 5);
	querytest_same_entries(got, last, "-n 5, cut frame");
	querytest_contains(r.err, "the last zstd frame is cut short");
	json_decref(last);
	json_decref(got);
	json_decref(want);
	querytest_free(&r);
	harness_fini(&h);
}

/* got holds entries of "entry <i>" in increasing i, the first and the
 * last among them. */
static void check_subsequence(json_t *got, const char *what)
{
	int prev = -1;

	assert_true(json_array_size(got) >= 2);
	for (size_t i = 0; i < json_array_size(got); i++) {
		int n = atoi(outfiles_msg(got, i) + strlen("entry "));
		if (n <= prev)
			fail_msg("%s: entry %d after entry %d", what, n, prev);
		prev = n;
	}
	assert_string_equal(outfiles_msg(got, 0), "entry 0");
	assert_string_equal(outfiles_msg(got, json_array_size(got) - 1), "entry 99");
}

/* A damaged frame in the middle: reported, skipped, the rest read. */
static void test_damaged_frame(void **state)
{
	struct harness h;
	char path[600];
	struct qrun r;
	size_t zlen;

	(void)state;
	one_file(&h, "qbadframe", true, path);
	char *z = slurp(path, &zlen);
	memset(z + zlen / 2, 0xaa, 16);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(z, 1, zlen, f), zlen);
	assert_int_equal(fclose(f), 0);
	free(z);

	json_t *got = query_json(&r, (const char *[]){ "--dir", h.dir, "-o", "json", NULL });
	check_subsequence(got, "damaged frame");
	assert_true(json_array_size(got) < 100);
	querytest_contains(r.err, path);
	querytest_contains(r.err, "damaged zstd frame");
	json_decref(got);
	querytest_free(&r);

	got = query_json(&r, (const char *[]){ "--dir", h.dir, "-o", "json", "-r", NULL });
	json_t *fwd = json_array();
	for (size_t i = json_array_size(got); i-- > 0;)
		json_array_append(fwd, json_array_get(got, i));
	check_subsequence(fwd, "damaged frame, -r");
	querytest_contains(r.err, "damaged zstd frame");
	json_decref(fwd);
	json_decref(got);
	querytest_free(&r);
	harness_fini(&h);
}

static logbus_t *open_with_fallback(const char *bus, const char *fallback)
{
	setenv("LOGBUS_FALLBACK", fallback, 1);
	logbus_t *lb = logbus_open(bus);
	unsetenv("LOGBUS_FALLBACK");
	assert_non_null(lb);
	return lb;
}

/* Entries of a fallback file (before the bus existed and after it was
 * gone) merged by time with the bus's. */
static void test_fallback(void **state)
{
	struct harness h;
	char fallback[400];
	struct qrun r;
	logbus_t *lb;

	(void)state;
	harness_init(&h, "qfallback");
	snprintf(fallback, sizeof(fallback), "%s.fallback.jsonl", h.dir);
	unlink(fallback);
	lb = open_with_fallback(h.bus, fallback);
	for (int i = 0; i < 5; i++)
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "fb", "entry %d", i), 0);
	logbus_close(lb);
	outfiles_start(&h, NULL, NULL);
	lb = logbus_open(h.bus);
	for (int i = 5; i < 10; i++)
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "bus", "entry %d", i), 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	logbus_close(lb);
	harness_stop_writer(&h);
	assert_int_equal(lb_bus_unlink(h.bus), 0);
	lb = open_with_fallback(h.bus, fallback);
	for (int i = 10; i < 15; i++)
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "fb", "entry %d", i), 0);
	logbus_close(lb);

	json_t *got = query_json(&r, (const char *[]){ "--dir", h.dir, "-o", "json", fallback,
						       NULL });
	expect_msgs(got, 0, 15, "bus and fallback");
	assert_string_equal(r.err, "");
	json_decref(got);
	querytest_free(&r);
	got = query_json(&r, (const char *[]){ "--dir", h.dir, "-o", "json", "-n", "7", fallback,
					       NULL });
	expect_msgs(got, 8, 15, "bus and fallback, -n 7");
	json_decref(got);
	querytest_free(&r);
	unlink(fallback);
	harness_fini(&h);
}

/* One line on stderr holding what, and the exit status. */
static void expect_error(int status, const char *what, const char *const *args)
{
	struct qrun r;

	querytest_runv(&r, args, NULL);
	if (r.status != status)
		fail_msg("%s: exit %d, expected %d; stderr: %s", args[0], r.status, status, r.err);
	querytest_contains(r.err, what);
	if (strchr(r.err, '\n') != r.err + strlen(r.err) - 1)
		fail_msg("%s: not one line: %s", args[0], r.err);
	querytest_free(&r);
}

static void test_errors(void **state)
{
	struct harness h;
	char missing[400], empty_dir[400];
	struct qrun r;

	(void)state;
	one_file(&h, "qerrors", false, missing);
	snprintf(missing, sizeof(missing), "%s/none.jsonl", h.dir);
	snprintf(empty_dir, sizeof(empty_dir), "%s/empty", h.dir);
	assert_int_equal(mkdir(empty_dir, 0700), 0);

	expect_error(1, "no-such-dir: No such file or directory",
		     (const char *[]){ "--dir", "no-such-dir", NULL });
	expect_error(1, "none.jsonl: No such file or directory", (const char *[]){ missing, NULL });
	expect_error(1, "empty: no log files", (const char *[]){ "--dir", empty_dir, NULL });
	expect_error(2, "-p 'loud': not a level", (const char *[]){ "-p", "loud", NULL });
	expect_error(2, "-p 'err..loud': not a range", (const char *[]){ "-p", "err..loud", NULL });
	expect_error(2, "--since 'soon': not a time", (const char *[]){ "--since", "soon", NULL });
	expect_error(2, "--until '2026-13-01T00:00:00Z': not a time",
		     (const char *[]){ "--until", "2026-13-01T00:00:00Z", NULL });
	expect_error(2, "--since '5 parsecs ago': not a time",
		     (const char *[]){ "--since", "5 parsecs ago", NULL });
	expect_error(2, "-o 'xml': not an output mode", (const char *[]){ "-o", "xml", NULL });
	expect_error(2, "-n '-1': not a count", (const char *[]){ "-n", "-1", NULL });
	expect_error(2, "-g '(': not a regular expression", (const char *[]){ "-g", "(", NULL });
	expect_error(2, "--pid 'x': not a process id", (const char *[]){ "--pid", "x", NULL });
	expect_error(2, "--bus 'a/b': not a bus name", (const char *[]){ "--bus", "a/b", NULL });
	expect_error(2, "-f and -r do not go together", (const char *[]){ "-f", "-r", NULL });
	expect_error(2, "x.json: ", (const char *[]){ "--config", "x.json", NULL });

	/* A missing file beside a readable directory: said, the rest read. */
	querytest_run(&r, "--dir", h.dir, missing, "-o", "cat", NULL);
	assert_int_equal(r.status, 0);
	querytest_contains(r.err, "none.jsonl: No such file or directory");
	querytest_contains(r.out, "entry 99\n");
	querytest_free(&r);

	querytest_run(&r, "--help", NULL);
	assert_int_equal(r.status, 0);
	querytest_contains(r.out, "Usage: logbus-query");
	querytest_free(&r);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_killed_plain),
		cmocka_unit_test(test_killed_zstd),
		cmocka_unit_test(test_cut_line),
		cmocka_unit_test(test_damaged_line),
		cmocka_unit_test(test_cut_frame),
		cmocka_unit_test(test_damaged_frame),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
