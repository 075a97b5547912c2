/* SPDX-License-Identifier: MIT */
/* The per-entry sink: each entry that matches a rule becomes its own JSON
 * document, DIR/<tag>_<YYYYMMDD>_<HHMMSS>_<usec>.json (.json.zst). */
#pragma once

#include <stdbool.h>

#include "sink.h"

struct entry_options {
	const char *dir;
	const char *tag_glob;      /* fnmatch(3) pattern the tag must match */
	int level_min, level_max;  /* severities, emerg 0 .. debug 7, inclusive */
	bool zstd;
	int zstd_level;
	/* Set by whoever makes the sink, not configured: the restart marks
	 * go to DIR/.<prefix>.entry<rule>.state, for segment_id. */
	const char *prefix;
	unsigned rule;
	uint64_t segment_id;
};

/* sink_entry_new - make the directory (0750) if needed. Returns 0 with
 * *out set, or a negative errno; prints nothing. */
int sink_entry_new(const struct entry_options *o, struct sink **out);
