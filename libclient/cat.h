/* SPDX-License-Identifier: MIT */
/* logbus-cat's parts, shared by its argument parser (logbus-cat.c) and
 * its command runner (cat_command.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "logbus.h"

struct cat_options {
	const char *bus;
	const char *tag;
	const char *file;           /* -f FILE, or NULL */
	const char *sd_id;          /* the last --sd-id, prefix of --sd-param keys */
	int level;                  /* -p */
	int stdout_level;           /* --stdout-level, or -1: level */
	int stderr_level;           /* --stderr-level, or -1: level */
	struct logbus_field fields[LOGBUS_FIELDS_MAX];
	size_t nfields;
	char sd_keys[LOGBUS_FIELDS_MAX][LOGBUS_KEY_MAX + 1]; /* --sd-id-prefixed keys, by field */
	struct logbus_field *id_field; /* syslog_pid, when -i or --id */
	char facility[12];          /* syslog_facility's value */
	char id[24];                /* syslog_pid's value */
	bool drop;
	bool echo;                  /* -s: each message to stderr too */
};

/* cat_publish - publish one message at level with the options' tag and
 * fields, and with -s write it to stderr too. Returns false when it was
 * refused for its arguments (counted nowhere else). */
bool cat_publish(logbus_t *lb, const struct cat_options *o, int level, const char *msg,
		 size_t len);

/* cat_id_set - give -i's field syslog_pid the value pid, unless --id=PID
 * named one. */
void cat_id_set(struct cat_options *o, pid_t pid);

/* cat_run_command - run argv (argv[0] looked up in $PATH) with its stdout
 * and stderr logged line by line, at the options' stdout and stderr
 * levels; *refused counts the lines refused. Returns the command's exit
 * status, 128 + the signal that killed it, or 127 (126 when it exists
 * but cannot be run) with one line on stderr saying why. */
int cat_run_command(logbus_t *lb, struct cat_options *o, char **argv, uint64_t *refused);
