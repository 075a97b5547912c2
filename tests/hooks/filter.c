/* SPDX-License-Identifier: MIT */
/*
 * Test plugin: a filter that drops entries whose message is "drop-me",
 * fails on "fail-me", and rewrites "rewrite-me": new message, field
 * hooked=yes added, field secret removed (when there), field user set.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "logbus-hook.h"

static bool is(const struct logbus_hook_entry *e, const char *s)
{
	return e->msg_len == strlen(s) && memcmp(e->msg, s, e->msg_len) == 0;
}

static int test_filter(void *state, const struct logbus_hook_entry *e,
		       struct logbus_hook_edit *ed)
{
	int r = 0;

	(void)state;
	if (is(e, "drop-me"))
		return LOGBUS_HOOK_DROP;
	if (is(e, "fail-me"))
		return -EIO;
	if (!is(e, "rewrite-me"))
		return LOGBUS_HOOK_KEEP;
	r = r ?: logbus_hook_set_message(ed, "rewritten", 9);
	r = r ?: logbus_hook_set_field(ed, "hooked", "yes", 3);
	if (!r && (r = logbus_hook_remove_field(ed, "secret")) == -ENOENT)
		r = 0;
	r = r ?: logbus_hook_set_field(ed, "user", "alice", 5);
	return r < 0 ? r : LOGBUS_HOOK_REWRITE;
}

LOGBUS_HOOK_DEFINE(.name = "test-filter", .filter = test_filter);
