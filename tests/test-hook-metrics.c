/* SPDX-License-Identifier: MIT */
/* Description: the hook engine's counters after a known workload are
 * exact, and carry over when a reload replaces the hook set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hooks.h"
#include "hooktest.h"
#include "logbus.h"
#include "record.h"

#define N 64

struct workload {
	uint8_t *recs[N];
	struct batch b;
};

/* Entry i: level i % 8, tag "db" when i is odd else "app", field user=bob
 * when i % 4 == 0, message "drop-me" when i % 8 == 1, "rewrite-me" when
 * i % 8 == 2. */
static void workload_make(struct workload *w)
{
	w->b.entries = calloc(N, sizeof(*w->b.entries));
	w->b.cap = w->b.count = N;
	assert_non_null(w->b.entries);
	for (size_t i = 0; i < N; i++) {
		struct logbus_field user = { "user", "bob", 3 };
		char msg[32];
		const char *tag = i % 2 ? "db" : "app";
		struct lb_record_meta meta = { .seq = i, .ts = 1000 + i, .ts_mode = 1 /* realtime */,
					       .level = (uint8_t)(i % 8),
					       .pid = 1, .tid = 1 };
		size_t nf = i % 4 == 0, size;
		bool pad;

		snprintf(msg, sizeof(msg), "%s", i % 8 == 1 ? "drop-me" : i % 8 == 2 ? "rewrite-me" : "m");
		size = lb_record_size(strlen(tag), strlen(msg), &user, nf);
		w->recs[i] = malloc(size);
		assert_non_null(w->recs[i]);
		lb_record_encode(w->recs[i], size, &meta, tag, strlen(tag), msg, strlen(msg), &user, nf);
		assert_true(lb_record_decode(w->recs[i], size, size, &w->b.entries[i].e, &pad) > 0);
		w->b.entries[i].seq = 500 + i;
		w->b.entries[i].ts_ns = 1000 + i;
	}
}

static void workload_free(struct workload *w)
{
	for (size_t i = 0; i < N; i++)
		free(w->recs[i]);
	free(w->b.entries);
}

/* A problem of the hooks' configuration: printed, so the refusal says why. */
static void conf_problem(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

static struct hooks_conf *conf(const char *dir)
{
	char so[512], text[4096];
	struct hooks_conf *c;
	json_t *j;

	hooktest_path(so, sizeof(so), "record.so");
	snprintf(text, sizeof(text),
		 "[ { \"name\": \"f\", \"type\": \"filter\", \"plugin\": \"%s/filter.so\", "
		 "    \"match\": { \"level\": \"err\" } },"
		 "  { \"name\": \"a\", \"type\": \"action\", \"plugin\": \"%s\", "
		 "    \"match\": { \"tag\": \"d?\" }, \"config\": { \"file\": \"%s/a\" } },"
		 "  { \"name\": \"b\", \"type\": \"action\", \"plugin\": \"%s\", \"after\": [ \"a\" ], "
		 "    \"match\": { \"fields\": { \"user\": true } }, \"config\": { \"file\": \"%s/b\" } },"
		 "  { \"name\": \"c\", \"type\": \"action\", \"plugin\": \"%s\", "
		 "    \"match\": { \"tag\": \"db\", \"fields\": { \"user\": \"bob\" } }, "
		 "    \"config\": { \"file\": \"%s/c\" } },"
		 "  { \"name\": \"q\", \"type\": \"action\", \"plugin\": \"%s\", \"queue\": 1, "
		 "    \"match\": { \"level\": \"debug..debug\" }, "
		 "    \"config\": { \"file\": \"%s/q\", \"sleep_ms\": 500 } },"
		 "  { \"name\": \"s\", \"type\": \"action\", \"plugin\": \"%s\", \"timeout_ms\": 10, "
		 "    \"match\": { \"level\": \"emerg..emerg\" }, "
		 "    \"config\": { \"file\": \"%s/s\", \"sleep_ms\": 30 } } ]",
		 getenv("LOGBUS_TEST_HOOKS"), so, dir, so, dir, so, dir, so, dir, so, dir);
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	if (hooks_conf_parse(j, "$.hooks", &c, conf_problem, NULL) < 0)
		fail_msg("the hooks' configuration is refused");
	json_decref(j);
	return c;
}

/* Filter, then dispatch, as the drain does; wait until the actions are done. */
static size_t run(struct hooks *h)
{
	struct workload w;
	size_t dropped;

	workload_make(&w);
	dropped = hooks_filter(h, &w.b, NULL);
	hooks_dispatch(h, &w.b);
	for (int i = 0; i < 2000 && !hooks_idle(h); i++)
		harness_sleep_us(5000);
	assert_true(hooks_idle(h));
	workload_free(&w);
	return dropped;
}

static void assert_counts(const struct hook_metrics *m, uint64_t matched, uint64_t ok,
			  uint64_t dropped, uint64_t rewritten)
{
	if (m->matched != matched || m->ok != ok || m->calls != ok || m->dropped != dropped ||
	    m->rewritten != rewritten || m->errors || m->timeouts || m->restarts)
		fail_msg("hook %s: matched %llu ok %llu calls %llu dropped %llu rewritten %llu "
			 "errors %llu; want matched %llu ok %llu dropped %llu rewritten %llu",
			 m->name, (unsigned long long)m->matched, (unsigned long long)m->ok,
			 (unsigned long long)m->calls, (unsigned long long)m->dropped,
			 (unsigned long long)m->rewritten, (unsigned long long)m->errors,
			 (unsigned long long)matched, (unsigned long long)ok,
			 (unsigned long long)dropped, (unsigned long long)rewritten);
}

/* 64 entries, then the same again after a reload: filter f sees the 32 of
 * level err or worse, drops 8, rewrites 8; action a takes the 24 odd ones
 * left, b the 24 with a user (16 published with one, 8 given one by f's
 * rewrite), c none; q's queue of one overflows; s, sleeping 30 ms in calls
 * allowed 10, times out on each of the 16 emerg entries. */
static void test_exact_counts(void **state)
{
	char dir[] = "/tmp/logbus-hook-metrics-XXXXXX";
	struct hook_metrics m[HOOKS_MAX];
	struct hooks *h = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(hooks_replace(&h, conf(dir)), 0);
	assert_int_equal(run(h), 8);
	assert_int_equal(hooks_replace(&h, conf(dir)), 0);
	assert_int_equal(run(h), 8);
	assert_int_equal(hooks_metrics(h, m, HOOKS_MAX), 6);
	assert_counts(&m[0], 64, 64, 16, 16);
	assert_counts(&m[1], 48, 48, 0, 0);
	assert_counts(&m[2], 48, 48, 0, 0);
	assert_counts(&m[3], 0, 0, 0, 0);
	assert_int_equal(m[4].matched, 16);
	assert_int_equal(m[4].ok + m[4].queue_drops, 16);
	assert_true(m[4].queue_drops >= 12);
	assert_true(m[4].time_ns_max > 0 && m[4].time_ns_sum >= m[4].time_ns_max);
	assert_int_equal(m[5].matched, 16);
	assert_int_equal(m[5].calls, 16);
	assert_int_equal(m[5].timeouts, 16);
	assert_int_equal(m[5].ok + m[5].errors + m[5].queue_drops, 0);
	hooks_stop(h, 0, NULL);
	for (const char *f = "abcqs"; *f; f++) {
		char p[64];
		snprintf(p, sizeof(p), "%s/%c", dir, *f);
		unlink(p);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
