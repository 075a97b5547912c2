/* SPDX-License-Identifier: MIT */
/*
 * The registrar: the writer's second process, which hands clients their
 * lanes (shm/register.h for the protocol, shm/registry.h for the table it
 * shares with the drain). It runs apart from the drain so that a drain
 * that is busy, blocked on a sink or stopped still registers clients, and
 * so that no client's request ever waits on a sink.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bus.h"
#include "registry.h"

/* Who may log and how much: the "clients" section of the configuration
 * (logbus-writer.json(5)). */
struct registrar_config {
	unsigned socket_mode;        /* default 0666: every local user, as /dev/log */
	const char *socket_group;    /* NULL: the writer's group */
	const char *const *allowed_users;   /* names or numbers; NULL: anyone */
	size_t nallowed_users;
	const char *const *allowed_groups;  /* names or numbers (primary or supplementary) */
	size_t nallowed_groups;
	uint32_t lanes_per_uid;      /* 0: the default, 3/4 of the lanes; root is exempt */
	uint32_t lanes_per_client;   /* 0: no limit but lanes_per_uid */
};

/*
 * registrar_start - bind the bus's socket (replacing one a dead writer
 * left; the caller holds the writer lock), set its mode and group, and
 * fork the registrar, which serves it until the writer exits (it dies with
 * its parent, PR_SET_PDEATHSIG). Returns 0 with *pid set, or a negative
 * errno after printing the cause to stderr.
 */
int registrar_start(const struct registrar_config *c, const char *bus_name,
		    const struct lb_bus *bus, const struct lb_registry *reg, pid_t *pid);

/* registrar_stop - end the registrar and remove the socket: at a clean
 * writer exit, after the final drain. */
void registrar_stop(pid_t pid, const char *bus_name);
