/* SPDX-License-Identifier: MIT */
/*
 * What every logbus benchmark shares: a serialised TSC timer with its own
 * overhead measured, sorted-sample percentiles and CDF files, a private
 * logbus-writer to measure against, and small process helpers. Benchmarks
 * print their figures as one JSON object a line on stdout; bench/run.sh
 * gathers them into the report.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <x86intrin.h>

/* The TSC's rate and the cost of one empty bench_t0/bench_t1 pair. */
struct bench_tsc {
	double ns_per_tick;
	uint64_t overhead;      /* ticks: median of empty pairs, subtracted */
};

/* bench_t0 - a timestamp taken after every earlier instruction retired
 * and before any later one starts (lfence; rdtsc; lfence). */
static inline uint64_t bench_t0(void)
{
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
}

/* bench_t1 - a timestamp taken after the timed code finished (rdtscp waits
 * for earlier instructions; the lfence keeps later ones out). */
static inline uint64_t bench_t1(void)
{
	unsigned aux;
	uint64_t t = __rdtscp(&aux);

	_mm_lfence();
	return t;
}

/* bench_tsc_calibrate - measure the TSC rate against CLOCK_MONOTONIC_RAW
 * (about 200 ms) and the timer's own overhead. */
void bench_tsc_calibrate(struct bench_tsc *t);

/* bench_now_ns - CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* bench_pace_until - wait until the TSC reaches tick, yielding the CPU
 * to whatever else is runnable meanwhile. */
void bench_pace_until(uint64_t tick);

/* Latency samples in TSC ticks, sorted, and the quantiles of them in ns
 * with the timer overhead removed. */
struct bench_quantiles {
	double p50, p90, p99, p999, max, mean;
};

void bench_sort(uint64_t *v, size_t n);
void bench_quantiles(const uint64_t *sorted, size_t n, const struct bench_tsc *t,
		     struct bench_quantiles *q);

/* bench_tick_ns - one sample in ns, the timer overhead removed, never
 * below zero. */
double bench_tick_ns(uint64_t ticks, const struct bench_tsc *t);

/* bench_write_cdf - write "percentile ns" lines for a latency plot, dense
 * in the tail (HdrHistogram's percentile distribution). Returns 0 or
 * -errno. */
int bench_write_cdf(const char *path, const uint64_t *sorted, size_t n,
		    const struct bench_tsc *t);

/* bench_json_quantiles - print q as "p50":..,"p90":.. (no braces). */
void bench_json_quantiles(FILE *f, const struct bench_quantiles *q);

/* A logbus-writer on a private bus, writing into a private directory. */
struct bench_writer {
	pid_t pid;
	char bus[64];
	char dir[256];
};

/* bench_writer_start - name a private bus and directory after what, start
 * the writer with extra arguments (NULL-terminated, may be NULL) and wait
 * until it owns the bus. Returns 0 or -errno after printing why. */
int bench_writer_start(struct bench_writer *w, const char *what, const char *const *extra);

/* bench_writer_stop - SIGTERM, wait; returns its exit status or -errno. */
int bench_writer_stop(struct bench_writer *w);

/* bench_writer_cleanup - remove the bus and stats segments and the
 * directory. */
void bench_writer_cleanup(struct bench_writer *w);

/* bench_cpu_seconds - user + system CPU time of pid so far, or -1. */
double bench_cpu_seconds(pid_t pid);

/* bench_count_lines - newlines in every *.jsonl file of dir. */
uint64_t bench_count_lines(const char *dir);

/* bench_shared - size bytes of zeroed shared memory that survives fork. */
void *bench_shared(size_t size);

/* bench_wait_children - wait for n children; false when any failed. */
bool bench_wait_children(const pid_t *pids, size_t n);

/* bench_number - "100", "0.5", "4K", "1M" as a number; exits with a
 * message naming s when it is none. */
double bench_number(const char *s);

/* bench_message - size bytes of printable text, NUL-terminated; free()
 * it. */
char *bench_message(size_t size);

/* bench_fail - print "prog: what: strerror(err)" and exit 1. */
__attribute__((noreturn)) void bench_fail(const char *what, int err);
