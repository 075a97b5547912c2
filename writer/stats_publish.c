/* SPDX-License-Identifier: MIT */
/*
 * The writer's stats publisher. The drain loop's own counters (struct
 * writer_counters, each sink's struct sink_counters) only grow; this file
 * adds what they lack and copies everything into the stats segment.
 *
 * Clients' counts live in their lane's header, reset when a lane is
 * claimed. So that bus totals never go backwards, the final counts of a
 * reclaimed lane move to `retired` at the moment the writer frees it
 * (writer_stats_retire, from reclaim.c), and totals are retired plus the
 * live lanes. Lane headers are client-writable memory: every total is also
 * kept from decreasing here, whatever a lane claims.
 *
 * One window is left open by the lane claim itself: a new claimant bumps
 * the claim count a few stores before it zeroes the counters. The first
 * sample of a new claim therefore takes a counter equal to the previous
 * claim's final value as not yet zeroed (0): at worst a new client's count
 * shows one publish late, never twice.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "drain.h"
#include "hooks.h"
#include "lane.h"
#include "stats.h"
#include "stats_publish.h"

#define PUBLISH_NS (100 * 1000000ull)

struct lane_counts {
	uint64_t queued, dropped_full, dropped_too_large;
};

/* What the writer remembers of a lane between publishes. */
struct lane_stats {
	uint64_t claim;          /* the claim count sampled last */
	bool retired;            /* the claim `retired_claim` was reclaimed */
	uint64_t retired_claim;
	struct lane_counts final;/* its last counts */
	uint64_t written;        /* entries written since the last reclaim */
	uint64_t filtered;       /* entries filter hooks dropped since then */
	uint64_t abandoned;      /* lane sequences skipped since then */
	bool seq_known;
	uint64_t next_seq;       /* the lane sequence expected next */
	uint64_t last_ts;        /* CLOCK_REALTIME of the last written entry */
	/* The batch being delivered: its entries of this lane before the
	 * filters, and how many of them the sinks took. */
	uint64_t batch_taken, batch_written;
	uint64_t batch_first_seq, batch_last_seq;
};

struct writer_stats {
	struct lb_stats_segment seg;
	struct lb_stats_snapshot snap;   /* the next values to publish */
	struct lane_stats *lanes;
	uint32_t *touched;               /* lanes with entries in the batch */
	uint32_t ntouched;
	struct lane_counts retired;
	uint64_t retired_abandoned;
	struct hook_metrics hooks[LB_STATS_HOOKS_MAX];
	uint64_t next_publish_ns;
};

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* A counter of a claim seen for the first time, equal to the last claim's
 * final value: not zeroed by the claimant yet. */
static uint64_t fresh(uint64_t v, bool first_sight, uint64_t final)
{
	return first_sight && v == final ? 0 : v;
}

/* Fill client record c for lane i; adds its live counts to *live. */
static void sample_lane(struct writer *w, uint32_t i, struct lb_stats_client *c,
			struct lane_counts *live, uint64_t *abandoned)
{
	struct lane_stats *ls = &w->stats->lanes[i];
	struct lb_lane_info info;
	bool first;

	lb_lane_info_get(&w->bus, i, &info);
	*c = (struct lb_stats_client){ .lane = i, .claim = info.claims };
	if (info.head >= info.tail && info.head - info.tail <= w->bus.lane_size)
		c->fill_bytes = info.head - info.tail;
	if (!info.owner || (ls->retired && info.claims == ls->retired_claim))
		return;
	first = ls->retired && info.claims != ls->claim;
	ls->claim = info.claims;
	c->state = info.released ? LB_STATS_CLIENT_RELEASED : LB_STATS_CLIENT_OWNED;
	c->pid = info.pid;
	c->tid = info.tid;
	memcpy(c->comm, info.comm, sizeof(c->comm));
	c->queued = fresh(info.published, first, ls->final.queued);
	c->dropped_full = fresh(info.dropped_full, first, ls->final.dropped_full);
	c->dropped_too_large = fresh(info.dropped_too_large, first, ls->final.dropped_too_large);
	c->published = c->queued + c->dropped_full + c->dropped_too_large;
	c->written = ls->written;
	c->filtered = ls->filtered;
	c->dropped_abandoned = ls->abandoned;
	c->last_publish_ns = ls->last_ts;
	live->queued += c->queued;
	live->dropped_full += c->dropped_full;
	live->dropped_too_large += c->dropped_too_large;
	*abandoned += c->dropped_abandoned;
}

static void fill_bus(struct writer *w)
{
	struct writer_stats *st = w->stats;
	struct lb_stats_bus *b = &st->snap.bus;
	struct lane_counts live = st->retired;
	uint64_t abandoned = st->retired_abandoned, in_use = 0, fill = 0;

	for (uint32_t i = 0; i < w->bus.lane_count; i++) {
		struct lb_stats_client *c = &st->snap.clients[i];
		sample_lane(w, i, c, &live, &abandoned);
		in_use += c->state != LB_STATS_CLIENT_FREE;
		fill += c->fill_bytes;
	}
	b->lane_count = w->bus.lane_count;
	b->lane_size = w->bus.lane_size;
	b->lanes_in_use = in_use;
	b->fill_bytes = fill;
	b->queued = max_u64(b->queued, live.queued);
	b->dropped_full = max_u64(b->dropped_full, live.dropped_full);
	b->dropped_too_large = max_u64(b->dropped_too_large, live.dropped_too_large);
	b->dropped_abandoned = max_u64(b->dropped_abandoned, abandoned);
	b->published = max_u64(b->published, b->queued + b->dropped_full + b->dropped_too_large);
	b->written = w->counters.entries;
	b->batches = w->counters.batches;
	b->corrupt = w->counters.corrupt;
	b->reclaimed = w->counters.reclaimed;
	b->quarantined = w->counters.quarantined;
	b->batches_failed = w->counters.sink_errors;
}

static void fill_sinks(struct writer *w)
{
	struct lb_stats_snapshot *snap = &w->stats->snap;

	snap->nsinks = w->nsinks < LB_STATS_SINKS_MAX ? (uint32_t)w->nsinks : LB_STATS_SINKS_MAX;
	for (uint32_t i = 0; i < snap->nsinks; i++) {
		const struct sink *s = w->sinks[i];
		struct lb_stats_sink *o = &snap->sinks[i];

		*o = (struct lb_stats_sink){
			.written = s->counters.written,
			.bytes = s->counters.bytes,
			.errors = s->counters.errors,
			.dropped = s->counters.dropped,
			.latency_ns_sum = s->counters.latency_ns_sum,
			.latency_ns_max = s->counters.latency_ns_max,
			.batches = w->counters.batches + w->counters.sink_errors,
			.last_error = s->counters.last_error,
		};
		snprintf(o->name, sizeof(o->name), "%s", s->name ? s->name : "?");
	}
}

static void fill_hooks(struct writer *w)
{
	struct writer_stats *st = w->stats;
	size_t n = w->hooks ? hooks_metrics(w->hooks, st->hooks, LB_STATS_HOOKS_MAX) : 0;

	st->snap.nhooks = n < LB_STATS_HOOKS_MAX ? (uint32_t)n : LB_STATS_HOOKS_MAX;
	for (uint32_t i = 0; i < st->snap.nhooks; i++) {
		const struct hook_metrics *m = &st->hooks[i];
		struct lb_stats_hook *o = &st->snap.hooks[i];

		*o = (struct lb_stats_hook){
			.matched = m->matched,
			.calls = m->calls,
			.ok = m->ok,
			.dropped = m->dropped,
			.rewritten = m->rewritten,
			.errors = m->errors,
			.timeouts = m->timeouts,
			.queue_drops = m->queue_drops,
			.restarts = m->restarts,
			.time_ns_sum = m->time_ns_sum,
			.time_ns_max = m->time_ns_max,
		};
		snprintf(o->name, sizeof(o->name), "%s", m->name);
		snprintf(o->type, sizeof(o->type), "%s", m->type ? m->type : "?");
	}
}

static void publish(struct writer *w)
{
	struct writer_stats *st = w->stats;

	fill_bus(w);
	fill_sinks(w);
	fill_hooks(w);
	st->snap.updated_ns = lb_clock_ns(CLOCK_REALTIME);
	st->snap.publishes++;
	lb_stats_publish(&st->seg, &st->snap);
}

static void stats_free(struct writer_stats *st)
{
	free(st->lanes);
	free(st->touched);
	free(st->snap.clients);
	free(st);
}

int writer_stats_open(struct writer *w, const char *bus)
{
	struct writer_stats *st = calloc(1, sizeof(*st));
	struct lb_bus_error err = { "" };
	int r;

	if (!st)
		return -ENOMEM;
	st->lanes = calloc(w->bus.lane_count, sizeof(*st->lanes));
	st->touched = calloc(w->bus.lane_count, sizeof(*st->touched));
	st->snap.clients = calloc(w->bus.lane_count, sizeof(*st->snap.clients));
	r = st->lanes && st->touched && st->snap.clients ? 0 : -ENOMEM;
	if (r == 0)
		r = lb_stats_create(bus, w->bus.lane_count, &st->seg, &err);
	if (r < 0) {
		fprintf(stderr, "logbus-writer: running without stats: %s\n",
			r == -ENOMEM ? "out of memory" : err.why);
		stats_free(st);
		return r;
	}
	st->snap.version = LB_STATS_VERSION;
	st->snap.writer_pid = getpid();
	st->snap.start_ns = lb_clock_ns(CLOCK_REALTIME);
	st->snap.nclients = w->bus.lane_count;
	w->stats = st;
	lb_stats_heartbeat(&st->seg, lb_clock_ns(CLOCK_MONOTONIC));
	publish(w);
	return 0;
}

void writer_stats_tick(struct writer *w, uint64_t now)
{
	struct writer_stats *st = w->stats;

	if (!st)
		return;
	lb_stats_heartbeat(&st->seg, now);
	if (now < st->next_publish_ns)
		return;
	st->next_publish_ns = now + PUBLISH_NS;
	publish(w);
}

void writer_stats_collected(struct writer *w)
{
	struct writer_stats *st = w->stats;

	if (!st)
		return;
	for (uint32_t k = 0; k < st->ntouched; k++)   /* a batch that failed */
		st->lanes[st->touched[k]].batch_taken = 0;
	st->ntouched = 0;
	for (size_t k = 0; k < w->merged.count; k++) {
		const struct batch_entry *be = &w->merged.entries[k];
		struct lane_stats *ls = &st->lanes[be->lane];

		if (!ls->batch_taken++) {
			st->touched[st->ntouched++] = be->lane;
			ls->batch_first_seq = be->e.seq;
			ls->batch_written = 0;
		}
		ls->batch_last_seq = be->e.seq;
	}
}

/* The lane's entries of the delivered batch: sequences skipped before
 * them were abandoned; those the filters took out were filtered. */
static void lane_delivered(struct writer_stats *st, struct lane_stats *ls)
{
	if (ls->seq_known && ls->batch_first_seq > ls->next_seq)
		ls->abandoned += ls->batch_first_seq - ls->next_seq;
	if (!ls->seq_known || ls->batch_last_seq >= ls->next_seq)
		ls->next_seq = ls->batch_last_seq + 1;
	ls->seq_known = true;
	ls->written += ls->batch_written;
	ls->filtered += ls->batch_taken - ls->batch_written;
	st->snap.bus.filtered += ls->batch_taken - ls->batch_written;
	ls->batch_taken = 0;
}

void writer_stats_delivered(struct writer *w)
{
	struct writer_stats *st = w->stats;
	uint64_t now;

	if (!st)
		return;
	now = lb_clock_ns(CLOCK_REALTIME);
	for (size_t k = 0; k < w->merged.count; k++) {
		const struct batch_entry *be = &w->merged.entries[k];
		struct lane_stats *ls = &st->lanes[be->lane];

		lb_stats_hist_add(&st->snap.latency, now > be->ts_ns ? now - be->ts_ns : 0, 1);
		ls->batch_written++;
		ls->last_ts = be->ts_ns;
	}
	for (uint32_t k = 0; k < st->ntouched; k++)
		lane_delivered(st, &st->lanes[st->touched[k]]);
	st->ntouched = 0;
	if (w->merged.count)
		lb_stats_hist_add(&st->snap.batch, w->merged.count, 1);
}

void writer_stats_retire(struct writer *w, uint32_t i, const struct lb_lane_info *info)
{
	struct writer_stats *st = w->stats;
	struct lane_stats *ls;

	if (!st)
		return;
	ls = &st->lanes[i];
	if (ls->seq_known && info->next_seq > ls->next_seq) {
		/* Skipped sequences at the end are abandoned entries, but no
		 * more than were counted published and not seen: a producer
		 * killed between its next_seq and published stores
		 * (lb_lane_commit) skipped one it never counted. */
		uint64_t skipped = info->next_seq - ls->next_seq;
		uint64_t seen = ls->written + ls->filtered + ls->abandoned;
		uint64_t unseen = info->published > seen ? info->published - seen : 0;
		ls->abandoned += skipped < unseen ? skipped : unseen;
	}
	st->retired.queued += info->published;
	st->retired.dropped_full += info->dropped_full;
	st->retired.dropped_too_large += info->dropped_too_large;
	st->retired_abandoned += ls->abandoned;
	st->snap.bus.clients_retired++;
	*ls = (struct lane_stats){
		.claim = info->claims,
		.retired = true,
		.retired_claim = info->claims,
		.final = { info->published, info->dropped_full, info->dropped_too_large },
		.seq_known = true,
		.next_seq = info->next_seq,
	};
}

void writer_stats_close(struct writer *w)
{
	struct writer_stats *st = w->stats;

	if (!st)
		return;
	st->snap.writer_pid = 0;
	publish(w);
	lb_stats_close(&st->seg);
	stats_free(st);
	w->stats = NULL;
}
