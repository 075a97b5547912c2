/* SPDX-License-Identifier: MIT */
/*
 * logbus-stat - print a logbus bus's counters as text, JSON or Prometheus.
 *
 * SYNOPSIS
 *	logbus-stat [--bus NAME] [--text | --json | --prometheus]
 *	            [--watch SECONDS] [--output FILE]
 *
 * DESCRIPTION
 *	Reads the stats segment /logbus.NAME.stats that logbus-writer
 *	publishes (without ever slowing the writer down) and prints the
 *	writer's state (alive, stalled or dead, from its heartbeat), the bus
 *	totals (entries published, written, dropped by reason), latency and
 *	batch-size quantiles, and the clients, sinks and hooks.
 *
 *	--text is aligned text for people (the default); --json one JSON
 *	object per report, in the schema that README.md documents; and
 *	--prometheus the text exposition format 0.0.4, for node_exporter's
 *	textfile collector; when the bus or its stats are missing it still
 *	reports logbus_writer_up 0. --watch repeats every SECONDS until SIGINT or
 *	SIGTERM. --output writes FILE atomically each time (a temporary file
 *	in the same directory, then rename), so a reader never sees half a
 *	report.
 *
 * EXIT STATUS
 *	0 the writer is alive or stalled, 1 the bus (or its stats) is missing
 *	or the writer is dead, 2 usage error. With --watch: 0 after a signal.
 *
 * EXAMPLES
 *	logbus-stat --bus app
 *	logbus-stat --bus app --json | jq .totals.written
 *	logbus-stat --bus app --prometheus --watch 15 \
 *	    --output /var/lib/prometheus/node-exporter/logbus.prom
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "report.h"
#include "view.h"
#include "version.h"

enum {
	EXIT_DOWN = 1,
	EXIT_USAGE = 2,
};

enum format {
	FORMAT_TEXT,
	FORMAT_JSON,
	FORMAT_PROMETHEUS,
};

static const char usage[] =
	"Usage: logbus-stat [--bus NAME] [--text | --json | --prometheus]\n"
	"                   [--watch SECONDS] [--output FILE]\n"
	"Print the counters of a logbus bus, read from its stats segment.\n"
	"\n"
	"  -b, --bus NAME        bus to read (default: $LOGBUS_BUS, else \"default\")\n"
	"  -t, --text            aligned text (default)\n"
	"  -j, --json            one JSON object per report (schema: README.md)\n"
	"  -p, --prometheus      Prometheus text exposition format 0.0.4\n"
	"  -w, --watch SECONDS   report again every SECONDS until interrupted\n"
	"  -o, --output FILE     write FILE atomically (temporary file, then rename)\n"
	"  -h, --help            this text\n"
	"  -V, --version         print the version\n"
	"\n"
	"Exit status: 0 writer alive or stalled, 1 bus missing or writer dead, 2 usage.\n";

struct stat_options {
	const char *bus;
	enum format format;
	double watch;          /* seconds; 0: once */
	const char *output;
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int parse_args(int argc, char **argv, struct stat_options *o)
{
	static const struct option longopts[] = {
		{ "bus", required_argument, NULL, 'b' },
		{ "text", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "watch", required_argument, NULL, 'w' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	*o = (struct stat_options){ .bus = lb_bus_default_name(), .format = FORMAT_TEXT };
	while ((c = getopt_long(argc, argv, "b:tjpw:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bus = optarg;
			break;
		case 't':
			o->format = FORMAT_TEXT;
			break;
		case 'j':
			o->format = FORMAT_JSON;
			break;
		case 'p':
			o->format = FORMAT_PROMETHEUS;
			break;
		case 'w':
			if (mon_parse_seconds("logbus-stat", "--watch", optarg, 0.01, 86400,
					      &o->watch) < 0)
				return -EINVAL;
			break;
		case 'o':
			o->output = optarg;
			break;
		default:
			return lb_tool_option(c, "logbus-stat", usage, usage);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "logbus-stat: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!lb_bus_name_valid(o->bus)) {
		fprintf(stderr, "logbus-stat: bad bus name '%s' (want 1-64 of [A-Za-z0-9_.-])\n",
			o->bus);
		return -EINVAL;
	}
	return 0;
}

/* The report of m; m NULL (stats unreadable) only in the Prometheus
 * format, where it is the report of a writer that is down. */
static void emit(FILE *f, const struct stat_options *o, const struct mon_sample *m)
{
	json_t *j;

	if (!m) {
		report_prometheus_down(f, o->bus);
		return;
	}
	switch (o->format) {
	case FORMAT_TEXT:
		report_text(f, o->bus, m);
		break;
	case FORMAT_JSON:
		j = report_json(o->bus, m);
		if (j)
			json_dumpf(j, f, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', f);
		json_decref(j);
		break;
	case FORMAT_PROMETHEUS:
		report_prometheus(f, o->bus, m);
		break;
	}
}

/* Write the report to a temporary file next to path, then rename it over
 * path: readers see the old file or the new one, never a part. */
static int emit_atomic(const struct stat_options *o, const struct mon_sample *m)
{
	const char *slash = strrchr(o->output, '/');
	int dirlen = slash ? (int)(slash - o->output) + 1 : 0;
	char tmp[4096];
	FILE *f = NULL;
	int fd, r = 0;

	/* ".name.XXXXXX" in name's directory: rename needs the same file system. */
	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", dirlen, o->output,
		     o->output + dirlen) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		goto fail;
	}
	emit(f, o, m);
	if (fflush(f) != 0 || ferror(f) || fchmod(fd, 0644) < 0 || fsync(fd) < 0)
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, o->output) < 0)
		r = -errno;
	if (r == 0)
		return 0;
fail:
	unlink(tmp);
	return r ? r : -EIO;
}

/* Without stats to read, a Prometheus report still says the writer is
 * down (logbus_writer_up 0), so that a scraper sees it rather than an old
 * file or none. */
static void report_down(const struct stat_options *o)
{
	int r;

	if (!o->output) {
		emit(stdout, o, NULL);
		fflush(stdout);
	} else if ((r = emit_atomic(o, NULL)) < 0)
		fprintf(stderr, "logbus-stat: cannot write '%s': %s\n", o->output, strerror(-r));
}

/* One report. Returns the exit status it stands for. */
static int report_once(const struct stat_options *o)
{
	struct mon_sample m;
	char why[256];
	int r = mon_sample_read(o->bus, &m, why, sizeof(why));

	if (r < 0) {
		fprintf(stderr, "logbus-stat: %s\n", why);
		if (o->format == FORMAT_PROMETHEUS)
			report_down(o);
		return EXIT_DOWN;
	}
	if (!o->output) {
		emit(stdout, o, &m);
		fflush(stdout);
	} else if ((r = emit_atomic(o, &m)) < 0) {
		fprintf(stderr, "logbus-stat: cannot write '%s': %s\n", o->output, strerror(-r));
		mon_sample_free(&m);
		return EXIT_DOWN;
	}
	if (m.state == MON_DEAD)
		fprintf(stderr, "logbus-stat: the writer of bus '%s' is dead\n", o->bus);
	r = m.state == MON_DEAD ? EXIT_DOWN : 0;
	mon_sample_free(&m);
	return r;
}

static void sleep_seconds(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - floor(s)) * 1e9) };

	nanosleep(&ts, NULL);   /* a signal cuts it short */
}

int main(int argc, char **argv)
{
	struct sigaction stop = { .sa_handler = on_stop };
	struct stat_options o;

	if (parse_args(argc, argv, &o) < 0)
		return EXIT_USAGE;
	if (!o.watch)
		return report_once(&o);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGTERM, &stop, NULL);
	while (!stop_requested) {
		(void)report_once(&o);
		if (o.format == FORMAT_TEXT && !o.output)
			putchar('\n');
		sleep_seconds(o.watch);
	}
	return 0;
}
