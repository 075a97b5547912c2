/* SPDX-License-Identifier: MIT */
/* Description: the kill matrix, writer side: under 4 producer processes of
 * 2 threads each, the writer is SIGKILLed 30 times at random moments and
 * restarted, once writing JSON lines and once zstd; afterwards every
 * accepted entry is in the output exactly once, every file reads whole,
 * and every producer's counters add up. The random moments come from a
 * seed, printed (LOGBUS_TEST_SEED=N repeats a run). */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "outfiles.h"
#include "streams.h"

#define PRODUCERS 4
#define THREADS 2
#define KILLS 30

/* Kill the writer KILLS times, each after 5..80 ms of work, under the
 * producers, then check the output of config (NULL: JSON lines). */
static void kill_matrix(struct harness *h, const char *name, const char *config_json)
{
	struct streams *s = streams_new(PRODUCERS * THREADS);
	char fallback[PRODUCERS][400];
	pid_t pids[PRODUCERS];
	struct streams_seen seen;
	const char *config;
	unsigned seed = streams_seed();
	uint64_t accepted = 0;

	printf("# %s: seed %u (LOGBUS_TEST_SEED=%u repeats it)\n", name, seed, seed);
	srand(seed);
	config = config_json ? outfiles_config(h, "%s", config_json) : NULL;
	outfiles_start(h, config, NULL);
	for (int p = 0; p < PRODUCERS; p++) {
		snprintf(fallback[p], sizeof(fallback[p]), "%s.fallback%d", h->dir, p);
		pids[p] = streams_producer(s, h->bus, (unsigned)p * THREADS, THREADS, 500, 0,
					   fallback[p]);
	}
	for (int k = 0; k < KILLS; k++) {
		harness_sleep_us(5000 + rand() % 75000);
		harness_kill_writer(h);
		outfiles_start(h, config, NULL);
	}
	s->stop = 1;
	for (int p = 0; p < PRODUCERS; p++)
		harness_wait_exit(pids[p], 0);
	assert_int_equal(*s->accounting_errors, 0);
	harness_stop_writer(h);

	streams_seen_init(&seen, s, 0);
	outfiles_each_entry(h->dir, streams_seen_add, &seen);
	for (int p = 0; p < PRODUCERS; p++) {
		if (access(fallback[p], F_OK) == 0)
			harness_each_line(fallback[p], streams_seen_add, &seen);
		unlink(fallback[p]);
	}
	streams_seen_check(&seen, 0, s->count, true);
	for (unsigned k = 0; k < s->count; k++)
		accepted += s->done[k];
	printf("# %s: %d writer kills, %" PRIu64 " entries accepted, each written once\n",
	       name, KILLS, accepted);
	assert_int_equal(seen.entries, accepted);
	streams_seen_free(&seen);
}

/* JSON lines. */
static void test_kill_writer_json(void **state)
{
	kill_matrix(*state, "killjson", NULL);
}

/* zstd, rotating every 256K so that kills also land around rotations. */
static void test_kill_writer_zstd(void **state)
{
	kill_matrix(*state, "killzstd", "{\"file\":{\"compress\":\"zstd\",\"rotate_size\":\"256K\"}}");
}

static int setup_json(void **state)
{
	*state = harness_new("killjson");
	return 0;
}

static int setup_zstd(void **state)
{
	*state = harness_new("killzstd");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill_writer_json, setup_json, harness_teardown),
		cmocka_unit_test_setup_teardown(test_kill_writer_zstd, setup_zstd, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
