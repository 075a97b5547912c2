/* SPDX-License-Identifier: MIT */
/*
 * The writer's side of the stats segment: it keeps the counters the drain
 * loop does not (per-lane written counts, histograms, the totals of
 * reclaimed lanes) and publishes everything to /logbus.<bus>.stats at most
 * every 100 ms. It reads the drain's state it is handed and changes none
 * of it. Every function is a no-op on a NULL publisher (the segment could
 * not be created): stats never stop the writer.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct batch;
struct hooks;
struct lane_table;
struct sink;
struct writer_stats;

/* The drain's counters, which the stats publish. */
struct writer_counters {
	uint64_t entries;       /* written to the sinks */
	uint64_t batches;
	uint64_t corrupt;       /* lanes found holding bytes that are no record */
	uint64_t reclaimed;     /* lanes freed after their client left or died */
	uint64_t sink_errors;
	uint64_t quarantined;   /* poison entries set aside (writer/poison.h) */
};

/* What a publish reads of the drain besides its lanes. */
struct stats_drain {
	const struct writer_counters *counters;
	struct sink *const *sinks;
	size_t nsinks;
	struct hooks *hooks;    /* NULL: no hooks */
};

/* writer_stats_open - create the stats segment of bus, with mode and group
 * ((gid_t)-1: the writer's), for the lanes of table, whose lead (how far
 * the furthest sink was handed, per lane) is lead[]: both are read at
 * every publish, for the publisher's life. Loads the counts kept in
 * state_dirfd (-1: none are kept) and publishes a first time. Returns the
 * publisher, or NULL after printing one line: the writer then runs
 * without stats. */
struct writer_stats *writer_stats_open(const char *bus, mode_t mode, gid_t group,
				       int state_dirfd, const struct lane_table *table,
				       const uint64_t *lead, const struct stats_drain *d);

/* writer_stats_tick - heartbeat; publish when the last publish is 100 ms
 * old (now: CLOCK_MONOTONIC ns). Called every round of the drain loop. */
void writer_stats_tick(struct writer_stats *st, uint64_t now, const struct stats_drain *d);

/* writer_stats_collected - note the merged batch before the filter hooks
 * run on it: which lanes it drains, up to which lane sequence. */
void writer_stats_collected(struct writer_stats *st, const struct batch *merged);

/* writer_stats_delivered - count the batch the sinks just took (after the
 * filters): per-lane written and filtered counts, sequences abandoned,
 * publish-to-written latency, batch size. */
void writer_stats_delivered(struct writer_stats *st, const struct batch *merged);

/* writer_stats_retire - lane i's client is done, its lane about to be
 * freed: move its counts to the totals, so that totals never go back. */
void writer_stats_retire(struct writer_stats *st, uint32_t i);

/* writer_stats_close - publish a last time with no writer pid (readers
 * then see the writer gone), unmap and free st; the segment stays. */
void writer_stats_close(struct writer_stats *st, const struct stats_drain *d);
