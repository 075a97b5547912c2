/* SPDX-License-Identifier: MIT */
/* The two stderr lines of a sink's outage (sink_outage.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "sink_outage.h"

void sink_outage_fail(struct sink_outage *o, const char *sink, const char *dest, int err,
		      const char *where)
{
	if (o->since_ns)
		return;
	o->since_ns = lb_clock_ns(CLOCK_MONOTONIC);
	o->since_ns += !o->since_ns;   /* 0 means well */
	o->waited = 0;
	fprintf(stderr, "logbus-writer: sink %s (%s) fails: %s; its entries wait in %s\n", sink,
		dest, strerror(-err), where);
}

void sink_outage_waits(struct sink_outage *o, uint64_t n)
{
	if (o->since_ns)
		o->waited += n;
}

void sink_outage_end(struct sink_outage *o, const char *sink, const char *dest)
{
	if (!o->since_ns)
		return;
	uint64_t took = lb_clock_ns(CLOCK_MONOTONIC) - o->since_ns;
	fprintf(stderr, "logbus-writer: sink %s (%s) works again after %.1f s; %llu entries "
		"waited\n", sink, dest, (double)took / 1e9, (unsigned long long)o->waited);
	*o = (struct sink_outage){ 0 };
}
