/* SPDX-License-Identifier: MIT */
/*
 * The sinks' acknowledged positions: per sink and lane, kept by the drain
 * and saved in a state file of the sink's own, so that a restarted writer
 * hands each sink only what it had not acknowledged.
 */
#pragma once

#include "drain.h"

/* acks_attach - give sink s its positions: the saved ones when its state
 * file belongs to this segment and they lie between the lane's tail and
 * head, else the lane's tail. Allocates s->acked and t's arrays. Returns
 * 0 or -ENOMEM (nothing left allocated then). */
int acks_attach(struct writer *w, struct sink *s, struct sink_track *t);

/* acks_get - what s acknowledged of lane. */
uint64_t acks_get(const struct sink *s, uint32_t lane);

/* acks_set - a synchronous sink is done with lane up to end. */
void acks_set(struct sink *s, uint32_t lane, uint64_t end);

/* acks_save - save s's positions when they moved since the last save. A
 * failed save only costs entries delivered again after a restart. */
void acks_save(struct writer *w, struct sink *s, struct sink_track *t);

/* acks_detach - after s was destroyed: save its last positions (taken
 * from acked, which outlives it) and free them. */
void acks_detach(struct writer *w, _Atomic uint64_t *acked, struct sink_track *t);
