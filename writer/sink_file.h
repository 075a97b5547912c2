/* SPDX-License-Identifier: MIT */
/* The file sink: JSON lines into DIR/<bus>_<YYYYMMDD>_<HHMMSS>_<usec>.jsonl. */
#pragma once

#include "sink.h"

/* sink_file_new - make dir (0750) if needed and create the first file.
 * Returns 0 with *out set, or a negative errno; prints nothing. */
int sink_file_new(const char *dir, const char *prefix, struct sink **out);

/* sink_file_name - the current file's name, relative to the directory. */
const char *sink_file_name(const struct sink *s);
