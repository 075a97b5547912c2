/* SPDX-License-Identifier: MIT */
/* The drain loop: lanes -> validated private copy -> merged batch -> sinks
 * -> lane tails. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bus.h"
#include "lane_table.h"
#include "poison.h"
#include "registry.h"
#include "sink.h"
#include "sink_acks.h"
#include "stats_publish.h"
#include "tsc.h"

/* The drain's state for one lane in a round, and its corruption. */
struct lane_track {
	uint64_t start;         /* where this round's read starts */
	uint64_t batch_tail;    /* where this round's read ends */
	size_t first, count;    /* its entries in the collected batch */
	uint64_t refused_head;  /* a head lb_lane_read refused, when refused: */
	bool refused;           /* reported once, then waited out, not spun on */
	bool told_corrupt;      /* its corruption was said on stderr */
};

struct writer {
	struct lb_bus bus;
	struct lb_registry reg;      /* the lane slots, shared with the registrar */
	struct lane_table table;     /* which lane file each slot maps (lane_table.h) */
	struct tsc_clock clock;
	struct sink **sinks;
	struct sink_track *tracks;   /* one per sink */
	size_t nsinks;
	int state_dirfd;             /* where the sinks' positions are saved; -1: nowhere */
	const char *bus_name;
	/* Per lane: its tail, the lowest position the sinks acknowledged,
	 * and the lead, how far the furthest sink was handed. */
	uint64_t *tail;
	uint64_t *lead;
	struct lane_track *lanes;
	uint8_t *copy;          /* private copy of the batch's lane bytes */
	size_t copy_cap;
	struct batch collected; /* grouped by lane */
	struct batch merged;    /* in output order */
	struct batch_lane_end *ends;  /* the lanes this round moves */
	uint64_t next_seq;
	uint32_t first_lane;    /* rotates, so every lane gets to go first */
	size_t lead_limit;      /* entries of the next lead round; 0: any */
	struct writer_counters counters;
	struct hooks *hooks;         /* NULL: no hooks (writer/hooks/hooks.h) */
	struct poison poison;        /* what the filters are running on */
	struct writer_stats *stats;  /* NULL: running without stats (writer/stats_publish.h) */
	/* Called between rounds, at least every 200 ms while idle: the
	 * service's reloads and notifications; it may replace sinks. */
	void (*tick)(struct writer *w, uint64_t now_ns);
	volatile sig_atomic_t *stop;
	volatile sig_atomic_t *reopen;
};

/* writer_init - set up the drain for an attached bus and its open
 * registry; resumes each slot at the tail the registry keeps, and maps
 * the lanes it names. Returns 0 or -ENOMEM. */
int writer_init(struct writer *w);

/* writer_set_sinks - replace the sinks (none at first) by sinks[n], which
 * the drain owns from now on: the old ones are destroyed and their
 * positions saved; each new one resumes where its saved positions say,
 * or at the lanes' tails. Returns 0 or -ENOMEM (the new sinks are
 * destroyed then, the old ones run on). */
int writer_set_sinks(struct writer *w, struct sink **sinks, size_t n);

/* writer_open_stats - publish the drain's stats in the stats segment of
 * bus, made with mode and group (writer_stats_open), once the sinks and
 * hooks run; without it, or when it fails, the drain runs without. */
void writer_open_stats(struct writer *w, const char *bus, mode_t mode, gid_t group);

/* writer_close_stats - publish the stats a last time, saying the writer
 * is gone, and stop publishing them. */
void writer_close_stats(struct writer *w);

/* writer_run - drain until *stop, then drain what was committed before the
 * stop and return 0. */
int writer_run(struct writer *w);

/* writer_fini - free what writer_init allocated (the lane mappings
 * included), and the sinks. */
void writer_fini(struct writer *w);
