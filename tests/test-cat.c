/* SPDX-License-Identifier: MIT */
/* Description: logbus-cat is honest. A pipe of 1,000,000 lines into it
 * lands whole and in order with exit 0 (it waits for room by default);
 * with --drop and a stalled writer it drops and says so; with no bus, no
 * writer, or no permission to open the bus it exits 1 and says why in one
 * line. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"

#define MILLION 1000000

/* Run "sh -c cmd" with stderr into err_path (when not NULL); returns its
 * exit status. */
static int run(const char *cmd, const char *err_path)
{
	pid_t pid = harness_fork();
	int st;

	if (pid == 0) {
		if (err_path && !freopen(err_path, "w", stderr))
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st))
		fail_msg("'%s' did not exit: status 0x%x", cmd, st);
	return WEXITSTATUS(st);
}

static const char *cat_path(void)
{
	const char *p = getenv("LOGBUS_TEST_CAT");

	assert_non_null(p);
	return p;
}

/* The last line of the file path, which must hold text. */
static char *last_line(const char *path)
{
	static char line[1024], buf[1024];
	FILE *f = fopen(path, "re");

	assert_non_null(f);
	line[0] = '\0';
	while (fgets(buf, sizeof(buf), f))
		strcpy(line, buf);
	fclose(f);
	return line;
}

static void expect_reason(const char *path, const char *want)
{
	const char *line = last_line(path);

	if (strncmp(line, "logbus-cat: ", 12) || !strstr(line, want))
		fail_msg("logbus-cat said '%s', want a line with '%s'", line, want);
	assert_int_equal(unlink(path), 0);
}

struct order {
	uint64_t next;
};

static void order_entry(json_t *e, void *ctx)
{
	struct order *o = ctx;
	const char *msg = json_string_value(json_object_get(e, "msg"));
	char want[24];

	if (strcmp(json_string_value(json_object_get(e, "tag")), "pipe"))
		return;
	snprintf(want, sizeof(want), "%" PRIu64, o->next + 1);
	if (!msg || strcmp(msg, want))
		fail_msg("line %" PRIu64 " is '%s', want '%s'", o->next, msg ? msg : "(none)", want);
	o->next++;
}

/* seq 1000000 | logbus-cat: every line, in order, exit 0, through lanes
 * much smaller than the input (so it must wait for room). */
static void test_cat_pipe_million(void **state)
{
	struct harness *h = *state;
	struct order o = { 0 };
	char cmd[512];

	harness_start_writer(h, (const char *const[]){ "--lanes", "4", "--lane-size", "256K", NULL });
	snprintf(cmd, sizeof(cmd), "seq %d | %s -b %s -t pipe", MILLION, cat_path(), h->bus);
	assert_int_equal(run(cmd, NULL), 0);
	harness_stop_writer(h);
	harness_each_entry(h, order_entry, &o);
	assert_int_equal(o.next, MILLION);
}

/* --drop with the writer stopped: lines are dropped, exit 1, and it says
 * the lane was full. */
static void test_cat_drop(void **state)
{
	struct harness *h = *state;
	char cmd[512], err[300];

	snprintf(err, sizeof(err), "%s.err", h->dir);
	harness_start_writer(h, (const char *const[]){ "--lanes", "4", "--lane-size", "64K", NULL });
	assert_int_equal(kill(h->writer, SIGSTOP), 0);
	snprintf(cmd, sizeof(cmd), "seq 100000 | %s --drop -b %s -t pipe", cat_path(), h->bus);
	assert_int_equal(run(cmd, err), 1);
	assert_int_equal(kill(h->writer, SIGCONT), 0);
	expect_reason(err, "the lane was full");
}

/* No bus: the line goes to stderr, exit 1, and it says the bus does not
 * exist. */
static void test_cat_no_bus(void **state)
{
	struct harness *h = *state;
	char cmd[512], err[300];

	snprintf(err, sizeof(err), "%s.err", h->dir);
	snprintf(cmd, sizeof(cmd), "%s -b %s hello", cat_path(), h->bus);
	assert_int_equal(run(cmd, err), 1);
	expect_reason(err, "does not exist");
}

/* A bus whose writer stopped: the lines wait in the bus, exit 1, and it
 * says there is no writer. */
static void test_cat_no_writer(void **state)
{
	struct harness *h = *state;
	char cmd[512], err[300];

	snprintf(err, sizeof(err), "%s.err", h->dir);
	harness_start_writer(h, NULL);
	harness_stop_writer(h);
	snprintf(cmd, sizeof(cmd), "seq 10 | %s -b %s -t pipe", cat_path(), h->bus);
	assert_int_equal(run(cmd, err), 1);
	expect_reason(err, "has no writer");
}

/* A user outside the bus segment's group: exit 1, and it names the group
 * to join. Needs root, to become such a user. */
static void test_cat_permission(void **state)
{
	struct harness *h = *state;
	char cmd[512], err[300];

	if (geteuid() != 0)
		skip();
	snprintf(err, sizeof(err), "%s.err", h->dir);
	harness_start_writer(h, NULL);
	snprintf(cmd, sizeof(cmd), "exec setpriv --reuid=65534 --regid=65534 --clear-groups %s -b %s hello",
		 cat_path(), h->bus);
	assert_int_equal(run(cmd, err), 1);
	expect_reason(err, "permission denied on bus");
	snprintf(cmd, sizeof(cmd), "exec setpriv --reuid=65534 --regid=65534 --clear-groups %s -b %s hello",
		 cat_path(), h->bus);
	assert_int_equal(run(cmd, err), 1);
	expect_reason(err, "join group 'root'");
}
/* logbus-cat's bad arguments: exit 2 and one line naming the argument and
 * the rule it breaks, before any bus is opened. */
static void test_cat_bad_args(void **state)
{
	static const struct {
		const char *args, *want;
	} cases[] = {
		{ "-t 'my app' x", "-t: the tag holds a space at byte 3" },
		{ "-t t234567890123456789012345678901234567890123456789012345678901234567890 x",
		  "-t: the tag is 70 bytes long, at most 64" },
		{ "-t '' x", "-t: the tag is empty" },
		{ "-f user-agent=curl x", "-f: key 'user-agent' is not 1 to 64 of [A-Za-z0-9_]" },
		{ "-f user=a -f user=b x", "-f: key 'user' is given twice" },
		{ "-f novalue x", "-f: 'novalue' is not KEY=VALUE" },
		{ "-p loud x", "-p: 'loud' is not a level" },
	};
	struct harness *h = *state;
	char cmd[512], err[300];

	snprintf(err, sizeof(err), "%s.err", h->dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s -b %s %s", cat_path(), h->bus, cases[i].args);
		if (run(cmd, err) != 2)
			fail_msg("'logbus-cat %s' did not exit 2", cases[i].args);
		expect_reason(err, cases[i].want);
	}
}

static int setup(void **state)
{
	*state = harness_new("cat");
	return 0;
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_cat_pipe_million),
		TEST(test_cat_drop),
		TEST(test_cat_no_bus),
		TEST(test_cat_no_writer),
		TEST(test_cat_permission),
		TEST(test_cat_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
