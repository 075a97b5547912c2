/* SPDX-License-Identifier: MIT */
/* Records: encoding an entry into lane memory and decoding a private copy. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logbus.h"

/* A decoded entry. Pointers point into the buffer that was decoded, which
 * must be the reader's private copy, never shared memory. */
struct lb_entry {
	uint64_t seq;        /* lane sequence */
	uint64_t ts;         /* as recorded, see ts_mode */
	uint8_t ts_mode;     /* enum lb_ts_mode */
	uint8_t level;
	uint32_t pid;
	uint32_t tid;
	const char *tag;
	size_t tag_len;
	const char *msg;
	size_t msg_len;
	size_t nfields;
	const uint8_t *fields;  /* nfields validated field records */
};

/* One field of a decoded entry. */
struct lb_field_view {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
};

/* What an encoder needs besides tag, message and fields. */
struct lb_record_meta {
	uint64_t seq;
	uint64_t ts;
	uint8_t ts_mode;
	uint8_t level;
	uint32_t pid;
	uint32_t tid;
};

/* lb_record_size - bytes the record takes in a lane, aligned; 0 when it
 * could never fit a 32-bit size. Arguments must be valid already. */
size_t lb_record_size(size_t tag_len, size_t msg_len, const struct logbus_field *fields,
		      size_t nfields);

/* lb_record_encode - write the record into dst, which holds
 * lb_record_size() bytes. */
void lb_record_encode(void *dst, size_t size, const struct lb_record_meta *meta,
		      const char *tag, size_t tag_len, const char *msg, size_t msg_len,
		      const struct logbus_field *fields, size_t nfields);

/* lb_record_encode_pad - write a pad record of size bytes (aligned, >= 8). */
void lb_record_encode_pad(void *dst, size_t size);

/*
 * lb_record_decode - decode the record at buf, which has avail bytes.
 * Returns the aligned size it takes, with *is_pad telling a pad record
 * (e untouched) from an entry (e filled); -EAGAIN when avail holds only part
 * of an entry no larger than max_record; -EBADMSG when the bytes are not a
 * valid record. A pad's size may exceed avail: the caller must check that
 * it ends exactly at the end of the ring.
 */
long lb_record_decode(const uint8_t *buf, size_t avail, size_t max_record,
		      struct lb_entry *e, bool *is_pad);

/* lb_entry_field_first, lb_entry_field_next - iterate over the fields of a
 * decoded entry: call next exactly e->nfields times after first. */
void lb_entry_field_first(const struct lb_entry *e, const uint8_t **cursor);
void lb_entry_field_next(const uint8_t **cursor, struct lb_field_view *f);

/* lb_tag_valid - 1..LOGBUS_TAG_MAX bytes of printable ASCII without space. */
bool lb_tag_valid(const char *tag, size_t len);

/* lb_key_valid - 1..LOGBUS_KEY_MAX bytes of [A-Za-z0-9_]. */
bool lb_key_valid(const char *key, size_t len);
