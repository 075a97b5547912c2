/* SPDX-License-Identifier: MIT */
/* Description: an entry committed into a lane but never written (the
 * writer skipped it as corrupt) counts as dropped "abandoned", so that
 * published = written + dropped holds; and the count stays in the totals
 * after the lane is reclaimed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "harness.h"
#include "stattest.h"

static const char *const small_bus[] = { "--lanes", "2", "--lane-size", "64K", NULL };

/* Commit one valid entry into the lane of p. */
static void commit_entry(const struct lb_bus *bus, struct lb_producer *p)
{
	size_t size = lb_record_size(4, 5, NULL, 0);
	void *rec = lb_lane_reserve(p, size);
	struct lb_record_meta meta = {
		.seq = p->seq, .ts = lb_clock_stamp(bus->ts_mode), .ts_mode = (uint8_t)bus->ts_mode,
		.level = 6, .pid = (uint32_t)getpid(), .tid = (uint32_t)gettid(),
	};

	assert_non_null(rec);
	lb_record_encode(rec, size, &meta, "test", 4, "valid", 5, NULL, 0);
	(void)lb_lane_commit(p, size);
}

/* Commit 64 bytes that are no record. */
static void commit_garbage(struct lb_producer *p)
{
	void *rec = lb_lane_reserve(p, 64);

	assert_non_null(rec);
	memset(rec, 0xab, 64);
	(void)lb_lane_commit(p, 64);
}

/* valid, garbage, valid: 3 queued, 2 written, 1 abandoned, 1 corrupt. */
static void test_abandoned(void **state)
{
	struct harness_raw_lane lane;
	struct lb_bus_error err;
	struct harness h;
	struct lb_bus bus;
	json_t *j, *c;

	(void)state;
	harness_init(&h, "stats-abandon");
	harness_start_writer(&h, small_bus);
	assert_int_equal(lb_bus_attach(h.bus, false, &bus, &err), 0);
	assert_int_equal(harness_raw_lane(&h, harness_raw_connect(&h), &lane, NULL), 0);
	commit_entry(&bus, &lane.prod);
	json_decref(stattest_wait(h.bus, "totals.written", 1));
	commit_garbage(&lane.prod);
	json_decref(stattest_wait(h.bus, "totals.corrupt", 1));
	commit_entry(&bus, &lane.prod);

	j = stattest_wait(h.bus, "totals.written", 2);
	c = stattest_client(j, getpid());
	assert_non_null(c);
	assert_int_equal(stattest_get(c, "queued"), 3);
	assert_int_equal(stattest_get(c, "written"), 2);
	assert_int_equal(stattest_get(c, "dropped_abandoned"), 1);
	assert_int_equal(stattest_get(j, "totals.queued"), 3);
	assert_int_equal(stattest_get(j, "totals.dropped_abandoned"), 1);
	json_decref(j);

	harness_raw_release(&lane);
	j = stattest_wait(h.bus, "totals.clients_retired", 1);
	assert_null(stattest_client(j, getpid()));
	assert_int_equal(stattest_get(j, "totals.published"), 3);
	assert_int_equal(stattest_get(j, "totals.written"), 2);
	assert_int_equal(stattest_get(j, "totals.dropped_abandoned"), 1);
	json_decref(j);
	lb_bus_detach(&bus);
	harness_stop_writer(&h);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abandoned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
