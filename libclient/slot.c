/* SPDX-License-Identifier: MIT */
/*
 * Lane slots: which lane each thread publishes into, per handle.
 *
 * A thread asks the writer for a lane of its own the first time it
 * publishes through a handle (conn_lane, connection.c) and keeps it in a
 * thread-local cache; at thread exit the lane goes back to the writer.
 * When the writer refuses it one, the thread shares one of its process's
 * slots. A shared slot is used under a process-private mutex; the move
 * from exclusive to shared uses membarrier(2) as an asymmetric fence, so
 * that the exclusive user's hot path has no fence and no atomic
 * read-modify-write of its own:
 *
 *   exclusive user (slot_enter)          sharer (slot_share)
 *     busy = 1                             shared = 1
 *     compiler barrier  <--membarrier-->   membarrier()
 *     if shared: take the lock             wait until busy == 0
 *
 * LMM(slot_enter:A) pairs with slot_share:A: either the user sees shared,
 * or the sharer sees busy and waits for the publish to finish
 * (slot_leave:A, a release store, pairs with the sharer's acquire load).
 *
 * The same handover takes a lost lane (one the writer would not adopt
 * after a restart) away from its users: the slot turns shared, its users
 * see `lost` under the lock and get other lanes (slot_renew).
 *
 * A lane given back stays mapped while the writer's tail has not passed
 * its last head: logbus_flush waits for those entries too. It is unmapped
 * once the tail passed, when no flush holds pointers to lanes (`flushing`;
 * the trade-off: flushes that overlap without pause keep retired lanes
 * mapped until they pause).
 *
 * After fork() the child drops every slot it inherited, without touching
 * the lanes: they are not even mapped in the child (MADV_DONTFORK), and
 * they still belong to the parent's threads.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "doorbell.h"
#include "membarrier.h"

__thread struct tls_slot lb_tls_slots[TLS_SLOTS] LB_TLS;
__thread uint32_t lb_tls_tid LB_TLS;

struct process_identity lb_process;

static pthread_once_t process_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_exit_key;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static logbus_t *registry;

static void identity_refresh(void)
{
	lb_process.pid = (uint32_t)getpid();
}

uint32_t slot_thread_tid_slow(void)
{
	lb_tls_tid = (uint32_t)gettid();
	return lb_tls_tid;
}

/* Free the slot's memory; the caller gave its lane back or must not. */
static void slot_free(struct lane_slot *s)
{
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void retired_prune(logbus_t *lb)
{
	uint64_t head, tail;

	if (lb->flushing)
		return;
	for (struct lane_slot **pp = &lb->retired; *pp;) {
		struct lane_slot *s = *pp;

		lb_producer_progress(&s->prod, &head, &tail);
		if (!atomic_load_explicit(&s->lost, memory_order_relaxed) && tail < s->prod.head) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		lb_lane_unmap(&s->map);
		slot_free(s);
	}
}

/* Give the slot's lane back, fold its counters into the handle's, and
 * retire it until the writer has passed its entries. Handle lock. */
static void slot_retire(logbus_t *lb, struct lane_slot *s)
{
	uint64_t published, full, large;

	lb_producer_counts(&s->prod, &published, &full, &large);
	atomic_fetch_add_explicit(&lb->counts.queued, published, memory_order_relaxed);
	atomic_fetch_add_explicit(&lb->counts.dropped_full, full, memory_order_relaxed);
	atomic_fetch_add_explicit(&lb->counts.dropped_too_large, large, memory_order_relaxed);
	if (!atomic_load_explicit(&s->lost, memory_order_relaxed))
		conn_release(lb, s);
	s->next = lb->retired;
	lb->retired = s;
	retired_prune(lb);
}

static void slot_unlink(logbus_t *lb, struct lane_slot *s)
{
	for (struct lane_slot **pp = &lb->slots; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			return;
		}
}

static logbus_t *registry_find(uint64_t id)
{
	for (logbus_t *lb = registry; lb; lb = lb->next_handle)
		if (lb->id == id)
			return lb;
	return NULL;
}

/* Thread exit: drop this thread's use of each slot; the last user gives
 * the lane back. */
static void thread_exit(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < TLS_SLOTS; i++) {
		struct tls_slot *t = &lb_tls_slots[i];
		logbus_t *lb;

		if (!t->handle_id || t->fork_epoch != lb_process.fork_epoch)
			continue;
		lb = registry_find(t->handle_id);
		if (lb) {
			pthread_mutex_lock(&lb->lock);
			if (--t->slot->users == 0) {
				slot_unlink(lb, t->slot);
				slot_retire(lb, t->slot);
			}
			pthread_mutex_unlock(&lb->lock);
		}
		*t = (struct tls_slot){ 0 };
	}
	pthread_mutex_unlock(&registry_lock);
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
	for (logbus_t *lb = registry; lb; lb = lb->next_handle) {
		pthread_mutex_lock(&lb->lock);
		pthread_mutex_lock(&lb->fallback_lock);
	}
}

/* After fork(), in the parent and in the child alike: the forking thread
 * holds every lock fork_prepare took, in both processes, so it unlocks
 * them (initialising a locked mutex again is undefined). */
static void fork_unlock(void)
{
	for (logbus_t *lb = registry; lb; lb = lb->next_handle) {
		pthread_mutex_unlock(&lb->fallback_lock);
		pthread_mutex_unlock(&lb->lock);
	}
	pthread_mutex_unlock(&registry_lock);
}

/* Free a list of slots without touching their lanes (not mapped in a
 * forked child). */
static void slots_forget(struct lane_slot *s)
{
	while (s) {
		struct lane_slot *next = s->next;
		free(s);
		s = next;
	}
}

/* The child keeps the handles but none of the parent's lanes, nor its
 * connection: it connects and gets lanes of its own at its first
 * publish. */
static void fork_child(void)
{
	lb_process.fork_epoch++;
	lb_tls_tid = 0;
	identity_refresh();
	for (logbus_t *lb = registry; lb; lb = lb->next_handle) {
		slots_forget(lb->slots);
		lb->slots = NULL;
		slots_forget(lb->retired);
		lb->retired = NULL;
		lb->flushing = 0;
		conn_forget(lb);
		/* The rest of a cut fallback line is the parent's to finish. */
		lb_buf_free(&lb->fallback_rest);
		lb->fallback_rest_off = 0;
		lb->counts = (struct handle_counts){ 0 };
		/* membarrier registration belongs to the address space. */
		if (atomic_load_explicit(&lb->attached, memory_order_relaxed))
			lb->light_fence = lb_doorbell_producer_light(&lb->bus);
	}
	fork_unlock();
}

static void process_init_once(void)
{
	identity_refresh();
	(void)pthread_key_create(&thread_exit_key, thread_exit);
	(void)pthread_atfork(fork_prepare, fork_unlock, fork_child);
}

void slot_process_init(void)
{
	pthread_once(&process_once, process_init_once);
}

void slot_register_handle(logbus_t *lb)
{
	pthread_mutex_lock(&registry_lock);
	lb->next_handle = registry;
	registry = lb;
	pthread_mutex_unlock(&registry_lock);
}

void slot_release_all(logbus_t *lb)
{
	pthread_mutex_lock(&registry_lock);
	for (logbus_t **pp = &registry; *pp; pp = &(*pp)->next_handle)
		if (*pp == lb) {
			*pp = lb->next_handle;
			break;
		}
	pthread_mutex_unlock(&registry_lock);

	pthread_mutex_lock(&lb->lock);
	while (lb->slots) {
		struct lane_slot *s = lb->slots;
		lb->slots = s->next;
		slot_retire(lb, s);
	}
	/* Nobody can flush the handle any more: unmap every lane. */
	while (lb->retired) {
		struct lane_slot *s = lb->retired;
		lb->retired = s->next;
		lb_lane_unmap(&s->map);
		slot_free(s);
	}
	pthread_mutex_unlock(&lb->lock);
}

/* Turn s shared; called with the handle lock held. */
static int slot_share(struct lane_slot *s)
{
	if (atomic_load_explicit(&s->shared, memory_order_relaxed))
		return 0;
	if (lb_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) < 0)
		return -errno;
	pthread_mutex_lock(&s->lock);
	atomic_store_explicit(&s->shared, true, memory_order_relaxed);
	/* LMM(slot_share:A) pairs with slot_enter:A. */
	if (lb_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) < 0) {
		int r = -errno;
		atomic_store_explicit(&s->shared, false, memory_order_relaxed);
		pthread_mutex_unlock(&s->lock);
		return r;
	}
	while (atomic_load_explicit(&s->busy, memory_order_acquire))
		sched_yield();
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* Whether the handle has a slot a refused thread could share. Handle
 * lock. */
static bool slot_any_shareable(const logbus_t *lb)
{
	for (const struct lane_slot *s = lb->slots; s; s = s->next)
		if (!atomic_load_explicit(&s->lost, memory_order_relaxed))
			return true;
	return false;
}

/* A lane of its own for the calling thread, from the writer: 0 with *out
 * set, or conn_lane's negative errno (*refused as it says). Handle lock. */
static int slot_request(logbus_t *lb, struct lane_slot **out, bool *refused)
{
	struct lane_slot *s = calloc(1, sizeof(*s));
	int r;

	*refused = false;
	if (!s)
		return -ENOMEM;
	r = conn_lane(lb, s, slot_any_shareable(lb) ? LB_REG_SHARES : 0, refused);
	if (r < 0) {
		free(s);
		return r;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->next = lb->slots;
	lb->slots = s;
	*out = s;
	return 0;
}

/* The process's slot with the fewest users, shared; NULL when none (or
 * it cannot be shared). Handle lock. */
static struct lane_slot *slot_join(logbus_t *lb)
{
	struct lane_slot *best = NULL;

	for (struct lane_slot *s = lb->slots; s; s = s->next)
		if (!atomic_load_explicit(&s->lost, memory_order_relaxed) &&
		    (!best || s->users < best->users))
			best = s;
	if (best && slot_share(best) < 0)
		return NULL;
	return best;
}

/* A cache entry of the calling thread that points nowhere: never used,
 * left from before a fork, or naming a handle that was closed (ids are
 * never reused, so a closed handle's entry can only go stale). NULL when
 * the thread publishes through TLS_SLOTS open handles already. */
static struct tls_slot *tls_free_entry(void)
{
	struct tls_slot *found = NULL;

	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < TLS_SLOTS && !found; i++) {
		struct tls_slot *t = &lb_tls_slots[i];
		if (!t->handle_id || t->fork_epoch != lb_process.fork_epoch ||
		    !registry_find(t->handle_id))
			found = t;
	}
	pthread_mutex_unlock(&registry_lock);
	return found;
}

int slot_get(logbus_t *lb, struct lane_slot **out)
{
	struct tls_slot *free_entry = tls_free_entry();
	struct lane_slot *s = NULL;
	bool refused;
	int r;

	if (!free_entry)
		return -ENOSPC;   /* this thread publishes through too many handles */

	pthread_mutex_lock(&lb->lock);
	r = slot_request(lb, &s, &refused);
	/* Refused, or no writer to ask: an entry in a shared lane waits
	 * there for the writer, which is better than the fallback. */
	if (r < 0 && (s = slot_join(lb)))
		r = 0;
	if (r == 0) {
		s->users++;
		*free_entry = (struct tls_slot){
			.handle_id = lb->id,
			.fork_epoch = lb_process.fork_epoch,
			.slot = s,
		};
	}
	pthread_mutex_unlock(&lb->lock);
	if (r < 0)
		return refused || r == -ENOMEM ? r : -ENOTCONN;
	(void)pthread_setspecific(thread_exit_key, (void *)1);
	*out = s;
	return 0;
}

int slot_renew(logbus_t *lb, struct lane_slot *lost, struct lane_slot **s)
{
	for (int i = 0; i < TLS_SLOTS; i++)
		if (lb_tls_slots[i].slot == lost && lb_tls_slots[i].handle_id == lb->id)
			lb_tls_slots[i] = (struct tls_slot){ 0 };
	pthread_mutex_lock(&lb->lock);
	if (--lost->users == 0) {
		slot_unlink(lb, lost);
		slot_retire(lb, lost);
	}
	pthread_mutex_unlock(&lb->lock);
	return slot_get(lb, s);
}

void slot_lose(struct lane_slot *s)
{
	/* Stored under the slot's lock, which its users take once the slot
	 * is shared: they see it at their next publish. Without membarrier
	 * the slot cannot turn shared; its users then keep publishing into
	 * a lane nobody drains, until it is full (dropped_full). */
	pthread_mutex_lock(&s->lock);
	atomic_store_explicit(&s->lost, true, memory_order_relaxed);
	pthread_mutex_unlock(&s->lock);
	(void)slot_share(s);
}

bool slot_enter_shared(struct lane_slot *s)
{
	atomic_store_explicit(&s->busy, false, memory_order_release);
	pthread_mutex_lock(&s->lock);
	return true;
}
