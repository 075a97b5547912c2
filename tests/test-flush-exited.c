/* SPDX-License-Identifier: MIT */
/* Description: logbus_flush waits for the entries of threads that have
 * exited: with the writer stopped it times out instead of returning 0, and
 * once the writer drains it returns 0 with every entry written. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"

#define THREADS 4
#define PER_THREAD 50

static void *publisher(void *lb)
{
	for (int i = 0; i < PER_THREAD; i++)
		if (logbus_publishf(lb, LOGBUS_INFO, "exited", "entry %d", i) != 0)
			return (void *)1;
	return NULL;
}

static void count_entry(json_t *e, void *ctx)
{
	if (!strcmp(json_string_value(json_object_get(e, "tag")), "exited"))
		++*(int *)ctx;
}

/* Threads publish and exit while the writer is stopped: flush cannot be
 * done, so it times out; after SIGCONT it succeeds. */
static void test_flush_after_thread_exit(void **state)
{
	struct harness *h = *state;
	pthread_t t[THREADS];
	logbus_t *lb;
	void *ret;
	int written = 0;

	harness_start_writer(h, (const char *const[]){ "--lanes", "8", "--lane-size", "64K", NULL });
	lb = logbus_open(h->bus);
	assert_non_null(lb);
	assert_int_equal(kill(h->writer, SIGSTOP), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, publisher, lb), 0);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	assert_int_equal(logbus_flush(lb, 300), -ETIMEDOUT);
	assert_int_equal(kill(h->writer, SIGCONT), 0);
	assert_int_equal(logbus_flush(lb, 20000), 0);
	logbus_close(lb);
	harness_stop_writer(h);
	harness_each_entry(h, count_entry, &written);
	assert_int_equal(written, THREADS * PER_THREAD);
}

static int setup(void **state)
{
	*state = harness_new("flush-exited");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flush_after_thread_exit, setup,
						harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
