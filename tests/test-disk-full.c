/* SPDX-License-Identifier: MIT */
/* Description: the file sink on a full file system (a 1 MiB tmpfs):
 * ENOSPC reported once on stderr and in the sink's counters, the other
 * sinks (a per-entry sink elsewhere) still fed meanwhile, the file sink's
 * entries wait in the bus (nothing dropped), it writes what fits as soon
 * as a little space is back, and every entry once all of it is. Needs
 * root for mount(8); skipped without it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "logbus.h"
#include "outfiles.h"

#define FILLER_BYTES ((1u << 20) - (48u << 10))
#define FREED_BYTES (100u << 10)   /* the first room given back: a part of the backlog */
#define FULL 200                   /* entries published while the disk is full */
#define TOTAL 250

/* Publish entries first..first+count-1, in small batches (the lanes hold
 * them all, written or not). */
static void publish(logbus_t *lb, int first, int count)
{
	char msg[1000];

	memset(msg, 'x', sizeof(msg));
	for (int i = first; i < first + count; i++) {
		int n = snprintf(msg, sizeof(msg), "%d ", i);
		msg[n] = 'x';
		assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "full", msg, sizeof(msg)), 0);
		if (i % 10 == 9)
			harness_sleep_us(2000);
	}
}

static size_t count_of(const char *text, const char *what);

/* Wait up to 20 s until the writer's stderr holds what. */
static void await_stderr(const struct harness *h, const char *what)
{
	for (int i = 0; i < 2000; i++) {
		char *err = outfiles_stderr(h);
		size_t n = count_of(err, what);
		free(err);
		if (n)
			return;
		harness_sleep_us(10000);
	}
	fail_msg("the writer never said '%s'", what);
}

/* Entries in the file sink's files. */
static size_t file_entries(const struct harness *h)
{
	json_t *all = outfiles_entries(h->dir);
	size_t n = json_array_size(all);

	json_decref(all);
	return n;
}

/* Wait up to 20 s until the file sink holds more than n entries. */
static size_t await_more(const struct harness *h, size_t n)
{
	for (int i = 0; i < 2000; i++) {
		size_t now = file_entries(h);
		if (now > n)
			return now;
		harness_sleep_us(10000);
	}
	fail_msg("the file sink stayed at %zu entries with room on the disk", n);
	return 0;
}

/* Wait up to 20 s until dir holds n per-entry files. */
static void await_documents(const char *dir, size_t n)
{
	for (int i = 0; i < 2000 && outfiles_count(dir, ".json") < n; i++)
		harness_sleep_us(10000);
	assert_int_equal(outfiles_count(dir, ".json"), n);
}

static size_t count_of(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* Fill, overflow, free, resume; then check the accounting. */
static void test_disk_full(void **state)
{
	unsigned long long written, bytes, errors, dropped;
	char filler[400], entries[400], config[800], *err, *line;
	struct harness h;
	logbus_t *lb;
	json_t *all;
	int fd;

	(void)state;
	harness_init(&h, "full");
	assert_int_equal(mkdir(h.dir, 0750), 0);
	if (mount("tmpfs", h.dir, "tmpfs", 0, "size=1m") < 0) {
		rmdir(h.dir);
		skip();
	}
	snprintf(filler, sizeof(filler), "%s/filler", h.dir);
	fd = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(posix_fallocate(fd, 0, FILLER_BYTES), 0);
	close(fd);
	snprintf(entries, sizeof(entries), "%s.entries", h.dir);
	snprintf(config, sizeof(config), "{\"entry_files\":[{\"dir\":\"%s\",\"tag\":\"*\"}]}",
		 entries);
	outfiles_start(&h, outfiles_config(&h, "%s", config), NULL);
	lb = logbus_open(h.bus);
	assert_non_null(lb);

	publish(lb, 0, FULL);             /* about 220 KB: the disk fills */
	await_stderr(&h, "fails: No space left on device; its entries wait in the bus");
	/* The per-entry sink is not held up by the full one. */
	await_documents(entries, FULL);
	size_t before = file_entries(&h);
	assert_true(before < FULL);
	/* A little room: the file sink writes what fits of its backlog. */
	fd = open(filler, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, FILLER_BYTES - FREED_BYTES), 0);
	close(fd);
	size_t some = await_more(&h, before);
	assert_true(some < FULL);
	/* All the room: the rest, and what comes after. */
	assert_int_equal(unlink(filler), 0);
	publish(lb, FULL, TOTAL - FULL);
	assert_int_equal(logbus_flush(lb, 20000), 0);
	harness_stop_writer(&h);

	err = outfiles_stderr(&h);
	/* One line when the outage starts, naming the sink and where it
	 * writes, one when it ends, saying how long and how much waited. */
	assert_int_equal(count_of(err, "fails: "), 1);
	assert_int_equal(count_of(err, "sink file (directory "), 2);
	assert_int_equal(count_of(err, "fails: No space left on device"), 1);
	assert_int_equal(count_of(err, " works again after "), 1);
	assert_int_equal(count_of(err, " entries waited\n"), 1);
	line = strstr(err, "sink file: ");
	assert_non_null(line);
	assert_int_equal(sscanf(line, "sink file: %llu written, %llu bytes, %llu errors, "
				"%llu dropped", &written, &bytes, &errors, &dropped), 4);
	assert_int_equal(dropped, 0);
	assert_true(errors > 0);
	assert_int_equal(written, TOTAL);
	all = outfiles_entries(h.dir);
	assert_int_equal(json_array_size(all), TOTAL);
	/* Every entry once, in the order published. */
	for (int i = 0; i < TOTAL; i++) {
		char want[16];
		snprintf(want, sizeof(want), "%d ", i);
		const char *msg = outfiles_msg(all, (size_t)i);
		if (strncmp(msg, want, strlen(want)) != 0)
			fail_msg("entry %d of the file is '%.12s'", i, msg);
	}
	json_decref(all);
	assert_int_equal(outfiles_count(entries, ".json"), TOTAL);
	free(err);

	logbus_close(lb);
	assert_int_equal(umount(h.dir), 0);
	char cmd[500];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", entries);
	assert_int_equal(system(cmd), 0);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
