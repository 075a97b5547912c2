/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the hook tests: a writer started with a configuration that
 * holds a "hooks" array, its stderr kept in a file so that the counters it
 * prints per hook at stop can be read back, and the test hooks' paths.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

struct hooktest {
	struct harness h;
	char config[320];
	char log[320];
};

/* The counters the writer prints for one hook when it stops. */
struct hooktest_metrics {
	uint64_t matched, calls, ok, dropped, rewritten, errors, timeouts, queue_drops, restarts;
};

/* hooktest_init - pick t's bus, directory, configuration and log names. */
void hooktest_init(struct hooktest *t, const char *name);

/* hooktest_config - write {"hooks": hooks} as t's configuration; returns
 * its path. */
const char *hooktest_config(struct hooktest *t, const char *hooks);

/* hooktest_start - write the configuration, then start a writer on a
 * small bus with it, its stderr going to t->log. */
void hooktest_start(struct hooktest *t, const char *hooks);

/* hooktest_metrics - the counters of hook name in the log of a stopped
 * writer; asserts they are there. */
struct hooktest_metrics hooktest_metrics(const struct hooktest *t, const char *name);

/* hooktest_expect - assert that hook name's counters are exactly want,
 * printing both sets when not. */
void hooktest_expect(const struct hooktest *t, const char *name,
		     const struct hooktest_metrics *want);

/* hooktest_fini - stop what runs, remove the bus, directory and files. */
void hooktest_fini(struct hooktest *t);

/* hooktest_path - $LOGBUS_TEST_HOOKS/file (the test hooks' build folder),
 * in a buffer of the caller's. */
const char *hooktest_path(char *buf, size_t cap, const char *file);

/* hooktest_file - t's directory/file, in a buffer of the caller's. */
const char *hooktest_file(const struct hooktest *t, char *buf, size_t cap, const char *file);

/* hooktest_wait_lines - wait (up to 20 s) until path holds at least n lines;
 * returns how many it holds. */
size_t hooktest_wait_lines(const char *path, size_t n);

/* hooktest_read - the whole file, NUL-terminated; the caller frees it. */
char *hooktest_read(const char *path, size_t *len);
