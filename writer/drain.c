/* SPDX-License-Identifier: MIT */
/*
 * The drain loop. Each round copies the committed bytes of every lane into
 * one private buffer (shared memory is read once, never parsed in place),
 * decodes and validates the copy, merges the lanes by time stamp (each
 * lane's own order kept), and hands the batch to the sinks.
 *
 * Every sink acknowledges on its own (sink.h): a lane's tail is the
 * lowest position its sinks acknowledged, and it moves in one place,
 * advance_tails(). The lead (w->lead) is how far the furthest sink
 * was handed; a round reads from there, so a sink that lags behind the
 * others holds the lane's bytes (the tail) without holding them up:
 *
 *	tail <= a lagging sink's acked <= its read <= lead <= head
 *
 * - A synchronous sink that fails a batch falls behind: the rounds after
 *   go on without it, and every ERROR_BACKOFF_MS it gets a catch-up round
 *   of its own, read from its own position up to the lead, until it is
 *   back at the lead. Nothing is dropped for it; its entries wait in the
 *   lane.
 * - An asynchronous sink (syslog) takes each batch into a queue of its own
 *   and acknowledges from its sender thread; while some of it is not
 *   acknowledged the drain, when idle, looks at the acknowledgements every
 *   ACK_POLL_MS instead of sleeping IDLE_TIMEOUT_MS.
 * When every sink at the lead fails, nothing moves and the drain backs off.
 * A lane whose tail a sink holds fills, and its producers see it full.
 *
 * Each sink's positions are saved in a state file of its own
 * (sink_acks.c), so a writer killed at any point restarts each sink where
 * it had acknowledged, and writes again only what that sink had not
 * acknowledged, with the same (lane, lane_seq).
 *
 * Every entry is stamped with the identity of its lane's client as the
 * registrar learnt it from the kernel (struct batch_entry.who); the pid a
 * record carries is the client's word and is replaced. A lane sequence is
 * the client's word within bounds: at least its file's first, and at most
 * one more per smallest record since the file's start; beyond them the
 * lane is corrupt from there, so that no forged sequence can make a sink
 * take the next client's entries for ones it holds.
 *
 * The drain owns all of this state; the modules it calls are handed what
 * they need. Before each round the lane table (lane_table.c) follows the
 * registry and says what changed: the drain starts new lanes at their
 * tails and, once it drained a released one, retires its client's counts
 * (stats_publish.c) and has the table free it. The stats publisher reads
 * the table, the lead, the counters and the batches it is handed. When a
 * round finds nothing it polls a little, then sleeps on the doorbell and
 * the registry's changes; it wakes at least every IDLE_TIMEOUT_MS for its
 * heartbeat and to look for clients that died unseen.
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
#include "lane_guard.h"
#include "lane_table.h"
#include "sink_acks.h"
#include "sink_outage.h"
#include "stats_publish.h"

/* A round copies at most this much (or two of the largest records): it
 * bounds a round's work, and so the time between two heartbeats, which
 * producers read as the writer's sign of life (5 s). */
#define COPY_MIN (UINT64_C(4) << 20)
#define IDLE_POLLS 64
#define IDLE_TIMEOUT_MS 200
#define ERROR_BACKOFF_MS 200
#define ACK_POLL_MS 2
#define BACKLOG_POLL_MS 20   /* a sink replays its spool */
/* At a stop, how long the drain waits for acknowledgements that do not
 * come (a collector that is down) before it leaves them in the bus. */
#define STOP_WAIT_MS 5000
/* A round that found fewer entries than this waits before the next one,
 * so that records gather into batches: a writer that re-reads a lane's head
 * right behind its producer makes every publish miss its cache line. */
#define BATCH_SMALL 512
#define BATCH_PAUSE_US 50
/* The smallest record: a header alone. */
#define RECORD_MIN sizeof(struct lb_record_header)

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

/* What the stats read of the drain at a publish, besides its lanes. */
static struct stats_drain stats_view(const struct writer *w)
{
	return (struct stats_drain){ .counters = &w->counters, .sinks = w->sinks,
				     .nsinks = w->nsinks, .hooks = w->hooks };
}

/* Lane i starts anew at tail: nothing read, nothing refused. */
static void lane_reset(struct writer *w, uint32_t i, uint64_t tail)
{
	w->tail[i] = w->lead[i] = tail;
	w->lanes[i] = (struct lane_track){ 0 };
}

/* Whether released lane i holds nothing the sinks still need. */
static bool lane_drained(const struct writer *w, uint32_t i)
{
	return w->lead[i] == w->tail[i] &&
	       (w->lanes[i].refused || !lb_lane_pending(&w->bus, i, w->tail[i]));
}

/* Follow the lane table (lane_table.h): a lane mapped starts at its
 * slot's tail; a released one, once drained, has its client's counts
 * retired and is freed. */
static void lanes_follow(struct writer *w, uint64_t now)
{
	const struct lane_news *news = lane_table_sync(&w->table, now);

	w->counters.corrupt += news->cut_short;
	for (uint32_t k = 0; k < news->nmapped; k++) {
		uint32_t i = news->mapped[k];
		lane_reset(w, i, lane_table_tail(&w->table, i));
	}
	for (uint32_t k = 0; k < news->nreleased; k++) {
		uint32_t i = news->released[k];
		if (!lane_drained(w, i))
			continue;
		writer_stats_retire(w->stats, i);
		lane_table_free(&w->table, i, w->tail[i]);
		lane_reset(w, i, w->tail[i]);
		w->counters.reclaimed++;
	}
}

int writer_init(struct writer *w)
{
	uint32_t n = w->bus.lane_count;

	w->copy_cap = COPY_MIN > 2 * (uint64_t)w->bus.max_record ? COPY_MIN
								    : 2 * (uint64_t)w->bus.max_record;
	w->copy = malloc(w->copy_cap);
	w->tail = calloc(n, sizeof(*w->tail));
	w->lead = calloc(n, sizeof(*w->lead));
	w->lanes = calloc(n, sizeof(*w->lanes));
	w->ends = calloc(n, sizeof(*w->ends));
	if (!w->copy || !w->tail || !w->lead || !w->lanes || !w->ends ||
	    lane_table_init(&w->table, &w->bus, &w->reg) < 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		w->tail[i] = w->lead[i] = lane_table_tail(&w->table, i);
	w->next_seq = lb_bus_output_seq(&w->bus);
	lanes_follow(w, UINT64_MAX);
	return 0;
}

/* Destroy sinks[n] and save their last positions. */
static void sinks_destroy(struct writer *w, struct sink **sinks, struct sink_track *tracks,
			  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_Atomic uint64_t *acked = sinks[i]->acked;
		sinks[i]->ops->destroy(sinks[i]);   /* joins its threads */
		acks_detach(acked, &tracks[i], w->bus.lane_count);
	}
	free(sinks);
	free(tracks);
}

/* The lead: how far the furthest sink was handed; never behind the tail. */
static void lead_update(struct writer *w)
{
	for (uint32_t i = 0; i < w->bus.lane_count; i++) {
		w->lead[i] = w->tail[i];
		for (size_t k = 0; k < w->nsinks; k++)
			if (w->tracks[k].read[i] > w->lead[i])
				w->lead[i] = w->tracks[k].read[i];
	}
}

int writer_set_sinks(struct writer *w, struct sink **sinks, size_t n)
{
	struct sink_track *tracks = calloc(n ? n : 1, sizeof(*tracks));
	size_t made = 0;

	while (tracks && made < n &&
	       acks_attach(sinks[made], &tracks[made], &w->bus, w->tail, w->state_dirfd,
			   w->bus_name) == 0)
		made++;
	if (!tracks || made < n) {
		for (size_t i = made; i < n; i++)
			sinks[i]->acked = NULL;
		sinks_destroy(w, sinks, tracks ? tracks : calloc(n, sizeof(*tracks)), n);
		return -ENOMEM;
	}
	sinks_destroy(w, w->sinks, w->tracks, w->nsinks);
	w->sinks = sinks;
	w->tracks = tracks;
	w->nsinks = n;
	lead_update(w);
	return 0;
}

void writer_open_stats(struct writer *w, const char *bus, mode_t mode, gid_t group)
{
	struct stats_drain view = stats_view(w);

	w->stats = writer_stats_open(bus, mode, group, w->state_dirfd, &w->table, w->lead, &view);
}

void writer_close_stats(struct writer *w)
{
	struct stats_drain view = stats_view(w);

	writer_stats_close(w->stats, &view);
	w->stats = NULL;
}

void writer_fini(struct writer *w)
{
	free(w->copy);
	free(w->tail);
	free(w->lead);
	free(w->lanes);
	free(w->ends);
	lane_table_fini(&w->table);
	free(w->collected.entries);
	free(w->merged.entries);
	poison_close(&w->poison);
	sinks_destroy(w, w->sinks, w->tracks, w->nsinks);
	w->sinks = NULL;
	w->tracks = NULL;
	w->nsinks = 0;
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

/* Whether lane_seq seq is one the client of lane file f could have given
 * a record at position pos. */
static bool seq_possible(const struct lane_file *f, uint64_t pos, uint64_t seq)
{
	return seq >= f->seq_start && pos >= f->pos_start &&
	       seq - f->seq_start <= (pos - f->pos_start) / RECORD_MIN;
}

/* Decode lane i's copied bytes, until the batch holds max entries;
 * returns bytes consumed (whole records, and pads, which may reach past
 * the copy), with *corrupt set when it met bytes that are no record. */
static uint64_t decode_lane(struct writer *w, uint32_t i, const uint8_t *buf, size_t n,
			   uint64_t head, size_t max, bool *corrupt)
{
	struct lane_track *t = &w->lanes[i];
	const struct lane_file *f = &w->table.files[i];
	const struct lb_client_identity *who = &w->table.who[i];
	size_t off = 0;

	*corrupt = false;
	t->first = w->collected.count;
	while (off < n && w->collected.count < max) {
		struct lb_entry e;
		bool pad;
		long r = lb_record_decode(buf + off, n - off, w->bus.max_record, &e, &pad);

		/* Part of a record is only the copy's cap cutting it short: up to
		 * the head, producers commit whole records, so there it is
		 * corrupt (else this lane would spin the drain forever). */
		if (r == -EAGAIN && t->start + n < head)
			break;
		if (r < 0 || (pad && !pad_fits(w, t->start + off, (uint64_t)r, head)) ||
		    (!pad && !seq_possible(f, t->start + off, e.seq))) {
			*corrupt = true;
			break;
		}
		off += (size_t)r;
		if (pad)
			continue;
		if (!batch_reserve(&w->collected, 1))
			break;
		e.pid = who->pid;
		lane_table_seq_seen(&w->table, i, e.seq);
		w->collected.entries[w->collected.count++] = (struct batch_entry){
			.e = e, .ts_ns = entry_ns(w, &e), .lane = i, .who = who,
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
	const struct lb_client_identity *who = &w->table.who[i];
	uint64_t skip_to = head & ~(uint64_t)(LB_RECORD_ALIGN - 1);

	/* A head behind the read, or more than a ring ahead, is no position
	 * the lane ever held: skip nothing, and wait for it to change. */
	if (skip_to < t->start || skip_to - t->start > w->bus.lane_size)
		skip_to = t->start;
	/* A catch-up round reads only what the lead read: the lead said so
	 * already, and skips no further than it did. */
	if (t->start < w->lead[i]) {
		t->batch_tail = skip_to < w->lead[i] ? skip_to : w->lead[i];
		return;
	}
	w->counters.corrupt++;
	if (!t->told_corrupt)
		fprintf(stderr, "logbus-writer: lane %u of pid %u (%s) holds bytes that are not "
			"records (position %llu, head %llu); skipping them (told once a lane)\n",
			i, who->pid, who->comm, (unsigned long long)t->start,
			(unsigned long long)head);
	t->told_corrupt = true;
	lane_table_skipped(&w->table, i, skip_to - t->start);
	t->batch_tail = skip_to;
}

/* Copy and decode every lane from from[lane] (NULL: the lead), never
 * beyond the lead, and at most limit entries (0: any); returns whether
 * any lane had bytes. */
static bool collect(struct writer *w, const uint64_t *from, size_t limit)
{
	size_t max = limit ? limit : SIZE_MAX;
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

		t->start = t->batch_tail = from ? from[i] : w->lead[i];
		t->count = 0;
		if (from && w->lead[i] - t->start < cap)
			cap = (size_t)(w->lead[i] - t->start);
		if (cap == 0)
			continue;
		long got = lb_lane_read(&w->bus, i, t->start, w->copy + used, cap, &head);

		if (got < 0) {
			/* An impossible head (unaligned, behind the tail, more
			 * than a ring ahead) that skipping could not cure: wait
			 * until its producer moves it. The lead judges heads; a
			 * catch-up round follows where the lead went. */
			if (!from) {
				if (t->refused && t->refused_head == head)
					continue;
				t->refused = true;
				t->refused_head = head;
			}
			lane_corrupt(w, i, head);
			any = true;
			continue;
		}
		if (!from)
			t->refused = false;
		if (got == 0)
			continue;
		any = true;
		bool corrupt;
		uint64_t consumed = decode_lane(w, i, w->copy + used, (size_t)got, head, max,
						&corrupt);
		used += (size_t)got;
		if (corrupt)
			lane_corrupt(w, i, head);
		else
			t->batch_tail = t->start + consumed;
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
	if (r < 0)
		c->errors++;
	else
		c->written += w->merged.count;
	/* An asynchronous or spooling sink took the batch into its queue or
	 * spool: whether its destination works, it says in last_error
	 * itself. */
	if (r < 0 || !s->own_last_error)
		c->last_error = r;
	return r;
}

/* Sink k failed a batch: it falls behind, tries again after a back-off
 * with half as many entries (a file system with a little room takes what
 * fits), and says so once per outage. */
static void sink_failed(struct writer *w, size_t k, int r, uint64_t now)
{
	struct sink_track *t = &w->tracks[k];

	t->retry_ns = now + ERROR_BACKOFF_MS * UINT64_C(1000000);
	t->limit = w->merged.count > 1 ? w->merged.count / 2 : 1;
	sink_outage_fail(&t->outage, w->sinks[k]->name, w->sinks[k]->dest, r, "the bus");
	t->failing = true;
}

/* Whether sink k was handed every lane up to the lead. */
static bool at_lead(const struct writer *w, size_t k)
{
	for (uint32_t i = 0; i < w->bus.lane_count; i++)
		if (w->tracks[k].read[i] != w->lead[i])
			return false;
	return true;
}

/* Sink k took a batch: once back at the lead it is well again. */
static void sink_back(struct writer *w, size_t k)
{
	struct sink_track *t = &w->tracks[k];

	if (!t->failing || !at_lead(w, k) || w->sinks[k]->counters.last_error)
		return;
	t->failing = false;
	t->limit = 0;
	sink_outage_end(&t->outage, w->sinks[k]->name, w->sinks[k]->dest);
}

/* The lanes this round moves, for the sinks' acknowledgements. */
static void note_ends(struct writer *w)
{
	size_t n = 0;

	for (uint32_t i = 0; i < w->bus.lane_count; i++)
		if (w->lanes[i].batch_tail != w->lanes[i].start)
			w->ends[n++] = (struct batch_lane_end){ i, w->lanes[i].batch_tail };
	w->merged.ends = w->ends;
	w->merged.nends = n;
}

/* Sink k took the round: it was handed up to the round's ends; a
 * synchronous one is done with them. */
static void sink_took(struct writer *w, size_t k)
{
	struct sink *s = w->sinks[k];

	for (size_t j = 0; j < w->merged.nends; j++) {
		const struct batch_lane_end *e = &w->ends[j];
		w->tracks[k].read[e->lane] = e->end;
		if (!s->async)
			acks_set(s, e->lane, e->end);
	}
}

/*
 * The one place where lanes' tails move: to the lowest position the sinks
 * acknowledged (the lead when there is no sink). Saves the positions that
 * moved first.
 */
static void advance_tails(struct writer *w)
{
	for (size_t k = 0; k < w->nsinks; k++)
		acks_save(w->sinks[k], &w->tracks[k], w->bus.lane_count);
	for (uint32_t i = 0; i < w->bus.lane_count; i++) {
		uint64_t low = w->lead[i];

		for (size_t k = 0; k < w->nsinks; k++) {
			uint64_t a = acks_get(w->sinks[k], i);
			low = a < low ? a : low;
		}
		if (low > w->tail[i]) {
			lb_lane_advance(&w->bus, i, low);
			lb_lane_wake_blocked(&w->bus, i);
			lane_table_tail_moved(&w->table, i, low);
			w->tail[i] = low;
		}
	}
}

/* Merge and filter the collected entries (a lead round counts them in
 * the stats first); false when memory ran out. */
static bool prepare(struct writer *w, bool lead)
{
	if (!merge(w))
		return false;
	if (lead)
		writer_stats_collected(w->stats, &w->merged);
	/* Filters first: dropped entries take no sequence number; rewritten
	 * ones live in the hook set until the next batch. A poison entry
	 * leaves the batch before them. */
	if (hooks_have_filters(w->hooks)) {
		size_t gone = poison_begin(&w->poison, &w->merged);
		w->next_seq -= gone;
		w->counters.quarantined += gone;
		w->next_seq -= hooks_filter(w->hooks, &w->merged, &w->poison.watch);
		poison_end(&w->poison);
	}
	note_ends(w);
	return true;
}

/*
 * A round at the lead: hand the merged batch to every sink at the lead.
 * A sink that fails falls behind (the others go on); when all of them
 * fail nothing moves. Returns 0, or -EIO when no sink took the batch.
 */
static int deliver(struct writer *w)
{
	size_t took = 0, tried = 0;
	uint64_t now = now_mono();

	for (size_t k = 0; k < w->nsinks; k++) {
		if (!at_lead(w, k))
			continue;
		tried++;
		int r = deliver_to(w, w->sinks[k]);
		if (r == 0) {
			/* A sink that failed at the lead (the others too, or
			 * alone) takes the entries that waited for it here. */
			sink_outage_waits(&w->tracks[k].outage, w->merged.count);
			sink_took(w, k);
			took++;
		} else {
			sink_failed(w, k, r, now);
		}
	}
	if (tried && !took) {
		w->next_seq -= w->merged.count;
		w->counters.sink_errors++;
		w->lead_limit = w->merged.count > 1 ? w->merged.count / 2 : 1;
		return -EIO;
	}
	w->lead_limit = 0;
	for (size_t k = 0; k < w->nsinks; k++)
		sink_back(w, k);
	hooks_dispatch(w->hooks, &w->merged);   /* copies; never blocks */
	lb_bus_set_output_seq(&w->bus, w->next_seq);
	for (uint32_t i = 0; i < w->bus.lane_count; i++)
		w->lead[i] = w->lanes[i].batch_tail;
	w->counters.entries += w->merged.count;
	w->counters.batches++;
	/* The stats save their counts before the sinks' positions move: a
	 * kill between the two costs entries read again, which they
	 * recognise, never entries counted nowhere. */
	writer_stats_delivered(w->stats, &w->merged);
	advance_tails(w);
	return 0;
}

/* Sink k is behind the lead: a round of its own, from its position to
 * the lead, when its back-off is over. Returns whether it took one. */
static bool catch_up(struct writer *w, size_t k, uint64_t now)
{
	struct sink_track *t = &w->tracks[k];

	if (now < t->retry_ns || at_lead(w, k))
		return false;
	if (!collect(w, t->read, t->limit))
		return false;
	int r = prepare(w, false) ? deliver_to(w, w->sinks[k]) : -ENOMEM;
	if (r < 0) {
		w->next_seq -= w->merged.count;
		sink_failed(w, k, r, now);
		return false;   /* nothing done: the drain may sleep */
	}
	t->limit = t->limit ? t->limit * 2 : 0;
	sink_outage_waits(&t->outage, w->merged.count);
	sink_took(w, k);
	sink_back(w, k);
	lb_bus_set_output_seq(&w->bus, w->next_seq);
	advance_tails(w);
	return true;
}

/* One round: the sinks behind first, then the lead; returns whether
 * there was anything to do. */
static bool drain_round(struct writer *w)
{
	uint64_t now = now_mono();
	bool any = false;

	for (size_t k = 0; k < w->nsinks; k++)
		any |= catch_up(w, k, now);
	if (!collect(w, NULL, w->lead_limit)) {
		advance_tails(w);   /* what asynchronous sinks acknowledged */
		return any;
	}
	if (!prepare(w, true) || deliver(w) < 0)
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
	for (uint32_t i = 0; i < w->bus.lane_count; i++) {
		const struct lane_track *t = &w->lanes[i];
		struct lb_lane_info info;

		if (!lb_lane_pending(&w->bus, i, w->lead[i]))
			continue;
		if (!t->refused)
			return true;
		lb_lane_info_get(&w->bus, i, &info);
		if (info.head != t->refused_head)
			return true;
	}
	return false;
}

/* How long the idle drain may sleep: short while a sink has entries it did
 * not acknowledge yet, or a sink behind waits for its retry. */
static int idle_timeout_ms(const struct writer *w)
{
	int ms = IDLE_TIMEOUT_MS;

	for (uint32_t i = 0; i < w->bus.lane_count; i++) {
		if (w->tail[i] == w->lead[i])
			continue;
		for (size_t k = 0; k < w->nsinks; k++)
			if (w->sinks[k]->async && acks_get(w->sinks[k], i) < w->tracks[k].read[i])
				return ACK_POLL_MS;
		ms = ERROR_BACKOFF_MS;
	}
	return ms;
}

static void idle_wait(struct writer *w, bool backlog)
{
	lb_doorbell_arm(&w->bus);
	if (any_pending(w) || *w->stop) {
		lb_doorbell_disarm(&w->bus);
		return;
	}
	int ms = idle_timeout_ms(w);
	lb_doorbell_wait(&w->bus, &w->reg.hdr->changes, w->table.changes_seen,
			 backlog && ms > BACKLOG_POLL_MS ? BACKLOG_POLL_MS : ms);
}

/* Let the sinks work on backlogs of their own; returns whether one is
 * left. */
static bool poll_sinks(struct writer *w)
{
	bool left = false;

	for (size_t k = 0; k < w->nsinks; k++)
		if (w->sinks[k]->ops->poll)
			left |= w->sinks[k]->ops->poll(w->sinks[k]);
	return left;
}

/* Whether every lane's tail reached goal; *moved says whether any tail
 * moved since *last. */
static bool reached(const struct writer *w, const uint64_t *goal, uint64_t *last, bool *moved)
{
	bool done = true;

	*moved = false;
	for (uint32_t i = 0; i < w->bus.lane_count; i++) {
		if (w->tail[i] < goal[i] && goal[i] - w->tail[i] <= w->bus.lane_size)
			done = false;
		*moved |= w->tail[i] != last[i];
		last[i] = w->tail[i];
	}
	return done;
}

/* After a stop: drain what was committed when it came, until every sink
 * acknowledged it, then return. A sink that acknowledges nothing for
 * STOP_WAIT_MS, or a second signal, ends the wait: its entries stay in the
 * bus for the next writer, and stderr says so. */
static void drain_final(struct writer *w)
{
	uint64_t *goal = calloc(w->bus.lane_count, sizeof(*goal));
	uint64_t *last = calloc(w->bus.lane_count, sizeof(*last));
	uint64_t still_since = now_mono();
	bool done = false, moved;

	/* Every lane granted before the stop is in the goal, also one the
	 * drain had not mapped yet. */
	lanes_follow(w, UINT64_MAX);
	for (uint32_t i = 0; goal && last && i < w->bus.lane_count; i++) {
		struct lb_lane_info info;
		lb_lane_info_get(&w->bus, i, &info);
		goal[i] = info.head;
		last[i] = w->tail[i];
	}
	while (goal && last && !done) {
		bool busy = drain_round(w);
		done = reached(w, goal, last, &moved);
		if (done)
			break;
		uint64_t now = now_mono();
		if (moved)
			still_since = now;
		if ((w->counters.sink_errors && *w->stop > 1) ||
		    now - still_since > STOP_WAIT_MS * UINT64_C(1000000)) {
			fprintf(stderr, "logbus-writer: stopping with entries a sink did not "
				"acknowledge; they stay in the bus for the next writer\n");
			break;
		}
		if (!busy) {
			/* Nothing in flight and nothing to read: what is left
			 * cannot move (a refused head). */
			if (idle_timeout_ms(w) == IDLE_TIMEOUT_MS)
				break;
			sleep_ms(ACK_POLL_MS);
		}
	}
	free(goal);
	free(last);
}

int writer_run(struct writer *w)
{
	unsigned idle = 0;

	while (!*w->stop) {
		uint64_t now = now_mono();
		struct stats_drain view = stats_view(w);

		lb_bus_heartbeat(&w->bus, now);
		writer_stats_tick(w->stats, now, &view);
		tsc_clock_refresh(&w->clock, now);
		if (w->tick)
			w->tick(w, now);
		if (*w->reopen) {
			*w->reopen = 0;
			reopen_sinks(w);
		}
		bool backlog = poll_sinks(w);
		lanes_follow(w, now);
		if (drain_round(w)) {
			idle = 0;
			if (w->merged.count < BATCH_SMALL)
				pause_us(BATCH_PAUSE_US);
			continue;
		}
		if (++idle < IDLE_POLLS) {
			sched_yield();
			continue;
		}
		idle_wait(w, backlog);
	}
	drain_final(w);
	lanes_follow(w, UINT64_MAX);
	return 0;
}
