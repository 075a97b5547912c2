/* SPDX-License-Identifier: MIT */
/*
 * The registrar: the writer's second process, which hands clients their
 * lanes (shm/register.h for the protocol, shm/registry.h for the table it
 * shares with the drain). It runs apart from the drain so that a drain
 * that is busy, blocked on a sink or stopped still registers clients, and
 * so that no client's request ever waits on a sink.
 *
 * registrar.c is the process: the socket, the fork, the connections and
 * what the kernel says of each peer. registrar_grant.c is what a request
 * does to the registry: who may log, the quotas, grants, releases and
 * adoptions.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "registrar_config.h"
#include "registry.h"

/*
 * registrar_start - bind the bus's socket (replacing one a dead writer
 * left; the caller holds the writer lock), set its mode and group, start a
 * new registrar run in reg (slots granted before it are orphans until their
 * clients adopt them), and fork the registrar, which serves the socket
 * until the writer exits (it dies with its parent, PR_SET_PDEATHSIG).
 * Call it before the writer starts any thread. Returns 0 with *pid set, or
 * a negative errno after printing the cause to stderr.
 */
int registrar_start(const struct registrar_config *c, const char *bus_name,
		    const struct lb_registry *reg, pid_t *pid);

/* registrar_stop - end the registrar and remove the socket: at a clean
 * writer exit, after the final drain. pid <= 0: only the socket. */
void registrar_stop(pid_t pid, const char *bus_name);
