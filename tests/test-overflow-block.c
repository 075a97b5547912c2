/* SPDX-License-Identifier: MIT */
/* Description: the overflow policy "block". A publisher whose lane is full
 * sleeps until the writer frees room and then goes on, losing nothing; with
 * the writer stopped it returns -EAGAIN after its timeout; with the writer
 * gone for good it ends in the fallback; a process that forks while one of
 * its threads is blocked, and LOGBUS_SYNC, keep working; LOGBUS_OVERFLOW
 * is read at logbus_open and a value it cannot read is refused. */
#include <errno.h>
#include <pthread.h>
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

#define ENTRIES 3000   /* entries of ~120 B: several times a 64 KiB lane */
#define PATH_SIZE 300

static const char *const small_lanes[] = { "--lanes", "4", "--lane-size", "64K", NULL };

/* Shared with the client processes. */
struct shared {
	int failed;                /* publishes that did not return 0 */
	int eagain;                /* publishes that returned -EAGAIN */
	uint64_t eagain_wait_ms;   /* how long the first -EAGAIN publish took */
	struct logbus_stats stats;
	struct logbus_stats forked_stats;
};

static struct shared *sh;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Publish "<what> i" for i in [0, n) under the handle's policy; counts
 * failures and notes how long the first -EAGAIN took. */
static void publish_n(logbus_t *lb, const char *what, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t t0 = now_ms();
		int r = logbus_publishf(lb, LOGBUS_INFO, "blk", "%s %d %-100s", what, i, "pad");

		if (r == -EAGAIN && sh->eagain++ == 0)
			sh->eagain_wait_ms = now_ms() - t0;
		if (r != 0)
			sh->failed++;
	}
}

/* Wait until a publisher sleeps for room in some lane of the bus. */
static void wait_blocked(const struct harness *h)
{
	struct harness_lane lanes[8];

	for (int t = 0; t < 20000; t++) {
		unsigned n = harness_lanes(h, lanes, 8);
		for (unsigned i = 0; i < n && i < 8; i++)
			if (lanes[i].blocked)
				return;
		harness_sleep_us(1000);
	}
	fail_msg("no publisher blocked within 20 s");
}

/* Check that the writer wrote "<what> 0".."<what> n-1" in order. */
struct order {
	const char *what;
	int next;
};

static void order_entry(json_t *e, void *ctx)
{
	struct order *o = ctx;
	const char *msg = json_string_value(json_object_get(e, "msg"));
	char want[32];
	int len;

	if (strcmp(json_string_value(json_object_get(e, "tag")), "blk") || !msg ||
	    strncmp(msg, o->what, strlen(o->what)) || msg[strlen(o->what)] != ' ')
		return;
	len = snprintf(want, sizeof(want), "%s %d ", o->what, o->next);
	if (strncmp(msg, want, (size_t)len))
		fail_msg("entry %d is '%.40s', want '%s...'", o->next, msg, want);
	o->next++;
}

static void expect_written(const struct harness *h, const char *what, int n)
{
	struct order o = { .what = what };

	harness_each_entry(h, order_entry, &o);
	assert_int_equal(o.next, n);
}

static logbus_t *open_blocking(const char *bus, int timeout_ms)
{
	logbus_t *lb = logbus_open(bus);

	if (!lb || logbus_set_overflow(lb, LOGBUS_OVERFLOW_BLOCK, timeout_ms) != 0)
		_exit(1);
	return lb;
}

static void child_end(logbus_t *lb)
{
	if (logbus_flush(lb, 20000) != 0)
		sh->failed++;
	(void)logbus_stats_get(lb, &sh->stats);
	logbus_close(lb);
	_exit(0);
}

/* Start the writer and stop it (SIGSTOP: alive, but not draining), then
 * fork the client; returns as harness_fork. */
static pid_t fork_writer_stopped(struct harness *h)
{
	harness_start_writer(h, small_lanes);
	assert_int_equal(kill(h->writer, SIGSTOP), 0);
	return harness_fork();
}

/* A publisher blocked on a full lane is woken when the writer frees room:
 * every entry is accepted, none dropped, all written in order. */
static void test_block_woken(void **state)
{
	struct harness *h = *state;
	pid_t pid;

	pid = fork_writer_stopped(h);
	if (pid == 0) {
		logbus_t *lb = open_blocking(h->bus, -1);
		publish_n(lb, "woken", ENTRIES);
		child_end(lb);
	}
	wait_blocked(h);
	assert_int_equal(kill(h->writer, SIGCONT), 0);
	harness_wait_exit(pid, 0);
	harness_stop_writer(h);

	assert_int_equal(sh->failed, 0);
	assert_int_equal(sh->stats.queued, ENTRIES);
	assert_int_equal(sh->stats.dropped_full, 0);
	assert_int_equal(sh->stats.fallback, 0);
	assert_true(sh->stats.blocked >= 1);
	expect_written(h, "woken", ENTRIES);
}

/* With the writer stopped (alive, but not draining), a blocked publish
 * gives up after its timeout: -EAGAIN, counted as dropped_full. */
static void test_block_timeout(void **state)
{
	struct harness *h = *state;
	pid_t pid;

	pid = fork_writer_stopped(h);
	if (pid == 0) {
		logbus_t *lb = open_blocking(h->bus, 300);
		/* Stops at the first drop: the lane holds ~500 of these. */
		for (int i = 0; i < ENTRIES && !sh->eagain; i++)
			publish_n(lb, "timeout", 1);
		(void)logbus_stats_get(lb, &sh->stats);
		logbus_close(lb);
		_exit(0);
	}
	harness_wait_exit(pid, 0);
	assert_int_equal(kill(h->writer, SIGCONT), 0);
	harness_stop_writer(h);

	assert_int_equal(sh->eagain, 1);
	assert_int_equal(sh->failed, 1);
	if (sh->eagain_wait_ms < 300)
		fail_msg("the publish gave up after %llu ms, before its 300 ms",
			 (unsigned long long)sh->eagain_wait_ms);
	assert_int_equal(sh->stats.dropped_full, 1);
	assert_int_equal(sh->stats.fallback, 0);
	assert_true(sh->stats.blocked >= 1);
	assert_true(sh->stats.queued > 0);
}

/* The writer killed while a publisher waits without a time limit: once its
 * heartbeat is stale the publisher stops waiting and the entries go to the
 * fallback; nothing is dropped. */
static void test_block_writer_gone(void **state)
{
	struct harness *h = *state;
	char path[PATH_SIZE];
	pid_t pid;

	snprintf(path, sizeof(path), "%s.fallback", h->dir);
	(void)unlink(path);
	pid = fork_writer_stopped(h);
	if (pid == 0) {
		logbus_t *lb;
		if (setenv("LOGBUS_FALLBACK", path, 1) < 0)
			_exit(1);
		lb = open_blocking(h->bus, -1);
		publish_n(lb, "gone", 1000);
		(void)logbus_stats_get(lb, &sh->stats);
		logbus_close(lb);
		_exit(0);
	}
	wait_blocked(h);
	harness_kill_writer(h);
	harness_wait_exit(pid, 0);

	assert_int_equal(sh->failed, 0);
	assert_int_equal(sh->stats.dropped_full, 0);
	assert_true(sh->stats.fallback > 0);
	assert_int_equal(sh->stats.queued + sh->stats.fallback, 1000);
	assert_int_equal(unlink(path), 0);
}

/* A thread of the client that publishes until it blocks. */
static void *blocking_thread(void *lb)
{
	publish_n(lb, "thread", ENTRIES);
	return NULL;
}

/* A process forks while one of its threads is blocked on a full lane: the
 * child publishes and flushes through the same handle (lanes of its own),
 * the blocked thread goes on when the writer drains, nothing is lost. */
static void test_block_fork(void **state)
{
	struct harness *h = *state;
	pid_t pid;

	pid = fork_writer_stopped(h);
	if (pid == 0) {
		logbus_t *lb = open_blocking(h->bus, -1);
		pthread_t t;
		pid_t child;
		int st;

		if (pthread_create(&t, NULL, blocking_thread, lb) != 0)
			_exit(1);
		wait_blocked(h);
		child = fork();
		if (child == 0) {
			publish_n(lb, "forked", 100);
			if (logbus_flush(lb, 20000) != 0)
				sh->failed++;
			(void)logbus_stats_get(lb, &sh->forked_stats);
			_exit(0);
		}
		if (child < 0)
			_exit(1);
		if (kill(h->writer, SIGCONT) < 0 || pthread_join(t, NULL) != 0 ||
		    waitpid(child, &st, 0) != child || st != 0)
			_exit(2);
		child_end(lb);
	}
	harness_wait_exit(pid, 0);
	harness_stop_writer(h);

	assert_int_equal(sh->failed, 0);
	assert_int_equal(sh->stats.queued, ENTRIES);
	assert_int_equal(sh->stats.dropped_full, 0);
	assert_int_equal(sh->forked_stats.queued, 100);
	expect_written(h, "thread", ENTRIES);
	expect_written(h, "forked", 100);
}

/* LOGBUS_SYNC with LOGBUS_OVERFLOW=block from the environment: every
 * publish waits for the writer, every entry lands in order. */
static void test_block_sync(void **state)
{
	struct harness *h = *state;
	pid_t pid;

	harness_start_writer(h, small_lanes);
	pid = harness_fork();
	if (pid == 0) {
		logbus_t *lb;
		if (setenv("LOGBUS_SYNC", "1", 1) < 0 || setenv("LOGBUS_OVERFLOW", "block:5000", 1) < 0 ||
		    !(lb = logbus_open(h->bus)))
			_exit(1);
		publish_n(lb, "sync", 1000);
		child_end(lb);
	}
	harness_wait_exit(pid, 0);
	harness_stop_writer(h);

	assert_int_equal(sh->failed, 0);
	assert_int_equal(sh->stats.queued, 1000);
	expect_written(h, "sync", 1000);
}

/* LOGBUS_OVERFLOW: the values logbus_open takes and those it refuses
 * (EINVAL: a misspelt policy is not silently another one). */
static void test_overflow_env(void **state)
{
	static const char *const good[] = { "drop", "block", "block:0", "block:250",
					    "block:2147483647", "" };
	static const char *const bad[] = { "blok", "Block", "block:", "block:-1", "block:1x",
					   "block:2147483648", "drop:5", "block 5", "blockade" };
	logbus_t *lb;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(setenv("LOGBUS_OVERFLOW", good[i], 1), 0);
		lb = logbus_open("t-overflow-env-none");
		if (!lb)
			fail_msg("LOGBUS_OVERFLOW='%s' refused: %s", good[i], strerror(errno));
		logbus_close(lb);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(setenv("LOGBUS_OVERFLOW", bad[i], 1), 0);
		errno = 0;
		lb = logbus_open("t-overflow-env-none");
		if (lb)
			fail_msg("LOGBUS_OVERFLOW='%s' accepted", bad[i]);
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(unsetenv("LOGBUS_OVERFLOW"), 0);
	lb = logbus_open("t-overflow-env-none");
	assert_non_null(lb);
	assert_int_equal(logbus_set_overflow(lb, 2, 0), -EINVAL);
	assert_int_equal(logbus_set_overflow(lb, -1, 0), -EINVAL);
	assert_int_equal(logbus_set_overflow(NULL, LOGBUS_OVERFLOW_DROP, 0), -EINVAL);
	assert_int_equal(logbus_set_overflow(lb, LOGBUS_OVERFLOW_BLOCK, -1), 0);
	logbus_close(lb);
}

static int setup(void **state)
{
	sh = harness_shared(sizeof(*sh));
	*sh = (struct shared){ .failed = 0 };
	*state = harness_new("overflow-block");
	return 0;
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_block_woken),
		TEST(test_block_timeout),
		TEST(test_block_writer_gone),
		TEST(test_block_fork),
		TEST(test_block_sync),
		cmocka_unit_test(test_overflow_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
