/* SPDX-License-Identifier: MIT */
/*
 * A crash-safe spool: an append-only queue of records on disk, for a
 * remote sink whose destination is down or slower than the bus. Records
 * appended and synced survive a SIGKILL of the writer (and, with the
 * directory synced, of the machine); they are read back in order.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A place in the spool: after a record, or the committed read position. */
struct spool_pos {
	uint64_t seg;           /* segment number */
	uint64_t off;           /* byte offset in it */
};

struct spool_segment {
	uint64_t id;
	uint64_t size;          /* bytes of whole records */
};

struct spool {
	int dirfd;
	int wfd;                /* the last segment, appended to */
	int rfd;                /* the segment the cursor is in */
	uint64_t rfd_seg;
	struct spool_segment *segs;  /* oldest first; the last one is written */
	size_t nsegs, cap;
	struct spool_pos committed;  /* what the destination took, saved in "read" */
	struct spool_pos cursor;     /* what was read since */
	uint64_t bytes;         /* in the spool after committed */
	uint64_t max_bytes;
	uint64_t corrupt;       /* records found damaged and skipped */
	int readfd;             /* the "read" file */
};

/*
 * spool_open - open (make, 0750) the spool in directory name of dirfd, at
 * most max_bytes: drop segments already read, cut a torn record at the end
 * (a kill mid-append: never acknowledged). Returns 0 or a negative errno.
 */
int spool_open(struct spool *sp, int dirfd, const char *name, uint64_t max_bytes);

/* spool_close - close; a zeroed spool (dirfd -1) is a no-op. */
void spool_close(struct spool *sp);

/* spool_append - add a record of len bytes (not yet durable: see
 * spool_sync). Returns 0, -ENOSPC when the spool would pass max_bytes, or
 * another negative errno. */
int spool_append(struct spool *sp, const void *data, size_t len);

/* spool_sync - make what was appended durable; only then may it count as
 * acknowledged. Returns 0 or a negative errno. */
int spool_sync(struct spool *sp);

/* spool_next - the next record after the cursor into out, with *end the
 * position after it. Returns 1, 0 when the cursor is at the end, or a
 * negative errno. */
int spool_next(struct spool *sp, struct lb_buf *out, struct spool_pos *end);

/* spool_rewind - move the cursor back to the committed position (the
 * records read since go again). */
void spool_rewind(struct spool *sp);

/* spool_commit - the destination took everything up to end: save it as
 * the read position and remove the segments wholly before it. Returns 0
 * or a negative errno (the position is kept in memory then). */
int spool_commit(struct spool *sp, struct spool_pos end);

/* spool_empty - whether the destination took everything appended. */
bool spool_empty(const struct spool *sp);
