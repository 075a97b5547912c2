/* SPDX-License-Identifier: MIT */
/*
 * logbus-cat - publish entries from the shell, like logger(1) and
 * systemd-cat.
 *
 * SYNOPSIS
 *	logbus-cat [-b BUS] [-t TAG] [-p LEVEL] [-f KEY=VALUE]... [--drop] [MESSAGE...]
 *
 * DESCRIPTION
 *	Publishes MESSAGE (the arguments joined by spaces) as one entry, or,
 *	without arguments, each line of standard input as an entry. When the
 *	lane is full it waits for the writer to make room, so that a pipe
 *	into it loses nothing (--drop: drop instead; $LOGBUS_OVERFLOW, when
 *	set, decides instead of this default). Then waits until the writer
 *	has written the entries (up to 5 s).
 *
 * EXIT STATUS
 *	0 every entry was written by the writer; 1 some went to the fallback
 *	(stderr or $LOGBUS_FALLBACK), were dropped, or were not confirmed in
 *	time, with one line on stderr saying why (no bus, no writer,
 *	permission denied and the group to join, lane full, too large); 2
 *	usage error.
 *
 * EXAMPLES
 *	logbus-cat -t backup -p warning "disk 91% full"
 *	journalctl -f | logbus-cat -t mirror -f source=journal
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "clock.h"
#include "logbus.h"
#include "record.h"
#include "text.h"

#define FLUSH_TIMEOUT_MS 5000
/* As the library judges a writer gone (libclient/client.h). */
#define WRITER_STALE_NS (5 * 1000000000ull)

static const char usage[] =
	"Usage: logbus-cat [-b BUS] [-t TAG] [-p LEVEL] [-f KEY=VALUE]... [--drop] [MESSAGE...]\n"
	"Publish MESSAGE, or each line of standard input, to a logbus bus.\n"
	"\n"
	"  -b, --bus BUS        bus name (default: $LOGBUS_BUS, else \"default\")\n"
	"  -t, --tag TAG        tag of the entries (default: logbus-cat)\n"
	"  -p, --priority LEVEL emerg..debug or 0..7 (default: info)\n"
	"  -f, --field KEY=VAL  add a field; repeatable\n"
	"  -d, --drop           drop entries when the lane is full instead of\n"
	"                       waiting for room (default: wait, or $LOGBUS_OVERFLOW)\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: 0 all written by the writer; 1 some went to the fallback,\n"
	"were dropped or were not confirmed (one line says why); 2 usage.\n";

struct cat_options {
	const char *bus;
	const char *tag;
	int level;
	struct logbus_field fields[LOGBUS_FIELDS_MAX];
	size_t nfields;
	bool drop;
};

/* Whether tag follows the tag rule; if not, one line naming the rule it
 * breaks. */
static bool tag_check(const char *tag)
{
	size_t len = strlen(tag);

	if (lb_tag_len(tag) >= 0)
		return true;
	if (len == 0)
		fprintf(stderr, "logbus-cat: -t: the tag is empty (want 1 to %d bytes of printable "
			"ASCII, no space)\n", LOGBUS_TAG_MAX);
	else if (len > LOGBUS_TAG_MAX)
		fprintf(stderr, "logbus-cat: -t: the tag is %zu bytes long, at most %d are allowed\n",
			len, LOGBUS_TAG_MAX);
	else
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)tag[i];
			if (c > 0x20 && c < 0x7f)
				continue;
			fprintf(stderr, "logbus-cat: -t: the tag holds %s at byte %zu (want printable "
				"ASCII, no space)\n", c == ' ' ? "a space" : "a control or non-ASCII byte",
				i + 1);
			break;
		}
	return false;
}

/* Add -f KEY=VALUE; a key that breaks the key rule or repeats an earlier
 * one is refused with one line saying so. */
static int add_field(struct cat_options *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg) {
		fprintf(stderr, "logbus-cat: -f: '%s' is not KEY=VALUE\n", arg);
		return -EINVAL;
	}
	if (o->nfields == LOGBUS_FIELDS_MAX) {
		fprintf(stderr, "logbus-cat: -f: more than %d fields\n", LOGBUS_FIELDS_MAX);
		return -EINVAL;
	}
	*eq = '\0';
	if (!lb_key_valid(arg, strlen(arg))) {
		fprintf(stderr, "logbus-cat: -f: key '%s' is not 1 to %d of [A-Za-z0-9_]\n", arg,
			LOGBUS_KEY_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < o->nfields; i++)
		if (!strcmp(o->fields[i].key, arg)) {
			fprintf(stderr, "logbus-cat: -f: key '%s' is given twice (keys of an entry "
				"are unique)\n", arg);
			return -EINVAL;
		}
	o->fields[o->nfields++] = (struct logbus_field){
		.key = arg, .value = eq + 1, .len = strlen(eq + 1),
	};
	return 0;
}

static int parse_args(int argc, char **argv, struct cat_options *o)
{
	static const struct option longopts[] = {
		{ "bus", required_argument, NULL, 'b' },
		{ "tag", required_argument, NULL, 't' },
		{ "priority", required_argument, NULL, 'p' },
		{ "field", required_argument, NULL, 'f' },
		{ "drop", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct cat_options){ .tag = "logbus-cat", .level = LOGBUS_INFO };
	while ((c = getopt_long(argc, argv, "b:t:p:f:dh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bus = optarg;
			break;
		case 't':
			if (!tag_check(optarg))
				return -EINVAL;
			o->tag = optarg;
			break;
		case 'p':
			o->level = logbus_level_parse(optarg);
			if (o->level < 0) {
				fprintf(stderr, "logbus-cat: -p: '%s' is not a level (%s)\n", optarg,
					LB_LEVEL_WORDS);
				return -EINVAL;
			}
			break;
		case 'f':
			if (add_field(o, optarg) < 0)
				return -EINVAL;
			break;
		case 'd':
			o->drop = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	return 0;
}

/* Publish one line; the handle's counters say later what became of it,
 * but for a line refused for its arguments (counted nowhere): false. */
static bool publish_one(logbus_t *lb, const struct cat_options *o, const char *msg, size_t len)
{
	return logbus_publishv(lb, o->level, o->tag, msg, len, o->fields, o->nfields) != -EINVAL;
}

static char *join_args(int argc, char **argv)
{
	size_t len = 0;
	char *msg;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	msg = calloc(1, len + 1);
	if (!msg)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(msg, " ");
		strcat(msg, argv[i]);
	}
	return msg;
}

/* Why entries of bus name could not reach its writer, in words, into
 * why: the bus is missing or refused, or its writer is not running. */
static void bus_diagnose(const char *name, char *why, size_t cap)
{
	struct lb_bus_error err = { { 0 } };
	struct lb_bus bus;
	struct stat st;
	struct group *gr;
	pid_t pid;
	int r = lb_bus_attach(name, &bus, &err);

	if (r == -ENOENT) {
		snprintf(why, cap, "bus '%s' does not exist (no logbus-writer has created it)", name);
		return;
	}
	if (r == -EACCES) {
		if (lb_bus_stat(name, &st) == 0 && (gr = getgrgid(st.st_gid)))
			snprintf(why, cap, "permission denied on bus '%s': join group '%s', the bus segment's group",
				 name, gr->gr_name);
		else
			snprintf(why, cap, "permission denied on bus '%s': join the bus segment's group",
				 name);
		return;
	}
	if (r < 0) {
		snprintf(why, cap, "%s", err.why);
		return;
	}
	pid = lb_bus_writer_pid(&bus);
	if (pid == 0)
		snprintf(why, cap, "bus '%s' has no writer (logbus-writer is not running)", name);
	else if (lb_bus_writer_stale(&bus, lb_clock_ns(CLOCK_MONOTONIC), WRITER_STALE_NS))
		snprintf(why, cap, "the writer of bus '%s' (pid %d) has given no sign of life for over 5 s",
			 name, (int)pid);
	else
		snprintf(why, cap, "the writer of bus '%s' (pid %d) runs but did not write them in %d s",
			 name, (int)pid, FLUSH_TIMEOUT_MS / 1000);
	lb_bus_detach(&bus);
}

/* Say in one line what became of the entries that were not written, and
 * why. Returns whether every entry was written. */
static bool report(const char *name, const struct cat_options *o, uint64_t refused,
		   const struct logbus_stats *st, int flushed)
{
	const char *fallback = getenv("LOGBUS_FALLBACK");
	uint64_t dropped = st->dropped_full + st->dropped_too_large + st->dropped_no_lane +
			   st->dropped_fallback;
	char why[256];

	if (refused) {
		fprintf(stderr, "logbus-cat: %llu lines refused: tag '%s' or a field key is not valid\n",
			(unsigned long long)refused, o->tag);
		return false;
	}
	if (!st->fallback && !dropped && flushed == 0)
		return true;
	if (st->dropped_too_large)
		snprintf(why, sizeof(why), "%llu lines were larger than the bus takes",
			 (unsigned long long)st->dropped_too_large);
	else if (st->dropped_no_lane)
		snprintf(why, sizeof(why), "every lane of bus '%s' is taken", name);
	else if (st->dropped_full && !st->fallback && flushed == 0)
		snprintf(why, sizeof(why), "the lane was full (without --drop, logbus-cat waits for room)");
	else if (st->dropped_full && !st->fallback) {
		int n = snprintf(why, sizeof(why), "the lane was full, and ");
		bus_diagnose(name, why + n, sizeof(why) - (size_t)n);
	} else
		bus_diagnose(name, why, sizeof(why));
	if (st->fallback || dropped)
		fprintf(stderr, "logbus-cat: of %llu lines, %llu went to %s and %llu were dropped: %s\n",
			(unsigned long long)st->published, (unsigned long long)st->fallback,
			fallback && *fallback ? fallback : "stderr", (unsigned long long)dropped, why);
	else
		fprintf(stderr, "logbus-cat: %llu lines wait in the bus, not yet written: %s\n",
			(unsigned long long)st->queued, why);
	return false;
}

/* The overflow policy: wait for room unless --drop, or $LOGBUS_OVERFLOW
 * (read by logbus_open) decides. */
static void set_overflow(logbus_t *lb, const struct cat_options *o)
{
	const char *env = getenv("LOGBUS_OVERFLOW");

	if (o->drop)
		(void)logbus_set_overflow(lb, LOGBUS_OVERFLOW_DROP, 0);
	else if (!env || !*env)
		(void)logbus_set_overflow(lb, LOGBUS_OVERFLOW_BLOCK, -1);
}

int main(int argc, char **argv)
{
	const char *name;
	struct cat_options o;
	struct logbus_stats st;
	uint64_t refused = 0;
	logbus_t *lb;
	bool ok;
	int r;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	name = o.bus ? o.bus : lb_bus_default_name();
	lb = logbus_open(o.bus);
	if (!lb) {
		if (errno == EINVAL && lb_bus_name_valid(name))
			fprintf(stderr, "logbus-cat: LOGBUS_OVERFLOW='%s' is not drop, block or block:MS\n",
				getenv("LOGBUS_OVERFLOW"));
		else
			fprintf(stderr, "logbus-cat: cannot open bus '%s': %s\n", name,
				errno == EINVAL ? "bad bus name (want 1-64 of [A-Za-z0-9_.-])"
						: strerror(errno));
		return errno == EINVAL ? 2 : 1;
	}
	set_overflow(lb, &o);
	if (optind < argc) {
		char *msg = join_args(argc - optind, argv + optind);
		if (!msg) {
			fprintf(stderr, "logbus-cat: out of memory\n");
			logbus_close(lb);
			return 1;
		}
		refused += !publish_one(lb, &o, msg, strlen(msg));
		free(msg);
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		while ((n = getline(&line, &cap, stdin)) >= 0) {
			if (n > 0 && line[n - 1] == '\n')
				n--;
			refused += !publish_one(lb, &o, line, (size_t)n);
		}
		free(line);
	}
	r = logbus_flush(lb, FLUSH_TIMEOUT_MS);
	(void)logbus_stats_get(lb, &st);
	ok = report(name, &o, refused, &st, r);
	logbus_close(lb);
	return ok ? 0 : 1;
}
