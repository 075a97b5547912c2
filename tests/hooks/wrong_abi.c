/* SPDX-License-Identifier: MIT */
/* Test plugin: built for a hook ABI the writer does not speak. */
#include "logbus-hook.h"

static int never(void *state, const struct logbus_hook_entry *e, struct logbus_hook_edit *ed)
{
	(void)state;
	(void)e;
	(void)ed;
	return LOGBUS_HOOK_DROP;
}

__attribute__((visibility("default"))) const struct logbus_hook_plugin logbus_hook_plugin = {
	.abi_version = LOGBUS_HOOK_ABI_VERSION + 1,
	.name = "wrong-abi",
	.filter = never,
};
