/* SPDX-License-Identifier: MIT */
/*
 * The fallback: when there is no bus, or the writer is gone and the lane is
 * full, an entry is written synchronously as a JSON line (the writer's own
 * format, less the writer's seq and lane) to stderr or $LOGBUS_FALLBACK, so
 * that nothing is lost silently. Slow by design; never the steady state.
 *
 * It never waits for a reader. A pipe, socket or terminal nobody reads
 * cannot take the line now: the entry is dropped and counted
 * (dropped_fallback) instead of holding up the publishing thread, and with
 * it every thread of the handle. How a write is kept from blocking depends
 * on what the descriptor is, since stderr's open file description is
 * shared with the program and others, and must not be made O_NONBLOCK:
 *
 *   $LOGBUS_FALLBACK            our own description, opened O_NONBLOCK
 *   regular file, block device  a plain write (it waits for no reader)
 *   pipe, socket                pwritev2(RWF_NOWAIT) (Linux 5.8 and later)
 *   anything else (a terminal)  a private O_NONBLOCK description of the
 *                               same file, opened through /proc/self/fd
 *
 * A line that went out in part (a pipe with less room than the line) is
 * finished before any other: its rest is kept and written first by the
 * next fallback write, and entries arriving meanwhile are dropped. SIGPIPE
 * from a pipe whose reader left is blocked and taken back, never raised.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "client.h"
#include "entry_json.h"

int fallback_open(logbus_t *lb)
{
	const char *path = getenv("LOGBUS_FALLBACK");

	pthread_mutex_init(&lb->fallback_lock, NULL);
	if (!path || !*path) {
		lb->fallback_fd = STDERR_FILENO;
		return 0;
	}
	lb->fallback_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0666);
	if (lb->fallback_fd < 0) {
		int r = -errno;
		pthread_mutex_destroy(&lb->fallback_lock);
		return r;
	}
	lb->fallback_owned = true;
	return 0;
}

/* A write through a description of our own, O_NONBLOCK, of the file that
 * fd names; the description is closed again at once, so that we never
 * keep a pipe open that the program closed. */
static ssize_t write_reopened(int fd, const void *buf, size_t len)
{
	char path[32];
	ssize_t n;
	int own;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	own = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (own < 0)
		return -1;
	n = write(own, buf, len);
	if (n < 0) {
		int e = errno;
		close(own);
		errno = e;
		return n;
	}
	close(own);
	return n;
}

/* Write what fd takes now of buf, without waiting (see the table above).
 * Returns the count, or -1 with errno (EAGAIN: nothing could go now). */
static ssize_t put_nowait(const logbus_t *lb, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct stat st;
	ssize_t n;

	if (lb->fallback_owned)
		return write(lb->fallback_fd, buf, len);
	if (fstat(lb->fallback_fd, &st) < 0)
		return -1;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return write(lb->fallback_fd, buf, len);
	n = pwritev2(lb->fallback_fd, &iov, 1, -1, RWF_NOWAIT);
	if (n >= 0 || errno != EOPNOTSUPP)
		return n;
	return write_reopened(lb->fallback_fd, buf, len);
}

/* put_nowait with SIGPIPE blocked in this thread, and taken back when the
 * write raised it (EPIPE) and it was not pending before. */
static ssize_t put_quiet(const logbus_t *lb, const void *buf, size_t len)
{
	sigset_t pipe_only, old, pending;
	bool was_pending;
	ssize_t n;
	int e;

	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
	n = put_nowait(lb, buf, len);
	e = errno;
	if (n < 0 && e == EPIPE && !was_pending)
		(void)sigtimedwait(&pipe_only, NULL, &(struct timespec){ 0 });
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return n;
}

/* Write the rest of a line that went out in part; true when none is left.
 * Fallback lock. */
static bool rest_flush(logbus_t *lb)
{
	ssize_t n;

	if (lb->fallback_rest.len == lb->fallback_rest_off)
		return true;
	n = put_quiet(lb, lb->fallback_rest.data + lb->fallback_rest_off,
		      lb->fallback_rest.len - lb->fallback_rest_off);
	if (n > 0)
		lb->fallback_rest_off += (size_t)n;
	if (lb->fallback_rest.len != lb->fallback_rest_off)
		return false;
	lb_buf_free(&lb->fallback_rest);
	lb->fallback_rest_off = 0;
	return true;
}

/* Hand a whole line to the fallback; 0 when it went out (or its rest is
 * kept to go first next time), -EAGAIN when it could not go now, -EIO. */
static int line_put(logbus_t *lb, const struct lb_buf *line)
{
	ssize_t n;
	int r = -EAGAIN;

	pthread_mutex_lock(&lb->fallback_lock);
	if (rest_flush(lb)) {
		n = put_quiet(lb, line->data, line->len);
		if (n == (ssize_t)line->len) {
			r = 0;
		} else if (n > 0) {
			lb_buf_put(&lb->fallback_rest, line->data + n, line->len - (size_t)n);
			r = lb->fallback_rest.failed ? -EIO : 0;
		} else if (n < 0 && errno != EAGAIN) {
			r = -EIO;
		}
	}
	pthread_mutex_unlock(&lb->fallback_lock);
	return r;
}

int fallback_write(logbus_t *lb, int level, const char *tag, size_t tag_len, const char *msg,
		   size_t len, const struct logbus_field *fields, size_t nfields)
{
	struct lb_record_meta meta = {
		.ts = lb_clock_ns(CLOCK_REALTIME),
		.ts_mode = LB_TS_REALTIME,
		.level = (uint8_t)level,
		.pid = lb_process.pid,
		.tid = slot_thread_tid(),
	};
	size_t size = lb_record_size(tag_len, len, fields, nfields);
	struct lb_buf line = { 0 };
	struct lb_entry e;
	bool is_pad;
	uint8_t *rec;
	int r = -EIO;

	/* Encode, then decode: one path to JSON for the writer and us. */
	rec = size ? malloc(size) : NULL;
	if (rec) {
		lb_record_encode(rec, size, &meta, tag, tag_len, msg, len, fields, nfields);
		if (lb_record_decode(rec, size, size, &e, &is_pad) > 0) {
			lb_entry_json_put(&line, &e, meta.ts, NULL);
			if (!line.failed)
				r = line_put(lb, &line);
		}
	}
	free(rec);
	lb_buf_free(&line);
	atomic_fetch_add_explicit(r == 0 ? &lb->counts.fallback : &lb->counts.dropped_fallback, 1,
				  memory_order_relaxed);
	return r;
}

void fallback_close(logbus_t *lb)
{
	/* One last try for a cut line; a reader that never reads keeps it cut. */
	(void)rest_flush(lb);
	lb_buf_free(&lb->fallback_rest);
	if (lb->fallback_owned)
		close(lb->fallback_fd);
	pthread_mutex_destroy(&lb->fallback_lock);
}
