/* SPDX-License-Identifier: MIT */
/* liblogbus handles: open, attach to the bus when it appears, close,
 * counters, flush, the writer's last refusal. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "client.h"
#include "doorbell.h"
#include "text.h"

static _Atomic uint64_t next_handle_id;

/* The program's name as a tag: invalid characters become '_'. */
static void default_tag(logbus_t *lb)
{
	const char *name = program_invocation_short_name;
	size_t n = strnlen(name, LOGBUS_TAG_MAX);

	if (n == 0) {
		name = "logbus";
		n = strlen(name);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		lb->default_tag[i] = c > 0x20 && c < 0x7f ? (char)c : '_';
	}
	lb->default_tag_len = n;
}

bool handle_try_attach(logbus_t *lb)
{
	uint64_t now = lb_clock_ns(CLOCK_MONOTONIC_COARSE);
	struct lb_bus bus;

	if (now < atomic_load_explicit(&lb->next_attach_ns, memory_order_relaxed))
		return false;
	pthread_mutex_lock(&lb->lock);
	if (!atomic_load_explicit(&lb->attached, memory_order_relaxed) &&
	    now >= atomic_load_explicit(&lb->next_attach_ns, memory_order_relaxed)) {
		atomic_store_explicit(&lb->next_attach_ns, now + LB_ATTACH_RETRY_NS,
				      memory_order_relaxed);
		if (lb_bus_attach(lb->name, false, &bus, NULL) == 0) {
			lb->bus = bus;
			lb->light_fence = lb_doorbell_producer_light(&bus);
			/* Pairs with the acquire load in publish: the mapping
			 * is complete before anyone uses it. */
			atomic_store_explicit(&lb->attached, true, memory_order_release);
		}
	}
	pthread_mutex_unlock(&lb->lock);
	return atomic_load_explicit(&lb->attached, memory_order_acquire);
}

LB_EXPORT logbus_t *logbus_open(const char *bus)
{
	/* An empty $LOGBUS_BUS is unset; an empty argument is bad. */
	const char *name = bus ? bus : lb_bus_default_name();
	const char *sync = getenv("LOGBUS_SYNC");
	logbus_t *lb;
	int r;

	if (!lb_bus_name_valid(name)) {
		errno = EINVAL;
		return NULL;
	}
	slot_process_init();
	lb = calloc(1, sizeof(*lb));
	if (!lb)
		return NULL;
	lb->id = atomic_fetch_add_explicit(&next_handle_id, 1, memory_order_relaxed) + 1;
	strcpy(lb->name, name);
	default_tag(lb);
	lb->sync = sync && !strcmp(sync, "1");
	lb->bus.fd = -1;
	lb->conn_fd = -1;
	lb->conn_generation = LB_CONN_UNBOUND;
	r = overflow_from_env(lb);
	if (r == 0)
		r = fallback_open(lb);
	if (r < 0) {
		free(lb);
		errno = -r;
		return NULL;
	}
	pthread_mutex_init(&lb->lock, NULL);
	(void)handle_try_attach(lb);
	slot_register_handle(lb);
	return lb;
}

LB_EXPORT void logbus_close(logbus_t *lb)
{
	if (!lb)
		return;
	slot_release_all(lb);
	conn_close(lb);
	if (atomic_load_explicit(&lb->attached, memory_order_acquire))
		lb_bus_detach(&lb->bus);
	fallback_close(lb);
	pthread_mutex_destroy(&lb->lock);
	free(lb);
}

LB_EXPORT int logbus_stats_get(logbus_t *lb, struct logbus_stats *st)
{
	uint64_t published, full, large;

	if (!lb || !st)
		return -EINVAL;
	*st = (struct logbus_stats){
		.queued = atomic_load_explicit(&lb->counts.queued, memory_order_relaxed),
		.fallback = atomic_load_explicit(&lb->counts.fallback, memory_order_relaxed),
		.dropped_full = atomic_load_explicit(&lb->counts.dropped_full, memory_order_relaxed),
		.dropped_too_large =
			atomic_load_explicit(&lb->counts.dropped_too_large, memory_order_relaxed),
		.dropped_no_lane =
			atomic_load_explicit(&lb->counts.dropped_no_lane, memory_order_relaxed),
		.dropped_fallback =
			atomic_load_explicit(&lb->counts.dropped_fallback, memory_order_relaxed),
		.wakes = atomic_load_explicit(&lb->counts.wakes, memory_order_relaxed),
		.blocked = atomic_load_explicit(&lb->counts.blocked, memory_order_relaxed),
	};
	pthread_mutex_lock(&lb->lock);
	for (struct lane_slot *s = lb->slots; s; s = s->next) {
		lb_producer_counts(&s->prod, &published, &full, &large);
		st->queued += published;
		st->dropped_full += full;
		st->dropped_too_large += large;
	}
	pthread_mutex_unlock(&lb->lock);
	st->published = st->queued + st->fallback + st->dropped_full + st->dropped_too_large +
			st->dropped_no_lane + st->dropped_fallback;
	return 0;
}

/* A flush target when lane holds entries up to head that the writer's
 * tail has not passed. */
static bool flush_target_add(const struct lb_producer *p, struct flush_target *t)
{
	uint64_t head, tail;

	lb_producer_progress(p, &head, &tail);
	*t = (struct flush_target){ .lane = p->lane, .head = head };
	return tail < head;
}

/* Snapshot the head of every lane lb published into, the retired lanes of
 * threads that exited included, and count this flush in lb->flushing, so
 * that those lanes stay mapped until flush_end. Returns the count, or
 * -ENOMEM. */
static long flush_targets(logbus_t *lb, struct flush_target **out)
{
	size_t n = 0, i = 0;

	pthread_mutex_lock(&lb->lock);
	retired_prune(lb);
	for (struct lane_slot *s = lb->slots; s; s = s->next)
		n++;
	for (struct lane_slot *s = lb->retired; s; s = s->next)
		n++;
	*out = calloc(n + 1, sizeof(**out));
	if (!*out) {
		pthread_mutex_unlock(&lb->lock);
		return -ENOMEM;
	}
	/* A lost lane is drained by nobody: nothing to wait for. */
	for (struct lane_slot *s = lb->slots; s; s = s->next)
		if (!atomic_load_explicit(&s->lost, memory_order_relaxed))
			i += flush_target_add(&s->prod, *out + i);
	for (struct lane_slot *s = lb->retired; s; s = s->next)
		if (!atomic_load_explicit(&s->lost, memory_order_relaxed))
			i += flush_target_add(&s->prod, *out + i);
	lb->flushing++;
	pthread_mutex_unlock(&lb->lock);
	return (long)i;
}

/* The flush no longer holds lane pointers. */
static void flush_end(logbus_t *lb)
{
	pthread_mutex_lock(&lb->lock);
	lb->flushing--;
	retired_prune(lb);
	pthread_mutex_unlock(&lb->lock);
}

int flush_wait(const struct flush_target *t, size_t n, int timeout_ms)
{
	uint64_t now = lb_clock_ns(CLOCK_MONOTONIC);
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : now + (uint64_t)timeout_ms * 1000000u;

	for (size_t i = 0; i < n; i++) {
		for (;;) {
			uint64_t left = deadline > now ? deadline - now : 0;
			if (lb_lane_wait_tail(t[i].lane, t[i].head, UINT64_MAX,
					      left < LB_WAIT_SLICE_NS ? left : LB_WAIT_SLICE_NS) == 0)
				break;
			now = lb_clock_ns(CLOCK_MONOTONIC);
			if (now >= deadline)
				return -ETIMEDOUT;
		}
	}
	return 0;
}

LB_EXPORT int logbus_flush(logbus_t *lb, int timeout_ms)
{
	struct flush_target *t;
	long n;
	int r;

	if (!lb)
		return -EINVAL;
	if (!atomic_load_explicit(&lb->attached, memory_order_acquire))
		return 0;   /* everything went to the fallback, synchronously */
	conn_check(lb);
	n = flush_targets(lb, &t);
	if (n < 0)
		return (int)n;
	r = flush_wait(t, (size_t)n, timeout_ms);
	flush_end(lb);
	free(t);
	return r;
}

LB_EXPORT const char *logbus_refusal(logbus_t *lb)
{
	/* LMM(refusal_read:A) pairs with refusal_keep:A. */
	if (!lb || !atomic_load_explicit(&lb->has_refusal, memory_order_acquire))
		return NULL;
	return lb->refusal;
}

LB_EXPORT const char *logbus_level_name(int level)
{
	return level >= LOGBUS_EMERG && level <= LOGBUS_DEBUG ? lb_level_name((unsigned)level)
							      : NULL;
}

LB_EXPORT int logbus_level_parse(const char *name)
{
	return name ? lb_level_parse(name, strlen(name)) : -EINVAL;
}
