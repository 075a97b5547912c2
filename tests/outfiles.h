/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the file-sink tests: a configuration file for a harness
 * writer, its stderr captured, every entry of every .jsonl and .jsonl.zst
 * file read back, the files listed, a producer that numbers its entries.
 * Every helper asserts (cmocka).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"

/* outfiles_config - write json (printf format) to <h->dir>.json and
 * return that path (static storage, valid until the next call). */
const char *outfiles_config(const struct harness *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* outfiles_start - harness_start_writer with --config path (NULL: none),
 * --lanes 8 --lane-size 1M, extra arguments, and the writer's stderr going
 * to <h->dir>.err. */
void outfiles_start(struct harness *h, const char *config, const char *const *extra);

/* outfiles_stderr - what the writer printed so far (malloc()ed). */
char *outfiles_stderr(const struct harness *h);

/* outfiles_count - files in dir whose names end in suffix. */
size_t outfiles_count(const char *dir, const char *suffix);

/* outfiles_entries - every entry of every *.jsonl and *.jsonl.zst file in
 * dir, in name then line order; asserts every line is whole, valid JSON
 * and every .zst file decompresses with `zstd -d` (exit 0). */
json_t *outfiles_entries(const char *dir);

/* outfiles_each_entry - as outfiles_entries, but hands each entry to fn
 * in turn and keeps none: for outputs too large to hold at once. */
void outfiles_each_entry(const char *dir, harness_entry_fn fn, void *ctx);

/* outfiles_add_lines - append each line of data[0..len) as JSON to out,
 * asserting it is valid; a last line without its newline fails, unless
 * cut_ok (then it is left out). */
void outfiles_add_lines(json_t *out, const char *path, const char *data, size_t len,
			bool cut_ok);

/* outfiles_documents - every *.json file of dir parsed as one JSON
 * document, in name order (asserts each is valid). */
json_t *outfiles_documents(const char *dir);

/* outfiles_msg - the "msg" of entry i of entries ("" when there is none). */
const char *outfiles_msg(json_t *entries, size_t i);

/* outfiles_zstd_ok - whether `zstd -d` decompresses the file (exit 0). */
bool outfiles_zstd_ok(const char *path);

/* outfiles_decompress - a zstd file's bytes, through libzstd's streaming
 * decoder, stopping quietly at a frame cut short; malloc()ed, *len set. */
char *outfiles_decompress(const char *path, size_t *len);

/* A producer process publishing "n <i>" with field n=<i>, i = 0, 1, ...,
 * retrying while its lane is full, until *stop; *done counts what it
 * published. Its fallback ($LOGBUS_FALLBACK, taken when the writer's
 * heartbeat goes stale while the lane is full) is a file of its own.
 * outfiles_producer_stop waits for it (after flushing); the caller
 * removes p.fallback when done. */
struct outfiles_producer {
	pid_t pid;
	_Atomic int *stop;
	_Atomic uint64_t *done;
	char fallback[300];
};
void outfiles_producer_start(struct outfiles_producer *p, const char *bus, const char *tag,
			     long pause_us);
uint64_t outfiles_producer_stop(struct outfiles_producer *p);

/* outfiles_add_fallback - append the entries p wrote to its fallback
 * (none, when it never needed it) to entries. */
void outfiles_add_fallback(json_t *entries, const struct outfiles_producer *p);

/* outfiles_check_once - every "n" in 0..count-1 appears exactly once among
 * the entries of tag. */
void outfiles_check_once(json_t *entries, const char *tag, uint64_t count);
