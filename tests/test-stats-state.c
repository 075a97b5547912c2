/* SPDX-License-Identifier: MIT */
/* Description: logbus-stat tells the writer's state from its heartbeat
 * (alive, stalled, dead) and says so in its exit status: 0 alive or
 * stalled, 1 bus missing or writer dead, 2 usage. */
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "stattest.h"

static const char *const small_bus[] = { "--lanes", "2", "--lane-size", "64K", NULL };

/* Wait until logbus-stat reports state, exiting with status. */
static void wait_state(const char *bus, const char *state, int status)
{
	char got[32] = "";

	for (int i = 0; i < 200; i++) {
		json_t *j = stattest_json(bus, status);
		json_t *w = json_object_get(j, "writer");
		snprintf(got, sizeof(got), "%s", json_string_value(json_object_get(w, "state")));
		bool match = !strcmp(got, state);
		json_decref(j);
		if (match)
			return;
		harness_sleep_us(50000);
	}
	fail_msg("writer state never became %s (last %s)", state, got);
}

/* No such bus: exit 1 and a message naming the bus. */
static void test_missing_bus(void **state)
{
	int st;
	char *out = stattest_run(&st, "%s --bus no-such-bus-%d 2>&1", stattest_stat_path(),
				 (int)getpid());

	(void)state;
	assert_int_equal(st, 1);
	assert_non_null(strstr(out, "does not exist"));
	free(out);
}

/* Bad options: exit 2. */
static void test_usage(void **state)
{
	static const char *const args[] = { "--bogus", "--watch x", "--watch 0", "--bus 'a b'",
					    "extra" };
	(void)state;
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		int st;
		free(stattest_run(&st, "%s %s 2>/dev/null", stattest_stat_path(), args[i]));
		if (st != 2)
			fail_msg("logbus-stat %s exited %d, expected 2", args[i], st);
	}
}

/* A stopped writer is stalled (still exit 0), and alive again after
 * SIGCONT. */
static void test_stalled(void **state)
{
	struct harness h;

	(void)state;
	harness_init(&h, "stats-stall");
	harness_start_writer(&h, small_bus);
	wait_state(h.bus, "alive", 0);
	assert_int_equal(kill(h.writer, SIGSTOP), 0);
	wait_state(h.bus, "stalled", 0);
	assert_int_equal(kill(h.writer, SIGCONT), 0);
	wait_state(h.bus, "alive", 0);
	harness_stop_writer(&h);
	harness_fini(&h);
}

/* A killed writer, or one that stopped, is dead: exit 1, and the last
 * counts stay readable. */
static void test_dead(void **state)
{
	struct harness h;
	json_t *j;

	(void)state;
	harness_init(&h, "stats-dead");
	harness_start_writer(&h, small_bus);
	wait_state(h.bus, "alive", 0);   /* its stats segment made, not half made */
	harness_kill_writer(&h);
	wait_state(h.bus, "dead", 1);

	harness_start_writer(&h, small_bus);
	wait_state(h.bus, "alive", 0);
	harness_stop_writer(&h);
	j = stattest_json(h.bus, 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "writer"),
							      "state")), "dead");
	assert_int_equal(stattest_get(j, "writer.pid"), 0);
	assert_int_equal(stattest_get(j, "totals.lane_count"), 2);
	json_decref(j);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_bus),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_stalled),
		cmocka_unit_test(test_dead),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
