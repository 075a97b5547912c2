/* SPDX-License-Identifier: MIT */
/* Text helpers shared by every output format: UTF-8 checks, JSON string
 * escaping, base64, RFC 3339 timestamps, level names. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* lb_utf8_valid - whether s[0..len) is well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). NUL bytes are valid. */
bool lb_utf8_valid(const char *s, size_t len);

/* lb_json_put_string - s as a quoted JSON string; s must be valid UTF-8. */
void lb_json_put_string(struct lb_buf *b, const char *s, size_t len);

/* lb_base64_put - s in standard base64 with padding, quoted. */
void lb_base64_put_quoted(struct lb_buf *b, const char *s, size_t len);

/* lb_rfc3339_put - "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" for ns since the
 * epoch, UTC. */
void lb_rfc3339_put(struct lb_buf *b, uint64_t ns);

/* lb_level_name - "emerg".."debug"; "invalid" out of range. */
const char *lb_level_name(unsigned level);

/* The one level parser, for the client, the configuration and the hooks.
 * lb_level_parse - the level s[0..len) names: a name ("err"), an alias
 * ("error", "warn", ...), either in any case, or a digit "0".."7".
 * Returns 0..7, or -EINVAL for anything else. */
int lb_level_parse(const char *s, size_t len);

/* Words for an error message listing what lb_level_parse accepts. */
#define LB_LEVEL_WORDS "emerg alert crit err warning notice info debug, or 0 to 7"

/* The one facility parser, for the configuration and logbus-cat.
 * lb_facility_parse - the facility s[0..len) names, in any case: kern,
 * user, mail, daemon, auth (or security), syslog, lpr, news, uucp, cron,
 * authpriv, ftp, local0..local7. Returns its code 0..23 (not shifted as
 * LOG_USER is), or -EINVAL. */
int lb_facility_parse(const char *s, size_t len);

/* Words for an error message listing what lb_facility_parse accepts. */
#define LB_FACILITY_WORDS "kern user mail daemon auth syslog lpr news uucp cron authpriv ftp local0..local7"

/* lb_priority_parse - a logger(1) priority, "FACILITY.LEVEL", "LEVEL" or
 * a number 8..191 (facility * 8 + level: "13" is user.notice), into
 * *facility (-1 when s names none) and *level. Returns 0, -EDOM when the
 * facility is unknown, -EINVAL when the level is. */
int lb_priority_parse(const char *s, int *facility, int *level);
