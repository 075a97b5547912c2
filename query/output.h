/* SPDX-License-Identifier: MIT */
/* How logbus-query prints an entry: short, short-precise, json,
 * json-pretty, cat, verbose; colour for err and worse on a terminal. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "entry.h"

enum output_mode {
	OUTPUT_SHORT,
	OUTPUT_SHORT_PRECISE,
	OUTPUT_JSON,
	OUTPUT_JSON_PRETTY,
	OUTPUT_CAT,
	OUTPUT_VERBOSE,
};

/* output_mode_parse - the mode named s; -EINVAL for another name. */
int output_mode_parse(const char *s);

/* output_colour_wanted - colour on out: a terminal, and NO_COLOR unset
 * or empty. */
bool output_colour_wanted(FILE *out);

/* output_entry - print e in mode to out, coloured when colour. */
void output_entry(FILE *out, enum output_mode mode, bool colour, const struct entry *e);
