/* SPDX-License-Identifier: MIT */
/*
 * logbus-writer - drain a logbus bus to files.
 *
 * SYNOPSIS
 *	logbus-writer [--bus NAME] [--dir DIR] [--lanes N] [--lane-size BYTES]
 *
 * DESCRIPTION
 *	Creates the bus segment /logbus.NAME, or adopts an existing one and
 *	drains its backlog, then writes every entry as a JSON line to
 *	DIR/NAME_YYYYMMDD_HHMMSS_USEC.jsonl. One writer per bus: a second one
 *	refuses to start and names the first one's pid. SIGTERM and SIGINT
 *	drain what was committed and exit 0; SIGHUP starts a new file.
 *
 * EXIT STATUS
 *	0 clean stop, 1 runtime error (bus, directory), 2 usage error,
 *	3 another writer runs on the bus.
 *
 * EXAMPLES
 *	logbus-writer --bus app --dir /var/log/logbus
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "doorbell.h"
#include "drain.h"
#include "sink_file.h"

enum {
	EXIT_USAGE = 2,
	EXIT_BUSY = 3,
};

static const char usage[] =
	"Usage: logbus-writer [--bus NAME] [--dir DIR] [--lanes N] [--lane-size BYTES]\n"
	"Drain a logbus bus to JSON-lines files.\n"
	"\n"
	"  -b, --bus NAME        bus to create or adopt (default: $LOGBUS_BUS, else \"default\")\n"
	"  -d, --dir DIR         output directory (default: ./logbus-logs)\n"
	"  -n, --lanes N         lanes of a new bus (default: 32)\n"
	"  -s, --lane-size BYTES bytes per lane of a new bus, a power of two; K and M\n"
	"                        suffixes (default: 4M)\n"
	"  -h, --help            this text\n"
	"\n"
	"Exit status: 0 clean stop, 1 error, 2 usage, 3 another writer runs on the bus.\n";

struct writer_options {
	const char *bus;
	const char *dir;
	struct lb_bus_geometry geometry;
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reopen_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested++;
}

static void on_hup(int sig)
{
	(void)sig;
	reopen_requested = 1;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct writer_options *o)
{
	static const struct option longopts[] = {
		{ "bus", required_argument, NULL, 'b' },
		{ "dir", required_argument, NULL, 'd' },
		{ "lanes", required_argument, NULL, 'n' },
		{ "lane-size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int c;

	*o = (struct writer_options){
		.bus = getenv("LOGBUS_BUS"),
		.dir = "logbus-logs",
		.geometry = { .lane_count = LB_DEFAULT_LANES, .lane_size = LB_DEFAULT_LANE_SIZE },
	};
	if (!o->bus || !*o->bus)
		o->bus = "default";
	while ((c = getopt_long(argc, argv, "b:d:n:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bus = optarg;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'n':
			if (parse_size(optarg, &v) < 0 || v == 0 || v > LB_MAX_LANES) {
				fprintf(stderr, "logbus-writer: --lanes '%s' is not a count "
					"in 1..%u\n", optarg, LB_MAX_LANES);
				return -EINVAL;
			}
			o->geometry.lane_count = (uint32_t)v;
			break;
		case 's':
			if (parse_size(optarg, &v) < 0) {
				fprintf(stderr, "logbus-writer: --lane-size '%s' is not a size\n",
					optarg);
				return -EINVAL;
			}
			o->geometry.lane_size = v;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "logbus-writer: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!lb_bus_name_valid(o->bus)) {
		fprintf(stderr, "logbus-writer: bad bus name '%s' (want 1-64 of [A-Za-z0-9_.-])\n",
			o->bus);
		return -EINVAL;
	}
	struct lb_bus_error err;
	if (lb_bus_geometry_check(&o->geometry, &err) < 0) {
		fprintf(stderr, "logbus-writer: %s\n", err.why);
		return -EINVAL;
	}
	return 0;
}

/* Adopt the bus if it exists, else create it; then become its only
 * writer. Returns 0 or an exit status. */
static int open_bus(const struct writer_options *o, struct lb_bus *bus)
{
	struct lb_bus_error err = { "" };
	pid_t holder = 0;
	int r;

	for (int attempt = 0; attempt < 50; attempt++) {
		r = lb_bus_attach(o->bus, bus, &err);
		if (r == -ENOENT) {
			uint32_t ts_mode = tsc_invariant() ? LB_TS_TSC : LB_TS_REALTIME;
			r = lb_bus_create(o->bus, &o->geometry, ts_mode, bus, &err);
			if (r == -EEXIST)
				continue;   /* another writer created it just now */
		}
		if (r != -EAGAIN)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000 }, NULL);
	}
	if (r < 0) {
		fprintf(stderr, "logbus-writer: %s\n", err.why);
		return 1;
	}
	r = lb_bus_lock_writer(bus, &holder);
	if (r == -EBUSY) {
		fprintf(stderr, "logbus-writer: bus '%s' already has a writer, pid %d\n", o->bus,
			(int)holder);
		lb_bus_detach(bus);
		return EXIT_BUSY;
	}
	if (r < 0) {
		fprintf(stderr, "logbus-writer: cannot lock bus '%s': %s\n", o->bus, strerror(-r));
		lb_bus_detach(bus);
		return 1;
	}
	return 0;
}

static void install_signals(void)
{
	struct sigaction stop = { .sa_handler = on_stop }, hup = { .sa_handler = on_hup };

	/* No SA_RESTART: a signal must cut the doorbell wait short. */
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGHUP, &hup, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	struct writer_options o;
	struct writer w = { .stop = &stop_requested, .reopen = &reopen_requested };
	int r;

	if (parse_args(argc, argv, &o) < 0)
		return EXIT_USAGE;
	install_signals();
	r = open_bus(&o, &w.bus);
	if (r)
		return r;
	w.sinks = calloc(1, sizeof(*w.sinks));
	if (!w.sinks)
		return 1;
	r = sink_file_new(o.dir, o.bus, &w.sinks[0]);
	if (r < 0) {
		fprintf(stderr, "logbus-writer: cannot create a file in '%s': %s\n", o.dir,
			strerror(-r));
		lb_bus_detach(&w.bus);
		return 1;
	}
	w.nsinks = 1;
	lb_doorbell_writer_setup(&w.bus);
	if (writer_init(&w) < 0) {
		fprintf(stderr, "logbus-writer: out of memory\n");
		return 1;
	}
	tsc_clock_init(&w.clock);
	lb_bus_writer_begin(&w.bus, getpid(), lb_clock_ns(CLOCK_REALTIME),
			    lb_clock_ns(CLOCK_MONOTONIC));
	fprintf(stderr, "logbus-writer: draining bus '%s' (%u lanes of %llu bytes) to %s/%s\n",
		o.bus, w.bus.lane_count, (unsigned long long)w.bus.lane_size, o.dir,
		sink_file_name(w.sinks[0]));

	r = writer_run(&w);

	lb_bus_writer_end(&w.bus);
	fprintf(stderr, "logbus-writer: stopped after %llu entries\n",
		(unsigned long long)w.counters.entries);
	writer_fini(&w);
	lb_bus_detach(&w.bus);
	return r < 0 ? 1 : 0;
}
