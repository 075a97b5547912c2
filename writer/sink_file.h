/* SPDX-License-Identifier: MIT */
/* The file sink: JSON lines into DIR/<bus>_<YYYYMMDD>_<HHMMSS>_<usec>.jsonl. */
#pragma once

#include <stdint.h>

#include "buf.h"
#include "sink.h"

struct file_sink {
	int dirfd;
	int fd;
	char prefix[80];
	char name[160];         /* the current file, relative to the directory */
	uint64_t size;          /* bytes of whole lines in the current file */
	struct lb_buf line;
	uint64_t written;       /* entries */
	uint64_t bytes;
	uint64_t errors;
};

/* file_sink_open - make dir (0750) if needed and create the first file.
 * Returns 0 or a negative errno; prints nothing. */
int file_sink_open(struct file_sink *s, const char *dir, const char *prefix);

/* file_sink_write - append the batch as JSON lines. All or nothing: on
 * failure the file is cut back to its last whole line. Returns 0 or a
 * negative errno (-ENOSPC, -EIO...). */
int file_sink_write(struct file_sink *s, const struct batch *b);

/* file_sink_reopen - close the current file and start a new one. */
int file_sink_reopen(struct file_sink *s);

/* file_sink_close - close everything; a closed sink is a no-op. */
void file_sink_close(struct file_sink *s);
