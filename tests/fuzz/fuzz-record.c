/* SPDX-License-Identifier: MIT */
/* Description: libFuzzer target for the record decoder: any bytes, decoded
 * record after record as from a lane, every field walked and every entry
 * formatted as a JSON line, must neither crash nor read out of bounds, and
 * every line must be one valid JSON object (the file sink's promise). */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "entry_json.h"
#include "record.h"

/* The decoder's limit as a 64K lane's writer passes it. */
#define FUZZ_MAX_RECORD (32u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where walk_fields leaves its sum, so that its reads are not optimised
 * away. */
static volatile unsigned field_bytes_sum;

/* Walk every field of e, touching each byte, as the sinks do. */
static void walk_fields(const struct lb_entry *e)
{
	const uint8_t *cursor;
	unsigned sum = 0;

	lb_entry_field_first(e, &cursor);
	for (size_t i = 0; i < e->nfields; i++) {
		struct lb_field_view f;
		lb_entry_field_next(&cursor, &f);
		for (size_t k = 0; k < f.key_len; k++)
			sum += (unsigned char)f.key[k];
		for (size_t k = 0; k < f.value_len; k++)
			sum += (unsigned char)f.value[k];
	}
	field_bytes_sum = sum;
}

/* The oracle: the line is one JSON object ending in a newline (NUL
 * escapes allowed, as the file sink's readers allow them; every number an
 * integer jansson reads back: lane_seq above INT64_MAX is refused). */
static void json_line_check(const struct lb_buf *line)
{
	json_error_t err;
	json_t *v;

	if (line->failed)
		return;   /* out of memory: nothing was promised */
	if (!line->len || line->data[line->len - 1] != '\n' ||
	    memchr(line->data, '\n', line->len - 1)) {
		fprintf(stderr, "fuzz-record: the JSON line is not exactly one line\n");
		abort();
	}
	v = json_loadb(line->data, line->len, JSON_ALLOW_NUL, &err);
	if (!json_is_object(v)) {
		fprintf(stderr, "fuzz-record: invalid JSON line: %s: %.*s", err.text,
			(int)line->len, line->data);
		abort();
	}
	json_decref(v);
}

/* Decode data as consecutive records from a private copy (the decoder's
 * contract: never shared memory), stopping at the first that is not one. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so that ASan sees any read past the end. */
	uint8_t *copy = malloc(size ? size : 1);
	struct lb_buf out = { 0 };
	size_t off = 0;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	while (off < size) {
		struct lb_entry e;
		bool pad;
		long r = lb_record_decode(copy + off, size - off, FUZZ_MAX_RECORD, &e, &pad);

		if (r <= 0)
			break;
		if (!pad) {
			struct lb_entry_ids ids = { .seq = 1, .lane = 1 };
			walk_fields(&e);
			out.len = 0;
			lb_entry_json_put(&out, &e, e.ts, &ids);
			json_line_check(&out);
		}
		if ((size_t)r > size - off)
			break;   /* a pad may claim past the copy: the caller's check */
		off += (size_t)r;
	}
	lb_buf_free(&out);
	free(copy);
	return 0;
}
