/* SPDX-License-Identifier: MIT */
/* Whether an entry matches a hook: level range, tag glob, fields. */
#include <fnmatch.h>
#include <string.h>

#include "hooks_impl.h"

static bool tag_matches(const char *glob, const struct lb_entry *e)
{
	char tag[LOGBUS_TAG_MAX + 1];

	memcpy(tag, e->tag, e->tag_len);   /* a decoded tag is at most LOGBUS_TAG_MAX */
	tag[e->tag_len] = '\0';
	return fnmatch(glob, tag, 0) == 0;
}

static bool field_matches(const struct hook_field_match *m, const struct lb_entry *e)
{
	size_t key_len = strlen(m->key);
	const uint8_t *cur;

	lb_entry_field_first(e, &cur);
	for (size_t i = 0; i < e->nfields; i++) {
		struct lb_field_view f;

		lb_entry_field_next(&cur, &f);
		if (f.key_len != key_len || memcmp(f.key, m->key, key_len) != 0)
			continue;
		if (!m->value)
			return true;
		if (f.value_len == strlen(m->value) && memcmp(f.value, m->value, f.value_len) == 0)
			return true;
	}
	return false;
}

bool hook_matches(const struct hook_match *m, const struct lb_entry *e)
{
	if (e->level < m->level_min || e->level > m->level_max)
		return false;
	if (m->tag && !tag_matches(m->tag, e))
		return false;
	for (size_t i = 0; i < m->nfields; i++)
		if (!field_matches(&m->fields[i], e))
			return false;
	return true;
}
