/* SPDX-License-Identifier: MIT */
/*
 * The writer's side of the stats segment: it keeps the counters the drain
 * loop does not (per-lane written counts, histograms, the totals of
 * reclaimed lanes) and publishes everything to /logbus.<bus>.stats at most
 * every 100 ms. Every function is a no-op when the segment could not be
 * created (w->stats NULL): stats never stop the writer.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct writer;
struct lb_lane_info;

/* writer_stats_open - create the stats segment of bus for w (after
 * writer_init), with mode and group ((gid_t)-1: the writer's), and publish
 * a first time. Returns 0, or a negative errno after printing one line:
 * the writer then runs without stats. */
int writer_stats_open(struct writer *w, const char *bus, mode_t mode, gid_t group);

/* writer_stats_tick - heartbeat; publish when the last publish is 100 ms
 * old (now: CLOCK_MONOTONIC ns). Called every round of the drain loop. */
void writer_stats_tick(struct writer *w, uint64_t now);

/* writer_stats_collected - note the merged batch before the filter hooks
 * run on it: which lanes it drains, up to which lane sequence. */
void writer_stats_collected(struct writer *w);

/* writer_stats_delivered - count the batch the sinks just took (after the
 * filters): per-lane written and filtered counts, sequences abandoned,
 * publish-to-written latency, batch size. */
void writer_stats_delivered(struct writer *w);

/* writer_stats_retire - lane i's client is done, its lane about to be
 * freed: move its counts to the totals, so that totals never go back. */
void writer_stats_retire(struct writer *w, uint32_t i);

/* writer_stats_close - publish a last time with no writer pid (readers
 * then see the writer gone) and unmap; the segment stays. */
void writer_stats_close(struct writer *w);
