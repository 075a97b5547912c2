/* SPDX-License-Identifier: MIT */
/* Description: a journald outage is told while it lasts. With a private
 * journald (a journal namespace of this test's own) SIGKILLed, the
 * journald sink's last_error says why in the stats (not null beside a
 * spool that grows), and the writer says so in one line naming the sink,
 * its socket and the cause; when journald is back, one line says it works
 * again, after how long, and how many entries waited; last_error is null
 * again and journald holds every entry. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include "services.h"
#include "stats.h"

#define BEFORE 10
#define DURING 100

static struct harness h;
static char ns[64];

static int count_of(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static uint64_t stats_publishes(void)
{
	struct lb_stats_snapshot snap = { 0 };
	struct lb_bus_error err;
	uint64_t n;

	assert_int_equal(lb_stats_read(h.bus, &snap, &err), 0);
	n = snap.publishes;
	lb_stats_snapshot_free(&snap);
	return n;
}

/* The journald sink's last_error as the stats show it after everything
 * done so far (two publishes of the stats later); NULL when null. */
static char *last_error_now(void)
{
	uint64_t from = stats_publishes();

	bool found;
	char *e;

	for (int i = 0; i < 1000 && stats_publishes() < from + 2; i++)
		harness_sleep_us(10000);
	e = services_sink_error_now(h.bus, "journald", &found);
	assert_true(found);
	return e;
}

/* Publish one entry and wait until the writer took it. */
static void publish_one(logbus_t *lb, int i)
{
	assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "jsig", "%d", i), 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
}

/* Distinct entries of tag jsig in the namespace's journal. */
static int journal_distinct(int total)
{
	char cmd[300], line[64];
	bool seen[BEFORE + DURING + 64] = { false };
	int distinct = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "journalctl --namespace '%s' --sync; journalctl "
		 "--namespace '%s' -q -o cat -t jsig 2>/dev/null", ns, ns);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		int i = atoi(line);
		if (i >= 0 && i < total && !seen[i]) {
			seen[i] = true;
			distinct++;
		}
	}
	pclose(p);
	return distinct;
}

static void test_journald_outage_told(void **state)
{
	char *err, want[400];
	int n = 0, total;
	logbus_t *lb;

	(void)state;
	snprintf(ns, sizeof(ns), "logbus-sig-%d", (int)getpid());
	services_journald_namespace(ns);
	harness_init(&h, "jsig");
	outfiles_start(&h, outfiles_config(&h, "{\"format\":[\"journald\"],"
					   "\"journald\":{\"namespace\":\"%s\"}}", ns), NULL);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	while (n < BEFORE)
		publish_one(lb, n++);
	assert_null(services_sink_last_error(h.bus, "journald", false));

	services_journald_namespace_stop(ns, "KILL");
	/* One entry at a time until the sink finds journald gone: the entry
	 * that shows it is the first one spooled. */
	char *e = NULL;
	while (!e && n < BEFORE + 50) {
		publish_one(lb, n++);
		e = last_error_now();
	}
	assert_non_null(e);
	free(e);
	for (int k = 0; k < DURING; k++)
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "jsig", "%d", n++), 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	free(services_sink_last_error(h.bus, "journald", true));

	services_journald_namespace(ns);
	assert_null(services_sink_last_error(h.bus, "journald", false));
	total = n;
	for (int i = 0; i < 100 && journal_distinct(total) < total; i++)
		harness_sleep_us(100000);
	assert_int_equal(journal_distinct(total), total);
	logbus_close(lb);
	harness_stop_writer(&h);

	err = outfiles_stderr(&h);
	snprintf(want, sizeof(want), "logbus-writer: sink journald (socket "
		 "/run/systemd/journal.%s/socket) fails: ", ns);
	snprintf(want + 200, sizeof(want) - 200, "; %d entries waited\n", DURING + 1);
	if (count_of(err, want) != 1 || count_of(err, ") fails: ") != 1 ||
	    count_of(err, ") works again after ") != 1 || count_of(err, want + 200) != 1)
		fail_msg("want one line '%s...' and one '... works again after ...%s'; the "
			 "writer said:\n%s", want, want + 200, err);
	free(err);
	harness_fini(&h);
}

static int stop_journald(void **state)
{
	(void)state;
	if (h.bus[0])
		harness_fini(&h);
	h = (struct harness){ .writer = 0 };
	if (ns[0])
		services_journald_namespace_stop(ns, "remove");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_journald_outage_told, stop_journald),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
