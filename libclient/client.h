/* SPDX-License-Identifier: MIT */
/* liblogbus internals: the handle, its connection to the writer's
 * registrar, lane slots and the thread-local cache. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "bus.h"
#include "lane.h"
#include "logbus.h"
#include "register.h"

#define LB_EXPORT __attribute__((visibility("default")))

/* The longest a waiter for the writer (a blocked publish, a flush) sleeps
 * before it looks again, in case the writer never wakes it. */
#define LB_WAIT_SLICE_NS (100 * 1000000ull)
/* How often a detached handle looks for its bus again. */
#define LB_ATTACH_RETRY_NS (100 * 1000000ull)
/* A writer whose heartbeat is older than this is taken for dead. */
#define LB_WRITER_STALE_NS (5 * 1000000000ull)
/* conn_generation when the handle's lanes are bound to no connection. */
#define LB_CONN_UNBOUND UINT64_MAX
/* How long a client waits for each answer of the registrar: one that takes
 * longer is taken for none (connection.c). */
#define LB_REG_TIMEOUT_S 3

/*
 * A lane granted to a handle. Normally one thread uses it without any lock
 * (exclusive). When a thread of this process gets no lane of its own, it
 * shares an existing slot: the slot turns shared and every user then
 * publishes under `lock` (see slot_share in slot.c for the handover).
 */
struct lane_slot {
	struct lb_producer prod;    /* prod.index: the slot the writer granted */
	struct lb_lane_map map;     /* the lane file's mapping */
	uint64_t grant;             /* the grant id of the lane file */
	pthread_mutex_t lock;
	_Atomic bool shared;
	_Atomic bool busy;       /* the exclusive user is inside a publish */
	/* The writer no longer drains this lane (it refused to adopt it):
	 * set under the handle lock and `lock` before the slot turns
	 * shared, so its users see it under `lock` and get another lane
	 * (slot_renew). */
	_Atomic bool lost;
	unsigned users;          /* threads whose cache points here; handle lock */
	struct lane_slot *next;  /* the handle's slots, or its retired ones; handle lock */
};

/* A position the writer's tail must pass in a lane: what a flush waits for. */
struct flush_target {
	struct lb_lane *lane;
	uint64_t head;
};

/* Counters of slots already given back, and of events that had no lane. */
struct handle_counts {
	_Atomic uint64_t queued;
	_Atomic uint64_t dropped_full;
	_Atomic uint64_t dropped_too_large;
	_Atomic uint64_t dropped_no_lane;
	_Atomic uint64_t fallback;
	_Atomic uint64_t dropped_fallback;
	_Atomic uint64_t wakes;
	_Atomic uint64_t blocked;
};

struct logbus {
	uint64_t id;                 /* never reused in this process */
	char name[LB_BUS_NAME_MAX + 1];
	char default_tag[LOGBUS_TAG_MAX + 1];
	size_t default_tag_len;
	bool sync;                   /* $LOGBUS_SYNC: wait for the writer */

	pthread_mutex_t lock;        /* slots, attaching, the connection */
	_Atomic bool attached;       /* bus is mapped; set once, with release */
	struct lb_bus bus;           /* mapped read-only */
	bool light_fence;            /* registered for the writer's membarrier */
	_Atomic uint64_t next_attach_ns;
	struct lane_slot *slots;
	/* Slots given back (thread exit) whose lanes still hold entries the
	 * writer has not passed: their mappings stay, and logbus_flush waits
	 * for them too, until retired_prune unmaps them. Handle lock. */
	struct lane_slot *retired;
	unsigned flushing;           /* flushes waiting on lane pointers; handle lock */

	/* The connection to the registrar (connection.c); handle lock. */
	int conn_fd;                 /* -1: none */
	uint32_t conn_req;           /* the id of the last request sent on it */
	/* The bus generation the handle's lanes are bound under: another one
	 * in the bus header means a writer restart (reattach). Written under
	 * the handle lock, read without it on slow paths. */
	_Atomic uint64_t conn_generation;
	/* After the registrar was not there or did not answer: until when
	 * lane requests and reattaching do not try it again. */
	_Atomic uint64_t conn_retry_ns;
	_Atomic bool has_refusal;    /* refusal holds a text; set with release */
	char refusal[LB_REG_TEXT_MAX];   /* logbus_refusal */

	pthread_mutex_t fallback_lock;   /* the fallback's descriptor and rest */
	int fallback_fd;             /* STDERR_FILENO, or $LOGBUS_FALLBACK */
	bool fallback_owned;
	struct lb_buf fallback_rest; /* a line the fallback took only in part */
	size_t fallback_rest_off;    /* how much of it went out since */
	struct handle_counts counts;
	struct logbus *next_handle;  /* all open handles; registry lock */

	/* Read only when a lane is full (overflow.c), so kept clear of the
	 * fields every publish reads. */
	_Atomic int overflow_policy; /* LOGBUS_OVERFLOW_* */
	_Atomic int overflow_timeout_ms;
};

/* The process as the handles know it; refreshed in a forked child. */
struct process_identity {
	uint32_t pid;                /* written into records, the client's word */
	unsigned fork_epoch;         /* bumped in every forked child */
};

extern struct process_identity lb_process;

/* Thread-locals of a library: initial-exec, so that an access is one
 * %fs-relative load, never a __tls_get_addr call. */
#define LB_TLS __attribute__((tls_model("initial-exec")))

/* The thread's slots, one per handle it published through. */
#define TLS_SLOTS 8
struct tls_slot {
	uint64_t handle_id;
	unsigned fork_epoch;
	struct lane_slot *slot;
};
extern __thread struct tls_slot lb_tls_slots[TLS_SLOTS] LB_TLS;
extern __thread uint32_t lb_tls_tid LB_TLS;

/*
 * slot.c: the calling thread's slot for lb, granted or shared on first use,
 * into *s. Returns 0; -ENOTCONN when there is no writer to get a lane from
 * and no slot to share (the entry goes to the fallback); or a negative
 * errno that costs the entry (counted dropped_no_lane): the writer's
 * refusal (-EACCES, -EDQUOT, -ENOSPC, logbus_refusal says why), -ENOSPC
 * when the thread publishes through TLS_SLOTS handles already, -ENOMEM.
 */
int slot_get(logbus_t *lb, struct lane_slot **s);

/* slot.c: the calling thread gives up the lost slot it publishes through
 * and gets another, as slot_get. */
int slot_renew(logbus_t *lb, struct lane_slot *lost, struct lane_slot **s);

/* slot.c: the writer refused to adopt s's lane: mark it lost and shared,
 * so that its users leave it at their next publish. Handle lock. */
void slot_lose(struct lane_slot *s);

/* slot.c: unmap the retired lanes the writer has passed, unless a flush
 * still waits on lane pointers. Handle lock. */
void retired_prune(logbus_t *lb);

/* The thread's slot for lb; NULL when it has none yet. */
static inline struct lane_slot *slot_cached(const logbus_t *lb)
{
	for (int i = 0; i < TLS_SLOTS; i++)
		if (lb_tls_slots[i].handle_id == lb->id &&
		    lb_tls_slots[i].fork_epoch == lb_process.fork_epoch)
			return lb_tls_slots[i].slot;
	return NULL;
}

/* slot.c: the slow halves of slot_enter and slot_thread_tid. */
bool slot_enter_shared(struct lane_slot *s);
uint32_t slot_thread_tid_slow(void);

/*
 * Publish through a slot: slot_enter returns whether it took the lock (the
 * slot is shared); pass that to slot_leave.
 */
static inline bool slot_enter(struct lane_slot *s)
{
	atomic_store_explicit(&s->busy, true, memory_order_relaxed);
	/* LMM(slot_enter:A): a compiler barrier; membarrier supplies the
	 * CPU fence when a sharer needs one. */
	atomic_signal_fence(memory_order_seq_cst);
	if (__builtin_expect(!atomic_load_explicit(&s->shared, memory_order_relaxed), 1))
		return false;
	return slot_enter_shared(s);
}

static inline void slot_leave(struct lane_slot *s, bool locked)
{
	if (locked)
		pthread_mutex_unlock(&s->lock);
	else
		/* LMM(slot_leave:A) pairs with slot_share's acquire load. */
		atomic_store_explicit(&s->busy, false, memory_order_release);
}

/* The calling thread's id, cached. */
static inline uint32_t slot_thread_tid(void)
{
	return __builtin_expect(lb_tls_tid != 0, 1) ? lb_tls_tid : slot_thread_tid_slow();
}

/* slot.c: add lb to the registry of open handles (fork, thread exit). */
void slot_register_handle(logbus_t *lb);

/* slot.c: take lb out of the registry and give back its slots (logbus_close). */
void slot_release_all(logbus_t *lb);

/* slot.c: per-process set-up for fork safety and thread exit. */
void slot_process_init(void);

/* handle.c: wait until the writer's tail passed head in each lane, at most
 * timeout_ms (negative: no limit). Returns 0 or -ETIMEDOUT. The lanes must
 * stay mapped meanwhile: the caller's own, or counted in lb->flushing. */
int flush_wait(const struct flush_target *t, size_t n, int timeout_ms);

/* handle.c: try to map the bus if it is time to; true when attached. */
bool handle_try_attach(logbus_t *lb);

/*
 * connection.c: ask the registrar for a lane for the calling thread into s
 * (prod, map, grant), LB_REG_SHARES in flags when the handle has a slot to
 * share if refused. Handle lock held. Returns 0; -ENOTCONN when there is
 * no writer to ask (no socket, nobody listening, no answer, a lane file
 * that does not map), with *refused false; or the refusal's negative errno
 * with *refused true and lb->refusal saying why. When the registrar was
 * not there or did not answer, it is not tried again for
 * LB_ATTACH_RETRY_NS (LB_WRITER_STALE_NS after a timeout): -ENOTCONN at
 * once meanwhile. A refusal is asked again at the next request.
 */
int conn_lane(logbus_t *lb, struct lane_slot *s, uint32_t flags, bool *refused);

/* connection.c: tell the registrar that s's lane is given back (thread
 * exit, logbus_close). Never waits. Handle lock held. */
void conn_release(logbus_t *lb, const struct lane_slot *s);

/*
 * connection.c: on a slow path (a wake, a full lane, a flush), outside
 * every slot: when the writer restarted since the handle's lanes were
 * bound, reconnect and adopt them (ADOPT for each; a lane the writer
 * refuses is lost, see slot_lose). A load and a compare when nothing
 * changed.
 */
void conn_check(logbus_t *lb);

/* connection.c: logbus_close, after the RELEASEs: end the connection and
 * wait (at most LB_REG_TIMEOUT_S) until the registrar has taken them. */
void conn_close(logbus_t *lb);

/* connection.c: a forked child: close the parent's connection without
 * using it (a shutdown would end it for the parent too), and forget the
 * handle's refusal. */
void conn_forget(logbus_t *lb);

/* overflow.c: read $LOGBUS_OVERFLOW into lb; 0, or -EINVAL when it is
 * set to something overflow_parse refuses. */
int overflow_from_env(logbus_t *lb);

/*
 * overflow.c: after lb_lane_reserve(&s->prod, size) failed inside the
 * slot (*locked as slot_enter said): under LOGBUS_OVERFLOW_BLOCK, leave
 * the slot, wait for room, enter it again (*locked updated) and return
 * the reserved room. NULL, still inside the slot, when the policy is drop,
 * the time ran out, or the writer is stale.
 */
void *overflow_wait(logbus_t *lb, struct lane_slot *s, bool *locked, uint64_t size);

/* fallback.c: open $LOGBUS_FALLBACK (O_NONBLOCK) or take stderr; 0 or a
 * negative errno (ENXIO: a FIFO nobody reads). fallback_close undoes it. */
int fallback_open(logbus_t *lb);
void fallback_close(logbus_t *lb);

/* fallback.c: write the entry as a JSON line, never waiting: 0, -EAGAIN
 * when the fallback cannot take it now (dropped and counted), -EIO. */
int fallback_write(logbus_t *lb, int level, const char *tag, size_t tag_len, const char *msg,
		   size_t len, const struct logbus_field *fields, size_t nfields);
