/* SPDX-License-Identifier: MIT */
/* Description: a thread that opens and closes handles 10,000 times keeps
 * publishing: the thread-local slots of closed handles are reused, and
 * every entry is written. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"

#define CYCLES 10000

static void count_entry(json_t *e, void *ctx)
{
	if (!strcmp(json_string_value(json_object_get(e, "tag")), "cycle"))
		++*(int *)ctx;
}

/* open, publish, close, 10,000 times in one thread: every publish 0. */
static void test_open_close_cycles(void **state)
{
	struct harness *h = *state;
	int written = 0;

	harness_start_writer(h, (const char *const[]){ "--lanes", "4", "--lane-size", "64K", NULL });
	for (int i = 0; i < CYCLES; i++) {
		logbus_t *lb = logbus_open(h->bus);
		int r;

		assert_non_null(lb);
		r = logbus_set_overflow(lb, LOGBUS_OVERFLOW_BLOCK, 10000);
		assert_int_equal(r, 0);
		r = logbus_publishf(lb, LOGBUS_INFO, "cycle", "cycle %d", i);
		if (r != 0)
			fail_msg("cycle %d: publish returned %d (%s)", i, r, strerror(-r));
		logbus_close(lb);
	}
	harness_stop_writer(h);
	harness_each_entry(h, count_entry, &written);
	assert_int_equal(written, CYCLES);
}

static int setup(void **state)
{
	*state = harness_new("handle-cycles");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_close_cycles, setup, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
