/* SPDX-License-Identifier: MIT */
/* Helpers of the stats and monitor tests: logbus-stat's JSON, waiting for
 * a counter, publisher processes with names of their own. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"
#include "stattest.h"

const char *stattest_stat_path(void)
{
	const char *p = getenv("LOGBUS_TEST_STAT");
	return p ? p : "logbus-stat";
}

const char *stattest_top_path(void)
{
	const char *p = getenv("LOGBUS_TEST_TOP");
	return p ? p : "logbus-top";
}

char *stattest_run(int *status, const char *fmt, ...)
{
	char cmd[2048], *out = NULL;
	size_t len = 0;
	va_list ap;
	FILE *f, *mem;
	int c, st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	mem = open_memstream(&out, &len);
	f = popen(cmd, "re");
	assert_non_null(mem);
	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		fputc(c, mem);
	st = pclose(f);
	fclose(mem);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

json_t *stattest_json(const char *bus, int status)
{
	json_error_t err;
	int st;
	char *out = stattest_run(&st, "%s --bus %s --json", stattest_stat_path(), bus);
	json_t *j = json_loads(out, 0, &err);

	if (st != status)
		fail_msg("logbus-stat --json exited %d, expected %d; output: %s", st, status, out);
	if (!j)
		fail_msg("logbus-stat --json printed invalid JSON (%s): %s", err.text, out);
	free(out);
	return j;
}

json_int_t stattest_get(json_t *j, const char *path)
{
	const char *full = path;
	char key[64];

	while (j && *path) {
		size_t n = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		j = json_object_get(j, key);
		path += n + (path[n] == '.');
	}
	if (!json_is_integer(j))
		fail_msg("no integer at %s", full);
	return json_integer_value(j);
}

json_t *stattest_wait(const char *bus, const char *path, json_int_t want)
{
	json_int_t got = -1;

	for (int i = 0; i < 200; i++) {
		json_t *j = stattest_json(bus, 0);
		got = stattest_get(j, path);
		if (got == want)
			return j;
		json_decref(j);
		harness_sleep_us(50000);
	}
	fail_msg("%s stayed at %lld, expected %lld", path, (long long)got, (long long)want);
	return NULL;
}

json_t *stattest_client(json_t *j, pid_t pid)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(j, "clients"), i, c)
		if (json_integer_value(json_object_get(c, "pid")) == pid)
			return c;
	return NULL;
}

json_t *stattest_wait_client(const char *bus, pid_t pid, json_int_t min_written)
{
	for (int i = 0; i < 200; i++) {
		json_t *j = stattest_json(bus, 0);
		json_t *c = stattest_client(j, pid);
		if (c && stattest_get(c, "written") >= min_written)
			return j;
		json_decref(j);
		harness_sleep_us(50000);
	}
	fail_msg("client %d never showed %lld entries written", (int)pid, (long long)min_written);
	return NULL;
}

static void publish_forever(const char *bus, int burst, int period_ms)
{
	logbus_t *lb = logbus_open(bus);

	if (!lb)
		_exit(1);
	for (unsigned n = 0;; n++) {
		for (int i = 0; i < burst; i++)
			logbus_publishf(lb, LOGBUS_INFO, "stattest", "entry %u", n);
		harness_sleep_us(period_ms * 1000L);
	}
}

pid_t stattest_spawn_publisher(const char *bus, const char *name, int burst, int period_ms)
{
	pid_t parent = getpid(), pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		/* Gone with the test, also one that failed before its kill:
		 * a publisher left behind holds the test's output open. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		/* The writer names the client by the kernel's comm, which
		 * the registrar reads at registration. */
		if (prctl(PR_SET_NAME, name) < 0)
			_exit(1);
		publish_forever(bus, burst, period_ms);
	}
	return pid;
}

void stattest_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
