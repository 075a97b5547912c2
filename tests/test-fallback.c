/* SPDX-License-Identifier: MIT */
/* Description: nothing is lost while there is no writer. A client started
 * before the bus exists writes its entries to the fallback (stderr, or
 * $LOGBUS_FALLBACK) as JSON lines, and its later ones reach the writer once
 * the bus appears; when the writer is gone and the lane is full, entries go
 * to the fallback and those that waited in the lane are written when a
 * writer comes back. Every entry lands in exactly one place. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
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

#define EARLY 100
#define LATE 100
#define BURST 2000   /* entries of ~100 B: far more than a 64 KiB lane holds */
#define PATH_SIZE 300

/* Shared with the child client: steps, and its counters. */
struct shared {
	_Atomic int step;          /* the child's progress, or the test's go-ahead */
	struct logbus_stats stats;
	int failed;                /* a publish or flush that did not return 0 */
};

static struct shared *sh;

/* Wait until sh->step reaches step; 0, or -1 after 20 s. */
static int step_wait(int step)
{
	for (int i = 0; i < 20000 && sh->step < step; i++)
		harness_sleep_us(1000);
	return sh->step >= step ? 0 : -1;
}

/* The child's end: its counters, a flush when asked, the exit. */
static void child_end(logbus_t *lb, bool flush)
{
	if (flush && logbus_flush(lb, 10000) != 0)
		sh->failed++;
	(void)logbus_stats_get(lb, &sh->stats);
	logbus_close(lb);
	_exit(0);
}

/* Publish "<what> i" for i in [from, to), counting failures. */
static void publish_range(logbus_t *lb, const char *what, int from, int to)
{
	for (int i = from; i < to; i++)
		if (logbus_publishf(lb, LOGBUS_NOTICE, "fb", "%s %d %-80s", what, i, "pad") != 0)
			sh->failed++;
}

/* The messages seen in a JSON-lines file or the writer's output. */
struct msgs {
	char *text[EARLY + LATE + BURST + 1];
	size_t n;
	bool fallback;             /* lines from the fallback: no writer keys */
};

static void msgs_add(json_t *e, void *ctx)
{
	struct msgs *m = ctx;
	const char *msg = json_string_value(json_object_get(e, "msg"));
	static const char *const keys[] = { "ts", "level", "tag", "pid", "tid", "msg" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_object_get(e, keys[i]))
			fail_msg("an entry without '%s'", keys[i]);
	if (m->fallback && (json_object_get(e, "seq") || json_object_get(e, "lane")))
		fail_msg("a fallback line with the writer's seq or lane: '%s'", msg);
	/* The identity is the writer's word; the fallback has only the client's. */
	if (m->fallback && (json_object_get(e, "uid") || json_object_get(e, "comm")))
		fail_msg("a fallback line with an attested identity: '%s'", msg);
	assert_string_equal(json_string_value(json_object_get(e, "tag")), "fb");
	assert_true(m->n < sizeof(m->text) / sizeof(m->text[0]));
	m->text[m->n++] = strdup(msg);
}

/* Assert that m holds "<what> i" for i in [from, to), in order, from the
 * position *at on; advances *at. */
static void msgs_expect(const struct msgs *m, size_t *at, const char *what, int from, int to)
{
	char want[32];
	int len;

	for (int i = from; i < to; i++, (*at)++) {
		len = snprintf(want, sizeof(want), "%s %d ", what, i);
		if (*at >= m->n || strncmp(m->text[*at], want, (size_t)len))
			fail_msg("entry %zu is '%s', want '%s...'", *at,
				 *at < m->n ? m->text[*at] : "(none)", want);
	}
}

static void msgs_free(struct msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->text[i]);
	free(m);
}

/* The fallback file's lines (removing the file), or the writer's output. */
static struct msgs *msgs_read(const struct harness *h, const char *fallback_path)
{
	struct msgs *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->fallback = fallback_path != NULL;
	if (fallback_path) {
		harness_each_line(fallback_path, msgs_add, m);
		assert_int_equal(unlink(fallback_path), 0);
	} else {
		harness_each_entry(h, msgs_add, m);
	}
	return m;
}

/* Fork a client process running client(bus, path), where path (of
 * PATH_SIZE bytes) names a fresh fallback file beside the output. */
static pid_t client_start(const struct harness *h, char *path,
			  void (*client)(const char *bus, const char *path))
{
	pid_t pid;

	snprintf(path, PATH_SIZE, "%s.fallback", h->dir);
	(void)unlink(path);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		client(h->bus, path);
	return pid;
}

/* Client before the bus: early entries to $LOGBUS_FALLBACK; the bus
 * appears; after 100 ms the handle attaches and the later ones are
 * written by the writer. */
static void early_client(const char *bus, const char *path)
{
	logbus_t *lb;

	if (setenv("LOGBUS_FALLBACK", path, 1) < 0 || !(lb = logbus_open(bus)))
		_exit(1);
	publish_range(lb, "early", 0, EARLY);
	sh->step = 1;
	if (step_wait(2) < 0)
		_exit(2);
	harness_sleep_us(150 * 1000);   /* longer than the 100 ms between attach tries */
	publish_range(lb, "late", 0, LATE);
	child_end(lb, true);
}

/* No bus at first: early entries in the fallback file, later ones in the
 * writer's output, each exactly once. */
static void test_fallback_then_writer(void **state)
{
	struct harness *h = *state;
	struct msgs *fell, *wrote;
	char path[PATH_SIZE];
	size_t at = 0;
	pid_t pid;

	pid = client_start(h, path, early_client);
	assert_int_equal(step_wait(1), 0);
	harness_start_writer(h, (const char *const[]){ "--lanes", "2", "--lane-size", "64K", NULL });
	sh->step = 2;
	harness_wait_exit(pid, 0);
	harness_stop_writer(h);

	assert_int_equal(sh->failed, 0);
	assert_int_equal(sh->stats.fallback, EARLY);
	assert_int_equal(sh->stats.queued, LATE);
	fell = msgs_read(h, path);
	msgs_expect(fell, &at, "early", 0, EARLY);
	assert_int_equal(fell->n, EARLY);
	wrote = msgs_read(h, NULL);
	at = 0;
	msgs_expect(wrote, &at, "late", 0, LATE);
	assert_int_equal(wrote->n, LATE);
	msgs_free(fell);
	msgs_free(wrote);
}

/* A client with stderr in the file path and no $LOGBUS_FALLBACK. */
static void stderr_client(const char *bus, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	logbus_t *lb;

	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || unsetenv("LOGBUS_FALLBACK") < 0 ||
	    !(lb = logbus_open(bus)))
		_exit(1);
	if (logbus_publish(lb, LOGBUS_ERR, "fb", "two\nlines \"quoted\"", 18) != 0 ||
	    logbus_publish(lb, LOGBUS_ERR, "fb", "bad \xff", 5) != 0)
		sh->failed++;
	child_end(lb, false);
}

/* Without $LOGBUS_FALLBACK the fallback is stderr, as JSON lines: text
 * that is not UTF-8 in msg_b64. */
static void test_fallback_stderr(void **state)
{
	struct harness *h = *state;
	char path[PATH_SIZE];
	json_t *all = json_array();
	pid_t pid;

	pid = client_start(h, path, stderr_client);
	harness_wait_exit(pid, 0);
	assert_int_equal(sh->failed, 0);
	assert_int_equal(sh->stats.fallback, 2);
	harness_each_line(path, harness_append, all);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(json_array_size(all), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(all, 0), "msg")),
			    "two\nlines \"quoted\"");
	assert_string_equal(json_string_value(json_object_get(json_array_get(all, 1), "msg_b64")),
			    "YmFkIP8=");
	assert_string_equal(json_string_value(json_object_get(json_array_get(all, 1), "level")),
			    "err");
	json_decref(all);
}

/* A client whose writer stopped: one entry written, then a burst that
 * fills the lane and overflows into the fallback. */
static void orphan_client(const char *bus, const char *path)
{
	logbus_t *lb;

	if (setenv("LOGBUS_FALLBACK", path, 1) < 0 || !(lb = logbus_open(bus)))
		_exit(1);
	publish_range(lb, "first", 0, 1);
	if (logbus_flush(lb, 10000) != 0)
		_exit(2);
	sh->step = 1;
	if (step_wait(2) < 0)
		_exit(3);
	publish_range(lb, "burst", 0, BURST);
	child_end(lb, false);
}

/* The writer stopped and the lane full: the overflow goes to the fallback,
 * nothing is dropped, and a new writer writes what waited in the lane. */
static void test_writer_gone_lane_full(void **state)
{
	struct harness *h = *state;
	struct msgs *fell, *wrote;
	char path[PATH_SIZE];
	size_t at = 0;
	pid_t pid;

	harness_start_writer(h, (const char *const[]){ "--lanes", "2", "--lane-size", "64K", NULL });
	pid = client_start(h, path, orphan_client);
	assert_int_equal(step_wait(1), 0);
	harness_stop_writer(h);   /* a clean stop: writer_pid 0, the writer is gone */
	sh->step = 2;
	harness_wait_exit(pid, 0);

	assert_int_equal(sh->failed, 0);
	assert_int_equal(sh->stats.dropped_full, 0);
	assert_int_equal(sh->stats.queued + sh->stats.fallback, 1 + BURST);
	assert_true(sh->stats.fallback > 0);
	harness_start_writer(h, NULL);
	harness_stop_writer(h);

	wrote = msgs_read(h, NULL);
	assert_int_equal(wrote->n, sh->stats.queued);
	msgs_expect(wrote, &at, "first", 0, 1);
	msgs_expect(wrote, &at, "burst", 0, (int)sh->stats.queued - 1);
	fell = msgs_read(h, path);
	assert_int_equal(fell->n, sh->stats.fallback);
	at = 0;
	msgs_expect(fell, &at, "burst", (int)sh->stats.queued - 1, BURST);
	msgs_free(fell);
	msgs_free(wrote);
}

static int setup(void **state)
{
	sh = harness_shared(sizeof(*sh));
	*sh = (struct shared){ .step = 0 };
	*state = harness_new("fallback");
	return 0;
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_fallback_then_writer),
		TEST(test_fallback_stderr),
		TEST(test_writer_gone_lane_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
