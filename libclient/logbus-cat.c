/* SPDX-License-Identifier: MIT */
/*
 * logbus-cat - publish entries from the shell, like logger(1) and
 * systemd-cat.
 *
 * SYNOPSIS
 *	logbus-cat [-b BUS] [-t TAG] [-p LEVEL] [-f KEY=VALUE]... [MESSAGE...]
 *
 * DESCRIPTION
 *	Publishes MESSAGE (the arguments joined by spaces) as one entry, or,
 *	without arguments, each line of standard input as an entry. Then
 *	waits until the writer has written them (up to 5 s).
 *
 * EXIT STATUS
 *	0 every entry was accepted, 1 some were dropped or the writer did not
 *	confirm them in time, 2 usage error.
 *
 * EXAMPLES
 *	logbus-cat -t backup -p warning "disk 91% full"
 *	journalctl -f | logbus-cat -t mirror -f source=journal
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logbus.h"

#define FLUSH_TIMEOUT_MS 5000

static const char usage[] =
	"Usage: logbus-cat [-b BUS] [-t TAG] [-p LEVEL] [-f KEY=VALUE]... [MESSAGE...]\n"
	"Publish MESSAGE, or each line of standard input, to a logbus bus.\n"
	"\n"
	"  -b, --bus BUS        bus name (default: $LOGBUS_BUS, else \"default\")\n"
	"  -t, --tag TAG        tag of the entries (default: logbus-cat)\n"
	"  -p, --priority LEVEL emerg..debug or 0..7 (default: info)\n"
	"  -f, --field KEY=VAL  add a field; repeatable\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: 0 all accepted, 1 some dropped or unconfirmed, 2 usage.\n";

struct cat_options {
	const char *bus;
	const char *tag;
	int level;
	struct logbus_field fields[LOGBUS_FIELDS_MAX];
	size_t nfields;
};

static int add_field(struct cat_options *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg) {
		fprintf(stderr, "logbus-cat: field '%s' is not KEY=VALUE\n", arg);
		return -EINVAL;
	}
	if (o->nfields == LOGBUS_FIELDS_MAX) {
		fprintf(stderr, "logbus-cat: more than %d fields\n", LOGBUS_FIELDS_MAX);
		return -EINVAL;
	}
	*eq = '\0';
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
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct cat_options){ .tag = "logbus-cat", .level = LOGBUS_INFO };
	while ((c = getopt_long(argc, argv, "b:t:p:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bus = optarg;
			break;
		case 't':
			o->tag = optarg;
			break;
		case 'p':
			o->level = logbus_level_parse(optarg);
			if (o->level < 0) {
				fprintf(stderr, "logbus-cat: unknown level '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'f':
			if (add_field(o, optarg) < 0)
				return -EINVAL;
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

static bool publish_one(logbus_t *lb, const struct cat_options *o, const char *msg, size_t len)
{
	int r = logbus_publishv(lb, o->level, o->tag, msg, len, o->fields, o->nfields);

	if (r < 0)
		fprintf(stderr, "logbus-cat: entry not accepted: %s\n", strerror(-r));
	return r == 0;
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

int main(int argc, char **argv)
{
	struct cat_options o;
	logbus_t *lb;
	bool ok = true;
	int r;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	lb = logbus_open(o.bus);
	if (!lb) {
		fprintf(stderr, "logbus-cat: cannot open bus '%s': %s\n",
			o.bus ? o.bus : "(default)", strerror(errno));
		return errno == EINVAL ? 2 : 1;
	}
	if (optind < argc) {
		char *msg = join_args(argc - optind, argv + optind);
		ok = msg && publish_one(lb, &o, msg, strlen(msg));
		free(msg);
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		while ((n = getline(&line, &cap, stdin)) >= 0) {
			if (n > 0 && line[n - 1] == '\n')
				n--;
			ok &= publish_one(lb, &o, line, (size_t)n);
		}
		free(line);
	}
	r = logbus_flush(lb, FLUSH_TIMEOUT_MS);
	if (r < 0) {
		fprintf(stderr, "logbus-cat: the writer did not confirm the entries: %s\n",
			strerror(-r));
		ok = false;
	}
	logbus_close(lb);
	return ok ? 0 : 1;
}
