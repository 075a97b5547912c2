/* SPDX-License-Identifier: MIT */
/*
 * The drain loop. Each round copies the committed bytes of every lane into
 * one private buffer (shared memory is read once, never parsed in place),
 * decodes and validates the copy, merges the lanes by time stamp (each
 * lane's own order kept), hands the batch to the sinks, and only then moves
 * the lanes' tails. A writer killed at any point restarts at the tails and
 * writes again what it had not acknowledged, with the same (lane, lane_seq).
 *
 * When a round finds nothing it polls a little, then sleeps on the
 * doorbell; it wakes at least every IDLE_TIMEOUT_MS for its heartbeat and
 * to reclaim the lanes of threads and processes that are gone.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "doorbell.h"
#include "drain.h"
#include "hooks.h"
#include "lane.h"
#include "reclaim.h"
#include "stats_publish.h"

#define COPY_MIN (UINT64_C(16) << 20)
#define IDLE_POLLS 64
#define IDLE_TIMEOUT_MS 200
#define ERROR_BACKOFF_MS 200
/* A round that found fewer entries than this waits before the next one,
 * so that records gather into batches: a writer that re-reads a lane's head
 * right behind its producer makes every publish miss its cache line. */
#define BATCH_SMALL 512
#define BATCH_PAUSE_US 50

static uint64_t now_mono(void)
{
	return lb_clock_ns(CLOCK_MONOTONIC);
}

static bool batch_reserve(struct batch *b, size_t n)
{
	if (b->cap - b->count >= n)
		return true;
	size_t cap = b->cap ? b->cap * 2 : 4096;
	while (cap - b->count < n)
		cap *= 2;
	struct batch_entry *e = realloc(b->entries, cap * sizeof(*e));
	if (!e)
		return false;
	b->entries = e;
	b->cap = cap;
	return true;
}

int writer_init(struct writer *w)
{
	uint32_t n = w->bus.lane_count;

	w->copy_cap = COPY_MIN > 2 * (uint64_t)w->bus.max_record ? COPY_MIN
								    : 2 * (uint64_t)w->bus.max_record;
	w->copy = malloc(w->copy_cap);
	w->lanes = calloc(n, sizeof(*w->lanes));
	if (!w->copy || !w->lanes)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		w->lanes[i].tail = lb_lane_tail(&w->bus, i);
	w->next_seq = lb_bus_output_seq(&w->bus);
	return 0;
}

void writer_fini(struct writer *w)
{
	free(w->copy);
	free(w->lanes);
	free(w->collected.entries);
	free(w->merged.entries);
	for (size_t i = 0; i < w->nsinks; i++)
		w->sinks[i]->ops->destroy(w->sinks[i]);
	free(w->sinks);
}

static uint64_t entry_ns(const struct writer *w, const struct lb_entry *e)
{
	return e->ts_mode == LB_TS_TSC ? tsc_clock_ns(&w->clock, e->ts) : e->ts;
}

/* Whether a pad of size bytes at position pos ends exactly at the ring's
 * end, within what the producer committed. */
static bool pad_fits(const struct writer *w, uint64_t pos, uint64_t size, uint64_t head)
{
	return (pos & (w->bus.lane_size - 1)) + size == w->bus.lane_size && pos + size <= head;
}

/* Decode lane i's copied bytes; returns bytes consumed (whole records,
 * and pads, which may reach past the copy), with *corrupt set when it met
 * bytes that are no record. */
static uint64_t decode_lane(struct writer *w, uint32_t i, const uint8_t *buf, size_t n,
			   uint64_t head, bool *corrupt)
{
	struct lane_track *t = &w->lanes[i];
	size_t off = 0;

	*corrupt = false;
	t->first = w->collected.count;
	while (off < n) {
		struct lb_entry e;
		bool pad;
		long r = lb_record_decode(buf + off, n - off, w->bus.max_record, &e, &pad);

		if (r == -EAGAIN)
			break;
		if (r < 0 || (pad && !pad_fits(w, t->tail + off, (uint64_t)r, head))) {
			*corrupt = true;
			break;
		}
		off += (size_t)r;
		if (pad)
			continue;
		if (!batch_reserve(&w->collected, 1))
			break;
		w->collected.entries[w->collected.count++] = (struct batch_entry){
			.e = e, .ts_ns = entry_ns(w, &e), .lane = i,
		};
	}
	t->count = w->collected.count - t->first;
	return off;
}

/* A lane whose bytes are no records: keep the entries decoded before
 * them, skip the rest up to the head, and say so. */
static void lane_corrupt(struct writer *w, uint32_t i, uint64_t head)
{
	struct lane_track *t = &w->lanes[i];

	w->counters.corrupt++;
	fprintf(stderr, "logbus-writer: lane %u holds bytes that are not records "
		"(tail %llu, head %llu); skipping them\n", i, (unsigned long long)t->tail,
		(unsigned long long)head);
	t->batch_tail = head & ~(uint64_t)(LB_RECORD_ALIGN - 1);
}

/* Copy and decode every lane; returns whether any lane had bytes. */
static bool collect(struct writer *w)
{
	uint32_t n = w->bus.lane_count;
	uint64_t per_lane = w->copy_cap / n > w->bus.max_record ? w->copy_cap / n
								 : w->bus.max_record;
	size_t used = 0;
	bool any = false;

	w->collected.count = 0;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = (w->first_lane + k) % n;
		struct lane_track *t = &w->lanes[i];
		size_t cap = w->copy_cap - used < per_lane ? w->copy_cap - used : per_lane;
		uint64_t head;
		long got = lb_lane_read(&w->bus, i, t->tail, w->copy + used, cap, &head);

		t->count = 0;
		t->batch_tail = t->tail;
		if (got < 0) {
			lane_corrupt(w, i, head);
			any = true;
			continue;
		}
		if (got == 0)
			continue;
		any = true;
		bool corrupt;
		uint64_t consumed = decode_lane(w, i, w->copy + used, (size_t)got, head, &corrupt);
		used += (size_t)got;
		if (corrupt)
			lane_corrupt(w, i, head);
		else
			t->batch_tail = t->tail + consumed;
	}
	w->first_lane = (w->first_lane + 1) % n;
	return any;
}

/* Merge the lanes' runs by time stamp into w->merged, keeping each lane's
 * order; assign output sequence numbers. O(entries x lanes with entries),
 * which for the few lanes of one round is cheaper than a heap. */
static bool merge(struct writer *w)
{
	uint32_t n = w->bus.lane_count;
	size_t total = w->collected.count;

	w->merged.count = 0;
	if (!batch_reserve(&w->merged, total))
		return false;
	while (w->merged.count < total) {
		struct lane_track *best = NULL;
		for (uint32_t i = 0; i < n; i++) {
			struct lane_track *t = &w->lanes[i];
			if (t->count && (!best || w->collected.entries[t->first].ts_ns <
							  w->collected.entries[best->first].ts_ns))
				best = t;
		}
		struct batch_entry *be = &w->merged.entries[w->merged.count++];
		*be = w->collected.entries[best->first++];
		best->count--;
		be->seq = w->next_seq++;
	}
	return true;
}

static void pause_us(long us)
{
	nanosleep(&(struct timespec){ .tv_nsec = us * 1000 }, NULL);
}

static void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
		  NULL);
}

/* Give the batch to one sink; returns its result, counted. */
static int deliver_to(struct writer *w, struct sink *s)
{
	struct sink_counters *c = &s->counters;
	uint64_t start = now_mono();
	int r = s->ops->write(s, &w->merged);
	uint64_t end = now_mono(), took = end - start;

	/* A slow sink must not look like a dead writer to the producers,
	 * which send entries to the fallback after a stale heartbeat. */
	lb_bus_heartbeat(&w->bus, end);
	c->latency_ns_sum += took;
	if (took > c->latency_ns_max)
		c->latency_ns_max = took;
	if (r < 0) {
		c->errors++;
		if (r != c->last_error)
			fprintf(stderr, "logbus-writer: sink %s failed: %s\n", s->name,
				strerror(-r));
	} else {
		c->written += w->merged.count;
		if (c->last_error)
			fprintf(stderr, "logbus-writer: sink %s works again\n", s->name);
	}
	c->last_error = r;
	return r;
}

/*
 * Hand the merged batch to every sink, then move the tails. When every sink
 * fails, the tails stay: the entries wait in the bus (and clients see
 * their lanes fill) until a sink comes back. When only some fail, the
 * others must not be held up: the failing ones count the batch as
 * dropped. Returns 0, or -EIO when no sink took the batch.
 */
static int deliver(struct writer *w)
{
	size_t took = 0;

	writer_stats_collected(w);
	/* Filters first: dropped entries take no sequence number; rewritten
	 * ones live in the hook set until the next batch. */
	w->next_seq -= hooks_filter(w->hooks, &w->merged);
	for (size_t i = 0; i < w->nsinks; i++)
		if (deliver_to(w, w->sinks[i]) == 0)
			took++;
	if (w->nsinks && !took) {
		w->next_seq -= w->merged.count;
		w->counters.sink_errors++;
		return -EIO;
	}
	for (size_t i = 0; i < w->nsinks; i++)
		if (w->sinks[i]->counters.last_error)
			w->sinks[i]->counters.dropped += w->merged.count;
	hooks_dispatch(w->hooks, &w->merged);   /* copies; never blocks */
	lb_bus_set_output_seq(&w->bus, w->next_seq);
	for (uint32_t i = 0; i < w->bus.lane_count; i++) {
		struct lane_track *t = &w->lanes[i];
		if (t->batch_tail != t->tail) {
			lb_lane_advance(&w->bus, i, t->batch_tail);
			lb_lane_wake_blocked(&w->bus, i);
			t->tail = t->batch_tail;
		}
	}
	w->counters.entries += w->merged.count;
	w->counters.batches++;
	writer_stats_delivered(w);
	lb_bus_batch_done(&w->bus);
	return 0;
}

/* One round; returns whether there was anything to do. */
static bool drain_round(struct writer *w)
{
	if (!collect(w))
		return false;
	if (!merge(w) || deliver(w) < 0)
		sleep_ms(ERROR_BACKOFF_MS);
	return true;
}

static void reopen_sinks(struct writer *w)
{
	for (size_t i = 0; i < w->nsinks; i++) {
		int r = w->sinks[i]->ops->reopen(w->sinks[i]);
		if (r < 0)
			fprintf(stderr, "logbus-writer: sink %s cannot reopen: %s\n",
				w->sinks[i]->name, strerror(-r));
	}
}

static bool any_pending(const struct writer *w)
{
	for (uint32_t i = 0; i < w->bus.lane_count; i++)
		if (lb_lane_pending(&w->bus, i, w->lanes[i].tail))
			return true;
	return false;
}

static void idle_wait(struct writer *w)
{
	lb_doorbell_arm(&w->bus);
	if (any_pending(w) || *w->stop) {
		lb_doorbell_disarm(&w->bus);
		return;
	}
	lb_doorbell_wait(&w->bus, IDLE_TIMEOUT_MS);
}

/* After a stop: drain what was committed when it came, then return. */
static void drain_final(struct writer *w)
{
	uint64_t *goal = calloc(w->bus.lane_count, sizeof(*goal));
	bool done = false;

	for (uint32_t i = 0; goal && i < w->bus.lane_count; i++) {
		struct lb_lane_info info;
		lb_lane_info_get(&w->bus, i, &info);
		goal[i] = info.head;
	}
	while (goal && !done) {
		drain_round(w);
		done = true;
		for (uint32_t i = 0; i < w->bus.lane_count; i++)
			if (w->lanes[i].tail < goal[i] &&
			    goal[i] - w->lanes[i].tail <= w->bus.lane_size)
				done = false;
		if (!done && w->counters.sink_errors && *w->stop > 1)
			break;   /* a second signal: give up on a dead sink */
	}
	free(goal);
}

int writer_run(struct writer *w)
{
	unsigned idle = 0;

	while (!*w->stop) {
		uint64_t now = now_mono();

		lb_bus_heartbeat(&w->bus, now);
		writer_stats_tick(w, now);
		tsc_clock_refresh(&w->clock, now);
		if (w->tick)
			w->tick(w, now);
		if (*w->reopen) {
			*w->reopen = 0;
			reopen_sinks(w);
		}
		if (drain_round(w)) {
			idle = 0;
			if (w->merged.count < BATCH_SMALL)
				pause_us(BATCH_PAUSE_US);
			continue;
		}
		reclaim_lanes(w, now);
		if (++idle < IDLE_POLLS) {
			sched_yield();
			continue;
		}
		idle_wait(w);
	}
	drain_final(w);
	reclaim_lanes(w, UINT64_MAX);
	return 0;
}
