/* SPDX-License-Identifier: MIT */
/* File names as logbus-query tells them apart. */
#pragma once

#include <stdbool.h>
#include <string.h>

/* name_ends_with - whether s ends in suffix. */
static inline bool name_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}
