/* SPDX-License-Identifier: MIT */
/* Description: a writer SIGKILLed mid-stream and started again, 20 times,
 * under load, loses no committed entry; an entry written twice carries the
 * same (lane, lane_seq) and the same content. */
#include <errno.h>
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
#include "logbus.h"

#define PRODUCERS 3
#define RESTARTS 20

struct shared {
	_Atomic int stop;
	_Atomic uint64_t done[PRODUCERS];   /* entries whose publish returned 0 */
	_Atomic uint64_t fallback[PRODUCERS];
};

/* A producer publishes p<i> 0, 1, 2... in small bursts, retrying while its
 * lane is full, until told to stop; then waits for the writer. */
static void producer(const char *bus, struct shared *sh, int i)
{
	logbus_t *lb = logbus_open(bus);
	struct logbus_stats st;
	uint64_t n = 0;

	while (lb && !sh->stop) {
		int r = logbus_publishf(lb, LOGBUS_INFO, "restart", "p%d %" PRIu64, i, n);
		if (r == -EAGAIN) {
			harness_sleep_us(100);
			continue;
		}
		if (r < 0)
			_exit(1);
		sh->done[i] = ++n;
		if (n % 4 == 0)
			harness_sleep_us(200);
	}
	if (!lb || logbus_flush(lb, 20000) < 0 || logbus_stats_get(lb, &st) < 0)
		_exit(2);
	sh->fallback[i] = st.fallback;
	_exit(0);
}

/* The first copy of each (producer, number) and of each (lane, lane_seq). */
struct seen {
	json_t *by_entry;   /* "p<i> <n>" -> entry */
	json_t *by_lane;    /* "<lane>:<lane_seq>" -> entry */
};

static json_int_t int_of(json_t *e, const char *key)
{
	return json_integer_value(json_object_get(e, key));
}

/* Two copies of one entry: same place in the bus, same content. */
static void check_same(json_t *a, json_t *b)
{
	static const char *const keys[] = { "lane", "lane_seq", "pid", "tid", "uid", "gid",
					    "comm", "exe", "ts", "level", "tag", "msg" };

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (!json_equal(json_object_get(a, keys[k]), json_object_get(b, keys[k])))
			fail_msg("entry '%s' written twice with different '%s': %s, %s",
				 json_string_value(json_object_get(a, "msg")), keys[k],
				 json_dumps(json_object_get(a, keys[k]), JSON_ENCODE_ANY),
				 json_dumps(json_object_get(b, keys[k]), JSON_ENCODE_ANY));
}

static void seen_add(struct seen *s, json_t *e)
{
	const char *msg = json_string_value(json_object_get(e, "msg"));
	char place[64];
	json_t *first;

	assert_non_null(msg);
	snprintf(place, sizeof(place), "%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT,
		 int_of(e, "lane"), int_of(e, "lane_seq"));
	first = json_object_get(s->by_entry, msg);
	if (first)
		check_same(first, e);
	else
		json_object_set(s->by_entry, msg, e);
	first = json_object_get(s->by_lane, place);
	if (first)
		check_same(first, e);
	else
		json_object_set(s->by_lane, place, e);
}

/* Every committed entry of every producer is in the output. */
static void check_output(const struct harness *h, const struct shared *sh)
{
	struct seen s = { json_object(), json_object() };
	json_t *all = harness_entries(h), *e;
	size_t i;

	json_array_foreach (all, i, e)
		seen_add(&s, e);
	for (int p = 0; p < PRODUCERS; p++)
		for (uint64_t n = 0; n < sh->done[p]; n++) {
			char msg[64];
			snprintf(msg, sizeof(msg), "p%d %" PRIu64, p, n);
			if (!json_object_get(s.by_entry, msg))
				fail_msg("committed entry '%s' is missing", msg);
		}
	json_decref(s.by_entry);
	json_decref(s.by_lane);
	json_decref(all);
}

/* Kill and restart the writer 20 times while three producers publish. */
static void test_sigkill_writer(void **state)
{
	const char *const args[] = { "--lanes", "8", "--lane-size", "256K", NULL };
	struct shared *sh = harness_shared(sizeof(*sh));
	pid_t pids[PRODUCERS];
	struct harness h;

	(void)state;
	harness_init(&h, "restart");
	harness_start_writer(&h, args);
	for (int i = 0; i < PRODUCERS; i++) {
		pids[i] = harness_fork();
		if (pids[i] == 0)
			producer(h.bus, sh, i);
	}
	srand((unsigned)getpid());
	for (int r = 0; r < RESTARTS; r++) {
		harness_sleep_us(20000 + rand() % 60000);
		harness_kill_writer(&h);
		harness_start_writer(&h, args);
	}
	sh->stop = 1;
	for (int i = 0; i < PRODUCERS; i++) {
		harness_wait_exit(pids[i], 0);
		assert_true(sh->done[i] > 0);
		assert_int_equal(sh->fallback[i], 0);
	}
	harness_stop_writer(&h);
	check_output(&h, sh);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
