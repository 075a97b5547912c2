/* SPDX-License-Identifier: MIT */
/* Description: the zstd file sink writes .jsonl.zst files that `zstd -d`
 * decompresses, across rotations; a writer SIGKILLed mid-stream leaves
 * files readable up to the kill, and its restart leaves every file
 * decompressing with every entry exactly once. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "logbus.h"
#include "outfiles.h"

/* rotate_size: small enough that the test's entries take several files
 * however well they compress (larger batches compress better). */
static const char *zstd_config(struct harness *h, const char *name, const char *rotate_size)
{
	harness_init(h, name);
	return outfiles_config(h, "{\"file\":{\"compress\":\"zstd\",\"zstd_level\":5,"
				  "\"rotate_size\":\"%s\"}}", rotate_size);
}

/* Several batches and rotations: every file decompresses, every entry is
 * there once, in order. */
static void test_files_decompress(void **state)
{
	struct harness h;
	logbus_t *lb;
	json_t *all;

	(void)state;
	/* 3000 lines of ~150 bytes: even at 100:1, 4500 bytes, two files. */
	outfiles_start(&h, zstd_config(&h, "zstd", "2K"), NULL);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "z", "entry number %d", i), 0);
		if (i % 100 == 99)
			assert_int_equal(logbus_flush(lb, 5000), 0);
	}
	assert_int_equal(logbus_flush(lb, 5000), 0);
	harness_stop_writer(&h);
	assert_in_range(outfiles_count(h.dir, ".jsonl.zst"), 2, 3000);
	all = outfiles_entries(h.dir);
	assert_int_equal(json_array_size(all), 3000);
	for (int i = 0; i < 3000; i += 997)
		assert_int_equal(atoi(outfiles_msg(all, i) + strlen("entry number ")), i);
	json_decref(all);
	logbus_close(lb);
	harness_fini(&h);
}

/* Each file, as a crash left it: whole JSON lines up to the kill. */
static void check_readable(const char *dir)
{
	char cmd[700], name[300];
	FILE *ls;

	snprintf(cmd, sizeof(cmd), "ls %s", dir);
	ls = popen(cmd, "re");
	assert_non_null(ls);
	while (fgets(name, sizeof(name), ls)) {
		char path[700];
		size_t len;
		json_t *lines = json_array();

		name[strcspn(name, "\n")] = '\0';
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		char *data = outfiles_decompress(path, &len);
		outfiles_add_lines(lines, path, data, len, true);
		free(data);
		json_decref(lines);
	}
	pclose(ls);
}

/* SIGKILL under load, then a restart: readable before, whole after. */
static void test_kill_mid_batch(void **state)
{
	struct outfiles_producer p;
	struct harness h;
	const char *config;
	json_t *all;

	(void)state;
	config = zstd_config(&h, "zkill", "20K");
	outfiles_start(&h, config, NULL);
	outfiles_producer_start(&p, h.bus, "load", 0);
	harness_sleep_us(300 * 1000);
	harness_kill_writer(&h);
	check_readable(h.dir);
	outfiles_start(&h, config, NULL);
	harness_sleep_us(100 * 1000);
	uint64_t n = outfiles_producer_stop(&p);
	harness_stop_writer(&h);
	all = outfiles_entries(h.dir);
	outfiles_add_fallback(all, &p);
	unlink(p.fallback);
	outfiles_check_once(all, "load", n);
	json_decref(all);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_decompress),
		cmocka_unit_test(test_kill_mid_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
