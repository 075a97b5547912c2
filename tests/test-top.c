/* SPDX-License-Identifier: MIT */
/* Description: logbus-top driven in tmux: the screen shows the bus's
 * clients and counts that grow, 's' changes the order of the clients, a
 * resize to 80x24 keeps the header, a dead writer is shown as dead, 'q'
 * exits cleanly, --exit-when-idle exits by itself; without a bus it says
 * so and exits 1. */
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
#include "stattest.h"

#define FAST "zzz-fast"
#define SLOW "aaa-slow"

static const char *const small_bus[] = { "--lanes", "4", "--lane-size", "64K", NULL };

/* A tmux server of the test's own, so that nothing else is touched. */
static char socket_name[64];

static char *tmux(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *tmux(const char *fmt, ...)
{
	char args[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return stattest_run(&st, "tmux -L %s -f /dev/null %s 2>&1", socket_name, args);
}

static void tmux_do(const char *args)
{
	free(tmux("%s", args));
}

static void top_end(void)
{
	tmux_do("kill-server");
}

/* Start logbus-top on bus with extra options in a detached cols x rows
 * session; the shell prints how it exited. */
static void top_start(const char *bus, int cols, int rows, const char *extra)
{
	snprintf(socket_name, sizeof(socket_name), "logbus-test-top-%d", (int)getpid());
	top_end();   /* the server of a test that failed before its end */
	free(tmux("new-session -d -s top -x %d -y %d \"LANG=C.UTF-8 %s --bus %s --interval 0.25"
		  " %s; echo top-exited-\\$?; sleep 60\"", cols, rows, stattest_top_path(), bus,
		  extra));
}

static char *screen(void)
{
	return tmux("capture-pane -p -t top");
}

/* The screen once pred holds for it (10 s at most); the caller frees it. */
static char *wait_screen(bool (*pred)(const char *s, const void *arg), const void *arg,
			 const char *what)
{
	char *s = NULL;

	for (int i = 0; i < 200; i++) {
		free(s);
		s = screen();
		if (pred(s, arg))
			return s;
		harness_sleep_us(50000);
	}
	fail_msg("the screen never showed %s; it shows:\n%s", what, s);
	return NULL;
}

static bool has_text(const char *s, const void *arg)
{
	return strstr(s, arg) != NULL;
}

static char *wait_text(const char *text)
{
	return wait_screen(has_text, text, text);
}

/* Whether the row of `first` is above the row of `second`. */
static bool above(const char *s, const void *arg)
{
	const char *const *names = arg;
	const char *a = strstr(s, names[0]), *b = strstr(s, names[1]);

	return a && b && a < b;
}

/* The published count in the client row of name, 0 when absent. */
static double published_of(const char *s, const char *name)
{
	const char *row = strstr(s, name);
	char count[32] = "";
	char *end;
	double v;

	if (!row || sscanf(row + strlen(name), "%*s %31s", count) != 1)
		return 0;
	v = strtod(count, &end);
	return *end == 'k' ? v * 1e3 : *end == 'M' ? v * 1e6 : v;
}

static bool grew(const char *s, const void *arg)
{
	return published_of(s, FAST) > *(const double *)arg;
}

/* Whether the whole screen was drawn for its size: the header on the first
 * row naming the bus (arg), the key line at the bottom. "q quit" alone is
 * on the screen from before a resize too, while a slow logbus-top has
 * not redrawn the rest yet. */
static bool redrawn(const char *s, const void *arg)
{
	return strncmp(s, "logbus-top", 10) == 0 && strstr(s, arg) && strstr(s, "q quit");
}

/* Clients shown, counts growing, 's' reorders them, resize to 80x24, 'q'. */
static void test_top_live(void **state)
{
	static const char *const fast_first[] = { FAST, SLOW }, *const slow_first[] = { SLOW, FAST };
	struct harness h;
	pid_t fast, slow;
	double first;
	char *s;

	(void)state;
	harness_init(&h, "top-live");
	harness_start_writer(&h, small_bus);
	fast = stattest_spawn_publisher(h.bus, FAST, 20, 50);
	slow = stattest_spawn_publisher(h.bus, SLOW, 1, 200);
	top_start(h.bus, 100, 30, "");

	s = wait_text(SLOW);
	free(s);
	s = wait_text(FAST);
	assert_non_null(strstr(s, "logbus-top"));
	assert_non_null(strstr(s, "alive"));
	first = published_of(s, FAST);
	free(s);
	free(wait_screen(grew, &first, "the fast client's count grow"));

	free(wait_screen(above, fast_first, FAST " above " SLOW " (sort: rate)"));
	for (int i = 0; i < 3; i++)
		tmux_do("send-keys -t top s");
	free(wait_text("sort: name"));
	free(wait_screen(above, slow_first, SLOW " above " FAST " (sort: name)"));

	tmux_do("resize-window -t top -x 80 -y 24");
	free(wait_screen(redrawn, h.bus, "the header and the key line redrawn at 80x24"));
	char *size = tmux("display-message -p -t top '#{pane_width}x#{pane_height}'");
	assert_string_equal(size, "80x24\n");
	free(size);

	tmux_do("send-keys -t top q");
	free(wait_text("top-exited-0"));
	top_end();
	stattest_kill(fast);
	stattest_kill(slow);
	harness_stop_writer(&h);
	harness_fini(&h);
}

/* A killed writer shows as dead, not as frozen numbers. */
static void test_top_writer_dead(void **state)
{
	struct harness h;

	(void)state;
	harness_init(&h, "top-dead");
	harness_start_writer(&h, small_bus);
	top_start(h.bus, 80, 24, "");
	free(wait_text("alive"));
	harness_kill_writer(&h);
	free(wait_text("WRITER DEAD"));
	tmux_do("send-keys -t top q");
	free(wait_text("top-exited-0"));
	top_end();
	harness_fini(&h);
}

/* --exit-when-idle: with no entry coming, it exits 0 by itself. */
static void test_top_exit_when_idle(void **state)
{
	struct harness h;

	(void)state;
	harness_init(&h, "top-idle");
	harness_start_writer(&h, small_bus);
	top_start(h.bus, 80, 24, "--exit-when-idle 1");
	free(wait_text("top-exited-0"));
	top_end();
	harness_stop_writer(&h);
	harness_fini(&h);
}

/* No such bus: a clear message and exit status 1, before any screen. */
static void test_top_missing_bus(void **state)
{
	int st;
	char *out = stattest_run(&st, "%s --bus no-such-bus-%d 2>&1", stattest_top_path(),
				 (int)getpid());

	(void)state;
	assert_int_equal(st, 1);
	assert_non_null(strstr(out, "does not exist"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_live),
		cmocka_unit_test(test_top_writer_dead),
		cmocka_unit_test(test_top_exit_when_idle),
		cmocka_unit_test(test_top_missing_bus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
