/* SPDX-License-Identifier: MIT */
/*
 * drain-rate - what the writer sustains: entries/s into its sinks, its CPU
 * cost, and the time from publish to written.
 *
 * SYNOPSIS
 *	drain-rate [--mode backlog|e2e|idle|written] [--procs N] [--count N]
 *	           [--size BYTES] [--rate PER_S] [--seconds S] [--lanes N]
 *	           [--lane-size BYTES] [--config FILE] [--label TEXT]
 *
 * DESCRIPTION
 *	Every mode starts a private logbus-writer (--lanes, --lane-size,
 *	--config for other sinks) and prints one JSON object on stdout.
 *
 *	backlog: the writer is stopped (SIGSTOP) while --procs processes fill
 *	their lanes with --count entries of --size bytes each; then it is
 *	continued and timed until every entry is written: the pure drain rate.
 *	e2e: --procs processes publish --count entries each as fast as they
 *	can while the writer drains (a full lane is retried after 20 us and
 *	counted), each then waits until its entries are written: the
 *	sustained end-to-end rate. Both report the writer's CPU seconds per
 *	million entries and check the entries in the file.
 *	idle: the writer's CPU time over --seconds with nothing published.
 *	written: one process publishes at --rate entries/s for --seconds, each
 *	message starting with its CLOCK_REALTIME stamp; the benchmark follows
 *	the writer's file with inotify and takes, per entry, the time from
 *	that stamp to the moment the line could be read (p50..max).
 *
 * EXIT STATUS
 *	0 measured; 1 something failed (one line on stderr says what).
 *
 * EXAMPLES
 *	drain-rate --mode backlog --procs 2 --count 1000000
 *	drain-rate --mode e2e --procs 4 --count 250000
 *	drain-rate --mode written --rate 100000 --seconds 3
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "logbus.h"

struct options {
	const char *mode;
	unsigned procs;
	size_t count, size;
	double rate, seconds;
	const char *lanes, *lane_size, *config, *label;
};

/* What producers share with the parent, across fork. */
struct shared {
	atomic_uint ready;      /* LMM(ready:A) pairs with wait_ready's acquire */
	atomic_uint go;         /* LMM(go:A) pairs with the producers' acquire spin */
	atomic_ulong retries;
	atomic_ulong dropped;
};

static struct options o;
static struct bench_tsc tsc;

static void producer_ready_wait(struct shared *sh)
{
	/* LMM(ready:A) pairs with wait_ready: this producer's entries are in */
	atomic_fetch_add_explicit(&sh->ready, 1, memory_order_release);
	/* LMM(go:B) pairs with release_producers' release store */
	while (!atomic_load_explicit(&sh->go, memory_order_acquire))
		usleep(100);
}

/* Publish count entries; a full lane is retried (e2e) or counted. */
static void publish_all(logbus_t *lb, struct shared *sh, const char *msg, bool retry)
{
	uint64_t retries = 0, dropped = 0;

	for (size_t i = 0; i < o.count; i++) {
		int r;
		while ((r = logbus_publish(lb, LOGBUS_INFO, "bench", msg, o.size)) == -EAGAIN &&
		       retry) {
			retries++;
			nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
		}
		dropped += r < 0;
	}
	atomic_fetch_add_explicit(&sh->retries, retries, memory_order_relaxed);
	atomic_fetch_add_explicit(&sh->dropped, dropped, memory_order_relaxed);
}

static int producer(struct shared *sh, const char *bus, const char *msg)
{
	logbus_t *lb = logbus_open(bus);
	bool backlog = !strcmp(o.mode, "backlog");

	if (!lb)
		bench_fail("logbus_open", errno);
	if (backlog)
		publish_all(lb, sh, msg, false);
	producer_ready_wait(sh);
	if (!backlog)
		publish_all(lb, sh, msg, true);
	if (logbus_flush(lb, 120000) < 0) {
		fprintf(stderr, "drain-rate: the writer did not write everything in 120 s\n");
		return 1;
	}
	logbus_close(lb);
	return 0;
}

static void wait_ready(struct shared *sh, unsigned n)
{
	while (atomic_load_explicit(&sh->ready, memory_order_acquire) < n)
		usleep(1000);
}

static void release_producers(struct shared *sh)
{
	/* LMM(go:A) pairs with producer_ready_wait's acquire spin */
	atomic_store_explicit(&sh->go, 1, memory_order_release);
}

/* backlog and e2e: the rate at which entries reach the file. */
static int run_rate(struct bench_writer *w)
{
	struct shared *sh = bench_shared(sizeof(*sh));
	bool backlog = !strcmp(o.mode, "backlog");
	char *msg = bench_message(o.size);
	pid_t pids[o.procs];
	uint64_t t0, ns, total = (uint64_t)o.procs * o.count, written;
	double cpu0;
	bool ok;

	if (backlog && kill(w->pid, SIGSTOP) < 0)
		bench_fail("SIGSTOP logbus-writer", errno);
	for (unsigned p = 0; p < o.procs; p++) {
		if ((pids[p] = fork()) < 0)
			bench_fail("fork", errno);
		if (pids[p] == 0)
			_exit(producer(sh, w->bus, msg));
	}
	wait_ready(sh, o.procs);
	cpu0 = bench_cpu_seconds(w->pid);
	t0 = bench_now_ns();
	if (backlog && kill(w->pid, SIGCONT) < 0)
		bench_fail("SIGCONT logbus-writer", errno);
	release_producers(sh);
	ok = bench_wait_children(pids, o.procs);
	ns = bench_now_ns() - t0;
	double cpu = bench_cpu_seconds(w->pid) - cpu0;
	int st = bench_writer_stop(w);
	written = bench_count_lines(w->dir);
	printf("{\"bench\":\"drain-rate\",\"label\":\"%s\",\"mode\":\"%s\",\"procs\":%u,"
	       "\"size\":%zu,\"entries\":%llu,\"dropped\":%llu,\"retries\":%llu,\"written\":%llu,"
	       "\"seconds\":%.4f,\"entries_per_s\":%.0f,\"writer_cpu_s\":%.3f,"
	       "\"writer_cpu_s_per_m\":%.3f,\"lanes\":\"%s\",\"lane_size\":\"%s\"}\n",
	       o.label, o.mode, o.procs, o.size, (unsigned long long)total,
	       (unsigned long long)atomic_load(&sh->dropped),
	       (unsigned long long)atomic_load(&sh->retries), (unsigned long long)written,
	       (double)ns / 1e9, (double)total / ((double)ns / 1e9), cpu,
	       cpu / ((double)total / 1e6), o.lanes, o.lane_size);
	free(msg);
	if (written != total - atomic_load(&sh->dropped) && !o.config)
		fprintf(stderr, "drain-rate: %llu entries in the file, expected %llu\n",
			(unsigned long long)written,
			(unsigned long long)(total - atomic_load(&sh->dropped)));
	return ok && st == 0 ? 0 : 1;
}

static int run_idle(struct bench_writer *w)
{
	double cpu0 = bench_cpu_seconds(w->pid), cpu;

	nanosleep(&(struct timespec){ .tv_sec = (time_t)o.seconds,
				      .tv_nsec = (long)((o.seconds - (time_t)o.seconds) * 1e9) },
		  NULL);
	cpu = bench_cpu_seconds(w->pid) - cpu0;
	printf("{\"bench\":\"drain-rate\",\"label\":\"%s\",\"mode\":\"idle\",\"seconds\":%.1f,"
	       "\"writer_cpu_s\":%.3f}\n",
	       o.label, o.seconds, cpu);
	return bench_writer_stop(w) == 0 ? 0 : 1;
}

/* written: the follower collects one latency per line it reads. */
struct follower {
	const char *dir;
	atomic_bool stop;        /* LMM(stop:A) pairs with follow()'s load */
	uint64_t *lat;
	size_t n, cap;
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The first *.jsonl file of the directory, opened, or -1. */
static int open_output(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];
	int fd = -1;

	while (d && fd < 0 && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 6, ".jsonl"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (d)
		closedir(d);
	return fd;
}

/* Take the stamp at the start of each message in buf. */
static size_t take_lines(struct follower *f, char *buf, size_t len, uint64_t now)
{
	char *p = buf, *end = buf + len, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		char *m = memmem(p, (size_t)(nl - p), "\"msg\":\"", 7);
		uint64_t stamp = m ? strtoull(m + 7, NULL, 10) : 0;
		if (stamp && f->n < f->cap) {
			f->lat[f->n++] = now > stamp ? now - stamp : 0;
		}
		p = nl + 1;
	}
	return (size_t)(p - buf);
}

static void *follow(void *arg)
{
	struct follower *f = arg;
	static char buf[1 << 20];
	size_t have = 0;
	int fd, in;

	while ((fd = open_output(f->dir)) < 0)
		usleep(1000);
	in = inotify_init1(IN_CLOEXEC);
	if (in < 0 || inotify_add_watch(in, f->dir, IN_MODIFY) < 0)
		bench_fail("inotify", errno);
	/* LMM(stop:B) pairs with run_written's release store */
	while (!atomic_load_explicit(&f->stop, memory_order_acquire)) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		if (n > 0) {
			size_t used = take_lines(f, buf, have + (size_t)n, realtime_ns());
			have = have + (size_t)n - used;
			memmove(buf, buf + used, have);
			continue;
		}
		char ev[4096];
		if (poll(&(struct pollfd){ .fd = in, .events = POLLIN }, 1, 100) > 0)
			(void)read(in, ev, sizeof(ev));
	}
	close(in);
	close(fd);
	return NULL;
}

static void publish_paced(const char *bus)
{
	uint64_t interval = (uint64_t)(1e9 / o.rate / tsc.ns_per_tick), next = bench_t0();
	size_t n = (size_t)(o.rate * o.seconds);
	char *msg = bench_message(o.size < 24 ? 24 : o.size);
	logbus_t *lb = logbus_open(bus);

	if (!lb)
		bench_fail("logbus_open", errno);
	/* The first publish claims and prefaults a lane: not part of the run.
	 * Its message has no stamp, so the follower skips it. */
	(void)logbus_publish(lb, LOGBUS_INFO, "bench", "warm-up", 7);
	(void)logbus_flush(lb, 30000);
	next = bench_t0();
	for (size_t i = 0; i < n; i++) {
		bench_pace_until(next += interval);
		snprintf(msg, 21, "%019llu ", (unsigned long long)realtime_ns());
		msg[20] = 'x';
		(void)logbus_publish(lb, LOGBUS_INFO, "bench", msg, o.size < 24 ? 24 : o.size);
	}
	(void)logbus_flush(lb, 30000);
	logbus_close(lb);
	free(msg);
}

static int run_written(struct bench_writer *w)
{
	struct follower f = { .dir = w->dir };
	struct bench_tsc unit = { .ns_per_tick = 1.0 };
	struct bench_quantiles q;
	pthread_t th;
	pid_t pid;
	bool ok;

	f.cap = (size_t)(o.rate * o.seconds) + 16;
	f.lat = malloc(f.cap * sizeof(*f.lat));
	if (!f.lat || pthread_create(&th, NULL, follow, &f))
		bench_fail("follower", ENOMEM);
	if ((pid = fork()) == 0) {
		publish_paced(w->bus);
		_exit(0);
	}
	ok = bench_wait_children(&pid, 1);
	usleep(200000);
	/* LMM(stop:A) pairs with follow()'s acquire load */
	atomic_store_explicit(&f.stop, true, memory_order_release);
	pthread_join(th, NULL);
	bench_sort(f.lat, f.n);
	bench_quantiles(f.lat, f.n, &unit, &q);
	printf("{\"bench\":\"drain-rate\",\"label\":\"%s\",\"mode\":\"written\",\"rate\":%.0f,"
	       "\"seconds\":%.1f,\"size\":%zu,\"entries\":%zu,",
	       o.label, o.rate, o.seconds, o.size, f.n);
	bench_json_quantiles(stdout, &q);
	printf("}\n");
	free(f.lat);
	return ok && bench_writer_stop(w) == 0 ? 0 : 1;
}

static void usage_exit(void)
{
	fputs("Usage: drain-rate [--mode backlog|e2e|idle|written] [--procs N] [--count N]\n"
	      "         [--size BYTES] [--rate PER_S] [--seconds S] [--lanes N]\n"
	      "         [--lane-size BYTES] [--config FILE] [--label TEXT]\n",
	      stderr);
	exit(1);
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", 1, NULL, 'm' }, { "procs", 1, NULL, 'P' }, { "count", 1, NULL, 'n' },
		{ "size", 1, NULL, 's' }, { "rate", 1, NULL, 'r' }, { "seconds", 1, NULL, 'd' },
		{ "lanes", 1, NULL, 'L' }, { "lane-size", 1, NULL, 'S' },
		{ "config", 1, NULL, 'c' }, { "label", 1, NULL, 'l' }, { 0 },
	};
	int c;

	o = (struct options){ .mode = "backlog", .procs = 1, .count = 1000000, .size = 100,
			      .rate = 10000, .seconds = 3, .lanes = "16", .lane_size = "256M",
			      .label = "" };
	while ((c = getopt_long(argc, argv, "m:P:n:s:r:d:L:S:c:l:", opts, NULL)) != -1) {
		switch (c) {
		case 'm': o.mode = optarg; break;
		case 'P': o.procs = (unsigned)bench_number(optarg); break;
		case 'n': o.count = (size_t)bench_number(optarg); break;
		case 's': o.size = (size_t)bench_number(optarg); break;
		case 'r': o.rate = bench_number(optarg); break;
		case 'd': o.seconds = bench_number(optarg); break;
		case 'L': o.lanes = optarg; break;
		case 'S': o.lane_size = optarg; break;
		case 'c': o.config = optarg; break;
		case 'l': o.label = optarg; break;
		default: usage_exit();
		}
	}
	if (optind < argc || !o.procs || o.rate <= 0)
		usage_exit();
}

int main(int argc, char **argv)
{
	struct bench_writer w;
	const char *extra[8] = { "--lanes", NULL, "--lane-size", NULL };
	int r;

	parse_args(argc, argv);
	extra[1] = o.lanes;
	extra[3] = o.lane_size;
	if (o.config) {
		extra[4] = "--config";
		extra[5] = o.config;
	}
	bench_tsc_calibrate(&tsc);
	if ((r = bench_writer_start(&w, o.mode, extra)) < 0)
		bench_fail("logbus-writer", -r);
	if (!strcmp(o.mode, "backlog") || !strcmp(o.mode, "e2e"))
		r = run_rate(&w);
	else if (!strcmp(o.mode, "idle"))
		r = run_idle(&w);
	else if (!strcmp(o.mode, "written"))
		r = run_written(&w);
	else
		r = (fprintf(stderr, "drain-rate: %s: no such mode\n", o.mode), 1);
	if (w.pid > 0)
		(void)bench_writer_stop(&w);
	bench_writer_cleanup(&w);
	return r;
}
