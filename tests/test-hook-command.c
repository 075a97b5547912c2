/* SPDX-License-Identifier: MIT */
/* Description: command hooks: a crashing command is restarted and every
 * entry accounted for; a hanging one is timed out without holding up the
 * drain; a hostile entry reaches the command verbatim, and no shell runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "hooktest.h"
#include "logbus.h"

/* Start a writer whose one action hook (with extra keys) runs hook-cmd
 * with mode (JSON strings) and fed (t's fed.txt, returned), and publish n
 * entries. */
static void run(struct hooktest *t, const char *name, const char *mode, const char *extra,
		int n, char *fed, size_t fed_cap)
{
	char hooks[2048], cmd[512];
	logbus_t *lb;

	hooktest_init(t, name);
	snprintf(hooks, sizeof(hooks),
		 "[ { \"name\": \"cmd\", \"type\": \"action\", "
		 "    \"command\": [ \"%s\", %s, \"%s\" ] %s } ]",
		 hooktest_path(cmd, sizeof(cmd), "hook-cmd"), mode,
		 hooktest_file(t, fed, fed_cap, "fed.txt"), extra);
	hooktest_start(t, hooks);
	lb = logbus_open(t->h.bus);
	assert_non_null(lb);
	for (int i = 0; i < n; i++)
		assert_int_equal(logbus_publishf(lb, LOGBUS_ERR, "app", "entry %d", i), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	logbus_close(lb);
}

/* A command that exits on every third entry of each run, unanswered: 10
 * entries make 3 failures and 3 restarts, the other 7 confirmed; it was
 * fed all 10, and the file has all 10. */
static void test_crash_restart(void **state)
{
	struct hooktest t;
	char fed[512];
	json_t *all;

	(void)state;
	run(&t, "hook-crash", "\"crash\", \"3\"", ", \"confirm\": true", 10, fed, sizeof(fed));
	assert_int_equal(hooktest_wait_lines(fed, 10), 10);
	harness_stop_writer(&t.h);

	hooktest_expect(&t, "cmd", &(struct hooktest_metrics){
		.matched = 10, .calls = 10, .ok = 7, .errors = 3, .restarts = 3 });
	all = harness_entries(&t.h);
	assert_int_equal(json_array_size(all), 10);
	json_decref(all);
	hooktest_fini(&t);
}

/* A command that never answers: each entry times out after 300 ms and the
 * command is killed and restarted; meanwhile the drain goes on. */
static void test_hang_timeout(void **state)
{
	struct hooktest t;
	char fed[512];
	json_t *all;

	(void)state;
	run(&t, "hook-hang", "\"hang\"", ", \"confirm\": true, \"timeout_ms\": 300", 3, fed,
	    sizeof(fed));
	all = harness_entries(&t.h);   /* written while the hook hangs */
	assert_int_equal(json_array_size(all), 3);
	json_decref(all);
	assert_int_equal(hooktest_wait_lines(fed, 3), 3);
	harness_stop_writer(&t.h);

	hooktest_expect(&t, "cmd", &(struct hooktest_metrics){
		.matched = 3, .calls = 3, .timeouts = 3, .restarts = 2 });
	hooktest_fini(&t);
}

/* The publisher's identity in a line fed to a command: the hook's copy
 * of the entry kept it after its batch was gone. */
static void expect_identity(const char *line, const struct harness_self *self)
{
	json_t *e = json_loads(line, 0, NULL);

	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "pid")), getpid());
	assert_true(json_is_integer(json_object_get(e, "uid")));
	assert_true(json_is_integer(json_object_get(e, "gid")));
	assert_int_equal(json_integer_value(json_object_get(e, "uid")), self->uid);
	assert_int_equal(json_integer_value(json_object_get(e, "gid")), self->gid);
	assert_string_equal(json_string_value(json_object_get(e, "comm")), self->comm);
	assert_string_equal(json_string_value(json_object_get(e, "exe")), self->exe);
	json_decref(e);
}

/* Without confirm, queued entries are fed several to a write: all 300
 * arrive, in order, each counted once, each with its publisher's
 * identity. */
static void test_unconfirmed_all_fed(void **state)
{
	struct hooktest t;
	struct harness_self self;
	char fed[512], want[32];
	char *text, *line, *save;
	int i = 0;

	(void)state;
	harness_self(&self);
	run(&t, "hook-quiet", "\"quiet\"", "", 300, fed, sizeof(fed));
	assert_int_equal(hooktest_wait_lines(fed, 300), 300);
	harness_stop_writer(&t.h);
	text = hooktest_read(fed, NULL);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		snprintf(want, sizeof(want), "\"msg\":\"entry %d\"", i);
		assert_non_null(strstr(line, want));
		expect_identity(line, &self);
	}
	assert_int_equal(i, 300);
	hooktest_expect(&t, "cmd", &(struct hooktest_metrics){
		.matched = 300, .calls = 300, .ok = 300 });
	free(text);
	hooktest_fini(&t);
}

/* Fill n bytes with shell syntax. */
static void hostile(char *p, size_t n)
{
	static const char s[] = "$(touch PWNED) `touch PWNED`; rm -rf PWNED | & > < ' \" \\ \n\t*?";

	for (size_t i = 0; i < n; i++)
		p[i] = s[i % (sizeof(s) - 1)];
}

/* The shipped logbus-alert, its file named with shell syntax, fed an
 * entry full of shell syntax with a 256 KiB field: the alert file holds
 * exactly the JSON line of the writer's file, and no PWNED file appears. */
static void test_hostile_entry_verbatim(void **state)
{
	struct hooktest t;
	char hooks[2048], alerts[512], pwned[512], msg[200];
	size_t big_len = 256 * 1024, len;
	char *big = malloc(big_len), *got;
	const char *payload;
	struct logbus_field f = { "payload", big, big_len };
	logbus_t *lb;
	json_t *all, *fed;

	(void)state;
	assert_non_null(big);
	hostile(big, big_len);
	hostile(msg, sizeof(msg));
	hooktest_init(&t, "hook-hostile");
	hooktest_file(&t, alerts, sizeof(alerts), "alerts; touch PWNED $(id).txt");
	snprintf(hooks, sizeof(hooks),
		 "[ { \"name\": \"alert\", \"type\": \"action\", \"confirm\": true, "
		 "    \"command\": [ \"%s\", \"%s\" ] } ]", getenv("LOGBUS_TEST_ALERT"), alerts);
	hooktest_start(&t, hooks);
	lb = logbus_open(t.h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publishv(lb, LOGBUS_CRIT, "a$(id)`id`;|&", msg, sizeof(msg), &f, 1),
			 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	assert_int_equal(hooktest_wait_lines(alerts, 1), 1);
	harness_stop_writer(&t.h);

	got = hooktest_read(alerts, &len);
	assert_true(len > big_len && got[len - 1] == '\n');
	assert_ptr_equal(strchr(got, '\n'), got + len - 1);
	fed = json_loads(got, 0, NULL);
	assert_non_null(fed);
	all = harness_entries(&t.h);
	assert_int_equal(json_array_size(all), 1);
	assert_true(json_equal(fed, json_array_get(all, 0)));
	payload = json_string_value(json_object_get(json_object_get(fed, "fields"), "payload"));
	assert_non_null(payload);
	assert_int_equal(strlen(payload), big_len);
	assert_memory_equal(payload, big, big_len);
	assert_memory_equal(json_string_value(json_object_get(fed, "msg")), msg, sizeof(msg));
	assert_int_equal(access("PWNED", F_OK), -1);
	assert_int_equal(access(hooktest_file(&t, pwned, sizeof(pwned), "PWNED"), F_OK), -1);
	assert_int_equal(hooktest_metrics(&t, "alert").ok, 1);
	json_decref(fed);
	json_decref(all);
	free(got);
	free(big);
	logbus_close(lb);
	hooktest_fini(&t);
}

/* Start t's writer with hooks as hooktest_start does, its stdout into
 * the file out, beside t's directory (the caller removes it). */
static void start_stdout_to(struct hooktest *t, const char *hooks, char *out, size_t cap)
{
	int fd, saved;

	snprintf(out, cap, "%s.stdout", t->h.dir);
	fflush(stdout);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, STDOUT_FILENO);
	hooktest_start(t, hooks);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
}

/* Publish n entries to t's bus and wait until they are written. */
static void publish_n(struct hooktest *t, int n)
{
	logbus_t *lb = logbus_open(t->h.bus);

	assert_non_null(lb);
	for (int i = 0; i < n; i++)
		assert_int_equal(logbus_publishf(lb, LOGBUS_ERR, "app", "entry %d", i), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	logbus_close(lb);
}

/* A confirm hook that prints OK without reading its input (yes OK) is
 * credited with no entry: its answers come before the entries. */
static void test_confirm_unread_not_credited(void **state)
{
	struct hooktest t;
	char out[512];

	(void)state;
	hooktest_init(&t, "hook-yes");
	start_stdout_to(&t, "[ { \"name\": \"yes\", \"type\": \"action\", "
			"\"command\": [ \"yes\", \"OK\" ], \"confirm\": true } ]", out, sizeof(out));
	publish_n(&t, 50);
	harness_stop_writer(&t.h);
	struct hooktest_metrics m = hooktest_metrics(&t, "yes");
	assert_int_equal(m.matched, 50);
	if (m.ok != 0)
		fail_msg("yes OK was credited with %llu of 50 entries", (unsigned long long)m.ok);
	char *log = hooktest_read(t.log, NULL);
	assert_non_null(strstr(log, "answers without reading"));
	free(log);
	assert_int_equal(unlink(out), 0);
	hooktest_fini(&t);
}

/* Without confirm, what a command prints never reaches the writer's
 * stdout: cat echoes every entry, and the writer's stdout stays empty. */
static void test_output_not_on_writer_stdout(void **state)
{
	struct hooktest t;
	char out[512];
	size_t len;
	char *text;

	(void)state;
	hooktest_init(&t, "hook-cat");
	start_stdout_to(&t, "[ { \"name\": \"cat\", \"type\": \"action\", "
			"\"command\": [ \"cat\" ] } ]", out, sizeof(out));
	publish_n(&t, 20);
	harness_stop_writer(&t.h);
	assert_int_equal(hooktest_metrics(&t, "cat").matched, 20);
	text = hooktest_read(out, &len);
	if (len)
		fail_msg("the writer's stdout holds %zu bytes: %.200s", len, text);
	free(text);
	assert_int_equal(unlink(out), 0);
	hooktest_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_restart),
		cmocka_unit_test(test_hang_timeout),
		cmocka_unit_test(test_unconfirmed_all_fed),
		cmocka_unit_test(test_hostile_entry_verbatim),
		cmocka_unit_test(test_confirm_unread_not_credited),
		cmocka_unit_test(test_output_not_on_writer_stdout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
