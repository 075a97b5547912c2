/* SPDX-License-Identifier: MIT */
/* logbus-cat -- COMMAND: run a command with its stdout and stderr logged
 * line by line, as systemd-cat does, and hand back its exit status. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cat.h"

extern char **environ;

/* One of the command's two outputs: its pipe and the line read so far. */
struct cat_stream {
	int fd;                     /* -1 once at end of file */
	int level;
	char *buf;
	size_t len, cap;
};

/* The child, for the signal handler that passes SIGTERM and SIGHUP on. */
static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		(void)kill((pid_t)child_pid, sig);
}

/* While the command runs: SIGINT and SIGQUIT from the terminal reach the
 * command too, and its end ends us, so we ignore them; SIGTERM and SIGHUP
 * sent to us alone are passed on. */
static void signals_set(void)
{
	struct sigaction fwd = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
	struct sigaction ign = { .sa_handler = SIG_IGN };

	(void)sigaction(SIGTERM, &fwd, NULL);
	(void)sigaction(SIGHUP, &fwd, NULL);
	(void)sigaction(SIGINT, &ign, NULL);
	(void)sigaction(SIGQUIT, &ign, NULL);
}

/* Start argv with stdout into out[1] and stderr into err[1]; the signals
 * we ignore are back to their defaults in the command. Returns its pid or
 * a negative errno. */
static pid_t spawn(char **argv, const int out[2], const int err[2])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t dfl;
	pid_t pid;
	int r;

	sigemptyset(&dfl);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGQUIT);
	(void)posix_spawnattr_init(&attr);
	(void)posix_spawnattr_setsigdefault(&attr, &dfl);
	(void)posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	(void)posix_spawn_file_actions_init(&fa);
	(void)posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	(void)posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
	r = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	(void)posix_spawn_file_actions_destroy(&fa);
	(void)posix_spawnattr_destroy(&attr);
	return r ? -r : pid;
}

/* Publish every whole line in s's buffer, and at end of file the rest. */
static void stream_lines(logbus_t *lb, const struct cat_options *o, struct cat_stream *s,
			 bool eof, uint64_t *refused)
{
	size_t start = 0;
	char *nl;

	while ((nl = memchr(s->buf + start, '\n', s->len - start))) {
		size_t n = (size_t)(nl - (s->buf + start));
		*refused += !cat_publish(lb, o, s->level, s->buf + start, n);
		start += n + 1;
	}
	if (eof && start < s->len) {
		*refused += !cat_publish(lb, o, s->level, s->buf + start, s->len - start);
		start = s->len;
	}
	memmove(s->buf, s->buf + start, s->len - start);
	s->len -= start;
}

/* Room for more of the line: a larger buffer, or, when memory runs out,
 * the part read so far published as a line of its own. Returns -ENOMEM
 * when not even that leaves room, with one line on stderr. */
static int stream_grow(logbus_t *lb, const struct cat_options *o, struct cat_stream *s,
		       uint64_t *refused)
{
	size_t cap = s->cap ? s->cap * 2 : 65536;
	char *buf = realloc(s->buf, cap);

	if (buf) {
		s->buf = buf;
		s->cap = cap;
		return 0;
	}
	stream_lines(lb, o, s, true, refused);
	if (s->cap >= 4096)
		return 0;
	fprintf(stderr, "logbus-cat: out of memory reading the command's output\n");
	return -ENOMEM;
}

/* Read what s's pipe holds and publish its whole lines. */
static void stream_read(logbus_t *lb, const struct cat_options *o, struct cat_stream *s,
			uint64_t *refused)
{
	ssize_t n;

	if (s->cap - s->len < 4096 && stream_grow(lb, o, s, refused) < 0) {
		close(s->fd);
		s->fd = -1;
		return;
	}
	n = read(s->fd, s->buf + s->len, s->cap - s->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0)
		s->len += (size_t)n;
	stream_lines(lb, o, s, n <= 0, refused);
	if (n <= 0) {
		close(s->fd);
		s->fd = -1;
	}
}

/* Log both streams until the command closed them. */
static void streams_drain(logbus_t *lb, const struct cat_options *o, struct cat_stream *s,
			  uint64_t *refused)
{
	while (s[0].fd >= 0 || s[1].fd >= 0) {
		struct pollfd p[2] = {
			{ .fd = s[0].fd, .events = POLLIN }, { .fd = s[1].fd, .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0)
			continue; /* EINTR: a signal we passed on */
		for (int i = 0; i < 2; i++)
			if (p[i].revents)
				stream_read(lb, o, &s[i], refused);
	}
	free(s[0].buf);
	free(s[1].buf);
}

void cat_id_set(struct cat_options *o, pid_t pid)
{
	if (!o->id_field || o->id[0])
		return;
	snprintf(o->id, sizeof(o->id), "%d", (int)pid);
	o->id_field->len = strlen(o->id);
}

/* The command's status as a shell reports it. */
static int command_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 127;
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

int cat_run_command(logbus_t *lb, struct cat_options *o, char **argv, uint64_t *refused)
{
	int out[2], err[2];
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		fprintf(stderr, "logbus-cat: cannot make a pipe for '%s': %s\n", argv[0],
			strerror(errno));
		return 127;
	}
	signals_set();
	pid = spawn(argv, out, err);
	close(out[1]);
	close(err[1]);
	if (pid < 0) {
		fprintf(stderr, "logbus-cat: cannot run '%s': %s\n", argv[0], strerror((int)-pid));
		close(out[0]);
		close(err[0]);
		return pid == -ENOENT ? 127 : 126;
	}
	child_pid = pid;
	cat_id_set(o, pid);
	struct cat_stream s[2] = {
		{ .fd = out[0], .level = o->stdout_level >= 0 ? o->stdout_level : o->level },
		{ .fd = err[0], .level = o->stderr_level >= 0 ? o->stderr_level : o->level },
	};
	streams_drain(lb, o, s, refused);
	return command_wait(pid);
}
