/* SPDX-License-Identifier: MIT */
/*
 * The vocabulary of the writer's configuration: how a section of the JSON
 * file is described (a table of keys, each with its value type and where
 * the value goes) and the value types config.c reads, each with its one
 * parser there ("64M" for a size, "1h" for a duration, "err" for a
 * level...). config.c describes its own sections with these, and so does
 * every sink kind (sink_kinds.h) in its own file; config.c walks them all.
 */
#pragma once

#include <stddef.h>

/* Where problems are told: config.c's, opaque to a section. */
struct config_ctx;

/* What a key's value is, and the member it goes to. */
enum config_type {
	CONFIG_STRING,      /* const char *: a non-empty string */
	CONFIG_DIR,         /* const char *: a directory the writer writes into,
			     * checked writable when its section's sink runs */
	CONFIG_BUS,         /* const char *: a bus name */
	CONFIG_GLOB,        /* const char *: a tag glob, fnmatch(3) */
	CONFIG_BOOL,        /* bool: true or false */
	CONFIG_COMPRESS,    /* bool: "zstd" (true) or "none" */
	CONFIG_CHOICE,      /* int or enum: the index of one of the key's words */
	CONFIG_COUNT,       /* uint32_t or uint64_t: a whole number */
	CONFIG_SIZE,        /* uint32_t or uint64_t: bytes, "64M" */
	CONFIG_SECONDS,     /* uint64_t: a duration in seconds, "1h" */
	CONFIG_LEVEL,       /* int: a severity 0..7, "err" */
	CONFIG_FACILITY,    /* int: a syslog facility as LOG_LOCAL3 is, "local3" */
	CONFIG_ZSTD_LEVEL,  /* int: a zstd compression level */
	CONFIG_MODE,        /* unsigned: file mode bits, "0640" */
	CONFIG_GROUP,       /* gid_t: a group name or id */
	CONFIG_USERS,       /* struct registrar_ids: a list of users */
	CONFIG_GROUPS,      /* struct registrar_ids: a list of groups */
	CONFIG_FORMATS,     /* unsigned: sink kinds by their "format" words */
	CONFIG_HOOKS,       /* struct hooks_conf *: "hooks" (writer/hooks/hooks.h) */
	CONFIG_OBJECT,      /* a struct: the object its section describes */
	CONFIG_LIST,        /* struct config_list: a list of that object */
};

/* A list parsed from a JSON array of objects (an object: a list of one). */
struct config_list {
	void *items;
	size_t count;
};

struct config_section;

struct config_key {
	const char *name;
	enum config_type type;
	size_t off;                         /* in the struct the section fills */
	size_t size;                        /* of the member there */
	const struct config_section *sub;   /* CONFIG_OBJECT, CONFIG_LIST */
	const char *const *words;           /* CONFIG_CHOICE, NULL-terminated */
};

#define CONFIG_KEY(name, type, st, member) \
	{ name, type, offsetof(st, member), sizeof(((st *)0)->member), NULL, NULL }
#define CONFIG_SUB(name, type, st, member, sec) \
	{ name, type, offsetof(st, member), sizeof(((st *)0)->member), sec, NULL }
#define CONFIG_WORDS(name, st, member, words) \
	{ name, CONFIG_CHOICE, offsetof(st, member), sizeof(((st *)0)->member), NULL, words }

/* A JSON object: its keys (ending with a zeroed one), the struct they
 * fill, and what is checked once all of them are read. Keys starting
 * with '_' are documentation and skipped; any other key not in keys is a
 * problem. */
struct config_section {
	const struct config_key *keys;
	size_t size;                        /* of the struct */
	/* Optional: set the defaults before the keys are read. */
	void (*defaults)(void *dst);
	/* Optional: what only the whole object tells; path names it. */
	void (*check)(struct config_ctx *x, const char *path, void *dst);
};

/* config_problem - tell one problem at path (a JSON path, "$.syslog[0]";
 * NULL: the source as a whole) as one line, and count it. */
__attribute__((format(printf, 3, 4)))
void config_problem(struct config_ctx *x, const char *path, const char *fmt, ...);
