/* SPDX-License-Identifier: MIT */
/* Description: the examples in examples/ work as their comments say. Each
 * runs against a writer on a private bus and its entries land: the plain
 * C client's three, the multi-process client's from every child and
 * thread (each child with a handle of its own), the filter plugin's verdicts (debug dropped, the others
 * stamped), the Python client's two, and the systemd drop-in's ExecStart
 * line with the service's stdout and stderr at their levels and its exit
 * status (and the drop-in passes systemd-analyze verify where there is
 * one). */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static const char *env_path(const char *name)
{
	const char *p = getenv(name);

	if (!p)
		fail_msg("$%s is not set (meson sets it)", name);
	return p;
}

/* Run "sh -c cmd" with LOGBUS_BUS set to the harness's bus; returns its
 * exit status. */
static int run(const struct harness *h, const char *cmd)
{
	pid_t pid = harness_fork();
	int st;

	if (pid == 0) {
		setenv("LOGBUS_BUS", h->bus, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st))
		fail_msg("'%s' did not exit: status 0x%x", cmd, st);
	return WEXITSTATUS(st);
}

/* The entries tagged tag, once the writer has stopped. */
static json_t *tagged(struct harness *h, const char *tag)
{
	harness_stop_writer(h);
	return harness_tagged(h, tag);
}

/* examples/hello.c: its three entries, in order, exit 0; with the writer
 * stopped it exits 1 (its flush times out). */
static void test_example_hello(void **state)
{
	struct harness *h = *state;
	char cmd[600];
	json_t *e;

	snprintf(cmd, sizeof(cmd), "%s/logbus-hello", env_path("LOGBUS_TEST_EXAMPLES"));
	harness_start_writer(h, NULL);
	assert_int_equal(run(h, cmd), 0);
	e = tagged(h, "hello");
	assert_int_equal(json_array_size(e), 3);
	harness_expect_str(e, 0, "msg", "hello from logbus-hello");
	harness_expect_str(e, 1, "level", "warning");
	harness_expect_str(e, 1, "fields.user", "bob");
	harness_expect_str(e, 2, "msg", "2 entries so far");
	json_decref(e);

	snprintf(cmd, sizeof(cmd), "%s/logbus-hello 2>/dev/null", env_path("LOGBUS_TEST_EXAMPLES"));
	assert_int_equal(run(h, cmd), 1);
}

/* examples/multiprocess.c: 3 children x 4 threads x (150 entries + 2
 * progress entries), from 3 distinct pids, none the parent's; exit 0. */
static void test_example_multiprocess(void **state)
{
	struct harness *h = *state;
	char cmd[600];
	pid_t pids[3] = { 0 };
	json_t *e, *x;
	size_t i;

	snprintf(cmd, sizeof(cmd), "%s/logbus-demo 150 3", env_path("LOGBUS_TEST_EXAMPLES"));
	harness_start_writer(h, NULL);
	assert_int_equal(run(h, cmd), 0);
	e = tagged(h, "demo");
	assert_int_equal(json_array_size(e), 3 * 4 * (150 + 2));
	json_array_foreach(e, i, x) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(x, "pid"));
		int k = 0;
		while (k < 3 && pids[k] && pids[k] != pid)
			k++;
		if (k == 3)
			fail_msg("entry %zu comes from a fourth process, pid %d", i, (int)pid);
		pids[k] = pid;
	}
	assert_true(pids[0] && pids[1] && pids[2]);
	json_decref(e);
}

/* examples/filter.c as a writer's filter hook: debug entries dropped,
 * the others stamped with its configuration's "by". */
static void test_example_filter(void **state)
{
	struct harness *h = *state;
	char conf[300], cmd[900];
	json_t *e;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s.json", h->dir);
	f = fopen(conf, "we");
	assert_non_null(f);
	fprintf(f, "{\"hooks\": [{\"name\": \"review\", \"type\": \"filter\", "
		"\"plugin\": \"%s/example-filter.so\", \"config\": {\"by\": \"ops\"}}]}\n",
		env_path("LOGBUS_TEST_EXAMPLES"));
	assert_int_equal(fclose(f), 0);
	harness_start_writer(h, (const char *const[]){ "--config", conf, NULL });
	snprintf(cmd, sizeof(cmd), "c=%s; $c -t rev -p debug hidden && $c -t rev kept && "
		 "$c -t rev -p err also", env_path("LOGBUS_TEST_CAT"));
	assert_int_equal(run(h, cmd), 0);
	e = tagged(h, "rev");
	assert_int_equal(json_array_size(e), 2);
	harness_expect_str(e, 0, "msg", "kept");
	harness_expect_str(e, 0, "fields.reviewed", "ops");
	harness_expect_str(e, 1, "msg", "also");
	harness_expect_str(e, 1, "fields.reviewed", "ops");
	json_decref(e);
	assert_int_equal(unlink(conf), 0);
}

/* examples/client.py: its Bus entry and its logging entry, exit 0. */
static void test_example_python(void **state)
{
	struct harness *h = *state;
	char cmd[1200];
	json_t *e;

	snprintf(cmd, sizeof(cmd), "env %s PYTHONPATH=%s PYTHONDONTWRITEBYTECODE=1 %s %s/client.py",
		 env_path("LOGBUS_TEST_PYTHON_ENV"), env_path("LOGBUS_TEST_PYTHONPATH"),
		 env_path("LOGBUS_TEST_PYTHON"), env_path("LOGBUS_TEST_EXAMPLES_SRC"));
	harness_start_writer(h, NULL);
	assert_int_equal(run(h, cmd), 0);
	e = tagged(h, "pyclient");
	assert_int_equal(json_array_size(e), 2);
	harness_expect_str(e, 0, "msg", "hello from Python");
	harness_expect_str(e, 0, "fields.user", "bob");
	harness_expect_str(e, 1, "msg", "slow request");
	harness_expect_str(e, 1, "level", "warning");
	harness_expect_str(e, 1, "fields.path", "/login");
	json_decref(e);
}

/* The drop-in's path. */
static void dropin_path(char *path, size_t cap)
{
	snprintf(path, cap, "%s/myapp.service.d/logbus.conf", env_path("LOGBUS_TEST_EXAMPLES_SRC"));
}

/* The drop-in's last ExecStart= line, with /usr/bin/logbus-cat replaced
 * by the one under test and the program /usr/bin/myapp by app, into cmd
 * (a shell command: the line has no quoting of systemd's own). Asserts
 * that it has an Environment=LOGBUS_BUS= too. */
static void dropin_command(const char *app, char *cmd, size_t cap)
{
	static const char cat[] = "/usr/bin/logbus-cat ", prog[] = " -- /usr/bin/myapp";
	char path[600], line[1024], exec[1024] = "";
	bool env = false;
	char *p;
	FILE *f;

	dropin_path(path, sizeof(path));
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "ExecStart=", 10) && line[10])
			snprintf(exec, sizeof(exec), "%s", line + 10);
		env |= !strncmp(line, "Environment=LOGBUS_BUS=", 23);
	}
	fclose(f);
	p = strstr(exec, prog);
	if (strncmp(exec, cat, strlen(cat)) || !p)
		fail_msg("the drop-in's ExecStart is '%s', want %s... %s ...", exec, cat, prog);
	if (!env)
		fail_msg("the drop-in has no Environment=LOGBUS_BUS=");
	*p = '\0';
	snprintf(cmd, cap, "%s %s -- %s%s", env_path("LOGBUS_TEST_CAT"), exec + strlen(cat), app,
		 p + strlen(prog));
}

/* Write the stand-in for the service's program: its arguments on stdout,
 * a warning on stderr, exit 3. */
static void write_app(const char *path)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs("#!/bin/sh\necho \"serving $*\"\necho 'disk almost full' >&2\nexit 3\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

/* examples/myapp.service.d/logbus.conf: its ExecStart line logs the
 * program's stdout at info and stderr at err, tagged myapp, and exits with
 * the program's status. */
static void test_example_dropin(void **state)
{
	struct harness *h = *state;
	char app[300], cmd[2048];
	json_t *e;

	snprintf(app, sizeof(app), "%s.myapp", h->dir);
	write_app(app);
	dropin_command(app, cmd, sizeof(cmd));
	/* The bus is the harness's (run() sets it), not the drop-in's. */
	harness_start_writer(h, NULL);
	assert_int_equal(run(h, cmd), 3);
	e = tagged(h, "myapp");
	assert_int_equal(json_array_size(e), 2);
	for (size_t i = 0; i < 2; i++)
		if (!strcmp(harness_entry_str(e, i, "level"), "info")) {
			harness_expect_str(e, i, "msg", "serving --serve");
		} else {
			harness_expect_str(e, i, "msg", "disk almost full");
			harness_expect_str(e, i, "level", "err");
		}
	json_decref(e);
	assert_int_equal(unlink(app), 0);
}

/* The drop-in, over a minimal myapp.service, passes systemd-analyze
 * verify with nothing to say, its paths pointing at the logbus-cat under
 * test and a program that exists. Skipped without systemd-analyze, but
 * under CI=true that fails. */
static void test_example_dropin_verify(void **state)
{
	struct harness *h = *state;
	char units[300], path[700], cmd[2400], line[1024], src[600];
	FILE *in, *out;

	if (access("/usr/bin/systemd-analyze", X_OK) != 0) {
		if (getenv("CI") && !strcmp(getenv("CI"), "true"))
			fail_msg("systemd-analyze is missing (scripts/deps.sh installs systemd)");
		skip();
	}
	snprintf(units, sizeof(units), "%s.units", h->dir);
	snprintf(path, sizeof(path), "%s/myapp.service.d", units);
	assert_int_equal(mkdir(units, 0755), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/myapp.service", units);
	out = fopen(path, "we");
	assert_non_null(out);
	fputs("[Unit]\nDescription=the service of the example drop-in\n"
	      "[Service]\nExecStart=/bin/true\n", out);
	assert_int_equal(fclose(out), 0);
	dropin_path(src, sizeof(src));
	in = fopen(src, "re");
	snprintf(path, sizeof(path), "%s/myapp.service.d/logbus.conf", units);
	out = fopen(path, "we");
	assert_non_null(in);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in)) {
		char *cat = strstr(line, "/usr/bin/logbus-cat"), *app = strstr(line, "/usr/bin/myapp");
		if (!cat || !app) {
			fputs(line, out);
			continue;
		}
		*cat = *app = '\0';
		fprintf(out, "%s%s%s/bin/echo%s", line, env_path("LOGBUS_TEST_CAT"),
			cat + strlen("/usr/bin/logbus-cat"), app + strlen("/usr/bin/myapp"));
	}
	fclose(in);
	assert_int_equal(fclose(out), 0);
	snprintf(cmd, sizeof(cmd), "out=$(SYSTEMD_UNIT_PATH=%s: systemd-analyze verify "
		 "%s/myapp.service 2>&1); rc=$?; printf '%%s\\n' \"$out\" >%s.verify; "
		 "[ $rc -eq 0 ] && [ -z \"$out\" ]", units, units, units);
	if (run(h, cmd) != 0)
		fail_msg("systemd-analyze verify found problems in the drop-in (see %s.verify)", units);
	snprintf(cmd, sizeof(cmd), "rm -r %s %s.verify", units, units);
	assert_int_equal(run(h, cmd), 0);
}

static int setup(void **state)
{
	*state = harness_new("examples");
	return 0;
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_example_hello),
		TEST(test_example_multiprocess),
		TEST(test_example_filter),
		TEST(test_example_python),
		TEST(test_example_dropin),
		TEST(test_example_dropin_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
