/* SPDX-License-Identifier: MIT */
/*
 * What logbus-top and logbus-stat share: reading the stats segment into a
 * sample, the writer's state from its heartbeat, rates between two
 * samples, and number formatting.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

/* A writer whose heartbeat is older than this is stalled. It beats at
 * least every 200 ms, also when idle. */
#define MON_STALL_NS (2 * 1000000000ull)

enum mon_state {
	MON_ALIVE,
	MON_STALLED,
	MON_DEAD,
};

struct mon_sample {
	struct lb_stats_snapshot s;
	uint64_t taken_ns;          /* CLOCK_MONOTONIC when read */
	uint64_t taken_real_ns;     /* CLOCK_REALTIME when read */
	enum mon_state state;
};

/*
 * mon_sample_read - read the stats of bus into *m. Returns 0, or a
 * negative errno with a one-line why: -ENOENT when the bus does not exist
 * or has no stats segment, else as lb_stats_read. Free with
 * mon_sample_free.
 */
int mon_sample_read(const char *bus, struct mon_sample *m, char *why, size_t whylen);

/* mon_sample_free - free a sample's memory; a zeroed sample is fine. */
void mon_sample_free(struct mon_sample *m);

/* mon_state_name - "alive", "stalled" or "dead". */
const char *mon_state_name(enum mon_state st);

/* mon_uptime_s - seconds the writer has run: until now, or until its
 * last update when it is dead. */
uint64_t mon_uptime_s(const struct mon_sample *m);

/* mon_rate - per-second rate of a counter between two samples taken dt_ns
 * apart; 0 when dt_ns is 0 or the counter went back (a new writer). */
double mon_rate(uint64_t now, uint64_t before, uint64_t dt_ns);

/* mon_same_writer - whether two samples come from the same writer run. */
bool mon_same_writer(const struct mon_sample *a, const struct mon_sample *b);

/* mon_client_find - the client record in m of the same lane and claim as
 * c, or NULL. */
const struct lb_stats_client *mon_client_find(const struct mon_sample *m,
					      const struct lb_stats_client *c);

/* mon_parse_seconds - *out = s as seconds in lo..hi; else prints
 * "<tool>: <opt> '<s>' is not ..." and returns -EINVAL. */
int mon_parse_seconds(const char *tool, const char *opt, const char *s, double lo, double hi,
		      double *out);

/* mon_fmt_count - v in at most 6 characters: 999, 12.3k, 4.56M, ... */
const char *mon_fmt_count(char buf[16], double v);

/* mon_fmt_ns - a duration: 850ns, 12.3us, 4.5ms, 1.20s. */
const char *mon_fmt_ns(char buf[16], uint64_t ns);

/* mon_fmt_uptime - seconds as 1d02h03m, 02:03:04 or 3m04s. */
const char *mon_fmt_uptime(char buf[24], uint64_t seconds);

/* mon_fmt_time - CLOCK_REALTIME ns as RFC 3339 UTC with seconds, "-" for 0. */
const char *mon_fmt_time(char buf[40], uint64_t ns);
