/* SPDX-License-Identifier: MIT */
/* Description: producers SIGKILLed at random moments while they publish
 * cost nothing but their unfinished entry: everything they finished is
 * written, another producer's entries all are, and their lanes come back. */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
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
#include "logbus.h"

#define VICTIMS 200
#define LANES 4

/* Shared with the forked producers. A count is stored only after the
 * publish of that entry returned 0. */
struct shared {
	_Atomic int stop;
	_Atomic uint64_t survivor_done;
	_Atomic uint64_t done[VICTIMS];
	_Atomic uint64_t nospc[VICTIMS];
};

/* Publish "<what> n", retrying while the lane is full; returns the result. */
static int publish_retry(logbus_t *lb, const char *tag, const char *what, uint64_t n)
{
	int r;

	while ((r = logbus_publishf(lb, LOGBUS_INFO, tag, "%s %" PRIu64, what, n)) == -EAGAIN)
		sched_yield();
	return r;
}

/* A victim publishes v<i> 0, 1, 2... in bursts until it is killed. */
static void victim(const char *bus, struct shared *sh, int v)
{
	logbus_t *lb = logbus_open(bus);
	char what[16];

	snprintf(what, sizeof(what), "v%d", v);
	for (uint64_t n = 0; lb;) {
		int r = publish_retry(lb, "victim", what, n);
		if (r == -ENOSPC) {
			sh->nospc[v]++;
			continue;
		}
		if (r < 0)
			_exit(1);
		sh->done[v] = ++n;
		if (n % 8 == 0)
			harness_sleep_us(200);
	}
	_exit(1);
}

/* The survivor publishes s 0, 1, 2... at a steady pace until told to stop,
 * then waits until the writer wrote everything. */
static void survivor(const char *bus, struct shared *sh)
{
	logbus_t *lb = logbus_open(bus);
	uint64_t n = 0;

	while (lb && !sh->stop) {
		if (publish_retry(lb, "survivor", "s", n) < 0)
			_exit(1);
		sh->survivor_done = ++n;
		harness_sleep_us(2000);
	}
	_exit(lb && logbus_flush(lb, 10000) == 0 ? 0 : 2);
}

static pid_t spawn(const char *bus, struct shared *sh, int v)
{
	pid_t pid = harness_fork();

	if (pid == 0) {
		if (v < 0)
			survivor(bus, sh);
		victim(bus, sh, v);
	}
	return pid;
}

/* Wait until *count reaches at least 1 (the process publishes). */
static void wait_publishing(_Atomic uint64_t *count)
{
	for (int i = 0; i < 10000 && *count == 0; i++)
		harness_sleep_us(1000);
	assert_true(*count > 0);
}

/* Start the victims one after the other and kill each at a random moment
 * of its publishing. */
static void run_victims(struct harness *h, struct shared *sh)
{
	srand((unsigned)getpid());
	for (int v = 0; v < VICTIMS; v++) {
		pid_t pid;

		harness_wait_free_lanes(h, 1);
		pid = spawn(h->bus, sh, v);
		wait_publishing(&sh->done[v]);
		harness_sleep_us(rand() % 3000);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, NULL, 0), pid);
	}
}

/* How often each of a producer's numbers appears in the output. */
struct seen {
	const struct shared *sh;
	uint64_t *victim[VICTIMS];
	uint64_t *survivor;
};

static void seen_count(json_t *e, void *ctx)
{
	const char *msg = json_string_value(json_object_get(e, "msg"));
	struct seen *s = ctx;
	uint64_t n;
	int v;

	if (sscanf(msg, "v%d %" SCNu64, &v, &n) == 2 && v >= 0 && v < VICTIMS) {
		if (n > s->sh->done[v])
			fail_msg("victim %d wrote entry %" PRIu64 " but finished only %" PRIu64, v,
				 n, (uint64_t)s->sh->done[v]);
		s->victim[v][n]++;
	} else if (sscanf(msg, "s %" SCNu64, &n) == 1 && n < s->sh->survivor_done) {
		s->survivor[n]++;
	} else {
		fail_msg("unexpected entry '%s'", msg);
	}
}

/* Every finished entry exactly once; the one a victim was publishing when
 * it died at most once. */
static void check_output(const struct harness *h, const struct shared *sh)
{
	struct seen s = { .sh = sh };

	for (int v = 0; v < VICTIMS; v++)
		s.victim[v] = calloc(sh->done[v] + 1, sizeof(uint64_t));
	s.survivor = calloc(sh->survivor_done, sizeof(uint64_t));
	harness_each_entry(h, seen_count, &s);
	for (int v = 0; v < VICTIMS; v++) {
		for (uint64_t n = 0; n < sh->done[v]; n++)
			if (s.victim[v][n] != 1)
				fail_msg("victim %d entry %" PRIu64 " written %" PRIu64 " times", v,
					 n, s.victim[v][n]);
		assert_true(s.victim[v][sh->done[v]] <= 1);
		free(s.victim[v]);
	}
	for (uint64_t n = 0; n < sh->survivor_done; n++)
		if (s.survivor[n] != 1)
			fail_msg("survivor entry %" PRIu64 " written %" PRIu64 " times", n,
				 s.survivor[n]);
	free(s.survivor);
}

/* 200 victims on a 4-lane bus beside a steady survivor: nothing finished
 * is lost, no victim waits for a lane, every lane is reclaimed and reused. */
static void test_sigkill_producers(void **state)
{
	const char *const args[] = { "--lanes", "4", "--lane-size", "64K", NULL };
	struct shared *sh = harness_shared(sizeof(*sh));
	struct harness h;
	pid_t surv;

	(void)state;
	harness_init(&h, "death");
	harness_start_writer(&h, args);
	surv = spawn(h.bus, sh, -1);
	wait_publishing(&sh->survivor_done);
	run_victims(&h, sh);
	sh->stop = 1;
	harness_wait_exit(surv, 0);

	harness_wait_free_lanes(&h, LANES);
	assert_true(harness_grants(&h) >= VICTIMS + 1);
	for (int v = 0; v < VICTIMS; v++)
		if (sh->nospc[v])
			fail_msg("victim %d found no lane %" PRIu64 " times", v,
				 (uint64_t)sh->nospc[v]);
	harness_stop_writer(&h);
	check_output(&h, sh);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_producers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
