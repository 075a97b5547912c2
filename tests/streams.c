/* SPDX-License-Identifier: MIT */
/* Numbered streams for the kill-matrix and soak tests (see streams.h). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"
#include "streams.h"

unsigned streams_seed(void)
{
	const char *s = getenv("LOGBUS_TEST_SEED");

	return s && *s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL);
}

struct streams *streams_new(unsigned count)
{
	struct streams *s = harness_shared(sizeof(*s));

	s->count = count;
	s->done = harness_shared(count * sizeof(*s->done));
	s->accounting_errors = harness_shared(sizeof(*s->accounting_errors));
	return s;
}

struct stream_thread {
	struct streams *s;
	logbus_t *lb;
	unsigned k;
	long pause_us;
	uint64_t limit;
	int failed;
};

/* One thread: stream k until told to stop. */
static void *stream_run(void *arg)
{
	struct stream_thread *t = arg;
	char tag[16], num[24];
	uint64_t n = 0;

	snprintf(tag, sizeof(tag), "s%u", t->k);
	while (!atomic_load_explicit(&t->s->stop, memory_order_relaxed) &&
	       (!t->limit || n < t->limit)) {
		struct logbus_field f = { .key = "n", .value = num };
		f.len = (size_t)snprintf(num, sizeof(num), "%" PRIu64, n);
		int r = logbus_publishv(t->lb, LOGBUS_INFO, tag, num, f.len, &f, 1);
		/* Lane full, or every lane taken (lanes of exited producers
		 * come free once the writer drained them): counted as dropped,
		 * tried again. */
		if (r == -EAGAIN || r == -ENOSPC) {
			harness_sleep_us(100);
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "stream s%u: publish %" PRIu64 " failed: %s\n", t->k, n,
				strerror(-r));
			t->failed = 1;
			break;
		}
		/* Relaxed: the test reads the counts after waiting for us. */
		atomic_store_explicit(&t->s->done[t->k], ++n, memory_order_relaxed);
		if (t->pause_us && n % 8 == 0)
			harness_sleep_us(t->pause_us);
	}
	return NULL;
}

/* The handle's counters add up, and everything accepted went to the bus:
 * published = queued + fallback + dropped, with a retry after -EAGAIN or
 * -ENOSPC counted as a new publish. */
static bool accounting_exact(logbus_t *lb, uint64_t accepted)
{
	struct logbus_stats st;

	if (logbus_stats_get(lb, &st) < 0)
		return false;
	return st.published == st.queued + st.fallback + st.dropped_full +
				       st.dropped_too_large + st.dropped_no_lane + st.dropped_fallback &&
	       st.queued + st.fallback == accepted && st.dropped_too_large == 0 &&
	       st.dropped_fallback == 0;
}

pid_t streams_producer(struct streams *s, const char *bus, unsigned first, unsigned threads,
		       long pause_us, uint64_t limit, const char *fallback)
{
	pid_t pid = harness_fork();
	struct stream_thread t[16];
	pthread_t tid[16];
	uint64_t accepted = 0;
	logbus_t *lb;
	int status = 0;

	assert_true(threads <= 16 && first + threads <= s->count);
	if (pid)
		return pid;
	if (fallback)
		setenv("LOGBUS_FALLBACK", fallback, 1);
	lb = logbus_open(bus);
	if (!lb)
		_exit(3);
	for (unsigned i = 0; i < threads; i++) {
		t[i] = (struct stream_thread){ s, lb, first + i, pause_us, limit, 0 };
		if (pthread_create(&tid[i], NULL, stream_run, &t[i]) != 0)
			_exit(4);
	}
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		status |= t[i].failed;
		accepted += s->done[first + i];
	}
	if (logbus_flush(lb, 30000) < 0)
		status |= 2;
	if (!accounting_exact(lb, accepted))
		atomic_fetch_add_explicit(s->accounting_errors, 1, memory_order_relaxed);
	logbus_close(lb);
	_exit(status);
}

void streams_seen_init(struct streams_seen *c, const struct streams *s, uint64_t slack)
{
	*c = (struct streams_seen){ .s = s };
	c->seen = calloc(s->count, sizeof(*c->seen));
	c->cap = calloc(s->count, sizeof(*c->cap));
	assert_true(c->seen && c->cap);
	for (unsigned k = 0; k < s->count; k++) {
		c->cap[k] = s->done[k] + slack;
		c->seen[k] = calloc(c->cap[k] ? c->cap[k] : 1, 1);
		assert_non_null(c->seen[k]);
	}
}

void streams_seen_add(json_t *entry, void *arg)
{
	struct streams_seen *c = arg;
	const char *tag = json_string_value(json_object_get(entry, "tag"));
	const char *n = json_string_value(json_object_get(json_object_get(entry, "fields"), "n"));
	char *end;
	unsigned long k;
	uint64_t v;

	if (!tag || tag[0] != 's' || !n) {
		c->others++;
		return;
	}
	k = strtoul(tag + 1, &end, 10);
	if (*end || k >= c->s->count) {
		c->others++;
		return;
	}
	v = strtoull(n, NULL, 10);
	if (v >= c->cap[k])
		fail_msg("stream %s entry %s was never accepted (accepted %" PRIu64 ")", tag, n,
			 c->s->done[k]);
	if (c->seen[k][v] < 255)
		c->seen[k][v]++;
	c->entries++;
}

void streams_seen_check(const struct streams_seen *c, unsigned first, unsigned n, bool exact)
{
	for (unsigned k = first; k < first + n; k++) {
		uint64_t done = c->s->done[k];
		for (uint64_t v = 0; v < c->cap[k]; v++) {
			if (c->seen[k][v] > 1)
				fail_msg("stream s%u entry %" PRIu64 " written %u times", k, v,
					 c->seen[k][v]);
			if (v < done && !c->seen[k][v])
				fail_msg("stream s%u entry %" PRIu64 " of %" PRIu64 " is missing", k, v,
					 done);
			if (v >= done && c->seen[k][v] && (exact || v > done))
				fail_msg("stream s%u entry %" PRIu64 " written, but only %" PRIu64
					 " were accepted", k, v, done);
		}
	}
}

void streams_seen_free(struct streams_seen *c)
{
	for (unsigned k = 0; k < c->s->count; k++)
		free(c->seen[k]);
	free(c->seen);
	free(c->cap);
}
