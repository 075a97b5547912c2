/* SPDX-License-Identifier: MIT */
/*
 * Test plugin: a filter that crashes the writer (SIGSEGV, no core file) on
 * an entry whose message is "poison-me", and keeps every other entry.
 */
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>

#include "logbus-hook.h"

static int crash_filter(void *state, const struct logbus_hook_entry *e,
			struct logbus_hook_edit *ed)
{
	(void)state;
	(void)ed;
	if (e->msg_len == 9 && memcmp(e->msg, "poison-me", 9) == 0) {
		struct rlimit none = { 0, 0 };
		(void)setrlimit(RLIMIT_CORE, &none);
		/* The default action, so that a sanitizer's handler does not
		 * turn the crash into an exit. */
		(void)signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
	return LOGBUS_HOOK_KEEP;
}

LOGBUS_HOOK_DEFINE(.name = "test-crash", .filter = crash_filter);
