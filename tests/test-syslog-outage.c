/* SPDX-License-Identifier: MIT */
/* Description: rsyslogd killed and restarted under the syslog sink:
 * nothing is lost and nothing counted dropped; the entries the collector
 * did not take wait (in the bus) until it is back. Over RELP the kill
 * comes mid-stream (SIGKILL while entries flow); over TCP and the unix
 * socket between bursts, since there what sat in the kernel's buffers
 * when the collector died is lost in transit (RELP exists for that).
 * While it is down the sink's last_error says why; the writer says so in
 * one line when the outage starts and in one when it ends. */
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

#define BUFFER 1000
#define BEFORE 2000     /* entries published before the kill */
#define DURING 4000     /* after it, while rsyslogd is down */
#define TOTAL (BEFORE + DURING)

static void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
		  NULL);
}

#define CHUNK 100

/* Publish entries first..last-1, each with field i, as a stream of
 * chunks that the writer takes one after another (flushed when flush is
 * set: the collector is up); waits out a full lane rather than losing an
 * entry at the client. */
static void publish_range(logbus_t *lb, int first, int last, bool flush)
{
	for (int i = first; i < last; i++) {
		if (i % CHUNK == 0 && flush)
			assert_int_equal(logbus_flush(lb, 10000), 0);
		else if (i % CHUNK == 0)
			sleep_ms(1);
		char v[16];
		int n = snprintf(v, sizeof(v), "%d", i), r;
		struct logbus_field f = { "i", v, (size_t)n };
		while ((r = logbus_publishv(lb, LOGBUS_INFO, "outage", v, (size_t)n, &f, 1)) ==
		       -EAGAIN)
			sleep_ms(1);
		assert_int_equal(r, 0);
	}
}

/* Which entries rsyslogd logged, by their i; returns how many distinct
 * (RELP may deliver one twice after a reconnect). */
static int received(const struct rsyslogd *rs, const char *name, bool *seen)
{
	json_t *all = services_rsyslogd_read(rs, name), *e;
	size_t k;
	int distinct = 0;

	memset(seen, 0, TOTAL * sizeof(*seen));
	json_array_foreach(all, k, e) {
		int i = atoi(json_string_value(json_object_get(e, "msg")));
		assert_true(i >= 0 && i < TOTAL);
		distinct += !seen[i];
		seen[i] = true;
	}
	json_decref(all);
	return distinct;
}

/* Wait until rsyslogd logged want distinct entries, or two seconds
 * brought none. */
static int await_received(const struct rsyslogd *rs, const char *name, int want, bool *seen)
{
	int got = 0, last = -1, still = 0;

	while (got < want && still < 40) {
		got = received(rs, name, seen);
		still = got == last ? still + 1 : 0;
		last = got;
		sleep_ms(50);
	}
	return got;
}

static struct rsyslogd rs;
static struct harness h;

/* How often text holds what. */
static int count_of(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* One line when the outage started, one when it ended. */
static void check_outage_lines(const struct harness *hh)
{
	char *err = outfiles_stderr(hh);

	if (count_of(err, "logbus-writer: sink syslog (") != 2 || count_of(err, ") fails: ") != 1 ||
	    count_of(err, ") works again after ") != 1 || count_of(err, " entries waited\n") != 1)
		fail_msg("the writer said, about the outage:\n%s", err);
	free(err);
}

static void outage(const char *name, bool mid_stream)
{
	static bool seen[TOTAL];
	unsigned long long dropped;
	logbus_t *lb;

	services_rsyslogd_start(&rs, name);
	const char *args[] = { "--config", services_syslog_config(&rs, name, BUFFER), "--lanes",
			       "4", "--lane-size", "1M", NULL };
	harness_init(&h, name);
	outfiles_start(&h, NULL, args);
	lb = logbus_open(h.bus);
	assert_non_null(lb);

	publish_range(lb, 0, BEFORE, true);
	if (!mid_stream) {
		assert_int_equal(logbus_flush(lb, 10000), 0);
		assert_int_equal(await_received(&rs, name, BEFORE, seen), BEFORE);
	}
	/* What arrived so far: at least this much came before the kill. */
	int before_kill = received(&rs, name, seen);
	services_rsyslogd_kill(&rs, SIGKILL);
	publish_range(lb, BEFORE, TOTAL, false);
	/* Every entry is taken now, none counted dropped. */
	dropped = services_sink_dropped(h.bus, "syslog", TOTAL);
	assert_int_equal(dropped, 0);
	free(services_sink_last_error(h.bus, "syslog", true));
	services_rsyslogd_start(&rs, name);
	/* The sink reconnects and sends what the collector had not taken. */
	await_received(&rs, name, TOTAL, seen);
	assert_null(services_sink_last_error(h.bus, "syslog", false));
	check_outage_lines(&h);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	harness_stop_writer(&h);
	logbus_close(lb);
	harness_fini(&h);

	int got = received(&rs, name, seen);
	for (int i = 0; i < TOTAL; i++)
		if (!seen[i])
			fail_msg("entry %d lost (%d arrived, %d before the kill)", i, got,
				 before_kill);
}

static int stop_services(void **state)
{
	(void)state;
	services_stop_all(&h, &rs);
	return 0;
}

/* RELP, rsyslogd SIGKILLed while entries flow. */
static void test_relp_mid_stream(void **state)
{
	(void)state;
	outage("relp", true);
}

/* TCP, rsyslogd SIGKILLed between bursts. */
static void test_tcp(void **state)
{
	(void)state;
	outage("tcp", false);
}

/* The unix socket, rsyslogd SIGKILLed between bursts. */
static void test_unix(void **state)
{
	(void)state;
	outage("unix", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_relp_mid_stream, stop_services),
		cmocka_unit_test_teardown(test_tcp, stop_services),
		cmocka_unit_test_teardown(test_unix, stop_services),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
