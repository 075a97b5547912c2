/* SPDX-License-Identifier: MIT */
/* The benchmarks' shared helpers: timer, percentiles, a private writer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bus.h"

#ifndef LOGBUS_WRITER_PATH
#define LOGBUS_WRITER_PATH "logbus-writer"
#endif

void bench_fail(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(err));
	exit(1);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

void bench_pace_until(uint64_t tick)
{
	/* Yield rather than spin: on 2 cores, paced producers that spin
	 * would starve the writer they are measured against. */
	while (__rdtsc() < tick)
		sched_yield();
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void bench_sort(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
}

/* The median cost of an empty timed pair, over many tries. */
static uint64_t timer_overhead(void)
{
	enum { N = 200000 };
	uint64_t *v = malloc(N * sizeof(*v)), med;

	if (!v)
		bench_fail("timer overhead", ENOMEM);
	for (size_t i = 0; i < N; i++) {
		uint64_t t0 = bench_t0();
		v[i] = bench_t1() - t0;
	}
	bench_sort(v, N);
	med = v[N / 2];
	free(v);
	return med;
}

void bench_tsc_calibrate(struct bench_tsc *t)
{
	uint64_t n0 = clock_ns(CLOCK_MONOTONIC_RAW), c0 = bench_t0(), n1, c1;

	nanosleep(&(struct timespec){ .tv_nsec = 200000000 }, NULL);
	n1 = clock_ns(CLOCK_MONOTONIC_RAW);
	c1 = bench_t0();
	t->ns_per_tick = (double)(n1 - n0) / (double)(c1 - c0);
	t->overhead = timer_overhead();
}

double bench_tick_ns(uint64_t ticks, const struct bench_tsc *t)
{
	return ticks > t->overhead ? (double)(ticks - t->overhead) * t->ns_per_tick : 0.0;
}

static double quantile(const uint64_t *sorted, size_t n, double q, const struct bench_tsc *t)
{
	size_t i = (size_t)ceil(q * (double)n);

	return bench_tick_ns(sorted[i ? i - 1 : 0], t);
}

void bench_quantiles(const uint64_t *sorted, size_t n, const struct bench_tsc *t,
		     struct bench_quantiles *q)
{
	double sum = 0;

	*q = (struct bench_quantiles){ 0 };
	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		sum += bench_tick_ns(sorted[i], t);
	q->mean = sum / (double)n;
	q->p50 = quantile(sorted, n, 0.50, t);
	q->p90 = quantile(sorted, n, 0.90, t);
	q->p99 = quantile(sorted, n, 0.99, t);
	q->p999 = quantile(sorted, n, 0.999, t);
	q->max = bench_tick_ns(sorted[n - 1], t);
}

void bench_json_quantiles(FILE *f, const struct bench_quantiles *q)
{
	fprintf(f, "\"p50_ns\":%.1f,\"p90_ns\":%.1f,\"p99_ns\":%.1f,\"p999_ns\":%.1f,"
		   "\"max_ns\":%.1f,\"mean_ns\":%.1f",
		q->p50, q->p90, q->p99, q->p999, q->max, q->mean);
}

int bench_write_cdf(const char *path, const uint64_t *sorted, size_t n,
		    const struct bench_tsc *t)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	/* Steps halve the distance to 100% every 10 lines: 0, 6.7, ..., 50,
	 * ..., 99, ..., 99.9, ..., as far as the samples reach. */
	for (int i = 0;; i++) {
		double p = 1.0 - pow(0.5, i / 10.0);
		if (p * (double)n > (double)n - 1)
			break;
		fprintf(f, "%.6f %.1f\n", p * 100.0, quantile(sorted, n, p, t));
	}
	fprintf(f, "100 %.1f\n", bench_tick_ns(sorted[n - 1], t));
	return fclose(f) ? -errno : 0;
}

/* Whether the bus exists and names pid as its writer. */
static bool writer_ready(const char *bus, pid_t pid)
{
	struct lb_bus b;
	bool ready;

	if (lb_bus_attach(bus, false, &b, NULL) < 0)
		return false;
	ready = lb_bus_writer_pid(&b) == pid;
	lb_bus_detach(&b);
	return ready;
}

static const char *writer_path(void)
{
	const char *p = getenv("LOGBUS_BENCH_WRITER");

	return p && *p ? p : LOGBUS_WRITER_PATH;
}

static pid_t spawn_writer(struct bench_writer *w, const char *const *extra)
{
	const char *argv[32] = { writer_path(), "--bus", w->bus, "--dir", w->dir };
	int argc = 5;
	pid_t pid;

	for (; extra && *extra && argc < 31; extra++)
		argv[argc++] = *extra;
	argv[argc] = NULL;
	pid = fork();
	if (pid == 0) {
		/* A benchmark that fails (bench_fail) leaves no writer behind. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "bench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

int bench_writer_start(struct bench_writer *w, const char *what, const char *const *extra)
{
	const char *tmp = getenv("TMPDIR");
	int status;

	snprintf(w->bus, sizeof(w->bus), "bench-%.30s-%d", what, (int)getpid());
	snprintf(w->dir, sizeof(w->dir), "%s/logbus-%s", tmp && *tmp ? tmp : "/tmp", w->bus);
	(void)lb_bus_unlink(w->bus);
	w->pid = spawn_writer(w, extra);
	if (w->pid < 0)
		return -errno;
	for (int i = 0; i < 1000 && !writer_ready(w->bus, w->pid); i++) {
		if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
			fprintf(stderr, "%s: logbus-writer exited during start-up, status 0x%x\n",
				program_invocation_short_name, status);
			w->pid = 0;
			return -ECHILD;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	return writer_ready(w->bus, w->pid) ? 0 : -ETIMEDOUT;
}

int bench_writer_stop(struct bench_writer *w)
{
	int status;

	if (w->pid <= 0)
		return -ECHILD;
	if (kill(w->pid, SIGTERM) < 0 || waitpid(w->pid, &status, 0) < 0)
		return -errno;
	w->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void remove_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		(void)unlink(p);
	}
	closedir(d);
	(void)rmdir(path);
}

void bench_writer_cleanup(struct bench_writer *w)
{
	(void)lb_bus_unlink(w->bus);
	if (!getenv("LOGBUS_BENCH_KEEP"))
		remove_dir(w->dir);
}

double bench_cpu_seconds(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* Fields after the command's closing parenthesis: state is field 3,
	 * utime 14 and stime 15. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static uint64_t file_lines(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[1 << 16];
	uint64_t lines = 0;
	ssize_t n;

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))); p++)
			lines++;
	close(fd);
	return lines;
}

uint64_t bench_count_lines(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t lines = 0;
	char p[512];

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 6, ".jsonl"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		lines += file_lines(p);
	}
	closedir(d);
	return lines;
}

void *bench_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		bench_fail("shared memory", errno);
	memset(p, 0, size);   /* fault it in now, not in a timed loop */
	return p;
}

bool bench_wait_children(const pid_t *pids, size_t n)
{
	bool ok = true;
	int status;

	for (size_t i = 0; i < n; i++)
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			ok = false;
	return ok;
}

double bench_number(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*end == 'K' || *end == 'k')
		v *= 1024, end++;
	else if (*end == 'M' || *end == 'm')
		v *= 1024 * 1024, end++;
	if (errno || end == s || *end || v < 0) {
		fprintf(stderr, "%s: '%s': not a number\n", program_invocation_short_name, s);
		exit(1);
	}
	return v;
}

char *bench_message(size_t size)
{
	static const char text[] = "The quick brown fox jumps over the lazy dog 0123456789. ";
	char *m = malloc(size + 1);

	if (!m)
		bench_fail("message", ENOMEM);
	for (size_t i = 0; i < size; i++)
		m[i] = text[i % (sizeof(text) - 1)];
	m[size] = '\0';
	return m;
}
