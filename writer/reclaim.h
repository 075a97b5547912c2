/* SPDX-License-Identifier: MIT */
/* Reclaiming the lanes of threads that released them and of dead processes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct writer;

/* reclaim_lanes - free every drained lane whose owner released it or is
 * dead; each lane is looked at most every few hundred ms (now is
 * CLOCK_MONOTONIC ns; UINT64_MAX looks at all). */
void reclaim_lanes(struct writer *w, uint64_t now);

/* process_gone - whether pid is no longer the process that started at
 * start (clock ticks since boot; 0 unknown): no such process, a zombie, or
 * a new process with the same pid. */
bool process_gone(pid_t pid, uint64_t start);
