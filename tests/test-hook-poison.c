/* SPDX-License-Identifier: MIT */
/* Description: a filter plugin that crashes the writer on one entry does
 * not stop the bus: the writer dies on it once in a batch, once more when
 * the restarted writer goes over that batch entry by entry, and the next
 * one writes the entry to <bus>.quarantine (a JSON line naming the
 * hook), says so on stderr, counts it in the stats (totals.quarantined)
 * and delivers every other entry. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "hooktest.h"
#include "logbus.h"
#include "stattest.h"

#define GOOD 20

static struct hooktest t;

/* A writer with t's configuration, its stderr appended to t.log; not
 * waited for, since it may die at once. */
static pid_t start_writer(void)
{
	const char *argv[] = { harness_writer_path(), "--bus", t.h.bus, "--dir", t.h.dir,
			       "--config", t.config, "--lanes", "8", "--lane-size", "1M", NULL };
	pid_t pid = harness_fork();

	if (pid == 0) {
		int log = open(t.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (log < 0 || dup2(log, STDERR_FILENO) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Whether pid died of a signal within 5 s; false when it still runs. */
static bool crashed(pid_t pid)
{
	int st;

	for (int i = 0; i < 500; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			if (!WIFSIGNALED(st))
				fail_msg("the writer exited with status 0x%x instead of crashing", st);
			return true;
		}
		harness_sleep_us(10000);
	}
	return false;
}

static void test_poison(void **state)
{
	char so[512], hooks[700], path[600];
	logbus_t *lb;
	int crashes = 0;
	pid_t w;

	(void)state;
	hooktest_init(&t, "poison");
	snprintf(hooks, sizeof(hooks),
		 "[ { \"name\": \"crashy\", \"type\": \"filter\", \"plugin\": \"%s\" } ]",
		 hooktest_path(so, sizeof(so), "crash.so"));
	hooktest_start(&t, hooks);
	lb = logbus_open(t.h.bus);
	assert_non_null(lb);
	for (int i = 0; i < GOOD / 2; i++)
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "p", "before-%d", i), 0);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "p", "poison-me", 9), 0);
	for (int i = 0; i < GOOD / 2; i++)
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "p", "after-%d", i), 0);

	/* The supervisor's part: restart the writer each time it dies. */
	w = t.h.writer;
	t.h.writer = 0;
	while (crashed(w) && ++crashes < 5)
		w = start_writer();
	t.h.writer = w;
	assert_int_equal(crashes, 2);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	json_t *live = stattest_wait(t.h.bus, "totals.quarantined", 1);
	assert_int_equal(stattest_get(live, "totals.quarantined"), 1);
	json_decref(live);
	harness_stop_writer(&t.h);
	logbus_close(lb);

	json_t *all = harness_entries(&t.h);
	assert_int_equal(json_array_size(all), GOOD);
	for (size_t i = 0; i < GOOD; i++)
		assert_string_not_equal(json_string_value(json_object_get(json_array_get(all, i),
									  "msg")), "poison-me");
	json_decref(all);

	snprintf(path, sizeof(path), "%s/%s.quarantine", t.h.dir, t.h.bus);
	json_t *q = json_array();
	harness_each_line(path, harness_append, q);
	assert_int_equal(json_array_size(q), 1);
	json_t *line = json_array_get(q, 0);
	assert_string_equal(json_string_value(json_object_get(line, "hook")), "crashy");
	assert_string_equal(json_string_value(json_object_get(json_object_get(line, "entry"),
							      "msg")), "poison-me");
	json_decref(q);

	char *log = hooktest_read(t.log, NULL);
	assert_non_null(strstr(log, "died inside the filter hooks"));
	assert_non_null(strstr(log, "crashed the writer twice in filter hook crashy"));
	free(log);
	hooktest_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poison),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
