/* SPDX-License-Identifier: MIT */
/*
 * logbus-demo: a multi-process, multi-threaded client. Forks PROCESSES
 * children; each opens its own handle, and in each 4 threads publish
 * COUNT "request served" entries and a progress entry every 100, with
 * fields, through it (the library gives each thread a lane of its own).
 * Every return code is checked: a child exits 1 when a publish failed or
 * an entry did not reach the writer, and the parent exits 1 when any
 * child did.
 *
 * Each child opens its handle after the fork rather than inheriting the
 * parent's: a handle opened before fork() does work in the child (the
 * library re-arms it, tests/test-fork.c shows it), but opening after the
 * fork is the pattern that asks nothing of the fork handlers.
 *
 *	logbus-demo [COUNT [PROCESSES]]     (defaults: 1000, 2)
 *
 * scripts/demo.sh runs it beside a writer and the monitor.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <logbus.h>

#define THREADS 4

static logbus_t *lb;
static int count = 1000;

/* One thread's entries; returns NULL, or "failed" when a publish did. */
static void *worker(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < count; i++) {
		char w[32];
		struct logbus_field f[] = {
			{ "worker", w, (size_t)snprintf(w, sizeof(w), "%d.%ld", (int)getpid(), id) },
			{ "request", "GET /index.html", 15 },
		};
		int level = i % 50 == 0 ? LOGBUS_WARNING : LOGBUS_INFO;
		int r = logbus_publishv(lb, level, "demo", "request served", 14, f, 2);

		if (r == 0 && i % 100 == 0)
			r = logbus_publishf(lb, LOGBUS_NOTICE, "demo", "worker %s at %d of %d", w, i,
					    count);
		if (r < 0) {
			fprintf(stderr, "logbus-demo: worker %s: publish: %s\n", w, strerror(-r));
			return "failed";
		}
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return NULL;
}

/* Start the threads and wait for them; 1 when one failed or could not
 * start (those that did start are waited for all the same). */
static int run_threads(void)
{
	pthread_t t[THREADS];
	int status = 0, started, r;
	void *res;

	for (started = 0; started < THREADS; started++) {
		r = pthread_create(&t[started], NULL, worker, (void *)(long)started);
		if (r) {
			fprintf(stderr, "logbus-demo: pthread_create: %s\n", strerror(r));
			status = 1;
			break;
		}
	}
	for (int i = 0; i < started; i++)
		if (pthread_join(t[i], &res) || res)
			status = 1;
	return status;
}

/* Flush, and check that the writer wrote every entry; 1 when not. */
static int check_written(void)
{
	struct logbus_stats st;
	int status = 0, r;

	r = logbus_flush(lb, 5000);
	if (r < 0) {
		fprintf(stderr, "logbus-demo: logbus_flush: %s\n", strerror(-r));
		return 1;
	}
	r = logbus_stats_get(lb, &st);
	if (r < 0) {
		fprintf(stderr, "logbus-demo: logbus_stats_get: %s\n", strerror(-r));
		return 1;
	}
	if (st.queued != st.published) {
		fprintf(stderr, "logbus-demo: pid %d: %llu of %llu entries did not reach the "
			"writer (fallback or dropped)\n", (int)getpid(),
			(unsigned long long)(st.published - st.queued),
			(unsigned long long)st.published);
		status = 1;
	}
	return status;
}

/* A child's part: its handle, its threads, then the flush and the check
 * that the writer wrote every entry. Returns its exit status. */
static int child(void)
{
	int status;

	lb = logbus_open(NULL);
	if (!lb) {
		fprintf(stderr, "logbus-demo: logbus_open: %s\n", strerror(errno));
		return 1;
	}
	status = run_threads();
	if (status == 0)
		status = check_written();
	logbus_close(lb);
	return status;
}

/* Wait for every child; 1 when one failed. */
static int reap(int n)
{
	int status = 0, st;

	while (n > 0) {
		pid_t pid = wait(&st);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			break;
		n--;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			status = 1;
	}
	return status;
}

int main(int argc, char **argv)
{
	int procs = 2, started = 0, status = 0;

	if (argc > 1)
		count = atoi(argv[1]);
	if (argc > 2)
		procs = atoi(argv[2]);
	if (count < 0 || procs < 1) {
		fprintf(stderr, "usage: logbus-demo [COUNT [PROCESSES]]\n");
		return 2;
	}
	for (; started < procs; started++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(child());
		if (pid < 0) {
			fprintf(stderr, "logbus-demo: fork: %s\n", strerror(errno));
			status = 1;
			break;
		}
	}
	return status | reap(started);
}
