/* SPDX-License-Identifier: MIT */
/*
 * The overflow policy of a handle: what a publish does when its thread's
 * lane is full. "drop" (the default) counts the entry and returns -EAGAIN
 * at once; "block" sleeps on the lane's futex (shm/lane.c, lane_block:A)
 * until the writer frees room, up to a timeout. The policy is read only on
 * that slow path, so a publish with room costs the same in both modes.
 *
 * A blocked publisher holds no lock while it sleeps: it leaves its slot
 * (a sharer may take it meanwhile, or turn it shared), then enters again
 * and reserves anew, since the head may have moved. It wakes at least
 * every LB_WAIT_SLICE_NS to see whether the writer is gone for good; an
 * older writer that never wakes anyone costs it that much latency.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "client.h"

/* "drop", "block" or "block:MS" into *policy and *timeout_ms (-1: no
 * limit). Returns 0 or -EINVAL. */
static int overflow_parse(const char *text, int *policy, int *timeout_ms)
{
	const char *ms;
	char *end;
	long v;

	if (!strcmp(text, "drop")) {
		*policy = LOGBUS_OVERFLOW_DROP;
		*timeout_ms = 0;
		return 0;
	}
	if (strncmp(text, "block", 5))
		return -EINVAL;
	if (text[5] == '\0') {
		*policy = LOGBUS_OVERFLOW_BLOCK;
		*timeout_ms = -1;
		return 0;
	}
	ms = text + 6;
	if (text[5] != ':' || *ms < '0' || *ms > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(ms, &end, 10);
	if (*end || errno || v > INT_MAX)
		return -EINVAL;
	*policy = LOGBUS_OVERFLOW_BLOCK;
	*timeout_ms = (int)v;
	return 0;
}

int overflow_from_env(logbus_t *lb)
{
	const char *text = getenv("LOGBUS_OVERFLOW");
	int policy = LOGBUS_OVERFLOW_DROP, timeout_ms = 0;

	if (text && *text && overflow_parse(text, &policy, &timeout_ms) < 0)
		return -EINVAL;
	return logbus_set_overflow(lb, policy, timeout_ms);
}

LB_EXPORT int logbus_set_overflow(logbus_t *lb, int policy, int timeout_ms)
{
	if (!lb || (policy != LOGBUS_OVERFLOW_DROP && policy != LOGBUS_OVERFLOW_BLOCK))
		return -EINVAL;
	/* Relaxed: two independent settings; a publish that reads one old
	 * and one new value waits once with a mix of them, nothing worse. */
	atomic_store_explicit(&lb->overflow_timeout_ms, timeout_ms, memory_order_relaxed);
	atomic_store_explicit(&lb->overflow_policy, policy, memory_order_relaxed);
	return 0;
}

void *overflow_wait(logbus_t *lb, struct lane_slot *s, bool *locked, uint64_t size)
{
	struct lb_producer *p = &s->prod;
	int timeout_ms = atomic_load_explicit(&lb->overflow_timeout_ms, memory_order_relaxed);
	uint64_t now = lb_clock_ns(CLOCK_MONOTONIC);
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : now + (uint64_t)timeout_ms * 1000000u;
	void *rec;

	if (atomic_load_explicit(&lb->overflow_policy, memory_order_relaxed) !=
	    LOGBUS_OVERFLOW_BLOCK)
		return NULL;
	atomic_fetch_add_explicit(&lb->counts.blocked, 1, memory_order_relaxed);
	while (now < deadline && !lb_bus_writer_stale(&lb->bus, now, LB_WRITER_STALE_NS)) {
		uint64_t lo = lb_lane_room_at(p, size), hi = p->head;
		uint64_t left = deadline - now;
		struct lb_lane *lane = p->lane;

		slot_leave(s, *locked);
		/* A writer that restarted drains the lane either way; this
		 * binds it to the new writer's registrar again. */
		conn_check(lb);
		(void)lb_lane_wait_tail(lane, lo, hi,
					left < LB_WAIT_SLICE_NS ? left : LB_WAIT_SLICE_NS);
		*locked = slot_enter(s);
		/* A lane the writer no longer drains never frees room. */
		if (atomic_load_explicit(&s->lost, memory_order_relaxed))
			break;
		rec = lb_lane_reserve(p, size);
		if (rec)
			return rec;
		now = lb_clock_ns(CLOCK_MONOTONIC);
	}
	return NULL;
}
