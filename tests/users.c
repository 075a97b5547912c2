/* SPDX-License-Identifier: MIT */
/* Test users: made once as system users, and become in forked children. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "users.h"

bool users_available(void)
{
	return geteuid() == 0;
}

/* In a child: descriptor 1 (when out) and 2 into the file path. Not
 * freopen: that would flush the parent's buffered output a second time. */
static int redirect(const char *path, bool out)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || (out && dup2(fd, STDOUT_FILENO) < 0) || dup2(fd, STDERR_FILENO) < 0)
		return -1;
	close(fd);
	return 0;
}

/* Run argv (execvp) quietly; its exit status, or -1 when it did not exit. */
static int run_tool(const char *const *argv)
{
	pid_t pid = harness_fork();
	int st;

	if (pid == 0) {
		if (redirect("/dev/null", true) < 0)
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Whether name exists as a user whose primary group is the group name;
 * fills u when it does. */
static bool lookup(const char *name, struct test_user *u)
{
	struct passwd *pw = getpwnam(name);
	struct group *gr = getgrnam(name);

	if (!pw || !gr || pw->pw_gid != gr->gr_gid)
		return false;
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->uid = pw->pw_uid;
	u->gid = gr->gr_gid;
	return true;
}

void users_get(const char *name, struct test_user *u)
{
	const char *const groupadd[] = { "groupadd", "-r", "-f", name, NULL };
	const char *const useradd[] = { "useradd", "-r", "-M", "-N", "-g", name, "-d", "/nonexistent",
					"-s", "/usr/sbin/nologin", "-c", "logbus test user", name,
					NULL };
	int group_st = 0, user_st = 0;

	assert_true(users_available());
	/* Another test may be making the same user, or holding the lock on
	 * /etc/passwd for another one: try again until the user is there. */
	for (int i = 0; i < 100 && !lookup(name, u); i++) {
		if (!getgrnam(name))
			group_st = run_tool(groupadd);
		if (getgrnam(name) && !getpwnam(name))
			user_st = run_tool(useradd);
		if (!lookup(name, u))
			harness_sleep_us(50000);
	}
	if (!lookup(name, u))
		fail_msg("cannot make the test user '%s': groupadd exited %d, useradd %d "
			 "(an existing user of that name must have the group '%s' as its own)",
			 name, group_st, user_st, name);
}

int users_become(const struct test_user *u)
{
	pid_t parent = getppid();

	if (setgroups(1, &u->gid) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0) {
		int e = errno;
		fprintf(stderr, "users: cannot become %s (uid %u): %s\n", u->name, (unsigned)u->uid,
			strerror(e));
		return -e;
	}
	if (getuid() != u->uid || geteuid() != u->uid || getgid() != u->gid ||
	    getegid() != u->gid || setuid(0) == 0) {
		fprintf(stderr, "users: %s: the credentials did not change for good\n", u->name);
		return -EPERM;
	}
	/* A change of credentials makes the process undumpable (its /proc
	 * files root's) and clears the parent-death signal: restore both, so
	 * that it is what u would have started, and dies with the test. */
	if (prctl(PR_SET_DUMPABLE, 1) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    getppid() != parent) {
		fprintf(stderr, "users: %s: prctl: %s\n", u->name, strerror(errno));
		return -EPERM;
	}
	return 0;
}

pid_t users_fork(const struct test_user *u, users_fn fn, void *arg)
{
	pid_t pid = harness_fork();

	if (pid == 0)
		_exit(users_become(u) < 0 ? 126 : fn(arg));
	return pid;
}

pid_t users_spawn(const struct test_user *u, const char *const *argv, const char *err_path)
{
	pid_t pid = harness_fork();

	if (pid == 0) {
		if (err_path && redirect(err_path, false) < 0)
			_exit(126);
		if (u && users_become(u) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "users: cannot run %s as %s: %s\n", argv[0],
			u ? u->name : "the test's user", strerror(errno));
		_exit(127);
	}
	return pid;
}

int users_run(const struct test_user *u, const char *const *argv, const char *err_path)
{
	pid_t pid = users_spawn(u, argv, err_path);
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st))
		fail_msg("'%s' did not exit: status 0x%x", argv[0], st);
	return WEXITSTATUS(st);
}

int users_cat(const struct test_user *u, const char *bus, const char *const *args,
	      const char *err_path)
{
	const char *argv[32] = { getenv("LOGBUS_TEST_CAT"), "-b", bus };
	size_t n = 3;

	assert_non_null(argv[0]);
	for (; *args; args++) {
		assert_true(n < 31);
		argv[n++] = *args;
	}
	argv[n] = NULL;
	return users_run(u, argv, err_path);
}
