/* SPDX-License-Identifier: MIT */
/* The C backends of the benchmarks: logbus, and the alternatives a C
 * program would otherwise use (fprintf+fflush, syslog(3), journald). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "backend.h"
#include "logbus.h"

/* A process's handle, and the fields each of its entries carries (the
 * keys all different: publishv checks them for duplicates). */
struct logbus_ctx {
	logbus_t *lb;
	size_t nfields;
	struct logbus_field fields[BENCH_FIELDS_MAX];
	char keys[BENCH_FIELDS_MAX][8];
};

static void *logbus_open_ctx(const struct backend_args *a)
{
	struct logbus_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nfields = a->fields < BENCH_FIELDS_MAX ? a->fields : BENCH_FIELDS_MAX;
	for (size_t i = 0; i < c->nfields; i++) {
		snprintf(c->keys[i], sizeof(c->keys[i]), "key%zu", i);
		c->fields[i] = (struct logbus_field){ c->keys[i], "field value", 11 };
	}
	if (!(c->lb = logbus_open(a->bus))) {
		free(c);
		return NULL;
	}
	return c;
}

static int logbus_log(void *ctx, const char *msg, size_t len)
{
	struct logbus_ctx *c = ctx;

	if (!c->nfields)
		return logbus_publish(c->lb, LOGBUS_INFO, "bench", msg, len);
	return logbus_publishv(c->lb, LOGBUS_INFO, "bench", msg, len, c->fields, c->nfields);
}

static int logbus_sync(void *ctx)
{
	return logbus_flush(((struct logbus_ctx *)ctx)->lb, 30000);
}

static void logbus_close_ctx(void *ctx)
{
	struct logbus_ctx *c = ctx;

	logbus_close(c->lb);
	free(c);
}

const struct backend backend_logbus = {
	.name = "logbus", .open = logbus_open_ctx, .log = logbus_log,
	.sync = logbus_sync, .close = logbus_close_ctx,
};

/* fprintf+fflush: the synchronous logger of the program logbus replaces,
 * with the time stamp, level and tag a logger writes. */
static void *stdio_open(const struct backend_args *a)
{
	return fopen(a->path, "ae");
}

static int stdio_log(void *ctx, const char *msg, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (fprintf(ctx, "%lld.%09ld info bench[%d]: %.*s\n", (long long)ts.tv_sec, ts.tv_nsec,
		    (int)getpid(), (int)len, msg) < 0 || fflush(ctx))
		return -EIO;
	return 0;
}

static void stdio_close(void *ctx)
{
	fclose(ctx);
}

const struct backend backend_fprintf = {
	.name = "fprintf", .open = stdio_open, .log = stdio_log, .close = stdio_close,
};

/*
 * syslog(3) always sends to /dev/log. To reach the benchmark's own rsyslogd
 * without touching the machine's /dev, the process moves to a mount
 * namespace of its own where /dev is a tmpfs holding only the link
 * /dev/log -> the rsyslogd socket. Needs root (CAP_SYS_ADMIN).
 */
static int private_dev_log(const char *socket)
{
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/dev", "tmpfs", 0, "size=64k") < 0 || symlink(socket, "/dev/log") < 0)
		return -errno;
	return 0;
}

static void *syslog_open(const struct backend_args *a)
{
	static int token;
	int r;

	if (a->socket && (r = private_dev_log(a->socket)) < 0) {
		errno = -r;
		return NULL;
	}
	openlog("bench", LOG_PID | LOG_NDELAY, LOG_USER);
	return &token;
}

static int syslog_log(void *ctx, const char *msg, size_t len)
{
	(void)ctx;
	syslog(LOG_INFO, "%.*s", (int)len, msg);
	return 0;
}

static void syslog_close(void *ctx)
{
	(void)ctx;
	closelog();
}

const struct backend backend_syslog = {
	.name = "syslog", .open = syslog_open, .log = syslog_log, .close = syslog_close,
};

static void *journald_open(const struct backend_args *a)
{
	static int token;

	(void)a;
	return &token;
}

static int journald_log(void *ctx, const char *msg, size_t len)
{
	(void)ctx;
	return sd_journal_send("MESSAGE=%.*s", (int)len, msg, "PRIORITY=6",
			       "SYSLOG_IDENTIFIER=logbus-bench", NULL);
}

static void journald_close(void *ctx)
{
	(void)ctx;
}

const struct backend backend_journald = {
	.name = "journald", .open = journald_open, .log = journald_log, .close = journald_close,
};
