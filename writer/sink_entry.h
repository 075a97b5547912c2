/* SPDX-License-Identifier: MIT */
/* The per-entry sink: each entry that matches a rule becomes its own JSON
 * document, DIR/<tag>_<YYYYMMDD>_<HHMMSS>_<usec>.json (.json.zst). */
#pragma once

struct config_section;
struct sink;
struct sink_context;

/* A rule of the "entry_files" list of the configuration. */
extern const struct config_section sink_entry_section;

/* sink_entry_from_config - the sink of rule number index of the list,
 * whose options are opts: make the directory (0750) if needed; its
 * restart marks go to DIR/.<bus>.entry<index>.state. Returns 0 with *out
 * set, or a negative errno; prints nothing. */
int sink_entry_from_config(const void *opts, unsigned index, const struct sink_context *sc,
			   struct sink **out);
