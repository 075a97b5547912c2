/* SPDX-License-Identifier: MIT */
/* Description: with the writer stopped, a burst beyond a lane's capacity
 * is refused with -EAGAIN; once the writer runs again, each client's
 * published = written + dropped, exactly. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"

#define CLIENTS 3
#define BURST 2000   /* ~100-byte entries: several times a 64 KiB lane */
#define AFTER 100    /* entries each client publishes after SIGCONT */

/* What a client saw, for the test to compare with the output. */
struct client_report {
	pid_t pid;
	uint64_t ok;
	uint64_t eagain;
	uint64_t other;
	uint64_t burst_eagain;
	struct logbus_stats st;
};

struct shared {
	_Atomic int ready;
	_Atomic int go;
	struct client_report c[CLIENTS];
};

static void publish_some(logbus_t *lb, struct client_report *rep, int count)
{
	static const char pad[] = "................................................................";

	for (int n = 0; n < count; n++) {
		int r = logbus_publishf(lb, LOGBUS_INFO, "full", "entry %d %s", n, pad);
		if (r == 0)
			rep->ok++;
		else if (r == -EAGAIN)
			rep->eagain++;
		else
			rep->other++;
	}
}

/* A client: a burst while the writer is stopped, then more once it runs. */
static void client(const char *bus, struct shared *sh, struct client_report *rep)
{
	logbus_t *lb = logbus_open(bus);

	if (!lb)
		_exit(1);
	rep->pid = getpid();
	publish_some(lb, rep, BURST);
	rep->burst_eagain = rep->eagain;
	sh->ready++;
	while (!sh->go)
		harness_sleep_us(1000);
	publish_some(lb, rep, AFTER);
	if (logbus_flush(lb, 10000) < 0 || logbus_stats_get(lb, &rep->st) < 0)
		_exit(2);
	logbus_close(lb);
	_exit(0);
}

/* The output's lines carrying pid. */
static uint64_t lines_of(json_t *all, pid_t pid)
{
	uint64_t n = 0;
	size_t i;
	json_t *e;

	json_array_foreach (all, i, e)
		n += json_integer_value(json_object_get(e, "pid")) == pid;
	return n;
}

/* One client's accounting against what the writer wrote. */
static void check_client(json_t *all, const struct client_report *c)
{
	uint64_t written = lines_of(all, c->pid);

	assert_true(c->burst_eagain > 0);
	assert_int_equal(c->other, 0);
	assert_int_equal(c->st.published, BURST + AFTER);
	assert_int_equal(c->st.queued, c->ok);
	assert_int_equal(c->st.dropped_full, c->eagain);
	assert_int_equal(written, c->st.queued);
	assert_int_equal(c->st.published, written + c->st.dropped_full + c->st.dropped_too_large +
						  c->st.dropped_no_lane + c->st.dropped_fallback +
						  c->st.fallback);
}

/* Several clients overrun their lanes under a stopped writer. */
static void test_burst_while_stopped(void **state)
{
	const char *const args[] = { "--lanes", "8", "--lane-size", "64K", NULL };
	struct shared *sh = harness_shared(sizeof(*sh));
	pid_t pids[CLIENTS];
	struct harness h;
	json_t *all;

	(void)state;
	harness_init(&h, "full");
	harness_start_writer(&h, args);
	assert_int_equal(kill(h.writer, SIGSTOP), 0);
	for (int i = 0; i < CLIENTS; i++) {
		pids[i] = harness_fork();
		if (pids[i] == 0)
			client(h.bus, sh, &sh->c[i]);
	}
	while (sh->ready < CLIENTS)
		harness_sleep_us(1000);
	assert_int_equal(kill(h.writer, SIGCONT), 0);
	sh->go = 1;
	for (int i = 0; i < CLIENTS; i++)
		harness_wait_exit(pids[i], 0);
	harness_stop_writer(&h);

	all = harness_entries(&h);
	for (int i = 0; i < CLIENTS; i++)
		check_client(all, &sh->c[i]);
	json_decref(all);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_while_stopped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
