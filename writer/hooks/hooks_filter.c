/* SPDX-License-Identifier: MIT */
/*
 * The filter chain: inline in the drain, in configuration order, before
 * the sinks. A filter keeps, drops or rewrites an entry; a rewrite is
 * encoded as a new record that the hook set owns until the next batch (the
 * sinks read it in between), and the next filter sees the rewritten entry.
 * Edits copy what they are given, so a plugin may pass its own buffers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hooks_impl.h"

/* One field as the edit holds it: the key NUL-terminated for the encoder,
 * the value pointing into the entry or at own. */
struct edit_field {
	char key[LOGBUS_KEY_MAX + 1];
	const char *value;
	size_t len;
	char *own;
};

struct edit {
	struct logbus_hook_edit pub;
	const struct lb_entry *e;
	const char *msg;
	size_t msg_len;
	char *msg_own;
	bool loaded;            /* fields copied from the entry */
	size_t nfields;
	struct edit_field f[LOGBUS_FIELDS_MAX];
};

static char *dup_bytes(const char *p, size_t n)
{
	char *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

static int edit_set_message(struct logbus_hook_edit *pub, const char *msg, size_t len)
{
	struct edit *ed = (struct edit *)pub;
	char *own = dup_bytes(msg, len);

	if (!own)
		return -ENOMEM;
	free(ed->msg_own);
	ed->msg = ed->msg_own = own;
	ed->msg_len = len;
	return 0;
}

static void edit_load(struct edit *ed)
{
	const uint8_t *cur;

	if (ed->loaded)
		return;
	ed->loaded = true;
	lb_entry_field_first(ed->e, &cur);
	for (size_t i = 0; i < ed->e->nfields; i++) {
		struct lb_field_view v;
		struct edit_field *f = &ed->f[i];

		lb_entry_field_next(&cur, &v);
		memcpy(f->key, v.key, v.key_len);
		f->key[v.key_len] = '\0';
		f->value = v.value;
		f->len = v.value_len;
		f->own = NULL;
	}
	ed->nfields = ed->e->nfields;
}

static struct edit_field *edit_find(struct edit *ed, const char *key)
{
	edit_load(ed);
	for (size_t i = 0; i < ed->nfields; i++)
		if (strcmp(ed->f[i].key, key) == 0)
			return &ed->f[i];
	return NULL;
}

static int edit_set_field(struct logbus_hook_edit *pub, const char *key, const char *value,
			  size_t len)
{
	struct edit *ed = (struct edit *)pub;
	struct edit_field *f;
	char *own;

	if (!key || !lb_key_valid(key, strlen(key)) || (!value && len))
		return -EINVAL;
	f = edit_find(ed, key);
	if (!f && ed->nfields == LOGBUS_FIELDS_MAX)
		return -E2BIG;
	if (!(own = dup_bytes(value, len)))
		return -ENOMEM;
	if (!f) {
		f = &ed->f[ed->nfields++];
		strcpy(f->key, key);
	} else {
		free(f->own);
	}
	f->value = f->own = own;
	f->len = len;
	return 0;
}

static int edit_remove_field(struct logbus_hook_edit *pub, const char *key)
{
	struct edit *ed = (struct edit *)pub;
	struct edit_field *f = key ? edit_find(ed, key) : NULL;

	if (!f)
		return -ENOENT;
	free(f->own);
	memmove(f, f + 1, (size_t)(&ed->f[ed->nfields] - (f + 1)) * sizeof(*f));
	ed->nfields--;
	return 0;
}

static const struct logbus_hook_edit_ops edit_ops = {
	.set_message = edit_set_message,
	.set_field = edit_set_field,
	.remove_field = edit_remove_field,
};

static void edit_init(struct edit *ed, const struct lb_entry *e)
{
	ed->pub.ops = &edit_ops;
	ed->e = e;
	ed->msg = e->msg;
	ed->msg_len = e->msg_len;
	ed->msg_own = NULL;
	ed->loaded = false;
	ed->nfields = 0;
}

static void edit_release(struct edit *ed)
{
	free(ed->msg_own);
	for (size_t i = 0; i < ed->nfields; i++)
		free(ed->f[i].own);
}

static bool keep_record(struct hooks *h, void *rec)
{
	if (h->nrewrites == h->rewrites_cap) {
		size_t cap = h->rewrites_cap ? 2 * h->rewrites_cap : 64;
		void **r = realloc(h->rewrites, cap * sizeof(*r));
		if (!r)
			return false;
		h->rewrites = r;
		h->rewrites_cap = cap;
	}
	h->rewrites[h->nrewrites++] = rec;
	return true;
}

/* Encode the edited entry as a record of the set's own and point e at it.
 * Returns 0 or -ENOMEM. */
static int edit_apply(struct hooks *h, struct edit *ed, struct lb_entry *e)
{
	struct logbus_field fields[LOGBUS_FIELDS_MAX];
	struct lb_record_meta meta = {
		.seq = e->seq, .ts = e->ts, .ts_mode = e->ts_mode, .level = e->level,
		.pid = e->pid, .tid = e->tid,
	};
	size_t size;
	void *rec;
	bool pad;

	edit_load(ed);
	for (size_t i = 0; i < ed->nfields; i++)
		fields[i] = (struct logbus_field){ ed->f[i].key, ed->f[i].value, ed->f[i].len };
	size = lb_record_size(e->tag_len, ed->msg_len, fields, ed->nfields);
	if (!size || !(rec = malloc(size)))
		return -ENOMEM;
	if (!keep_record(h, rec)) {
		free(rec);
		return -ENOMEM;
	}
	lb_record_encode(rec, size, &meta, e->tag, e->tag_len, ed->msg, ed->msg_len, fields,
			 ed->nfields);
	return lb_record_decode(rec, size, size, e, &pad) < 0 ? -EBADMSG : 0;
}

/* Call filter h on be; returns its verdict, KEEP after an error. */
static int filter_call(struct hooks *set, struct hook *h, struct batch_entry *be)
{
	struct logbus_hook_field fields[LOGBUS_FIELDS_MAX];
	struct logbus_hook_entry view;
	struct edit ed;
	uint64_t start, took;
	int r;

	hook_entry_view(&be->e, be->ts_ns, be->seq, be->who, fields, &view);
	edit_init(&ed, &be->e);
	start = hook_now_ns();
	r = h->plugin.desc->filter(h->plugin.data, &view, &ed.pub);
	took = hook_now_ns() - start;
	hook_count_time(h, 1, took);
	if (r == LOGBUS_HOOK_REWRITE && edit_apply(set, &ed, &be->e) < 0)
		r = -ENOMEM;
	edit_release(&ed);
	if (r == LOGBUS_HOOK_KEEP || r == LOGBUS_HOOK_DROP || r == LOGBUS_HOOK_REWRITE) {
		/* A slow filter cannot be cut short: its verdict stands, and
		 * the call counts as timed out. */
		hook_count(took > (uint64_t)h->c->timeout_ms * 1000000u ? &h->n->timeouts
									 : &h->n->ok, 1);
		hook_count(r == LOGBUS_HOOK_DROP ? &h->n->dropped : &h->n->rewritten,
			   r != LOGBUS_HOOK_KEEP);
		return r;
	}
	hook_count(&h->n->errors, 1);
	return LOGBUS_HOOK_KEEP;
}

/* Run the chain on one entry; whether it stays. */
static bool filter_entry(struct hooks *set, struct batch_entry *be, struct hooks_watch *watch)
{
	for (size_t i = 0; i < set->count; i++) {
		struct hook *h = &set->hooks[i];

		if (h->c->type != HOOK_FILTER || !hook_matches(&h->c->match, &be->e))
			continue;
		hook_count(&h->n->matched, 1);
		if (!hook_plugin_ready(h)) {
			hook_count(&h->n->errors, 1);
			continue;
		}
		if (watch && watch->active)
			watch->before(watch, be, h->c->name);
		if (filter_call(set, h, be) == LOGBUS_HOOK_DROP)
			return false;
	}
	return true;
}

bool hooks_have_filters(const struct hooks *h)
{
	return h && h->any_filter;
}

size_t hooks_filter(struct hooks *h, struct batch *b, struct hooks_watch *watch)
{
	size_t out = 0;
	uint64_t first;

	if (!h || !h->any_filter || !b->count)
		return 0;
	for (size_t i = 0; i < h->nrewrites; i++)
		free(h->rewrites[i]);
	h->nrewrites = 0;
	first = b->entries[0].seq;
	for (size_t i = 0; i < b->count; i++) {
		if (!filter_entry(h, &b->entries[i], watch))
			continue;
		b->entries[out] = b->entries[i];
		b->entries[out].seq = first + out;
		out++;
	}
	size_t dropped = b->count - out;
	b->count = out;
	return dropped;
}
