/* SPDX-License-Identifier: MIT */
/* Parsing a line of /proc/<pid>/stat: how a process's death and identity
 * (state, start time) are told, for clients, the writer and the monitor. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * lb_proc_stat_parse - read the state (field 3) and the start time in clock
 * ticks since boot (field 22) from one line of /proc/<pid>/stat. The
 * command name (field 2) may hold spaces and parentheses, so fields are
 * counted from its last ')'. Returns false when the line is not of that
 * form.
 */
bool lb_proc_stat_parse(const char *line, char *state, uint64_t *start);
