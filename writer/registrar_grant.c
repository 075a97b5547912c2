/* SPDX-License-Identifier: MIT */
/*
 * The registrar's decisions: who may log, the lane quotas, and each slot
 * change a request makes (the states are drawn in shm/registry.h).
 *
 * A LANE is checked in this order, and refused at the first check that
 * fails: the configuration lets the peer log (-EACCES), the connection is
 * under lanes_per_client (-EDQUOT), the uid is under lanes_per_uid
 * (-EDQUOT; root is exempt), a slot is free (-ENOSPC). Quotas count the
 * slots a connection or a uid holds in any state but FREE: a RELEASED
 * lane still holds memory until the drain has emptied it, so releasing
 * and asking again cannot outrun the quota.
 *
 * Which connection holds a slot is the slot's (run, conn): this run's
 * connections only ever touch slots of this run, so a client can release
 * no lane but its own. A slot of an earlier run is an orphan, whose client
 * may ADOPT it on a new connection when the kernel says it is the same
 * process (pid, and start time against a reused pid).
 *
 * Memory ordering (LMM tags of shm/registry.h):
 *   registry_claim:A, the CAS FREE->GRANTING, acquire: pairs with the
 *     drain's registry_free:A, so the slot's tail and sequence floor the
 *     new lane file starts from are the drain's last.
 *   registry_grant:A, the store of GRANTED, release: pairs with the
 *     drain's registry_map:A, so the drain sees the identity, grant and
 *     lane file complete before it maps the lane.
 *   GRANTED->RELEASED, and GRANTING->FREE after a failure, change no
 *     other field the drain reads: relaxed.
 * The slots' run, conn and identity are written by the registrar only;
 * it reads them back without ordering (its own stores, or those of an
 * earlier registrar process, which ended before this one began).
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "registrar_grant.h"

void grant_init(struct grant_ctx *g, const struct registrar_config *cfg,
		const struct lb_registry *reg, const char *bus, uint64_t run)
{
	*g = (struct grant_ctx){ .cfg = cfg, .reg = reg, .bus = bus, .run = run,
				 .lanes_per_uid = cfg->lanes_per_uid };
	if (!g->lanes_per_uid)   /* 3/4 of the slots (at most 4096: no overflow), at least 1 */
		g->lanes_per_uid = reg->slot_count * 3 / 4 ? reg->slot_count * 3 / 4 : 1;
}

static bool listed(const struct registrar_ids *l, uint32_t id)
{
	for (size_t i = 0; i < l->count; i++)
		if (l->ids[i] == id)
			return true;
	return false;
}

bool grant_may_log(const struct registrar_config *c, uid_t uid, gid_t gid, const gid_t *groups,
		   size_t n)
{
	if (!c->allowed_users.ids && !c->allowed_groups.ids)
		return true;
	if (listed(&c->allowed_users, uid) || listed(&c->allowed_groups, gid))
		return true;
	for (size_t i = 0; i < n; i++)
		if (listed(&c->allowed_groups, groups[i]))
			return true;
	return false;
}

void grant_refuse(struct lb_reg_msg *ans, int error, const char *fmt, ...)
{
	va_list ap;

	ans->type = LB_REG_REFUSE;
	ans->error = error;
	va_start(ap, fmt);
	vsnprintf(ans->text, sizeof(ans->text), fmt, ap);
	va_end(ap);
}

/* "uid 1001 (bob)", or "uid 1001" when the user has no name. */
static const char *user_words(uint32_t uid, char *out, size_t n)
{
	struct passwd pw, *found = NULL;
	char buf[1024];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found)
		snprintf(out, n, "uid %u (%.64s)", uid, found->pw_name);
	else
		snprintf(out, n, "uid %u", uid);
	return out;
}

/* Relaxed: counters for the stats, which order nothing. */
static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static bool holds_memory(uint32_t state)
{
	return state == LB_SLOT_GRANTING || state == LB_SLOT_GRANTED ||
	       state == LB_SLOT_RELEASED;
}

/* What slots p's connection and p's uid hold, in any state but FREE, and
 * how many of those are RELEASED (the drain frees them in a moment).
 * O(slots), at most LB_MAX_LANES: cheap beside the lane file a grant
 * makes. */
struct held {
	uint32_t by_conn, by_uid;
	uint32_t released_by_conn, released_by_uid, released;
};

static void count_held(const struct grant_ctx *g, const struct grant_peer *p, struct held *n)
{
	*n = (struct held){ 0 };
	for (uint32_t i = 0; i < g->reg->slot_count; i++) {
		const struct lb_slot *s = &g->reg->slots[i];
		uint32_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
		bool released = state == LB_SLOT_RELEASED;
		bool mine = s->run == g->run && s->conn == p->conn;
		bool my_uid = s->who.uid == p->who.uid;

		if (!holds_memory(state))
			continue;
		n->by_conn += mine;
		n->by_uid += my_uid;
		n->released_by_conn += mine && released;
		n->released_by_uid += my_uid && released;
		n->released += released;
	}
}

/* Which keys of the configuration keep p out, for a refusal. */
static const char *allow_keys(const struct registrar_config *c)
{
	if (c->allowed_users.ids && c->allowed_groups.ids)
		return "clients.allowed_users, clients.allowed_groups";
	return c->allowed_users.ids ? "clients.allowed_users" : "clients.allowed_groups";
}

/* The refusal of a LANE by policy, or NULL when p may have a lane. Sets
 * *curable when the refusal is a quota that a lane being drained will
 * lift. */
static _Atomic uint64_t *policy_refusal(const struct grant_ctx *g, const struct grant_peer *p,
					const struct held *n, struct lb_reg_msg *ans,
					bool *curable)
{
	struct lb_registry_header *h = g->reg->hdr;
	char user[96];

	*curable = false;
	if (!p->allowed) {
		grant_refuse(ans, -EACCES, "%s may not log to bus '%s' (%s)",
			     user_words(p->who.uid, user, sizeof(user)), g->bus,
			     allow_keys(g->cfg));
		return &h->refused_denied;
	}
	if (g->cfg->lanes_per_client && n->by_conn >= g->cfg->lanes_per_client) {
		*curable = n->by_conn - n->released_by_conn < g->cfg->lanes_per_client;
		grant_refuse(ans, -EDQUOT, "this client holds %u lanes of bus '%s', its quota "
			     "(clients.lanes_per_client = %u)", n->by_conn, g->bus,
			     g->cfg->lanes_per_client);
		return &h->refused_quota;
	}
	if (p->who.uid != 0 && n->by_uid >= g->lanes_per_uid) {
		*curable = n->by_uid - n->released_by_uid < g->lanes_per_uid;
		grant_refuse(ans, -EDQUOT, "%s holds %u lanes of bus '%s', its quota "
			     "(clients.lanes_per_uid = %u)",
			     user_words(p->who.uid, user, sizeof(user)), n->by_uid, g->bus,
			     g->lanes_per_uid);
		return &h->refused_quota;
	}
	return NULL;
}

/* Take a FREE slot for a grant: its index, or -1 when none is free. */
static int32_t claim_slot(const struct grant_ctx *g)
{
	for (uint32_t i = 0; i < g->reg->slot_count; i++) {
		uint32_t expected = LB_SLOT_FREE;
		/* LMM(registry_claim:A) pairs with registry_free:A: the drain's
		 * last tail and sequence floor of the slot are visible to the
		 * lane file made from them. Relies on: the drain storing FREE
		 * with release order, after them. */
		if (atomic_compare_exchange_strong_explicit(&g->reg->slots[i].state, &expected,
							    LB_SLOT_GRANTING, memory_order_acquire,
							    memory_order_relaxed))
			return (int32_t)i;
	}
	return -1;
}

/* Fill claimed slot i for p and make its lane file: its descriptor, or a
 * negative errno with the slot FREE again. */
static int fill_slot(const struct grant_ctx *g, const struct grant_peer *p, uint32_t i,
		     uint32_t tid, uint64_t *grant)
{
	struct lb_slot *s = &g->reg->slots[i];
	int fd;

	/* Relaxed: the id only has to be unique, which the atomic add makes
	 * it; never 0, the id of no grant. */
	*grant = atomic_fetch_add_explicit(&g->reg->hdr->next_grant, 1, memory_order_relaxed) + 1;
	s->tid = tid;
	s->who = p->who;
	s->run = g->run;
	s->conn = p->conn;
	/* Relaxed: published by the GRANTED store below (registry_grant:A). */
	atomic_store_explicit(&s->grant, *grant, memory_order_relaxed);
	fd = lb_lane_file_create(g->reg, i, *grant);
	if (fd < 0) {
		/* Relaxed: a GRANTING slot was never seen by the drain, and
		 * the next claim (registry_claim:A) needs nothing of it. */
		atomic_store_explicit(&s->state, LB_SLOT_FREE, memory_order_relaxed);
		return fd;
	}
	/* LMM(registry_grant:A) pairs with registry_map:A: the identity,
	 * run, connection, grant and the lane file are complete before the
	 * drain, which loads the state with acquire order, reads them. */
	atomic_store_explicit(&s->state, LB_SLOT_GRANTED, memory_order_release);
	return fd;
}

int grant_lane(const struct grant_ctx *g, const struct grant_peer *p,
	       const struct lb_reg_msg *req, struct lb_reg_msg *ans, int *fd, bool may_wait)
{
	struct lb_registry_header *h = g->reg->hdr;
	struct held held;
	bool curable;
	_Atomic uint64_t *refused;
	uint64_t grant;
	int32_t i = -1;
	int r = 0;

	*fd = -1;
	count_held(g, p, &held);
	refused = policy_refusal(g, p, &held, ans, &curable);
	if (!refused && (i = claim_slot(g)) < 0) {
		curable = held.released > 0;
		grant_refuse(ans, -ENOSPC, "all %u lanes of bus '%s' are taken",
			     g->reg->slot_count, g->bus);
		refused = &h->refused_full;
	}
	if (refused && curable && may_wait)
		return -EINPROGRESS;   /* a lane being drained will do: ask again soon */
	if (!refused) {
		r = fill_slot(g, p, (uint32_t)i, req->tid, &grant);
		if (r >= 0) {
			*fd = r;
			count(&h->registrations);
			lb_registry_notify(g->reg);
			ans->type = LB_REG_GRANT;
			ans->slot = (uint32_t)i;
			ans->grant = grant;
			return 0;
		}
		grant_refuse(ans, r, "cannot make a lane file for bus '%s': %s", g->bus,
			     strerror(-r));
	} else {
		count(refused);
	}
	if (!(req->flags & LB_REG_SHARES))
		count(&h->dropped_no_lane);   /* the client loses the entry it holds */
	return r;
}

/* Whether p's connection holds, or held, slot s with grant: granted, or
 * adopted, in this run to this connection. Grant ids are never reused, so
 * a match in any state is p's own lane, which the drain may have released
 * or freed already (its client truncated it, say): a late RELEASE of it is
 * no fault. */
static bool holds(const struct grant_ctx *g, const struct grant_peer *p, const struct lb_slot *s,
		  uint64_t grant)
{
	return atomic_load_explicit(&s->grant, memory_order_relaxed) == grant &&
	       s->run == g->run && s->conn == p->conn;
}

/* GRANTED -> RELEASED: the drain empties the lane, then frees the slot.
 * True when this call made the change (the drain may have first, for a
 * client it found gone). */
static bool release_slot(const struct grant_ctx *g, uint32_t i)
{
	uint32_t expected = LB_SLOT_GRANTED;

	/* Relaxed: the slot's fields do not change with it (see the head). */
	return atomic_compare_exchange_strong_explicit(&g->reg->slots[i].state, &expected,
						       LB_SLOT_RELEASED, memory_order_relaxed,
						       memory_order_relaxed);
}

int grant_release(const struct grant_ctx *g, const struct grant_peer *p, uint32_t slot,
		  uint64_t grant)
{
	if (slot >= g->reg->slot_count || !holds(g, p, &g->reg->slots[slot], grant))
		return -EPERM;
	if (release_slot(g, slot))
		lb_registry_notify(g->reg);
	return 0;
}

unsigned grant_drop_conn(const struct grant_ctx *g, const struct grant_peer *p)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < g->reg->slot_count; i++) {
		const struct lb_slot *s = &g->reg->slots[i];
		if (s->run == g->run && s->conn == p->conn && release_slot(g, i))
			n++;
	}
	if (n)
		lb_registry_notify(g->reg);
	return n;
}

/* Why p may not adopt slot s with grant, or NULL when it may. */
static const char *adopt_problem(const struct grant_ctx *g, const struct grant_peer *p,
				 const struct lb_slot *s, uint64_t grant)
{
	if (atomic_load_explicit(&s->state, memory_order_relaxed) != LB_SLOT_GRANTED)
		return "it holds no lane";
	if (atomic_load_explicit(&s->grant, memory_order_relaxed) != grant)
		return "it holds another grant";
	if (s->run >= g->run)
		return "its lane is no orphan: a connection of this writer holds it";
	if (s->who.pid != p->who.pid || s->who.start != p->who.start || !p->who.start)
		return "it was granted to another process";
	return NULL;
}

void grant_adopt(const struct grant_ctx *g, const struct grant_peer *p,
		 const struct lb_reg_msg *req, struct lb_reg_msg *ans)
{
	const char *why = req->slot < g->reg->slot_count ? NULL : "there is no such slot";
	struct lb_slot *s;
	char user[96];

	if (!p->allowed) {
		grant_refuse(ans, -EACCES, "%s may not log to bus '%s' (%s)",
			     user_words(p->who.uid, user, sizeof(user)), g->bus,
			     allow_keys(g->cfg));
		return;
	}
	s = why ? NULL : &g->reg->slots[req->slot];
	if (!why)
		why = adopt_problem(g, p, s, req->grant);
	if (why) {
		grant_refuse(ans, -EPERM, "pid %u may not adopt slot %u, grant %llu, of bus '%s': "
			     "%s", p->who.pid, req->slot, (unsigned long long)req->grant, g->bus,
			     why);
		return;
	}
	s->run = g->run;
	s->conn = p->conn;
	ans->type = LB_REG_ADOPTED;
	ans->slot = req->slot;
	ans->grant = req->grant;
}
