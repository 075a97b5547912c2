/* SPDX-License-Identifier: MIT */
/*
 * Restart marks of a file-writing sink: per lane, the last lane_seq of the
 * last batch, kept in a small state file beside the sink's files, so that
 * a restarted writer recognises the entries of a batch the drain delivers
 * again (see sink_file.c and sink_entry.c for how each sink uses them).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct lane_marks {
	int fd;                 /* the state file */
	uint64_t segment_id;    /* lb_bus_id() of the bus drained */
	/* Per lane: 1 + the lane_seq up to which entries were written before
	 * a restart (0: none), and 1 + the last lane_seq of the batch. */
	uint64_t *held, *last;
	uint32_t nlanes;
	struct lb_buf buf;
};

/*
 * lane_marks_open - open (create, 0640, never through a symlink) the state
 * file name in dirfd and load it when it belongs to segment_id: the held
 * marks are set, and its note (what the sink saved with it) is copied to
 * note[cap], "" when there is none. Returns 0 or a negative errno.
 */
int lane_marks_open(struct lane_marks *m, int dirfd, const char *name, uint64_t segment_id,
		    char *note, size_t cap);

/* lane_marks_close - close and free; a zeroed m (fd -1) is a no-op. */
void lane_marks_close(struct lane_marks *m);

/* lane_marks_begin - forget the last batch's marks, before a new one. */
void lane_marks_begin(struct lane_marks *m);

/* lane_marks_note - entry lane_seq of lane is in the batch. Returns
 * whether it was written before the restart (held), or -ENOMEM. */
int lane_marks_note(struct lane_marks *m, uint32_t lane, uint64_t lane_seq);

/* lane_marks_held - whether lane_seq of lane was written before the
 * restart, as far as the state tells. */
bool lane_marks_held(const struct lane_marks *m, uint32_t lane, uint64_t lane_seq);

/* lane_marks_loaded - 1 + the mark saved for lane before the restart, 0
 * when there is none. */
uint64_t lane_marks_loaded(const struct lane_marks *m, uint32_t lane);

/* lane_marks_save - rewrite the state: segment, note (one line, no
 * newline), the batch's marks and the held ones. Returns 0 or a negative
 * errno. */
int lane_marks_save(struct lane_marks *m, const char *note);
