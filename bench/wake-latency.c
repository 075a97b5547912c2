/* SPDX-License-Identifier: MIT */
/*
 * wake-latency - how soon a publisher blocked on a full lane runs again
 * after the writer frees room (the overflow policy "block").
 *
 * SYNOPSIS
 *	wake-latency [--rounds N] [--size BYTES] [--cdf FILE] [--label TEXT]
 *
 * DESCRIPTION
 *	Starts a writer on a private bus of one 64 KiB lane, stops its drain
 *	(SIGSTOP; its registrar still grants the lane) and plays the drain
 *	itself on the lane file the registrar made, so that nothing but the
 *	wake-up is timed: a publisher thread (policy block, no limit) fills
 *	the lane until a publish sleeps; the playing thread sees the lane's
 *	blocked flag, lets the publisher settle in the futex (200 us), takes a
 *	TSC stamp, moves the tail to the head (lb_lane_advance) and wakes it
 *	(lb_lane_wake_blocked), the same two calls the real writer's drain
 *	makes. Needs the writer's user (root), to open its lane file. The publisher stamps the TSC
 *	when that publish returns. Each round gives one sample: stamp to
 *	return, the time from the tail move to the publisher running again.
 *	Prints one JSON object on stdout (carrying --label's text, for
 *	bench/run.sh); --cdf writes "percentile ns" lines.
 *
 * EXIT STATUS
 *	0 measured; 1 something failed (one line on stderr says what).
 *
 * EXAMPLES
 *	wake-latency --rounds 2000
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bus.h"
#include "lane.h"
#include "logbus.h"
#include "registry.h"

struct run {
	struct lb_bus bus;       /* the writer's view: slot 0 maps the granted lane */
	logbus_t *lb;
	size_t rounds, size;
	char *msg;
	uint64_t *lat;
	/* LMM(release:A): the writer's stamp, stored before the tail move;
	 * the publisher's load after its publish returned pairs with it. */
	_Atomic uint64_t release_tick;
	atomic_bool done;
	atomic_ulong failed;
};

static struct bench_tsc tsc;

/* Publish until every round was timed: the publish that returns after a
 * release stamp is the one that slept. */
static void *publisher(void *arg)
{
	struct run *run = arg;
	size_t n = 0;

	while (n < run->rounds) {
		if (logbus_publish(run->lb, LOGBUS_INFO, "wake", run->msg, run->size) != 0)
			atomic_fetch_add_explicit(&run->failed, 1, memory_order_relaxed);
		uint64_t t1 = bench_t1();
		uint64_t t0 = atomic_exchange_explicit(&run->release_tick, 0, memory_order_acquire);
		if (t0)
			run->lat[n++] = t1 > t0 ? t1 - t0 : 0;
	}
	atomic_store_explicit(&run->done, true, memory_order_release);
	return NULL;
}

static void sleep_us(long us)
{
	nanosleep(&(struct timespec){ .tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000 }, NULL);
}

/* The writer's part of each round: wait for a sleeper, stamp, drain all. */
static void play_writer(struct run *run)
{
	struct lb_lane_info info;

	while (!atomic_load_explicit(&run->done, memory_order_acquire)) {
		lb_lane_info_get(&run->bus, 0, &info);
		if (!info.blocked || atomic_load_explicit(&run->release_tick, memory_order_relaxed)) {
			sleep_us(50);
			continue;
		}
		sleep_us(200);   /* let the publisher get into the futex wait */
		lb_lane_info_get(&run->bus, 0, &info);
		atomic_store_explicit(&run->release_tick, bench_t0(), memory_order_release);
		lb_lane_advance(&run->bus, 0, info.head);
		lb_lane_wake_blocked(&run->bus, 0);
	}
}

static void parse(int argc, char **argv, struct run *run, const char **cdf, const char **label)
{
	static const struct option longopts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "cdf", required_argument, NULL, 'c' },
		{ "label", required_argument, NULL, 'l' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			run->rounds = (size_t)bench_number(optarg);
			break;
		case 's':
			run->size = (size_t)bench_number(optarg);
			break;
		case 'c':
			*cdf = optarg;
			break;
		case 'l':
			*label = optarg;
			break;
		default:
			fprintf(stderr, "usage: wake-latency [--rounds N] [--size BYTES] [--cdf FILE]"
					" [--label TEXT]\n");
			exit(2);
		}
	}
	if (run->rounds == 0 || run->size == 0 || run->size > 4096) {
		fprintf(stderr, "wake-latency: --rounds must be positive, --size 1..4096\n");
		exit(2);
	}
}

/* Map the lane the registrar granted in slot 0 as the drain would. */
static int take_lane(struct run *run, const char *bus)
{
	struct lb_registry reg;
	struct lb_lane_map m;
	char dir[128];
	int fd, r;

	r = lb_registry_view(bus, &reg);
	if (r < 0)
		return r;
	(void)lb_registry_dir(bus, dir, sizeof(dir));
	reg.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = reg.dirfd < 0 ? -errno
			   : lb_lane_file_open(&reg, 0, atomic_load(&reg.slots[0].grant));
	r = fd < 0 ? fd : lb_lane_map(fd, run->bus.lane_size, &m);
	if (fd >= 0)
		close(fd);
	lb_registry_close(&reg);
	if (r == 0)
		r = lb_bus_lanes_init(&run->bus);
	if (r == 0)
		run->bus.lanes[0] = m;
	return r;
}

int main(int argc, char **argv)
{
	static struct run run = { .rounds = 2000, .size = 100 };
	static const char *const one_lane[] = { "--lanes", "1", "--lane-size", "64K", NULL };
	struct bench_writer w;
	struct lb_bus_error err = { { 0 } };
	struct bench_quantiles q;
	const char *cdf = NULL, *label = "";
	pthread_t t;
	int r;

	parse(argc, argv, &run, &cdf, &label);
	bench_tsc_calibrate(&tsc);
	r = bench_writer_start(&w, "wake", one_lane);
	if (r < 0)
		bench_fail("logbus-writer", -r);
	if (lb_bus_attach(w.bus, false, &run.bus, &err) < 0) {
		fprintf(stderr, "wake-latency: %s\n", err.why);
		return 1;
	}
	run.msg = bench_message(run.size);
	run.lat = calloc(run.rounds, sizeof(*run.lat));
	run.lb = logbus_open(w.bus);
	if (!run.msg || !run.lat || !run.lb)
		bench_fail("setup", errno ? errno : ENOMEM);
	(void)logbus_set_overflow(run.lb, LOGBUS_OVERFLOW_BLOCK, -1);
	/* The drain stops; the registrar, which runs on, grants the lane at
	 * the publisher's first publish. */
	if (kill(w.pid, SIGSTOP) < 0)
		bench_fail("SIGSTOP", errno);
	if (pthread_create(&t, NULL, publisher, &run) != 0)
		bench_fail("pthread_create", EAGAIN);
	for (int i = 0; (r = take_lane(&run, w.bus)) < 0 && i < 5000; i++)
		sleep_us(1000);
	if (r < 0)
		bench_fail("the granted lane", -r);
	play_writer(&run);
	pthread_join(t, NULL);
	(void)kill(w.pid, SIGCONT);
	logbus_close(run.lb);
	(void)bench_writer_stop(&w);
	bench_writer_cleanup(&w);

	bench_sort(run.lat, run.rounds);
	bench_quantiles(run.lat, run.rounds, &tsc, &q);
	if (cdf && bench_write_cdf(cdf, run.lat, run.rounds, &tsc) < 0)
		bench_fail(cdf, errno);
	printf("{\"bench\":\"wake-latency\",\"label\":\"%s\",\"rounds\":%zu,\"size\":%zu,"
	       "\"failed\":%lu,", label, run.rounds, run.size, atomic_load(&run.failed));
	bench_json_quantiles(stdout, &q);
	printf("}\n");
	return atomic_load(&run.failed) ? 1 : 0;
}
