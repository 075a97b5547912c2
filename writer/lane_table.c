/* SPDX-License-Identifier: MIT */
/*
 * The drain's lane table (lane_table.h). The registrar changes slot states
 * in the registry and wakes the drain; here the drain follows:
 *
 *   GRANTED, a grant not mapped yet   map its lane file, start at the
 *                                     slot's tail (the registry's word)
 *   GRANTED, an orphan whose process  RELEASED (a writer died while the
 *   is gone                           client ran; nobody else would say)
 *   a lane truncated (lane_guard.h)   RELEASED: what it held is lost to
 *                                     its client alone
 *   RELEASED, drained                 FREE: unmapped, file removed, the
 *                                     tail and sequence floor kept
 *
 * Drained means every sink acknowledged everything the lane showed, or
 * what is left cannot be read (a head the drain refused, whose client is
 * gone): the client's own loss, counted as abandoned by the stats.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "drain.h"
#include "lane.h"
#include "lane_guard.h"
#include "lane_table.h"
#include "procstat.h"
#include "stats_publish.h"

#define RECHECK_NS (250 * 1000000ull)

bool process_gone(pid_t pid, uint64_t start)
{
	char path[64], buf[1024], state;
	uint64_t started;
	FILE *f;
	bool ok;

	if (pid <= 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return kill(pid, 0) < 0 && errno == ESRCH;
	ok = fgets(buf, sizeof(buf), f) && lb_proc_stat_parse(buf, &state, &started);
	fclose(f);
	if (!ok)
		return false;
	if (state == 'Z' || state == 'X')
		return true;
	return start != 0 && started != start;
}

void lane_table_tail_moved(struct writer *w, uint32_t i, uint64_t tail)
{
	atomic_store_explicit(&w->reg.slots[i].tail, tail, memory_order_relaxed);
}

void lane_table_seq_seen(struct writer *w, uint32_t i, uint64_t seq)
{
	if (seq < w->lanes[i].seq_end)
		return;
	w->lanes[i].seq_end = seq + 1;
	atomic_store_explicit(&w->reg.slots[i].seq_floor, seq + 1, memory_order_relaxed);
}

/* Map slot i's lane file of the grant the registry names. */
static void lane_map(struct writer *w, uint32_t i, uint64_t grant)
{
	struct lb_slot *s = &w->reg.slots[i];
	struct lane_track *t = &w->lanes[i];
	struct lb_lane_map m;
	int fd = lb_lane_file_open(&w->reg, i, grant);
	int r = fd < 0 ? fd : lb_lane_map(fd, w->bus.lane_size, &m);

	if (fd >= 0)
		close(fd);
	if (r < 0) {
		fprintf(stderr, "logbus-writer: lane %u: cannot map its file (grant %llu): %s; "
			"giving the slot up\n", i, (unsigned long long)grant, strerror(-r));
		atomic_store_explicit(&s->state, LB_SLOT_FREE, memory_order_release);
		return;
	}
	lb_lane_unmap(&w->bus.lanes[i]);
	w->bus.lanes[i] = m;
	lane_guard_clear(i);
	*t = (struct lane_track){
		.tail = atomic_load_explicit(&s->tail, memory_order_relaxed),
		.grant = grant,
		.pos_start = s->pos_start,
		.seq_start = s->seq_start,
		.seq_end = atomic_load_explicit(&s->seq_floor, memory_order_relaxed),
	};
	t->read = t->tail;
	w->who[i] = s->who;
}

/* Slot i's lane is done: its file removed, the slot free again, starting
 * where this lane ended. */
static void lane_free(struct writer *w, uint32_t i)
{
	struct lb_slot *s = &w->reg.slots[i];
	struct lane_track *t = &w->lanes[i];

	writer_stats_retire(w, i);
	(void)lb_lane_file_unlink(&w->reg, i, t->grant);
	lb_lane_set_idle(&w->bus, i, t->tail);
	lane_guard_clear(i);
	atomic_store_explicit(&s->tail, t->tail, memory_order_relaxed);
	*t = (struct lane_track){ .tail = t->tail, .read = t->tail };
	/* LMM(registry_free:A) pairs with registry_claim:A: the registrar
	 * that takes the slot sees its tail and sequence floor. */
	atomic_store_explicit(&s->state, LB_SLOT_FREE, memory_order_release);
	w->counters.reclaimed++;
}

/* Move slot i from GRANTED to RELEASED; false when it was not GRANTED. */
static bool lane_release(struct writer *w, uint32_t i)
{
	uint32_t granted = LB_SLOT_GRANTED;

	return atomic_compare_exchange_strong_explicit(&w->reg.slots[i].state, &granted,
						       LB_SLOT_RELEASED, memory_order_relaxed,
						       memory_order_relaxed);
}

/* Whether slot i's released lane holds nothing the sinks still need. */
static bool lane_drained(const struct writer *w, uint32_t i)
{
	const struct lane_track *t = &w->lanes[i];

	return t->read == t->tail && (t->refused || !lb_lane_pending(&w->bus, i, t->tail));
}

/* Whether slot i's GRANTED lane belongs to a client that lost its
 * connection with an earlier writer, and whose process is gone. */
static bool lane_orphaned(const struct writer *w, uint32_t i)
{
	const struct lb_slot *s = &w->reg.slots[i];

	return s->run != atomic_load_explicit(&w->reg.hdr->run, memory_order_relaxed) &&
	       process_gone((pid_t)s->who.pid, s->who.start);
}

static void lane_sync(struct writer *w, uint32_t i, bool all)
{
	struct lb_slot *s = &w->reg.slots[i];
	/* LMM(registry_map:A) pairs with registry_grant:A: the slot's grant,
	 * tail and identity are the registrar's final ones. */
	uint32_t state = atomic_load_explicit(&s->state, memory_order_acquire);
	uint64_t grant = atomic_load_explicit(&s->grant, memory_order_relaxed);
	struct lane_track *t = &w->lanes[i];

	if ((state == LB_SLOT_GRANTED || state == LB_SLOT_RELEASED) && t->grant != grant)
		lane_map(w, i, grant);
	if (!t->grant)
		return;
	if (lane_guard_broken(i) && !t->broken) {
		t->broken = true;
		w->counters.corrupt++;
		fprintf(stderr, "logbus-writer: lane %u: its client (pid %u, %s) cut its lane "
			"file short; what it had not written yet is lost\n", i, w->who[i].pid,
			w->who[i].comm);
		(void)lane_release(w, i);
		state = LB_SLOT_RELEASED;
	}
	if (all && state == LB_SLOT_GRANTED && lane_orphaned(w, i) && lane_release(w, i))
		state = LB_SLOT_RELEASED;
	if (state != LB_SLOT_RELEASED)
		return;
	if (lane_drained(w, i))
		lane_free(w, i);
	else
		w->releasing++;
}

void lane_table_sync(struct writer *w, uint64_t now)
{
	/* Loaded before the slots: a change made during the scan is seen at
	 * the next call. */
	uint32_t changes = atomic_load_explicit(&w->reg.hdr->changes, memory_order_acquire);
	unsigned trips = lane_guard_trips();
	bool all = changes != w->changes_seen || trips != w->guard_trips ||
		   now >= w->next_scan_ns;

	if (!all && !w->releasing)
		return;
	w->changes_seen = changes;
	w->guard_trips = trips;
	if (all)
		w->next_scan_ns = now == UINT64_MAX ? 0 : now + RECHECK_NS;
	w->releasing = 0;
	for (uint32_t i = 0; i < w->bus.lane_count; i++)
		lane_sync(w, i, all);
}
