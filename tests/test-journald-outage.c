/* SPDX-License-Identifier: MIT */
/* Description: the journald sink against a private journald (a journal
 * namespace of this test's own) that is SIGKILLed for 5 s while 10,000
 * entries flow at 1,000/s: the sink spools what journald does not take,
 * replays it when journald is back, and journald ends up with every
 * entry; nothing is counted dropped. The writer is SIGKILLed and
 * restarted during the outage too: the spool survives it. And the outage
 * is told while it lasts: the sink's last_error says why in the stats
 * (not null beside a spool that grows), and the writer says so in one
 * line naming the sink, its socket and the cause; when journald is back,
 * one line says it works again, after how long, and how many entries
 * waited; last_error is null again. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"
#include "outfiles.h"
#include "services.h"
#include "stats.h"

#define TOTAL 10000
#define RATE 1000
#define BEFORE 10
#define DURING 100

static struct harness h;
static char ns[64];

static void sleep_ms(long ms)
{
	harness_sleep_us(ms * 1000);
}

/* How many distinct entries of the total published the namespace's
 * journal holds, after a sync. */
static int journal_count(bool *seen, int total)
{
	char cmd[300];
	char line[64];
	int distinct = 0;

	snprintf(cmd, sizeof(cmd), "journalctl --namespace '%s' --sync; journalctl --namespace "
		 "'%s' -q -o cat -t jout 2>/dev/null", ns, ns);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	memset(seen, 0, (size_t)total * sizeof(*seen));
	while (fgets(line, sizeof(line), p)) {
		int i = atoi(line);
		if (i < 0 || i >= total)
			fail_msg("journald holds an entry never published: '%s'", line);
		distinct += !seen[i];
		seen[i] = true;
	}
	pclose(p);
	return distinct;
}

/* The outage, with the writer killed and restarted in the middle. */
static void test_outage(void **state)
{
	static bool seen[TOTAL];
	char config[600];

	(void)state;
	snprintf(ns, sizeof(ns), "logbus-test-%d", (int)getpid());
	services_journald_namespace(ns);
	harness_init(&h, "jout");
	snprintf(config, sizeof(config), "%s.json", h.dir);
	FILE *f = fopen(config, "we");
	assert_non_null(f);
	fprintf(f, "{\"format\":[\"journald\"],\"journald\":{\"namespace\":\"%s\"}}\n", ns);
	fclose(f);
	const char *args[] = { "--config", config, NULL };
	harness_start_writer(&h, args);
	pid_t producer = harness_fork();
	if (producer == 0)
		harness_paced(h.bus, "jout", TOTAL, RATE, NULL);

	sleep_ms(2000);
	services_journald_namespace_stop(ns, "KILL");
	sleep_ms(2000);
	harness_kill_writer(&h);
	sleep_ms(500);
	harness_start_writer(&h, args);
	sleep_ms(2500);
	services_journald_namespace(ns);
	harness_wait_exit(producer, 0);

	unsigned long long dropped = services_sink_dropped(h.bus, "journald", 1);
	int got = 0, last = -1, still = 0;
	while (got < TOTAL && still < 50) {
		got = journal_count(seen, TOTAL);
		still = got == last ? still + 1 : 0;
		last = got;
		sleep_ms(100);
	}
	harness_stop_writer(&h);
	assert_int_equal(dropped, 0);
	for (int i = 0; i < TOTAL; i++)
		if (!seen[i])
			fail_msg("entry %d never reached journald (%d of %d did)", i, got, TOTAL);
	unlink(config);
	harness_fini(&h);
}

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
	assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "jout", "%d", i), 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
}

/* The outage told: last_error and one line at each end. */
static void test_journald_outage_told(void **state)
{
	static bool seen[TOTAL];
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
		assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "jout", "%d", n++), 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	free(services_sink_last_error(h.bus, "journald", true));

	services_journald_namespace(ns);
	assert_null(services_sink_last_error(h.bus, "journald", false));
	total = n;
	for (int i = 0; i < 100 && journal_count(seen, total) < total; i++)
		sleep_ms(100);
	assert_int_equal(journal_count(seen, total), total);
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
		cmocka_unit_test_teardown(test_outage, stop_journald),
		cmocka_unit_test_teardown(test_journald_outage_told, stop_journald),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
