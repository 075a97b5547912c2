/* SPDX-License-Identifier: MIT */
/*
 * sink-writer - a test-only writer that drains a bus into the journald or
 * the syslog sink, for the sink tests until logbus-writer's configuration
 * selects these sinks. It takes the harness's --bus and --dir (--dir is
 * ignored), the geometry flags, and:
 *
 *	--journald PREFIX           the journald sink ("" for no prefix)
 *	--syslog unix:PATH | tcp:HOST:PORT | relp:HOST:PORT
 *	--buffer N                  syslog buffer_entries
 *
 * On SIGTERM it drains, stops the sink (which flushes) and writes the
 * sink's counters as one line to DIR/counters:
 *	written=W dropped=D errors=E
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "drain.h"
#include "sink_journal.h"
#include "sink_syslog.h"

static volatile sig_atomic_t stop_requested, reopen_requested;

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

/* N, NK or NM. */
static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);

	return *end == 'M' ? v << 20 : *end == 'K' ? v << 10 : v;
}

/* "kind:rest" into the options; rest is HOST:PORT or PATH. */
static int parse_target(char *arg, struct syslog_options *o)
{
	char *rest = strchr(arg, ':'), *port;

	if (!rest)
		return -EINVAL;
	*rest++ = '\0';
	if (!strcmp(arg, "unix")) {
		o->transport = SYSLOG_UNIX;
		o->socket_path = rest;
		return 0;
	}
	o->transport = !strcmp(arg, "tcp") ? SYSLOG_TCP : SYSLOG_RELP;
	port = strrchr(rest, ':');
	if (!port || (strcmp(arg, "tcp") && strcmp(arg, "relp")))
		return -EINVAL;
	*port++ = '\0';
	o->host = rest;
	o->port = port;
	return 0;
}

struct args {
	const char *bus;
	const char *dir;
	struct lb_bus_geometry g;
};

static int make_sink(int argc, char **argv, struct args *a, struct sink **out)
{
	static const struct option longopts[] = {
		{ "bus", required_argument, NULL, 'b' }, { "dir", required_argument, NULL, 'd' },
		{ "lanes", required_argument, NULL, 'n' },
		{ "lane-size", required_argument, NULL, 's' },
		{ "journald", required_argument, NULL, 'j' },
		{ "syslog", required_argument, NULL, 'y' },
		{ "buffer", required_argument, NULL, 'B' }, { 0 },
	};
	struct syslog_options so = { .facility = LOG_LOCAL0, .reconnect_max_ms = 500 };
	struct journal_options jo = { 0 };
	int c, kind = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'b')
			a->bus = optarg;
		else if (c == 'd')
			a->dir = optarg;
		else if (c == 'n')
			a->g.lane_count = (uint32_t)strtoul(optarg, NULL, 10);
		else if (c == 's')
			a->g.lane_size = parse_size(optarg);
		else if (c == 'j')
			kind = 'j', jo.identifier_prefix = optarg;
		else if (c == 'y' && parse_target(optarg, &so) == 0)
			kind = 'y';
		else if (c == 'B')
			so.buffer_entries = strtoul(optarg, NULL, 10);
		else
			return -EINVAL;
	}
	if (kind == 'j')
		return sink_journal_new(&jo, out);
	return kind == 'y' ? sink_syslog_new(&so, out) : -EINVAL;
}

static int open_bus(const char *name, const struct lb_bus_geometry *g, struct lb_bus *bus)
{
	struct lb_bus_error err = { "" };
	uint32_t mode = tsc_invariant() ? LB_TS_TSC : LB_TS_REALTIME;
	int r = lb_bus_create(name, g, mode, bus, &err);

	pid_t holder = 0;

	if (r < 0 || (r = lb_bus_lock_writer(bus, &holder)) < 0)
		fprintf(stderr, "sink-writer: bus '%s': %s\n", name, err.why[0] ? err.why
					: strerror(-r));
	return r;
}

static void write_counters(const char *dir, const struct sink_counters *c)
{
	char path[512];
	FILE *f;

	(void)mkdir(dir, 0750);
	snprintf(path, sizeof(path), "%s/counters", dir);
	f = fopen(path, "we");
	if (!f) {
		fprintf(stderr, "sink-writer: cannot write %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "written=%llu dropped=%llu errors=%llu\n", (unsigned long long)c->written,
		(unsigned long long)c->dropped, (unsigned long long)c->errors);
	fclose(f);
}

int main(int argc, char **argv)
{
	struct args a = { .bus = "default", .dir = ".",
			  .g = { .lane_count = 8, .lane_size = 1u << 20 } };
	struct writer w = { .stop = &stop_requested, .reopen = &reopen_requested };
	struct sigaction stop = { .sa_handler = on_stop }, hup = { .sa_handler = on_hup };
	struct sink *sink;
	int r = make_sink(argc, argv, &a, &sink);

	if (r < 0) {
		fprintf(stderr, "sink-writer: cannot make the sink: %s\n", strerror(-r));
		return 2;
	}
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGHUP, &hup, NULL);
	signal(SIGPIPE, SIG_IGN);
	w.sinks = &sink;
	w.nsinks = 1;
	if (open_bus(a.bus, &a.g, &w.bus) < 0 || writer_init(&w) < 0)
		return 1;
	tsc_clock_init(&w.clock);
	lb_bus_writer_begin(&w.bus, getpid(), lb_clock_ns(CLOCK_REALTIME),
			    lb_clock_ns(CLOCK_MONOTONIC));
	r = writer_run(&w);
	lb_bus_writer_end(&w.bus);
	struct sink_counters c = sink->counters;
	w.sinks = NULL;
	w.nsinks = 0;
	sink->ops->destroy(sink);
	write_counters(a.dir, &c);
	writer_fini(&w);
	lb_bus_detach(&w.bus);
	return r < 0 ? 1 : 0;
}
