/* SPDX-License-Identifier: MIT */
/* Description: `logbus-stat --watch --output FILE` replaces FILE
 * atomically: a reader that opens and reads it in a loop while it is
 * rewritten a hundred times never sees a partial report, and no temporary
 * file is left behind. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "stattest.h"

#define REWRITES 100
#define MAX_READS 1000000

static pid_t start_watch(const char *bus, const char *path)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execl(stattest_stat_path(), "logbus-stat", "--bus", bus, "--json", "--watch", "0.01",
		      "--output", path, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Read path whole; returns false when it does not exist (yet). */
static bool read_whole(const char *path, char *buf, size_t cap, size_t *len, ino_t *ino)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		assert_int_equal(errno, ENOENT);
		return false;
	}
	assert_int_equal(fstat(fd, &st), 0);
	*ino = st.st_ino;
	*len = 0;
	while ((n = read(fd, buf + *len, cap - *len)) > 0)
		*len += (size_t)n;
	assert_true(n == 0 && *len < cap);
	close(fd);
	return true;
}

static void check_report(const char *buf, size_t len)
{
	json_error_t err;
	json_t *j;

	if (len == 0 || buf[len - 1] != '\n')
		fail_msg("a partial report: %zu bytes, no final newline", len);
	j = json_loadb(buf, len, 0, &err);
	if (!j)
		fail_msg("a partial report (%s): %.*s", err.text, (int)len, buf);
	json_decref(j);
}

static size_t entries_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* A reader racing a hundred rewrites sees whole reports only. */
static void test_atomic_rewrites(void **state)
{
	static const char *const args[] = { "--lanes", "2", "--lane-size", "64K", NULL };
	static char buf[1 << 20];
	char dir[] = "/tmp/logbus-stat-out-XXXXXX", path[64];
	unsigned rewrites = 0;
	bool seen = false;
	ino_t last = 0;
	struct harness h;
	pid_t client, watch;

	(void)state;
	harness_init(&h, "stats-output");
	harness_start_writer(&h, args);
	client = stattest_spawn_publisher(h.bus, "output-client", 5, 5);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/logbus.json", dir);
	watch = start_watch(h.bus, path);
	for (long i = 0; i < MAX_READS && rewrites < REWRITES; i++) {
		size_t len;
		ino_t ino;
		if (!read_whole(path, buf, sizeof(buf), &len, &ino)) {
			assert_false(seen);
			continue;
		}
		seen = true;
		check_report(buf, len);
		rewrites += ino != last;
		last = ino;
	}
	assert_int_equal(rewrites, REWRITES);
	assert_int_equal(kill(watch, SIGTERM), 0);
	harness_wait_exit(watch, 0);
	assert_int_equal(entries_in(dir), 1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	stattest_kill(client);
	harness_stop_writer(&h);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atomic_rewrites),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
