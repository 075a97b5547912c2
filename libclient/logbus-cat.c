/* SPDX-License-Identifier: MIT */
/*
 * logbus-cat - publish entries from the shell, as logger(1) and
 * systemd-cat(1) do.
 *
 * SYNOPSIS
 *	logbus-cat [OPTIONS] [MESSAGE...]
 *	logbus-cat [OPTIONS] -f FILE
 *	logbus-cat [OPTIONS] -- COMMAND [ARG...]
 *
 * DESCRIPTION
 *	Publishes MESSAGE (the arguments joined by spaces) as one entry, or
 *	each line of FILE, or, without either, each line of standard input.
 *	After "--" it runs COMMAND with its standard output and standard
 *	error logged line by line, each at a level of its own. When the lane
 *	is full it waits for the writer to make room, so that a pipe into it
 *	loses nothing (--drop: drop instead; $LOGBUS_OVERFLOW, when set,
 *	decides instead of this default). Then waits until the writer has
 *	written the entries (up to 5 s). Options come before the message.
 *
 * EXIT STATUS
 *	With a COMMAND, the command's status (128 + the signal that killed
 *	it; 127 when it cannot be found). Otherwise 0 every entry was
 *	written by the writer; 1 some went to the fallback (stderr or
 *	$LOGBUS_FALLBACK), were dropped, or were not confirmed in time, with
 *	one line on stderr saying why (no bus, no writer, a writer that gave
 *	no lane, lane full, too large, "bus 'B' refused a lane: WHY" when the
 *	writer refused one, permission denied with the socket's mode and the
 *	group to join when its permissions keep the user out), or FILE could
 *	not be read to its end; 2 usage error.
 *
 * EXAMPLES
 *	logbus-cat -t backup -p user.warning "disk 91% full"
 *	journalctl -f | logbus-cat -t mirror -F source=journal
 *	logbus-cat -t backup --stderr-level err -- rsync -a /src /dst
 *
 * The manual page, man/logbus-cat.1, says all of it at length.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "logbus.h"
#include "bus.h"
#include "cat.h"
#include "clock.h"
#include "record.h"
#include "register.h"
#include "text.h"
#include "version.h"

#define FLUSH_TIMEOUT_MS 5000
/* As the library judges a writer gone (libclient/client.h). */
#define WRITER_STALE_NS (5 * 1000000000ull)

static const char usage[] =
	"Usage: logbus-cat [OPTIONS] [MESSAGE...]\n"
	"       logbus-cat [OPTIONS] -f FILE\n"
	"       logbus-cat [OPTIONS] -- COMMAND [ARG...]\n"
	"Publish MESSAGE, each line of FILE or of standard input, or each line a\n"
	"COMMAND prints, to a logbus bus.\n"
	"\n"
	"  -b, --bus BUS           bus name (default: $LOGBUS_BUS, else \"default\")\n"
	"  -t, --tag TAG           tag of the entries (default: logbus-cat)\n"
	"  -p, --priority PRIO     LEVEL, FACILITY.LEVEL or FACILITY*8+LEVEL: err,\n"
	"                          3, user.err, local3.info, 13 (default: info)\n"
	"  -F, --field KEY=VAL     add a field; repeatable\n"
	"      --sd-id ID          prefix the --sd-param keys after it with ID_\n"
	"      --sd-param KEY=\"VAL\" add a field, as logger(1) writes it; repeatable\n"
	"  -i                      field syslog_pid: logbus-cat's pid, or the COMMAND's\n"
	"                          (the entry's own pid is always logbus-cat's)\n"
	"      --id[=PID]          as -i, or field syslog_pid=PID\n"
	"  -f, --file FILE         publish each line of FILE\n"
	"  -s, --stderr            write each message to stderr too\n"
	"      --stdout-level LEVEL  level of COMMAND's stdout lines (default: -p)\n"
	"      --stderr-level LEVEL  level of COMMAND's stderr lines (default: -p)\n"
	"  -d, --drop              drop entries when the lane is full instead of\n"
	"                          waiting for room (default: wait, or $LOGBUS_OVERFLOW)\n"
	"  -h, --help              this text\n"
	"  -V, --version           print the version\n"
	"\n"
	"Exit status: with a COMMAND, its status (128+signal when killed). Else 0\n"
	"all written by the writer; 1 some went to the fallback, were dropped or\n"
	"were not confirmed (one line says why); 2 usage.\n";

/* The long options that have no short one. */
enum { OPT_ID = 256, OPT_SD_ID, OPT_SD_PARAM, OPT_STDOUT_LEVEL, OPT_STDERR_LEVEL };

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

/* Add the field key=value (value len bytes), for option opt; a key that
 * breaks the key rule or repeats an earlier one is refused with one line
 * saying so. */
static struct logbus_field *field_add(struct cat_options *o, const char *opt, const char *key,
				      const char *value, size_t len)
{
	if (o->nfields == LOGBUS_FIELDS_MAX) {
		fprintf(stderr, "logbus-cat: %s: more than %d fields\n", opt, LOGBUS_FIELDS_MAX);
		return NULL;
	}
	if (!lb_key_valid(key, strlen(key))) {
		fprintf(stderr, "logbus-cat: %s: key '%s' is not 1 to %d of [A-Za-z0-9_]\n", opt, key,
			LOGBUS_KEY_MAX);
		return NULL;
	}
	for (size_t i = 0; i < o->nfields; i++)
		if (!strcmp(o->fields[i].key, key)) {
			fprintf(stderr, "logbus-cat: %s: key '%s' is given twice (keys of an entry "
				"are unique)\n", opt, key);
			return NULL;
		}
	o->fields[o->nfields] = (struct logbus_field){ .key = key, .value = value, .len = len };
	return &o->fields[o->nfields++];
}

/* -F KEY=VALUE. */
static int field_option(struct cat_options *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg) {
		fprintf(stderr, "logbus-cat: -F: '%s' is not KEY=VALUE\n", arg);
		return -EINVAL;
	}
	*eq = '\0';
	return field_add(o, "-F", arg, eq + 1, strlen(eq + 1)) ? 0 : -EINVAL;
}

/* --sd-id ID: the prefix of the --sd-param keys that follow. logger's
 * "name@enterprise" has no place here: the fields of an entry are one
 * SD-ELEMENT of the writer's. */
static int sd_id_option(struct cat_options *o, const char *arg)
{
	if (strchr(arg, '@')) {
		fprintf(stderr, "logbus-cat: --sd-id: '%s' holds '@': the fields go into the "
			"writer's own SD-ELEMENT, give the ID without an enterprise number\n", arg);
		return -EINVAL;
	}
	if (!lb_key_valid(arg, strlen(arg))) {
		fprintf(stderr, "logbus-cat: --sd-id: '%s' is not 1 to %d of [A-Za-z0-9_]\n", arg,
			LOGBUS_KEY_MAX);
		return -EINVAL;
	}
	o->sd_id = arg;
	return 0;
}

/* Undo RFC 5424's PARAM-VALUE escapes (\" \\ \]) of the quoted value
 * after v, in place. Returns its length, or -EINVAL when the quote is not
 * closed at the end of the argument. */
static ssize_t sd_unquote(char *v)
{
	char *o = v;

	for (const char *p = v + 1; *p; p++) {
		if (*p == '"')
			return p[1] ? -EINVAL : o - v;
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == ']'))
			p++;
		*o++ = *p;
	}
	return -EINVAL;
}

/* --sd-param KEY="VALUE" (the quotes may be left out), its key prefixed
 * with the last --sd-id and "_" (kept in the options' sd_keys). */
static int sd_param_option(struct cat_options *o, char *arg)
{
	char *eq = strchr(arg, '='), *key = arg;
	ssize_t len;
	int n;

	if (!eq || eq == arg) {
		fprintf(stderr, "logbus-cat: --sd-param: '%s' is not KEY=\"VALUE\"\n", arg);
		return -EINVAL;
	}
	*eq = '\0';
	len = eq[1] == '"' ? sd_unquote(eq + 1) : (ssize_t)strlen(eq + 1);
	if (len < 0) {
		fprintf(stderr, "logbus-cat: --sd-param: the value of '%s' opens a quote it does not "
			"close at its end\n", arg);
		return -EINVAL;
	}
	if (o->sd_id && o->nfields < LOGBUS_FIELDS_MAX) {
		key = o->sd_keys[o->nfields];
		n = snprintf(key, sizeof(o->sd_keys[0]), "%s_%s", o->sd_id, arg);
		if (n >= (int)sizeof(o->sd_keys[0])) {
			fprintf(stderr, "logbus-cat: --sd-param: key '%s_%s' is %d bytes long, at most "
				"%d are allowed\n", o->sd_id, arg, n, LOGBUS_KEY_MAX);
			return -EINVAL;
		}
	}
	return field_add(o, "--sd-param", key, eq + 1 + (eq[1] == '"'), (size_t)len) ? 0 : -EINVAL;
}

/* -i, --id[=PID]: the field syslog_pid, PID or, with a command, its pid
 * (filled in by cat_run_command). */
static int id_option(struct cat_options *o, const char *arg)
{
	char *end;
	long pid = arg ? strtol(arg, &end, 10) : 0;

	if (o->id_field) {
		fprintf(stderr, "logbus-cat: --id: given twice\n");
		return -EINVAL;
	}
	if (arg && (!*arg || *end || pid <= 0 || pid > 0x7fffffff)) {
		fprintf(stderr, "logbus-cat: --id: '%s' is not a process id (want 1 to %d)\n", arg,
			0x7fffffff);
		return -EINVAL;
	}
	if (arg)
		snprintf(o->id, sizeof(o->id), "%ld", pid);
	o->id_field = field_add(o, "--id", "syslog_pid", o->id, strlen(o->id));
	return o->id_field ? 0 : -EINVAL;
}

/* -p FACILITY.LEVEL or LEVEL; the facility becomes the field
 * syslog_facility (its code, as journald's SYSLOG_FACILITY holds it). */
static int priority_option(struct cat_options *o, const char *arg)
{
	int facility, r = lb_priority_parse(arg, &facility, &o->level);

	if (r == -EDOM) {
		fprintf(stderr, "logbus-cat: -p: '%.*s' is not a facility (%s)\n",
			(int)strcspn(arg, "."), arg, LB_FACILITY_WORDS);
		return -EINVAL;
	}
	if (r < 0) {
		fprintf(stderr, "logbus-cat: -p: '%s' is not a level (%s)\n",
			strchr(arg, '.') ? strchr(arg, '.') + 1 : arg, LB_LEVEL_WORDS);
		return -EINVAL;
	}
	if (facility < 0)
		return 0;
	snprintf(o->facility, sizeof(o->facility), "%d", facility);
	return field_add(o, "-p", "syslog_facility", o->facility, strlen(o->facility)) ? 0 : -EINVAL;
}

/* --stdout-level, --stderr-level. */
static int level_option(const char *opt, const char *arg, int *level)
{
	*level = lb_level_parse(arg, strlen(arg));
	if (*level >= 0)
		return 0;
	fprintf(stderr, "logbus-cat: %s: '%s' is not a level (%s)\n", opt, arg, LB_LEVEL_WORDS);
	return -EINVAL;
}

static int option_one(struct cat_options *o, int c, char *arg)
{
	switch (c) {
	case 'b':
		o->bus = arg;
		return 0;
	case 't':
		if (!tag_check(arg))
			return -EINVAL;
		o->tag = arg;
		return 0;
	case 'p':
		return priority_option(o, arg);
	case 'F':
		return field_option(o, arg);
	case 'f':
		o->file = arg;
		return 0;
	case 'i':
		return id_option(o, NULL);
	case OPT_ID:
		return id_option(o, arg);
	case 's':
		o->echo = true;
		return 0;
	case OPT_SD_ID:
		return sd_id_option(o, arg);
	case OPT_SD_PARAM:
		return sd_param_option(o, arg);
	case OPT_STDOUT_LEVEL:
		return level_option("--stdout-level", arg, &o->stdout_level);
	case OPT_STDERR_LEVEL:
		return level_option("--stderr-level", arg, &o->stderr_level);
	case 'd':
		o->drop = true;
		return 0;
	default:
		return lb_tool_option(c, "logbus-cat", usage, usage);
	}
}

/* What the arguments after the options ask for must fit the options:
 * one of MESSAGE, -f FILE and -- COMMAND; the stream levels only with a
 * COMMAND. */
static int inputs_check(const struct cat_options *o, bool command, int nargs)
{
	const char *why = NULL;

	if (command && nargs == 0)
		why = "--: no COMMAND after it";
	else if (o->file && nargs)
		why = command ? "-f FILE and -- COMMAND cannot be given together"
			      : "-f FILE and a MESSAGE cannot be given together";
	else if (!command && (o->stdout_level >= 0 || o->stderr_level >= 0))
		why = o->stdout_level >= 0 ? "--stdout-level: only with -- COMMAND"
					   : "--stderr-level: only with -- COMMAND";
	if (!why)
		return 0;
	fprintf(stderr, "logbus-cat: %s\n", why);
	return -EINVAL;
}

/* Options, then MESSAGE or "--" COMMAND: "+" stops at the first word that
 * is no option, so the command's own options stay its own. Sets *command
 * when the words after the options follow "--". */
static int parse_args(int argc, char **argv, struct cat_options *o, bool *command)
{
	static const struct option longopts[] = {
		{ "bus", required_argument, NULL, 'b' },
		{ "tag", required_argument, NULL, 't' },
		{ "priority", required_argument, NULL, 'p' },
		{ "field", required_argument, NULL, 'F' },
		{ "file", required_argument, NULL, 'f' },
		{ "id", optional_argument, NULL, OPT_ID },
		{ "stderr", no_argument, NULL, 's' },
		{ "sd-id", required_argument, NULL, OPT_SD_ID },
		{ "sd-param", required_argument, NULL, OPT_SD_PARAM },
		{ "stdout-level", required_argument, NULL, OPT_STDOUT_LEVEL },
		{ "stderr-level", required_argument, NULL, OPT_STDERR_LEVEL },
		{ "drop", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	*o = (struct cat_options){
		.tag = "logbus-cat", .level = LOGBUS_INFO, .stdout_level = -1, .stderr_level = -1,
	};
	for (;;) {
		int before = optind;

		c = getopt_long(argc, argv, "+b:t:p:F:f:isdhV", longopts, NULL);
		if (c == -1) {
			/* The last call stepped over a "--" of its own, not over
			 * an option's argument that reads "--". */
			*command = optind == before + 1 && !strcmp(argv[before], "--");
			break;
		}
		if (option_one(o, c, optarg) < 0)
			return -EINVAL;
	}
	return inputs_check(o, *command, argc - optind);
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

bool cat_publish(logbus_t *lb, const struct cat_options *o, int level, const char *msg,
		 size_t len)
{
	if (o->echo)
		fprintf(stderr, "%s: %.*s\n", o->tag, (int)len, msg);
	/* The handle's counters say later what became of it, but for a line
	 * refused for its arguments (counted nowhere). */
	return logbus_publishv(lb, level, o->tag, msg, len, o->fields, o->nfields) != -EINVAL;
}

/* Publish each line of in (what names it in an error). Returns 0, or -EIO
 * when reading stopped before the end, with one line saying why; the
 * lines read until then are published. */
static int publish_lines(logbus_t *lb, const struct cat_options *o, FILE *in, const char *what,
			 uint64_t *refused)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	errno = 0;
	while ((n = getline(&line, &cap, in)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			n--;
		*refused += !cat_publish(lb, o, o->level, line, (size_t)n);
	}
	free(line);
	if (!ferror(in))
		return 0;
	fprintf(stderr, "logbus-cat: reading %s stopped: %s\n", what, strerror(errno));
	return -EIO;
}

/* MESSAGE, the arguments joined by spaces, as one entry. */
static int publish_message(logbus_t *lb, const struct cat_options *o, int argc, char **argv,
			   uint64_t *refused)
{
	char *msg = join_args(argc, argv);

	if (!msg) {
		fprintf(stderr, "logbus-cat: out of memory\n");
		return -ENOMEM;
	}
	*refused += !cat_publish(lb, o, o->level, msg, strlen(msg));
	free(msg);
	return 0;
}

/* The writer of bus name (pid) runs, yet entries went to the fallback: it
 * gave no lane. Say, into why, what its socket does when we try it. */
static void socket_diagnose(const char *name, pid_t pid, char *why, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 1 };
	int fd, e = 0;

	(void)lb_reg_socket_path(name, sa.sun_path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		e = errno;
	if (fd >= 0)
		close(fd);
	if (e == ENOENT)
		snprintf(why, cap, "the writer of bus '%s' (pid %d) has no socket %s", name, (int)pid,
			 sa.sun_path);
	else if (e == ECONNREFUSED)
		snprintf(why, cap, "nobody listens on %s, the socket of bus '%s' (its writer, pid %d, "
			 "lost its registrar)", sa.sun_path, name, (int)pid);
	else if (e)
		snprintf(why, cap, "cannot connect to %s, the socket of bus '%s': %s", sa.sun_path, name,
			 strerror(e));
	else
		snprintf(why, cap, "the writer of bus '%s' (pid %d) did not answer at %s", name, (int)pid,
			 sa.sun_path);
}

/* Why entries of bus name could not reach its writer, in words, into
 * why: the bus is missing or unreadable, its writer is not running, or,
 * when entries went to the fallback, its socket gave no lane. */
static void bus_diagnose(const char *name, bool fallback, char *why, size_t cap)
{
	struct lb_bus_error err = { { 0 } };
	struct lb_bus bus;
	pid_t pid;
	int r = lb_bus_attach(name, false, &bus, &err);

	if (r == -ENOENT) {
		snprintf(why, cap, "bus '%s' does not exist (no logbus-writer has created it)", name);
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
	else if (fallback)
		socket_diagnose(name, pid, why, cap);
	else
		snprintf(why, cap, "the writer of bus '%s' (pid %d) runs but did not write them in %d s",
			 name, (int)pid, FLUSH_TIMEOUT_MS / 1000);
	lb_bus_detach(&bus);
}

/* When the socket of bus name keeps this user out, say so into why: the
 * socket, its mode and group, and the group to join when that group may
 * connect. False when the socket lets us in (the refusal is the writer's
 * own). */
static bool socket_denied(const char *name, char *why, size_t cap)
{
	struct sockaddr_un sa;
	struct stat st;
	struct group *gr;
	char group[48];
	int n;

	if (lb_reg_socket_path(name, sa.sun_path, sizeof(sa.sun_path)) < 0 ||
	    stat(sa.sun_path, &st) < 0 || access(sa.sun_path, W_OK) == 0 || errno != EACCES)
		return false;
	if ((gr = getgrgid(st.st_gid)))
		snprintf(group, sizeof(group), "'%s'", gr->gr_name);
	else
		snprintf(group, sizeof(group), "%u", (unsigned)st.st_gid);
	n = snprintf(why, cap, "socket %s (mode %04o, group %s)", sa.sun_path,
		     (unsigned)(st.st_mode & 07777), group);
	if ((st.st_mode & S_IWGRP) && n > 0 && (size_t)n < cap)
		snprintf(why + n, cap - (size_t)n, ": join group %s", group);
	return true;
}

/* The writer refused a lane, or its socket's permissions kept us out: one
 * line saying why, and how many lines that cost when some got through
 * after all. */
static void report_refusal(logbus_t *lb, const char *name, const struct logbus_stats *st)
{
	const char *text = logbus_refusal(lb);
	char why[LB_REG_TEXT_MAX + 160], count[64] = "";

	if (st->dropped_no_lane != st->published)
		snprintf(count, sizeof(count), " (%llu of %llu lines dropped)",
			 (unsigned long long)st->dropped_no_lane, (unsigned long long)st->published);
	if (socket_denied(name, why, sizeof(why)))
		fprintf(stderr, "logbus-cat: permission denied on bus '%s': %s%s\n", name, why, count);
	else
		fprintf(stderr, "logbus-cat: bus '%s' refused a lane: %s%s\n", name,
			text ? text : "no lane left for this thread", count);
}

/* Say in one line what became of the entries that were not written, and
 * why. Returns whether every entry was written. */
static bool report(logbus_t *lb, const char *name, const struct cat_options *o, uint64_t refused,
		   const struct logbus_stats *st, int flushed)
{
	const char *fallback = getenv("LOGBUS_FALLBACK");
	uint64_t dropped = st->dropped_full + st->dropped_too_large + st->dropped_no_lane +
			   st->dropped_fallback;
	char why[512];

	if (refused) {
		fprintf(stderr, "logbus-cat: %llu lines refused: tag '%s' or a field key is not valid\n",
			(unsigned long long)refused, o->tag);
		return false;
	}
	if (!st->fallback && !dropped && flushed == 0)
		return true;
	if (st->dropped_no_lane) {
		report_refusal(lb, name, st);
		return false;
	}
	if (st->dropped_too_large)
		snprintf(why, sizeof(why), "%llu lines were larger than the bus takes",
			 (unsigned long long)st->dropped_too_large);
	else if (st->dropped_full && !st->fallback && flushed == 0)
		snprintf(why, sizeof(why), "the lane was full (without --drop, logbus-cat waits for room)");
	else if (st->dropped_full && !st->fallback) {
		int n = snprintf(why, sizeof(why), "the lane was full, and ");
		bus_diagnose(name, false, why + n, sizeof(why) - (size_t)n);
	} else
		bus_diagnose(name, st->fallback != 0, why, sizeof(why));
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
	FILE *in = stdin;
	int status = 0;
	logbus_t *lb;
	bool command, ok;
	int r;

	if (parse_args(argc, argv, &o, &command) < 0)
		return 2;
	if (o.file && !(in = fopen(o.file, "re"))) {
		fprintf(stderr, "logbus-cat: -f: cannot open '%s': %s\n", o.file, strerror(errno));
		return 2;
	}
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
	if (command) {
		status = cat_run_command(lb, &o, argv + optind, &refused);
	} else {
		cat_id_set(&o, getpid());
		if (optind < argc)
			status = publish_message(lb, &o, argc - optind, argv + optind, &refused) < 0;
		else
			status = publish_lines(lb, &o, in, o.file ? o.file : "standard input",
					       &refused) < 0;
	}
	if (in != stdin)
		fclose(in);
	r = logbus_flush(lb, FLUSH_TIMEOUT_MS);
	(void)logbus_stats_get(lb, &st);
	ok = report(lb, name, &o, refused, &st, r);
	logbus_close(lb);
	return command ? status : ok && !status ? 0 : 1;
}
