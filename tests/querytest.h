/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the logbus-query tests: run the tool and capture what it
 * printed and how it exited; the entries a test expects, picked with its
 * own code from the writer's files (read by outfiles.c). Every helper
 * asserts (cmocka).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct qrun {
	int status;        /* exit status */
	char *out, *err;   /* stdout and stderr, NUL-terminated */
	size_t out_len;
};

/* querytest_run - run logbus-query with the arguments (NULL-terminated)
 * in TZ=UTC, NO_COLOR unset, stdout and stderr to files; wait for it. */
void querytest_run(struct qrun *r, ...) __attribute__((sentinel));

/* querytest_runv - querytest_run with an argument vector; env (may be
 * NULL) is "NAME=VALUE" strings set first. */
void querytest_runv(struct qrun *r, const char *const *args, const char *const *env);

/* querytest_free - release what querytest_run captured. */
void querytest_free(struct qrun *r);

/* querytest_lines - the output split into lines (without newlines), as a
 * JSON array of strings. */
json_t *querytest_lines(const struct qrun *r);

/* querytest_parse_lines - each output line parsed as JSON. */
json_t *querytest_parse_lines(const struct qrun *r);

/* querytest_spawn - start logbus-query with the arguments, stdout to a
 * pipe whose read end goes to *out_fd; not waited for. */
pid_t querytest_spawn(const char *const *args, int *out_fd);

/* querytest_read_lines - read lines from fd into the JSON array lines
 * (each parsed as JSON) until it holds want, failing the test when that
 * takes more than 30 s (a hang, not a speed limit). */
void querytest_read_lines(int fd, json_t *lines, size_t want);

/* querytest_same_entries - assert that got and want are the same JSON
 * values in the same order; names the first difference. */
void querytest_same_entries(json_t *got, json_t *want, const char *what);

/* querytest_contains - assert that haystack holds needle. */
void querytest_contains(const char *haystack, const char *needle);
