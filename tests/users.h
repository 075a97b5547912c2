/* SPDX-License-Identifier: MIT */
/*
 * Test users: system users the isolation tests create and run code as, so
 * that a client of one uid meets a client of another, as on a real
 * machine. Creating users and becoming them needs root (as the tests run
 * in CI); users_available says whether this process can. Every helper
 * asserts (cmocka), except in the children, which report through their
 * exit status.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* The test users, each with a group of its own name. */
#define USERS_VICTIM "logbus-t-victim"
#define USERS_HOSTILE "logbus-t-hostile"
#define USERS_DENIED "logbus-t-denied"

struct test_user {
	char name[32];
	uid_t uid;
	gid_t gid;   /* its own group, its only one */
};

/* users_available - whether this process can create users and become
 * them (it runs as root). */
bool users_available(void);

/*
 * users_get - the system user name with a group of the same name, made
 * first when missing (groupadd -r, useradd -r: no home, no login shell),
 * into *u. Safe when several tests make the same user at once.
 */
void users_get(const char *name, struct test_user *u);

/*
 * users_become - the calling process drops to u for good: setgroups (u's
 * group only), setgid, setuid, in that order, each checked, then checks
 * that root cannot be regained. It stays dumpable, as a program u started
 * would be (its /proc files are u's), and keeps the parent-death signal
 * (which the kernel clears at a change of credentials). For a forked
 * child; returns 0 or a negative errno after printing what failed.
 */
int users_become(const struct test_user *u);

/*
 * users_fork - fork a child (harness_fork) that becomes u and exits with
 * fn(arg), or 126 when it could not become u. Returns its pid.
 */
typedef int (*users_fn)(void *arg);
pid_t users_fork(const struct test_user *u, users_fn fn, void *arg);

/*
 * users_spawn - fork a child that becomes u (NULL: stays as it is) and
 * runs argv (execv, argv[0] a path), its stderr into the file err_path
 * when not NULL; it exits 126 when it could not become u, 127 when argv
 * could not be run (one line on stderr says why). Returns its pid.
 */
pid_t users_spawn(const struct test_user *u, const char *const *argv, const char *err_path);

/* users_run - users_spawn, then its exit status (fails the test when it
 * did not exit). */
int users_run(const struct test_user *u, const char *const *argv, const char *err_path);

/*
 * users_cat - run logbus-cat (the binary under test) as u (NULL: as the
 * test) on bus with the arguments args (NULL-terminated), its stderr into
 * the file err_path when not NULL; returns its exit status.
 */
int users_cat(const struct test_user *u, const char *bus, const char *const *args,
	      const char *err_path);
