/* SPDX-License-Identifier: MIT */
/* Description: clients cannot harm each other. While a victim of one uid
 * publishes 20,000 numbered entries holding a secret, a hostile client of
 * another uid (tests/hostile.c) does everything it can reach: opens every
 * file of the bus, of the writer's private directory and the /proc files
 * of the victim and the writer, takes lanes until refused, scribbles over
 * and truncates its own lanes, forges pid 1 and lane_seq 2^62, sends
 * garbage and RELEASEs and ADOPTs slots it does not hold. The victim's
 * entries all land exactly once, the writer stays up and drains, nothing
 * the hostile read holds the secret, no output carries a forged pid, and
 * the stats count the hostile's corruption, not the victim's. And a lane
 * slot the hostile filled with lane_seq 2^62 serves the next client
 * exactly once across writer restarts. Needs root (to make the users). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "hostile.h"
#include "logbus.h"
#include "registry.h"
#include "stattest.h"
#include "streams.h"
#include "users.h"

#define ENTRIES 20000
#define TAG "victim"
#define WAIT_MS 60000

static const char *const sixteen_lanes[] = { "--lanes", "16", "--lane-size", "256K", NULL };

/* What the test shares with the victim. */
struct victim {
	char bus[64];
	char secret[48];
	_Atomic int phase;        /* the test: go on past the first half (1), then the third quarter (2) */
	_Atomic int flushed;      /* the victim: every entry published and flushed */
	_Atomic int may_exit;     /* the test: the stats are checked */
	int failures;             /* publishes that did not return 0 */
	int flush_result;
	char failure[128];
};

/* Wait until *flag reaches want; fail when pid (a child that should be
 * working towards it) exits first, or after WAIT_MS. */
static void wait_flag(_Atomic int *flag, int want, pid_t pid, const char *what)
{
	for (int ms = 0; atomic_load(flag) < want; ms++) {
		int st;
		if (pid > 0 && waitpid(pid, &st, WNOHANG) == pid)
			fail_msg("process %d exited (status 0x%x) before %s", (int)pid, st, what);
		if (ms >= WAIT_MS)
			fail_msg("no %s after %d s", what, WAIT_MS / 1000);
		harness_sleep_us(1000);
	}
}

/* One entry: "v <n> <secret>", fields n and password. */
static void victim_publish(struct victim *v, logbus_t *lb, int n)
{
	char msg[96], num[16];
	struct logbus_field f[] = { { "n", num, 0 }, { "password", v->secret, strlen(v->secret) } };
	int r;

	f[0].len = (size_t)snprintf(num, sizeof(num), "%d", n);
	snprintf(msg, sizeof(msg), "v %d %s", n, v->secret);
	r = logbus_publishv(lb, LOGBUS_INFO, TAG, msg, strlen(msg), f, 2);
	if (r != 0 && !v->failures++)
		snprintf(v->failure, sizeof(v->failure), "entry %d: %s", n, strerror(-r));
}

/* The victim: ENTRIES entries, waiting for the test at half and at three
 * quarters, so that the hostile's rounds come between; then a flush. */
static int victim_main(void *arg)
{
	struct victim *v = arg;
	logbus_t *lb = logbus_open(v->bus);

	if (!lb || logbus_set_overflow(lb, LOGBUS_OVERFLOW_BLOCK, WAIT_MS) < 0)
		return 1;
	for (int n = 0; n < ENTRIES; n++) {
		int phase = n < ENTRIES / 2 ? 0 : n < ENTRIES * 3 / 4 ? 1 : 2;
		while (atomic_load(&v->phase) < phase)
			harness_sleep_us(1000);
		victim_publish(v, lb, n);
	}
	v->flush_result = logbus_flush(lb, WAIT_MS);
	atomic_store(&v->flushed, 1);
	while (!atomic_load(&v->may_exit))
		harness_sleep_us(1000);
	logbus_close(lb);
	return v->failures ? 1 : 0;
}

/* "hunter2-" and 32 random hex digits. */
static void make_secret(char *out, size_t n)
{
	uint8_t r[16];

	assert_int_equal(getrandom(r, sizeof(r), 0), (ssize_t)sizeof(r));
	snprintf(out, n, "hunter2-");
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 8 + 2 * i, n - 8 - 2 * i, "%02x", r[i]);
}

/* The writer's registrar, as the registry names it. */
static pid_t registrar_pid(const struct harness *h)
{
	struct lb_registry reg;
	pid_t pid;

	assert_int_equal(lb_registry_view(h->bus, &reg), 0);
	pid = atomic_load(&reg.hdr->registrar_pid);
	lb_registry_close(&reg);
	assert_true(pid > 0);
	return pid;
}

/* What the output holds, entry by entry. */
struct seen {
	pid_t victim, hostile, self;
	uid_t victim_uid, hostile_uid;
	uint8_t n[ENTRIES];
	uint64_t forged, after, bad;
	char first_bad[300];
};

static json_int_t entry_int(json_t *e, const char *key)
{
	return json_integer_value(json_object_get(e, key));
}

static void bad(struct seen *s, json_t *e, const char *why)
{
	if (!s->bad++) {
		char *line = json_dumps(e, JSON_COMPACT);
		snprintf(s->first_bad, sizeof(s->first_bad), "%s: %s", why, line ? line : "?");
		free(line);
	}
}

/* Each entry is the victim's (its own pid and uid, counted by n), the
 * hostile's (tag sshd or any other, always the hostile's pid and uid), or
 * the test's own last one (tag "after"); no entry carries pid 1. */
static void see(json_t *e, void *ctx)
{
	struct seen *s = ctx;
	const char *tag = json_string_value(json_object_get(e, "tag"));
	const char *n = json_string_value(json_object_get(json_object_get(e, "fields"), "n"));
	json_int_t pid = entry_int(e, "pid"), uid = entry_int(e, "uid");

	if (pid == HOSTILE_FORGED_PID)
		return bad(s, e, "an entry with the forged pid");
	if (!json_is_integer(json_object_get(e, "uid")))
		return bad(s, e, "an entry without its uid");
	if ((pid == s->victim && uid != s->victim_uid) || (pid == s->hostile && uid != s->hostile_uid))
		return bad(s, e, "an entry with another uid than its process's");
	if (tag && !strcmp(tag, TAG) && pid == s->victim) {
		long k = n ? strtol(n, NULL, 10) : -1;
		if (k < 0 || k >= ENTRIES)
			return bad(s, e, "a victim entry of no number");
		s->n[k]++;
	} else if (tag && !strcmp(tag, "after") && pid == s->self) {
		s->after++;
	} else if (pid == s->hostile) {
		s->forged += tag && !strcmp(tag, HOSTILE_FORGED_TAG);
	} else {
		bad(s, e, "an entry of neither the victim, nor the hostile, nor the test");
	}
}

static void check_output(const struct harness *h, pid_t victim, const struct test_user *vu,
			 pid_t hostile, const struct test_user *hu)
{
	struct seen *s = calloc(1, sizeof(*s));

	s->victim = victim;
	s->victim_uid = vu->uid;
	s->hostile = hostile;
	s->hostile_uid = hu->uid;
	s->self = getpid();
	harness_each_entry(h, see, s);
	if (s->bad)
		fail_msg("%" PRIu64 " bad entries; the first: %s", s->bad, s->first_bad);
	for (int k = 0; k < ENTRIES; k++)
		if (s->n[k] != 1)
			fail_msg("victim entry %d written %u times", k, s->n[k]);
	assert_int_equal(s->after, 1);
	/* The forged records were well-formed: they land, under the
	 * hostile's own pid. */
	assert_true(s->forged > 0);
	printf("# hostile: %" PRIu64 " of the hostile's sshd entries landed, each with its own pid %d\n",
	       s->forged, (int)hostile);
	free(s);
}

static void check_report(const struct hostile_report *r, uint32_t lanes)
{
	printf("# hostile: %u lanes taken of %u, then refused (%d: %s); %" PRIu64
	       " opens and reads tried, %" PRIu64 " rounds, %" PRIu64 " sweeps, %" PRIu64
	       " garbage datagrams, %" PRIu64 " forged records (%" PRIu64 " with lane_seq >= 2^62)\n",
	       r->lanes, lanes, r->refusal, r->refusal_text, r->tried, r->rounds, r->sweeps,
	       r->garbage, r->forged, r->forged_seq);
	if (r->failed[0])
		fail_msg("the hostile gave up: %s", r->failed);
	if (r->breaches)
		fail_msg("%" PRIu64 " of the hostile's attempts worked; the first: %s", r->breaches,
			 r->breach);
	if (r->odd)
		fail_msg("%" PRIu64 " attempts failed oddly; the first: %s", r->odd, r->odd_what);
	assert_int_equal(r->leaks, 0);
	assert_int_equal(r->adopted, 0);
	assert_int_equal(r->refusal, -EDQUOT);
	assert_int_equal(r->refusal_again, -EDQUOT);
	assert_true(r->lanes < lanes);
	assert_true(r->forged_seq > 0);
}

/* While the victim lives: it wrote everything and lost nothing; the
 * writer counted corruption (the hostile's); and no bus total is what the
 * hostile's scribbled lane headers say (before isolation they pinned the
 * totals at INT64_MAX). */
static void check_stats(const struct harness *h, pid_t victim)
{
	static const char *const totals[] = { "published", "queued", "written", "waiting",
					      "dropped_full", "dropped_too_large",
					      "dropped_no_lane", "dropped_abandoned" };
	json_t *j = stattest_wait_client(h->bus, victim, ENTRIES);
	json_t *c = stattest_client(j, victim);
	char path[64];

	assert_non_null(c);
	assert_int_equal(json_integer_value(json_object_get(c, "published")), ENTRIES);
	assert_int_equal(json_integer_value(json_object_get(c, "written")), ENTRIES);
	assert_int_equal(json_integer_value(json_object_get(c, "dropped_abandoned")), 0);
	assert_true(stattest_get(j, "totals.corrupt") > 0);
	for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
		snprintf(path, sizeof(path), "totals.%s", totals[i]);
		if (stattest_get(j, path) >= (json_int_t)1 << 40)
			fail_msg("%s is %lld: the hostile's lane headers decide the bus totals", path,
				 (long long)stattest_get(j, path));
	}
	printf("# hostile: the stats count %lld corrupt lanes while the hostile runs\n",
	       (long long)stattest_get(j, "totals.corrupt"));
	json_decref(j);
}

/* Once the hostile is gone and its lanes freed: what the writer skipped
 * of them (the records it forged with lane_seq 2^62) counts as abandoned
 * in the totals, and the victim, still there, abandoned nothing. */
static void check_stats_after(const struct harness *h, pid_t victim, pid_t hostile)
{
	json_t *j = NULL;

	for (int i = 0; i < WAIT_MS / 10; i++) {
		json_decref(j);
		j = stattest_wait_client(h->bus, victim, ENTRIES);
		if (!stattest_client(j, hostile))
			break;
		harness_sleep_us(10000);
	}
	assert_null(stattest_client(j, hostile));
	assert_int_equal(json_integer_value(json_object_get(stattest_client(j, victim),
							    "dropped_abandoned")), 0);
	if (stattest_get(j, "totals.dropped_abandoned") <= 0)
		fail_msg("no entry counts as abandoned, though the writer skipped the hostile's "
			 "records of lane_seq 2^62 as corrupt");
	printf("# hostile: its lanes freed, %lld of its entries count as abandoned, none of the "
	       "victim's\n", (long long)stattest_get(j, "totals.dropped_abandoned"));
	json_decref(j);
}

/* After it all, the writer still takes a new client's entry. */
static void check_writer_drains(struct harness *h)
{
	logbus_t *lb;

	assert_int_equal(waitpid(h->writer, NULL, WNOHANG), 0);
	lb = logbus_open(h->bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "after", "after", 5), 0);
	assert_int_equal(logbus_flush(lb, WAIT_MS), 0);
	logbus_close(lb);
	harness_stop_writer(h);
}

static void test_hostile(void **state)
{
	struct harness *h = *state;
	struct victim *v = harness_shared(sizeof(*v));
	struct hostile *x = harness_shared(sizeof(*x));
	struct test_user vu, hu;
	unsigned seed = streams_seed();
	pid_t vp, hp;

	if (!users_available())
		skip();
	printf("# hostile: seed %u (LOGBUS_TEST_SEED=%u repeats it)\n", seed, seed);
	users_get(USERS_VICTIM, &vu);
	users_get(USERS_HOSTILE, &hu);
	harness_start_writer(h, sixteen_lanes);
	snprintf(v->bus, sizeof(v->bus), "%s", h->bus);
	make_secret(v->secret, sizeof(v->secret));
	vp = users_fork(&vu, victim_main, v);

	x->target = (struct hostile_target){ .victim = vp, .writer = h->writer,
					     .registrar = registrar_pid(h), .seed = seed };
	snprintf(x->target.bus, sizeof(x->target.bus), "%s", h->bus);
	snprintf(x->target.secret, sizeof(x->target.secret), "%s", v->secret);
	hp = users_fork(&hu, hostile_main, x);
	wait_flag(&x->report.armed, 1, hp, "the hostile's first round");
	atomic_store(&v->phase, 1);
	wait_flag((_Atomic int *)&x->report.rounds, 3, hp, "three rounds of attacks");
	atomic_store(&v->phase, 2);
	wait_flag(&v->flushed, 1, vp, "the victim's flush");
	assert_int_equal(v->flush_result, 0);
	check_stats(h, vp);

	atomic_store(&x->target.stop, 1);
	harness_wait_exit(hp, 0);
	check_stats_after(h, vp, hp);
	atomic_store(&v->may_exit, 1);
	harness_wait_exit(vp, 0);
	check_report(&x->report, 16);
	check_writer_drains(h);
	check_output(h, vp, &vu, hp, &hu);
}

/* Numbered streams (streams.h) from threads of one process of the victim
 * user: on a bus of 4 lanes they get slots the hostile filled, three, the
 * uid's quota. */
#define SEQ_THREADS 3
#define SEQ_ENTRIES 500
#define SEQ_ROUNDS 2

struct seq_round {
	struct streams *s;
	const char *bus;
	unsigned first;
};

static int seq_streams(void *arg)
{
	struct seq_round *r = arg;
	pid_t pid = streams_producer(r->s, r->bus, r->first, SEQ_THREADS, 0, SEQ_ENTRIES, NULL);
	int st;

	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* The hostile fills every lane it can with lane_seq 2^62 and exits; then,
 * after each of two SIGKILLs and restarts of the writer, a victim gets
 * those slots: each of its entries is in the files exactly once (before
 * isolation, the file sink saved the forged lane_seq and skipped every
 * later entry of the lane after a restart). */
static void test_forged_seq_restart(void **state)
{
	static const char *const four_lanes[] = { "--lanes", "4", "--lane-size", "64K", NULL };
	struct harness *h = *state;
	struct hostile *x = harness_shared(sizeof(*x));
	struct streams *s = streams_new(SEQ_ROUNDS * SEQ_THREADS);
	struct streams_seen seen;
	struct test_user vu, hu;

	if (!users_available())
		skip();
	users_get(USERS_VICTIM, &vu);
	users_get(USERS_HOSTILE, &hu);
	harness_start_writer(h, four_lanes);
	x->target = (struct hostile_target){ .seed = streams_seed(), .seq_only = true };
	snprintf(x->target.bus, sizeof(x->target.bus), "%s", h->bus);
	harness_wait_exit(users_fork(&hu, hostile_main, x), 0);
	if (x->report.failed[0])
		fail_msg("the hostile gave up: %s", x->report.failed);
	assert_true(x->report.forged_seq > 0);
	harness_wait_free_lanes(h, 4);
	for (unsigned round = 0; round < SEQ_ROUNDS; round++) {
		struct seq_round r = { s, h->bus, round * SEQ_THREADS };

		harness_kill_writer(h);
		harness_start_writer(h, four_lanes);
		harness_wait_exit(users_fork(&vu, seq_streams, &r), 0);
		harness_wait_free_lanes(h, 4);
	}
	harness_stop_writer(h);
	streams_seen_init(&seen, s, 0);
	harness_each_entry(h, streams_seen_add, &seen);
	streams_seen_check(&seen, 0, SEQ_ROUNDS * SEQ_THREADS, true);
	for (unsigned k = 0; k < SEQ_ROUNDS * SEQ_THREADS; k++)
		assert_int_equal(s->done[k], SEQ_ENTRIES);
	streams_seen_free(&seen);
}

static int setup(void **state)
{
	*state = harness_new("hostile");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hostile, setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_forged_seq_restart, setup, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
