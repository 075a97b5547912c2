/* SPDX-License-Identifier: MIT */
/*
 * A sink's outage, told on stderr: one line when the sink starts failing
 * (naming the sink, its destination and the cause), one when it works
 * again (how long it failed, how many entries waited meanwhile), nothing
 * in between however often it fails. The sink or the drain, whichever
 * sees the failure, keeps one struct sink_outage per sink; the sink's
 * counters.last_error is set beside it by the same party.
 */
#pragma once

#include <stdint.h>

struct sink_outage {
	uint64_t since_ns;      /* CLOCK_MONOTONIC of the first failure; 0: well */
	uint64_t waited;        /* entries that waited during it */
};

/* sink_outage_fail - the sink named sink, sending to dest, failed with
 * err (a negative errno); its entries wait in where ("the bus", "the
 * spool"). Prints the first line of an outage; later calls only count. */
void sink_outage_fail(struct sink_outage *o, const char *sink, const char *dest, int err,
		      const char *where);

/* sink_outage_waits - n more entries wait, when an outage is on. */
void sink_outage_waits(struct sink_outage *o, uint64_t n);

/* sink_outage_end - the sink works again: prints the outage's last line
 * when one was on, and ends it. */
void sink_outage_end(struct sink_outage *o, const char *sink, const char *dest);
