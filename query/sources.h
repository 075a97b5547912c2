/* SPDX-License-Identifier: MIT */
/*
 * What a query reads, as streams: the files of one bus in one directory
 * (<bus>_YYYYMMDD_HHMMSS_USEC.jsonl[.zst], oldest first: one stream in
 * seq order), or a file of another name, such as a fallback file (a
 * stream of its own). Streams are merged by time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct source_stream {
	char *dir;        /* the directory of a bus's files; NULL for a lone file */
	char *bus;        /* the bus; NULL for a lone file */
	char **files;     /* paths, oldest first */
	size_t nfiles;
};

struct source_set {
	struct source_stream *v;
	size_t n;
};

/*
 * source_add_dir - add the files of dir: each bus's files (only those of
 * the buses named, when nbuses > 0) as one stream, and, when no bus is
 * named, every other *.jsonl and *.jsonl.zst file as a stream of its own.
 * Files already in the set are not added again, so a second call picks
 * up what appeared since. Returns 0 or a negative errno (of opendir).
 */
int source_add_dir(struct source_set *set, const char *dir, const char *const *buses,
		   size_t nbuses);

/* source_add_file - add path: to its bus's stream when its name is a
 * writer file's, else as a stream of its own. Returns 0 or -ENOMEM. */
int source_add_file(struct source_set *set, const char *path);

/* source_set_sort - buses by name, then lone files by path: the order
 * in which entries of the same time are shown. */
void source_set_sort(struct source_set *set);

/* source_set_free - release the set. */
void source_set_free(struct source_set *set);
