/* SPDX-License-Identifier: MIT */
/*
 * RFC 5424 formatting. Choices the RFC leaves open, and the limits it sets:
 *
 * - TIMESTAMP has six fraction digits at most: microseconds.
 * - APP-NAME is at most 48 characters: a longer tag is cut there and the
 *   whole one goes into our SD-ELEMENT as tag="...".
 * - SD-PARAM names are at most 32 characters, while field keys may have
 *   64: a longer key goes as long-key="KEY=value". A value that is not
 *   UTF-8 (PARAM-VALUE must be) goes base64-encoded under the name plus
 *   ".b64". Neither "-" nor "." can occur in a key, so these never
 *   collide with a user's field.
 * - PARAM-VALUE escapes '"', '\' and ']' with a backslash.
 * - PROCID is the pid the writer attests (the drain stamps every entry of
 *   a lane slot with the pid the kernel gave at registration), and our
 *   SD-ELEMENT carries the rest of that identity: uid, gid, comm and exe
 *   (as /proc showed them at registration), each escaped as any value;
 *   a comm or exe that is not UTF-8 goes as comm.b64, exe.b64. An entry
 *   without an identity (a batch built by hand) has none of the four.
 * - MSG is sent as it is, without a BOM (MSG-ANY): rsyslog and journald
 *   would keep a BOM as part of the text.
 */
#include <string.h>
#include <unistd.h>

#include "rfc5424.h"
#include "text.h"

#define APP_NAME_MAX 48
#define SD_NAME_MAX 32

void rfc5424_origin_init(struct rfc5424_origin *o, const char *hostname, int facility)
{
	size_t n = 0;

	if (!hostname) {
		if (gethostname(o->hostname, sizeof(o->hostname)) < 0)
			o->hostname[0] = '\0';
		o->hostname[sizeof(o->hostname) - 1] = '\0';
		hostname = o->hostname;
	}
	for (; hostname[n] && n < sizeof(o->hostname) - 1; n++) {
		char c = hostname[n];
		o->hostname[n] = c > ' ' && c < 127 ? c : '_';
	}
	if (n == 0)
		o->hostname[n++] = '-';
	o->hostname[n] = '\0';
	o->facility = facility;
}

/* The value between quotes, escaped; base64 when it is not UTF-8. */
static void put_param_value(struct lb_buf *b, const char *v, size_t len)
{
	if (!lb_utf8_valid(v, len)) {
		lb_base64_put_quoted(b, v, len);
		return;
	}
	lb_buf_putc(b, '"');
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '"' || v[i] == '\\' || v[i] == ']')
			lb_buf_putc(b, '\\');
		lb_buf_putc(b, v[i]);
	}
	lb_buf_putc(b, '"');
}

static void put_u64_param(struct lb_buf *b, const char *name, size_t name_len, uint64_t v)
{
	lb_buf_put(b, name, name_len);
	lb_buf_put_u64(b, v);
	lb_buf_putc(b, '"');
}

#define PUT_U64_PARAM(b, lit, v) put_u64_param((b), (lit), sizeof(lit) - 1, (v))

/* " name=value", or " name.b64=value" with value base64 when it is not
 * UTF-8 (put_param_value() encodes it). */
static void put_text_param(struct lb_buf *b, const char *name, size_t name_len, const char *v,
			   size_t len)
{
	lb_buf_putc(b, ' ');
	lb_buf_put(b, name, name_len);
	if (!lb_utf8_valid(v, len))
		lb_buf_puts(b, ".b64");
	lb_buf_putc(b, '=');
	put_param_value(b, v, len);
}

#define PUT_TEXT_PARAM(b, lit, v, len) put_text_param((b), (lit), sizeof(lit) - 1, (v), (len))

/* The rest of the attested identity; PROCID has the pid. */
static void put_identity(struct lb_buf *b, const struct lb_client_identity *who)
{
	PUT_U64_PARAM(b, " uid=\"", who->uid);
	PUT_U64_PARAM(b, " gid=\"", who->gid);
	PUT_TEXT_PARAM(b, "comm", who->comm, strnlen(who->comm, sizeof(who->comm)));
	PUT_TEXT_PARAM(b, "exe", who->exe, strnlen(who->exe, sizeof(who->exe)));
}

static void put_field(struct lb_buf *b, const struct lb_field_view *f)
{
	struct lb_buf kv = { 0 };

	if (f->key_len <= SD_NAME_MAX) {
		put_text_param(b, f->key, f->key_len, f->value, f->value_len);
		return;
	}
	/* long-key="KEY=value": the key joins the value, escaped as one (the
	 * key is ASCII: the pair is UTF-8 when the value is). */
	lb_buf_put(&kv, f->key, f->key_len);
	lb_buf_putc(&kv, '=');
	lb_buf_put(&kv, f->value, f->value_len);
	if (kv.failed)
		b->failed = true;
	else
		PUT_TEXT_PARAM(b, "long-key", kv.data, kv.len);
	lb_buf_free(&kv);
}

static void put_header(struct lb_buf *b, const struct rfc5424_origin *o,
		       const struct batch_entry *be)
{
	const struct lb_entry *e = &be->e;
	size_t app_len = e->tag_len < APP_NAME_MAX ? e->tag_len : APP_NAME_MAX;

	lb_buf_putc(b, '<');
	lb_buf_put_u64(b, (unsigned)o->facility | (e->level & 7u));
	lb_buf_puts(b, ">1 ");
	/* RFC 3339 with nanoseconds, cut to microseconds. */
	lb_rfc3339_put(b, be->ts_ns);
	if (!b->failed) {
		b->len -= 4;
		lb_buf_putc(b, 'Z');
	}
	lb_buf_putc(b, ' ');
	lb_buf_put(b, o->hostname, strlen(o->hostname));
	lb_buf_putc(b, ' ');
	lb_buf_put(b, e->tag, app_len);
	lb_buf_putc(b, ' ');
	lb_buf_put_u64(b, e->pid);
	lb_buf_puts(b, " - ");
}

void rfc5424_put(struct lb_buf *b, const struct rfc5424_origin *o, const struct batch_entry *be)
{
	const struct lb_entry *e = &be->e;

	put_header(b, o, be);
	lb_buf_puts(b, "[logbus@" RFC5424_PEN);
	PUT_U64_PARAM(b, " tid=\"", e->tid);
	PUT_U64_PARAM(b, " seq=\"", be->seq);
	PUT_U64_PARAM(b, " lane=\"", be->lane);
	PUT_U64_PARAM(b, " lane_seq=\"", e->seq);
	if (be->who)
		put_identity(b, be->who);
	if (e->tag_len > APP_NAME_MAX) {
		lb_buf_puts(b, " tag=");
		put_param_value(b, e->tag, e->tag_len);
	}
	lb_buf_putc(b, ']');
	if (e->nfields) {
		const uint8_t *cursor;
		struct lb_field_view f;

		lb_buf_puts(b, "[fields@" RFC5424_PEN);
		lb_entry_field_first(e, &cursor);
		for (size_t i = 0; i < e->nfields; i++) {
			lb_entry_field_next(&cursor, &f);
			put_field(b, &f);
		}
		lb_buf_putc(b, ']');
	}
	lb_buf_putc(b, ' ');
	lb_buf_put(b, e->msg, e->msg_len);
}
