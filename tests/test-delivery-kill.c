/* SPDX-License-Identifier: MIT */
/* Description: 20,000 entries at 2,000/s into json + syslog while the
 * collector (a private rsyslogd) is SIGKILLed for 5 s and the writer is
 * SIGKILLed and restarted during that time. The file receives every entry
 * exactly once; over RELP the collector receives every entry (some may
 * come twice); over TCP every entry except what the kernel had taken when
 * the collector died: those are all from before the kill, give or take
 * the 100 ms in which the stop script sees it gone, and their count is
 * printed on stderr. */
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

#define TOTAL 20000
#define RATE 2000          /* entries per second */
#define OUTAGE_MS 5000     /* the collector is down this long */
#define KERNEL_WINDOW (RATE / 10)   /* entries of 100 ms: see kill_run */

static struct rsyslogd rs;
static struct harness h;

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	harness_sleep_us(ms * 1000);
}

/* Count, per entry, how often it is in the JSON objects of all (by msg). */
static void tally(json_t *all, unsigned char *times)
{
	json_t *e;
	size_t k;

	memset(times, 0, TOTAL);
	json_array_foreach(all, k, e) {
		const char *msg = json_string_value(json_object_get(e, "msg"));
		int i = msg ? atoi(msg) : -1;
		if (i < 0 || i >= TOTAL)
			fail_msg("an entry that was never published: '%s'", msg ? msg : "");
		if (times[i] < 255)
			times[i]++;
	}
}

static int distinct(const unsigned char *times)
{
	int n = 0;

	for (int i = 0; i < TOTAL; i++)
		n += times[i] != 0;
	return n;
}

/* Wait until the collector has every entry, or five seconds brought no
 * new one. */
static void await_collector(const char *name, unsigned char *times)
{
	int got = 0, last = -1, still = 0;

	while (got < TOTAL && still < 50) {
		json_t *all = services_rsyslogd_read(&rs, name);
		tally(all, times);
		json_decref(all);
		got = distinct(times);
		still = got == last ? still + 1 : 0;
		last = got;
		sleep_ms(100);
	}
}

static void kill_run(const char *transport)
{
	static unsigned char times[TOTAL];
	volatile int *progress = harness_shared(sizeof(int));

	services_rsyslogd_start(&rs, transport);
	const char *args[] = { "--config", services_syslog_config(&rs, transport, 1000),
			       "--format", "json,syslog", NULL };
	harness_init(&h, transport);
	harness_start_writer(&h, args);
	pid_t producer = harness_fork();
	if (producer == 0)
		harness_paced(h.bus, "kill", TOTAL, RATE, progress);

	sleep_ms(2000);
	services_rsyslogd_kill(&rs, SIGKILL);
	/* Published by the time the collector is gone: what the kernel may
	 * have taken for it is among these. */
	int killed_at = *progress;
	uint64_t down = mono_ms();
	sleep_ms(1500);
	harness_kill_writer(&h);
	sleep_ms(500);
	harness_start_writer(&h, args);
	sleep_ms((long)(down + OUTAGE_MS - mono_ms()));
	services_rsyslogd_start(&rs, transport);
	harness_wait_exit(producer, 0);
	await_collector(transport, times);
	harness_stop_writer(&h);

	int lost = 0, first_lost = -1;
	for (int i = 0; i < TOTAL; i++) {
		if (times[i])
			continue;
		/* TCP: what the kernel took before the writer saw the
		 * connection close, around the kill (the stop script polls
		 * every 100 ms: killed_at is up to that late). */
		if (!strcmp(transport, "relp") || i >= killed_at + KERNEL_WINDOW)
			fail_msg("%s: entry %d never reached the collector (killed after %d)",
				 transport, i, killed_at);
		lost++;
		first_lost = first_lost < 0 ? i : first_lost;
	}
	if (lost)
		fprintf(stderr, "%s: %d entries lost in the kernel's buffers when the collector "
			"died (from entry %d; %d published by the time it was gone)\n", transport, lost,
			first_lost, killed_at);

	json_t *file = harness_entries(&h);
	tally(file, times);
	json_decref(file);
	for (int i = 0; i < TOTAL; i++)
		if (times[i] != 1)
			fail_msg("%s: the file holds entry %d %d times", transport, i, times[i]);
	harness_fini(&h);
}

static int stop_services(void **state)
{
	(void)state;
	services_stop_all(&h, &rs);
	return 0;
}

/* RELP: every entry. */
static void test_relp(void **state)
{
	(void)state;
	kill_run("relp");
}

/* TCP: every entry but those in the kernel's buffers at the kill. */
static void test_tcp(void **state)
{
	(void)state;
	kill_run("tcp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_relp, stop_services),
		cmocka_unit_test_teardown(test_tcp, stop_services),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
