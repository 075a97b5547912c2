/* SPDX-License-Identifier: MIT */
/* What the "clients" section of the configuration tells the registrar
 * (registrar.h): who may log, and how many lanes each may hold. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A list of user or group ids, resolved from names when the configuration
 * was read. ids NULL: the list was not given. */
struct registrar_ids {
	uint32_t *ids;
	size_t count;
};

/* Who may log and how much: the "clients" section of the configuration
 * (logbus-writer.json(5)). */
struct registrar_config {
	unsigned socket_mode;        /* default 0666: every local user, as /dev/log */
	gid_t socket_group;          /* (gid_t)-1: the writer's group */
	/* A client may log when neither list is given, or when its uid is in
	 * allowed_users or its gid or a supplementary group in allowed_groups. */
	struct registrar_ids allowed_users;
	struct registrar_ids allowed_groups;
	uint32_t lanes_per_uid;      /* 0: the default, 3/4 of the lanes; root is exempt */
	uint32_t lanes_per_client;   /* per connection; 0: no limit but lanes_per_uid */
};
