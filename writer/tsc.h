/* SPDX-License-Identifier: MIT */
/* Converting record time stamps (TSC ticks or realtime ns) to wall-clock ns. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct tsc_clock {
	double ns_per_tick;
	uint64_t anchor_tsc;     /* a recent (tsc, realtime) pair */
	uint64_t anchor_ns;
	uint64_t base_tsc;       /* the calibration's start, for a long baseline */
	uint64_t base_mono_ns;
	uint64_t last_update_ns; /* CLOCK_MONOTONIC */
};

/* tsc_invariant - whether the CPU's TSC runs at a constant rate through
 * sleep states, so that records may carry raw ticks. */
bool tsc_invariant(void);

/* tsc_clock_init - calibrate against CLOCK_MONOTONIC (takes ~20 ms). */
void tsc_clock_init(struct tsc_clock *c);

/* tsc_clock_refresh - refine the rate and re-anchor; call about once a
 * second. */
void tsc_clock_refresh(struct tsc_clock *c, uint64_t now_mono_ns);

/* tsc_clock_ns - the CLOCK_REALTIME ns of a tick count. */
uint64_t tsc_clock_ns(const struct tsc_clock *c, uint64_t tsc);
