/* SPDX-License-Identifier: MIT */
/* Description: lanes come back: a process that exits or is killed has its
 * lanes reclaimed by the writer once they are drained, logbus_close gives
 * them back, and a 2-lane bus serves process after process. */
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

#define LANES 2
#define PER_PROCESS 100
#define PROCESSES 50

static const char *const two_lanes[] = { "--lanes", "2", "--lane-size", "64K", NULL };

/* How a child ends once it published. */
enum child_end { END_EXIT, END_CLOSE, END_WAIT_KILL };

struct shared {
	_Atomic int published;
};

/* Publish count entries "<k> <n>"; exit 1 when one is refused. */
static void child(const char *bus, struct shared *sh, int k, int count, enum child_end end)
{
	logbus_t *lb = logbus_open(bus);

	for (int n = 0; lb && n < count; n++)
		if (logbus_publishf(lb, LOGBUS_INFO, "reclaim", "%d %d", k, n) < 0)
			_exit(1);
	if (!lb)
		_exit(1);
	if (end == END_CLOSE)
		logbus_close(lb);
	sh->published++;
	while (end == END_WAIT_KILL)
		pause();
	exit(0);   /* no logbus_close: the lanes stay owned by a dead pid */
}

static pid_t spawn(const char *bus, struct shared *sh, int k, int count, enum child_end end)
{
	pid_t pid = harness_fork();

	if (pid == 0)
		child(bus, sh, k, count, end);
	return pid;
}

/* The output holds every process's count entries, each once. */
static void check_entries(const struct harness *h, int processes, int count)
{
	json_t *all = harness_entries(h), *e;
	int *seen = calloc((size_t)processes * (size_t)count, sizeof(int));
	size_t i;

	json_array_foreach (all, i, e) {
		int k, n;
		assert_int_equal(sscanf(json_string_value(json_object_get(e, "msg")), "%d %d", &k,
					&n), 2);
		assert_true(k >= 0 && k < processes && n >= 0 && n < count);
		seen[k * count + n]++;
	}
	assert_int_equal(json_array_size(all), (size_t)processes * (size_t)count);
	for (int j = 0; j < processes * count; j++)
		if (seen[j] != 1)
			fail_msg("entry '%d %d' written %d times", j / count, j % count, seen[j]);
	free(seen);
	json_decref(all);
}

/* The lane of a dead process is drained first, then freed. */
static void end_and_reclaim(enum child_end end)
{
	struct shared *sh = harness_shared(sizeof(*sh));
	struct harness h;
	pid_t pid;

	harness_init(&h, "reclaim");
	harness_start_writer(&h, two_lanes);
	assert_int_equal(kill(h.writer, SIGSTOP), 0);
	pid = spawn(h.bus, sh, 0, PER_PROCESS, end);
	while (!sh->published)
		harness_sleep_us(1000);
	if (end == END_WAIT_KILL)
		assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(harness_free_lanes(&h), LANES - 1);
	assert_int_equal(kill(h.writer, SIGCONT), 0);
	harness_wait_free_lanes(&h, LANES);
	harness_stop_writer(&h);
	check_entries(&h, 1, PER_PROCESS);
	harness_fini(&h);
}

/* A process that exits without logbus_close. */
static void test_exited_process(void **state)
{
	(void)state;
	end_and_reclaim(END_EXIT);
}

/* A process killed by SIGKILL. */
static void test_killed_process(void **state)
{
	(void)state;
	end_and_reclaim(END_WAIT_KILL);
}

/* A process that closes its handle. */
static void test_closed_handle(void **state)
{
	(void)state;
	end_and_reclaim(END_CLOSE);
}

/* logbus_close marks the lane released at once, while the process lives. */
static void test_close_releases(void **state)
{
	struct harness_lane info[LANES];
	struct harness h;
	int mine = -1;
	logbus_t *lb;

	(void)state;
	harness_init(&h, "close");
	harness_start_writer(&h, two_lanes);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "reclaim", "0 0", 3), 0);
	harness_lanes(&h, info, LANES);
	for (int i = 0; i < LANES; i++)
		if (info[i].state != LB_SLOT_FREE && info[i].pid == (uint32_t)getpid())
			mine = i;
	assert_true(mine >= 0);
	assert_int_equal(info[mine].state, LB_SLOT_GRANTED);
	logbus_close(lb);
	harness_lanes(&h, info, LANES);
	assert_true(info[mine].state == LB_SLOT_FREE || info[mine].state == LB_SLOT_RELEASED);
	harness_wait_free_lanes(&h, LANES);
	harness_stop_writer(&h);
	check_entries(&h, 1, 1);
	harness_fini(&h);
}

/* 50 short-lived processes, one after the other, on a 2-lane bus: each
 * finds a lane once the writer had time to reclaim the last one's. */
static void test_fifty_processes(void **state)
{
	struct shared *sh = harness_shared(sizeof(*sh));
	struct harness h;

	(void)state;
	harness_init(&h, "fifty");
	harness_start_writer(&h, two_lanes);
	for (int k = 0; k < PROCESSES; k++) {
		harness_wait_free_lanes(&h, 1);
		harness_wait_exit(spawn(h.bus, sh, k, 5, k % 2 ? END_CLOSE : END_EXIT), 0);
	}
	harness_wait_free_lanes(&h, LANES);
	harness_stop_writer(&h);
	check_entries(&h, PROCESSES, 5);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exited_process),
		cmocka_unit_test(test_killed_process),
		cmocka_unit_test(test_closed_handle),
		cmocka_unit_test(test_close_releases),
		cmocka_unit_test(test_fifty_processes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
