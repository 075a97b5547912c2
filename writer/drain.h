/* SPDX-License-Identifier: MIT */
/* The drain loop: lanes -> validated private copy -> merged batch -> sinks
 * -> lane tails. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "sink.h"
#include "tsc.h"

/* The writer's private state for one lane. */
struct lane_track {
	uint64_t tail;          /* where the next read starts */
	uint64_t batch_tail;    /* the tail once the current batch is written */
	size_t first, count;    /* its entries in the collected batch */
	uint64_t next_check_ns; /* when to look at the owner again */
	uint64_t refused_head;  /* a head lb_lane_read refused, when refused: */
	bool refused;           /* reported once, then waited out, not spun on */
};

struct writer_counters {
	uint64_t entries;       /* written to the sinks */
	uint64_t batches;
	uint64_t corrupt;       /* lanes found holding bytes that are no record */
	uint64_t reclaimed;     /* lanes freed after their owner left or died */
	uint64_t sink_errors;
};

struct writer {
	struct lb_bus bus;
	struct tsc_clock clock;
	struct sink **sinks;
	size_t nsinks;
	struct lane_track *lanes;
	uint8_t *copy;          /* private copy of the batch's lane bytes */
	size_t copy_cap;
	struct batch collected; /* grouped by lane */
	struct batch merged;    /* in output order */
	uint64_t next_seq;
	uint32_t first_lane;    /* rotates, so every lane gets to go first */
	struct writer_counters counters;
	struct hooks *hooks;         /* NULL: no hooks (writer/hooks.h) */
	struct writer_stats *stats;  /* NULL: running without stats (writer/stats_publish.h) */
	/* Called between rounds, at least every 200 ms while idle: the
	 * service's reloads and notifications; it may replace sinks. */
	void (*tick)(struct writer *w, uint64_t now_ns);
	volatile sig_atomic_t *stop;
	volatile sig_atomic_t *reopen;
};

/* writer_init - set up the drain for an attached bus; resumes at each
 * lane's tail. Returns 0 or -ENOMEM. */
int writer_init(struct writer *w);

/* writer_run - drain until *stop, then drain what was committed before the
 * stop and return 0. */
int writer_run(struct writer *w);

/* writer_fini - free what writer_init allocated, and the sinks. */
void writer_fini(struct writer *w);
