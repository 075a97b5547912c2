/* SPDX-License-Identifier: MIT */
/*
 * The sinks' acknowledged positions: per sink and lane, kept by the drain
 * and saved in a state file of the sink's own, so that a restarted writer
 * hands each sink only what it had not acknowledged.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "lane_marks.h"
#include "sink.h"
#include "sink_outage.h"

/* The drain's view of one sink: how far it was handed each lane, and its
 * acknowledged positions as last saved in its state file. */
struct sink_track {
	uint64_t *read;         /* per lane */
	uint64_t *saved;        /* per lane */
	struct lane_marks store;/* ".<bus>.acks.<hash of the sink's key>" */
	uint64_t retry_ns;      /* a sink that failed a batch tries again then */
	size_t limit;           /* entries of its next catch-up round; 0: any */
	bool failing;           /* failed, and not back at the lead since */
	struct sink_outage outage;
};

/* acks_attach - give sink s its positions in bus's lanes, whose tails
 * are tail[]: the saved ones (in dirfd, named for bus_name; dirfd -1:
 * none are kept) when its state file belongs to this segment and they lie
 * between the lane's tail and head, else the lane's tail. Allocates
 * s->acked and t's arrays. Returns 0 or -ENOMEM (nothing left allocated
 * then). */
int acks_attach(struct sink *s, struct sink_track *t, const struct lb_bus *bus,
		const uint64_t *tail, int dirfd, const char *bus_name);

/* acks_get - what s acknowledged of lane. */
uint64_t acks_get(const struct sink *s, uint32_t lane);

/* acks_set - a synchronous sink is done with lane up to end. */
void acks_set(struct sink *s, uint32_t lane, uint64_t end);

/* acks_save - save s's positions in nlanes lanes when they moved since the
 * last save. A failed save only costs entries delivered again after a
 * restart. */
void acks_save(struct sink *s, struct sink_track *t, uint32_t nlanes);

/* acks_detach - after s was destroyed: save its last positions in nlanes
 * lanes (taken from acked, which outlives it) and free them. */
void acks_detach(_Atomic uint64_t *acked, struct sink_track *t, uint32_t nlanes);
