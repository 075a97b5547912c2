/* SPDX-License-Identifier: MIT */
/* The doorbell: how the writer sleeps on its lanes' futex words and
 * producers wake it. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

struct lb_lane;

/* lb_doorbell_wake - wake the writer through lane's word; call only after
 * lb_lane_commit on that lane returned true. */
void lb_doorbell_wake(struct lb_lane *lane);

/* lb_doorbell_writer_setup - the writer: find out whether membarrier(2)
 * can fence every registered producer, and say so in the header. */
void lb_doorbell_writer_setup(struct lb_bus *bus);

/* lb_doorbell_producer_light - a producer process: register for the
 * writer's membarrier. True when commits may use a release store instead
 * of a full fence (see lane_commit:B). */
bool lb_doorbell_producer_light(const struct lb_bus *bus);

/* lb_doorbell_arm - announce in every lane that the writer is about to
 * sleep. The writer must re-check every lane with lb_lane_pending
 * afterwards, then call lb_doorbell_wait or lb_doorbell_disarm. */
void lb_doorbell_arm(const struct lb_bus *bus);

/* lb_doorbell_disarm - the re-check found work: do not sleep. */
void lb_doorbell_disarm(const struct lb_bus *bus);

/* lb_doorbell_wait - sleep until a producer rings, *also (a futex word of
 * the writer's own, the registry's changes) differs from also_seen or is
 * woken, or timeout_ms passes; then disarm. */
void lb_doorbell_wait(const struct lb_bus *bus, _Atomic uint32_t *also, uint32_t also_seen,
		      int timeout_ms);

/* lb_doorbell_sleeps - how many times the writer armed the doorbell. */
uint64_t lb_doorbell_sleeps(const struct lb_bus *bus);
