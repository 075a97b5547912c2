/* SPDX-License-Identifier: MIT */
/* liblogbus internals: the handle, lane slots and the thread-local cache. */
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

#define LB_EXPORT __attribute__((visibility("default")))

/* The longest a waiter for the writer (a blocked publish, a flush) sleeps
 * before it looks again, in case the writer never wakes it. */
#define LB_WAIT_SLICE_NS (100 * 1000000ull)
/* How often a detached handle looks for its bus again. */
#define LB_ATTACH_RETRY_NS (100 * 1000000ull)
/* A writer whose heartbeat is older than this is taken for dead. */
#define LB_WRITER_STALE_NS (5 * 1000000000ull)

/*
 * A lane claimed through a handle. Normally one thread uses it without any
 * lock (exclusive). When a thread of this process finds no free lane, it
 * shares an existing slot: the slot turns shared and every user then
 * publishes under `lock` (see slot_share in slot.c for the handover).
 */
struct lane_slot {
	struct lb_producer prod;
	pthread_mutex_t lock;
	_Atomic bool shared;
	_Atomic bool busy;       /* the exclusive user is inside a publish */
	unsigned users;          /* threads whose cache points here; handle lock */
	struct lane_slot *next;  /* the handle's slots; handle lock */
};

/* A position the writer's tail must pass in a lane: what a flush waits for. */
struct flush_target {
	uint32_t lane;
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

	pthread_mutex_t lock;        /* slots, attaching */
	_Atomic bool attached;       /* bus is mapped; set once, with release */
	struct lb_bus bus;
	bool light_fence;            /* registered for the writer's membarrier */
	_Atomic uint64_t next_attach_ns;
	struct lane_slot *slots;
	/* Heads of lanes given back by threads that exited, not yet passed
	 * by the writer's tail: logbus_flush waits for them too. One per
	 * lane at most; handle lock. */
	struct flush_target *retired;
	size_t nretired;

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

/* The process as the lanes know it; refreshed in a forked child. */
struct process_identity {
	uint32_t pid;
	uint64_t start;              /* clock ticks since boot */
	char comm[16];
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

/* slot.c: the calling thread's slot for lb, claimed or shared on first use;
 * NULL when the bus has no lane left for this process. */
struct lane_slot *slot_get(logbus_t *lb);

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
 * timeout_ms (negative: no limit). Returns 0 or -ETIMEDOUT. */
int flush_wait(logbus_t *lb, const struct flush_target *t, size_t n, int timeout_ms);

/* handle.c: try to map the bus if it is time to; true when attached. */
bool handle_try_attach(logbus_t *lb);

/* overflow.c: read $LOGBUS_OVERFLOW into lb; 0, or -EINVAL when it is
 * set to something overflow_parse refuses. */
int overflow_from_env(logbus_t *lb);

/* overflow.c: "drop", "block" or "block:MS" into *policy and *timeout_ms
 * (-1: no limit). Returns 0 or -EINVAL. */
int overflow_parse(const char *text, int *policy, int *timeout_ms);

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
