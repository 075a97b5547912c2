/* SPDX-License-Identifier: MIT */
/* The doorbell: how the writer sleeps on a futex and producers wake it. */
#pragma once

#include <stdint.h>

#include "bus.h"

/* lb_doorbell_wake - wake the writer; call only after lb_lane_commit
 * returned true. */
void lb_doorbell_wake(const struct lb_bus *bus);

/* lb_doorbell_arm - announce that the writer is about to sleep. The writer
 * must re-check every lane with lb_lane_pending afterwards, then call
 * lb_doorbell_wait or lb_doorbell_disarm. */
void lb_doorbell_arm(const struct lb_bus *bus);

/* lb_doorbell_disarm - the re-check found work: do not sleep. */
void lb_doorbell_disarm(const struct lb_bus *bus);

/* lb_doorbell_wait - sleep until a producer rings or timeout_ms passes. */
void lb_doorbell_wait(const struct lb_bus *bus, int timeout_ms);

/* lb_doorbell_sleeps - how many times the writer armed the doorbell. */
uint64_t lb_doorbell_sleeps(const struct lb_bus *bus);
