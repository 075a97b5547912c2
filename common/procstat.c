/* SPDX-License-Identifier: MIT */
/* Parsing a line of /proc/<pid>/stat. */
#include <stdio.h>
#include <string.h>

#include "procstat.h"

bool lb_proc_stat_parse(const char *line, char *state, uint64_t *start)
{
	const char *p = strrchr(line, ')');
	unsigned long long started;
	char st;

	if (!p || p[1] != ' ' ||
	    sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			  "%*d %*d %*d %*d %llu", &st, &started) != 2)
		return false;
	*state = st;
	*start = started;
	return true;
}
