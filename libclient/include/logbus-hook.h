/* SPDX-License-Identifier: MIT */
/*
 * logbus-hook.h - the ABI of logbus-writer hook plugins.
 *
 * A hook plugin is a shared object that exports one descriptor,
 * `logbus_hook_plugin`, defined with LOGBUS_HOOK_DEFINE(). The writer loads
 * it with dlopen the first time an entry matches the hook, checks that the
 * descriptor's abi_version equals the writer's LOGBUS_HOOK_ABI_VERSION (a
 * plugin of another version is refused, naming both), then calls:
 *
 *   init(config, &state)   once; config is the hook's "config" object from
 *                          the writer's configuration as a JSON text ("{}"
 *                          when there is none)
 *   filter(state, e, ed)   filter hooks: inline in the drain, before the
 *                          sinks, once per matching entry
 *   action(state, e)       action hooks: on a worker thread of their own,
 *                          after the sinks took the entry
 *   fini(state)            once, when the writer stops or reloads
 *
 * A filter runs on the drain thread, so it must be quick and must not
 * block: the writer drains nothing while a filter runs (a call longer than
 * the hook's timeout_ms is counted as a timeout, but cannot be cut short).
 * An action may take its time: it delays nothing but its own queue, whose
 * overflow the writer counts. filter and action are never called
 * concurrently for one hook instance. A plugin runs inside the writer: code
 * that may crash or hang belongs in a command hook instead.
 *
 * Everything an entry view points at is valid only during the call.
 *
 *	#include <logbus-hook.h>
 *
 *	static int drop_debug(void *state, const struct logbus_hook_entry *e,
 *			      struct logbus_hook_edit *ed)
 *	{
 *		(void)state;
 *		(void)ed;
 *		return e->level == LOGBUS_DEBUG ? LOGBUS_HOOK_DROP : LOGBUS_HOOK_KEEP;
 *	}
 *	LOGBUS_HOOK_DEFINE(.name = "drop-debug", .filter = drop_debug);
 */
#ifndef LOGBUS_HOOK_H
#define LOGBUS_HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "logbus.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct below changes in a way an old plugin would
 * misread; the writer loads only plugins built with its own version. */
#define LOGBUS_HOOK_ABI_VERSION 1

/* The name of the descriptor every plugin exports. */
#define LOGBUS_HOOK_SYMBOL "logbus_hook_plugin"

/* What a filter returns (or a negative errno: the entry is kept unchanged
 * and the hook's error counter grows). */
enum logbus_hook_verdict {
	LOGBUS_HOOK_KEEP = 0,       /* pass the entry on unchanged */
	LOGBUS_HOOK_DROP = 1,       /* no sink, no later hook sees it */
	LOGBUS_HOOK_REWRITE = 2,    /* pass it on with the edits made through ed */
};

/* One field of an entry: the key is [A-Za-z0-9_]{1,64}, not NUL-terminated;
 * the value is any bytes. */
struct logbus_hook_field {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
};

/* A read-only view of one entry. */
struct logbus_hook_entry {
	int level;                  /* LOGBUS_EMERG .. LOGBUS_DEBUG */
	const char *tag;            /* not NUL-terminated */
	size_t tag_len;
	uint32_t pid;               /* the kernel's word, as uid and gid below */
	uint32_t tid;               /* the client's word */
	uint64_t ts_ns;             /* CLOCK_REALTIME, nanoseconds */
	uint64_t seq;               /* writer-assigned output sequence */
	const char *msg;            /* any bytes, not NUL-terminated */
	size_t msg_len;
	const struct logbus_hook_field *fields;
	size_t nfields;
	/* The client's identity, as the kernel told the writer when the
	 * client registered. comm NULL: the writer knows none (a writer
	 * older than these fields, which left them zero), and uid and gid
	 * say nothing. */
	uint32_t uid;
	uint32_t gid;
	const char *comm;           /* NUL-terminated, at most 15 bytes */
	const char *exe;            /* NUL-terminated; "" when /proc would not say */
	uint64_t reserved[1];
};

struct logbus_hook_edit;

/* The edit functions a filter calls on its entry; the writer fills this
 * table, so plugins need no symbol of the writer. */
struct logbus_hook_edit_ops {
	int (*set_message)(struct logbus_hook_edit *ed, const char *msg, size_t len);
	int (*set_field)(struct logbus_hook_edit *ed, const char *key, const char *value,
			 size_t len);
	int (*remove_field)(struct logbus_hook_edit *ed, const char *key);
	void *reserved[5];
};

/* The edits of one filter call; opaque but for its table of operations. */
struct logbus_hook_edit {
	const struct logbus_hook_edit_ops *ops;
};

/*
 * logbus_hook_set_message - replace the entry's message with len bytes of
 * msg (copied). Returns 0 or -ENOMEM. Takes effect when the filter returns
 * LOGBUS_HOOK_REWRITE.
 */
static inline int logbus_hook_set_message(struct logbus_hook_edit *ed, const char *msg,
					  size_t len)
{
	return ed->ops->set_message(ed, msg, len);
}

/*
 * logbus_hook_set_field - set field key (NUL-terminated) to len bytes of
 * value (copied): replaces the field of that key, or adds it at the end.
 * Returns 0, -EINVAL for a key that is not [A-Za-z0-9_]{1,64}, -E2BIG when
 * the entry already has LOGBUS_FIELDS_MAX fields, -ENOMEM.
 */
static inline int logbus_hook_set_field(struct logbus_hook_edit *ed, const char *key,
					const char *value, size_t len)
{
	return ed->ops->set_field(ed, key, value, len);
}

/* logbus_hook_remove_field - remove field key. Returns 0, or -ENOENT when
 * the entry has no such field. */
static inline int logbus_hook_remove_field(struct logbus_hook_edit *ed, const char *key)
{
	return ed->ops->remove_field(ed, key);
}

/* The descriptor a plugin exports. Fields a plugin does not set are NULL. */
struct logbus_hook_plugin {
	uint32_t abi_version;       /* LOGBUS_HOOK_ABI_VERSION when built */
	uint32_t flags;             /* none defined yet; 0 */
	const char *name;           /* for messages */
	/* Parse config (JSON text) and return the hook's state in *state.
	 * Returns 0, or a negative errno: the hook is disabled. May be NULL. */
	int (*init)(const char *config, void **state);
	/* A filter: a logbus_hook_verdict, or a negative errno. */
	int (*filter)(void *state, const struct logbus_hook_entry *e,
		      struct logbus_hook_edit *ed);
	/* An action: 0, or a negative errno (counted as an error). */
	int (*action)(void *state, const struct logbus_hook_entry *e);
	/* Free the state. May be NULL. */
	void (*fini)(void *state);
	void *reserved[8];
};

#ifdef __cplusplus
#define LOGBUS_HOOK_EXTERN extern "C"
#else
#define LOGBUS_HOOK_EXTERN extern
#endif

/* LOGBUS_HOOK_DEFINE(.name = ..., .filter = ...) - define and export the
 * plugin's descriptor with the ABI version of this header (in C++, name
 * the members in their order above). */
#define LOGBUS_HOOK_DEFINE(...)                                                     \
	LOGBUS_HOOK_EXTERN __attribute__((visibility("default")))                   \
	const struct logbus_hook_plugin logbus_hook_plugin;                         \
	const struct logbus_hook_plugin logbus_hook_plugin = {                      \
		.abi_version = LOGBUS_HOOK_ABI_VERSION, __VA_ARGS__ }

#ifdef __cplusplus
}
#endif

#endif /* LOGBUS_HOOK_H */
