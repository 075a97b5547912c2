/* SPDX-License-Identifier: MIT */
/* Description: a fallback nobody reads never blocks a publisher. With no
 * bus and stderr a pipe that is never read, two threads publishing through
 * one handle finish: what the pipe cannot take now is dropped and counted
 * (dropped_fallback), what it took is whole JSON lines, a line the pipe
 * took only in part is finished before any other, and a pipe whose reader
 * left raises no SIGPIPE. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
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
#include "logbus.h"

#define PER_THREAD 5000
#define BIG 10000      /* a line larger than a pipe page: taken in part */

struct shared {
	_Atomic int step;
	int unexpected;            /* publishes that returned neither 0 nor -EAGAIN */
	struct logbus_stats stats;
};

static struct shared *sh;

static void step_wait(int step)
{
	while (sh->step < step)
		harness_sleep_us(1000);
}

/* Wait for pid at most 60 s: a publisher stuck in the fallback fails the
 * test instead of hanging it. */
static void wait_child(pid_t pid)
{
	int st;

	for (int i = 0; i < 60000; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				fail_msg("the client ended with status 0x%x", st);
			return;
		}
		harness_sleep_us(1000);
	}
	kill(pid, SIGKILL);
	fail_msg("the client's publishes blocked on the fallback for 60 s");
}

static void *publisher(void *lb)
{
	for (int i = 0; i < PER_THREAD; i++) {
		int r = logbus_publishf(lb, LOGBUS_INFO, "pipe", "entry %d %-100s", i, "pad");
		if (r != 0 && r != -EAGAIN)
			sh->unexpected++;
	}
	return NULL;
}

/* A handle on a bus that does not exist, stderr being fd. */
static logbus_t *open_on_stderr(int fd)
{
	logbus_t *lb;

	if (dup2(fd, STDERR_FILENO) < 0 || unsetenv("LOGBUS_FALLBACK") < 0 ||
	    !(lb = logbus_open("t-fallback-pipe-nosuchbus")))
		_exit(1);
	return lb;
}

static void child_end(logbus_t *lb)
{
	(void)logbus_stats_get(lb, &sh->stats);
	logbus_close(lb);
	_exit(0);
}

/* Read what the pipe holds (up to EOF or nothing more for now) and count
 * its lines, each of which must be whole, valid JSON. */
static int read_lines(int fd, bool to_eof)
{
	static char line[BIG * 2];
	static size_t have;
	char buf[65536];
	int lines = 0;
	ssize_t n;

	(void)fcntl(fd, F_SETFL, to_eof ? 0 : O_NONBLOCK);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			json_error_t err;
			json_t *v;

			assert_true(have < sizeof(line));
			if (buf[i] != '\n') {
				line[have++] = buf[i];
				continue;
			}
			v = json_loadb(line, have, 0, &err);
			if (!v)
				fail_msg("line %d of the fallback is not JSON: %s", lines, err.text);
			json_decref(v);
			have = 0;
			lines++;
		}
	}
	if (to_eof && have)
		fail_msg("the fallback ends in a cut line of %zu bytes", have);
	return lines;
}

/* A pipe, and a client forked with its write end as stderr: in the child
 * *lb is its handle (on a bus that does not exist) and the read end is
 * closed; returns as harness_fork. */
static pid_t fork_on_pipe(int p[2], logbus_t **lb)
{
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = harness_fork();
	if (pid == 0) {
		*lb = open_on_stderr(p[1]);
		close(p[0]);
	}
	return pid;
}

/* Two threads, 10,000 entries, a 64 KiB pipe never read: both finish, the
 * pipe holds whole lines, the rest is counted as dropped. */
static void test_pipe_nobody_reads(void **state)
{
	int p[2], lines;
	logbus_t *lb;
	pid_t pid;

	(void)state;
	pid = fork_on_pipe(p, &lb);
	if (pid == 0) {
		pthread_t t[2];

		for (int i = 0; i < 2; i++)
			if (pthread_create(&t[i], NULL, publisher, lb) != 0)
				_exit(1);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		child_end(lb);
	}
	close(p[1]);
	wait_child(pid);
	lines = read_lines(p[0], true);
	close(p[0]);

	assert_int_equal(sh->unexpected, 0);
	assert_int_equal(sh->stats.fallback + sh->stats.dropped_fallback, 2 * PER_THREAD);
	assert_true(sh->stats.dropped_fallback > 0);
	assert_int_equal(lines, sh->stats.fallback);
}

/* Publish n entries of BIG bytes. */
static void publish_big(logbus_t *lb, int n)
{
	static char msg[BIG];

	memset(msg, 'b', sizeof(msg));
	for (int i = 0; i < n; i++) {
		int r = logbus_publish(lb, LOGBUS_INFO, "pipe", msg, sizeof(msg));
		if (r != 0 && r != -EAGAIN)
			sh->unexpected++;
	}
}

/* Lines larger than a pipe page: the one the full pipe took in part is
 * finished, once the reader drained the pipe, before the next line. */
static void test_pipe_line_in_part(void **state)
{
	int p[2], lines;
	logbus_t *lb;
	pid_t pid;

	(void)state;
	pid = fork_on_pipe(p, &lb);
	if (pid == 0) {
		publish_big(lb, 50);
		sh->step = 1;
		step_wait(2);
		publish_big(lb, 50);
		sh->step = 3;
		step_wait(4);
		publish_big(lb, 1);   /* the pipe is empty: the rest, then this */
		child_end(lb);
	}
	close(p[1]);
	step_wait(1);
	lines = read_lines(p[0], false);
	sh->step = 2;
	step_wait(3);
	lines += read_lines(p[0], false);
	sh->step = 4;
	wait_child(pid);
	lines += read_lines(p[0], true);
	close(p[0]);

	assert_int_equal(sh->unexpected, 0);
	assert_int_equal(sh->stats.fallback + sh->stats.dropped_fallback, 101);
	assert_true(sh->stats.dropped_fallback > 0);
	assert_int_equal(lines, sh->stats.fallback);
}

/* The reader closed its end: publishes fail with -EIO, counted, and the
 * process gets no SIGPIPE. */
static void test_pipe_reader_gone(void **state)
{
	int p[2];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	pid = harness_fork();
	if (pid == 0) {
		logbus_t *lb = open_on_stderr(p[1]);

		for (int i = 0; i < 10; i++)
			if (logbus_publish(lb, LOGBUS_INFO, "pipe", "gone", 4) != -EIO)
				sh->unexpected++;
		child_end(lb);
	}
	close(p[1]);
	wait_child(pid);
	assert_int_equal(sh->unexpected, 0);
	assert_int_equal(sh->stats.dropped_fallback, 10);
	assert_int_equal(sh->stats.fallback, 0);
}

static int setup(void **state)
{
	(void)state;
	sh = harness_shared(sizeof(*sh));
	*sh = (struct shared){ .step = 0 };
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pipe_nobody_reads, setup),
		cmocka_unit_test_setup(test_pipe_line_in_part, setup),
		cmocka_unit_test_setup(test_pipe_reader_gone, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
