/* SPDX-License-Identifier: MIT */
/*
 * Numbered streams for the kill-matrix and soak tests: producer processes
 * whose threads each publish one stream ("s<k>", entries n = 0, 1, ...,
 * with field n), a count in shared memory of what each stream had
 * accepted, and a check, streaming over the writer's output files, that
 * each stream's accepted entries are there exactly once. Every helper
 * asserts (cmocka).
 */
#pragma once

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What the streams share with the test process (harness_shared memory). */
struct streams {
	unsigned count;              /* streams */
	_Atomic int stop;            /* producers flush and exit when set */
	_Atomic uint64_t *done;      /* per stream: publishes that returned 0 */
	_Atomic uint64_t *accounting_errors;  /* handles whose counters did not add up */
};

/* streams_seed - the seed of a randomised test run: $LOGBUS_TEST_SEED,
 * else the clock; the test prints it, so that a run can be repeated. */
unsigned streams_seed(void);

/* streams_new - count streams, counters zeroed, in shared memory. */
struct streams *streams_new(unsigned count);

/* streams_producer - fork a producer process publishing streams first ..
 * first + threads - 1 on bus, one thread each (retrying, after 100 us,
 * an entry refused for a full lane or no free lane), with a pause of pause_us
 * after every 8 entries (0: none), until s->stop or until each thread
 * published limit entries (0: no limit); then it flushes, checks
 * its handle's counters (published = queued + fallback + dropped, every
 * accepted entry queued or in the fallback) and exits 0. Its fallback, if it ever needs
 * one, is fallback (NULL: stderr). Returns its pid. */
pid_t streams_producer(struct streams *s, const char *bus, unsigned first, unsigned threads,
		       long pause_us, uint64_t limit, const char *fallback);

/* Per stream, how often each entry was seen in the output. */
struct streams_seen {
	const struct streams *s;
	uint8_t **seen;              /* [stream][n] */
	uint64_t *cap;               /* entries allotted per stream */
	uint64_t entries;            /* stream entries seen, duplicates included */
	uint64_t others;             /* entries of other tags */
};

/* streams_seen_init - ready to count, once the producers stopped: stream
 * k may hold done[k] entries, plus slack more (a producer killed between
 * its commit and its count). */
void streams_seen_init(struct streams_seen *c, const struct streams *s, uint64_t slack);

/* streams_seen_add - a harness_entry_fn: count one output entry; fails
 * on an entry n of a stream beyond what it may hold. */
void streams_seen_add(json_t *entry, void *seen);

/* streams_seen_check - streams first .. first + n - 1 hold each accepted
 * entry exactly once and, when exact, nothing more (else at most one more:
 * an entry committed by a producer killed before it counted it). Fails
 * naming the first missing or doubled entry. */
void streams_seen_check(const struct streams_seen *c, unsigned first, unsigned n, bool exact);

/* streams_seen_free - release the counts. */
void streams_seen_free(struct streams_seen *c);
