/* SPDX-License-Identifier: MIT */
/*
 * example-filter.so: a filter hook plugin. It drops debug entries and
 * stamps every other entry with the field "reviewed" set to the value of
 * its configuration, checking each edit's return code (an edit that fails
 * keeps the entry unchanged and counts an error).
 *
 *	cc -shared -fPIC $(pkg-config --cflags logbus) filter.c -o example-filter.so
 *
 *	"hooks": [ { "name": "review", "type": "filter",
 *	             "plugin": "/usr/lib/logbus/hooks/example-filter.so",
 *	             "config": { "by": "ops" } } ]
 *
 * Without "by", the value is "example-filter".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <logbus-hook.h>

struct review {
	char by[64];
};

/* The writer hands the config as compact JSON text, {"by":"ops"}: this
 * example finds the "by" string in it (no escapes) instead of linking a
 * JSON parser. Returns 0, or -EINVAL for a "by" it cannot read: the
 * writer then disables the hook and says so. */
static int config_by(const char *config, char *out, size_t cap)
{
	const char *v = strstr(config, "\"by\":\"");
	size_t len;

	if (!v) {
		snprintf(out, cap, "example-filter");
		return 0;
	}
	v += strlen("\"by\":\"");
	len = strcspn(v, "\"\\");
	if (v[len] != '"' || len == 0 || len >= cap)
		return -EINVAL;
	memcpy(out, v, len);
	out[len] = '\0';
	return 0;
}

static int review_init(const char *config, void **state)
{
	struct review *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	err = config_by(config, r->by, sizeof(r->by));
	if (err < 0) {
		free(r);
		return err;
	}
	*state = r;
	return 0;
}

static int review_filter(void *state, const struct logbus_hook_entry *e,
			 struct logbus_hook_edit *ed)
{
	struct review *r = state;
	int err;

	if (e->level == LOGBUS_DEBUG)
		return LOGBUS_HOOK_DROP;
	err = logbus_hook_set_field(ed, "reviewed", r->by, strlen(r->by));
	return err < 0 ? err : LOGBUS_HOOK_REWRITE;
}

static void review_fini(void *state)
{
	free(state);
}

LOGBUS_HOOK_DEFINE(.name = "example-filter", .init = review_init, .filter = review_filter,
		   .fini = review_fini);
