/* SPDX-License-Identifier: MIT */
/*
 * The drain's lane table: which lane file each slot maps, kept in line
 * with the registry (shm/registry.h) that the registrar changes. A slot
 * granted since the last look is mapped; a lane whose client truncated it
 * is given up; the lanes of clients that lost their connection when an
 * earlier writer died are released once their process is gone; a
 * released one is freed once the drain has drained it.
 *
 * The table owns the slots' mappings (bus->lanes), the identities of
 * their clients and what it knows of each lane file; the drain owns the
 * positions. A sync tells the drain what changed (struct lane_news), and
 * the drain tells the table when a tail moved, a lane sequence showed up,
 * bytes were skipped as no records, or a released lane is drained. The
 * drain and the stats read the fields below; only lane_table.c changes
 * them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bus.h"
#include "identity.h"
#include "registry.h"

/* What the table knows of the lane file a slot maps. */
struct lane_file {
	uint64_t grant;         /* the lane file mapped; 0: the slot is idle */
	uint64_t pos_start;     /* where the file started, and its first lane_seq */
	uint64_t seq_start;
	uint64_t seq_end;       /* above every lane_seq the lane showed */
	uint64_t skipped;       /* bytes of it the drain skipped as no records */
	bool broken;            /* its client cut it short (lane_guard.h) */
};

/* What a sync changed, for the drain; valid until the next sync. */
struct lane_news {
	const uint32_t *mapped;     /* slots that map a new lane file: each
				     * starts at lane_table_tail */
	uint32_t nmapped;
	const uint32_t *released;   /* slots RELEASED: free each once drained
				     * (lane_table_free), after mapped */
	uint32_t nreleased;
	uint32_t cut_short;         /* lanes found cut short by their client
				     * (released, and said on stderr) */
};

struct lane_table {
	struct lb_bus *bus;              /* its lanes[] are the slots' mappings */
	struct lb_registry *reg;         /* the lane slots, shared with the registrar */
	struct lb_client_identity *who;  /* per slot: its lane's client, copied at mapping */
	struct lane_file *files;         /* per slot */
	uint32_t changes_seen;           /* reg's changes at the last full look */
	unsigned guard_trips;            /* lane_guard_trips() then */
	uint32_t releasing;              /* released lanes not freed since the last look */
	uint64_t next_scan_ns;           /* the next full look, for orphans */
	uint32_t *mapped, *released;     /* the lists of news */
	struct lane_news news;
};

/* lane_table_init - the table of bus's slots, which reg (open, and kept
 * open by the caller) describes: every slot idle at the tail the registry
 * keeps, nothing mapped yet (the first lane_table_sync maps). Returns 0 or
 * -ENOMEM; lane_table_fini frees what was made either way. */
int lane_table_init(struct lane_table *t, struct lb_bus *bus, struct lb_registry *reg);

/* lane_table_fini - unmap every lane and free the table; NULL-safe on a
 * table lane_table_init never saw. The registry stays open. */
void lane_table_fini(struct lane_table *t);

/* lane_table_tail - slot i's tail as the registry keeps it: where its lane
 * resumes, at a start and when a new lane file is mapped. */
uint64_t lane_table_tail(const struct lane_table *t, uint32_t i);

/*
 * lane_table_sync - look at the registry when it changed, every few
 * hundred ms for orphans, and at every call while released lanes wait to
 * be drained (now is CLOCK_MONOTONIC ns; UINT64_MAX looks at every slot).
 * Maps the lanes granted since, releases those cut short or orphaned.
 * Returns what changed.
 */
const struct lane_news *lane_table_sync(struct lane_table *t, uint64_t now);

/* lane_table_free - released slot i is drained up to tail: its file
 * removed, the slot idle at tail and FREE again, its next lane file
 * starting there. */
void lane_table_free(struct lane_table *t, uint32_t i, uint64_t tail);

/* lane_table_tail_moved - the drain moved slot i's tail to tail: keep it
 * in the registry, the writer's own word for restarts. */
void lane_table_tail_moved(struct lane_table *t, uint32_t i, uint64_t tail);

/* lane_table_seq_seen - a record of slot i's lane has lane sequence seq:
 * the slot's sequence floor (the registry's, for the slot's next file and
 * after a restart) goes above it, before any sink sees the record. */
void lane_table_seq_seen(struct lane_table *t, uint32_t i, uint64_t seq);

/* lane_table_skipped - the drain skipped bytes of slot i's lane file as
 * no records: what its client could have queued in them counts (the
 * stats' cap on its queued count). */
void lane_table_skipped(struct lane_table *t, uint32_t i, uint64_t bytes);

