/* SPDX-License-Identifier: MIT */
/*
 * The sinks' acknowledged positions. Positions are byte offsets in a lane
 * (64-bit, never wrapping within a segment), each the end of a batch's
 * part of that lane, so always a record boundary. They are saved with
 * lane_marks (one pwrite per save, see lane_marks.c) in
 * "<state dir>/.<bus>.acks.<16 hex digits>", the digits an FNV-1a hash of
 * the sink's key (kind and destination).
 *
 * A saved position is never ahead of the sink's real acknowledgement
 * (the drain saves what the sink acknowledged already), so a kill between
 * an acknowledgement and its save costs duplicates only, never an entry.
 * A saved position that is impossible for the lane now (behind its tail,
 * beyond its head: another segment, a state file of a bus recreated) is
 * ignored, and the sink resumes at the tail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lane.h"
#include "sink_acks.h"
#include "state_file.h"

uint64_t sink_key_hash(const char *key)
{
	return state_hash(key, strlen(key));
}

/* The position of lane i, whose tail is tail, a restarted sink resumes
 * at. */
static uint64_t resume_at(const struct lb_bus *bus, const struct sink_track *t, uint32_t i,
			  uint64_t tail)
{
	uint64_t mark = lane_marks_loaded(&t->store, i);
	struct lb_lane_info info;

	if (mark == 0 || mark - 1 <= tail)
		return tail;
	lb_lane_info_get(bus, i, &info);
	return mark - 1 <= info.head && mark - 1 - tail <= bus->lane_size ? mark - 1 : tail;
}

int acks_attach(struct sink *s, struct sink_track *t, const struct lb_bus *bus,
		const uint64_t *tail, int dirfd, const char *bus_name)
{
	uint32_t n = bus->lane_count;
	char name[LB_BUS_NAME_MAX + 64], note[8];

	*t = (struct sink_track){ .store = { .fd = -1 } };
	s->acked = calloc(n, sizeof(*s->acked));
	t->read = calloc(n, sizeof(*t->read));
	t->saved = calloc(n, sizeof(*t->saved));
	if (!s->acked || !t->read || !t->saved) {
		free(s->acked);
		free(t->read);
		free(t->saved);
		s->acked = NULL;
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), ".%s.acks.%016llx", bus_name ? bus_name : "",
		 (unsigned long long)sink_key_hash(s->key));
	int r = dirfd < 0 ? 0 : lane_marks_open(&t->store, dirfd, name, lb_bus_id(bus), note,
						 sizeof(note));
	if (r < 0) {
		fprintf(stderr, "logbus-writer: sink %s: cannot open its state file %s: %s; "
			"a restart will deliver to it again what it took\n", s->name, name,
			strerror(-r));
		t->store = (struct lane_marks){ .fd = -1 };
	}
	for (uint32_t i = 0; i < n; i++) {
		t->read[i] = t->saved[i] = resume_at(bus, t, i, tail[i]);
		atomic_init(&s->acked[i], t->read[i]);
	}
	return 0;
}

uint64_t acks_get(const struct sink *s, uint32_t lane)
{
	/* LMM(drain_acked:A) pairs with sink_ack:A. */
	return atomic_load_explicit(&s->acked[lane], memory_order_acquire);
}

void acks_set(struct sink *s, uint32_t lane, uint64_t end)
{
	/* Relaxed: a synchronous sink's positions are stored and loaded by
	 * the drain's thread only. */
	atomic_store_explicit(&s->acked[lane], end, memory_order_relaxed);
}

static void save_positions(_Atomic uint64_t *acked, struct sink_track *t, uint32_t nlanes)
{
	bool moved = false;

	for (uint32_t i = 0; i < nlanes; i++) {
		/* LMM(drain_acked:B) pairs with sink_ack:A, as drain_acked:A. */
		uint64_t a = atomic_load_explicit(&acked[i], memory_order_acquire);
		moved |= a != t->saved[i];
		t->saved[i] = a;
	}
	if (!moved || t->store.fd < 0)
		return;
	lane_marks_begin(&t->store);
	for (uint32_t i = 0; i < nlanes; i++)
		if (t->saved[i] && lane_marks_note(&t->store, i, t->saved[i]) < 0)
			return;
	(void)lane_marks_save(&t->store, "");
}

void acks_save(struct sink *s, struct sink_track *t, uint32_t nlanes)
{
	save_positions(s->acked, t, nlanes);
}

void acks_detach(_Atomic uint64_t *acked, struct sink_track *t, uint32_t nlanes)
{
	if (acked && t->saved)
		save_positions(acked, t, nlanes);
	lane_marks_close(&t->store);
	free(acked);
	free(t->read);
	free(t->saved);
	*t = (struct sink_track){ .store = { .fd = -1 } };
}
