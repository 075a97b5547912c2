/* SPDX-License-Identifier: MIT */
/*
 * logbus-hello: the smallest whole client. Opens the bus ($LOGBUS_BUS, else
 * "default"), publishes three entries (plain, with fields, formatted),
 * waits until the writer has written them, and checks every return code
 * and that none went to the fallback: it exits 1 with one line naming
 * what failed and why.
 *
 *	cc hello.c $(pkg-config --cflags --libs logbus) -o hello
 *	LOGBUS_BUS=app ./hello
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <logbus.h>

/* One line naming the failed call and the error r (a negative errno). */
static int failed(const char *call, int r)
{
	fprintf(stderr, "logbus-hello: %s: %s\n", call, strerror(-r));
	return -1;
}

/* Whether the writer wrote them all: without a bus or a writer, entries go
 * to the fallback (stderr or $LOGBUS_FALLBACK), which publish and flush
 * report as success. */
static int check_written(logbus_t *lb)
{
	struct logbus_stats st;
	int r = logbus_stats_get(lb, &st);

	if (r < 0)
		return failed("logbus_stats_get", r);
	if (st.queued == st.published)
		return 0;
	fprintf(stderr, "logbus-hello: of %llu entries, %llu went to the fallback (no bus or no "
		"writer) and %llu were dropped\n", (unsigned long long)st.published,
		(unsigned long long)st.fallback,
		(unsigned long long)(st.published - st.queued - st.fallback));
	return -1;
}

static int publish_all(logbus_t *lb)
{
	static const char msg[] = "hello from logbus-hello";
	const struct logbus_field fields[] = {
		{ .key = "user", .value = "bob", .len = 3 },
		{ .key = "request", .value = "GET /", .len = 5 },
	};
	int r;

	r = logbus_publish(lb, LOGBUS_INFO, "hello", msg, sizeof(msg) - 1);
	if (r < 0)
		return failed("logbus_publish", r);
	r = logbus_publishv(lb, LOGBUS_WARNING, "hello", "with fields", 11, fields, 2);
	if (r < 0)
		return failed("logbus_publishv", r);
	r = logbus_publishf(lb, LOGBUS_NOTICE, "hello", "%d entries so far", 2);
	if (r < 0)
		return failed("logbus_publishf", r);
	/* Until the writer has written them; -ETIMEDOUT when it did not in 5 s. */
	r = logbus_flush(lb, 5000);
	if (r < 0)
		return failed("logbus_flush", r);
	return check_written(lb);
}

int main(void)
{
	logbus_t *lb = logbus_open(NULL);
	int r;

	if (!lb) {
		(void)failed("logbus_open", -errno);
		return 1;
	}
	r = publish_all(lb);
	logbus_close(lb);
	return r < 0 ? 1 : 0;
}
