/* SPDX-License-Identifier: MIT */
/* The file sink: JSON lines into DIR/<bus>_<YYYYMMDD>_<HHMMSS>_<usec>.jsonl
 * (.jsonl.zst when compressed), rotated by size and age, old files removed
 * by count and bytes, written exactly once across writer restarts. */
#pragma once

struct config_section;
struct sink;
struct sink_context;

/* The "file" section of the configuration. */
extern const struct config_section sink_file_section;

/* sink_file_from_config - the sink of the "file" section's options opts
 * (index unused): make the directory (0750) if needed, recover from the
 * previous writer's state (see sink_file.c) and apply retention. The
 * first file is created with the first batch. Returns 0 with *out set, or
 * a negative errno; prints nothing. */
int sink_file_from_config(const void *opts, unsigned index, const struct sink_context *sc,
			  struct sink **out);
