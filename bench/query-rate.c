/* SPDX-License-Identifier: MIT */
/*
 * query-rate - how fast logbus-query reads what the writer wrote.
 *
 * SYNOPSIS
 *	query-rate --query PATH [--out DIR] [--bytes BYTES] [--size BYTES]
 *	           [--tags N] [--runs N]
 *
 * DESCRIPTION
 *	A private logbus-writer writes about --bytes (default 1G) of JSON
 *	lines (messages of --size bytes, default 100, tags tag0..tagN-1
 *	in turn) into 64 MB files, plain, then the same entries again as
 *	zstd; the files go under --out (default $TMPDIR, else /tmp) and are
 *	removed at the end. Then, best of --runs (default 3) each:
 *	  scan: logbus-query -t tag3 -o json over all the files (stdout to
 *	        /dev/null): lines scanned per second, plain and zstd;
 *	  tail: logbus-query -n 10 over the same files: wall time, process
 *	        start included.
 *	One JSON object a line on stdout per figure.
 *
 * EXIT STATUS
 *	0 measured; 1 something failed (one line on stderr says what).
 *
 * EXAMPLES
 *	query-rate --query build/query/logbus-query --out build
 *	meson test -C build --benchmark query-rate -v
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "logbus.h"

struct options {
	const char *query, *out;
	uint64_t bytes;
	size_t size;
	unsigned tags, runs;
};

/* One producer's share: count entries, tags in turn, retried while the
 * lane is full; then waits until the writer wrote them. */
static void produce(const char *bus, uint64_t first, uint64_t count, const char *msg,
		    unsigned tags)
{
	logbus_t *lb = logbus_open(bus);
	char tag[16];

	if (!lb)
		bench_fail("logbus_open", errno);
	for (uint64_t i = first; i < first + count; i++) {
		snprintf(tag, sizeof(tag), "tag%u", (unsigned)(i % tags));
		int r;
		while ((r = logbus_publish(lb, LOGBUS_INFO, tag, msg, strlen(msg))) == -EAGAIN)
			sched_yield();
		if (r < 0)
			bench_fail("logbus_publish", -r);
	}
	if (logbus_flush(lb, 600000) < 0)
		bench_fail("logbus_flush", ETIMEDOUT);
	logbus_close(lb);
}

/* Write count entries through a writer with config; the directory stays. */
static void write_files(struct bench_writer *w, const char *what, const char *config,
			uint64_t count, const struct options *o)
{
	const char *extra[] = { "--config", config, "--lanes", "4", "--lane-size", "64M", NULL };
	char *msg = bench_message(o->size);
	pid_t pids[2];

	int r = bench_writer_start(w, what, extra);
	if (r < 0)
		bench_fail("logbus-writer", -r);
	for (int p = 0; p < 2; p++) {
		pids[p] = fork();
		if (pids[p] < 0)
			bench_fail("fork", errno);
		if (pids[p] == 0) {
			produce(w->bus, (uint64_t)p * (count / 2), count / 2, msg, o->tags);
			_exit(0);
		}
	}
	if (!bench_wait_children(pids, 2))
		bench_fail("producer", ECHILD);
	if (bench_writer_stop(w) != 0)
		bench_fail("logbus-writer stop", ECHILD);
	free(msg);
}

/* Wall time of one logbus-query run with args, stdout to /dev/null. */
static double run_query(const struct options *o, const char *const *args)
{
	const char *argv[16] = { o->query };
	size_t n = 1;
	int status;

	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	uint64_t t0 = bench_now_ns();
	pid_t pid = fork();
	if (pid < 0)
		bench_fail("fork", errno);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		dup2(fd, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_fail("logbus-query", ECHILD);
	return (double)(bench_now_ns() - t0) / 1e9;
}

static double best_of(const struct options *o, const char *const *args)
{
	double best = 1e30;

	for (unsigned i = 0; i < o->runs; i++) {
		double t = run_query(o, args);
		best = t < best ? t : best;
	}
	return best;
}

static uint64_t dir_bytes(const char *dir)
{
	char cmd[600];
	unsigned long long kb = 0;

	snprintf(cmd, sizeof(cmd), "du -sk '%s'", dir);
	FILE *p = popen(cmd, "re");
	if (p && fscanf(p, "%llu", &kb) != 1)
		kb = 0;
	if (p)
		pclose(p);
	return (uint64_t)kb << 10;
}

static void measure(const struct options *o, const char *what, const char *dir, uint64_t lines)
{
	double scan = best_of(o, (const char *[]){ "--dir", dir, "-t", "tag3", "-o", "json", NULL });
	double tail = best_of(o, (const char *[]){ "--dir", dir, "-n", "10", NULL });

	printf("{\"bench\":\"query-scan\",\"files\":\"%s\",\"lines\":%llu,\"file_bytes\":%llu,"
	       "\"filter\":\"-t tag3\",\"seconds\":%.3f,\"lines_per_s\":%.0f}\n", what,
	       (unsigned long long)lines, (unsigned long long)dir_bytes(dir), scan,
	       (double)lines / scan);
	printf("{\"bench\":\"query-tail\",\"files\":\"%s\",\"lines\":%llu,\"file_bytes\":%llu,"
	       "\"args\":\"-n 10\",\"ms\":%.1f}\n", what, (unsigned long long)lines,
	       (unsigned long long)dir_bytes(dir), tail * 1e3);
	fflush(stdout);
}

static const char *config_file(const char *out, const char *name, const char *json)
{
	static char path[2][600];
	static int k;
	char *p = path[k++ % 2];

	snprintf(p, 600, "%s/query-rate-%s.json", out, name);
	FILE *f = fopen(p, "we");
	if (!f || fputs(json, f) < 0 || fclose(f) != 0)
		bench_fail(p, errno);
	return p;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "query", required_argument, NULL, 'q' }, { "out", required_argument, NULL, 'o' },
		{ "bytes", required_argument, NULL, 'b' }, { "size", required_argument, NULL, 's' },
		{ "tags", required_argument, NULL, 't' }, { "runs", required_argument, NULL, 'r' },
		{ 0 },
	};
	struct options o = { .bytes = UINT64_C(1) << 30, .size = 100, .tags = 10, .runs = 3 };
	struct bench_writer plain, zstd;
	int c;

	o.out = getenv("TMPDIR");
	while ((c = getopt_long(argc, argv, "q:o:b:s:t:r:", longopts, NULL)) != -1) {
		switch (c) {
		case 'q': o.query = optarg; break;
		case 'o': o.out = optarg; break;
		case 'b': o.bytes = (uint64_t)bench_number(optarg); break;
		case 's': o.size = (size_t)bench_number(optarg); break;
		case 't': o.tags = (unsigned)bench_number(optarg); break;
		case 'r': o.runs = (unsigned)bench_number(optarg); break;
		default:
			fprintf(stderr, "usage: query-rate --query PATH [--out DIR] [--bytes B] "
				"[--size B] [--tags N] [--runs N]\n");
			return 1;
		}
	}
	if (!o.query || !o.tags || !o.runs) {
		fprintf(stderr, "query-rate: --query PATH is needed (and --tags, --runs > 0)\n");
		return 1;
	}
	if (!o.out || !*o.out)
		o.out = "/tmp";
	setenv("TMPDIR", o.out, 1);   /* where bench_writer_start puts its directory */

	/* A line is the message plus about 150 bytes of keys and numbers. */
	uint64_t count = o.bytes / (o.size + 150) / 2 * 2;
	write_files(&plain, "query-plain",
		    config_file(o.out, "plain", "{\"file\":{\"rotate_size\":\"64M\",\"keep_files\":0}}"),
		    count, &o);
	write_files(&zstd, "query-zstd",
		    config_file(o.out, "zstd", "{\"file\":{\"compress\":\"zstd\","
						"\"rotate_size\":\"64M\",\"keep_files\":0}}"),
		    count, &o);
	uint64_t lines = bench_count_lines(plain.dir);
	if (lines != count)
		fprintf(stderr, "query-rate: %llu lines written of %llu\n",
			(unsigned long long)lines, (unsigned long long)count);
	measure(&o, "plain", plain.dir, lines);
	measure(&o, "zstd", zstd.dir, count);
	bench_writer_cleanup(&plain);
	bench_writer_cleanup(&zstd);
	return 0;
}
