/* SPDX-License-Identifier: MIT */
/*
 * An entry as one JSON line. Always valid JSON: text that is not UTF-8 is
 * carried in base64 under a key of its own (msg_b64, comm_b64, exe_b64,
 * fields_b64), so no byte is lost and no line is invalid.
 */
#include <string.h>

#include "entry_json.h"
#include "text.h"

static void put_key(struct lb_buf *b, const char *key, size_t len)
{
	lb_buf_putc(b, '"');
	lb_buf_put(b, key, len);
	lb_buf_puts(b, "\":");
}

/* ,"key":"text" (JSON-escaped), or ,"key_b64":"..." when text is not
 * UTF-8. */
static void put_text(struct lb_buf *b, const char *key, size_t key_len, const char *s,
		     size_t len)
{
	bool utf8 = lb_utf8_valid(s, len);

	lb_buf_putc(b, ',');
	if (utf8) {
		put_key(b, key, key_len);
		lb_json_put_string(b, s, len);
		return;
	}
	lb_buf_putc(b, '"');
	lb_buf_put(b, key, key_len);
	lb_buf_puts(b, "_b64\":");
	lb_base64_put_quoted(b, s, len);
}

#define PUT_TEXT(b, lit, s, len) put_text((b), (lit), sizeof(lit) - 1, (s), (len))

/* The process behind the entry: uid, gid, comm, exe. The strings are
 * NUL-terminated in the registry; strnlen() bounds them all the same. */
static void put_identity(struct lb_buf *b, const struct lb_client_identity *who)
{
	lb_buf_puts(b, ",\"uid\":");
	lb_buf_put_u64(b, who->uid);
	lb_buf_puts(b, ",\"gid\":");
	lb_buf_put_u64(b, who->gid);
	PUT_TEXT(b, "comm", who->comm, strnlen(who->comm, sizeof(who->comm)));
	PUT_TEXT(b, "exe", who->exe, strnlen(who->exe, sizeof(who->exe)));
}

/* The fields whose values are (utf8 true) or are not UTF-8, as an object
 * under name; nothing when there are none. */
static void put_fields(struct lb_buf *b, const struct lb_entry *e, bool utf8, const char *name,
		       size_t name_len)
{
	const uint8_t *cursor;
	struct lb_field_view f;
	bool open = false;

	lb_entry_field_first(e, &cursor);
	for (size_t i = 0; i < e->nfields; i++) {
		lb_entry_field_next(&cursor, &f);
		if (lb_utf8_valid(f.value, f.value_len) != utf8)
			continue;
		if (!open) {
			lb_buf_putc(b, ',');
			put_key(b, name, name_len);
			lb_buf_putc(b, '{');
			open = true;
		} else
			lb_buf_putc(b, ',');
		put_key(b, f.key, f.key_len);
		if (utf8)
			lb_json_put_string(b, f.value, f.value_len);
		else
			lb_base64_put_quoted(b, f.value, f.value_len);
	}
	if (open)
		lb_buf_putc(b, '}');
}

void lb_entry_json_put(struct lb_buf *b, const struct lb_entry *e, uint64_t ts_ns,
		       const struct lb_entry_ids *ids)
{
	const char *level = lb_level_name(e->level);

	lb_buf_puts(b, "{\"ts\":\"");
	lb_rfc3339_put(b, ts_ns);
	lb_buf_putc(b, '"');
	if (ids) {
		lb_buf_puts(b, ",\"seq\":");
		lb_buf_put_u64(b, ids->seq);
		lb_buf_puts(b, ",\"lane\":");
		lb_buf_put_u64(b, ids->lane);
		lb_buf_puts(b, ",\"lane_seq\":");
		lb_buf_put_u64(b, e->seq);
	}
	lb_buf_puts(b, ",\"level\":\"");
	lb_buf_put(b, level, strlen(level));
	lb_buf_puts(b, "\",\"tag\":");
	/* Tags are printable ASCII but may hold '"' or '\\'. */
	lb_json_put_string(b, e->tag, e->tag_len);
	lb_buf_puts(b, ",\"pid\":");
	lb_buf_put_u64(b, e->pid);
	lb_buf_puts(b, ",\"tid\":");
	lb_buf_put_u64(b, e->tid);
	if (ids && ids->who)
		put_identity(b, ids->who);
	PUT_TEXT(b, "msg", e->msg, e->msg_len);
	if (e->nfields) {
		put_fields(b, e, true, "fields", 6);
		put_fields(b, e, false, "fields_b64", 10);
	}
	lb_buf_puts(b, "}\n");
}
