/* SPDX-License-Identifier: MIT */
/*
 * hook_scan.so - the cheapest useful filter, for hook-cost.sh: it reads
 * every byte of the message and of each field value (as a filter that
 * looks for something would) and keeps the entry.
 */
#include <stddef.h>

#include "logbus-hook.h"

static int scan(void *state, const struct logbus_hook_entry *e, struct logbus_hook_edit *ed)
{
	unsigned sum = 0;

	(void)state;
	(void)ed;
	for (size_t i = 0; i < e->msg_len; i++)
		sum += (unsigned char)e->msg[i];
	for (size_t f = 0; f < e->nfields; f++)
		for (size_t i = 0; i < e->fields[f].value_len; i++)
			sum += (unsigned char)e->fields[f].value[i];
	return sum == 1 ? LOGBUS_HOOK_DROP : LOGBUS_HOOK_KEEP;
}

LOGBUS_HOOK_DEFINE(.name = "scan", .filter = scan);
