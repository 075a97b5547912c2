/* SPDX-License-Identifier: MIT */
/*
 * spool-rate - how fast a remote sink's spool (writer/spool.c) takes and
 * gives back records.
 *
 * SYNOPSIS
 *	spool-rate [--count N] [--size BYTES] [--batch N] [--dir DIR]
 *
 * DESCRIPTION
 *	Appends --count records of --size bytes to a fresh spool in DIR
 *	(default: ./spool-rate.d, so under the build directory when run from
 *	it), syncing after every --batch records as a sink does before it
 *	acknowledges a batch; then reads them all back in order, committing
 *	the read position every --batch records, as a replay does. Prints one
 *	JSON object: records/s and MB/s for each phase. Removes the spool.
 *
 * EXIT STATUS
 *	0 measured; 1 something failed (one line on stderr says what).
 *
 * EXAMPLES
 *	spool-rate --count 1000000 --size 200 --batch 1000
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, int r)
{
	fprintf(stderr, "spool-rate: %s: %s\n", what, strerror(-r));
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' }, { "size", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' }, { "dir", required_argument, NULL, 'd' },
		{ 0 },
	};
	size_t count = 1000000, size = 200, batch = 1000;
	const char *dir = "spool-rate.d";
	struct spool sp;
	struct spool_pos end = { 0, 0 };
	struct lb_buf rec = { 0 };
	int c, r;

	while ((c = getopt_long(argc, argv, "n:s:b:d:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 's': size = strtoull(optarg, NULL, 10); break;
		case 'b': batch = strtoull(optarg, NULL, 10); break;
		case 'd': dir = optarg; break;
		default:
			fprintf(stderr, "usage: spool-rate [--count N] [--size BYTES] [--batch N] "
				"[--dir DIR]\n");
			return 1;
		}
	}
	if (!count || !size || !batch) {
		fprintf(stderr, "spool-rate: --count, --size and --batch must be > 0\n");
		return 1;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return fail(dir, -errno);
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return fail(dir, -errno);
	char *data = malloc(size);
	if (!data)
		return fail("memory", -ENOMEM);
	memset(data, 'x', size);
	if ((r = spool_open(&sp, dirfd, "bench", UINT64_MAX)) < 0)
		return fail("spool_open", r);

	double t0 = now_s();
	for (size_t i = 0; i < count; i++) {
		if ((r = spool_append(&sp, data, size)) < 0)
			return fail("spool_append", r);
		if ((i + 1) % batch == 0 && (r = spool_sync(&sp)) < 0)
			return fail("spool_sync", r);
	}
	if ((r = spool_sync(&sp)) < 0)
		return fail("spool_sync", r);
	double t1 = now_s();
	size_t got = 0;
	while ((r = spool_next(&sp, &rec, &end)) == 1) {
		if (++got % batch == 0 && (r = spool_commit(&sp, end)) < 0)
			return fail("spool_commit", r);
	}
	if (r < 0)
		return fail("spool_next", r);
	(void)spool_commit(&sp, end);
	double t2 = now_s();
	if (got != count || !spool_empty(&sp)) {
		fprintf(stderr, "spool-rate: read back %zu of %zu records\n", got, count);
		return 1;
	}
	spool_close(&sp);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/bench'", dir);
	(void)!system(cmd);
	double mb = (double)count * (double)size / 1e6;
	printf("{\"bench\": \"spool-rate\", \"records\": %zu, \"size\": %zu, \"batch\": %zu, "
	       "\"write_per_s\": %.0f, \"write_mb_per_s\": %.1f, \"replay_per_s\": %.0f, "
	       "\"replay_mb_per_s\": %.1f}\n", count, size, batch, (double)count / (t1 - t0),
	       mb / (t1 - t0), (double)count / (t2 - t1), mb / (t2 - t1));
	lb_buf_free(&rec);
	free(data);
	close(dirfd);
	return 0;
}
