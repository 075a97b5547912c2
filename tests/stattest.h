/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the stats and monitor tests: run logbus-stat and read its
 * JSON, wait for a counter, and publish from a child process with a
 * program name of its own.
 */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

/* stattest_stat_path, stattest_top_path - the binaries under test. */
const char *stattest_stat_path(void);
const char *stattest_top_path(void);

/* stattest_run - run the shell command made from fmt; returns its stdout
 * (the caller frees it) with *status its exit status (-1: killed). */
char *stattest_run(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* stattest_json - `logbus-stat --json` of bus, asserting exit status
 * status and valid JSON. The caller json_decref()s it. */
json_t *stattest_json(const char *bus, int status);

/* stattest_get - the integer at a dotted path ("totals.written"). */
json_int_t stattest_get(json_t *j, const char *path);

/* stattest_wait - read the stats until the integer at path is want (10 s
 * at most, else the test fails); returns that JSON. */
json_t *stattest_wait(const char *bus, const char *path, json_int_t want);

/* stattest_client - the clients[] entry of pid, or NULL. */
json_t *stattest_client(json_t *j, pid_t pid);

/* stattest_wait_client - read the stats until clients[] holds pid with
 * written at least min_written (10 s at most); returns that JSON. */
json_t *stattest_wait_client(const char *bus, pid_t pid, json_int_t min_written);

/*
 * stattest_spawn_publisher - fork a client named name (its program name,
 * as the monitor shows it) that publishes burst entries every period_ms on
 * bus until killed. Returns its pid.
 */
pid_t stattest_spawn_publisher(const char *bus, const char *name, int burst, int period_ms);

/* stattest_kill - SIGKILL pid and reap it. */
void stattest_kill(pid_t pid);
