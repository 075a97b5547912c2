/* SPDX-License-Identifier: MIT */
/*
 * publish-latency - the cost of one log call, timed call by call.
 *
 * SYNOPSIS
 *	publish-latency [--target NAME] [--size BYTES] [--fields N] [--procs N] [--threads N]
 *	                [--count N] [--warmup N] [--rate PER_S] [--burst N] [--lanes N]
 *	                [--lane-size BYTES] [--path FILE] [--socket PATH]
 *	                [--cdf FILE] [--label TEXT] [--bus NAME]
 *	publish-latency --list
 *
 * DESCRIPTION
 *	Starts --procs processes of --threads threads each; every thread logs
 *	--warmup entries of --size bytes (and, for logbus, --fields N
 *	key/value fields of 11 bytes each, keys key0..keyN-1) untimed, waits for its logger to
 *	catch up, then times --count calls one by one (lfence; rdtsc ... rdtscp;
 *	lfence), back to back or paced at --rate calls per second. The timer's
 *	own cost (the median of empty pairs) is subtracted from each sample;
 *	ticks become ns by a TSC rate calibrated against CLOCK_MONOTONIC_RAW.
 *	All samples of all threads are sorted together for the quantiles.
 *	Then each thread makes --burst calls (default --count / 4) back to
 *	back, timed as a whole: the burst rate per thread.
 *
 *	For the target logbus (the default) it starts a private logbus-writer
 *	(--lanes, --lane-size; the default lane of 256M holds --count 1M
 *	entries of 100 B, so a tight loop measures publishing, not a full
 *	lane) that drains to a file meanwhile, and checks afterwards that the
 *	file holds every entry not dropped; --bus NAME uses the writer that
 *	runs on bus NAME instead. Calls that failed (lane full) are
 *	counted as drops and left out of the quantiles.
 *
 *	Other targets: fprintf (--path), syslog (--socket: the rsyslogd socket
 *	the process sees as /dev/log), journald, spdlog (--path), lttng (into
 *	the session the caller started), when built in: --list names them.
 *
 *	Prints one JSON object on stdout; --cdf writes "percentile ns" lines.
 *
 * EXIT STATUS
 *	0 measured; 1 something failed (one line on stderr says what).
 *
 * EXAMPLES
 *	publish-latency --size 100 --count 1000000
 *	publish-latency --procs 2 --size 100 --cdf lat.dat
 *	publish-latency --size 100 --fields 4 --count 1000000
 *	publish-latency --target fprintf --path /tmp/x.log --count 100000
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "bench.h"

struct options {
	const struct backend *be;
	struct backend_args args;
	size_t size;
	unsigned procs, threads;
	size_t count, warmup, burst;
	double rate;
	const char *lanes, *lane_size, *cdf, *label;
};

/* What the workers share with the parent, across fork. */
struct shared {
	atomic_uint ready;      /* LMM(ready:A) pairs with the parent's wait */
	atomic_uint go;         /* LMM(go:A) pairs with the workers' spin */
	atomic_ulong drops;
	atomic_ulong untimed_drops;   /* warm-up and burst calls that failed */
	atomic_ulong burst_calls;
	atomic_ulong burst_ticks;
	atomic_ulong failed;
	uint64_t start_tick;
};

struct worker {
	const struct options *o;
	struct shared *sh;
	void *ctx;
	uint64_t *lat;          /* o->count samples */
	const char *msg;
};

static const struct backend *const backends[] = {
	&backend_logbus, &backend_fprintf, &backend_syslog, &backend_journald,
#ifdef HAVE_SPDLOG
	&backend_spdlog,
#endif
#ifdef HAVE_LTTNG
	&backend_lttng,
#endif
};

static struct bench_tsc tsc;

static const struct backend *backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

static void timed_loop(struct worker *w)
{
	const struct options *o = w->o;
	uint64_t interval = o->rate > 0 ? (uint64_t)(1e9 / o->rate / tsc.ns_per_tick) : 0;
	uint64_t next = w->sh->start_tick, drops = 0;

	for (size_t i = 0; i < o->count; i++) {
		if (interval)
			bench_pace_until(next += interval);
		uint64_t t0 = bench_t0();
		int r = o->be->log(w->ctx, w->msg, o->size);
		uint64_t t1 = bench_t1();
		w->lat[i] = t1 - t0;
		if (r < 0) {
			w->lat[i] = UINT64_MAX;   /* sorted last, left out */
			drops++;
		}
	}
	atomic_fetch_add_explicit(&w->sh->drops, drops, memory_order_relaxed);
}

/* The burst rate: o->burst calls back to back, timed as a whole. */
static void burst_loop(struct worker *w)
{
	const struct options *o = w->o;
	uint64_t drops = 0, t0 = bench_t0();

	for (size_t i = 0; i < o->burst; i++)
		drops += o->be->log(w->ctx, w->msg, o->size) < 0;
	atomic_fetch_add_explicit(&w->sh->burst_ticks, bench_t1() - t0, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->sh->burst_calls, o->burst - drops, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->sh->untimed_drops, drops, memory_order_relaxed);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	const struct options *o = w->o;

	uint64_t drops = 0;

	for (size_t i = 0; i < o->warmup; i++)
		drops += o->be->log(w->ctx, w->msg, o->size) < 0;
	atomic_fetch_add_explicit(&w->sh->untimed_drops, drops, memory_order_relaxed);
	if (o->be->sync && o->be->sync(w->ctx) < 0)
		atomic_fetch_add_explicit(&w->sh->failed, 1, memory_order_relaxed);
	/* LMM(ready:A) pairs with parent_go's acquire load: counted once warm */
	atomic_fetch_add_explicit(&w->sh->ready, 1, memory_order_release);
	/* LMM(go:B) pairs with parent_go's release store of go: start_tick set */
	while (!atomic_load_explicit(&w->sh->go, memory_order_acquire))
		_mm_pause();
	timed_loop(w);
	burst_loop(w);
	return NULL;
}

/* One process: its own logger context and o->threads threads. */
static int process_run(const struct options *o, struct shared *sh, uint64_t *lat,
		       const char *msg)
{
	struct worker w[o->threads];
	pthread_t th[o->threads];
	void *ctx = o->be->open(&o->args);

	if (!ctx) {
		fprintf(stderr, "publish-latency: %s: open: %s\n", o->be->name, strerror(errno));
		return 1;
	}
	for (unsigned t = 0; t < o->threads; t++) {
		w[t] = (struct worker){ .o = o, .sh = sh, .ctx = ctx, .msg = msg,
					.lat = lat + t * o->count };
		if (t && pthread_create(&th[t], NULL, worker_run, &w[t]))
			bench_fail("pthread_create", EAGAIN);
	}
	worker_run(&w[0]);
	for (unsigned t = 1; t < o->threads; t++)
		pthread_join(th[t], NULL);
	if (o->be->sync && o->be->sync(ctx) < 0)
		atomic_fetch_add_explicit(&sh->failed, 1, memory_order_relaxed);
	o->be->close(ctx);
	return 0;
}

/* Release the workers once all of them are warm. */
static void parent_go(struct shared *sh, unsigned workers)
{
	while (atomic_load_explicit(&sh->ready, memory_order_acquire) < workers)
		usleep(1000);
	/* Half a millisecond ahead, so that paced workers start together. */
	sh->start_tick = bench_t0() + (uint64_t)(500000 / tsc.ns_per_tick);
	atomic_store_explicit(&sh->go, 1, memory_order_release);
}

static void usage_exit(void)
{
	fputs("Usage: publish-latency [--target NAME] [--size BYTES] [--fields N] [--procs N]\n"
	      "         [--threads N]\n"
	      "         [--count N] [--warmup N] [--rate PER_S] [--burst N] [--lanes N]\n"
	      "         [--lane-size BYTES]\n"
	      "         [--path FILE] [--socket PATH] [--cdf FILE] [--label TEXT] [--bus NAME]\n"
	      "       publish-latency --list\n",
	      stderr);
	exit(1);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "target", 1, NULL, 't' }, { "size", 1, NULL, 's' }, { "procs", 1, NULL, 'P' },
		{ "threads", 1, NULL, 'T' }, { "count", 1, NULL, 'n' }, { "warmup", 1, NULL, 'w' },
		{ "rate", 1, NULL, 'r' }, { "burst", 1, NULL, 'B' }, { "lanes", 1, NULL, 'L' }, { "lane-size", 1, NULL, 'S' },
		{ "path", 1, NULL, 'p' }, { "socket", 1, NULL, 'u' }, { "cdf", 1, NULL, 'c' },
		{ "label", 1, NULL, 'l' }, { "list", 0, NULL, 'i' }, { "bus", 1, NULL, 'b' },
		{ "fields", 1, NULL, 'f' }, { 0 },
	};
	int c;

	*o = (struct options){ .be = &backend_logbus, .size = 100, .procs = 1, .threads = 1,
			       .count = 1000000, .warmup = 10000, .burst = SIZE_MAX, .lanes = "8",
			       .lane_size = "256M", .label = "" };
	while ((c = getopt_long(argc, argv, "t:s:P:T:n:w:r:B:L:S:p:u:c:l:ib:f:", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (!(o->be = backend_find(optarg))) {
				fprintf(stderr, "publish-latency: %s: no such target here\n", optarg);
				exit(1);
			}
			break;
		case 's': o->size = (size_t)bench_number(optarg); break;
		case 'P': o->procs = (unsigned)bench_number(optarg); break;
		case 'T': o->threads = (unsigned)bench_number(optarg); break;
		case 'n': o->count = (size_t)bench_number(optarg); break;
		case 'w': o->warmup = (size_t)bench_number(optarg); break;
		case 'r': o->rate = (double)bench_number(optarg); break;
		case 'B': o->burst = (size_t)bench_number(optarg); break;
		case 'L': o->lanes = optarg; break;
		case 'S': o->lane_size = optarg; break;
		case 'p': o->args.path = optarg; break;
		case 'u': o->args.socket = optarg; break;
		case 'b': o->args.bus = optarg; break;
		case 'f': o->args.fields = (unsigned)bench_number(optarg); break;
		case 'c': o->cdf = optarg; break;
		case 'l': o->label = optarg; break;
		case 'i':
			for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
				puts(backends[i]->name);
			exit(0);
		default: usage_exit();
		}
	}
	if (optind < argc || !o->procs || !o->threads || !o->count || o->threads > 64)
		usage_exit();
	if (o->burst == SIZE_MAX)
		o->burst = o->count / 4;
	if (o->args.fields > BENCH_FIELDS_MAX || (o->args.fields && o->be != &backend_logbus)) {
		fprintf(stderr, "publish-latency: --fields %u: at most %u, and for target logbus "
			"only\n", o->args.fields, BENCH_FIELDS_MAX);
		exit(1);
	}
	if ((!strcmp(o->be->name, "fprintf") || !strcmp(o->be->name, "spdlog")) && !o->args.path) {
		fprintf(stderr, "publish-latency: target %s needs --path\n", o->be->name);
		exit(1);
	}
}

/* Run the workers; returns false when one of them failed. */
static bool run_all(const struct options *o, struct shared *sh, uint64_t *lat)
{
	pid_t pids[o->procs];
	char *msg = bench_message(o->size);

	for (unsigned p = 0; p < o->procs; p++) {
		pids[p] = fork();
		if (pids[p] < 0)
			bench_fail("fork", errno);
		if (pids[p] == 0)
			_exit(process_run(o, sh, lat + (size_t)p * o->threads * o->count, msg));
	}
	parent_go(sh, o->procs * o->threads);
	bool ok = bench_wait_children(pids, o->procs);
	free(msg);
	return ok && !atomic_load(&sh->failed);
}

static void report(const struct options *o, const struct shared *sh, uint64_t *lat, size_t n,
		   const struct bench_writer *w, double writer_cpu)
{
	uint64_t drops = atomic_load(&sh->drops);
	uint64_t expected = n / o->count * (o->count + o->warmup + o->burst) - drops -
			    atomic_load(&sh->untimed_drops);
	uint64_t bticks = atomic_load(&sh->burst_ticks);
	struct bench_quantiles q;
	size_t kept = n - drops;
	int r;

	bench_sort(lat, n);
	bench_quantiles(lat, kept, &tsc, &q);
	printf("{\"bench\":\"publish-latency\",\"label\":\"%s\",\"target\":\"%s\",\"size\":%zu,"
	       "\"fields\":%u,\"procs\":%u,\"threads\":%u,\"count\":%zu,\"rate\":%.0f,\"mode\":\"%s\","
	       "\"drops\":%llu,",
	       o->label, o->be->name, o->size, o->args.fields, o->procs, o->threads, n, o->rate,
	       o->rate > 0 ? "paced" : "tight", (unsigned long long)drops);
	bench_json_quantiles(stdout, &q);
	printf(",\"timer_overhead_ns\":%.1f,\"tsc_ghz\":%.4f,\"burst\":%zu,"
	       "\"burst_per_s_per_worker\":%.0f",
	       (double)tsc.overhead * tsc.ns_per_tick, 1.0 / tsc.ns_per_tick, o->burst,
	       bticks ? (double)atomic_load(&sh->burst_calls) * 1e9 / ((double)bticks * tsc.ns_per_tick)
		      : 0.0);
	if (w)
		printf(",\"lanes\":\"%s\",\"lane_size\":\"%s\",\"expected\":%llu,"
		       "\"written\":%llu,\"writer_cpu_s\":%.2f",
		       o->lanes, o->lane_size, (unsigned long long)expected,
		       (unsigned long long)bench_count_lines(w->dir), writer_cpu);
	printf("}\n");
	if (o->cdf && kept && (r = bench_write_cdf(o->cdf, lat, kept, &tsc)) < 0)
		bench_fail(o->cdf, -r);
}

int main(int argc, char **argv)
{
	struct options o;
	struct bench_writer w = { 0 };
	const bool own_writer = (parse_args(argc, argv, &o), o.be == &backend_logbus && !o.args.bus);
	size_t n = (size_t)o.procs * o.threads * o.count;
	struct shared *sh = bench_shared(sizeof(*sh));
	uint64_t *lat = bench_shared(n * sizeof(*lat));
	const char *extra[] = { "--lanes", o.lanes, "--lane-size", o.lane_size, NULL };
	double cpu0 = 0;
	bool ok;
	int r;

	bench_tsc_calibrate(&tsc);
	if (own_writer) {
		if ((r = bench_writer_start(&w, "lat", extra)) < 0)
			bench_fail("logbus-writer", -r);
		o.args.bus = w.bus;
		cpu0 = bench_cpu_seconds(w.pid);
	}
	ok = run_all(&o, sh, lat);
	if (own_writer) {
		double cpu = bench_cpu_seconds(w.pid) - cpu0;
		if ((r = bench_writer_stop(&w)) != 0)
			fprintf(stderr, "publish-latency: logbus-writer exited with %d\n", r);
		ok = ok && r == 0;
		report(&o, sh, lat, n, &w, cpu);
		bench_writer_cleanup(&w);
	} else {
		report(&o, sh, lat, n, NULL, 0);
	}
	if (!ok)
		fprintf(stderr, "publish-latency: a worker failed (open, or its logger did not catch up)\n");
	return ok ? 0 : 1;
}
