/* SPDX-License-Identifier: MIT */
/* Description: a child after fork() never writes into its parent's lanes:
 * its entries carry its own pid and lanes of its own, and the parent's
 * lanes hold only the parent's entries, their lane_seq unbroken (a lane
 * slot a child held and gave back may be the parent's later, with a lane
 * file of its own: the child's lane_seq are then all below the parent's
 * there); a child
 * of a single-threaded parent may start threads that publish through the
 * handle it inherited. */
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

#define CHILDREN 20
#define PER_CHILD 200
#define LANES 32

/* Publish count entries "<who> <first>..", retrying while the lane is
 * full; returns 0 or the first other error. */
static int publish_run(logbus_t *lb, const char *who, int first, int count)
{
	for (int n = first; n < first + count;) {
		int r = logbus_publishf(lb, LOGBUS_INFO, "fork", "%s %d", who, n);
		if (r == 0)
			n++;
		else if (r == -EAGAIN)
			sched_yield();
		else
			return r;
	}
	return 0;
}

struct worker {
	logbus_t *lb;
	_Atomic int stop;
	int count;
	int err;
};

/* A second parent thread publishing all along. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;

	while (!w->stop && !w->err) {
		w->err = publish_run(w->lb, "worker", w->count, 10);
		w->count += 10;
		harness_sleep_us(100);
	}
	return NULL;
}

/* The child goes on with the parent's handle, interleaving with it. */
static void child(logbus_t *lb, int k)
{
	char who[16];

	snprintf(who, sizeof(who), "child%d", k);
	for (int n = 0; n < PER_CHILD; n += 10)
		if (publish_run(lb, who, n, 10) < 0)
			_exit(1);
	_exit(logbus_flush(lb, 10000) == 0 ? 0 : 2);
}

/* What the output says, per lane and per publisher. */
struct fork_check {
	pid_t parent;
	pid_t children[CHILDREN];
	int next[CHILDREN + 2];          /* next number due: children, main, worker */
	int64_t last_seq[LANES];         /* the parent's last lane_seq per lane, or -1 */
	bool parent_lane[LANES];
	int64_t parent_first[LANES];     /* the parent's lowest and highest lane_seq there */
	int64_t parent_last[LANES];
};

static int publisher_index(const char *msg, int *n)
{
	int k;

	if (sscanf(msg, "child%d %d", &k, n) == 2 && k >= 0 && k < CHILDREN)
		return k;
	if (sscanf(msg, "main %d", n) == 1)
		return CHILDREN;
	if (sscanf(msg, "worker %d", n) == 1)
		return CHILDREN + 1;
	fail_msg("unexpected entry '%s'", msg);
	return -1;
}

static void check_entry(struct fork_check *c, json_t *e)
{
	int n, who = publisher_index(json_string_value(json_object_get(e, "msg")), &n);
	json_int_t pid = json_integer_value(json_object_get(e, "pid"));
	json_int_t lane = json_integer_value(json_object_get(e, "lane"));
	json_int_t seq = json_integer_value(json_object_get(e, "lane_seq"));

	assert_true(lane >= 0 && lane < LANES);
	assert_int_equal(n, c->next[who]++);
	assert_int_equal(pid, who < CHILDREN ? c->children[who] : c->parent);
	if (who < CHILDREN) {
		if (c->parent_lane[lane] && seq >= c->parent_first[lane] &&
		    seq <= c->parent_last[lane])
			fail_msg("child %d wrote into the parent's lane %d (lane_seq %lld)", who,
				 (int)lane, (long long)seq);
		return;
	}
	if (!c->parent_lane[lane] || seq < c->parent_first[lane])
		c->parent_first[lane] = seq;
	if (!c->parent_lane[lane] || seq > c->parent_last[lane])
		c->parent_last[lane] = seq;
	c->parent_lane[lane] = true;
	if (c->last_seq[lane] >= 0 && seq != c->last_seq[lane] + 1)
		fail_msg("parent's lane %d: lane_seq %lld after %lld", (int)lane, (long long)seq,
			 (long long)c->last_seq[lane]);
	c->last_seq[lane] = seq;
}

/* Two passes: the first finds the parent's lanes, the second checks. */
static void check_output(const struct harness *h, struct fork_check *c)
{
	json_t *all = harness_entries(h), *e;
	size_t i;

	for (int pass = 0; pass < 2; pass++) {
		memset(c->next, 0, sizeof(c->next));
		for (int l = 0; l < LANES; l++)
			c->last_seq[l] = -1;
		json_array_foreach (all, i, e)
			check_entry(c, e);
	}
	for (int k = 0; k < CHILDREN; k++)
		assert_int_equal(c->next[k], PER_CHILD);
	json_decref(all);
}

/* A parent with two publishing threads forks 20 children that publish
 * through the inherited handle. */
static void test_children_get_lanes_of_their_own(void **state)
{
	const char *const args[] = { "--lanes", "32", "--lane-size", "64K", NULL };
	struct fork_check c = { .parent = getpid() };
	struct worker w = { .count = 0 };
	struct harness h;
	pthread_t th;
	int main_n = 0;

	(void)state;
	harness_init(&h, "fork");
	harness_start_writer(&h, args);
	w.lb = logbus_open(h.bus);
	assert_non_null(w.lb);
	assert_int_equal(publish_run(w.lb, "main", main_n, 10), 0);
	main_n += 10;
	assert_int_equal(pthread_create(&th, NULL, worker_run, &w), 0);
	for (int k = 0; k < CHILDREN; k++) {
		c.children[k] = fork();
		assert_true(c.children[k] >= 0);
		if (c.children[k] == 0)
			child(w.lb, k);
		assert_int_equal(publish_run(w.lb, "main", main_n, 100), 0);
		main_n += 100;
	}
	for (int k = 0; k < CHILDREN; k++)
		harness_wait_exit(c.children[k], 0);
	w.stop = 1;
	pthread_join(th, NULL);
	assert_int_equal(w.err, 0);
	logbus_close(w.lb);
	harness_stop_writer(&h);
	check_output(&h, &c);
	assert_int_equal(c.next[CHILDREN], main_n);
	assert_int_equal(c.next[CHILDREN + 1], w.count);
	harness_fini(&h);
}

/* The child's thread publishes through the inherited handle: the locks the
 * atfork handler held across fork() are unlocked in the child, not
 * initialised again while locked (undefined; TSan reported a double lock).
 * The parent has no other thread here: TSan cannot start threads after a
 * multi-threaded fork. */
static void *inherited_publish(void *arg)
{
	return (void *)(intptr_t)publish_run(arg, "thread", 0, PER_CHILD);
}

static void test_child_threads_use_inherited_handle(void **state)
{
	const char *const args[] = { "--lanes", "8", "--lane-size", "64K", NULL };
	struct harness h;
	logbus_t *lb;
	json_t *all;
	pid_t pid;

	(void)state;
	harness_init(&h, "fork-threads");
	harness_start_writer(&h, args);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	assert_int_equal(publish_run(lb, "main", 0, 10), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t th;
		void *r;

		if (pthread_create(&th, NULL, inherited_publish, lb) != 0 ||
		    pthread_join(th, &r) != 0 || r != NULL)
			_exit(1);
		_exit(logbus_flush(lb, 10000) == 0 ? 0 : 2);
	}
	harness_wait_exit(pid, 0);
	logbus_close(lb);
	harness_stop_writer(&h);
	all = harness_tagged(&h, "fork");
	assert_int_equal(json_array_size(all), 10 + PER_CHILD);
	json_decref(all);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_children_get_lanes_of_their_own),
		cmocka_unit_test(test_child_threads_use_inherited_handle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
