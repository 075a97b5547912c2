/* SPDX-License-Identifier: MIT */
/*
 * logbus-writer - drain a logbus bus to files, journald and syslog.
 *
 * SYNOPSIS
 *	logbus-writer [--config FILE] [--check-config] [--bus NAME] [--dir DIR]
 *	              [--format SINKS] [--lanes N] [--lane-size BYTES]
 *
 * DESCRIPTION
 *	Creates the bus segment /logbus.NAME, or adopts an existing one and
 *	drains its backlog from each lane's tail, then hands every entry to
 *	the sinks the configuration chooses: JSON-lines files
 *	DIR/NAME_YYYYMMDD_HHMMSS_USEC.jsonl[.zst], per-entry files, journald,
 *	syslog. One writer per bus: a second one refuses to start and names
 *	the first one's pid.
 *
 *	The configuration is a JSON file (logbus-writer.json(5), and the
 *	annotated logbus-writer.example.json);
 *	$LOGBUS_BUS, $LOGBUS_DIR and $LOGBUS_FORMAT override it, and the flags
 *	override those.
 *
 * SIGNALS
 *	SIGTERM, SIGINT: drain what was committed and exit 0 (a second one
 *	gives up on a sink that does not take entries).
 *	SIGHUP: read the configuration again and, when it is valid, swap the
 *	sinks between two batches (nothing lost, nothing written twice); when
 *	it is not, say why, keep the running one and reopen its files.
 *
 *	Under systemd (Type=notify) it sends READY=1, STATUS= (entries/s,
 *	dropped), WATCHDOG=1 when WatchdogSec= is set, RELOADING=1 and
 *	STOPPING=1.
 *
 * EXIT STATUS
 *	0 clean stop, or --check-config found no problem; 1 runtime error
 *	(bus, directory), or --check-config found problems; 2 usage or
 *	configuration error; 3 another writer runs on the bus.
 *
 * EXAMPLES
 *	logbus-writer --bus app --dir /var/log/logbus
 *	logbus-writer --config /etc/logbus/writer.json --check-config
 *	LOGBUS_FORMAT=json,journald logbus-writer --config /etc/logbus/writer.json
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "bus.h"
#include "clock.h"
#include "config.h"
#include "doorbell.h"
#include "drain.h"
#include "hooks.h"
#include "lane_guard.h"
#include "outfile.h"
#include "registrar.h"
#include "sinks_make.h"
#include "tsc.h"
#include "version.h"

enum {
	EXIT_USAGE = 2,
	EXIT_BUSY = 3,
};

static const char usage[] =
	"Usage: logbus-writer [--config FILE] [--check-config] [--bus NAME] [--dir DIR]\n"
	"                     [--format SINKS] [--lanes N] [--lane-size BYTES]\n"
	"Drain a logbus bus to JSON-lines files, per-entry files, journald and syslog.\n"
	"\n"
	"  -c, --config FILE     JSON configuration (see logbus-writer.json(5))\n"
	"  -C, --check-config    check the configuration, print each problem, exit 0 or 1\n"
	"  -b, --bus NAME        bus to create or adopt ($LOGBUS_BUS; default \"default\")\n"
	"  -d, --dir DIR         directory of the JSON-lines files ($LOGBUS_DIR)\n"
	"  -f, --format SINKS    sinks to run, e.g. json,journald ($LOGBUS_FORMAT;\n"
	"                        json, journald, syslog, entry)\n"
	"  -n, --lanes N         lanes of a new bus (default: 32)\n"
	"  -s, --lane-size BYTES bytes per lane of a new bus, a power of two; K and M\n"
	"                        suffixes (default: 4M)\n"
	"  -h, --help            this text\n"
	"  -V, --version         print the version\n"
	"\n"
	"Signals: TERM/INT drain and stop; HUP reloads the configuration and reopens files.\n"
	"Exit status: 0 clean stop, 1 error, 2 usage or configuration, 3 another writer\n"
	"runs on the bus.\n";

/* The writer's process-wide state, for the drain's between-rounds hook. */
struct service {
	struct config_overrides ov;
	char bus[LB_BUS_NAME_MAX + 1];  /* fixed at start: a reload cannot move the bus */
	struct writer_config config;
	uint64_t watchdog_ns;      /* 0: no watchdog */
	uint64_t next_watchdog;
	uint64_t next_status;
	uint64_t status_entries;   /* w->counters.entries at the last STATUS */
	uint64_t dropped_before;   /* drops counted by sinks that a reload retired */
	pid_t registrar;           /* the registrar process (registrar.h) */
};

static struct service service;
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reopen_requested;
static volatile sig_atomic_t reload_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested++;
}

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

static int parse_args(int argc, char **argv, struct config_overrides *ov, bool *check)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "bus", required_argument, NULL, 'b' },
		{ "dir", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "lanes", required_argument, NULL, 'n' },
		{ "lane-size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	*ov = (struct config_overrides){ 0 };
	*check = false;
	while ((c = getopt_long(argc, argv, "c:Cb:d:f:n:s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': ov->config_path = optarg; break;
		case 'C': *check = true; break;
		case 'b': ov->bus = optarg; break;
		case 'd': ov->dir = optarg; break;
		case 'f': ov->format = optarg; break;
		case 'n': ov->lanes = optarg; break;
		case 's': ov->lane_size = optarg; break;
		default:
			return lb_tool_option(c, "logbus-writer", usage, usage);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "logbus-writer: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The pid of the writer that holds bus name, as its segment says; 0 when
 * it does not say. */
static pid_t writer_holding(const char *name)
{
	struct lb_bus bus;
	pid_t pid = 0;

	if (lb_bus_attach(name, false, &bus, NULL) == 0) {
		pid = lb_bus_writer_pid(&bus);
		lb_bus_detach(&bus);
	}
	return pid;
}

/* Adopt the bus segment, or make it (anew when the one there is of
 * another layout, damaged, or not this writer's). 0 or -errno with why. */
static int adopt_or_create(const struct writer_config *c, struct lb_bus *bus,
			   struct lb_bus_error *err)
{
	uint32_t ts_mode = tsc_invariant() ? LB_TS_TSC : LB_TS_REALTIME;
	char path[LB_BUS_PATH_MAX];
	struct stat st;
	int r = lb_bus_attach(c->bus, true, bus, err);

	if (r == 0 && fstat(bus->fd, &st) == 0 && st.st_uid == geteuid())
		return 0;
	if (r == 0 || r == -EPROTO || r == -EPROTONOSUPPORT || r == -EBADMSG || r == -EAGAIN) {
		/* We hold the bus's lock: no other writer uses the segment,
		 * and clients only read it. */
		fprintf(stderr, "logbus-writer: bus '%s': %s; making it anew\n", c->bus,
			r == 0 ? "its segment belongs to another user" : err->why);
		lb_bus_detach(bus);
		if (lb_bus_path(c->bus, NULL, path) == 0 && shm_unlink(path) < 0 && errno != ENOENT) {
			lb_set_why(err, "cannot remove %s: %s", path, strerror(errno));
			return -errno;
		}
		r = -ENOENT;
	}
	if (r == -ENOENT)
		r = lb_bus_create(c->bus, &c->geometry, ts_mode, bus, err);
	return r;
}

/* Become the bus's only writer (the lock of its private directory), then
 * adopt or create its segment and the registry of its lanes. Returns 0 or
 * an exit status. */
static int open_bus(const struct writer_config *c, struct writer *w)
{
	struct lb_bus_error err = { "" };
	int dirfd = lb_registry_lock(c->bus, &err), r;

	if (dirfd == -EBUSY) {
		fprintf(stderr, "logbus-writer: bus '%s' already has a writer, pid %d\n", c->bus,
			(int)writer_holding(c->bus));
		return EXIT_BUSY;
	}
	if (dirfd < 0) {
		fprintf(stderr, "logbus-writer: %s\n", err.why);
		return 1;
	}
	r = adopt_or_create(c, &w->bus, &err);
	if (r == 0)
		r = lb_registry_open(dirfd, &w->bus, &w->reg, &err);
	else
		close(dirfd);
	if (r < 0) {
		fprintf(stderr, "logbus-writer: %s\n", err.why);
		lb_bus_detach(&w->bus);
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

static uint64_t sinks_dropped(const struct writer *w)
{
	uint64_t n = 0;

	for (size_t i = 0; i < w->nsinks; i++)
		n += w->sinks[i]->counters.dropped;
	return n;
}

/* Say when c asks (in its file or by flag) for lanes or a lane size that
 * the running bus does not have: an existing bus keeps its geometry until
 * it is made anew. Nothing when c asks nothing, or what the bus has. */
static void geometry_check(const struct writer_config *c, const struct lb_bus *bus,
			   const char *when)
{
	bool lanes = (service.ov.lanes || json_object_get(c->root, "lanes")) &&
		     c->geometry.lane_count != bus->lane_count;
	bool size = (service.ov.lane_size || json_object_get(c->root, "lane_size")) &&
		    c->geometry.lane_size != bus->lane_size;
	char asked[96] = "";

	if (!lanes && !size)
		return;
	if (lanes)
		snprintf(asked, sizeof(asked), "%u lanes", c->geometry.lane_count);
	if (size)
		snprintf(asked + strlen(asked), sizeof(asked) - strlen(asked), "%slanes of %llu bytes",
			 lanes ? ", " : "", (unsigned long long)c->geometry.lane_size);
	fprintf(stderr, "logbus-writer: %sbus '%s' has %u lanes of %llu bytes, not the %s asked "
		"for: a bus keeps its geometry until it is made anew (no writer or client on it, "
		"its segment removed)\n", when, service.bus, bus->lane_count,
		(unsigned long long)bus->lane_size, asked);
}

/* A reload's "clients" section (who may log, the quotas, the socket's and
 * the stats' modes) takes effect only with a restart: the registrar and the
 * stats segment were made with the running one. Say so when it changed. */
static void clients_check(const struct writer_config *next)
{
	json_t *now = json_object_get(service.config.root, "clients");
	json_t *then = json_object_get(next->root, "clients");

	if ((now || then) && !json_equal(now, then))
		fprintf(stderr, "logbus-writer: reload: the clients section changes only with a "
			"restart; keeping the running one\n");
}

static void swap_clients(struct writer_config *a, struct writer_config *b)
{
	struct clients_options t = a->clients;

	a->clients = b->clients;
	b->clients = t;
}

/*
 * SIGHUP, between two batches: read the configuration again; when it is
 * valid, make its sinks and retire the old ones (each flushes as it is
 * destroyed). Every batch goes whole to one sink set or the other, so the
 * swap loses and repeats nothing. When anything fails the old sinks keep
 * running and reopen their files, as logrotate's postrotate expects.
 */
static void reload(struct writer *w)
{
	struct writer_config next;
	struct sink **sinks;
	long n = -1;

	sd_notify(0, "RELOADING=1");
	if (config_load(&service.ov, &next, stderr) == 0) {
		if (strcmp(next.bus, service.bus))
			fprintf(stderr, "logbus-writer: reload: the bus changes only with a "
				"restart; keeping bus '%s'\n", service.bus);
		geometry_check(&next, &w->bus, "reload: ");
		clients_check(&next);
		next.bus = service.bus;
		next.geometry = service.config.geometry;
		n = sinks_make(&next, lb_bus_id(&w->bus), &sinks, stderr);
	}
	if (n < 0) {
		fprintf(stderr, "logbus-writer: reload failed; keeping the running configuration "
			"and reopening its files\n");
		config_free(&next);
		reopen_requested = 1;
	} else {
		service.dropped_before += sinks_dropped(w);
		if (writer_set_sinks(w, sinks, (size_t)n) < 0)
			fprintf(stderr, "logbus-writer: reload: out of memory; keeping the "
				"running sinks\n");
		if (hooks_replace(&w->hooks, next.hooks) < 0)
			fprintf(stderr, "logbus-writer: reload: cannot start the new hooks; "
				"running without hooks\n");
		next.hooks = NULL;   /* the hook set owns it now */
		/* The registrar runs with the clients section it started with:
		 * the running configuration says so. */
		swap_clients(&next, &service.config);
		config_free(&service.config);
		service.config = next;
		fprintf(stderr, "logbus-writer: reloaded the configuration: %zu sinks\n",
			w->nsinks);
	}
	sd_notify(0, "READY=1");
}

static void notify_status(struct writer *w, uint64_t now)
{
	uint64_t period = service.config.status_seconds * 1000000000u;
	uint64_t entries = w->counters.entries;
	double rate;

	if (!period || now < service.next_status)
		return;
	rate = (double)(entries - service.status_entries) * 1e9 / (double)period;
	sd_notifyf(0, "STATUS=%.0f entries/s, %llu written, %llu dropped by sinks", rate,
		   (unsigned long long)entries,
		   (unsigned long long)(service.dropped_before + sinks_dropped(w)));
	service.status_entries = entries;
	service.next_status = now + period;
}

/* The drain's between-rounds hook. */
static void tick(struct writer *w, uint64_t now)
{
	if (reload_requested) {
		reload_requested = 0;
		reload(w);
	}
	if (service.watchdog_ns && now >= service.next_watchdog) {
		sd_notify(0, "WATCHDOG=1");
		service.next_watchdog = now + service.watchdog_ns / 2;
	}
	notify_status(w, now);
}

static void print_counters(const struct writer *w)
{
	fprintf(stderr, "logbus-writer: stopped after %llu entries\n",
		(unsigned long long)w->counters.entries);
	for (size_t i = 0; i < w->nsinks; i++) {
		const struct sink_counters *c = &w->sinks[i]->counters;
		fprintf(stderr, "logbus-writer: sink %s: %llu written, %llu bytes, %llu errors, "
			"%llu dropped%s%s\n", w->sinks[i]->name, (unsigned long long)c->written,
			(unsigned long long)c->bytes, (unsigned long long)c->errors,
			(unsigned long long)c->dropped, c->last_error ? ", failing: " : "",
			c->last_error ? strerror(-c->last_error) : "");
	}
}

/* A hook that cannot run, for --check-config: one line on stdout. */
static void hook_check_problem(void *ctx, const char *msg)
{
	const char *source = ctx;

	fputs("logbus-writer: ", stdout);
	config_put_one_line(stdout, source ? source : "configuration");
	fputs(": ", stdout);
	config_put_one_line(stdout, msg);
	fputc('\n', stdout);
}

static int check_only(const struct config_overrides *ov)
{
	struct writer_config c;
	int problems = config_load(ov, &c, stdout);

	if (problems == 0)
		problems = hooks_conf_check(c.hooks, hook_check_problem, (void *)ov->config_path);
	if (problems == 0)
		printf("logbus-writer: %s: configuration OK\n",
		       ov->config_path ? ov->config_path : "(no file)");
	else
		printf("logbus-writer: %d problem%s found\n", problems, problems == 1 ? "" : "s");
	config_free(&c);
	return problems ? 1 : 0;
}

/* The sinks, each resuming where its saved positions say (in the state
 * directory, which it makes when needed). */
static int start_sinks(struct writer *w)
{
	const char *dir = config_state_dir(&service.config);
	struct sink **sinks;
	long n;

	w->state_dirfd = outfile_open_dir(dir);
	if (w->state_dirfd < 0) {
		fprintf(stderr, "logbus-writer: state directory %s: %s\n", dir,
			strerror(-w->state_dirfd));
		return -1;
	}
	n = sinks_make(&service.config, lb_bus_id(&w->bus), &sinks, stderr);
	if (n < 0)
		return -1;
	if (writer_set_sinks(w, sinks, (size_t)n) < 0) {
		fprintf(stderr, "logbus-writer: out of memory\n");
		return -1;
	}
	return 0;
}

/* The hooks of the configuration; loads nothing yet (plugins and
 * commands start when an entry first matches them). */
static int start_hooks(struct writer *w)
{
	int r = service.config.hooks ? hooks_start(service.config.hooks, NULL, &w->hooks) : 0;

	service.config.hooks = NULL;   /* the hook set owns it now */
	if (r < 0)
		fprintf(stderr, "logbus-writer: cannot start the hooks: %s\n", strerror(-r));
	return r;
}

int main(int argc, char **argv)
{
	struct writer w = { .stop = &stop_requested, .reopen = &reopen_requested, .tick = tick,
			    .state_dirfd = -1, .poison = { .fd = -1, .qfd = -1, .dirfd = -1 } };
	uint64_t usec;
	bool check;
	int r;

	if (parse_args(argc, argv, &service.ov, &check) < 0)
		return EXIT_USAGE;
	if (check)
		return check_only(&service.ov);
	if (config_load(&service.ov, &service.config, stderr) != 0)
		return EXIT_USAGE;
	snprintf(service.bus, sizeof(service.bus), "%s", service.config.bus);
	service.config.bus = service.bus;
	install_signals();
	r = open_bus(&service.config, &w);
	if (r)
		return r;
	geometry_check(&service.config, &w.bus, "");
	w.bus_name = service.bus;
	if (writer_init(&w) < 0 || lane_guard_install(&w.bus) < 0) {
		fprintf(stderr, "logbus-writer: out of memory\n");
		return 1;
	}
	/* This writer's generation is in the bus header before its registrar
	 * answers anyone: a client that registers with it never takes it for
	 * an earlier one and reattaches again. */
	lb_doorbell_writer_setup(&w.bus);
	lb_bus_writer_generation(&w.bus);
	/* The registrar before the sinks and hooks: a fork before they start
	 * threads. */
	if (registrar_start(&service.config.clients.registrar, service.bus, &w.reg,
			    &service.registrar) < 0 ||
	    start_sinks(&w) < 0 || start_hooks(&w) < 0) {
		if (service.registrar > 0)
			registrar_stop(service.registrar, service.bus);
		writer_fini(&w);
		lb_registry_close(&w.reg);
		lb_bus_detach(&w.bus);
		return 1;
	}
	r = poison_open(&w.poison, w.state_dirfd, service.bus, lb_bus_id(&w.bus));
	if (r < 0)
		fprintf(stderr, "logbus-writer: cannot keep the filters' state in the state "
			"directory: %s; a poison entry would stop the bus\n", strerror(-r));
	tsc_clock_init(&w.clock);
	/* The stats segment comes before the pid in the bus header: whoever sees
	 * this writer alive finds its stats, made with this configuration. */
	writer_open_stats(&w, service.config.bus, service.config.clients.stats_mode,
			  service.config.clients.stats_group);
	lb_bus_writer_begin(&w.bus, getpid(), lb_clock_ns(CLOCK_REALTIME),
			    lb_clock_ns(CLOCK_MONOTONIC));
	if (sd_watchdog_enabled(0, &usec) > 0)
		service.watchdog_ns = usec * 1000u;
	fprintf(stderr, "logbus-writer: draining bus '%s' (%u lanes of %llu bytes) into %zu "
		"sinks\n", service.config.bus, w.bus.lane_count,
		(unsigned long long)w.bus.lane_size, w.nsinks);
	sd_notifyf(0, "READY=1\nSTATUS=draining bus %s\nMAINPID=%d", service.config.bus,
		   (int)getpid());

	r = writer_run(&w);

	sd_notify(0, "STOPPING=1");
	registrar_stop(service.registrar, service.bus);
	writer_close_stats(&w);
	lb_bus_writer_end(&w.bus);
	print_counters(&w);
	hooks_stop(w.hooks, HOOKS_STOP_WAIT_MS, stderr);
	writer_fini(&w);
	if (w.state_dirfd >= 0)
		close(w.state_dirfd);
	lb_registry_close(&w.reg);
	lb_bus_detach(&w.bus);
	config_free(&service.config);
	return r < 0 ? 1 : 0;
}
