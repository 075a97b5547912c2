/* SPDX-License-Identifier: MIT */
/* Description: soak: 8 producer slots, each a process that starts,
 * publishes ENTRIES numbered entries, flushes and exits, and is replaced
 * at once, for LOGBUS_SOAK_SECONDS (default 600; CI runs 180). Then: the
 * writer's resident memory is flat (after a warm-up, start and end
 * printed), every producer's counters and the bus's totals add up, no lane
 * is left owned, and every output line is valid JSON holding each entry
 * exactly once. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "outfiles.h"
#include "stattest.h"
#include "streams.h"

#define SLOTS 8
#define ENTRIES 20
#define LANES 64
#define MAX_PRODUCERS (1u << 22)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long soak_seconds(void)
{
	const char *s = getenv("LOGBUS_SOAK_SECONDS");
	long v = s && *s ? strtol(s, NULL, 10) : 600;

	return v > 0 ? v : 600;
}

/* The writer's resident set, kB, from /proc/<pid>/status. */
static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	assert_true(kb > 0);
	return kb;
}

/* Keep SLOTS producers running for seconds, each replaced as soon as it
 * exits (it must exit 0); returns how many ran. *rss_start is taken once
 * a tenth of the time has passed, when the writer's buffers have grown to
 * what the load needs. */
static unsigned churn(const struct harness *h, struct streams *s, long seconds,
		      long *rss_start)
{
	pid_t slot[SLOTS] = { 0 };
	unsigned started = 0;
	double t0 = now_s(), end = t0 + (double)seconds;

	*rss_start = -1;
	for (;;) {
		bool running = false, go_on = now_s() < end && started + SLOTS < MAX_PRODUCERS;
		for (int i = 0; i < SLOTS; i++) {
			if (!slot[i] && go_on)
				slot[i] = streams_producer(s, h->bus, started++, 1, 0, ENTRIES, NULL);
			running |= slot[i] != 0;
		}
		if (!running)
			break;
		int st;
		pid_t pid = wait(&st);
		assert_true(pid > 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("producer %d ended with status 0x%x", pid, st);
		for (int i = 0; i < SLOTS; i++)
			if (slot[i] == pid)
				slot[i] = 0;
		if (*rss_start < 0 && now_s() >= t0 + (double)seconds / 10)
			*rss_start = rss_kb(h->writer);
	}
	return started;
}

static void test_soak(void **state)
{
	static const char *const args[] = { "--lanes", "64", "--lane-size", "64K", NULL };
	struct streams *s = streams_new(MAX_PRODUCERS);
	struct streams_seen seen;
	struct harness *h = *state;
	long seconds = soak_seconds(), rss_start, rss_end;
	double t0 = now_s();
	unsigned producers;
	json_t *j;

	harness_start_writer(h, args);
	producers = churn(h, s, seconds, &rss_start);
	rss_end = rss_kb(h->writer);
	assert_int_equal(*s->accounting_errors, 0);
	harness_wait_free_lanes(h, LANES);

	s->count = producers;   /* the streams used; the rest were never started */
	streams_seen_init(&seen, s, 0);
	outfiles_each_entry(h->dir, streams_seen_add, &seen);
	streams_seen_check(&seen, 0, producers, true);
	assert_int_equal(seen.others, 0);
	assert_int_equal(seen.entries, (uint64_t)producers * ENTRIES);

	json_decref(stattest_wait(h->bus, "totals.written", (json_int_t)seen.entries));
	j = stattest_wait(h->bus, "totals.lanes_in_use", 0);
	assert_int_equal(stattest_get(j, "totals.written"), (json_int_t)seen.entries);
	assert_int_equal(stattest_get(j, "totals.published"),
			 stattest_get(j, "totals.queued") + stattest_get(j, "totals.dropped_full") +
			 stattest_get(j, "totals.dropped_too_large") +
			 stattest_get(j, "totals.dropped_no_lane"));
	assert_int_equal(stattest_get(j, "totals.queued"), (json_int_t)seen.entries);
	assert_int_equal(stattest_get(j, "totals.dropped_abandoned"), 0);
	printf("# soak: %ld s, %u producer processes (%.0f/s), %" PRIu64 " entries, "
	       "%lld lanes reclaimed; writer RSS %ld kB after warm-up, %ld kB at the end\n",
	       seconds, producers, producers / (now_s() - t0), seen.entries,
	       (long long)stattest_get(j, "totals.reclaimed"), rss_start, rss_end);
	json_decref(j);
	/* Flat: what the writer holds after the warm-up may move by allocator
	 * noise, never grow with the number of producers served. */
	if (rss_end > rss_start + rss_start / 4 + 1024)
		fail_msg("writer RSS grew from %ld kB to %ld kB", rss_start, rss_end);
	harness_stop_writer(h);
	streams_seen_free(&seen);
}

static int setup(void **state)
{
	*state = harness_new("soak");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_soak, setup, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
