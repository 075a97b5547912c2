/* SPDX-License-Identifier: MIT */
/*
 * logbus.h - publish log entries into a logbus shared-memory bus.
 *
 * A program opens a bus once, then publishes from any thread. Each thread
 * gets a lane of its own from the writer the first time it publishes
 * (shared memory that only this process and the writer can reach); a
 * publish is a few stores into that lane, with no system call and no lock
 * shared with another process. The logbus-writer service drains the lanes
 * to files, syslog, journald and remote collectors.
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure. The library never prints, never blocks unless asked to (the
 * overflow policy "block", logbus_flush, $LOGBUS_SYNC), and never raises a
 * signal.
 */
#ifndef LOGBUS_H
#define LOGBUS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LOGBUS_VERSION_MAJOR 0
#define LOGBUS_VERSION_MINOR 1

/* Levels are syslog severities. */
enum {
	LOGBUS_EMERG = 0,
	LOGBUS_ALERT = 1,
	LOGBUS_CRIT = 2,
	LOGBUS_ERR = 3,
	LOGBUS_WARNING = 4,
	LOGBUS_NOTICE = 5,
	LOGBUS_INFO = 6,
	LOGBUS_DEBUG = 7,
};

/* Limits checked by every publish call. */
#define LOGBUS_TAG_MAX 64        /* bytes of printable ASCII, no space */
#define LOGBUS_KEY_MAX 64        /* bytes of [A-Za-z0-9_] */
#define LOGBUS_FIELDS_MAX 64     /* fields per entry */

typedef struct logbus logbus_t;

/* A key/value field of an entry. value holds len bytes, any bytes. */
struct logbus_field {
	const char *key;
	const char *value;
	size_t len;
};

/* Per-handle counters, summed over every thread that published through it.
 * published = queued + fallback + dropped_full + dropped_too_large
 *             + dropped_no_lane + dropped_fallback */
struct logbus_stats {
	uint64_t published;         /* calls whose arguments were valid */
	uint64_t queued;            /* entries committed into a lane */
	uint64_t fallback;          /* entries written synchronously to the fallback */
	uint64_t dropped_full;      /* lane full while the writer was alive */
	uint64_t dropped_too_large; /* larger than the bus's largest record */
	uint64_t dropped_no_lane;   /* the writer refused a lane (see logbus_refusal) */
	uint64_t dropped_fallback;  /* the fallback could not take it, or failed */
	uint64_t wakes;             /* doorbell wake calls made */
	uint64_t blocked;           /* publishes that waited for room (LOGBUS_OVERFLOW_BLOCK) */
	uint64_t reserved[7];
};

/*
 * logbus_open - open the bus named bus (NULL: $LOGBUS_BUS, else "default").
 *
 * Bus names are 1 to 64 characters of [A-Za-z0-9_.-]. When the bus does not
 * exist yet, the handle still opens: entries go to the fallback (stderr, or
 * the file named by $LOGBUS_FALLBACK) as JSON lines until the bus appears,
 * which is checked at most every 100 ms. $LOGBUS_SYNC=1 makes every publish
 * wait until the writer has written the entry. $LOGBUS_OVERFLOW sets the
 * handle's overflow policy (see logbus_set_overflow): "drop" (the
 * default), "block" (no time limit) or "block:MS" (MS decimal milliseconds,
 * 0 to 2147483647).
 *
 * The handle connects to the writer (its socket beside the bus) when a
 * thread publishes for the first time; a writer that restarts later is
 * found again by itself.
 *
 * Returns a handle, or NULL with errno set: EINVAL for a bad name or a
 * $LOGBUS_BUS or $LOGBUS_OVERFLOW the library cannot read (a misspelt
 * policy is refused, not replaced by another), ENOMEM, or the error met
 * opening $LOGBUS_FALLBACK (opened O_NONBLOCK: ENXIO for a FIFO that
 * nobody has open for reading).
 */
logbus_t *logbus_open(const char *bus);

/*
 * logbus_close - release the handle's lanes and free it: when it returns,
 * the writer knows (it waits for the writer's word, at most 3 s). Entries
 * already published stay in the bus for the writer. No other thread may
 * use lb during or after the call. NULL is a no-op.
 */
void logbus_close(logbus_t *lb);

/* Overflow policies: what a publish does when its thread's lane is full. */
enum {
	LOGBUS_OVERFLOW_DROP = 0,  /* count the entry dropped, return -EAGAIN: never waits */
	LOGBUS_OVERFLOW_BLOCK = 1, /* wait for the writer to free room, up to a timeout */
};

/*
 * logbus_set_overflow - what a publish does when its lane is full: drop
 * (count it, return -EAGAIN) or block up to timeout_ms (negative: no
 * limit) then drop. A blocked publisher sleeps on a futex that the writer
 * wakes when it frees room; while the lane has room a publish is the same
 * in both modes (no system call). A writer gone for good (no writer, or
 * its heartbeat stale for 5 s) ends the wait: the entry goes to the
 * fallback, as in drop mode. May be called at any time, from any thread.
 * Returns 0 or -EINVAL.
 */
int logbus_set_overflow(logbus_t *lb, int policy, int timeout_ms);

/*
 * logbus_publish - publish one entry: level LOGBUS_EMERG..LOGBUS_DEBUG, tag
 * (NULL: the program's name), and len bytes of msg (any bytes, NUL and
 * invalid UTF-8 included).
 *
 * A thread's first publish through a handle asks the writer for a lane;
 * when no writer runs (or it does not answer within 3 s) the entry goes to
 * the fallback. When the writer refuses and another thread of the process
 * has a lane, the two share it.
 *
 * Returns 0 when the entry is in the bus (or written to the fallback),
 * -EAGAIN when the thread's lane is full and the entry was dropped (at
 * once, or under LOGBUS_OVERFLOW_BLOCK after the timeout) or when the
 * fallback cannot take it now (a pipe nobody reads: the fallback never
 * waits), -EMSGSIZE when the entry is larger than the bus accepts, -EINVAL
 * for bad arguments (nothing is counted), -EIO when the fallback write
 * failed. When the writer refused the thread a lane and there is none to
 * share (logbus_refusal says why; the next publish asks again): -EACCES
 * when the writer does not allow this process's user to log, -EDQUOT when
 * it holds its user's quota of lanes, -ENOSPC when every lane is taken
 * (also when the thread publishes through 8 open handles already).
 */
int logbus_publish(logbus_t *lb, int level, const char *tag, const char *msg, size_t len);

/* logbus_publishf - logbus_publish with a printf-style message. */
int logbus_publishf(logbus_t *lb, int level, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* logbus_vpublishf - logbus_publishf with a va_list. */
int logbus_vpublishf(logbus_t *lb, int level, const char *tag, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/*
 * logbus_publishv - logbus_publish with nfields key/value fields. Keys are
 * 1 to LOGBUS_KEY_MAX bytes of [A-Za-z0-9_], each at most once in an
 * entry; at most LOGBUS_FIELDS_MAX fields. Returns as logbus_publish
 * (-EINVAL for a bad or repeated key).
 */
int logbus_publishv(logbus_t *lb, int level, const char *tag, const char *msg, size_t len,
		    const struct logbus_field *fields, size_t nfields);

/*
 * logbus_flush - wait until every entry this handle published before the
 * call has been written by the writer, those of threads that have exited
 * since included, at most timeout_ms (negative: no limit). Entries that
 * went to the fallback were written synchronously and are not waited for.
 * Returns 0, -ETIMEDOUT, or -EINVAL.
 */
int logbus_flush(logbus_t *lb, int timeout_ms);

/*
 * logbus_stats_get - fill *st with the handle's counters. Returns 0 or
 * -EINVAL.
 */
int logbus_stats_get(logbus_t *lb, struct logbus_stats *st);

/*
 * logbus_refusal - why the writer last refused this handle a lane, in one
 * line (its own words, or "permission denied on socket PATH" when the
 * socket's mode kept the process out); NULL when it never did (and for a
 * NULL lb, or in a forked child until the writer refuses the child). The
 * text is valid until the next refusal or logbus_close.
 */
const char *logbus_refusal(logbus_t *lb);

/* logbus_level_name - "emerg".."debug" for a level, NULL when out of range. */
const char *logbus_level_name(int level);

/* logbus_level_parse - the level named name ("err", "error", "3", ...), or
 * -EINVAL. */
int logbus_level_parse(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* LOGBUS_H */
