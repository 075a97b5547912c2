/* SPDX-License-Identifier: MIT */
/*
 * Test harness: a writer on a private bus in a private directory, and the
 * entries it wrote, read back with jansson. Every helper asserts (cmocka)
 * instead of returning errors, so tests stay short.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lane.h"
#include "registry.h"

struct harness {
	char bus[64];
	char dir[256];
	pid_t writer;
};

/* harness_init - pick a bus name and a directory unique to this test run;
 * starts nothing. */
void harness_init(struct harness *h, const char *test);

/* harness_fork - fork(), asserting; the child is SIGKILLed when the test
 * process dies, so that a failed test leaves nothing running. */
pid_t harness_fork(void);

/* harness_start_writer - run logbus-writer on the bus with extra
 * arguments (NULL-terminated, may be NULL) and wait until it drains. */
void harness_start_writer(struct harness *h, const char *const *extra);

/* harness_stop_writer - SIGTERM, and assert it drained and exited 0. */
void harness_stop_writer(struct harness *h);

/* harness_kill_writer - SIGKILL, as a crash. */
void harness_kill_writer(struct harness *h);

/* harness_fini - stop the writer if it runs, remove the bus and the
 * directory. */
void harness_fini(struct harness *h);

/* harness_new - harness_init into a new allocation, for a cmocka setup;
 * harness_teardown is the matching teardown: it runs harness_fini even
 * when the test failed half-way, so no writer or bus is left behind. */
struct harness *harness_new(const char *test);
int harness_teardown(void **state);

/* harness_entries - every line of every *.jsonl file in the directory, in
 * file-name then line order, as a JSON array; asserts every line is valid
 * JSON (NUL escapes allowed). The caller json_decref()s it. */
json_t *harness_entries(const struct harness *h);

/* harness_each_entry - as harness_entries, but hands each entry to fn
 * in turn and keeps none: for outputs too large to hold at once. */
typedef void (*harness_entry_fn)(json_t *entry, void *ctx);
void harness_each_entry(const struct harness *h, harness_entry_fn fn, void *ctx);

/* harness_each_line - every line of the JSON-lines file path, checked as
 * harness_entries checks them, handed to fn in turn (a fallback file). */
void harness_each_line(const char *path, harness_entry_fn fn, void *ctx);

/* harness_tagged - the entries of harness_entries whose tag is tag, in
 * the same order. The caller json_decref()s them. */
json_t *harness_tagged(const struct harness *h, const char *tag);

/* harness_entry_str - the string member key of entry i of the array
 * entries ("fields.K" for the field K), NULL when it has none; fails the
 * test when there is no entry i. */
const char *harness_entry_str(json_t *entries, size_t i, const char *key);

/* harness_expect_str - assert that harness_entry_str(entries, i, key) is
 * want, printing both when not. */
void harness_expect_str(json_t *entries, size_t i, const char *key, const char *want);

/* harness_append - a harness_entry_fn that appends each entry to the JSON
 * array ctx. */
void harness_append(json_t *entry, void *array);

/* harness_wait_pid - waitpid, asserting the child exited with status. */
void harness_wait_exit(pid_t pid, int status);

/* harness_writer_path - the logbus-writer binary under test. */
const char *harness_writer_path(void);

/* harness_shared - size bytes of zeroed MAP_SHARED memory, for counters a
 * test shares with the processes it forks. Never unmapped. */
void *harness_shared(size_t size);

/* A lane slot as the writer's registry tells it (the tests run as the
 * writer's user, root), with its lane file's positions when it has one. */
struct harness_lane {
	uint32_t state;    /* enum lb_slot_state (shm/registry.h) */
	uint32_t pid;      /* its client, attested */
	uint32_t tid;
	uint64_t grant;
	uint64_t head, tail;
	bool blocked;      /* a publisher or flush sleeps for room */
};

/* harness_lanes - each lane slot of the bus into out (at most max);
 * returns the bus's lane count. */
unsigned harness_lanes(const struct harness *h, struct harness_lane *out, unsigned max);

/* harness_grants - how many lanes the registrar granted on the bus, all
 * writers together. */
uint64_t harness_grants(const struct harness *h);

/* A lane taken with the raw registration protocol (shm/register.h), for
 * tests that write into a lane what liblogbus never would. */
struct harness_raw_lane {
	int sock;            /* the connection that holds it */
	uint32_t slot;
	uint64_t grant;
	struct lb_lane_map map;
	struct lb_producer prod;
};

/* harness_raw_connect - a connection to the bus's registrar; fails the
 * test when there is none. */
int harness_raw_connect(const struct harness *h);

/* harness_raw_lane - ask the registrar for a lane on connection sock
 * (harness_raw_connect) and map it. Returns 0, or the refusal's negative
 * errno with its text in why (when not NULL, LB_REG_TEXT_MAX bytes). */
int harness_raw_lane(const struct harness *h, int sock, struct harness_raw_lane *l, char *why);

/* harness_raw_release - send RELEASE for l and unmap it; the connection
 * stays open. */
void harness_raw_release(struct harness_raw_lane *l);

/* harness_free_lanes - how many lane slots of the bus are free. */
unsigned harness_free_lanes(const struct harness *h);

/* harness_wait_free_lanes - wait until at least n lanes are free; fails
 * the test when they are not within 10 s. */
void harness_wait_free_lanes(const struct harness *h, unsigned n);

/* harness_sleep_us - sleep us microseconds. */
void harness_sleep_us(long us);

/* harness_paced - for a forked child: publish the messages "0" .. total-1
 * with tag on bus at rate entries per second, retrying each millisecond an
 * entry a full lane refused, with *progress (NULL: none) the count
 * published so far; then close the handle and _exit(0) (2: no handle, 3: a
 * publish failed). */
_Noreturn void harness_paced(const char *bus, const char *tag, int total, int rate,
			     volatile int *progress);

/* This process as the writer's registrar attests it: the effective uid and
 * gid (SO_PEERCRED's), /proc/self/comm and /proc/self/exe. */
struct harness_self {
	unsigned uid, gid;
	char comm[16];
	char exe[256];
};

/* harness_self - fill s for the calling process; fails the test when
 * /proc does not say. */
void harness_self(struct harness_self *s);
