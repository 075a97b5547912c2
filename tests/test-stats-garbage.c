/* SPDX-License-Identifier: MIT */
/* Description: a stats segment that is garbage, of another version,
 * truncated, empty, or a real one with a random body gives readers a clear
 * error or sane values, never a crash. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "stats.h"
#include "stattest.h"

#define HEADER_BYTES 192   /* the random-body case keeps the header */

static int open_segment(const char *bus, int flags)
{
	char path[LB_BUS_PATH_MAX];
	int fd;

	assert_int_equal(lb_bus_path(bus, LB_STATS_SUFFIX, path), 0);
	fd = shm_open(path, flags | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	return fd;
}

static void write_segment(const char *bus, const void *bytes, size_t len)
{
	int fd = open_segment(bus, O_RDWR | O_CREAT | O_TRUNC);

	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	close(fd);
}

/* The segment a real writer left, in a buffer of *len bytes. */
static uint8_t *real_segment(struct harness *h, size_t *len)
{
	static const char *const args[] = { "--lanes", "4", "--lane-size", "64K", NULL };
	uint8_t *buf = malloc(1 << 20);
	ssize_t n;
	int fd;

	assert_non_null(buf);
	harness_start_writer(h, args);
	harness_stop_writer(h);
	fd = open_segment(h->bus, O_RDONLY);
	n = read(fd, buf, 1 << 20);
	close(fd);
	assert_true(n > HEADER_BYTES);
	*len = (size_t)n;
	return buf;
}

/* logbus-stat on the bus: exit status 1 and a message holding what. */
static void assert_stat_says(const char *bus, const char *what)
{
	int st;
	char *out = stattest_run(&st, "%s --bus %s 2>&1", stattest_stat_path(), bus);

	assert_int_equal(st, 1);
	if (!strstr(out, what))
		fail_msg("logbus-stat said '%s', expected it to say '%s'", out, what);
	free(out);
}

static void assert_read_fails(const char *bus, int err)
{
	struct lb_stats_snapshot snap;
	struct lb_bus_error why;

	assert_int_equal(lb_stats_read(bus, &snap, &why), err);
}

/* Random bytes: not a stats segment. */
static void test_garbage(void **state)
{
	uint8_t junk[8192];
	struct harness h;

	(void)state;
	harness_init(&h, "stats-junk");
	srandom(1);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)random();
	write_segment(h.bus, junk, sizeof(junk));
	assert_read_fails(h.bus, -EPROTO);
	assert_stat_says(h.bus, "is not a logbus stats segment");
	harness_fini(&h);
}

/* A real segment whose version is 99: named as such. */
static void test_other_version(void **state)
{
	uint32_t version = 99;
	struct harness h;
	size_t len;
	uint8_t *seg;

	(void)state;
	harness_init(&h, "stats-version");
	seg = real_segment(&h, &len);
	memcpy(seg + LB_STATS_VERSION_OFFSET, &version, sizeof(version));
	write_segment(h.bus, seg, len);
	assert_read_fails(h.bus, -EPROTONOSUPPORT);
	assert_stat_says(h.bus, "version 99; this reader knows version 2");
	free(seg);
	harness_fini(&h);
}

/* A real segment cut in half, and an empty one. */
static void test_truncated(void **state)
{
	struct harness h;
	size_t len;
	uint8_t *seg;

	(void)state;
	harness_init(&h, "stats-cut");
	seg = real_segment(&h, &len);
	write_segment(h.bus, seg, len / 2);
	assert_read_fails(h.bus, -EBADMSG);
	assert_stat_says(h.bus, "damaged");
	write_segment(h.bus, seg, 0);
	assert_read_fails(h.bus, -EAGAIN);
	assert_stat_says(h.bus, "not a logbus stats segment");
	free(seg);
	harness_fini(&h);
}

/* Every name of a snapshot is a printable C string; counts in bounds. */
static void assert_sane(const struct lb_stats_snapshot *s)
{
	assert_true(s->nsinks <= LB_STATS_SINKS_MAX && s->nhooks <= LB_STATS_HOOKS_MAX);
	for (uint32_t i = 0; i < s->nclients; i++) {
		const char *c = s->clients[i].comm;
		assert_true(memchr(c, '\0', sizeof(s->clients[i].comm)) != NULL);
		for (; *c; c++)
			assert_true(*c >= 0x20 && *c < 0x7f);
		assert_true(s->clients[i].state <= LB_STATS_CLIENT_RELEASED);
	}
}

/* A real header over random bodies: the reader and every output of
 * logbus-stat stay on their feet. */
static void test_random_body(void **state)
{
	static const char *const formats[] = { "--text", "--json", "--prometheus" };
	struct harness h;
	size_t len;
	uint8_t *seg;

	(void)state;
	harness_init(&h, "stats-body");
	seg = real_segment(&h, &len);
	for (unsigned seed = 1; seed <= 20; seed++) {
		struct lb_stats_snapshot snap;
		struct lb_bus_error why;
		srandom(seed);
		for (size_t i = HEADER_BYTES; i < len; i++)
			seg[i] = (uint8_t)random();
		write_segment(h.bus, seg, len);
		int r = lb_stats_read(h.bus, &snap, &why);
		assert_true(r == 0 || r == -EBADMSG);
		if (r == 0)
			assert_sane(&snap);
		lb_stats_snapshot_free(&snap);
		for (size_t f = 0; f < 3; f++) {
			int st;
			free(stattest_run(&st, "%s --bus %s %s >/dev/null 2>&1",
					  stattest_stat_path(), h.bus, formats[f]));
			if (st != 0 && st != 1)
				fail_msg("logbus-stat %s on seed %u: status %d", formats[f], seed,
					 st);
		}
	}
	free(seg);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_other_version),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_random_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
