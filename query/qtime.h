/* SPDX-License-Identifier: MIT */
/* Times for logbus-query: the RFC 3339 stamps of entries and the
 * --since/--until vocabulary (RFC 3339, "1h ago", today, yesterday). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * qtime_rfc3339 - s[0..len) as "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)"
 * ('t' or ' ' for the 'T', 'z' for 'Z'); without a zone it is local time
 * when local_ok, else refused. Returns 0 with *ns since the epoch, or
 * -EINVAL.
 */
int qtime_rfc3339(const char *s, size_t len, bool local_ok, int64_t *ns);

/*
 * qtime_parse - a --since/--until argument: RFC 3339 (local when it has no
 * zone), a date "YYYY-MM-DD" (local midnight), "now", "today", "yesterday",
 * "tomorrow" (local midnight), or "N UNIT ago" / "-N UNIT" with UNIT one of
 * s, sec, m, min, h, hour, d, day, w, week (plurals too, the space
 * optional). now_ns is the current time. Returns 0 with *ns, or -EINVAL.
 */
int qtime_parse(const char *s, int64_t now_ns, int64_t *ns);
