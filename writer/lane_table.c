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
 * Drained is the drain's word (it holds the positions): every sink
 * acknowledged everything the lane showed, or what is left cannot be read
 * (a head the drain refused, whose client is gone): the client's own loss,
 * counted as abandoned by the stats.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lane.h"
#include "lane_guard.h"
#include "lane_table.h"
#include "procstat.h"

#define RECHECK_NS (250 * 1000000ull)

/* Whether pid is no longer the process that started at start (clock ticks
 * since boot; 0 unknown): no such process, a zombie, or a new process with
 * the same pid. */
static bool process_gone(pid_t pid, uint64_t start)
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

int lane_table_init(struct lane_table *t, struct lb_bus *bus, struct lb_registry *reg)
{
	uint32_t n = bus->lane_count;

	*t = (struct lane_table){ .bus = bus, .reg = reg };
	t->who = calloc(n, sizeof(*t->who));
	t->files = calloc(n, sizeof(*t->files));
	t->mapped = calloc(n, sizeof(*t->mapped));
	t->released = calloc(n, sizeof(*t->released));
	if (!t->who || !t->files || !t->mapped || !t->released || lb_bus_lanes_init(bus) < 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		lb_lane_set_idle(bus, i, lane_table_tail(t, i));
	t->news = (struct lane_news){ .mapped = t->mapped, .released = t->released };
	return 0;
}

void lane_table_fini(struct lane_table *t)
{
	if (t->bus)
		lb_bus_lanes_fini(t->bus);
	free(t->who);
	free(t->files);
	free(t->mapped);
	free(t->released);
	*t = (struct lane_table){ 0 };
}

uint64_t lane_table_tail(const struct lane_table *t, uint32_t i)
{
	return atomic_load_explicit(&t->reg->slots[i].tail, memory_order_relaxed);
}

void lane_table_tail_moved(struct lane_table *t, uint32_t i, uint64_t tail)
{
	atomic_store_explicit(&t->reg->slots[i].tail, tail, memory_order_relaxed);
}

void lane_table_seq_seen(struct lane_table *t, uint32_t i, uint64_t seq)
{
	if (seq < t->files[i].seq_end)
		return;
	t->files[i].seq_end = seq + 1;
	atomic_store_explicit(&t->reg->slots[i].seq_floor, seq + 1, memory_order_relaxed);
}

void lane_table_skipped(struct lane_table *t, uint32_t i, uint64_t bytes)
{
	t->files[i].skipped += bytes;
}

/* Map slot i's lane file of the grant the registry names; false when it
 * cannot (the slot is given up). */
static bool lane_map(struct lane_table *t, uint32_t i, uint64_t grant)
{
	struct lb_slot *s = &t->reg->slots[i];
	struct lb_lane_map m;
	int fd = lb_lane_file_open(t->reg, i, grant);
	int r = fd < 0 ? fd : lb_lane_map(fd, t->bus->lane_size, &m);

	if (fd >= 0)
		close(fd);
	if (r < 0) {
		fprintf(stderr, "logbus-writer: lane %u: cannot map its file (grant %llu): %s; "
			"giving the slot up\n", i, (unsigned long long)grant, strerror(-r));
		atomic_store_explicit(&s->state, LB_SLOT_FREE, memory_order_release);
		return false;
	}
	lb_lane_unmap(&t->bus->lanes[i]);
	t->bus->lanes[i] = m;
	lane_guard_clear(i);
	t->files[i] = (struct lane_file){
		.grant = grant,
		.pos_start = s->pos_start,
		.seq_start = s->seq_start,
		.seq_end = atomic_load_explicit(&s->seq_floor, memory_order_relaxed),
	};
	t->who[i] = s->who;
	return true;
}

void lane_table_free(struct lane_table *t, uint32_t i, uint64_t tail)
{
	struct lb_slot *s = &t->reg->slots[i];

	(void)lb_lane_file_unlink(t->reg, i, t->files[i].grant);
	lb_lane_set_idle(t->bus, i, tail);
	lane_guard_clear(i);
	atomic_store_explicit(&s->tail, tail, memory_order_relaxed);
	t->files[i] = (struct lane_file){ 0 };
	/* LMM(registry_free:A) pairs with registry_claim:A: the registrar
	 * that takes the slot sees its tail and sequence floor. */
	atomic_store_explicit(&s->state, LB_SLOT_FREE, memory_order_release);
	t->releasing--;
}

/* Move slot i from GRANTED to RELEASED; false when it was not GRANTED. */
static bool lane_release(struct lane_table *t, uint32_t i)
{
	uint32_t granted = LB_SLOT_GRANTED;

	return atomic_compare_exchange_strong_explicit(&t->reg->slots[i].state, &granted,
						       LB_SLOT_RELEASED, memory_order_relaxed,
						       memory_order_relaxed);
}

/* Whether slot i's GRANTED lane belongs to a client that lost its
 * connection with an earlier writer, and whose process is gone. */
static bool lane_orphaned(const struct lane_table *t, uint32_t i)
{
	const struct lb_slot *s = &t->reg->slots[i];

	return s->run != atomic_load_explicit(&t->reg->hdr->run, memory_order_relaxed) &&
	       process_gone((pid_t)s->who.pid, s->who.start);
}

static void lane_sync(struct lane_table *t, uint32_t i, bool all)
{
	struct lb_slot *s = &t->reg->slots[i];
	/* LMM(registry_map:A) pairs with registry_grant:A: the slot's grant,
	 * tail and identity are the registrar's final ones. */
	uint32_t state = atomic_load_explicit(&s->state, memory_order_acquire);
	uint64_t grant = atomic_load_explicit(&s->grant, memory_order_relaxed);
	struct lane_file *f = &t->files[i];

	if ((state == LB_SLOT_GRANTED || state == LB_SLOT_RELEASED) && f->grant != grant &&
	    lane_map(t, i, grant))
		t->mapped[t->news.nmapped++] = i;
	if (!f->grant)
		return;
	if (lane_guard_broken(i) && !f->broken) {
		f->broken = true;
		t->news.cut_short++;
		fprintf(stderr, "logbus-writer: lane %u: its client (pid %u, %s) cut its lane "
			"file short; what it had not written yet is lost\n", i, t->who[i].pid,
			t->who[i].comm);
		(void)lane_release(t, i);
		state = LB_SLOT_RELEASED;
	}
	if (all && state == LB_SLOT_GRANTED && lane_orphaned(t, i) && lane_release(t, i))
		state = LB_SLOT_RELEASED;
	if (state == LB_SLOT_RELEASED)
		t->released[t->news.nreleased++] = i;
}

const struct lane_news *lane_table_sync(struct lane_table *t, uint64_t now)
{
	/* Loaded before the slots: a change made during the scan is seen at
	 * the next call. */
	uint32_t changes = atomic_load_explicit(&t->reg->hdr->changes, memory_order_acquire);
	unsigned trips = lane_guard_trips();
	bool all = changes != t->changes_seen || trips != t->guard_trips ||
		   now >= t->next_scan_ns;

	t->news.nmapped = t->news.nreleased = t->news.cut_short = 0;
	if (!all && !t->releasing)
		return &t->news;
	t->changes_seen = changes;
	t->guard_trips = trips;
	if (all)
		t->next_scan_ns = now == UINT64_MAX ? 0 : now + RECHECK_NS;
	for (uint32_t i = 0; i < t->bus->lane_count; i++)
		lane_sync(t, i, all);
	t->releasing = t->news.nreleased;
	return &t->news;
}
