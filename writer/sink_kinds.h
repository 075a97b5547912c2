/* SPDX-License-Identifier: MIT */
/*
 * The kinds of sink, in one table: each kind's word in "format", its
 * section of the configuration file, the schema of that section (its
 * keys, defaults and checks, declared in the sink's own file with
 * config_schema.h) and its constructor. config.c walks the table to read
 * each section by its kind's schema and to choose the kinds that run;
 * sinks_make() (sinks_make.h) makes their sinks. Neither knows a sink's
 * options. A new sink is one row.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_list;
struct config_section;
struct sink;
struct sink_context;

struct sink_kind {
	const char *format;       /* its word in "format", LOGBUS_FORMAT and --format */
	const char *name;         /* its sinks' name (struct sink), in messages */
	const char *key;          /* its section of the file */
	const struct config_section *section;
	bool list;                /* the section is a list: one sink per element */
	/* Runs when nothing names the sinks, configured or not; the other
	 * kinds run then when the file configures them. */
	bool implied;
	/* The key --dir and LOGBUS_DIR set, whose directory also keeps the
	 * sinks' positions when "state_dir" is not given; one kind has it,
	 * an object. */
	const char *dir_key;
	/* A list chosen with no element: this problem (at the list's path);
	 * NULL: the kind runs one sink of the section's defaults. */
	const char *none;
	/*
	 * make - the sink of one element of the section, opts (index: its
	 * place in the list; 0 for an object), for sc. Returns 0 with *out
	 * set, or a negative errno; prints nothing.
	 */
	int (*make)(const void *opts, unsigned index, const struct sink_context *sc,
		    struct sink **out);
};

/* The kinds, in the order their words are listed and their sinks made. */
extern const struct sink_kind sink_kinds[];
extern const size_t sink_kinds_count;

/* sink_kind_opts - the options of the i-th sink of kind, in l (its part
 * of the configuration). */
void *sink_kind_opts(const struct sink_kind *kind, const struct config_list *l, size_t i);
