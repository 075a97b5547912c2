/* SPDX-License-Identifier: MIT */
/* Description: independent action hooks run at the same time; a hook with
 * "after" starts on an entry only once the hooks it names finished it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hooktest.h"
#include "logbus.h"

#define ENTRIES 3

struct span {
	unsigned long long start, end;
};

/* Start both hooks of the pair on ENTRIES entries, wait for their records,
 * and return each one's call span per entry ("e0".."e2"). */
static void run_pair(const char *name, const char *b_extra, int a_ms, int b_ms,
		     struct span a[ENTRIES], struct span b[ENTRIES])
{
	struct hooktest t;
	char so[512], rec[512], hooks[4096], label[8], msg[16];
	logbus_t *lb;
	char *text, *line, *save;

	hooktest_init(&t, name);
	hooktest_path(so, sizeof(so), "record.so");
	hooktest_file(&t, rec, sizeof(rec), "record.txt");
	snprintf(hooks, sizeof(hooks),
		 "[ { \"name\": \"A\", \"type\": \"action\", \"plugin\": \"%s\", "
		 "    \"config\": { \"file\": \"%s\", \"label\": \"A\", \"sleep_ms\": %d } },"
		 "  { \"name\": \"B\", \"type\": \"action\", \"plugin\": \"%s\", %s "
		 "    \"config\": { \"file\": \"%s\", \"label\": \"B\", \"sleep_ms\": %d } } ]",
		 so, rec, a_ms, so, b_extra, rec, b_ms);
	hooktest_start(&t, hooks);
	lb = logbus_open(t.h.bus);
	assert_non_null(lb);
	for (int i = 0; i < ENTRIES; i++)
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "app", "e%d", i), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	assert_int_equal(hooktest_wait_lines(rec, 2 * ENTRIES), 2 * ENTRIES);
	harness_stop_writer(&t.h);

	text = hooktest_read(rec, NULL);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct span s;
		int e;
		assert_int_equal(sscanf(line, "%7s %15s %llu %llu", label, msg, &s.start, &s.end), 4);
		assert_int_equal(sscanf(msg, "e%d", &e), 1);
		assert_true(e >= 0 && e < ENTRIES);
		(label[0] == 'A' ? a : b)[e] = s;
	}
	free(text);
	logbus_close(lb);
	hooktest_fini(&t);
}

/* Two hooks that each block 300 ms per entry: for every entry, each one's
 * call began before the other's ended. */
static void test_independent_overlap(void **state)
{
	struct span a[ENTRIES] = { 0 }, b[ENTRIES] = { 0 };

	(void)state;
	run_pair("hook-indep", "", 300, 300, a, b);
	for (int e = 0; e < ENTRIES; e++) {
		assert_true(a[e].end && b[e].end);
		if (!(a[e].start < b[e].end && b[e].start < a[e].end))
			fail_msg("entry %d: A [%llu, %llu] and B [%llu, %llu] did not overlap", e,
				 a[e].start, a[e].end, b[e].start, b[e].end);
	}
}

/* B names A in "after": for every entry, B started once A had ended. */
static void test_after_order(void **state)
{
	struct span a[ENTRIES] = { 0 }, b[ENTRIES] = { 0 };

	(void)state;
	run_pair("hook-after", "\"after\": [ \"A\" ],", 100, 0, a, b);
	for (int e = 0; e < ENTRIES; e++) {
		assert_true(a[e].end && b[e].end);
		if (b[e].start < a[e].end)
			fail_msg("entry %d: B started at %llu, before A ended at %llu", e,
				 b[e].start, a[e].end);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_independent_overlap),
		cmocka_unit_test(test_after_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
