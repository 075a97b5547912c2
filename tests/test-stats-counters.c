/* SPDX-License-Identifier: MIT */
/* Description: after a known workload the stats segment, as logbus-stat
 * prints it, holds the exact counts: published, written, dropped by reason,
 * per bus, per client and per sink; totals survive the client's lane
 * being reclaimed; and publishes that found no free lane are counted. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"
#include "stattest.h"

#define TINY_LANE "64K"
#define ATTEMPTS 2000

static const char *const tiny_bus[] = { "--lanes", "2", "--lane-size", TINY_LANE, NULL };

static void assert_counts(json_t *o, const struct logbus_stats *st)
{
	assert_int_equal(stattest_get(o, "published"),
			 st->queued + st->dropped_full + st->dropped_too_large);
	assert_int_equal(stattest_get(o, "queued"), st->queued);
	assert_int_equal(stattest_get(o, "written"), st->queued);
	assert_int_equal(stattest_get(o, "dropped_full"), st->dropped_full);
	assert_int_equal(stattest_get(o, "dropped_too_large"), st->dropped_too_large);
	assert_int_equal(stattest_get(o, "dropped_abandoned"), 0);
}

/* A stopped writer and a 64 KiB lane: entries beyond the lane are dropped
 * as full, an oversized one as too large; every count is exact. */
static void test_exact_counts(void **state)
{
	static char big[48 << 10];
	struct logbus_stats st;
	struct harness h;
	unsigned ok = 0, full = 0;
	logbus_t *lb;
	json_t *j;

	(void)state;
	harness_init(&h, "stats-exact");
	harness_start_writer(&h, tiny_bus);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	assert_int_equal(kill(h.writer, SIGSTOP), 0);
	for (int i = 0; i < ATTEMPTS; i++) {
		int r = logbus_publishf(lb, LOGBUS_INFO, "exact", "entry %d of a known workload", i);
		ok += r == 0;
		full += r == -EAGAIN;
	}
	memset(big, 'x', sizeof(big));
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "exact", big, sizeof(big)), -EMSGSIZE);
	assert_int_equal(kill(h.writer, SIGCONT), 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	assert_int_equal(logbus_stats_get(lb, &st), 0);
	assert_int_equal(ok + full, ATTEMPTS);
	assert_true(full > 0);
	assert_int_equal(st.queued, ok);
	assert_int_equal(st.dropped_full, full);
	assert_int_equal(st.dropped_too_large, 1);

	j = stattest_wait(h.bus, "totals.written", ok);
	assert_counts(json_object_get(j, "totals"), &st);
	assert_counts(stattest_client(j, getpid()), &st);
	assert_int_equal(stattest_get(json_array_get(json_object_get(j, "sinks"), 0), "written"),
			 ok);
	assert_int_equal(stattest_get(j, "latency_ns.count"), ok);
	json_decref(j);
	logbus_close(lb);
	harness_stop_writer(&h);
	harness_fini(&h);
}

/* A client that closes: its lane is reclaimed, it leaves the clients
 * table, and the totals keep its counts. */
static void test_totals_survive_reclaim(void **state)
{
	struct harness h;
	logbus_t *lb;
	json_t *j;

	(void)state;
	harness_init(&h, "stats-retire");
	harness_start_writer(&h, tiny_bus);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	for (int i = 0; i < 100; i++)
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "retire", "entry %d", i), 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	json_decref(stattest_wait(h.bus, "totals.written", 100));
	logbus_close(lb);

	j = stattest_wait(h.bus, "totals.clients_retired", 1);
	assert_null(stattest_client(j, getpid()));
	assert_int_equal(stattest_get(j, "totals.lanes_in_use"), 0);
	assert_int_equal(stattest_get(j, "totals.published"), 100);
	assert_int_equal(stattest_get(j, "totals.queued"), 100);
	assert_int_equal(stattest_get(j, "totals.written"), 100);
	json_decref(j);
	harness_stop_writer(&h);
	harness_fini(&h);
}

/* Another process's publishes while this one holds the only lane: each is
 * -ENOSPC, and the stats count it as dropped_no_lane in the totals, part
 * of published. */
static void test_no_lane_counted(void **state)
{
	static const char *const one_lane[] = { "--lanes", "1", "--lane-size", TINY_LANE, NULL };
	struct harness h;
	logbus_t *lb;
	json_t *j;
	pid_t child;

	(void)state;
	harness_init(&h, "stats-no-lane");
	harness_start_writer(&h, one_lane);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "held", "mine", 4), 0);
	child = harness_fork();
	if (child == 0) {
		logbus_t *other = logbus_open(h.bus);
		int refused = 0;
		for (int i = 0; other && i < 3; i++)
			refused += logbus_publish(other, LOGBUS_INFO, "none", "x", 1) == -ENOSPC;
		_exit(refused == 3 ? 0 : 1);
	}
	harness_wait_exit(child, 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	j = stattest_wait(h.bus, "totals.dropped_no_lane", 3);
	assert_int_equal(stattest_get(j, "totals.queued"), 1);
	assert_int_equal(stattest_get(j, "totals.published"), 4);
	json_decref(j);
	logbus_close(lb);
	harness_stop_writer(&h);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_counts),
		cmocka_unit_test(test_totals_survive_reclaim),
		cmocka_unit_test(test_no_lane_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
