/* SPDX-License-Identifier: MIT */
/* Description: `logbus-writer --check-config` accepts the annotated example
 * configuration and refuses each bad configuration of a table (wrong
 * types, unknown keys, unwritable paths, bad levels, bad globs, bad
 * overrides) with exit status 1 and a line naming the key's JSON path. */
#include <setjmp.h>
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

/* Run --check-config on a file holding json (NULL: no file), with env
 * ("NAME=value" or NULL) set; returns the exit status and what it printed
 * in out. */
static int check(const char *json, const char *env, char *out, size_t cap)
{
	char path[] = "/tmp/logbus-config-XXXXXX", cmd[1024];
	FILE *p;
	size_t n;
	int st;

	if (json) {
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
		close(fd);
	}
	snprintf(cmd, sizeof(cmd), "env -u LOGBUS_BUS -u LOGBUS_DIR -u LOGBUS_FORMAT %s '%s' "
		 "--check-config %s%s 2>&1", env ? env : "", harness_writer_path(),
		 json ? "--config " : "", json ? path : "");
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	st = pclose(p);
	if (json)
		unlink(path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The example shipped beside the unit file is valid, and runs every
 * section it configures (no warning). */
static void test_example_valid(void **state)
{
	const char *path = getenv("LOGBUS_TEST_EXAMPLE_CONFIG");
	char cmd[1024], out[4096];
	FILE *p;
	size_t n;

	(void)state;
	assert_non_null(path);
	snprintf(cmd, sizeof(cmd), "'%s' --check-config --config '%s' 2>&1",
		 harness_writer_path(), path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	if (pclose(p) != 0)
		fail_msg("the example configuration is refused:\n%s", out);
	assert_non_null(strstr(out, "configuration OK"));
	if (strstr(out, "warning"))
		fail_msg("the example configuration warns:\n%s", out);
}

/* The example's sections for the other sinks, put in place with every
 * sink in format, are valid too and warn of nothing. */
static void test_example_sections_valid(void **state)
{
	static const char *const sections[] = { "journald", "syslog", "entry_files" };
	json_t *root = json_load_file(getenv("LOGBUS_TEST_EXAMPLE_CONFIG"), 0, NULL);
	char key[64], out[4096];
	char *text;

	(void)state;
	assert_non_null(root);
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		snprintf(key, sizeof(key), "_%s_example", sections[i]);
		json_t *v = json_object_get(root, key);
		assert_non_null(v);
		assert_int_equal(json_object_set(root, sections[i], v), 0);
		assert_int_equal(json_object_del(root, key), 0);
	}
	assert_int_equal(json_object_set_new(root, "format",
					     json_pack("[ssss]", "json", "journald", "syslog",
						       "entry")), 0);
	text = json_dumps(root, 0);
	assert_non_null(text);
	if (check(text, NULL, out, sizeof(out)) != 0 || strstr(out, "warning"))
		fail_msg("the example's sections, in place, are refused or warn:\n%s", out);
	free(text);
	json_decref(root);
}

/* A section that no format runs gets a warning naming it (still OK); a
 * missing file is one plain line; the two halves of the geometry are
 * named each at its own key; a hook's problems are all reported. */
static void test_messages_placed(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(check("{\"format\":[\"json\"],\"journald\":{},\"syslog\":[{}]}", NULL,
			       out, sizeof(out)), 0);
	assert_non_null(strstr(out, "$.journald: warning: is configured, but no sink runs it"));
	assert_non_null(strstr(out, "$.syslog: warning: is configured, but no sink runs it"));
	assert_non_null(strstr(out, "configuration OK"));

	assert_int_equal(check("{\"lane_size\":\"3K\"}", NULL, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "$.lane_size: lane size 3072 is not a power of two"));
	assert_null(strstr(out, "$.lanes"));

	assert_int_equal(check("{\"hooks\":[{\"name\":\"a\",\"type\":\"x\"},"
			       "{\"name\":\"b\",\"type\":\"action\"},"
			       "{\"name\":\"c\",\"type\":\"action\",\"command\":[\"/bin/cat\"],"
			       "\"match\":{\"level\":\"loud\"}}]}", NULL, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "$.hooks[0]"));
	assert_non_null(strstr(out, "$.hooks[1]"));
	assert_non_null(strstr(out, "$.hooks[2].match.level: 'loud' is not a level"));
	assert_non_null(strstr(out, "3 problems found"));

	/* Two hooks whose commands do not exist: both named, each one line. */
	assert_int_equal(check("{\"hooks\":[{\"name\":\"a\",\"type\":\"action\","
			       "\"command\":[\"/nonexistent/a\\nb\"]},{\"name\":\"b\","
			       "\"type\":\"action\",\"command\":[\"/nonexistent/c\"]}]}", NULL, out,
			       sizeof(out)), 1);
	assert_non_null(strstr(out, "hook 'a': command '/nonexistent/a\\x0ab' is not an executable"));
	assert_non_null(strstr(out, "hook 'b': command '/nonexistent/c' is not an executable"));
	assert_non_null(strstr(out, "2 problems found"));

	/* A key and a value holding newlines: each problem stays one line. */
	assert_int_equal(check("{\"a\\nb\":1,\"file\":{\"dir\":7},\"bus\":\"x\\ny\"}", NULL,
			       out, sizeof(out)), 1);
	assert_non_null(strstr(out, "$.a\\x0ab: unknown key\n"));
	assert_non_null(strstr(out, "'x\\x0ay' is not a bus name"));
	assert_non_null(strstr(out, "3 problems found"));
}

/* A file that does not exist: one line that says so, no line or column. */
static void test_missing_file(void **state)
{
	char cmd[1024], out[4096];
	FILE *p;
	size_t n;

	(void)state;
	snprintf(cmd, sizeof(cmd), "'%s' --check-config --config /nonexistent/logbus.json 2>&1",
		 harness_writer_path());
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_not_equal(pclose(p), 0);
	assert_non_null(strstr(out, "logbus-writer: /nonexistent/logbus.json: unable to open "
				    "/nonexistent/logbus.json: No such file or directory\n"));
	assert_null(strstr(out, "line -1"));
}

/* A minimal valid file and no file at all pass. */
static void test_minimal_valid(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(check("{\"file\":{\"dir\":\"/tmp/logbus-config-ok\"}}", NULL, out,
			       sizeof(out)), 0);
	assert_int_equal(check(NULL, NULL, out, sizeof(out)), 0);
}

static const struct bad {
	const char *json;
	const char *env;
	const char *want;   /* in the output: the key's path and the reason */
} bad[] = {
	{ "{\"file\":{\"rotate_size\":true}}", NULL, "$.file.rotate_size: is not a size" },
	{ "{\"file\":{\"rotate_size\":\"12Q\"}}", NULL, "$.file.rotate_size: is not a size" },
	{ "{\"file\":{\"rotate_age\":-5}}", NULL, "$.file.rotate_age: is not a duration" },
	{ "{\"file\":{\"rotate_age\":18446744074}}", NULL, "$.file.rotate_age: is too long" },
	{ "{\"file\":{\"rotate_age\":\"213503983d\"}}", NULL, "$.file.rotate_age: is too long" },
	{ "{\"status_interval\":\"307445734562h\"}", NULL, "$.status_interval: is too long" },
	{ "{\"spool_max\":\"17179869184G\"}", NULL, "$.spool_max: is not a size" },
	{ "{\"file\":{\"keep_files\":\"many\"}}", NULL, "$.file.keep_files: is not a count" },
	{ "{\"file\":{\"dir\":7}}", NULL, "$.file.dir: is not a non-empty string" },
	{ "{\"file\":{\"compress\":\"gzip\"}}", NULL, "$.file.compress: is not \"none\" or \"zstd\"" },
	{ "{\"file\":{\"zstd_level\":99}}", NULL, "$.file.zstd_level: is not a zstd level" },
	{ "{\"file\":[]}", NULL, "$.file: is not an object" },
	{ "{\"lanes\":\"x\"}", NULL, "$.lanes: is not a count" },
	{ "{\"lanes\":0}", NULL, "$.lanes:" },
	{ "{\"bus\":\"a/b\"}", NULL, "$.bus: 'a/b' is not a bus name" },
	{ "{\"colour\":\"blue\"}", NULL, "$.colour: unknown key" },
	{ "{\"file\":{\"keepfiles\":3}}", NULL, "$.file.keepfiles: unknown key" },
	{ "{\"entry_files\":[{\"dir\":\"/tmp/x\",\"tag\":\"r*\",\"levels\":1}]}", NULL,
	  "$.entry_files[0].levels: unknown key" },
	{ "{\"file\":{\"dir\":\"/etc/passwd/logs\"}}", NULL,
	  "$.file.dir: unwritable: '/etc/passwd/logs': Not a directory" },
	{ "{\"entry_files\":[{\"dir\":\"/proc/sys/logbus\",\"tag\":\"r*\"}]}", NULL,
	  "$.entry_files[0].dir: unwritable" },
	{ "{\"entry_files\":[{\"dir\":\"/tmp/x\",\"tag\":\"r*\",\"level_max\":\"loud\"}]}", NULL,
	  "$.entry_files[0].level_max: is not a level" },
	{ "{\"entry_files\":[{\"dir\":\"/tmp/x\",\"tag\":\"r*\",\"level_min\":9}]}", NULL,
	  "$.entry_files[0].level_min: is not a level" },
	{ "{\"entry_files\":[{\"dir\":\"/tmp/x\",\"tag\":\"r*\",\"level_min\":\"info\","
	  "\"level_max\":\"err\"}]}", NULL, "$.entry_files[0]: level_min (info) is less severe" },
	{ "{\"entry_files\":[{\"dir\":\"/tmp/x\",\"tag\":\"resp[onse\"}]}", NULL,
	  "$.entry_files[0].tag: 'resp[onse' is not a tag glob" },
	{ "{\"entry_files\":[{\"dir\":\"/tmp/x\",\"tag\":\"has space*\"}]}", NULL,
	  "$.entry_files[0].tag: 'has space*' is not a tag glob" },
	{ "{\"entry_files\":[{\"dir\":\"/tmp/x\",\"tag\":\"\"}]}", NULL,
	  "$.entry_files[0].tag: is not a non-empty string" },
	{ "{\"entry_files\":[{\"tag\":\"r*\"}]}", NULL, "$.entry_files[0]: needs \"dir\"" },
	{ "{\"entry_files\":{}}", NULL, "$.entry_files: is not a list" },
	{ "{\"syslog\":[{\"transport\":\"udp\"}]}", NULL,
	  "$.syslog[0].transport: is not \"unix\", \"tcp\" or \"relp\"" },
	{ "{\"syslog\":[{\"transport\":\"tcp\"}]}", NULL, "$.syslog[0]: needs \"host\" and \"port\"" },
	{ "{\"syslog\":[{\"facility\":\"kitchen\"}]}", NULL,
	  "$.syslog[0].facility: is not a syslog facility" },
	{ "{\"format\":[\"json\",\"carrier-pigeon\"]}", NULL,
	  "$.format: 'carrier-pigeon' names no sink" },
	{ "{\"format\":[]}", NULL, "$.format: chooses no sink" },
	{ "{\"file\":{}", NULL, "$: " },
	{ "{\"bus\":\"a\",\"bus\":\"b\"}", NULL, "$: duplicate object key" },
	{ "{\"clients\":{\"socket_mode\":\"0999\"}}", NULL, "$.clients.socket_mode: is not a mode" },
	{ "{\"clients\":{\"socket_mode\":438}}", NULL, "$.clients.socket_mode: is not a mode" },
	{ "{\"clients\":{\"stats_mode\":\"0666\"}}", NULL,
	  "$.clients.stats_mode: 0666 is more than 0644" },
	{ "{\"clients\":{\"allowed_users\":[\"root\",\"no-such-user-lb\"]}}", NULL,
	  "$.clients.allowed_users[1]: 'no-such-user-lb' names no user of this system" },
	{ "{\"clients\":{\"allowed_users\":[4294967295]}}", NULL,
	  "$.clients.allowed_users[0]: is not a user" },
	{ "{\"clients\":{\"allowed_groups\":\"root\"}}", NULL,
	  "$.clients.allowed_groups: is not a list of groups" },
	{ "{\"clients\":{\"socket_group\":\"no-such-group-lb\"}}", NULL,
	  "$.clients.socket_group: 'no-such-group-lb' names no group of this system" },
	{ "{\"clients\":{\"stats_group\":true}}", NULL, "$.clients.stats_group: is not a group" },
	{ "{\"clients\":{\"lanes_per_uid\":-1}}", NULL, "$.clients.lanes_per_uid: is not a count" },
	{ "{\"clients\":{\"lanes\":1}}", NULL, "$.clients.lanes: unknown key" },
	{ "{}", "LOGBUS_FORMAT=json,fax", "LOGBUS_FORMAT 'json,fax': 'fax' names no sink" },
	{ "{}", "LOGBUS_DIR=/etc/passwd/x", "$.file.dir: unwritable" },
	{ "{}", "LOGBUS_BUS=../x", "LOGBUS_BUS '../x': '../x' is not a bus name" },
};

/* Each bad configuration: exit 1, its key's path named. */
static void test_bad_table(void **state)
{
	char out[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int st = check(bad[i].json, bad[i].env, out, sizeof(out));
		if (st != 1 || !strstr(out, bad[i].want))
			fail_msg("config %s %s: exit %d, want 1 and \"%s\"; got:\n%s", bad[i].json,
				 bad[i].env ? bad[i].env : "", st, bad[i].want, out);
	}
}

/* Levels in the configuration and the hooks are read as logbus-cat -p
 * reads them: aliases ("error"), digits in strings ("3"), any case. */
static void test_levels_one_parser(void **state)
{
	static const char *const ok[] = {
		"{\"entry_files\":[{\"dir\":\"/tmp/x\",\"tag\":\"r*\",\"level_min\":\"error\"}]}",
		"{\"entry_files\":[{\"dir\":\"/tmp/x\",\"tag\":\"r*\",\"level_max\":\"3\"}]}",
		"{\"entry_files\":[{\"dir\":\"/tmp/x\",\"tag\":\"r*\",\"level_max\":\"Warn\"}]}",
		"{\"hooks\":[{\"name\":\"a\",\"type\":\"action\",\"command\":[\"/bin/cat\"],"
		"\"match\":{\"level\":\"3\"}}]}",
		"{\"hooks\":[{\"name\":\"a\",\"type\":\"action\",\"command\":[\"/bin/cat\"],"
		"\"match\":{\"level\":\"error..critical\"}}]}",
	};
	char out[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (check(ok[i], NULL, out, sizeof(out)) != 0)
			fail_msg("config %s refused:\n%s", ok[i], out);
}

/* Users and groups are names the system knows or ids, as numbers or
 * strings of digits; modes are octal strings. */
static void test_clients_valid(void **state)
{
	static const char *const ok[] = {
		"{\"clients\":{\"allowed_users\":[\"root\",1001,\"1002\"],"
		"\"allowed_groups\":[\"root\",0],\"socket_group\":\"root\",\"socket_mode\":\"0660\","
		"\"stats_group\":0,\"stats_mode\":\"0600\",\"lanes_per_uid\":4,"
		"\"lanes_per_client\":\"2\"}}",
		"{\"clients\":{\"allowed_users\":[]}}",
	};
	char out[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (check(ok[i], NULL, out, sizeof(out)) != 0)
			fail_msg("config %s refused:\n%s", ok[i], out);
}

/* Facilities in the configuration are read as logbus-cat -p reads them:
 * names in any case, logger's "security" for auth, or 0..23. */
static void test_facilities_one_parser(void **state)
{
	static const char *const ok[] = {
		"{\"syslog\":[{\"facility\":\"LOCAL3\"}]}",
		"{\"syslog\":[{\"facility\":\"security\"}]}",
		"{\"syslog\":[{\"facility\":23}]}",
	};
	char out[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (check(ok[i], NULL, out, sizeof(out)) != 0)
			fail_msg("config %s refused:\n%s", ok[i], out);
}

/* Every problem of a file is reported, not only the first. */
static void test_all_problems(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(check("{\"a\":1,\"file\":{\"b\":2,\"rotate_size\":\"x\"}}", NULL, out,
			       sizeof(out)), 1);
	assert_non_null(strstr(out, "$.a: unknown key"));
	assert_non_null(strstr(out, "$.file.b: unknown key"));
	assert_non_null(strstr(out, "$.file.rotate_size: is not a size"));
	assert_non_null(strstr(out, "3 problems found"));
}

/* A writer started with a bad configuration exits 2 before touching the
 * bus. */
static void test_start_refused(void **state)
{
	char cmd[1024];
	int st;

	(void)state;
	snprintf(cmd, sizeof(cmd), "'%s' --bus cfg-refused-%d --format nothing 2>/dev/null",
		 harness_writer_path(), (int)getpid());
	st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_valid),
		cmocka_unit_test(test_minimal_valid),
		cmocka_unit_test(test_bad_table),
		cmocka_unit_test(test_all_problems),
		cmocka_unit_test(test_levels_one_parser),
		cmocka_unit_test(test_facilities_one_parser),
		cmocka_unit_test(test_clients_valid),
		cmocka_unit_test(test_example_sections_valid),
		cmocka_unit_test(test_messages_placed),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_start_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
