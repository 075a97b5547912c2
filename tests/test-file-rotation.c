/* SPDX-License-Identifier: MIT */
/* Description: the file sink rotates by size (100 rotations within a
 * second give 100 distinct files) and by age, removes the oldest files beyond
 * keep_files and keep_size (never a planted symlink nor another bus's
 * files), creates files 0640, and starts a new file on SIGHUP after
 * logrotate moved the current one away. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "logbus.h"
#include "outfiles.h"

/* Publish count entries "n <i>", flushing each, so each is a batch. */
static void publish_batches(logbus_t *lb, int count, int first)
{
	for (int i = first; i < first + count; i++) {
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "rot", "n %d", i), 0);
		assert_int_equal(logbus_flush(lb, 5000), 0);
	}
}

/* Start a writer whose every batch starts a new file. */
static logbus_t *start(struct harness *h, const char *name, const char *keep)
{
	logbus_t *lb;

	harness_init(h, name);
	outfiles_start(h, outfiles_config(h, "{\"file\":{\"rotate_size\":1%s}}", keep), NULL);
	lb = logbus_open(h->bus);
	assert_non_null(lb);
	return lb;
}

/* 100 batches, each rotating: 100 files, each holding its own entry. */
static void test_hundred_rotations(void **state)
{
	struct harness h;
	logbus_t *lb = start(&h, "rot100", "");
	json_t *all;

	(void)state;
	publish_batches(lb, 100, 0);
	harness_stop_writer(&h);
	assert_int_equal(outfiles_count(h.dir, ".jsonl"), 100);
	all = outfiles_entries(h.dir);
	assert_int_equal(json_array_size(all), 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(atoi(outfiles_msg(all, i) + 2), i);
	json_decref(all);
	logbus_close(lb);
	harness_fini(&h);
}

/* rotate_age 1 s: a batch after the file turned a second old starts a
 * new file; a batch before does not. */
static void test_rotate_age(void **state)
{
	struct harness h;
	logbus_t *lb;

	(void)state;
	harness_init(&h, "age");
	outfiles_start(&h, outfiles_config(&h, "{\"file\":{\"rotate_age\":\"1s\"}}"), NULL);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	publish_batches(lb, 2, 0);
	harness_sleep_us(1100 * 1000);
	publish_batches(lb, 1, 2);
	harness_stop_writer(&h);
	assert_int_equal(outfiles_count(h.dir, ".jsonl"), 2);
	logbus_close(lb);
	harness_fini(&h);
}

/* keep_files 10: the 10 newest files stay; a symlink and another bus's
 * file that look like old files stay too. */
static void test_retention_count(void **state)
{
	struct harness h;
	logbus_t *lb = start(&h, "keep", ",\"keep_files\":10");
	char path[600], other[600], target[600];
	struct stat st;
	json_t *all;
	FILE *f;

	(void)state;
	snprintf(target, sizeof(target), "%s.target", h.dir);
	f = fopen(target, "we");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s_20000101_000000_000000.jsonl", h.dir, h.bus);
	assert_int_equal(symlink(target, path), 0);
	snprintf(other, sizeof(other), "%s/x%s_20000101_000000_000000.jsonl", h.dir, h.bus);
	f = fopen(other, "we");
	assert_non_null(f);
	fclose(f);

	publish_batches(lb, 30, 0);
	harness_stop_writer(&h);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(unlink(other), 0);
	assert_int_equal(outfiles_count(h.dir, ".jsonl"), 10);
	all = outfiles_entries(h.dir);
	assert_int_equal(json_array_size(all), 10);
	assert_string_equal(outfiles_msg(all, 0), "n 20");
	json_decref(all);
	unlink(target);
	logbus_close(lb);
	harness_fini(&h);
}

/* keep_size: the files but the newest stay within the bound (retention
 * runs when a file is started), the newest files kept. */
static void test_retention_bytes(void **state)
{
	struct harness h;
	logbus_t *lb = start(&h, "keepb", ",\"keep_size\":1000");
	char cmd[700];
	json_t *all;
	size_t n;

	(void)state;
	publish_batches(lb, 40, 0);
	harness_stop_writer(&h);
	snprintf(cmd, sizeof(cmd), "test $(ls -t %s/*.jsonl | tail -n +2 | xargs cat | wc -c) "
		 "-le 1000", h.dir);
	assert_int_equal(system(cmd), 0);
	all = outfiles_entries(h.dir);
	n = json_array_size(all);
	assert_in_range(n, 4, 20);
	assert_int_equal(outfiles_count(h.dir, ".jsonl"), n);
	assert_string_equal(outfiles_msg(all, n - 1), "n 39");
	json_decref(all);
	logbus_close(lb);
	harness_fini(&h);
}

/* Files are created 0640 whatever the umask. */
static void test_mode(void **state)
{
	mode_t old = umask(0077);
	struct harness h;
	logbus_t *lb = start(&h, "mode", "");
	char cmd[700];
	json_t *all;

	(void)state;
	umask(old);
	publish_batches(lb, 1, 0);
	harness_stop_writer(&h);
	all = outfiles_entries(h.dir);
	assert_int_equal(json_array_size(all), 1);
	json_decref(all);
	snprintf(cmd, sizeof(cmd), "test \"$(stat -c %%a %s/*.jsonl)\" = 640", h.dir);
	assert_int_equal(system(cmd), 0);
	logbus_close(lb);
	harness_fini(&h);
}

/* logrotate moves the file away (create + postrotate HUP): the entries
 * after the HUP go to a new file, none lost. */
static void test_hup_reopens(void **state)
{
	struct harness h;
	const char *config;
	char cmd[1200];
	logbus_t *lb;
	json_t *all;

	(void)state;
	harness_init(&h, "hup");
	config = outfiles_config(&h, "{}");
	outfiles_start(&h, config, NULL);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	publish_batches(lb, 5, 0);
	snprintf(cmd, sizeof(cmd), "cd %s && for f in *.jsonl; do mv $f $f.1 && touch $f; done",
		 h.dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(kill(h.writer, SIGHUP), 0);
	publish_batches(lb, 5, 5);
	harness_stop_writer(&h);
	snprintf(cmd, sizeof(cmd), "cat %s/*.jsonl.1 | wc -l | grep -qx 5", h.dir);
	assert_int_equal(system(cmd), 0);
	all = outfiles_entries(h.dir);
	assert_int_equal(json_array_size(all), 5);
	json_decref(all);
	logbus_close(lb);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hundred_rotations),
		cmocka_unit_test(test_rotate_age),
		cmocka_unit_test(test_retention_count),
		cmocka_unit_test(test_retention_bytes),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_hup_reopens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
