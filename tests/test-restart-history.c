/* SPDX-License-Identifier: MIT */
/* Description: 200 writer restarts (half of them SIGKILL, half SIGTERM)
 * with the default retention (keep_files 100) lose nothing: a restarted
 * writer goes on with its current file instead of opening a new one, so
 * restarts never push entries out through keep_files. Every entry is in
 * the files once, and they are one file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"
#include "outfiles.h"

#define RESTARTS 200
#define PER_RUN 50

/* Run run's entries, written before it returns; exits the process. */
static void publish_run(const char *bus, int run)
{
	logbus_t *lb = logbus_open(bus);

	if (!lb)
		_exit(2);
	for (int i = run * PER_RUN; i < (run + 1) * PER_RUN; i++)
		if (logbus_publishf(lb, LOGBUS_INFO, "h", "%d", i) != 0)
			_exit(3);
	if (logbus_flush(lb, 10000) != 0)
		_exit(4);
	logbus_close(lb);
	_exit(0);
}

static void test_restarts(void **state)
{
	static unsigned char times[RESTARTS * PER_RUN];
	struct harness h;
	json_t *all, *e;
	size_t k;

	(void)state;
	harness_init(&h, "history");
	for (int run = 0; run < RESTARTS; run++) {
		harness_start_writer(&h, NULL);
		/* A process per run: the library's thread slots are not the
		 * subject here. */
		pid_t pid = harness_fork();
		if (pid == 0)
			publish_run(h.bus, run);
		harness_wait_exit(pid, 0);
		if (run % 2)
			harness_kill_writer(&h);
		else
			harness_stop_writer(&h);
	}
	assert_int_equal(outfiles_count(h.dir, ".jsonl"), 1);
	all = harness_entries(&h);
	json_array_foreach(all, k, e) {
		int i = atoi(json_string_value(json_object_get(e, "msg")));
		assert_true(i >= 0 && i < RESTARTS * PER_RUN);
		times[i]++;
	}
	for (int i = 0; i < RESTARTS * PER_RUN; i++)
		if (times[i] != 1)
			fail_msg("entry %d is in the files %d times", i, times[i]);
	json_decref(all);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restarts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
