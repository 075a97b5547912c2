/* SPDX-License-Identifier: MIT */
/* Records: encoding an entry into lane memory and decoding a private copy. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "layout.h"

/* What a record can hold. The public header states the same limits
 * (LOGBUS_DEBUG, LOGBUS_TAG_MAX, ...); libclient/abi_check.c asserts that
 * they agree, so this layer owns its constants and includes no header above
 * it. */
#define LB_LEVEL_MAX 7           /* syslog severities 0 (emerg) .. 7 (debug) */
#define LB_TAG_MAX 64            /* bytes of printable ASCII, no space */
#define LB_KEY_MAX 64            /* bytes of [A-Za-z0-9_] */
#define LB_FIELDS_MAX 64         /* fields per entry */

/* The encoder's input: a field as the public API hands it over (struct
 * logbus_field, declared but not defined here). struct lb_field_src has its
 * layout, asserted in libclient/abi_check.c, and is how record.c reads it. */
struct logbus_field;
struct lb_field_src {
	const char *key;
	const char *value;
	size_t len;
};

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

/* lb_record_fields_size, lb_record_encode_fields - the fields' part of
 * lb_record_size and lb_record_encode, out of line. The size is SIZE_MAX
 * when a value is larger than a record can say. */
size_t lb_record_fields_size(const struct logbus_field *fields, size_t nfields);
uint8_t *lb_record_encode_fields(uint8_t *p, const struct logbus_field *fields, size_t nfields);

/* lb_record_size - bytes the record takes in a lane, aligned; 0 when it
 * could never fit a 32-bit size. Arguments must be valid already. */
static inline size_t lb_record_size(size_t tag_len, size_t msg_len,
				    const struct logbus_field *fields, size_t nfields)
{
	size_t size = sizeof(struct lb_record_header) + tag_len;

	if (msg_len > UINT32_MAX)
		return 0;
	size += msg_len;
	if (nfields) {
		size_t f = lb_record_fields_size(fields, nfields);
		if (f == SIZE_MAX)
			return 0;
		size += f;
	}
	if (size > UINT32_MAX - LB_RECORD_ALIGN)
		return 0;
	return (size + LB_RECORD_ALIGN - 1) & ~(size_t)(LB_RECORD_ALIGN - 1);
}

/* Copy n <= 64 bytes without a call: overlapping words. */
static inline void lb_copy_short(uint8_t *d, const char *s, size_t n)
{
	if (n >= 8) {
		for (size_t i = 0; i + 8 <= n; i += 8)
			memcpy(d + i, s + i, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = (uint8_t)s[i];
	}
}

/*
 * lb_record_encode - write the record into dst, which holds size =
 * lb_record_size() bytes, 8-byte aligned. Inline: it is most of a publish.
 */
static inline void lb_record_encode(void *dst, size_t size, const struct lb_record_meta *meta,
				    const char *tag, size_t tag_len, const char *msg,
				    size_t msg_len, const struct logbus_field *fields,
				    size_t nfields)
{
	struct lb_record_header *h = dst;
	uint8_t *p = (uint8_t *)dst + sizeof(*h);

	/* The last word first: alignment padding never keeps stale bytes. */
	memset((uint8_t *)dst + size - 8, 0, 8);
	h->kind = LB_RECORD_ENTRY;
	h->level = meta->level;
	h->ts_mode = meta->ts_mode;
	h->seq = meta->seq;
	h->ts = meta->ts;
	h->pid = meta->pid;
	h->tid = meta->tid;
	h->msg_len = (uint32_t)msg_len;
	h->tag_len = (uint16_t)tag_len;
	h->nfields = (uint16_t)nfields;
	lb_copy_short(p, tag, tag_len);
	p += tag_len;
	if (msg_len)
		memcpy(p, msg, msg_len);
	p += msg_len;
	if (nfields)
		p = lb_record_encode_fields(p, fields, nfields);
	h->size = (uint32_t)(p - (uint8_t *)dst);
}

/* lb_record_encode_pad - write a pad record of size bytes (aligned, >= 8). */
void lb_record_encode_pad(void *dst, size_t size);

/* The highest lane sequence a valid record carries: INT64_MAX, what JSON
 * readers (jansson's json_int_t among them) read back as an integer. */
#define LB_RECORD_SEQ_MAX INT64_MAX

/*
 * lb_record_decode - decode the record at buf, which has avail bytes.
 * Returns the aligned size it takes, with *is_pad telling a pad record
 * (e untouched) from an entry (e filled); -EAGAIN when avail holds only part
 * of an entry no larger than max_record; -EBADMSG when the bytes are not a
 * valid record (a lane sequence above LB_RECORD_SEQ_MAX included). A pad's size may exceed avail: the caller must check that
 * it ends exactly at the end of the ring.
 */
long lb_record_decode(const uint8_t *buf, size_t avail, size_t max_record,
		      struct lb_entry *e, bool *is_pad);

/* lb_entry_field_first, lb_entry_field_next - iterate over the fields of a
 * decoded entry: call next exactly e->nfields times after first. */
void lb_entry_field_first(const struct lb_entry *e, const uint8_t **cursor);
void lb_entry_field_next(const uint8_t **cursor, struct lb_field_view *f);

/* lb_tag_valid - 1..LB_TAG_MAX bytes of printable ASCII without space. */
bool lb_tag_valid(const char *tag, size_t len);

/* lb_tag_len - the length of the NUL-terminated tag, or -1 when it is not
 * valid (see lb_tag_valid). One pass. */
static inline long lb_tag_len(const char *tag)
{
	size_t n = 0;

	for (; n <= LB_TAG_MAX; n++) {
		unsigned char c = (unsigned char)tag[n];
		if (c == 0)
			break;
		if (c <= 0x20 || c >= 0x7f)
			return -1;
	}
	return n == 0 || n > LB_TAG_MAX ? -1 : (long)n;
}

/* lb_key_valid - 1..LB_KEY_MAX bytes of [A-Za-z0-9_]. */
bool lb_key_valid(const char *key, size_t len);
