/* SPDX-License-Identifier: MIT */
/* Description: logbus-cat is honest. A pipe of 1,000,000 lines into it
 * lands whole and in order with exit 0 (it waits for room by default);
 * with --drop and a stalled writer it drops and says so; with no bus, no
 * writer, or no permission to open the bus it exits 1 and says why in one
 * line. And it takes logger(1)'s and systemd-cat's options: -p
 * FACILITY.LEVEL, -i/--id, -s, --sd-id/--sd-param, -f FILE, and
 * -- COMMAND with its output logged and its exit status handed back. */
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

/* By default every local user may log, as to /dev/log; a writer whose
 * socket is closed to others (clients.socket_mode 0660) keeps a user
 * outside its group out: exit 1, and it names the group to join. Needs
 * root, to become such a user. */
static void test_cat_permission(void **state)
{
	struct harness *h = *state;
	char cmd[512], err[300], conf[300];
	FILE *f;

	if (geteuid() != 0)
		skip();
	snprintf(err, sizeof(err), "%s.err", h->dir);
	snprintf(cmd, sizeof(cmd), "exec setpriv --reuid=65534 --regid=65534 --clear-groups %s -b %s hello",
		 cat_path(), h->bus);
	harness_start_writer(h, NULL);
	assert_int_equal(run(cmd, err), 0);
	harness_stop_writer(h);

	snprintf(conf, sizeof(conf), "%s.json", h->dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs("{\"clients\": {\"socket_mode\": \"0660\"}}\n", f);
	assert_int_equal(fclose(f), 0);
	harness_start_writer(h, (const char *const[]){ "--config", conf, NULL });
	assert_int_equal(run(cmd, err), 1);
	expect_reason(err, "permission denied on bus");
	assert_int_equal(run(cmd, err), 1);
	expect_reason(err, "join group 'root'");
	unlink(conf);
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
		{ "-F user-agent=curl x", "-F: key 'user-agent' is not 1 to 64 of [A-Za-z0-9_]" },
		{ "-F user=a -F user=b x", "-F: key 'user' is given twice" },
		{ "-F novalue x", "-F: 'novalue' is not KEY=VALUE" },
		{ "-p loud x", "-p: 'loud' is not a level" },
		{ "-p user.loud x", "-p: 'loud' is not a level" },
		{ "-p kitchen.err x", "-p: 'kitchen' is not a facility" },
		{ "-p 192 x", "-p: '192' is not a level" },
		{ "--id=12ab x", "--id: '12ab' is not a process id" },
		{ "-i --id=5 x", "--id: given twice" },
		{ "--sd-param 'a=\"open' x", "--sd-param: the value of 'a' opens a quote" },
		{ "--sd-param novalue x", "--sd-param: 'novalue' is not KEY=\"VALUE\"" },
		{ "--sd-id zoo@32473 --sd-param a=b x", "--sd-id: 'zoo@32473' holds '@'" },
		{ "--sd-id 'my id' --sd-param a=b x", "--sd-id: 'my id' is not 1 to 64" },
		{ "-F ip=1 --sd-param ip=2 x", "--sd-param: key 'ip' is given twice" },
		{ "--sd-id a2345678901234567890123456789012 "
		  "--sd-param b2345678901234567890123456789012=v x",
		  "--sd-param: key 'a2345678901234567890123456789012_b2345678901234567890123456789012' "
		  "is 65 bytes long, at most 64" },
		{ "-f /nonexistent/file", "-f: cannot open '/nonexistent/file': No such file" },
		{ "-f /dev/null x", "-f FILE and a MESSAGE cannot be given together" },
		{ "-f /dev/null -- true", "-f FILE and -- COMMAND cannot be given together" },
		{ "--stderr-level err x", "--stderr-level: only with -- COMMAND" },
		{ "--stdout-level loud -- true", "--stdout-level: 'loud' is not a level" },
		{ "--", "--: no COMMAND after it" },
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

/* Run "logbus-cat -b BUS ARGS" for each ARGS of args (NULL-terminated)
 * against a writer, each exiting with status; stop the writer, and return
 * the entries tagged tag (the caller json_decref()s them). stderr goes to
 * err_path when not NULL. */
static json_t *cat_entries(struct harness *h, const char *const *args, const char *tag,
			   int status, const char *err_path)
{
	char cmd[1024];

	harness_start_writer(h, NULL);
	for (; *args; args++) {
		snprintf(cmd, sizeof(cmd), "%s -b %s %s", cat_path(), h->bus, *args);
		if (run(cmd, err_path) != status)
			fail_msg("'logbus-cat %s' did not exit %d", *args, status);
	}
	harness_stop_writer(h);
	return harness_tagged(h, tag);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* -p FACILITY.LEVEL: the level, and the facility's code in the field
 * syslog_facility; a plain LEVEL adds no field; a number 8..191 is
 * facility * 8 + level, as logger reads it. */
static void test_cat_priority(void **state)
{
	struct harness *h = *state;
	json_t *e;

	e = cat_entries(h, ARGS("-t prio -p user.err one", "-t prio -p LOCAL3.warning two",
				"-t prio -p 5 three", "-t prio -p 13 four"), "prio", 0, NULL);
	assert_int_equal(json_array_size(e), 4);
	harness_expect_str(e, 0, "level", "err");
	harness_expect_str(e, 0, "fields.syslog_facility", "1");
	harness_expect_str(e, 1, "level", "warning");
	harness_expect_str(e, 1, "fields.syslog_facility", "19");
	harness_expect_str(e, 2, "level", "notice");
	assert_null(json_object_get(json_array_get(e, 2), "fields"));
	harness_expect_str(e, 3, "level", "notice");
	harness_expect_str(e, 3, "fields.syslog_facility", "1");
	json_decref(e);
}

/* -i: syslog_pid is logbus-cat's own pid, the entry's pid; --id=PID: the
 * pid given, while the entry's pid stays logbus-cat's. */
static void test_cat_id(void **state)
{
	struct harness *h = *state;
	json_t *e;
	char pid[24];

	e = cat_entries(h, ARGS("-t id -i one", "-t id --id=4242 two"), "id", 0, NULL);
	assert_int_equal(json_array_size(e), 2);
	snprintf(pid, sizeof(pid), "%lld",
		 (long long)json_integer_value(json_object_get(json_array_get(e, 0), "pid")));
	harness_expect_str(e, 0, "fields.syslog_pid", pid);
	harness_expect_str(e, 1, "fields.syslog_pid", "4242");
	assert_int_not_equal(json_integer_value(json_object_get(json_array_get(e, 1), "pid")), 4242);
	json_decref(e);
}

/* -s: the message goes to stderr as "TAG: MESSAGE" and to the bus. */
static void test_cat_echo(void **state)
{
	struct harness *h = *state;
	char err[300];
	json_t *e;

	snprintf(err, sizeof(err), "%s.err", h->dir);
	e = cat_entries(h, ARGS("-s -t echo 'hello there'"), "echo", 0, err);
	assert_string_equal(last_line(err), "echo: hello there\n");
	assert_int_equal(unlink(err), 0);
	assert_int_equal(json_array_size(e), 1);
	harness_expect_str(e, 0, "msg", "hello there");
	json_decref(e);
}

/* --sd-param as logger writes it: quotes removed, RFC 5424's escapes
 * undone, keys after --sd-id prefixed with it; beside -F fields. */
static void test_cat_sd_param(void **state)
{
	struct harness *h = *state;
	json_t *e;

	e = cat_entries(h, ARGS("-t sd -F plain=1 --sd-param 'say=\"a \\\"q\\\" \\] \\\\\"' "
				"--sd-id origin --sd-param ip=10.0.0.1 msg"), "sd", 0, NULL);
	assert_int_equal(json_array_size(e), 1);
	harness_expect_str(e, 0, "fields.plain", "1");
	harness_expect_str(e, 0, "fields.say", "a \"q\" ] \\");
	harness_expect_str(e, 0, "fields.origin_ip", "10.0.0.1");
	json_decref(e);
}

/* -f FILE: each line of the file, in order; a file that cannot be read
 * to its end (a directory) is exit 1 with one line saying why. */
static void test_cat_file(void **state)
{
	struct harness *h = *state;
	char path[300], args[700], err[300];
	json_t *e;
	FILE *f;

	snprintf(path, sizeof(path), "%s.lines", h->dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs("first\nsecond\nthird without newline", f);
	assert_int_equal(fclose(f), 0);
	snprintf(args, sizeof(args), "-t file -f %s", path);
	e = cat_entries(h, ARGS(args), "file", 0, NULL);
	assert_int_equal(json_array_size(e), 3);
	harness_expect_str(e, 0, "msg", "first");
	harness_expect_str(e, 1, "msg", "second");
	harness_expect_str(e, 2, "msg", "third without newline");
	json_decref(e);
	assert_int_equal(unlink(path), 0);

	snprintf(err, sizeof(err), "%s.err", h->dir);
	snprintf(args, sizeof(args), "%s -b %s -f /", cat_path(), h->bus);
	harness_start_writer(h, NULL);
	assert_int_equal(run(args, err), 1);
	expect_reason(err, "reading / stopped: Is a directory");
}

/* Whether entries e hold, in this order, the messages want at level. */
static void expect_stream(json_t *e, const char *level, const char *const *want)
{
	size_t i, n = 0;
	json_t *x;

	json_array_foreach(e, i, x) {
		if (strcmp(json_string_value(json_object_get(x, "level")), level))
			continue;
		if (!want[n])
			fail_msg("more %s lines than expected: '%s'", level, harness_entry_str(e, i, "msg"));
		harness_expect_str(e, i, "msg", want[n++]);
	}
	if (want[n])
		fail_msg("%s line '%s' is missing", level, want[n]);
}

/* -- COMMAND: its stdout and stderr lines, each in order at their own
 * level (a last line without newline too), and its exit status. */
static void test_cat_command(void **state)
{
	struct harness *h = *state;
	json_t *e;

	e = cat_entries(h, ARGS("-t cmd --stdout-level notice --stderr-level err -- sh -c "
				"'echo out1; echo err1 >&2; echo out2; printf err2 >&2; exit 3'"),
			"cmd", 3, NULL);
	expect_stream(e, "notice", (const char *const[]){ "out1", "out2", NULL });
	expect_stream(e, "err", (const char *const[]){ "err1", "err2", NULL });
	json_decref(e);
}

/* -- COMMAND killed by a signal: 128 + the signal; not found: 127 with
 * one line naming it; -i: syslog_pid is the command's pid. */
static void test_cat_command_status(void **state)
{
	struct harness *h = *state;
	char cmd[512], err[300];
	json_t *e;

	snprintf(err, sizeof(err), "%s.err", h->dir);
	e = cat_entries(h, ARGS("-t cmd -i -- sh -c 'echo $$; kill -TERM $$'"), "cmd",
			128 + SIGTERM, NULL);
	assert_int_equal(json_array_size(e), 1);
	harness_expect_str(e, 0, "fields.syslog_pid", harness_entry_str(e, 0, "msg"));
	json_decref(e);

	snprintf(cmd, sizeof(cmd), "%s -b %s -- /nonexistent/command arg", cat_path(), h->bus);
	harness_start_writer(h, NULL);
	assert_int_equal(run(cmd, err), 127);
	expect_reason(err, "cannot run '/nonexistent/command': No such file or directory");
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
		TEST(test_cat_priority),
		TEST(test_cat_id),
		TEST(test_cat_echo),
		TEST(test_cat_sd_param),
		TEST(test_cat_file),
		TEST(test_cat_command),
		TEST(test_cat_command_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
