/* SPDX-License-Identifier: MIT */
/*
 * Command hooks: argv run with posix_spawnp (no shell ever parses it),
 * started when the first entry matches, kept running, and fed each
 * matching entry as one JSON line on stdin. With "confirm", the command
 * answers one line per entry on stdout, "OK" for success (rsyslog omprog's
 * confirmMessages); any other line counts as an error for that entry. An
 * answer is the one line that comes after its entry was written and
 * before the next one: a line already waiting when an entry is about to
 * be written, or a second line behind the answer, answers nothing (the
 * command does not read before it answers: `yes OK`), so that entry
 * counts as an error and the command is restarted. Without "confirm" the
 * command's stdout is /dev/null: it is never the writer's own stdout.
 *
 * Each entry (or batch) has timeout_ms to be written (and confirmed): a
 * command that takes longer is killed (its whole process group) and
 * restarted. A command that exits is restarted too, after a backoff that
 * doubles from HOOK_RESTART_MIN_MS to HOOK_RESTART_MAX_MS and resets after
 * a success;
 * entries wait in the hook's queue meanwhile (its overflow is counted). An
 * entry is delivered (ok), failed (errors: the command died on it, answered
 * other than OK, or could not start), timed out, or dropped from the queue:
 * every matching entry is counted once.
 *
 * Without confirm, the entries waiting in the queue (up to HOOK_BATCH_MAX)
 * are written in one go, and an entry counts as delivered once the pipe
 * took its line: entries in the pipe when a command dies are lost unseen.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "entry_json.h"
#include "hooks_impl.h"

#define POLL_SLICE_MS 100

extern char **environ;

static void reap(struct hook_command *c, bool kill_it)
{
	if (c->pid <= 0)
		return;
	if (kill_it)
		(void)kill(-c->pid, SIGKILL);
	(void)waitpid(c->pid, NULL, 0);
	c->pid = 0;
}

static void close_fds(struct hook_command *c)
{
	if (c->in_fd >= 0)
		close(c->in_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	c->in_fd = c->out_fd = -1;
	c->ack_len = 0;
}

/* The command is gone or given up: clean up, plan the restart. */
static void command_lost(struct hook *h, bool kill_it)
{
	struct hook_command *c = &h->cmd;

	close_fds(c);
	reap(c, kill_it);
	c->not_before_ns = hook_now_ns() + (uint64_t)c->backoff_ms * 1000000u;
	c->backoff_ms = c->backoff_ms * 2 > HOOK_RESTART_MAX_MS ? HOOK_RESTART_MAX_MS
								 : c->backoff_ms * 2;
}

static int spawn_attrs(posix_spawnattr_t *a, posix_spawn_file_actions_t *fa, int in, int out)
{
	sigset_t none, dfl;

	sigemptyset(&none);
	sigfillset(&dfl);
	posix_spawnattr_init(a);
	posix_spawn_file_actions_init(fa);
	/* Its own process group, so a kill reaches what it started; default
	 * signal dispositions (the writer ignores SIGPIPE) and no mask. */
	posix_spawnattr_setpgroup(a, 0);
	posix_spawnattr_setsigmask(a, &none);
	posix_spawnattr_setsigdefault(a, &dfl);
	posix_spawnattr_setflags(a, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_adddup2(fa, in, STDIN_FILENO);
	if (out >= 0)
		posix_spawn_file_actions_adddup2(fa, out, STDOUT_FILENO);
	else
		posix_spawn_file_actions_addopen(fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	return 0;
}

static int spawn(struct hook *h)
{
	struct hook_command *c = &h->cmd;
	int in[2], out[2] = { -1, -1 };
	posix_spawnattr_t a;
	posix_spawn_file_actions_t fa;
	int r;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (h->c->confirm && pipe2(out, O_CLOEXEC) < 0) {
		r = -errno;
		close(in[0]);
		close(in[1]);
		return r;
	}
	spawn_attrs(&a, &fa, in[0], out[1]);
	r = -posix_spawnp(&c->pid, h->c->argv[0], &fa, &a, h->c->argv, environ);
	posix_spawnattr_destroy(&a);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	if (out[1] >= 0)
		close(out[1]);
	c->in_fd = in[1];
	c->out_fd = out[0];
	if (r < 0) {
		c->pid = 0;
		close_fds(c);
		return r;
	}
	(void)fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
	if (c->out_fd >= 0)
		(void)fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

/* Sleep until the restart backoff ends; false when stopped first. */
static bool wait_backoff(const struct hook_command *c, const _Atomic bool *stop)
{
	uint64_t now;

	while ((now = hook_now_ns()) < c->not_before_ns) {
		uint64_t ns = c->not_before_ns - now;
		if (atomic_load_explicit(stop, memory_order_relaxed))
			return false;
		if (ns > POLL_SLICE_MS * 1000000u)
			ns = POLL_SLICE_MS * 1000000u;
		nanosleep(&(struct timespec){ .tv_sec = 0, .tv_nsec = (long)ns }, NULL);
	}
	return true;
}

/* Running, or started now (after the backoff: entries wait in the queue
 * meanwhile); -ENOEXEC when it cannot be, -ESHUTDOWN when the set stops. */
static int ensure_running(struct hook *h, const _Atomic bool *stop)
{
	struct hook_command *c = &h->cmd;
	int r, status;

	if (c->pid > 0 && waitpid(c->pid, &status, WNOHANG) == c->pid) {
		hook_say(h, "command exited (status 0x%x); restarting in %u ms", status,
			 c->backoff_ms);
		c->pid = 0;
		command_lost(h, false);
	}
	if (c->pid > 0)
		return 0;
	if (!wait_backoff(c, stop))
		return -ESHUTDOWN;
	if ((r = spawn(h)) < 0) {
		if (!c->failing)
			hook_say(h, "cannot run '%s': %s", h->c->argv[0], strerror(-r));
		c->failing = true;
		command_lost(h, false);
		return -ENOEXEC;
	}
	if (c->started_once)
		hook_count(&h->n->restarts, 1);
	c->started_once = true;
	return 0;
}

/* Wait for fd to be ready for events, up to the deadline, in slices so a
 * stop is seen. Returns 0, -ETIMEDOUT, -ECANCELED. */
static int wait_fd(int fd, short events, uint64_t deadline, const _Atomic bool *stop)
{
	for (;;) {
		uint64_t now = hook_now_ns();
		struct pollfd p = { .fd = fd, .events = events };

		if (atomic_load_explicit(stop, memory_order_relaxed))
			return -ECANCELED;
		if (now >= deadline)
			return -ETIMEDOUT;
		uint64_t left_ms = (deadline - now + 999999) / 1000000;
		int r = poll(&p, 1, left_ms < POLL_SLICE_MS ? (int)left_ms : POLL_SLICE_MS);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* Consume the SIGPIPE a write to a closed pipe left pending on this
 * thread (it blocks every signal). */
static void clear_sigpipe(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	(void)sigtimedwait(&s, NULL, &(struct timespec){ 0 });
}

static int write_lines(struct hook_command *c, uint64_t deadline, const _Atomic bool *stop)
{
	size_t off = 0;

	while (off < c->line.len) {
		ssize_t n = write(c->in_fd, c->line.data + off, c->line.len - off);
		int r;

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EPIPE) {
			clear_sigpipe();
			return -EPIPE;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if ((r = wait_fd(c->in_fd, POLLOUT, deadline, stop)) < 0)
			return r;
	}
	return 0;
}

/* Read one answer line; 0 for "OK", -EPROTO for another, -EPIPE at EOF. */
static int read_ack(struct hook_command *c, uint64_t deadline, const _Atomic bool *stop)
{
	for (;;) {
		char *nl = memchr(c->ack, '\n', c->ack_len);
		int r;

		if (nl) {
			size_t len = (size_t)(nl - c->ack);
			bool ok = len == 2 && memcmp(c->ack, "OK", 2) == 0;
			memmove(c->ack, nl + 1, c->ack_len - len - 1);
			c->ack_len -= len + 1;
			return ok ? 0 : -EPROTO;
		}
		if (c->ack_len == sizeof(c->ack))
			c->ack_len = 0;   /* an endless line: not an answer */
		ssize_t n = read(c->out_fd, c->ack + c->ack_len, sizeof(c->ack) - c->ack_len);
		if (n > 0) {
			c->ack_len += (size_t)n;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if ((r = wait_fd(c->out_fd, POLLIN, deadline, stop)) < 0)
			return r;
	}
}

/* Whether the command has said something that no entry asked for: a line
 * (or part of one) waiting before the next entry is written. Reads it
 * into c->ack without waiting. */
static bool answer_unasked(struct hook_command *c)
{
	ssize_t n;

	if (c->ack_len)
		return true;
	n = read(c->out_fd, c->ack, sizeof(c->ack));
	if (n <= 0)
		return false;   /* nothing, or EOF: the write will see it exited */
	c->ack_len = (size_t)n;
	return true;
}

/* Write the lines; with confirm, read the one answer they get. Returns 0,
 * -EPROTO for an answer other than OK, -EBADMSG for output that answers
 * no entry, or as write_lines and read_ack. */
static int deliver(struct hook *h, uint64_t deadline, const _Atomic bool *stop)
{
	struct hook_command *c = &h->cmd;
	int r;

	if (!h->c->confirm)
		return write_lines(c, deadline, stop);
	if (answer_unasked(c))
		return -EBADMSG;
	r = write_lines(c, deadline, stop);
	if (r == 0)
		r = read_ack(c, deadline, stop);
	return r == 0 && c->ack_len ? -EBADMSG : r;
}

int hook_command_call(struct hook *h, const struct hook_job *const *j, size_t n,
		      const _Atomic bool *stop)
{
	struct hook_command *c = &h->cmd;
	uint64_t deadline = hook_now_ns() + (uint64_t)h->c->timeout_ms * 1000000u;
	int r;

	if ((r = ensure_running(h, stop)) < 0)
		return r;
	c->line.len = 0;
	for (size_t i = 0; i < n; i++) {
		struct lb_entry_ids ids = { .seq = j[i]->seq, .lane = j[i]->lane, .who = j[i]->who };
		lb_entry_json_put(&c->line, &j[i]->e, j[i]->ts_ns, &ids);
	}
	if (c->line.failed)
		return -ENOMEM;
	r = deliver(h, deadline, stop);
	if (r == 0 || r == -EPROTO) {
		c->backoff_ms = HOOK_RESTART_MIN_MS;
		c->failing = false;
		return r;
	}
	hook_say(h, "%s; restarting it", r == -ETIMEDOUT ? "entry timed out" :
		 r == -EPIPE ? "command exited during an entry" :
		 r == -EBADMSG ? "command answers without reading its entries (an answer came "
				 "before its entry, or two for one); its entry is not confirmed" :
		 strerror(-r));
	command_lost(h, true);
	return r == -EBADMSG ? -EPROTO : r;
}

/* At stop: EOF on its stdin, a moment to finish, then SIGKILL. */
void hook_command_end(struct hook *h)
{
	struct hook_command *c = &h->cmd;

	close_fds(c);
	for (int i = 0; i < 100 && c->pid > 0; i++) {
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid)
			c->pid = 0;
		else
			nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	reap(c, true);
	lb_buf_free(&c->line);
}
