/* SPDX-License-Identifier: MIT */
/*
 * The names of a bus, at the bottom of shm/: which bus names are valid, the
 * one meant when none is named, the path of every file a bus has, removing
 * them, and the error text the segment functions of shm/ fill in. The
 * modules of those files (bus.c, stats.c, registry.c, register.c) build on
 * this one, so that none of them includes another for a name:
 *
 *   /dev/shm/logbus.<bus>          the bus segment (bus.h)
 *   /dev/shm/logbus.<bus>.stats    the stats segment (stats.h)
 *   /dev/shm/logbus.<bus>.sock     the registrar's socket (register.h)
 *   /dev/shm/logbus.<bus>.d/       the writer's private directory: the
 *                                  registry and the lane files (registry.h)
 *
 * The segments are named for shm_open(3) ("/logbus.<bus>"), the socket and
 * the directory by their paths in /dev/shm, where glibc keeps shm_open's
 * names.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define LB_BUS_NAME_MAX 64
#define LB_BUS_PATH_MAX (LB_BUS_NAME_MAX + 16)
#define LB_STATS_SUFFIX ".stats"

/* Why a segment function failed, for a one-line message. */
struct lb_bus_error {
	char why[160];
};

/* lb_set_why - printf into err->why, for the segment functions of shm/;
 * err may be NULL. */
void lb_set_why(struct lb_bus_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* lb_bus_name_valid - true for 1..64 characters of [A-Za-z0-9_.-], not
 * "." or "..". */
bool lb_bus_name_valid(const char *name);

/* lb_bus_default_name - the bus meant when none is named: $LOGBUS_BUS
 * when set and not empty, else "default". */
const char *lb_bus_default_name(void);

/* lb_bus_path - "/logbus.<name>" (suffix NULL) or "/logbus.<name><suffix>",
 * the shm_open(3) name. Returns 0 or -EINVAL for a bad bus name. */
int lb_bus_path(const char *name, const char *suffix, char out[LB_BUS_PATH_MAX]);

/* lb_reg_socket_path - "/dev/shm/logbus.<bus>.sock"; 0 or -EINVAL. */
int lb_reg_socket_path(const char *bus, char *out, size_t n);

/* lb_registry_dir - "/dev/shm/logbus.<bus>.d"; 0 or -EINVAL. */
int lb_registry_dir(const char *bus, char *out, size_t n);

/* lb_stats_unlink - remove the stats segment of bus name. Returns 0 or a
 * negative errno. */
int lb_stats_unlink(const char *name);

/* lb_bus_unlink - remove the segment of bus name, its stats segment, its
 * socket and the writer's private directory with the lane files; mappings
 * stay valid. Returns 0 or a negative errno (of the bus segment). */
int lb_bus_unlink(const char *name);
