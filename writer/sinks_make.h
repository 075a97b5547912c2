/* SPDX-License-Identifier: MIT */
/* Making the sinks of a configuration (sink_kinds.h for the kinds). */
#pragma once

#include <stdint.h>
#include <stdio.h>

struct sink;
struct writer_config;

/*
 * sinks_make - create the sinks c enables, kind by kind in the order of
 * sink_kinds[], for the bus whose segment id is segment_id. Returns the
 * count with *out a malloc()ed array, or a negative errno after printing
 * what failed to errs (nothing is left open then).
 */
long sinks_make(const struct writer_config *c, uint64_t segment_id, struct sink ***out,
		FILE *errs);
