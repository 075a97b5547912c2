/* SPDX-License-Identifier: MIT */
/* Description: the per-entry sink writes each entry whose tag matches the
 * rule's glob and whose level is in its range as its own JSON document,
 * <tag>_<YYYYMMDD>_<HHMMSS>_<usec>.json (.json.zst), holding the keys of a
 * JSON line; names never collide, and a tag never names a path outside
 * the directory. */
#include <dirent.h>
#include <regex.h>
#include <setjmp.h>
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

struct entry_dir {
	struct harness h;
	char dir[300];
	logbus_t *lb;
};

/* A writer with the file sink and one entry rule (rule: the JSON object
 * less its dir). */
static void start(struct entry_dir *t, const char *name, const char *rule)
{
	harness_init(&t->h, name);
	snprintf(t->dir, sizeof(t->dir), "%s/entries", t->h.dir);
	outfiles_start(&t->h, outfiles_config(&t->h, "{\"entry_files\":[{\"dir\":\"%s\",%s}]}",
					      t->dir, rule), NULL);
	t->lb = logbus_open(t->h.bus);
	assert_non_null(t->lb);
}

static void stop(struct entry_dir *t)
{
	assert_int_equal(logbus_flush(t->lb, 5000), 0);
	harness_stop_writer(&t->h);
}

static void finish(struct entry_dir *t)
{
	logbus_close(t->lb);
	harness_fini(&t->h);
}

/* The one document of the directory whose name starts with stem. */
static json_t *document(const struct entry_dir *t, const char *stem, bool zst)
{
	DIR *d = opendir(t->dir);
	struct dirent *de;
	json_t *doc = NULL;
	char path[700];

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, stem, strlen(stem)) != 0)
			continue;
		assert_null(doc);
		snprintf(path, sizeof(path), "%s/%s", t->dir, de->d_name);
		if (zst) {
			size_t len;
			char *data = outfiles_decompress(path, &len);
			assert_true(outfiles_zstd_ok(path));
			doc = json_loadb(data, len, 0, NULL);
			free(data);
		} else {
			doc = json_load_file(path, 0, NULL);
		}
		assert_non_null(doc);
	}
	closedir(d);
	assert_non_null(doc);
	return doc;
}

/* Matching tags and levels only; names shaped <tag>_YYYYMMDD_HHMMSS_USEC. */
static void test_rule_matches(void **state)
{
	struct logbus_field f = { .key = "agent", .value = "a1", .len = 2 };
	struct entry_dir t;
	regex_t re;
	json_t *doc;

	(void)state;
	start(&t, "entry", "\"tag\":\"response*\",\"level_min\":\"err\",\"level_max\":\"info\"");
	assert_int_equal(logbus_publishv(t.lb, LOGBUS_INFO, "response-a", "answer one", 10, &f, 1),
			 0);
	assert_int_equal(logbus_publishf(t.lb, LOGBUS_INFO, "request", "not matched"), 0);
	assert_int_equal(logbus_publishf(t.lb, LOGBUS_DEBUG, "response-b", "too verbose"), 0);
	assert_int_equal(logbus_publishf(t.lb, LOGBUS_ALERT, "response-c", "too severe"), 0);
	assert_int_equal(logbus_publishf(t.lb, LOGBUS_ERR, "responses", "second"), 0);
	stop(&t);
	assert_int_equal(outfiles_count(t.dir, ".json"), 2);
	doc = document(&t, "response-a_", false);
	assert_string_equal(json_string_value(json_object_get(doc, "msg")), "answer one");
	assert_string_equal(json_string_value(json_object_get(doc, "tag")), "response-a");
	assert_string_equal(json_string_value(json_object_get(doc, "level")), "info");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(doc, "fields"), "agent")), "a1");
	assert_true(json_is_integer(json_object_get(doc, "lane_seq")));
	assert_true(json_is_string(json_object_get(doc, "ts")));
	json_decref(doc);
	assert_int_equal(regcomp(&re, "^responses_[0-9]{8}_[0-9]{6}_[0-9]{6}\\.json$",
				 REG_EXTENDED | REG_NOSUB), 0);
	DIR *d = opendir(t.dir);
	struct dirent *de;
	int named = 0;
	while ((de = readdir(d)))
		named += regexec(&re, de->d_name, 0, NULL, 0) == 0;
	closedir(d);
	regfree(&re);
	assert_int_equal(named, 1);
	/* The file sink got all five. */
	json_t *all = outfiles_entries(t.h.dir);
	assert_int_equal(json_array_size(all), 5);
	json_decref(all);
	finish(&t);
}

/* 300 entries published at once: 300 files, none overwritten. */
static void test_no_collision(void **state)
{
	struct entry_dir t;

	(void)state;
	start(&t, "entryn", "\"tag\":\"r\"");
	for (int i = 0; i < 300; i++)
		assert_int_equal(logbus_publishf(t.lb, LOGBUS_INFO, "r", "%d", i), 0);
	stop(&t);
	assert_int_equal(outfiles_count(t.dir, ".json"), 300);
	finish(&t);
}

/* .json.zst documents decompress with zstd -d. */
static void test_zstd(void **state)
{
	struct entry_dir t;
	json_t *doc;

	(void)state;
	start(&t, "entryz", "\"tag\":\"resp*\",\"compress\":\"zstd\"");
	assert_int_equal(logbus_publishf(t.lb, LOGBUS_NOTICE, "resp", "compressed"), 0);
	stop(&t);
	assert_int_equal(outfiles_count(t.dir, ".json.zst"), 1);
	doc = document(&t, "resp_", true);
	assert_string_equal(json_string_value(json_object_get(doc, "msg")), "compressed");
	json_decref(doc);
	finish(&t);
}

/* A tag with '/' and a leading '.' stays inside the directory. */
static void test_tag_is_no_path(void **state)
{
	struct entry_dir t;
	json_t *doc;

	(void)state;
	start(&t, "entryp", "\"tag\":\"*\"");
	assert_int_equal(logbus_publishf(t.lb, LOGBUS_INFO, "../x/y", "escape"), 0);
	stop(&t);
	doc = document(&t, "_._x_y_", false);
	assert_string_equal(json_string_value(json_object_get(doc, "tag")), "../x/y");
	json_decref(doc);
	assert_int_equal(outfiles_count(t.h.dir, "y.json"), 0);
	finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_matches),
		cmocka_unit_test(test_no_collision),
		cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_tag_is_no_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
