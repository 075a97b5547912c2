/* SPDX-License-Identifier: MIT */
/* Description: the stats segment's counts have one basis: in every
 * snapshot a reader can take, per client and for the bus,
 *   published = queued + dropped_full + dropped_too_large (+ dropped_no_lane)
 *   queued = written + filtered + dropped_abandoned + waiting
 * hold, also right after short-lived clients come and go and across writer
 * restarts, clean and SIGKILL, after which the totals are the entries
 * really written. */
#include <errno.h>
#include <setjmp.h>
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

static const char *const bus_args[] = { "--lanes", "8", "--lane-size", "4M", NULL };
/* More lanes than quick clients: none of them depends on a reclaim. */
static const char *const quick_args[] = { "--lanes", "64", "--lane-size", "64K", NULL };

static void check_client(const struct lb_stats_client *c)
{
	if (c->published != c->queued + c->dropped_full + c->dropped_too_large ||
	    c->queued != c->written + c->filtered + c->dropped_abandoned + c->waiting)
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
	    b->queued != b->written + b->filtered + b->dropped_abandoned + b->waiting)
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

/* Publish, drain, stop the writer cleanly, start it again, publish more:
 * the totals continue from the first writer's. */
static void test_restart_clean(void **state)
{
	struct harness *h = *state;
	unsigned queued;
	logbus_t *lb;

	harness_start_writer(h, bus_args);
	lb = logbus_open(h->bus);
	assert_non_null(lb);
	queued = publish_n(lb, 2000, 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	wait_written(h->bus, queued);
	harness_stop_writer(h);
	harness_start_writer(h, bus_args);
	queued += publish_n(lb, 2000, 2000);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	check_after_restart(h, queued);
	logbus_close(lb);
	harness_stop_writer(h);
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

/* Run QUICK_CLIENTS logbus-cat, each one entry, four at a time; the
 * shell exits 1 when one of them failed. */
static pid_t spawn_quick_clients(const struct harness *h)
{
	const char *cat = getenv("LOGBUS_TEST_CAT");
	char cmd[1024];
	pid_t pid;

	assert_non_null(cat);
	snprintf(cmd, sizeof(cmd), "failed=0; for i in $(seq %d); do "
		 "%s -b %s -t quick \"run $i\" & pids=\"$pids $!\"; "
		 "if [ $((i %% 4)) -eq 0 ]; then for p in $pids; do wait $p || failed=1; done; "
		 "pids=; fi; done; exit $failed", QUICK_CLIENTS, cat, h->bus);
	pid = harness_fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* 40 short-lived clients while a reader takes snapshot after snapshot:
 * every one of them holds the identities, and written never runs ahead
 * of published. */
static void test_quick_clients(void **state)
{
	struct harness *h = *state;
	struct lb_stats_snapshot snap = { 0 };
	unsigned reads = 0;
	pid_t cats;
	int st;

	harness_start_writer(h, quick_args);
	cats = spawn_quick_clients(h);
	while (waitpid(cats, &st, WNOHANG) == 0) {
		if (read_checked(h->bus, &snap) == 0) {
			reads++;
			lb_stats_snapshot_free(&snap);
		}
	}
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
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
		cmocka_unit_test_setup_teardown(test_quick_clients, setup, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
