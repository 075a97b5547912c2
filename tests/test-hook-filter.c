/* SPDX-License-Identifier: MIT */
/* Description: filter hooks drop and rewrite entries before the file sink
 * writes them; the shipped redact.so removes secrets. */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hooktest.h"
#include "logbus.h"

static const char *field(json_t *e, const char *key)
{
	return json_string_value(json_object_get(json_object_get(e, "fields"), key));
}

static const char *msg(json_t *e)
{
	return json_string_value(json_object_get(e, "msg"));
}

/* Publish "keep-me", "drop-me", "rewrite-me" (with fields), "fail-me"
 * through a writer with hooks; return its entries, the writer stopped. */
static json_t *run(struct hooktest *t, const char *hooks)
{
	struct logbus_field f[] = {
		{ "secret", "s3", 2 }, { "user", "bob", 3 }, { "other", "x", 1 },
	};
	logbus_t *lb;

	hooktest_start(t, hooks);
	lb = logbus_open(t->h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "app", "keep-me", 7), 0);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "app", "drop-me", 7), 0);
	assert_int_equal(logbus_publishv(lb, LOGBUS_INFO, "app", "rewrite-me", 10, f, 3), 0);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "app", "fail-me", 7), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	harness_stop_writer(&t->h);
	logbus_close(lb);
	return harness_entries(&t->h);
}

static void filter_hooks(char *buf, size_t cap, const char *match)
{
	char so[512];

	snprintf(buf, cap, "[ { \"name\": \"f\", \"type\": \"filter\", \"plugin\": \"%s\" %s } ]",
		 hooktest_path(so, sizeof(so), "filter.so"), match);
}

/* "drop-me" is not in the file; "rewrite-me" is there rewritten, with its
 * fields edited; an entry the filter failed on is kept; seq stays
 * consecutive. */
static void test_drop_and_rewrite(void **state)
{
	struct hooktest t;
	char hooks[1024];
	json_t *all, *e;

	(void)state;
	hooktest_init(&t, "hook-filter");
	filter_hooks(hooks, sizeof(hooks), "");
	all = run(&t, hooks);
	assert_int_equal(json_array_size(all), 3);
	assert_string_equal(msg(json_array_get(all, 0)), "keep-me");
	e = json_array_get(all, 1);
	assert_string_equal(msg(e), "rewritten");
	assert_string_equal(field(e, "hooked"), "yes");
	assert_string_equal(field(e, "user"), "alice");
	assert_string_equal(field(e, "other"), "x");
	assert_null(field(e, "secret"));
	assert_string_equal(json_string_value(json_object_get(e, "tag")), "app");
	assert_string_equal(msg(json_array_get(all, 2)), "fail-me");
	for (size_t i = 1; i < 3; i++)
		assert_int_equal(json_integer_value(json_object_get(json_array_get(all, i), "seq")),
				 json_integer_value(json_object_get(json_array_get(all, 0), "seq")) +
					 (json_int_t)i);

	hooktest_expect(&t, "f", &(struct hooktest_metrics){
		.matched = 4, .calls = 4, .ok = 3, .dropped = 1, .rewritten = 1, .errors = 1 });
	json_decref(all);
	hooktest_fini(&t);
}

/* A filter whose match the entries miss leaves them all alone. */
static void test_unmatched_untouched(void **state)
{
	struct hooktest t;
	char hooks[1024];
	json_t *all;

	(void)state;
	hooktest_init(&t, "hook-nomatch");
	filter_hooks(hooks, sizeof(hooks),
		     ", \"match\": { \"level\": \"err\", \"tag\": \"ap?\", \"fields\": { \"user\": true } }");
	all = run(&t, hooks);
	assert_int_equal(json_array_size(all), 4);
	assert_string_equal(msg(json_array_get(all, 1)), "drop-me");
	assert_string_equal(msg(json_array_get(all, 2)), "rewrite-me");
	assert_int_equal(hooktest_metrics(&t, "f").matched, 0);
	json_decref(all);
	hooktest_fini(&t);
}

/* redact.so: patterns over the message and field values, named fields
 * replaced whole; a message longer than its quick probe is redacted too. */
static void test_redact(void **state)
{
	struct hooktest t;
	char hooks[2048];
	struct logbus_field f[] = {
		{ "token", "abc123", 6 }, { "note", "pw password=x1 end", 18 }, { "n", "42", 2 },
	};
	const char *m = "login password=hunter2 card 4111111111111111 ok";
	char long_msg[3000];
	logbus_t *lb;
	json_t *all, *e;

	(void)state;
	hooktest_init(&t, "hook-redact");
	snprintf(hooks, sizeof(hooks),
		 "[ { \"name\": \"redact\", \"type\": \"filter\", \"plugin\": \"%s\", "
		 "    \"config\": { \"patterns\": [ \"password=[^ ]*\", "
		 "                  { \"regex\": \"[0-9]{13,16}\", \"replace\": \"[card]\" } ], "
		 "                  \"fields\": [ \"token\" ] } } ]",
		 getenv("LOGBUS_TEST_REDACT"));
	hooktest_start(&t, hooks);
	lb = logbus_open(t.h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publishv(lb, LOGBUS_INFO, "app", m, strlen(m), f, 3), 0);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "app", "nothing here", 12), 0);
	memset(long_msg, 'x', sizeof(long_msg));
	memcpy(long_msg + sizeof(long_msg) - 12, " password=pw", 12);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "app", long_msg, sizeof(long_msg)), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	harness_stop_writer(&t.h);
	all = harness_entries(&t.h);
	assert_int_equal(json_array_size(all), 3);
	e = json_array_get(all, 0);
	assert_string_equal(msg(e), "login [redacted] card [card] ok");
	assert_string_equal(field(e, "token"), "[redacted]");
	assert_string_equal(field(e, "note"), "pw [redacted] end");
	assert_string_equal(field(e, "n"), "42");
	assert_string_equal(msg(json_array_get(all, 1)), "nothing here");
	memcpy(long_msg + sizeof(long_msg) - 12, " [redacted]", 12);   /* with its NUL */
	assert_string_equal(msg(json_array_get(all, 2)), long_msg);
	hooktest_expect(&t, "redact", &(struct hooktest_metrics){
		.matched = 3, .calls = 3, .ok = 3, .rewritten = 2 });
	json_decref(all);
	logbus_close(lb);
	hooktest_fini(&t);
}

/* Wait until the writer's log says it reloaded. */
static void wait_reloaded(const struct hooktest *t)
{
	for (int i = 0; i < 2000; i++) {
		char *log = hooktest_read(t->log, NULL);
		bool done = strstr(log, "reloaded the configuration") != NULL;
		free(log);
		if (done)
			return;
		harness_sleep_us(10000);
	}
	fail_msg("the writer did not reload");
}

/* SIGHUP replaces the hook set: after a reload whose filter matches
 * another tag, "drop-me" is kept; the hook's counters carry over. */
static void test_reload_replaces(void **state)
{
	struct hooktest t;
	char hooks[1024];
	logbus_t *lb;
	json_t *all;

	(void)state;
	hooktest_init(&t, "hook-reload");
	filter_hooks(hooks, sizeof(hooks), "");
	hooktest_start(&t, hooks);
	lb = logbus_open(t.h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "app", "drop-me", 7), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	filter_hooks(hooks, sizeof(hooks), ", \"match\": { \"tag\": \"other\" }");
	hooktest_config(&t, hooks);
	assert_int_equal(kill(t.h.writer, SIGHUP), 0);
	wait_reloaded(&t);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "app", "drop-me", 7), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	harness_stop_writer(&t.h);
	all = harness_entries(&t.h);
	assert_int_equal(json_array_size(all), 1);
	hooktest_expect(&t, "f", &(struct hooktest_metrics){
		.matched = 1, .calls = 1, .ok = 1, .dropped = 1 });
	json_decref(all);
	logbus_close(lb);
	hooktest_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_and_rewrite),
		cmocka_unit_test(test_unmatched_untouched),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_reload_replaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
