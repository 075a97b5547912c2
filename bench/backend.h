/* SPDX-License-Identifier: MIT */
/*
 * The loggers a benchmark can drive through one interface: logbus and the
 * alternatives it is compared with (fprintf+fflush, syslog(3),
 * sd_journal_send, spdlog's async logger, LTTng-UST). Each process opens
 * its own context; threads of a process share it.
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where a backend sends its entries. */
struct backend_args {
	const char *bus;        /* logbus: the bus name */
	const char *path;       /* fprintf, spdlog: the output file */
	const char *socket;     /* syslog: the rsyslogd socket seen as /dev/log */
	unsigned fields;        /* logbus: key/value fields per entry */
};

#define BENCH_FIELDS_MAX 16

struct backend {
	const char *name;
	/* open - a context for this process, or NULL with errno set. */
	void *(*open)(const struct backend_args *a);
	/* log - one entry at info level: 0, or -errno when it was dropped. */
	int (*log)(void *ctx, const char *msg, size_t len);
	/* sync - wait until what this process logged is out (may be NULL). */
	int (*sync)(void *ctx);
	void (*close)(void *ctx);
};

extern const struct backend backend_logbus, backend_fprintf, backend_syslog,
	backend_journald, backend_spdlog, backend_lttng;

#ifdef __cplusplus
}
#endif
