/* SPDX-License-Identifier: MIT */
/*
 * The publish calls: check the arguments, then encode the entry straight
 * into the calling thread's lane. In steady state this is a few stores and
 * the head store (lb_lane_commit, shm/lane.h): a release store when the
 * writer fences producers with membarrier (the doorbell's asymmetric
 * fence, shm/doorbell.c), else a seq_cst one; no system call, no lock
 * shared with another process. The doorbell's futex wake happens only
 * when the writer sleeps.
 *
 * A thread's first publish through a handle asks the writer for a lane
 * (slot.c, connection.c). The slow paths, a wake and a full lane, are
 * where a publish notices that the writer restarted (conn_check); the
 * fast path never looks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "client.h"
#include "doorbell.h"

/* How long LOGBUS_SYNC waits for the writer before giving up on an entry
 * (it is still in the lane; the writer takes it when it comes back). */
#define SYNC_TIMEOUT_MS 5000

/* Every key valid and none given twice (JSON readers keep only one of two
 * equal keys, so an entry could say two things). The duplicate check is
 * quadratic over at most LOGBUS_FIELDS_MAX keys, but compares lengths
 * first: for the usual handful of fields it costs a few compares. */
static bool fields_valid(const struct logbus_field *fields, size_t nfields)
{
	size_t key_len[LOGBUS_FIELDS_MAX];

	if (nfields > LOGBUS_FIELDS_MAX || (nfields && !fields))
		return false;
	for (size_t i = 0; i < nfields; i++) {
		const char *key = fields[i].key;
		if (!key)
			return false;
		key_len[i] = strnlen(key, LOGBUS_KEY_MAX + 1);
		if (!lb_key_valid(key, key_len[i]))
			return false;
		if (!fields[i].value && fields[i].len)
			return false;
		for (size_t j = 0; j < i; j++)
			if (key_len[j] == key_len[i] && !memcmp(fields[j].key, key, key_len[i]))
				return false;
	}
	return true;
}

/* The lane is full (and stayed full for as long as the overflow policy
 * waits). While the writer lives the entry is dropped and counted; when it
 * is gone for good, the entry goes to the fallback. A slow path: the place
 * to notice a writer restart too. */
static int publish_full(logbus_t *lb, struct lane_slot *s, bool locked, int level,
			const char *tag, size_t tag_len, const char *msg, size_t len,
			const struct logbus_field *fields, size_t nfields)
{
	bool gone = lb_bus_writer_stale(&lb->bus, lb_clock_ns(CLOCK_MONOTONIC), LB_WRITER_STALE_NS);

	if (!gone)
		lb_lane_count_drop(&s->prod, false);
	slot_leave(s, locked);
	conn_check(lb);
	if (gone)
		return fallback_write(lb, level, tag, tag_len, msg, len, fields, nfields);
	return -EAGAIN;
}

/* No lane for the entry: with no writer to get one from, it goes to the
 * fallback; refused (r, the writer's errno), it is dropped and counted. */
static int publish_no_lane(logbus_t *lb, int r, int level, const char *tag, size_t tag_len,
			   const char *msg, size_t len, const struct logbus_field *fields,
			   size_t nfields)
{
	if (r == -ENOTCONN)
		return fallback_write(lb, level, tag, tag_len, msg, len, fields, nfields);
	atomic_fetch_add_explicit(&lb->counts.dropped_no_lane, 1, memory_order_relaxed);
	return r;
}

/* Enter the calling thread's slot for lb, getting one on first use, or
 * another when the writer took its lane away (only a shared slot can be
 * lost, so the exclusive fast path pays one predicted branch). Returns 0
 * with *sp and *locked set, or slot_get's negative errno. */
static inline int publish_enter(logbus_t *lb, struct lane_slot **sp, bool *locked)
{
	struct lane_slot *s = slot_cached(lb);
	int r;

	if (__builtin_expect(!s, 0) && (r = slot_get(lb, &s)) < 0)
		return r;
	*locked = slot_enter(s);
	if (__builtin_expect(*locked, 0) && atomic_load_explicit(&s->lost, memory_order_relaxed)) {
		slot_leave(s, *locked);
		r = slot_renew(lb, s, &s);
		if (r < 0)
			return r;
		*locked = slot_enter(s);
	}
	*sp = s;
	return 0;
}

static int publish_entry(logbus_t *lb, int level, const char *tag, size_t tag_len,
			 const char *msg, size_t len, const struct logbus_field *fields,
			 size_t nfields)
{
	struct lane_slot *s;
	struct flush_target written;
	size_t size;
	void *rec;
	bool locked, wake;
	int r;

	if (!atomic_load_explicit(&lb->attached, memory_order_acquire) && !handle_try_attach(lb))
		return fallback_write(lb, level, tag, tag_len, msg, len, fields, nfields);
	size = lb_record_size(tag_len, len, fields, nfields);
	r = publish_enter(lb, &s, &locked);
	if (__builtin_expect(r < 0, 0))
		return publish_no_lane(lb, r, level, tag, tag_len, msg, len, fields, nfields);

	struct lb_producer *p = &s->prod;
	if (size == 0 || size > p->max_record) {
		lb_lane_count_drop(p, true);
		slot_leave(s, locked);
		return -EMSGSIZE;
	}
	rec = lb_lane_reserve(p, size);
	if (__builtin_expect(!rec, 0) && !(rec = overflow_wait(lb, s, &locked, size)))
		return publish_full(lb, s, locked, level, tag, tag_len, msg, len, fields, nfields);
	struct lb_record_meta meta = {
		.seq = p->seq,
		.ts = lb_clock_stamp(lb->bus.ts_mode),
		.ts_mode = (uint8_t)lb->bus.ts_mode,
		.level = (uint8_t)level,
		.pid = lb_process.pid,
		.tid = slot_thread_tid(),
	};
	lb_record_encode(rec, size, &meta, tag, tag_len, msg, len, fields, nfields);
	wake = lb_lane_commit(p, size);
	written = (struct flush_target){ .lane = p->lane, .head = p->head };
	slot_leave(s, locked);

	if (wake) {
		lb_doorbell_wake(written.lane);
		atomic_fetch_add_explicit(&lb->counts.wakes, 1, memory_order_relaxed);
		conn_check(lb);
	}
	if (__builtin_expect(lb->sync, 0))
		(void)flush_wait(&written, 1, SYNC_TIMEOUT_MS);
	return 0;
}

LB_EXPORT int logbus_publishv(logbus_t *lb, int level, const char *tag, const char *msg,
			      size_t len, const struct logbus_field *fields, size_t nfields)
{
	long tag_len;

	if (!lb || level < LOGBUS_EMERG || level > LOGBUS_DEBUG || (!msg && len))
		return -EINVAL;
	if (tag) {
		tag_len = lb_tag_len(tag);
		if (tag_len < 0)
			return -EINVAL;
	} else {
		tag = lb->default_tag;
		tag_len = lb->default_tag_len;
	}
	if (nfields && !fields_valid(fields, nfields))
		return -EINVAL;
	return publish_entry(lb, level, tag, (size_t)tag_len, msg ? msg : "", len, fields, nfields);
}

LB_EXPORT int logbus_publish(logbus_t *lb, int level, const char *tag, const char *msg,
			     size_t len)
{
	return logbus_publishv(lb, level, tag, msg, len, NULL, 0);
}

LB_EXPORT int logbus_vpublishf(logbus_t *lb, int level, const char *tag, const char *fmt,
			       va_list ap)
{
	char small[512];
	char *text = small;
	va_list again;
	int n, r;

	if (!fmt)
		return -EINVAL;
	va_copy(again, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < 0) {
		va_end(again);
		return -EINVAL;
	}
	if ((size_t)n >= sizeof(small)) {
		text = malloc((size_t)n + 1);
		if (!text) {
			va_end(again);
			return -ENOMEM;
		}
		vsnprintf(text, (size_t)n + 1, fmt, again);
	}
	va_end(again);
	r = logbus_publish(lb, level, tag, text, (size_t)n);
	if (text != small)
		free(text);
	return r;
}

LB_EXPORT int logbus_publishf(logbus_t *lb, int level, const char *tag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = logbus_vpublishf(lb, level, tag, fmt, ap);
	va_end(ap);
	return r;
}
