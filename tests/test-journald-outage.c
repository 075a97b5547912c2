/* SPDX-License-Identifier: MIT */
/* Description: the journald sink against a private journald (a journal
 * namespace of this test's own) that is SIGKILLed for 5 s while 10,000
 * entries flow at 1,000/s: the sink spools what journald does not take,
 * replays it when journald is back, and journald ends up with every
 * entry; nothing is counted dropped. The writer is SIGKILLed and
 * restarted during the outage too: the spool survives it. */
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
#include "services.h"

#define TOTAL 10000
#define RATE 1000

static struct harness h;
static char ns[64];

static void sleep_ms(long ms)
{
	harness_sleep_us(ms * 1000);
}

/* TOTAL entries at RATE, retrying a full lane. */
static void produce(const char *bus)
{
	logbus_t *lb = logbus_open(bus);
	struct timespec next;

	if (!lb)
		_exit(2);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (int i = 0; i < TOTAL; i++) {
		char v[16];
		int n = snprintf(v, sizeof(v), "%d", i), r;
		while ((r = logbus_publish(lb, LOGBUS_INFO, "jout", v, (size_t)n)) == -EAGAIN)
			sleep_ms(1);
		if (r != 0)
			_exit(3);
		next.tv_nsec += 1000000000L / RATE;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	logbus_close(lb);
	_exit(0);
}

/* How many distinct entries the namespace's journal holds. */
static int journal_count(bool *seen)
{
	char cmd[300];
	char line[64];
	int distinct = 0;

	snprintf(cmd, sizeof(cmd), "journalctl --namespace '%s' -q -o cat -t jout 2>/dev/null",
		 ns);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	memset(seen, 0, TOTAL * sizeof(*seen));
	while (fgets(line, sizeof(line), p)) {
		int i = atoi(line);
		if (i < 0 || i >= TOTAL)
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
		produce(h.bus);

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
		char sync[200];
		snprintf(sync, sizeof(sync), "journalctl --namespace '%s' --sync", ns);
		(void)services_run(sync, NULL, 0);
		got = journal_count(seen);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
