/* SPDX-License-Identifier: MIT */
/* Time stamps for records: raw TSC ticks where the TSC is invariant (the
 * writer converts them), CLOCK_REALTIME otherwise. Neither is a system
 * call: clock_gettime goes through the vDSO. */
#pragma once

#include <stdint.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define LB_HAVE_TSC 1
#else
#define LB_HAVE_TSC 0
#endif

/* The ts_mode value (enum lb_ts_mode in shm/layout.h, the bus header's)
 * that means raw TSC ticks; shm/record.c asserts that the two agree, so
 * this helper needs nothing from the layer above it. */
#define LB_CLOCK_TSC 2

static inline uint64_t lb_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t lb_clock_stamp(uint32_t ts_mode)
{
#if LB_HAVE_TSC
	if (ts_mode == LB_CLOCK_TSC)
		return __rdtsc();
#endif
	return lb_clock_ns(CLOCK_REALTIME);
}
