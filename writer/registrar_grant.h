/* SPDX-License-Identifier: MIT */
/*
 * What a registration request does to the registry (shm/registry.h): a
 * LANE, a RELEASE or an ADOPT of one connection, a connection's end, who
 * may log, and the lane quotas. Only the registrar process calls these,
 * from one thread: a GRANTING slot is always its own.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "identity.h"
#include "register.h"
#include "registrar_config.h"
#include "registry.h"

/* What every request of a registrar run shares. */
struct grant_ctx {
	const struct registrar_config *cfg;
	const struct lb_registry *reg;
	const char *bus;
	uint64_t run;              /* this registrar's run (lb_registry_header.run) */
	uint32_t lanes_per_uid;    /* the quota in force */
};

/* A connection's peer, as the kernel described it when it connected. */
struct grant_peer {
	uint64_t conn;             /* the connection, within the run; from 1 */
	struct lb_client_identity who;
	bool allowed;              /* grant_may_log's word on it */
};

/* grant_init - the context of run over reg, with the quota in force. */
void grant_init(struct grant_ctx *g, const struct registrar_config *cfg,
		const struct lb_registry *reg, const char *bus, uint64_t run);

/* grant_may_log - whether c lets a process of uid, gid and the
 * supplementary groups groups[n] log. */
bool grant_may_log(const struct registrar_config *c, uid_t uid, gid_t gid, const gid_t *groups,
		   size_t n);

/* grant_refuse - make *ans a REFUSE of error (a negative errno) saying
 * why in one line. */
void grant_refuse(struct lb_reg_msg *ans, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * grant_lane - answer p's LANE req: *ans a GRANT and *fd the new lane
 * file's descriptor (the caller sends it, then closes it), or a REFUSE and
 * *fd -1; each outcome counted in the registry header. Returns 0, or the
 * negative errno of a failure of the writer's own (the lane file could not
 * be made), which the client was refused with and the caller reports.
 * With may_wait, a refusal that a released lane still being drained will
 * lift (every slot taken, or a quota, counting such lanes) is no answer
 * yet: -EINPROGRESS, nothing counted; ask again when the drain freed one.
 */
int grant_lane(const struct grant_ctx *g, const struct grant_peer *p,
	       const struct lb_reg_msg *req, struct lb_reg_msg *ans, int *fd, bool may_wait);

/* grant_release - p's RELEASE of (slot, grant): its lane goes to the
 * drain. Returns 0, or -EPERM when p does not hold that lane. */
int grant_release(const struct grant_ctx *g, const struct grant_peer *p, uint32_t slot,
		  uint64_t grant);

/* grant_adopt - answer p's ADOPT req: ADOPTED when the slot is an orphan
 * of an earlier run granted to p's very process (pid and start time),
 * which p's connection now holds; else a REFUSE of -EPERM (-EACCES when p
 * may not log). */
void grant_adopt(const struct grant_ctx *g, const struct grant_peer *p,
		 const struct lb_reg_msg *req, struct lb_reg_msg *ans);

/* grant_drop_conn - p's connection is gone: every lane it holds goes to
 * the drain. Returns how many. */
unsigned grant_drop_conn(const struct grant_ctx *g, const struct grant_peer *p);
