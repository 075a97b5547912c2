/* SPDX-License-Identifier: MIT */
/* The file sink: JSON lines into DIR/<bus>_<YYYYMMDD>_<HHMMSS>_<usec>.jsonl
 * (.jsonl.zst when compressed), rotated by size and age, old files removed
 * by count and bytes, written exactly once across writer restarts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sink.h"

struct file_options {
	const char *dir;
	const char *prefix;        /* the bus name: names start "<prefix>_" */
	bool zstd;                 /* .jsonl.zst, one zstd frame per batch */
	int zstd_level;
	uint64_t rotate_bytes;     /* start a new file past this size; 0: never */
	uint64_t rotate_seconds;   /* ... or when the file is this old; 0: never */
	uint64_t keep_files;       /* remove the oldest beyond this many; 0: all */
	uint64_t keep_bytes;       /* ... or beyond this total; 0: no limit */
	uint64_t segment_id;       /* lb_bus_id() of the bus drained */
};

/* sink_file_new - make the directory (0750) if needed, recover from the
 * previous writer's state (see sink_file.c) and apply retention. The first
 * file is created with the first batch. Returns 0 with *out set, or a
 * negative errno; prints nothing. */
int sink_file_new(const struct file_options *o, struct sink **out);
