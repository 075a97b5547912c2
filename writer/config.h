/* SPDX-License-Identifier: MIT */
/*
 * The writer's configuration: a JSON file (see logbus-writer.example.json
 * for every key and its default), then LOGBUS_* environment variables, then
 * command-line flags, each overriding what came before.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bus.h"
#include "registrar_config.h"

struct hooks_conf;

/* "clients": who may log (the registrar's part), and who reads the stats
 * segment, which names every client's pid and program. */
struct clients_options {
	struct registrar_config registrar;
	unsigned stats_mode;       /* default 0640 */
	gid_t stats_group;         /* (gid_t)-1: the writer's group */
};

struct writer_config {
	json_t *root;              /* owns the strings below that came from the file */
	int warnings;              /* lines config_load printed that are no problem */
	const char *bus;
	struct lb_bus_geometry geometry;
	unsigned formats;          /* the sinks that run: bit i for sink_kinds[i] */
	uint64_t status_seconds;   /* how often STATUS= and the stderr summary */
	const char *state_dir;     /* the sinks' positions; NULL: file.dir */
	const char *spool_dir;     /* the remote sinks' spools; NULL: <state dir>/spool */
	uint64_t spool_max;        /* bytes per spool */
	/* Per kind of sink_kinds[] (sink_kinds.h), its section: the options
	 * of each sink it makes, in the struct of the kind's own file. */
	struct config_list *sinks;
	struct hooks_conf *hooks;        /* "hooks", parsed (writer/hooks/hooks.h); NULL: none */
	struct clients_options clients;  /* read at start only: a reload keeps the running one */
};

/* What the command line gave; NULL or 0: not given. */
struct config_overrides {
	const char *config_path;
	const char *bus;
	const char *dir;
	const char *format;
	const char *lanes;
	const char *lane_size;
};

/* config_put_one_line - text with every control byte as \xNN: a problem
 * is one line even when it quotes what the file holds (a key, a value,
 * jansson's "near"). */
void config_put_one_line(FILE *f, const char *text);

/*
 * config_load - defaults, then the file (when ov->config_path), then
 * LOGBUS_BUS, LOGBUS_DIR, LOGBUS_FORMAT, then ov. Every problem is printed
 * to errs as one line naming its JSON path (or variable or flag), like
 * "logbus-writer: FILE: $.file.rotate_size: not a size". Returns the
 * number of problems: 0 means c is ready (free it with config_free).
 */
int config_load(const struct config_overrides *ov, struct writer_config *c, FILE *errs);

/* config_free - release what config_load kept; NULL-safe on a zeroed c. */
void config_free(struct writer_config *c);

/* config_state_dir - where the sinks' positions are kept. */
const char *config_state_dir(const struct writer_config *c);
