/* SPDX-License-Identifier: MIT */
/* Description: threads beyond the lane count share their process's lanes
 * without losing an entry or its order, and threads that exit give their
 * lanes back. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
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
#include "logbus.h"

#define THREADS 8
#define PER_THREAD 2000
#define CHURN 100
#define PER_CHURN 10

struct worker {
	logbus_t *lb;
	pthread_barrier_t *start;   /* NULL: start at once */
	int id;
	int count;
	pid_t tid;
	int nospc;
	int other;
};

/* Publish w->count entries "t<id> <n>", retrying while the lane is full. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;

	w->tid = gettid();
	if (w->start)
		pthread_barrier_wait(w->start);
	for (int n = 0; n < w->count;) {
		int r = logbus_publishf(w->lb, LOGBUS_INFO, "share", "t%d %d", w->id, n);
		if (r == 0)
			n++;
		else if (r == -EAGAIN)
			sched_yield();
		else if (r == -ENOSPC)
			return w->nospc++, NULL;
		else
			return w->other++, NULL;
	}
	return NULL;
}

/* Each worker's entries are all there, once, in order, under its tid. */
static void check_workers(const struct harness *h, const struct worker *w, int nw)
{
	json_t *all = harness_entries(h), *e;
	int *next = calloc((size_t)nw, sizeof(int));
	size_t i;

	json_array_foreach (all, i, e) {
		const char *msg = json_string_value(json_object_get(e, "msg"));
		int id, n;

		assert_int_equal(sscanf(msg, "t%d %d", &id, &n), 2);
		assert_true(id >= 0 && id < nw);
		if (n != next[id])
			fail_msg("thread %d: entry %d where %d was due", id, n, next[id]);
		next[id]++;
		assert_int_equal(json_integer_value(json_object_get(e, "tid")), w[id].tid);
	}
	for (int k = 0; k < nw; k++) {
		if (w[k].nospc || w[k].other)
			fail_msg("thread %d: %d publishes found no lane, %d failed otherwise", k,
				 w[k].nospc, w[k].other);
		assert_int_equal(next[k], w[k].count);
	}
	free(next);
	json_decref(all);
}

/* Eight threads of one process on a 2-lane bus: all entries, in order. */
static void test_more_threads_than_lanes(void **state)
{
	const char *const args[] = { "--lanes", "2", "--lane-size", "256K", NULL };
	struct worker w[THREADS];
	pthread_t th[THREADS];
	pthread_barrier_t start;
	struct harness h;
	logbus_t *lb;

	(void)state;
	harness_init(&h, "share");
	harness_start_writer(&h, args);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	pthread_barrier_init(&start, NULL, THREADS);
	for (int k = 0; k < THREADS; k++) {
		w[k] = (struct worker){ .lb = lb, .start = &start, .id = k, .count = PER_THREAD };
		assert_int_equal(pthread_create(&th[k], NULL, worker_run, &w[k]), 0);
	}
	for (int k = 0; k < THREADS; k++)
		pthread_join(th[k], NULL);
	pthread_barrier_destroy(&start);
	logbus_close(lb);
	harness_stop_writer(&h);
	check_workers(&h, w, THREADS);
	harness_fini(&h);
}

/* 100 threads, one after the other, on a 2-lane bus: none runs out. */
static void test_threads_come_and_go(void **state)
{
	const char *const args[] = { "--lanes", "2", "--lane-size", "64K", NULL };
	struct worker *w = calloc(CHURN, sizeof(*w));
	struct harness h;
	logbus_t *lb;

	(void)state;
	harness_init(&h, "churn");
	harness_start_writer(&h, args);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	for (int k = 0; k < CHURN; k++) {
		pthread_t th;
		w[k] = (struct worker){ .lb = lb, .id = k, .count = PER_CHURN };
		assert_int_equal(pthread_create(&th, NULL, worker_run, &w[k]), 0);
		pthread_join(th, NULL);
	}
	logbus_close(lb);
	harness_stop_writer(&h);
	check_workers(&h, w, CHURN);
	free(w);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_more_threads_than_lanes),
		cmocka_unit_test(test_threads_come_and_go),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
