/* SPDX-License-Identifier: MIT */
/* Description: logbus-query -f shows the last entries, then every entry
 * published after it started, in order, once, across rotations (plain and
 * zstd), until SIGINT, and exits 0. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "logbus.h"
#include "outfiles.h"
#include "querytest.h"

static void publish(logbus_t *lb, int from, int to)
{
	for (int i = from; i < to; i++) {
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "follow", "entry %d of the "
						 "follow test, long enough to rotate soon", i), 0);
		if (i % 10 == 9)
			assert_int_equal(logbus_flush(lb, 10000), 0);
	}
	assert_int_equal(logbus_flush(lb, 10000), 0);
}

static void follow(const char *name, bool zstd)
{
	const char *suffix = zstd ? ".jsonl.zst" : ".jsonl";
	json_t *got = json_array(), *all, *want = json_array();
	struct harness h;
	logbus_t *lb;
	int fd;

	harness_init(&h, name);
	/* zstd makes a batch of 10 entries a frame of a few hundred bytes. */
	outfiles_start(&h, outfiles_config(&h, "{\"file\":{\"compress\":\"%s\","
					   "\"rotate_size\":\"%s\",\"keep_files\":0}}",
					   zstd ? "zstd" : "none", zstd ? "600" : "2K"), NULL);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	publish(lb, 0, 5);
	size_t files_before = outfiles_count(h.dir, suffix);

	pid_t pid = querytest_spawn((const char *[]){ "-f", "-n", "3", "-o", "json", "--dir",
						      h.dir, NULL }, &fd);
	querytest_read_lines(fd, got, 3);   /* the last 3: it has started */
	publish(lb, 5, 205);
	querytest_read_lines(fd, got, 203);
	assert_true(outfiles_count(h.dir, suffix) >= files_before + 3);

	assert_int_equal(kill(pid, SIGINT), 0);
	harness_wait_exit(pid, 0);
	close(fd);
	harness_stop_writer(&h);
	all = outfiles_entries(h.dir);
	assert_int_equal(json_array_size(all), 205);
	for (size_t i = 2; i < 205; i++)
		json_array_append(want, json_array_get(all, i));
	querytest_same_entries(got, want, "-f");
	json_decref(want);
	json_decref(all);
	json_decref(got);
	logbus_close(lb);
	harness_fini(&h);
}

static void test_follow_plain(void **state)
{
	(void)state;
	follow("qfollow", false);
}

static void test_follow_zstd(void **state)
{
	(void)state;
	follow("qzfollow", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follow_plain),
		cmocka_unit_test(test_follow_zstd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
