/* SPDX-License-Identifier: MIT */
/*
 * An entry of a JSON-lines file as logbus-query sees it, and the filters
 * a query applies to it. A cheap scan of the prefix the writer always
 * writes (ts, seq, lane, lane_seq, level, tag, pid, tid, in that order)
 * rejects most lines a filter does not want without parsing them; every
 * line that passes is parsed whole with jansson, which is the judge of
 * what a line holds.
 */
#pragma once

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FIELD=VALUE matches: the same key more than once is "any of", keys
 * between them "all of" (as journalctl's). */
struct entry_match {
	char *key;
	char *value;
};

struct entry_filter {
	bool has_since, has_until;
	int64_t since_ns, until_ns;     /* inclusive */
	int level_min, level_max;       /* 0 (emerg) .. 7 (debug), inclusive */
	const char **tags;              /* fnmatch globs, any of; ntags 0: every tag */
	size_t ntags;
	long *pids;                     /* any of */
	size_t npids;
	struct entry_match *matches;
	size_t nmatches;
	bool has_regex;
	regex_t regex;                  /* on the message */
};

/* A parsed entry. The strings point into obj or into msg_owned. */
struct entry {
	json_t *obj;
	char *line;                     /* the line as written (malloc()ed) */
	size_t line_len;
	int64_t ts_ns;
	int level;
	const char *tag;
	int64_t pid, tid;
	bool has_seq;
	uint64_t seq;
	const char *msg;
	size_t msg_len;
	bool msg_utf8;                  /* false: it came from msg_b64 */
	char *msg_owned;
	const char *comm;               /* the writer's word for the process; NULL:
					 * none (a fallback line, an older file) */
	size_t comm_len;
	bool comm_utf8;                 /* false: it came from comm_b64 */
	char *comm_owned;
};

/*
 * entry_keep - whether the line is an entry the filter keeps; when it is,
 * *e holds it parsed (and a copy of the line). Returns 1 (kept), 0 (not),
 * -EBADMSG when the line is no entry (*why says why, valid until the next
 * call from this thread), or -ENOMEM.
 */
int entry_keep(const struct entry_filter *f, const char *line, size_t len, struct entry *e,
	       const char **why);

/* entry_free - release what entry_keep filled; a zeroed entry is a no-op. */
void entry_free(struct entry *e);

/* entry_base64_decode - standard base64 (padding optional) of s[0..len)
 * into a malloc()ed buffer, with a NUL after its *out_len bytes (which may
 * hold NULs too) so that C string functions never read past it; NULL when
 * it is not base64 or out of memory. */
char *entry_base64_decode(const char *s, size_t len, size_t *out_len);

/* entry_filter_free - release what the filter holds. */
void entry_filter_free(struct entry_filter *f);
