/* SPDX-License-Identifier: MIT */
/* Description: the spool (writer/spool.c) as a crash leaves it: records
 * synced come back in order after a reopen, from the saved read position;
 * a torn or garbled last record is cut off; segments read are removed;
 * spool_max refuses a record that does not fit. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
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
#include "outfiles.h"
#include "spool.h"

#define MAX (UINT64_C(64) << 20)

static struct harness h;
static int dirfd_;

static int setup(void **state)
{
	(void)state;
	harness_init(&h, "spool");
	assert_int_equal(mkdir(h.dir, 0750), 0);
	dirfd_ = open(h.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dirfd_ >= 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(dirfd_);
	harness_fini(&h);
	return 0;
}

static void append_n(struct spool *sp, int first, int n, size_t pad)
{
	char rec[4096];

	for (int i = first; i < first + n; i++) {
		memset(rec, 'p', pad);
		int len = snprintf(rec + pad, sizeof(rec) - pad, "record %d", i);
		assert_int_equal(spool_append(sp, rec, pad + (size_t)len), 0);
	}
	assert_int_equal(spool_sync(sp), 0);
}

/* Read records, expecting first..first+n-1; returns the end position. */
static struct spool_pos expect_n(struct spool *sp, int first, int n, size_t pad)
{
	struct lb_buf b = { 0 };
	struct spool_pos end = { 0, 0 };
	char want[32];

	for (int i = first; i < first + n; i++) {
		assert_int_equal(spool_next(sp, &b, &end), 1);
		int len = snprintf(want, sizeof(want), "record %d", i);
		if (b.len != pad + (size_t)len || memcmp(b.data + pad, want, (size_t)len))
			fail_msg("record %d: got '%.*s'", i, (int)b.len, b.data);
	}
	lb_buf_free(&b);
	return end;
}

static void expect_end(struct spool *sp)
{
	struct lb_buf b = { 0 };
	struct spool_pos end;

	assert_int_equal(spool_next(sp, &b, &end), 0);
	lb_buf_free(&b);
}

/* The last segment's path. */
static void last_segment(char *path, size_t cap)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "ls '%s'/q/*.seg | tail -1", h.dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(path, (int)cap, p));
	path[strcspn(path, "\n")] = '\0';
	pclose(p);
}

/* Records come back in order across a reopen, from the committed place. */
static void test_reopen(void **state)
{
	struct spool sp;

	(void)state;
	assert_int_equal(spool_open(&sp, dirfd_, "q", MAX), 0);
	assert_true(spool_empty(&sp));
	append_n(&sp, 0, 100, 0);
	struct spool_pos mid = expect_n(&sp, 0, 40, 0);
	assert_int_equal(spool_commit(&sp, mid), 0);
	expect_n(&sp, 40, 10, 0);   /* read, not committed: comes again */
	spool_close(&sp);

	assert_int_equal(spool_open(&sp, dirfd_, "q", MAX), 0);
	assert_false(spool_empty(&sp));
	struct spool_pos end = expect_n(&sp, 40, 60, 0);
	expect_end(&sp);
	spool_rewind(&sp);
	expect_n(&sp, 40, 1, 0);
	assert_int_equal(spool_commit(&sp, end), 0);
	assert_true(spool_empty(&sp));
	spool_close(&sp);
}

/* A record cut short (a kill mid-append) and garbage after the last
 * whole record are cut off at the next open; appends go on after them. */
static void test_torn_tail(void **state)
{
	struct spool sp;
	char path[512];
	struct stat st;

	(void)state;
	assert_int_equal(spool_open(&sp, dirfd_, "q", MAX), 0);
	append_n(&sp, 0, 10, 0);
	spool_close(&sp);
	last_segment(path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 3), 0);   /* record 9 torn */
	assert_int_equal(spool_open(&sp, dirfd_, "q", MAX), 0);
	append_n(&sp, 9, 1, 0);
	spool_close(&sp);
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x05\0\0\0\xde\xad\xbe\xefhello", 13), 13);   /* bad CRC */
	close(fd);

	assert_int_equal(spool_open(&sp, dirfd_, "q", MAX), 0);
	append_n(&sp, 10, 1, 0);
	expect_n(&sp, 0, 11, 0);
	expect_end(&sp);
	spool_close(&sp);
}

/* Past 8 MiB a new segment starts; committing past one removes it. */
static void test_segments(void **state)
{
	struct spool sp;

	(void)state;
	assert_int_equal(spool_open(&sp, dirfd_, "q", MAX), 0);
	append_n(&sp, 0, 6000, 3000);   /* about 18 MB: three segments */
	char path[512];
	snprintf(path, sizeof(path), "%s/q", h.dir);
	assert_int_equal(outfiles_count(path, ".seg"), 3);
	struct spool_pos end = expect_n(&sp, 0, 4000, 3000);
	assert_int_equal(spool_commit(&sp, end), 0);
	assert_int_equal(outfiles_count(path, ".seg"), 2);
	spool_close(&sp);
	assert_int_equal(spool_open(&sp, dirfd_, "q", MAX), 0);
	expect_n(&sp, 4000, 2000, 3000);
	expect_end(&sp);
	spool_close(&sp);
}

/* spool_max: a record that does not fit is refused, what fits stays. */
static void test_max(void **state)
{
	struct spool sp;
	char rec[1000] = { 0 };

	(void)state;
	assert_int_equal(spool_open(&sp, dirfd_, "q", 10000), 0);
	int n = 0;
	while (spool_append(&sp, rec, sizeof(rec)) == 0)
		n++;
	assert_int_equal(n, 9);   /* 9 x (8 + 1000) bytes fit in 10000 */
	assert_int_equal(spool_append(&sp, rec, sizeof(rec)), -ENOSPC);
	spool_close(&sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
