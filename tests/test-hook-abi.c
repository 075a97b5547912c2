/* SPDX-License-Identifier: MIT */
/* Description: a plugin built for another hook ABI is refused, naming the
 * plugin and both versions; hook configuration errors name their JSON
 * path; a plugin sees the identity the kernel gave its entry's client. */
#include <fcntl.h>
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

#include "hooktest.h"
#include "logbus-hook.h"
#include "logbus.h"

/* Run logbus-writer --config path --check-config; return its exit status
 * and its stdout in out (the caller frees it). */
static int check_config(const char *path, const char *outfile, char **out)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, STDOUT_FILENO);
		execl(harness_writer_path(), harness_writer_path(), "--config", path,
		      "--check-config", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	*out = hooktest_read(outfile, NULL);
	unlink(outfile);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void wrong_abi_hooks(char *buf, size_t cap, char *so, size_t socap)
{
	snprintf(buf, cap, "[ { \"name\": \"old\", \"type\": \"filter\", \"plugin\": \"%s\" } ]",
		 hooktest_path(so, socap, "wrong_abi.so"));
}

/* --check-config fails and says which hook, which plugin, which ABIs. */
static void test_check_config_refuses(void **state)
{
	struct hooktest t;
	char hooks[1024], so[512], want[128], outfile[400];
	char *out;

	(void)state;
	hooktest_init(&t, "hook-abi");
	wrong_abi_hooks(hooks, sizeof(hooks), so, sizeof(so));
	snprintf(outfile, sizeof(outfile), "%s.out", t.h.dir);
	assert_int_equal(check_config(hooktest_config(&t, hooks), outfile, &out), 1);
	assert_non_null(strstr(out, "hook 'old'"));
	assert_non_null(strstr(out, so));
	snprintf(want, sizeof(want), "built for hook ABI version %d", LOGBUS_HOOK_ABI_VERSION + 1);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "loads ABI version %d only", LOGBUS_HOOK_ABI_VERSION);
	assert_non_null(strstr(out, want));
	free(out);
	hooktest_fini(&t);
}

/* A writer started with it anyway never calls it: the first matching entry
 * disables the hook (said on stderr, counted) and is written unfiltered. */
static void test_running_writer_refuses(void **state)
{
	struct hooktest t;
	char hooks[1024], so[512];
	logbus_t *lb;
	json_t *all;
	char *log;

	(void)state;
	hooktest_init(&t, "hook-abi-run");
	wrong_abi_hooks(hooks, sizeof(hooks), so, sizeof(so));
	hooktest_start(&t, hooks);
	lb = logbus_open(t.h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "app", "kept", 4), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	harness_stop_writer(&t.h);
	all = harness_entries(&t.h);
	assert_int_equal(json_array_size(all), 1);
	log = hooktest_read(t.log, NULL);
	assert_non_null(strstr(log, "ABI version"));
	assert_int_equal(hooktest_metrics(&t, "old").errors, 1);
	assert_int_equal(hooktest_metrics(&t, "old").calls, 0);
	free(log);
	json_decref(all);
	logbus_close(lb);
	hooktest_fini(&t);
}

/* Bad hook configurations: each message names the JSON path, or the hook
 * and what is wrong with it. */
static void test_config_errors_name_paths(void **state)
{
	static const struct { const char *hooks, *want; } cases[] = {
		{ "[ { \"name\": \"a\", \"type\": \"action\", \"command\": [ \"true\" ], "
		  "\"match\": { \"level\": \"loud\" } } ]", "$.hooks[0].match.level: 'loud'" },
		{ "[ { \"name\": \"a\", \"type\": \"filter\", \"command\": [ \"true\" ] } ]",
		  "$.hooks[0].command: a filter runs inline" },
		{ "[ { \"name\": \"a\", \"type\": \"action\", \"command\": [ \"true\" ], "
		  "\"after\": [ \"b\" ] }, { \"name\": \"b\", \"type\": \"action\", "
		  "\"command\": [ \"true\" ], \"after\": [ \"a\" ] } ]", "$.hooks[0].after: makes a cycle" },
		{ "[ { \"name\": \"a\", \"type\": \"action\", \"plugin\": \"x.so\", \"colour\": 1 } ]",
		  "$.hooks[0]: unknown key 'colour'" },
		{ "[ { \"name\": \"a\", \"type\": \"action\", \"command\": [ \"no-such-cmd\" ] } ]",
		  "hook 'a': command 'no-such-cmd' is not an executable file" },
	};
	struct hooktest t;
	char outfile[400];
	char *out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hooktest_init(&t, "hook-conf");
		snprintf(outfile, sizeof(outfile), "%s.out", t.h.dir);
		assert_int_equal(check_config(hooktest_config(&t, cases[i].hooks), outfile, &out), 1);
		if (!strstr(out, cases[i].want))
			fail_msg("case %zu: want '%s' in:\n%s", i, cases[i].want, out);
		free(out);
		hooktest_fini(&t);
	}
}

/* An action plugin's view of an entry carries the client's pid, uid, gid
 * and comm as the kernel said them, whatever the record holds. */
static void test_identity_in_view(void **state)
{
	struct hooktest t;
	char so[512], rec[512], hooks[2048], want[128], comm[16] = "", *line;
	logbus_t *lb;
	FILE *f;

	(void)state;
	hooktest_init(&t, "hook-identity");
	snprintf(hooks, sizeof(hooks),
		 "[ { \"name\": \"rec\", \"type\": \"action\", \"plugin\": \"%s\", "
		 "\"config\": { \"file\": \"%s\" } } ]",
		 hooktest_path(so, sizeof(so), "record.so"),
		 hooktest_file(&t, rec, sizeof(rec), "record.txt"));
	hooktest_start(&t, hooks);
	lb = logbus_open(t.h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "who", "me"), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	assert_int_equal(hooktest_wait_lines(rec, 1), 1);
	harness_stop_writer(&t.h);
	logbus_close(lb);

	f = fopen("/proc/self/comm", "re");
	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	snprintf(want, sizeof(want), " pid=%d uid=%u gid=%u comm=%s\n", (int)getpid(),
		 (unsigned)getuid(), (unsigned)getgid(), comm);
	line = hooktest_read(rec, NULL);
	if (!strstr(line, want))
		fail_msg("the plugin saw \"%s\", want a line ending \"%s\"", line, want);
	free(line);
	hooktest_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_config_refuses),
		cmocka_unit_test(test_running_writer_refuses),
		cmocka_unit_test(test_config_errors_name_paths),
		cmocka_unit_test(test_identity_in_view),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
