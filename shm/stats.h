/* SPDX-License-Identifier: MIT */
/*
 * The stats segment "/logbus.<bus>.stats": the writer's counters, published
 * for logbus-top and logbus-stat. The writer creates it and is its only
 * writer; readers never map it: they copy it with pread(2) under a seqlock,
 * so that a writer mid-update, a truncated file or garbage bytes give them
 * an error, never a crash, and never slow the writer down.
 *
 * The records below are the segment's records, word for word: every field
 * is a uint64_t (names are char arrays of whole words), so the writer can
 * store them as relaxed atomic words and a reader's copy is the struct
 * itself. The header and the offsets of each area are private to stats.c.
 * Only two facts are fixed across versions, so that any reader can refuse
 * another version clearly: the magic (8 bytes at offset 0) and the version
 * (a uint32_t at offset LB_STATS_VERSION_OFFSET).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "names.h"

#define LB_STATS_MAGIC UINT64_C(0x5354415453474f4c) /* "LOGSTATS" */
#define LB_STATS_VERSION 2u
#define LB_STATS_VERSION_OFFSET 8

#define LB_STATS_SINKS_MAX 16u
#define LB_STATS_HOOKS_MAX 32u
#define LB_STATS_NAME_MAX 32
#define LB_STATS_HOOK_NAME_MAX 72   /* 64 characters and a NUL, padded */

/*
 * Log-linear histogram buckets: values 0..15 have a bucket each; above,
 * every power of two is cut into 8 equal buckets, so a bucket's width is at
 * most 1/8 of its lower bound (quantiles within 12.5%), over the whole
 * uint64_t range in 496 buckets (HdrHistogram's idea, with 3 bits).
 */
#define LB_STATS_HIST_SUB_BITS 3
#define LB_STATS_HIST_BUCKETS 496u

/* Bus-wide counters and gauges: the clients' (retired ones and those
 * holding lanes now) summed, so the identities of each client hold for the
 * bus too. Counters only ever grow, across writer restarts as well (the
 * writer keeps its counts in its state directory):
 *   published = queued + dropped_full + dropped_too_large + dropped_no_lane
 *   queued = written + filtered + dropped_abandoned + waiting */
struct lb_stats_bus {
	uint64_t lane_count;
	uint64_t lane_size;
	uint64_t lanes_in_use;    /* gauge */
	uint64_t fill_bytes;      /* gauge: bytes waiting in all lanes */
	uint64_t published;       /* entries offered: queued + dropped full + too large */
	uint64_t queued;          /* entries committed into a lane */
	uint64_t written;         /* entries the sinks took */
	uint64_t batches;
	uint64_t dropped_full;
	uint64_t dropped_too_large;
	uint64_t dropped_no_lane; /* publishes refused a lane, with none to share (registrar) */
	uint64_t dropped_abandoned; /* committed, then skipped as corrupt */
	uint64_t corrupt;         /* times a lane held bytes that were no record */
	uint64_t reclaimed;       /* lanes freed after their client left or died */
	uint64_t batches_failed;  /* batches no sink took (retried) */
	uint64_t clients_retired; /* claims whose counts moved to the totals */
	uint64_t filtered;        /* entries a filter hook dropped (on purpose) */
	uint64_t quarantined;     /* poison entries: crashed the writer in a filter, set aside */
	uint64_t waiting;         /* gauge: committed, not yet written, filtered or abandoned */
	uint64_t registrations;   /* lanes the registrar granted */
	uint64_t refused_denied;  /* lane requests of clients the configuration does not allow */
	uint64_t refused_quota;   /* lane requests past a per-uid or per-client quota */
	uint64_t refused_full;    /* lane requests that found every lane taken */
	uint64_t reserved[1];
};

enum lb_stats_client_state {
	LB_STATS_CLIENT_FREE = 0,
	LB_STATS_CLIENT_OWNED = 1,
	LB_STATS_CLIENT_RELEASED = 2,
};

/* One lane, as the client that holds it now. Its counts are sampled once
 * per publish, in one basis:
 *   published = queued + dropped_full + dropped_too_large
 *   queued = written + filtered + dropped_abandoned + waiting */
struct lb_stats_client {
	uint64_t lane;
	uint64_t claim;           /* the lane's claim count: which client this is */
	uint64_t state;           /* enum lb_stats_client_state */
	uint64_t pid;
	uint64_t tid;
	char comm[16];            /* program name, NUL-terminated by readers */
	uint64_t published;
	uint64_t queued;
	uint64_t written;
	uint64_t dropped_full;
	uint64_t dropped_too_large;
	uint64_t dropped_abandoned;
	uint64_t fill_bytes;
	uint64_t last_publish_ns; /* CLOCK_REALTIME of its last written entry, 0 none */
	uint64_t filtered;        /* entries a filter hook dropped */
	uint64_t waiting;         /* gauge: committed entries not yet accounted */
	uint64_t reserved[7];
};

struct lb_stats_sink {
	char name[LB_STATS_NAME_MAX];
	uint64_t written;
	uint64_t bytes;
	uint64_t errors;
	uint64_t dropped;
	uint64_t latency_ns_sum;
	uint64_t latency_ns_max;
	uint64_t batches;         /* write calls */
	int64_t last_error;       /* negative errno of the last failure, 0 after a success */
	uint64_t reserved[4];
};

/* One hook (issue 4: writer/hooks/hooks.h, struct hook_metrics). */
struct lb_stats_hook {
	char name[LB_STATS_HOOK_NAME_MAX];
	char type[8];             /* "filter" or "action" */
	uint64_t matched;
	uint64_t calls;
	uint64_t ok;
	uint64_t dropped;
	uint64_t rewritten;
	uint64_t errors;
	uint64_t timeouts;
	uint64_t queue_drops;
	uint64_t restarts;
	uint64_t time_ns_sum;
	uint64_t time_ns_max;
	uint64_t reserved[3];
};

struct lb_stats_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t max;
	uint64_t reserved[5];
	uint64_t buckets[LB_STATS_HIST_BUCKETS];
};

_Static_assert(sizeof(struct lb_stats_bus) == 192, "bus record: three cache lines");
_Static_assert(sizeof(struct lb_stats_client) == 192, "client record: three cache lines");
_Static_assert(sizeof(struct lb_stats_sink) == 128, "sink record: two cache lines");
_Static_assert(sizeof(struct lb_stats_hook) == 192, "hook record: three cache lines");
_Static_assert(sizeof(struct lb_stats_hist) % 64 == 0, "histogram: whole cache lines");

/* Everything in the segment, as a private copy (reader) or as the values
 * the writer is about to publish. */
struct lb_stats_snapshot {
	uint32_t version;
	pid_t writer_pid;          /* 0 after a clean writer exit */
	uint64_t start_ns;         /* writer start, CLOCK_REALTIME */
	uint64_t heartbeat_ns;     /* CLOCK_MONOTONIC of the writer's last sign of life */
	uint64_t updated_ns;       /* CLOCK_REALTIME of the last publish */
	uint64_t publishes;        /* how many times the writer published */
	bool consistent;           /* false: the writer stopped mid-update */
	struct lb_stats_bus bus;
	uint32_t nclients;         /* one per lane, free ones included */
	struct lb_stats_client *clients;
	uint32_t nsinks;
	struct lb_stats_sink sinks[LB_STATS_SINKS_MAX];
	uint32_t nhooks;
	struct lb_stats_hook hooks[LB_STATS_HOOKS_MAX];
	struct lb_stats_hist latency;  /* publish to written, ns */
	struct lb_stats_hist batch;    /* entries per batch */
};

/* The writer's mapping of the segment. */
struct lb_stats_segment {
	uint8_t *base;
	size_t size;
	uint32_t lane_count;
};

/* The mode of a stats segment when the configuration names none: it
 * names every client's pid and program, for the writer's group only. */
#define LB_STATS_MODE 0640

/*
 * lb_stats_create - create (replacing any old one) the stats segment of
 * bus name for lane_count lanes, fully allocated, with mode and group
 * ((gid_t)-1: the caller's), and map it. Returns 0, or a negative errno
 * with why.
 */
int lb_stats_create(const char *name, uint32_t lane_count, mode_t mode, gid_t group,
		    struct lb_stats_segment *s, struct lb_bus_error *err);

/* lb_stats_close - unmap; the segment stays for readers (a no-op when not
 * mapped). */
void lb_stats_close(struct lb_stats_segment *s);

/* lb_stats_heartbeat - the writer's sign of life, CLOCK_MONOTONIC ns. */
void lb_stats_heartbeat(const struct lb_stats_segment *s, uint64_t monotonic_ns);

/* lb_stats_publish - copy snap into the segment under the seqlock. The
 * caller keeps every counter of snap from going backwards. */
void lb_stats_publish(const struct lb_stats_segment *s, const struct lb_stats_snapshot *snap);

/*
 * lb_stats_read - a consistent private copy of the stats segment of bus
 * name. Returns 0, -ENOENT (no segment), -EAGAIN (being created),
 * -EPROTO (not a stats segment), -EPROTONOSUPPORT (another version),
 * -EBADMSG (sizes or counts that do not hold), -ENOMEM, or the errno of a
 * failed system call; err says why. A writer that died mid-update yields
 * its last words with consistent false. Free with lb_stats_snapshot_free.
 */
int lb_stats_read(const char *name, struct lb_stats_snapshot *snap, struct lb_bus_error *err);

/* lb_stats_snapshot_free - free what lb_stats_read allocated; NULL-safe. */
void lb_stats_snapshot_free(struct lb_stats_snapshot *snap);

/* lb_stats_hist_add - count n values v (the writer's private copy). */
void lb_stats_hist_add(struct lb_stats_hist *h, uint64_t v, uint64_t n);

/* lb_stats_hist_quantile - the value at quantile q (0..1): the upper
 * bound of the bucket holding it, capped at the maximum; 0 when empty. */
uint64_t lb_stats_hist_quantile(const struct lb_stats_hist *h, double q);
