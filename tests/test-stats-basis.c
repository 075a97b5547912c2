/* SPDX-License-Identifier: MIT */
/* Description: the stats segment's counts have one basis: in every
 * snapshot a reader can take, per client and for the bus,
 *   published = queued + dropped_full + dropped_too_large (+ dropped_no_lane)
 *   queued = written + filtered + dropped_abandoned + waiting
 * hold, also right after short-lived clients come and go and across writer
 * restarts, clean and SIGKILL (and without the writer's saved counts),
 * after which the totals are the entries really written. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"
#include "stats.h"

#define QUICK_CLIENTS 40
#define QUICK_AT_ONCE 4
#define QUICK_LANES 8

static const char *const bus_args[] = { "--lanes", "8", "--lane-size", "4M", NULL };
static const char *const quick_args[] = { "--lanes", "8", "--lane-size", "64K", NULL };

static void check_client(const struct lb_stats_client *c)
{
	/* Each part no more than its whole: the sums cannot wrap around. */
	if (c->published != c->queued + c->dropped_full + c->dropped_too_large ||
	    c->queued != c->written + c->filtered + c->dropped_abandoned + c->waiting ||
	    c->queued > c->published || c->written + c->filtered > c->queued ||
	    c->waiting > c->queued)
		fail_msg("lane %llu (pid %llu): published %llu, queued %llu, dropped full %llu, "
			 "too large %llu; written %llu, filtered %llu, abandoned %llu, waiting %llu",
			 (unsigned long long)c->lane, (unsigned long long)c->pid,
			 (unsigned long long)c->published, (unsigned long long)c->queued,
			 (unsigned long long)c->dropped_full,
			 (unsigned long long)c->dropped_too_large, (unsigned long long)c->written,
			 (unsigned long long)c->filtered,
			 (unsigned long long)c->dropped_abandoned, (unsigned long long)c->waiting);
}

static void check_bus(const struct lb_stats_bus *b)
{
	if (b->published != b->queued + b->dropped_full + b->dropped_too_large +
				    b->dropped_no_lane ||
	    b->queued != b->written + b->filtered + b->dropped_abandoned + b->waiting ||
	    b->queued > b->published || b->written + b->filtered > b->queued ||
	    b->waiting > b->queued)
		fail_msg("totals: published %llu, queued %llu, dropped full %llu, too large %llu, "
			 "no lane %llu; written %llu, filtered %llu, abandoned %llu, waiting %llu",
			 (unsigned long long)b->published, (unsigned long long)b->queued,
			 (unsigned long long)b->dropped_full,
			 (unsigned long long)b->dropped_too_large,
			 (unsigned long long)b->dropped_no_lane, (unsigned long long)b->written,
			 (unsigned long long)b->filtered,
			 (unsigned long long)b->dropped_abandoned, (unsigned long long)b->waiting);
}

/* Read the stats segment of bus once and check every identity in it;
 * returns 0 with *snap filled (free it), or the read's error. */
static int read_checked(const char *bus, struct lb_stats_snapshot *snap)
{
	struct lb_bus_error err;
	int r = lb_stats_read(bus, snap, &err);

	if (r < 0)
		return r;
	check_bus(&snap->bus);
	for (uint32_t i = 0; i < snap->nclients; i++)
		if (snap->clients[i].state != LB_STATS_CLIENT_FREE)
			check_client(&snap->clients[i]);
	return 0;
}

/* Read (and check) until the totals show written entries, none waiting. */
static struct lb_stats_bus wait_written(const char *bus, uint64_t written)
{
	struct lb_stats_snapshot snap = { 0 };
	struct lb_stats_bus b = { 0 };

	for (int i = 0; i < 10000; i++) {
		if (read_checked(bus, &snap) == 0) {
			b = snap.bus;
			lb_stats_snapshot_free(&snap);
			if (b.written == written && b.waiting == 0)
				return b;
		}
		harness_sleep_us(1000);
	}
	fail_msg("totals never showed written %llu, waiting 0: written %llu, waiting %llu",
		 (unsigned long long)written, (unsigned long long)b.written,
		 (unsigned long long)b.waiting);
	return b;
}

/* Publish n entries from this process; returns how many were queued. */
static unsigned publish_n(logbus_t *lb, unsigned n, unsigned from)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += logbus_publishf(lb, LOGBUS_INFO, "basis", "entry %u", from + i) == 0;
	return ok;
}

struct distinct {
	json_t *seen;
	size_t lines;
};

static void note_entry(json_t *e, void *ctx)
{
	struct distinct *d = ctx;
	char key[64];

	snprintf(key, sizeof(key), "%lld/%lld",
		 (long long)json_integer_value(json_object_get(e, "lane")),
		 (long long)json_integer_value(json_object_get(e, "lane_seq")));
	json_object_set_new(d->seen, key, json_true());
	d->lines++;
}

/* The distinct (lane, lane_seq) the files hold. */
static size_t entries_written(const struct harness *h)
{
	struct distinct d = { json_object(), 0 };
	size_t n;

	harness_each_entry(h, note_entry, &d);
	n = json_object_size(d.seen);
	json_decref(d.seen);
	return n;
}

/* Totals after a restart: they continue, and equal what the files hold. */
static void check_after_restart(const struct harness *h, unsigned queued)
{
	struct lb_stats_bus b = wait_written(h->bus, queued);

	assert_int_equal(b.queued, queued);
	assert_int_equal(b.filtered + b.dropped_abandoned, 0);
	assert_int_equal(entries_written(h), queued);
}

/* Publish, drain, stop the writer cleanly (and remove its saved counts
 * when lose_counts), start it again, publish more: the totals go on. */
static void restart_case(struct harness *h, bool lose_counts)
{
	char path[400];
	unsigned queued;
	logbus_t *lb;

	harness_start_writer(h, bus_args);
	lb = logbus_open(h->bus);
	assert_non_null(lb);
	queued = publish_n(lb, 2000, 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	wait_written(h->bus, queued);
	harness_stop_writer(h);
	snprintf(path, sizeof(path), "%s/.%s.counts", h->dir, h->bus);
	if (lose_counts)
		assert_int_equal(unlink(path), 0);
	harness_start_writer(h, bus_args);
	wait_written(h->bus, queued);
	queued += publish_n(lb, 2000, 2000);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	check_after_restart(h, queued);
	logbus_close(lb);
	harness_stop_writer(h);
}

/* A clean restart: the totals continue from the first writer's. */
static void test_restart_clean(void **state)
{
	restart_case(*state, false);
}

/* A restart without the counts (the state directory's file removed): the
 * client's entries an earlier writer drained count as written, and the
 * identities hold with nothing waiting. */
static void test_restart_state_lost(void **state)
{
	restart_case(*state, true);
}

/* The writer SIGKILLed while it drains a burst, then started again: the
 * entries it had taken are not counted twice, none is lost from the
 * counts, and the totals equal the distinct entries in the files. */
static void test_restart_sigkill(void **state)
{
	struct harness *h = *state;
	unsigned queued = 0;
	logbus_t *lb;

	harness_start_writer(h, bus_args);
	lb = logbus_open(h->bus);
	assert_non_null(lb);
	for (int round = 0; round < 3; round++) {
		queued += publish_n(lb, 20000, queued);
		harness_kill_writer(h);
		harness_start_writer(h, bus_args);
	}
	queued += publish_n(lb, 2000, queued);
	assert_int_equal(logbus_flush(lb, 20000), 0);
	check_after_restart(h, queued);
	logbus_close(lb);
	harness_stop_writer(h);
}

/* Start logbus-cat publishing one entry; returns its pid. */
static pid_t spawn_cat(const struct harness *h, int i)
{
	const char *cat = getenv("LOGBUS_TEST_CAT");
	char msg[32];
	pid_t pid;

	assert_non_null(cat);
	snprintf(msg, sizeof(msg), "run %d", i);
	pid = harness_fork();
	if (pid == 0) {
		execl(cat, cat, "-b", h->bus, "-t", "quick", msg, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Read (and check) snapshots until the cats pids[n] exited, each with 0. */
static unsigned read_while_running(const struct harness *h, pid_t *pids, int n)
{
	struct lb_stats_snapshot snap = { 0 };
	unsigned reads = 0;
	int left = n, st;

	while (left > 0) {
		if (read_checked(h->bus, &snap) == 0) {
			reads++;
			lb_stats_snapshot_free(&snap);
		}
		for (int k = 0; k < n; k++) {
			if (pids[k] <= 0 || waitpid(pids[k], &st, WNOHANG) != pids[k])
				continue;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				fail_msg("logbus-cat %d ended with status 0x%x", (int)pids[k], st);
			pids[k] = 0;
			left--;
		}
	}
	return reads;
}

/* Read (and check) snapshots until all of the bus's lanes are free. */
static unsigned read_until_free(const struct harness *h, unsigned lanes)
{
	struct lb_stats_snapshot snap = { 0 };
	unsigned reads = 0;

	for (int i = 0; i < 20000 && harness_free_lanes(h) < lanes; i++) {
		if (read_checked(h->bus, &snap) == 0) {
			reads++;
			lb_stats_snapshot_free(&snap);
		}
		harness_sleep_us(500);
	}
	assert_int_equal(harness_free_lanes(h), lanes);
	return reads;
}

/* 40 short-lived logbus-cat clients, 4 at a time on a bus of 8 lanes, so
 * that most claim a lane an earlier one left, while a reader takes
 * snapshot after snapshot: every one of them holds the identities, and
 * written never runs ahead of published. */
static void test_quick_clients(void **state)
{
	struct harness *h = *state;
	unsigned reads = 0;
	pid_t pids[QUICK_AT_ONCE];

	harness_start_writer(h, quick_args);
	for (int round = 0; round < QUICK_CLIENTS / QUICK_AT_ONCE; round++) {
		for (int k = 0; k < QUICK_AT_ONCE; k++)
			pids[k] = spawn_cat(h, round * QUICK_AT_ONCE + k);
		reads += read_while_running(h, pids, QUICK_AT_ONCE);
		reads += read_until_free(h, QUICK_LANES);
	}
	wait_written(h->bus, QUICK_CLIENTS);
	assert_true(reads > 0);
	harness_stop_writer(h);
}

static int setup(void **state)
{
	*state = harness_new("stats-basis");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart_clean, setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_restart_sigkill, setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_restart_state_lost, setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_quick_clients, setup, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
