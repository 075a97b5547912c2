/* SPDX-License-Identifier: MIT */
/*
 * Sinks: where batches go. The drain hands every sink batches of
 * validated entries in output order. Each sink acknowledges on its own,
 * per lane: a synchronous sink by returning 0 from write() (the drain
 * then counts the batch's lane ends as acknowledged), an asynchronous one
 * (sink.async) later, from a thread of its own, with sink_ack(). A lane's
 * tail is the lowest acknowledged position of all sinks (see drain.c).
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry_json.h"
#include "identity.h"
#include "record.h"

struct batch_entry {
	struct lb_entry e;      /* points into the batch's private copy */
	uint64_t ts_ns;         /* CLOCK_REALTIME */
	uint64_t seq;           /* writer-assigned output sequence */
	uint32_t lane;
	/* Its client, as the kernel said at registration (e.pid is its pid;
	 * shm/identity.h), set by the drain; NULL when there is none (a
	 * batch a test makes): outputs print what the entry itself says.
	 * Valid while the batch is handed to the sinks (and the filter and
	 * action hooks): whatever keeps an entry longer (an asynchronous
	 * sink's queue, a spool, an action hook's copy) copies what it
	 * needs. */
	const struct lb_client_identity *who;
};

/* batch_entry_ids - what a JSON line of be says beside the entry itself
 * (lb_entry_json_put()): its place and its process. */
static inline struct lb_entry_ids batch_entry_ids(const struct batch_entry *be)
{
	return (struct lb_entry_ids){ .seq = be->seq, .lane = be->lane, .who = be->who };
}

/* Where a lane's part of a batch ends: the position an acknowledgement
 * of the whole batch gives that lane (pads and entries a filter removed
 * included). */
struct batch_lane_end {
	uint32_t lane;
	uint64_t end;
};

struct batch {
	struct batch_entry *entries;  /* in output order */
	size_t count;
	size_t cap;
	const struct batch_lane_end *ends;  /* every lane the batch moves */
	size_t nends;
};

/* What every sink counts; the stats segment publishes these. */
struct sink_counters {
	uint64_t written;       /* entries the sink took */
	uint64_t bytes;         /* bytes it wrote */
	uint64_t errors;        /* failed writes */
	uint64_t dropped;       /* entries it lost while failing */
	uint64_t latency_ns_sum;/* time spent in write, for the mean */
	uint64_t latency_ns_max;
	int last_error;         /* negative errno of the last failure, 0 after a success;
				 * an asynchronous sink sets it for its destination */
};

struct sink;

struct sink_ops {
	/* Take the batch. Returns 0, or a negative errno when nothing of it
	 * was taken (the sink must not keep half a batch): the drain hands
	 * it again later. A synchronous sink returns 0 only once the batch
	 * is done as its guarantee says; an asynchronous one once it holds
	 * the batch, and calls sink_ack() for b->ends when it is done. */
	int (*write)(struct sink *s, const struct batch *b);
	/* SIGHUP: reopen files, reconnect. Returns 0 or a negative errno. */
	int (*reopen)(struct sink *s);
	/* Flush and free everything; s itself included. */
	void (*destroy)(struct sink *s);
	/* Optional, between rounds: work on a backlog of the sink's own (a
	 * spool to replay). Returns whether some is left, so that the drain
	 * comes back soon. */
	bool (*poll)(struct sink *s);
};

#define SINK_KEY_MAX 512

/* What every sink of a configuration shares, beside its own options. */
struct sink_context {
	const char *bus;          /* the bus's name: file names start with it */
	uint64_t segment_id;      /* lb_bus_id() of the bus drained */
	const char *spool_dir;    /* where the sinks that spool keep them; NULL: none do */
	uint64_t spool_max;       /* bytes per spool */
};

/* The head of every sink's own struct. */
struct sink {
	const char *name;       /* "file", "journald", ... */
	const struct sink_ops *ops;
	struct sink_counters counters;
	/* What the sink's positions are saved under: its kind and
	 * destination, so that a restart (or a reload) finds them again and
	 * two sinks never share them. */
	char key[SINK_KEY_MAX];
	char dest[SINK_KEY_MAX];/* where it sends, in words, for messages */
	bool async;             /* acknowledges with sink_ack() */
	/* Sets counters.last_error itself: an asynchronous sink, or one that
	 * spools, which may be failing while write() succeeds. */
	bool own_last_error;
	/* Per lane, the acknowledged position; the drain allocates it before
	 * the first write and frees it after destroy. */
	_Atomic uint64_t *acked;
};

/* sink_key_hash - 64-bit FNV-1a of a sink's key, for the names of the
 * files it keeps (sink_acks.c). */
uint64_t sink_key_hash(const char *key);

/* sink_ack - an asynchronous sink is done with its entries of lane up to
 * position end (a batch_lane_end it was given). Any thread of the sink. */
static inline void sink_ack(struct sink *s, uint32_t lane, uint64_t end)
{
	/* LMM(sink_ack:A) pairs with drain_acked:A: the sink's work on the
	 * entries before end (its own bookkeeping, a spool record) is
	 * visible to the drain before the position it moves the tail to.
	 * Relies on: only the sink's one sending thread stores, positions
	 * only grow. */
	atomic_store_explicit(&s->acked[lane], end, memory_order_release);
}
