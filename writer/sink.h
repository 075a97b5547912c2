/* SPDX-License-Identifier: MIT */
/*
 * Sinks: where batches go. The drain hands every sink the same batch of
 * validated entries in output order, and moves the lanes' tails once the
 * sinks are done with it (see deliver() in drain.c for the policy when one
 * of them fails).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct batch_entry {
	struct lb_entry e;      /* points into the batch's private copy */
	uint64_t ts_ns;         /* CLOCK_REALTIME */
	uint64_t seq;           /* writer-assigned output sequence */
	uint32_t lane;
};

struct batch {
	struct batch_entry *entries;  /* in output order */
	size_t count;
	size_t cap;
};

/* What every sink counts; the stats segment publishes these. */
struct sink_counters {
	uint64_t written;       /* entries the sink took */
	uint64_t bytes;         /* bytes it wrote */
	uint64_t errors;        /* failed writes */
	uint64_t dropped;       /* entries it lost while failing */
	uint64_t latency_ns_sum;/* time spent in write, for the mean */
	uint64_t latency_ns_max;
	int last_error;         /* negative errno of the last failure, 0 after a success */
};

struct sink;

struct sink_ops {
	/* Take the batch. Returns 0, or a negative errno when nothing of it
	 * was taken (the sink must not keep half a batch). */
	int (*write)(struct sink *s, const struct batch *b);
	/* SIGHUP: reopen files, reconnect. Returns 0 or a negative errno. */
	int (*reopen)(struct sink *s);
	/* Flush and free everything; s itself included. */
	void (*destroy)(struct sink *s);
};

/* The head of every sink's own struct. */
struct sink {
	const char *name;       /* "file", "journald", ... */
	const struct sink_ops *ops;
	struct sink_counters counters;
};
