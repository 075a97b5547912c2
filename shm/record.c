/* SPDX-License-Identifier: MIT */
/*
 * Record encoding and validating decoding. The encoder writes straight into
 * lane memory; the decoder only ever sees the writer's private copy and
 * trusts nothing in it: every length is checked against what is left.
 */
#include <errno.h>
#include <string.h>

#include "clock.h"
#include "layout.h"
#include "record.h"

_Static_assert(LB_CLOCK_TSC == LB_TS_TSC, "common/clock.h's LB_CLOCK_TSC differs from enum lb_ts_mode");

static size_t align_up(size_t n)
{
	return (n + LB_RECORD_ALIGN - 1) & ~(size_t)(LB_RECORD_ALIGN - 1);
}

bool lb_tag_valid(const char *tag, size_t len)
{
	if (len == 0 || len > LB_TAG_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)tag[i] <= 0x20 || (unsigned char)tag[i] >= 0x7f)
			return false;
	return true;
}

bool lb_key_valid(const char *key, size_t len)
{
	if (len == 0 || len > LB_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/* The i-th field of the public API's array, read as bytes: struct
 * logbus_field and struct lb_field_src share one layout (abi_check.c). */
static struct lb_field_src field_at(const struct logbus_field *fields, size_t i)
{
	struct lb_field_src f;

	memcpy(&f, (const char *)fields + i * sizeof(f), sizeof(f));
	return f;
}

size_t lb_record_fields_size(const struct logbus_field *fields, size_t nfields)
{
	size_t size = 0;

	for (size_t i = 0; i < nfields; i++) {
		struct lb_field_src f = field_at(fields, i);
		if (f.len > UINT32_MAX)
			return SIZE_MAX;
		size += sizeof(struct lb_field_header) + strlen(f.key) + f.len;
	}
	return size;
}

uint8_t *lb_record_encode_fields(uint8_t *p, const struct logbus_field *fields, size_t nfields)
{
	for (size_t i = 0; i < nfields; i++) {
		struct lb_field_src f = field_at(fields, i);
		size_t key_len = strlen(f.key);
		struct lb_field_header fh = {
			.key_len = (uint16_t)key_len,
			.value_len = (uint32_t)f.len,
		};
		memcpy(p, &fh, sizeof(fh));
		p += sizeof(fh);
		memcpy(p, f.key, key_len);
		p += key_len;
		if (f.len)
			memcpy(p, f.value, f.len);
		p += f.len;
	}
	return p;
}

void lb_record_encode_pad(void *dst, size_t size)
{
	uint32_t s = (uint32_t)size;
	uint16_t kind = LB_RECORD_PAD;

	memcpy(dst, &s, sizeof(s));
	memcpy((uint8_t *)dst + 4, &kind, sizeof(kind));
}

static long decode_fields(const uint8_t *p, size_t left, size_t nfields)
{
	for (size_t i = 0; i < nfields; i++) {
		struct lb_field_header fh;

		if (left < sizeof(fh))
			return -EBADMSG;
		memcpy(&fh, p, sizeof(fh));
		p += sizeof(fh);
		left -= sizeof(fh);
		if (fh.key_len > left || !lb_key_valid((const char *)p, fh.key_len))
			return -EBADMSG;
		p += fh.key_len;
		left -= fh.key_len;
		if (fh.value_len > left)
			return -EBADMSG;
		p += fh.value_len;
		left -= fh.value_len;
	}
	return left == 0 ? 0 : -EBADMSG;
}

long lb_record_decode(const uint8_t *buf, size_t avail, size_t max_record,
		      struct lb_entry *e, bool *is_pad)
{
	struct lb_record_header h;
	uint32_t size;
	uint16_t kind;
	size_t body;

	if (avail < 8)
		return avail ? -EBADMSG : -EAGAIN;
	memcpy(&size, buf, sizeof(size));
	memcpy(&kind, buf + 4, sizeof(kind));
	if (kind == LB_RECORD_PAD) {
		/* Only its first 8 bytes are read, so a pad need not be in
		 * buf whole; the caller checks it ends at the ring's end. */
		if (size < 8 || size % LB_RECORD_ALIGN != 0)
			return -EBADMSG;
		*is_pad = true;
		return size;
	}
	if (kind != LB_RECORD_ENTRY || size < sizeof(h) || size > max_record)
		return -EBADMSG;
	if (align_up(size) > avail)
		return -EAGAIN;
	memcpy(&h, buf, sizeof(h));
	/* A lane sequence counts a lane's entries from 0: at 2^63 it is no
	 * count but damage, and every JSON reader could not read it back. */
	if (h.level > LB_LEVEL_MAX || (h.ts_mode != LB_TS_REALTIME && h.ts_mode != LB_TS_TSC) ||
	    h.nfields > LB_FIELDS_MAX || h.seq > LB_RECORD_SEQ_MAX)
		return -EBADMSG;
	body = size - sizeof(h);
	if (h.tag_len > body || !lb_tag_valid((const char *)buf + sizeof(h), h.tag_len))
		return -EBADMSG;
	body -= h.tag_len;
	if (h.msg_len > body)
		return -EBADMSG;
	body -= h.msg_len;
	const uint8_t *fields = buf + sizeof(h) + h.tag_len + h.msg_len;
	if (decode_fields(fields, body, h.nfields) < 0)
		return -EBADMSG;

	*e = (struct lb_entry){
		.seq = h.seq,
		.ts = h.ts,
		.ts_mode = h.ts_mode,
		.level = h.level,
		.pid = h.pid,
		.tid = h.tid,
		.tag = (const char *)buf + sizeof(h),
		.tag_len = h.tag_len,
		.msg = (const char *)buf + sizeof(h) + h.tag_len,
		.msg_len = h.msg_len,
		.nfields = h.nfields,
		.fields = fields,
	};
	*is_pad = false;
	return (long)align_up(size);
}

void lb_entry_field_first(const struct lb_entry *e, const uint8_t **cursor)
{
	*cursor = e->fields;
}

void lb_entry_field_next(const uint8_t **cursor, struct lb_field_view *f)
{
	struct lb_field_header fh;
	const uint8_t *p = *cursor;

	memcpy(&fh, p, sizeof(fh));
	p += sizeof(fh);
	f->key = (const char *)p;
	f->key_len = fh.key_len;
	p += fh.key_len;
	f->value = (const char *)p;
	f->value_len = fh.value_len;
	*cursor = p + fh.value_len;
}
