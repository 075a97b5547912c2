/* SPDX-License-Identifier: MIT */
/*
 * The writer's stats publisher. The drain loop's own counters (struct
 * writer_counters, each sink's struct sink_counters) only grow; this file
 * adds what they lack and copies everything into the stats segment.
 *
 * Counting basis. Each client (a lane file, one grant of a slot) has one
 * set of counts, struct lane_basis: the client's own (published, dropped
 * by reason: its lane header, zero in a new file) and the
 * writer's (written, filtered, abandoned: the entries of that client it
 * accounted for, by lane sequence). Both sides start when the client
 * does and end when the writer reclaims its lane, when they move to the
 * retired totals; the bus totals are retired plus live clients, so every
 * identity of a client holds for the bus as well:
 *
 *	published = queued + dropped_full + dropped_too_large
 *	queued = written + filtered + dropped_abandoned + waiting
 *
 * waiting is what the client committed and the writer has not accounted
 * for yet. The writer keeps its side across restarts (stats_state.h),
 * saved after each batch the sinks took and before their positions: an
 * entry read again after a restart has a lane sequence below next_seq and
 * is not counted twice.
 *
 * One snapshot is self-consistent: the lane headers are sampled once per
 * publish, after the batches counted in it were read, and a producer
 * stores its published count before the head that covers the entry
 * (lane_commit:A), so the sample covers every entry the writer accounted
 * for. Lane headers are client-writable memory: the client's counts are
 * kept from decreasing and never below what the writer accounted for,
 * whatever a lane claims; who the client is comes from the registry.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hooks.h"
#include "lane.h"
#include "lane_table.h"
#include "registry.h"
#include "sink.h"
#include "stats.h"
#include "stats_publish.h"
#include "stats_state.h"

#define PUBLISH_NS (100 * 1000000ull)

/* What the writer remembers of a lane between publishes, beside its
 * basis (writer_stats.bases). */
struct lane_stats {
	bool retired;            /* the grant `retired_grant` was freed */
	uint64_t retired_grant;
	uint64_t last_ts;        /* CLOCK_REALTIME of the last written entry */
	/* The batch being delivered: its entries of this lane not accounted
	 * for yet, before the filters, and how many of them the sinks took. */
	uint64_t batch_taken, batch_written;
	uint64_t batch_first_seq, batch_last_seq;
	uint64_t taken_ns;       /* CLOCK_MONOTONIC of the last lane_counts_take */
};

struct writer_stats {
	const struct lane_table *table;  /* the lanes: their files, clients, registry */
	const uint64_t *lead;            /* per lane: how far the drain handed it */
	struct lb_stats_segment seg;
	struct lb_stats_snapshot snap;   /* the next values to publish */
	struct lane_stats *lanes;
	struct lane_basis *bases;        /* per lane, the counts of its client */
	uint32_t *touched;               /* lanes with entries in the batch */
	uint32_t ntouched;
	struct retired_counts retired;
	struct stats_state state;
	bool save_failed;                /* said once */
	struct hook_metrics hooks[LB_STATS_HOOKS_MAX];
	uint64_t next_publish_ns;
	uint64_t opened_ns;              /* CLOCK_MONOTONIC when the stats opened */
};

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t accounted(const struct client_counts *n)
{
	return n->written + n->filtered + n->abandoned;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* A count the client says is now said, from was: never backwards, and
 * up by at most most. */
static uint64_t count_said(uint64_t was, uint64_t said, uint64_t most)
{
	return max_u64(was, min_u64(said, was + most));
}

/*
 * The client's counts from its lane header, never backwards, queued never
 * below what the writer accounted for, and each within what the client
 * could have done: queued no more than the writer accounted for and its
 * lane can hold or held in bytes the drain skipped as no records (a
 * record per smallest record's bytes), each drop count
 * up by at most one a nanosecond since ns_since (a publish takes longer).
 * So a client that scribbles on its header moves no total by more than
 * that; it only makes its own counts wrong.
 */
static void counts_take(struct client_counts *n, const struct lb_lane_info *info,
			uint64_t lane_size, uint64_t skipped, uint64_t ns_since)
{
	uint64_t fill = info->head - info->tail <= lane_size ? info->head - info->tail : 0;
	uint64_t cap = accounted(n) + (fill + skipped) / sizeof(struct lb_record_header);

	n->queued = max_u64(max_u64(n->queued, min_u64(info->published, cap)), accounted(n));
	n->dropped_full = count_said(n->dropped_full, info->dropped_full, ns_since);
	n->dropped_too_large = count_said(n->dropped_too_large, info->dropped_too_large, ns_since);
}

/* counts_take for lane i's client, whose drop counts may have grown since
 * its last take (or the stats' opening). */
static void lane_counts_take(struct writer_stats *st, uint32_t i, const struct lb_lane_info *info)
{
	struct lane_stats *ls = &st->lanes[i];
	uint64_t now = lb_clock_ns(CLOCK_MONOTONIC);
	uint64_t since = ls->taken_ns ? ls->taken_ns : st->opened_ns;

	counts_take(&st->bases[i].n, info, st->table->bus->lane_size, st->table->files[i].skipped,
		    now > since ? now - since : 0);
	ls->taken_ns = now;
}

static void counts_add(struct client_counts *sum, const struct client_counts *n)
{
	sum->queued += n->queued;
	sum->dropped_full += n->dropped_full;
	sum->dropped_too_large += n->dropped_too_large;
	sum->written += n->written;
	sum->filtered += n->filtered;
	sum->abandoned += n->abandoned;
}

static void state_save(struct writer_stats *st, uint32_t nlanes)
{
	int r = stats_state_save(&st->state, st->bases, nlanes, &st->retired);
	if (r < 0 && !st->save_failed)
		fprintf(stderr, "logbus-writer: stats counts %s: cannot save: %s; after a "
			"restart the entries written since would count as waiting\n",
			st->state.name, strerror(-r));
	st->save_failed = r < 0;
}

/* The client of lane i is done: what it committed and the writer never
 * saw was abandoned; its counts move to the retired totals, and the
 * lane's next client starts where its sequences stopped. */
static void basis_retire(struct writer_stats *st, uint32_t i, const struct lb_lane_info *info)
{
	const struct lane_file *f = &st->table->files[i];
	struct client_counts *n = &st->bases[i].n;

	lane_counts_take(st, i, info);
	n->abandoned += n->queued - accounted(n);
	counts_add(&st->retired.n, n);
	st->retired.clients++;
	st->lanes[i] = (struct lane_stats){ .retired = true, .retired_grant = f->grant,
					    .taken_ns = lb_clock_ns(CLOCK_MONOTONIC) };
	st->bases[i] = (struct lane_basis){ .seq_known = true, .next_seq = f->seq_end };
}

/* Whether the lane holds another client than the basis counts: after a
 * writer restart, a client that left while no writer counted. */
static bool basis_stale(const struct lane_basis *b, const struct lane_file *f)
{
	return b->known && b->grant != f->grant;
}

/*
 * Lane i's first entry in sight, at lane sequence first (or the lane
 * found drained, first its next_seq), with no basis of where the writer's
 * accounting stands (no state kept or it was lost, or the lane's client
 * changed while no writer counted): the
 * client's entries before it were drained by an earlier writer, which
 * moves a tail only after its sinks took the entries; they count as
 * written. The client's first sequence is its lane file's first.
 */
static void basis_guess(struct writer_stats *st, uint32_t i, uint64_t first)
{
	struct lane_basis *b = &st->bases[i];
	struct lb_lane_info info;

	lb_lane_info_get(st->table->bus, i, &info);
	uint64_t base = st->table->files[i].seq_start;
	uint64_t before = first > base ? first - base : 0;
	b->n.written += before < info.published ? before : info.published;
	b->seq_known = true;
	b->next_seq = first;
}

/* Fill client record c for lane i from a fresh sample of its header. */
static void sample_lane(struct writer_stats *st, uint32_t i, struct lb_stats_client *c)
{
	struct lane_stats *ls = &st->lanes[i];
	struct lane_basis *b = &st->bases[i];
	const struct lane_file *f = &st->table->files[i];
	const struct lb_client_identity *who = &st->table->who[i];
	const struct lb_slot *slot = &st->table->reg->slots[i];
	struct lb_lane_info info;

	lb_lane_info_get(st->table->bus, i, &info);
	*c = (struct lb_stats_client){ .lane = i, .claim = f->grant };
	if (info.head >= info.tail && info.head - info.tail <= st->table->bus->lane_size)
		c->fill_bytes = info.head - info.tail;
	if (f->grant && basis_stale(b, f)) {
		/* Its new client came unseen: where that one's counts stand,
		 * only its lane tells (basis_guess). */
		basis_retire(st, i, &info);
		*ls = (struct lane_stats){ 0 };
		*b = (struct lane_basis){ 0 };
	}
	if (!f->grant) {
		if (b->known || accounted(&b->n))   /* freed by a writer killed before it saved */
			basis_retire(st, i, &info);
		b->seq_known = true;   /* its next client starts there */
		b->next_seq = atomic_load_explicit(&slot->seq_floor, memory_order_relaxed);
		return;
	}
	if (!b->seq_known && info.head == info.tail && info.tail == st->lead[i])
		basis_guess(st, i, f->seq_end);   /* drained: all of it was accounted */
	*b = (struct lane_basis){ .known = true, .pid = who->pid, .grant = f->grant,
				  .seq_known = b->seq_known, .next_seq = b->next_seq, .n = b->n };
	lane_counts_take(st, i, &info);
	c->state = atomic_load_explicit(&slot->state, memory_order_relaxed) == LB_SLOT_RELEASED
			   ? LB_STATS_CLIENT_RELEASED
			   : LB_STATS_CLIENT_OWNED;
	c->pid = who->pid;
	c->tid = slot->tid;
	memcpy(c->comm, who->comm, sizeof(c->comm));
	c->last_publish_ns = ls->last_ts;
}

/* The counts of client record c from its lane's basis. */
static void client_counts(struct lb_stats_client *c, const struct client_counts *n)
{
	c->queued = n->queued;
	c->dropped_full = n->dropped_full;
	c->dropped_too_large = n->dropped_too_large;
	c->published = n->queued + n->dropped_full + n->dropped_too_large;
	c->written = n->written;
	c->filtered = n->filtered;
	c->dropped_abandoned = n->abandoned;
	c->waiting = n->queued - accounted(n);
}

static void fill_bus(struct writer_stats *st, const struct writer_counters *counters)
{
	const struct lb_registry_header *reg = st->table->reg->hdr;
	uint32_t nlanes = st->table->bus->lane_count;
	struct lb_stats_bus *b = &st->snap.bus;
	struct client_counts sum;
	uint64_t in_use = 0, fill = 0;

	for (uint32_t i = 0; i < nlanes; i++) {
		struct lb_stats_client *c = &st->snap.clients[i];
		sample_lane(st, i, c);
		in_use += c->state != LB_STATS_CLIENT_FREE;
		fill += c->fill_bytes;
	}
	/* After the samples: a retire in them moved counts to st->retired. */
	sum = st->retired.n;
	for (uint32_t i = 0; i < nlanes; i++) {
		const struct client_counts *n = &st->bases[i].n;
		client_counts(&st->snap.clients[i], n);
		counts_add(&sum, n);
	}
	b->lane_count = nlanes;
	b->lane_size = st->table->bus->lane_size;
	b->lanes_in_use = in_use;
	b->fill_bytes = fill;
	b->queued = sum.queued;
	b->dropped_full = sum.dropped_full;
	b->dropped_too_large = sum.dropped_too_large;
	b->dropped_no_lane = max_u64(b->dropped_no_lane,
				     atomic_load_explicit(&reg->dropped_no_lane, memory_order_relaxed));
	b->published = sum.queued + sum.dropped_full + sum.dropped_too_large + b->dropped_no_lane;
	b->written = sum.written;
	b->filtered = sum.filtered;
	b->dropped_abandoned = sum.abandoned;
	b->waiting = sum.queued - accounted(&sum);
	b->clients_retired = st->retired.clients;
	b->batches = counters->batches;
	b->corrupt = counters->corrupt;
	b->reclaimed = counters->reclaimed;
	b->quarantined = counters->quarantined;
	b->batches_failed = counters->sink_errors;
	b->registrations = atomic_load_explicit(&reg->registrations, memory_order_relaxed);
	b->refused_denied = atomic_load_explicit(&reg->refused_denied, memory_order_relaxed);
	b->refused_quota = atomic_load_explicit(&reg->refused_quota, memory_order_relaxed);
	b->refused_full = atomic_load_explicit(&reg->refused_full, memory_order_relaxed);
}

static void fill_sinks(struct writer_stats *st, const struct stats_drain *d)
{
	const struct writer_counters *counters = d->counters;
	struct lb_stats_snapshot *snap = &st->snap;

	snap->nsinks = d->nsinks < LB_STATS_SINKS_MAX ? (uint32_t)d->nsinks : LB_STATS_SINKS_MAX;
	for (uint32_t i = 0; i < snap->nsinks; i++) {
		const struct sink *s = d->sinks[i];
		struct lb_stats_sink *o = &snap->sinks[i];

		*o = (struct lb_stats_sink){
			.written = s->counters.written,
			.bytes = s->counters.bytes,
			.errors = s->counters.errors,
			.dropped = s->counters.dropped,
			.latency_ns_sum = s->counters.latency_ns_sum,
			.latency_ns_max = s->counters.latency_ns_max,
			.batches = counters->batches + counters->sink_errors,
			.last_error = s->counters.last_error,
		};
		snprintf(o->name, sizeof(o->name), "%s", s->name ? s->name : "?");
	}
}

static void fill_hooks(struct writer_stats *st, struct hooks *hooks)
{
	size_t n = hooks ? hooks_metrics(hooks, st->hooks, LB_STATS_HOOKS_MAX) : 0;

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

static void publish(struct writer_stats *st, const struct stats_drain *d)
{
	fill_bus(st, d->counters);
	fill_sinks(st, d);
	fill_hooks(st, d->hooks);
	st->snap.updated_ns = lb_clock_ns(CLOCK_REALTIME);
	st->snap.publishes++;
	lb_stats_publish(&st->seg, &st->snap);
}

static void stats_free(struct writer_stats *st)
{
	stats_state_close(&st->state);
	free(st->lanes);
	free(st->bases);
	free(st->touched);
	free(st->snap.clients);
	free(st);
}

/* The counts a restarted writer continues, from its state directory. */
static void state_load(struct writer_stats *st, int state_dirfd, const char *bus)
{
	int r = stats_state_open(&st->state, state_dirfd, bus, lb_bus_id(st->table->bus), st->bases,
				 st->table->bus->lane_count, &st->retired);

	if (r < 0)
		fprintf(stderr, "logbus-writer: stats counts %s: cannot open: %s; they start "
			"at zero and a restart starts them again\n", st->state.name, strerror(-r));
}

struct writer_stats *writer_stats_open(const char *bus, mode_t mode, gid_t group,
				       int state_dirfd, const struct lane_table *table,
				       const uint64_t *lead, const struct stats_drain *d)
{
	struct writer_stats *st = calloc(1, sizeof(*st));
	uint32_t nlanes = table->bus->lane_count;
	struct lb_bus_error err = { "" };
	int r;

	if (!st) {
		fprintf(stderr, "logbus-writer: running without stats: out of memory\n");
		return NULL;
	}
	*st = (struct writer_stats){ .table = table, .lead = lead, .state = { .fd = -1 } };
	st->lanes = calloc(nlanes, sizeof(*st->lanes));
	st->bases = calloc(nlanes, sizeof(*st->bases));
	st->touched = calloc(nlanes, sizeof(*st->touched));
	st->snap.clients = calloc(nlanes, sizeof(*st->snap.clients));
	r = st->lanes && st->bases && st->touched && st->snap.clients ? 0 : -ENOMEM;
	if (r == 0)
		r = lb_stats_create(bus, nlanes, mode, group, &st->seg, &err);
	if (r < 0) {
		fprintf(stderr, "logbus-writer: running without stats: %s\n",
			r == -ENOMEM ? "out of memory" : err.why);
		stats_free(st);
		return NULL;
	}
	state_load(st, state_dirfd, bus);
	st->snap.version = LB_STATS_VERSION;
	st->snap.writer_pid = getpid();
	st->snap.start_ns = lb_clock_ns(CLOCK_REALTIME);
	st->snap.nclients = nlanes;
	st->opened_ns = lb_clock_ns(CLOCK_MONOTONIC);
	lb_stats_heartbeat(&st->seg, lb_clock_ns(CLOCK_MONOTONIC));
	publish(st, d);
	return st;
}

void writer_stats_tick(struct writer_stats *st, uint64_t now, const struct stats_drain *d)
{
	if (!st)
		return;
	lb_stats_heartbeat(&st->seg, now);
	if (now < st->next_publish_ns)
		return;
	st->next_publish_ns = now + PUBLISH_NS;
	publish(st, d);
}

void writer_stats_collected(struct writer_stats *st, const struct batch *merged)
{
	if (!st)
		return;
	for (uint32_t k = 0; k < st->ntouched; k++)   /* a batch that failed */
		st->lanes[st->touched[k]].batch_taken = 0;
	st->ntouched = 0;
	for (size_t k = 0; k < merged->count; k++) {
		const struct batch_entry *be = &merged->entries[k];
		struct lane_stats *ls = &st->lanes[be->lane];

		if (!st->bases[be->lane].seq_known)
			basis_guess(st, be->lane, be->e.seq);
		if (be->e.seq < st->bases[be->lane].next_seq)
			continue;   /* read again after a restart: counted */
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
static void lane_delivered(struct lane_stats *ls, struct lane_basis *b)
{
	if (ls->batch_first_seq > b->next_seq)
		b->n.abandoned += ls->batch_first_seq - b->next_seq;
	b->next_seq = ls->batch_last_seq + 1;
	b->n.written += ls->batch_written;
	b->n.filtered += ls->batch_taken - ls->batch_written;
	ls->batch_taken = 0;
}

void writer_stats_delivered(struct writer_stats *st, const struct batch *merged)
{
	uint64_t now;

	if (!st)
		return;
	now = lb_clock_ns(CLOCK_REALTIME);
	for (size_t k = 0; k < merged->count; k++) {
		const struct batch_entry *be = &merged->entries[k];
		struct lane_stats *ls = &st->lanes[be->lane];

		if (be->e.seq < st->bases[be->lane].next_seq)
			continue;
		lb_stats_hist_add(&st->snap.latency, now > be->ts_ns ? now - be->ts_ns : 0, 1);
		ls->batch_written++;
		ls->last_ts = be->ts_ns;
	}
	for (uint32_t k = 0; k < st->ntouched; k++)
		lane_delivered(&st->lanes[st->touched[k]], &st->bases[st->touched[k]]);
	if (st->ntouched)
		state_save(st, st->table->bus->lane_count);
	st->ntouched = 0;
	if (merged->count)
		lb_stats_hist_add(&st->snap.batch, merged->count, 1);
}

void writer_stats_retire(struct writer_stats *st, uint32_t i)
{
	struct lb_lane_info info;

	if (!st)
		return;
	lb_lane_info_get(st->table->bus, i, &info);
	basis_retire(st, i, &info);
	state_save(st, st->table->bus->lane_count);
}

void writer_stats_close(struct writer_stats *st, const struct stats_drain *d)
{
	if (!st)
		return;
	st->snap.writer_pid = 0;
	publish(st, d);
	state_save(st, st->table->bus->lane_count);
	lb_stats_close(&st->seg);
	stats_free(st);
}
