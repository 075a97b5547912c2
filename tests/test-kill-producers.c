/* SPDX-License-Identifier: MIT */
/* Description: the kill matrix, producer side: 200 producer processes of 2
 * threads are SIGKILLed at seeded random moments (4 alive at a time) while
 * 2 steady producers of 2 threads run. The steady ones lose nothing (each
 * entry exactly once), a victim loses at most its unfinished entries,
 * the lanes come back to the live count, and the bus's accounting is
 * exact: published = queued + dropped, queued = written + abandoned (a
 * victim's entry counted but never committed), written = what the files
 * hold. LOGBUS_TEST_SEED=N repeats a run. */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
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

#define STEADY 2
#define VICTIMS 200
#define THREADS 2
#define ALIVE 4
#define LANES 128

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Start victims one after another, ALIVE at a time, each SIGKILLed after
 * 5..60 ms of publishing, until VICTIMS were killed. */
static void kill_victims(const struct harness *h, struct streams *s)
{
	pid_t pid[ALIVE] = { 0 };
	uint64_t deadline[ALIVE] = { 0 };
	unsigned started = 0, killed = 0;

	while (killed < VICTIMS) {
		for (int i = 0; i < ALIVE; i++) {
			if (!pid[i] && started < VICTIMS) {
				unsigned first = (STEADY + started++) * THREADS;
				pid[i] = streams_producer(s, h->bus, first, THREADS, 200, 0, NULL);
				deadline[i] = now_ms() + 5 + (uint64_t)(rand() % 56);
			} else if (pid[i] && now_ms() >= deadline[i]) {
				int st;
				assert_int_equal(kill(pid[i], SIGKILL), 0);
				assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
				if (!WIFSIGNALED(st))
					fail_msg("victim %d ended before its kill: status 0x%x", pid[i], st);
				pid[i] = 0;
				killed++;
			}
		}
		harness_sleep_us(1000);
	}
}

/* The lanes still owned are exactly the steady producers' threads'. */
static void check_lanes_live(const struct harness *h, const pid_t *steady)
{
	struct harness_lane info[LANES];
	unsigned n, owned = 0;

	harness_wait_free_lanes(h, LANES - STEADY * THREADS);
	n = harness_lanes(h, info, LANES);
	for (unsigned i = 0; i < n; i++) {
		if (info[i].state == LB_SLOT_FREE)
			continue;
		owned++;
		if (info[i].pid != (uint32_t)steady[0] && info[i].pid != (uint32_t)steady[1])
			fail_msg("lane %u still owned by pid %u, which is no live producer", i,
				 info[i].pid);
	}
	assert_int_equal(owned, STEADY * THREADS);
}

/* How many victim threads committed an entry, so held a lane. */
static unsigned victims_that_published(const struct streams_seen *seen)
{
	unsigned n = 0;

	for (unsigned k = STEADY * THREADS; k < (STEADY + VICTIMS) * THREADS; k++)
		n += seen->cap[k] > 0 && seen->seen[k][0];
	return n;
}

/* The bus's totals add up, against what the files hold; every lane a
 * victim held was reclaimed (a victim killed before its first publish
 * held none). */
static void check_accounting(const struct harness *h, uint64_t in_files, unsigned held)
{
	json_t *j = stattest_wait(h->bus, "totals.written", (json_int_t)in_files);
	json_int_t published = stattest_get(j, "totals.published");
	json_int_t queued = stattest_get(j, "totals.queued");
	json_int_t dropped = stattest_get(j, "totals.dropped_full") +
			     stattest_get(j, "totals.dropped_too_large") +
			     stattest_get(j, "totals.dropped_no_lane");

	assert_int_equal(published, queued + dropped);
	assert_int_equal(queued, in_files + stattest_get(j, "totals.filtered") +
					 stattest_get(j, "totals.dropped_abandoned"));
	/* A victim killed between counting its entry and committing it
	 * leaves it abandoned (counted, never visible): at most one a thread. */
	assert_in_range(stattest_get(j, "totals.dropped_abandoned"), 0, VICTIMS * THREADS);
	assert_int_equal(stattest_get(j, "totals.corrupt"), 0);
	assert_true(stattest_get(j, "totals.reclaimed") >= held);
	printf("# kill-producers: published %lld, queued %lld, dropped (full, retried) %lld, "
	       "written %llu, abandoned by killed victims %lld, lanes reclaimed %lld\n",
	       (long long)published, (long long)queued, (long long)dropped,
	       (unsigned long long)in_files, (long long)stattest_get(j, "totals.dropped_abandoned"),
	       (long long)stattest_get(j, "totals.reclaimed"));
	json_decref(j);
}

static void test_kill_producers(void **state)
{
	static const char *const args[] = { "--lanes", "128", "--lane-size", "64K", NULL };
	struct streams *s = streams_new((STEADY + VICTIMS) * THREADS);
	struct streams_seen seen;
	pid_t steady[STEADY];
	struct harness *h = *state;
	unsigned seed = streams_seed();

	printf("# kill-producers: seed %u (LOGBUS_TEST_SEED=%u repeats it)\n", seed, seed);
	srand(seed);
	harness_start_writer(h, args);
	for (int p = 0; p < STEADY; p++)
		steady[p] = streams_producer(s, h->bus, (unsigned)p * THREADS, THREADS, 500, 0, NULL);
	kill_victims(h, s);
	check_lanes_live(h, steady);
	s->stop = 1;
	for (int p = 0; p < STEADY; p++)
		harness_wait_exit(steady[p], 0);
	assert_int_equal(*s->accounting_errors, 0);
	harness_wait_free_lanes(h, LANES);

	streams_seen_init(&seen, s, 1);
	outfiles_each_entry(h->dir, streams_seen_add, &seen);
	streams_seen_check(&seen, 0, STEADY * THREADS, true);
	streams_seen_check(&seen, STEADY * THREADS, VICTIMS * THREADS, false);
	assert_int_equal(seen.others, 0);
	check_accounting(h, seen.entries, victims_that_published(&seen));
	harness_stop_writer(h);
	streams_seen_free(&seen);
}

static int setup(void **state)
{
	*state = harness_new("killprod");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill_producers, setup, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
