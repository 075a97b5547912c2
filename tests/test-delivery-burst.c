/* SPDX-License-Identifier: MIT */
/* Description: the default pair of sinks, JSON-lines files and syslog,
 * under a burst of 100,000 entries from one client that retries a full
 * lane: a private rsyslogd receives every one of them over each transport
 * (unix socket, TCP, RELP), and so does the file, each entry once. The
 * syslog sink is slower than the file: it holds the lanes' tails, the
 * file sink goes on, and nothing is dropped in between. */
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

#define BURST 100000

static struct rsyslogd rs;
static struct harness h;

/* Publish 0..BURST-1 as fast as the lane takes them. */
static void publish_burst(logbus_t *lb)
{
	for (int i = 0; i < BURST; i++) {
		char v[16];
		int n = snprintf(v, sizeof(v), "%d", i), r;
		while ((r = logbus_publish(lb, LOGBUS_INFO, "burst", v, (size_t)n)) == -EAGAIN)
			harness_sleep_us(200);
		assert_int_equal(r, 0);
	}
}

/* Mark msg's number in seen; returns whether it is a new one. */
static bool note(const char *msg, bool *seen)
{
	int i = msg ? atoi(msg) : -1;

	if (i < 0 || i >= BURST)
		fail_msg("an entry that was never published: '%s'", msg ? msg : "(none)");
	bool fresh = !seen[i];
	seen[i] = true;
	return fresh;
}

/* How many distinct entries rsyslogd logged under name. */
static int collector_count(const char *name, bool *seen)
{
	json_t *all = services_rsyslogd_read(&rs, name), *e;
	int distinct = 0;
	size_t k;

	memset(seen, 0, BURST * sizeof(*seen));
	json_array_foreach(all, k, e)
		distinct += note(json_string_value(json_object_get(e, "msg")), seen);
	json_decref(all);
	return distinct;
}

/* Wait until rsyslogd logged every entry, or five seconds brought none. */
static int await_collector(const char *name, bool *seen)
{
	int got = 0, last = -1, still = 0;

	while (got < BURST && still < 50) {
		got = collector_count(name, seen);
		still = got == last ? still + 1 : 0;
		last = got;
		harness_sleep_us(100000);
	}
	return got;
}

static void burst(const char *transport)
{
	static bool seen[BURST];
	logbus_t *lb;

	services_rsyslogd_start(&rs, transport);
	const char *args[] = { "--config", services_syslog_config(&rs, transport, 1000),
			       "--format", "json,syslog", NULL };
	harness_init(&h, transport);
	harness_start_writer(&h, args);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	publish_burst(lb);
	int got = await_collector(transport, seen);
	assert_int_equal(logbus_flush(lb, 20000), 0);
	harness_stop_writer(&h);
	logbus_close(lb);
	for (int i = 0; i < BURST; i++)
		if (!seen[i])
			fail_msg("%s: entry %d never reached the collector (%d of %d did)",
				 transport, i, got, BURST);

	json_t *file = harness_entries(&h), *e;
	size_t k;
	memset(seen, 0, sizeof(seen));
	json_array_foreach(file, k, e)
		if (!note(json_string_value(json_object_get(e, "msg")), seen))
			fail_msg("%s: the file holds entry %s twice", transport,
				 json_string_value(json_object_get(e, "msg")));
	assert_int_equal(json_array_size(file), BURST);
	json_decref(file);
	harness_fini(&h);
}

static int stop_services(void **state)
{
	(void)state;
	services_stop_all(&h, &rs);
	return 0;
}

/* The unix socket. */
static void test_unix(void **state)
{
	(void)state;
	burst("unix");
}

/* TCP, octet counting. */
static void test_tcp(void **state)
{
	(void)state;
	burst("tcp");
}

/* RELP. */
static void test_relp(void **state)
{
	(void)state;
	burst("relp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_unix, stop_services),
		cmocka_unit_test_teardown(test_tcp, stop_services),
		cmocka_unit_test_teardown(test_relp, stop_services),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
