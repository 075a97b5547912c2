/* SPDX-License-Identifier: MIT */
/* Description: the stats segment carries each hook's counters: a filter
 * hook's, as logbus-stat shows them live, equal what the writer prints for
 * it when it stops, and the final ones stay readable after the stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hooktest.h"
#include "logbus.h"
#include "stattest.h"

static const char *const messages[] = { "keep-me", "drop-me", "rewrite-me", "fail-me" };

static void assert_hook(json_t *hook, const struct hooktest_metrics *m)
{
	assert_string_equal(json_string_value(json_object_get(hook, "name")), "f");
	assert_string_equal(json_string_value(json_object_get(hook, "type")), "filter");
	assert_int_equal(stattest_get(hook, "matched"), m->matched);
	assert_int_equal(stattest_get(hook, "calls"), m->calls);
	assert_int_equal(stattest_get(hook, "ok"), m->ok);
	assert_int_equal(stattest_get(hook, "dropped"), m->dropped);
	assert_int_equal(stattest_get(hook, "rewritten"), m->rewritten);
	assert_int_equal(stattest_get(hook, "errors"), m->errors);
	assert_int_equal(stattest_get(hook, "timeouts"), m->timeouts);
}

/* A filter that drops one entry, rewrites one and fails on one. */
static void test_filter_hook(void **state)
{
	struct hooktest_metrics m;
	struct hooktest t;
	char hooks[1024], so[512];
	logbus_t *lb;
	json_t *live, *after;

	(void)state;
	hooktest_init(&t, "stats-hooks");
	snprintf(hooks, sizeof(hooks),
		 "[ { \"name\": \"f\", \"type\": \"filter\", \"plugin\": \"%s\" } ]",
		 hooktest_path(so, sizeof(so), "filter.so"));
	hooktest_start(&t, hooks);
	lb = logbus_open(t.h.bus);
	assert_non_null(lb);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "app", messages[i],
						strlen(messages[i])), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	live = stattest_wait(t.h.bus, "totals.written", 3);
	assert_int_equal(json_array_size(json_object_get(live, "hooks")), 1);
	harness_stop_writer(&t.h);
	logbus_close(lb);

	m = hooktest_metrics(&t, "f");
	assert_int_equal(m.matched, 4);
	assert_int_equal(m.dropped, 1);
	assert_int_equal(stattest_get(live, "totals.filtered"), 1);
	assert_int_equal(stattest_get(live, "totals.published"), 4);
	assert_int_equal(stattest_get(live, "totals.dropped_abandoned"), 0);
	assert_int_equal(stattest_get(stattest_client(live, getpid()), "filtered"), 1);
	assert_hook(json_array_get(json_object_get(live, "hooks"), 0), &m);
	after = stattest_json(t.h.bus, 1);
	assert_hook(json_array_get(json_object_get(after, "hooks"), 0), &m);
	json_decref(live);
	json_decref(after);
	hooktest_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_hook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
