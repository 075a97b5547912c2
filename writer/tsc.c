/* SPDX-License-Identifier: MIT */
/*
 * Producers stamp records with raw TSC ticks (one instruction, where
 * clock_gettime costs several times more); the writer turns ticks into wall
 * time with a rate measured against CLOCK_MONOTONIC over an ever longer
 * baseline, anchored to CLOCK_REALTIME at each refresh.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "layout.h"
#include "tsc.h"

bool tsc_invariant(void)
{
	char line[4096];
	bool constant = false, nonstop = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!LB_HAVE_TSC || !f) {
		if (f)
			fclose(f);
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	fclose(f);
	return constant && nonstop;
}

/* A (tsc, ns) pair read as close together as the clock allows. */
static void sample(clockid_t id, uint64_t *tsc, uint64_t *ns)
{
	uint64_t before = lb_clock_stamp(LB_TS_TSC);

	*ns = lb_clock_ns(id);
	*tsc = before / 2 + lb_clock_stamp(LB_TS_TSC) / 2;
}

static void anchor(struct tsc_clock *c)
{
	sample(CLOCK_REALTIME, &c->anchor_tsc, &c->anchor_ns);
}

void tsc_clock_init(struct tsc_clock *c)
{
	uint64_t tsc1, mono1;

	*c = (struct tsc_clock){ 0 };
	sample(CLOCK_MONOTONIC, &c->base_tsc, &c->base_mono_ns);
	nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000 }, NULL);
	sample(CLOCK_MONOTONIC, &tsc1, &mono1);
	c->ns_per_tick = tsc1 > c->base_tsc
				 ? (double)(mono1 - c->base_mono_ns) / (double)(tsc1 - c->base_tsc)
				 : 1.0;
	c->last_update_ns = mono1;
	anchor(c);
}

void tsc_clock_refresh(struct tsc_clock *c, uint64_t now_mono_ns)
{
	uint64_t tsc, mono;

	if (now_mono_ns - c->last_update_ns < 1000000000u)
		return;
	sample(CLOCK_MONOTONIC, &tsc, &mono);
	if (tsc > c->base_tsc && mono > c->base_mono_ns)
		c->ns_per_tick = (double)(mono - c->base_mono_ns) / (double)(tsc - c->base_tsc);
	c->last_update_ns = mono;
	anchor(c);
}

uint64_t tsc_clock_ns(const struct tsc_clock *c, uint64_t tsc)
{
	/* Only the difference goes through floating point: a double holds
	 * ns since 1970 to no better than 256 ns. */
	double delta = (double)(int64_t)(tsc - c->anchor_tsc) * c->ns_per_tick;

	return c->anchor_ns + (uint64_t)(int64_t)delta;
}
