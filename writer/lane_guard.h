/* SPDX-License-Identifier: MIT */
/*
 * The SIGBUS guard, after Wayland's wl_shm: a client may truncate its own
 * lane file while the writer maps it, and a load or store past the file's
 * new end raises SIGBUS in the writer. The guard's handler maps private
 * zero pages over that lane's whole mapping, notes the lane as broken and
 * returns, so that the access is done again on the zero pages: the drain
 * goes on, and gives up that lane (its client's entries, nobody else's).
 * A SIGBUS outside every lane is not the guard's: it crashes as ever.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

/* lane_guard_install - guard bus's lane mappings (bus->lanes, which the
 * caller's thread alone changes). Returns 0 or a negative errno. */
int lane_guard_install(const struct lb_bus *bus);

/* lane_guard_trips - how many lanes the guard caught so far: a change
 * says to look at lane_guard_broken. */
unsigned lane_guard_trips(void);

/* lane_guard_broken - whether slot i's lane was lost to a truncation since
 * the last lane_guard_clear(i). */
bool lane_guard_broken(uint32_t i);

/* lane_guard_clear - slot i maps another lane now. */
void lane_guard_clear(uint32_t i);
