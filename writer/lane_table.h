/* SPDX-License-Identifier: MIT */
/*
 * The drain's lane table: which lane file each slot maps, kept in line
 * with the registry (shm/registry.h) that the registrar changes. A slot
 * granted since the last look is mapped; a released one is freed once
 * drained; a lane whose client truncated it is given up; the lanes of
 * clients that lost their connection when an earlier writer died are
 * freed once their process is gone.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct writer;

/*
 * lane_table_sync - look at the registry when it changed, every few
 * hundred ms for orphans, and at every call for released lanes waiting to
 * be drained (now is CLOCK_MONOTONIC ns; UINT64_MAX looks at every slot).
 */
void lane_table_sync(struct writer *w, uint64_t now);

/* lane_table_tail_moved - the drain moved slot i's tail to tail: keep it
 * in the registry, the writer's own word for restarts. */
void lane_table_tail_moved(struct writer *w, uint32_t i, uint64_t tail);

/* lane_table_seq_seen - a record of slot i's lane has lane sequence seq:
 * the slot's sequence floor (the registry's, for the slot's next file and
 * after a restart) goes above it, before any sink sees the record. */
void lane_table_seq_seen(struct writer *w, uint32_t i, uint64_t seq);

/* process_gone - whether pid is no longer the process that started at
 * start (clock ticks since boot; 0 unknown): no such process, a zombie, or
 * a new process with the same pid. */
bool process_gone(pid_t pid, uint64_t start);
