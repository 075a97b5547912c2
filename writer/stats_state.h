/* SPDX-License-Identifier: MIT */
/*
 * The counts the stats publisher keeps across writer restarts: per lane,
 * whose they are and up to which lane sequence the writer accounted for
 * them, and the totals of the clients retired. Saved in
 * "<state dir>/.<bus>.counts" (state_file.h) after every batch the sinks
 * took and before its positions are saved, so that a writer killed at any
 * point restarts with counts that cover exactly the entries it will not
 * read again, and recognises by lane sequence those it will.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "bus.h"

/* One client's counts: the client's own (from its lane's header, as last
 * sampled) and the writer's. */
struct client_counts {
	uint64_t queued, dropped_full, dropped_too_large;
	uint64_t written, filtered, abandoned;
};

/* What the writer keeps of one lane's client. */
struct lane_basis {
	bool known;             /* grant names the client counted */
	uint32_t pid;           /* its pid, as the registrar learnt it */
	uint64_t grant;         /* its lane file's grant (shm/registry.h) */
	bool seq_known;
	uint64_t next_seq;      /* the lane sequence accounted for next */
	struct client_counts n;
};

struct stats_state {
	int fd;                 /* -1: nothing kept (no state directory) */
	char name[LB_BUS_NAME_MAX + 16];  /* in the state directory */
	uint64_t segment_id;
	struct lb_buf buf;
};

/* The totals of retired clients. */
struct retired_counts {
	uint64_t clients;
	struct client_counts n;
};

/*
 * stats_state_open - open (create, 0640, never through a symlink) the
 * counts of bus in dirfd (-1: none, a no-op) and load them into lanes[n]
 * and *retired when they belong to segment_id. Returns 0 or a negative
 * errno (st->fd is -1 then: counts start at zero and are not kept).
 */
int stats_state_open(struct stats_state *st, int dirfd, const char *bus, uint64_t segment_id,
		     struct lane_basis *lanes, uint32_t n, struct retired_counts *retired);

/* stats_state_save - rewrite the counts. Returns 0 or a negative errno. */
int stats_state_save(struct stats_state *st, const struct lane_basis *lanes, uint32_t n,
		     const struct retired_counts *retired);

/* stats_state_close - close and free; NULL-safe on a closed state. */
void stats_state_close(struct stats_state *st);
