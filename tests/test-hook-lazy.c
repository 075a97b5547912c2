/* SPDX-License-Identifier: MIT */
/* Description: a plugin hook is loaded the first time an entry matches it,
 * not at writer start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "hooktest.h"
#include "logbus.h"

/* The record plugin's constructor leaves a marker: absent while only
 * other tags were written, present once a "trigger" entry matched. */
static void test_loaded_on_first_match(void **state)
{
	struct hooktest t;
	char so[512], rec[512], marker[512], hooks[2048];
	logbus_t *lb;

	(void)state;
	hooktest_init(&t, "hook-lazy");
	snprintf(marker, sizeof(marker), "%s.marker", t.h.dir);
	unlink(marker);
	setenv("LOGBUS_TEST_MARKER", marker, 1);
	snprintf(hooks, sizeof(hooks),
		 "[ { \"name\": \"rec\", \"type\": \"action\", \"plugin\": \"%s\", "
		 "\"match\": { \"tag\": \"trigger\" }, \"config\": { \"file\": \"%s\" } } ]",
		 hooktest_path(so, sizeof(so), "record.so"),
		 hooktest_file(&t, rec, sizeof(rec), "record.txt"));
	hooktest_start(&t, hooks);
	lb = logbus_open(t.h.bus);
	assert_non_null(lb);
	for (int i = 0; i < 5; i++)
		assert_int_equal(logbus_publishf(lb, LOGBUS_ERR, "other", "not yet %d", i), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	assert_int_equal(access(marker, F_OK), -1);

	assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "trigger", "now"), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	assert_int_equal(hooktest_wait_lines(rec, 1), 1);
	assert_int_equal(access(marker, F_OK), 0);
	harness_stop_writer(&t.h);

	struct hooktest_metrics m = hooktest_metrics(&t, "rec");
	assert_int_equal(m.matched, 1);
	assert_int_equal(m.ok, 1);
	logbus_close(lb);
	unlink(marker);
	unsetenv("LOGBUS_TEST_MARKER");
	hooktest_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loaded_on_first_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
