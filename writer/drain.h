/* SPDX-License-Identifier: MIT */
/* The drain loop: lanes -> validated private copy -> merged batch -> sinks
 * -> lane tails. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "identity.h"
#include "lane_marks.h"
#include "poison.h"
#include "registry.h"
#include "sink.h"
#include "sink_outage.h"
#include "tsc.h"

/* The writer's private state for one lane. */
struct lane_track {
	uint64_t tail;          /* the lane's tail: what every sink acknowledged */
	uint64_t read;          /* the lead: how far the furthest sink was handed */
	uint64_t start;         /* where this round's read starts */
	uint64_t batch_tail;    /* where this round's read ends */
	size_t first, count;    /* its entries in the collected batch */
	uint64_t refused_head;  /* a head lb_lane_read refused, when refused: */
	bool refused;           /* reported once, then waited out, not spun on */
	uint64_t grant;         /* the lane file mapped (lane_table.c); 0: idle */
	uint64_t pos_start;     /* where its file started, and its first lane_seq */
	uint64_t seq_start;
	uint64_t seq_end;       /* above every lane_seq the lane showed */
	bool broken;            /* its client cut its file short (lane_guard.h) */
	bool told_corrupt;      /* its corruption was said on stderr */
	uint64_t skipped;       /* bytes of its file skipped as no records */
};

/* The drain's view of one sink: how far it was handed each lane, and its
 * acknowledged positions as last saved in its state file. */
struct sink_track {
	uint64_t *read;         /* per lane */
	uint64_t *saved;        /* per lane */
	struct lane_marks store;/* ".<bus>.acks.<hash of the sink's key>" */
	uint64_t retry_ns;      /* a sink that failed a batch tries again then */
	size_t limit;           /* entries of its next catch-up round; 0: any */
	bool failing;           /* failed, and not back at the lead since */
	struct sink_outage outage;
};

struct writer_counters {
	uint64_t entries;       /* written to the sinks */
	uint64_t batches;
	uint64_t corrupt;       /* lanes found holding bytes that are no record */
	uint64_t reclaimed;     /* lanes freed after their client left or died */
	uint64_t sink_errors;
	uint64_t quarantined;   /* poison entries set aside (writer/poison.h) */
};

struct writer {
	struct lb_bus bus;
	struct lb_registry reg;      /* the lane slots, shared with the registrar */
	struct lb_client_identity *who;  /* per slot: its lane's client, copied at mapping */
	uint32_t changes_seen;       /* reg's changes at the last full look */
	unsigned guard_trips;        /* lane_guard_trips() then */
	uint32_t releasing;          /* released lanes not drained at the last look */
	uint64_t next_scan_ns;       /* the next full look, for orphans */
	struct tsc_clock clock;
	struct sink **sinks;
	struct sink_track *tracks;   /* one per sink */
	size_t nsinks;
	int state_dirfd;             /* where the sinks' positions are saved; -1: nowhere */
	const char *bus_name;
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
	struct hooks *hooks;         /* NULL: no hooks (writer/hooks.h) */
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

/* writer_run - drain until *stop, then drain what was committed before the
 * stop and return 0. */
int writer_run(struct writer *w);

/* writer_fini - free what writer_init allocated (the lane mappings
 * included), and the sinks. */
void writer_fini(struct writer *w);
