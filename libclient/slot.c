/* SPDX-License-Identifier: MIT */
/*
 * Lane slots: which lane each thread publishes into, per handle.
 *
 * A thread claims a lane of its own the first time it publishes through a
 * handle and keeps it in a thread-local cache; at thread exit the lane goes
 * back to the writer. When the bus has no free lane, the thread shares one
 * of its process's slots. A shared slot is used under a process-private
 * mutex; the move from exclusive to shared uses membarrier(2) as an
 * asymmetric fence, so that the exclusive user's hot path has no fence and
 * no atomic read-modify-write of its own:
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
 * After fork() the child drops every slot it inherited, without touching
 * the lanes: they still belong to the parent's threads.
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
#include "procstat.h"

__thread struct tls_slot lb_tls_slots[TLS_SLOTS] LB_TLS;
__thread uint32_t lb_tls_tid LB_TLS;

struct process_identity lb_process;

static pthread_once_t process_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_exit_key;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static logbus_t *registry;

static uint64_t read_start_time(void)
{
	char buf[1024], state;
	uint64_t start;
	FILE *f = fopen("/proc/self/stat", "re");
	bool ok;

	if (!f)
		return 0;
	ok = fgets(buf, sizeof(buf), f) && lb_proc_stat_parse(buf, &state, &start);
	fclose(f);
	return ok ? start : 0;
}

static void identity_refresh(void)
{
	lb_process.pid = (uint32_t)getpid();
	lb_process.start = read_start_time();
	strncpy(lb_process.comm, program_invocation_short_name, sizeof(lb_process.comm) - 1);
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

/* Give the slot's lane back and fold its counters into the handle's. */
static void slot_retire(logbus_t *lb, struct lane_slot *s)
{
	uint64_t published, full, large;

	lb_producer_counts(&s->prod, &published, &full, &large);
	atomic_fetch_add_explicit(&lb->counts.queued, published, memory_order_relaxed);
	atomic_fetch_add_explicit(&lb->counts.dropped_full, full, memory_order_relaxed);
	atomic_fetch_add_explicit(&lb->counts.dropped_too_large, large, memory_order_relaxed);
	lb_lane_release(&s->prod);
	slot_free(s);
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

/* Remember that a flush must still wait for head in lane: the slot of an
 * exiting thread is gone, its entries may not be written yet. One entry
 * per lane (positions only grow); handle lock. Without memory the flush
 * simply does not wait for them. */
static void retired_add(logbus_t *lb, uint32_t lane, uint64_t head)
{
	struct flush_target *grown;

	for (size_t i = 0; i < lb->nretired; i++)
		if (lb->retired[i].lane == lane) {
			if (lb->retired[i].head < head)
				lb->retired[i].head = head;
			return;
		}
	grown = realloc(lb->retired, (lb->nretired + 1) * sizeof(*grown));
	if (!grown)
		return;
	lb->retired = grown;
	lb->retired[lb->nretired++] = (struct flush_target){ .lane = lane, .head = head };
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
				uint64_t head, tail;

				lb_producer_progress(&t->slot->prod, &head, &tail);
				if (tail < head)
					retired_add(lb, t->slot->prod.index, head);
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

/* The child keeps the handles but none of the parent's lanes: it claims
 * lanes of its own, under its own pid, on first publish. */
static void fork_child(void)
{
	lb_process.fork_epoch++;
	lb_tls_tid = 0;
	identity_refresh();
	for (logbus_t *lb = registry; lb; lb = lb->next_handle) {
		struct lane_slot *s = lb->slots;
		while (s) {
			struct lane_slot *next = s->next;
			free(s);
			s = next;
		}
		lb->slots = NULL;
		free(lb->retired);
		lb->retired = NULL;
		lb->nretired = 0;
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

static struct lane_slot *slot_claim(logbus_t *lb)
{
	struct lb_claimant c = {
		.pid = lb_process.pid,
		.tid = slot_thread_tid(),
		.start = lb_process.start,
		.comm = lb_process.comm,
		.light_fence = lb->light_fence,
	};
	struct lane_slot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (lb_lane_claim(&lb->bus, &c, &s->prod) < 0) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->next = lb->slots;
	lb->slots = s;
	return s;
}

/* The process's slot with the fewest users, shared; NULL when none. */
static struct lane_slot *slot_join(logbus_t *lb)
{
	struct lane_slot *best = NULL;

	for (struct lane_slot *s = lb->slots; s; s = s->next)
		if (!best || s->users < best->users)
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

struct lane_slot *slot_get(logbus_t *lb)
{
	struct tls_slot *free_entry = tls_free_entry();
	struct lane_slot *s;

	if (!free_entry)
		return NULL;   /* this thread publishes through too many handles */

	pthread_mutex_lock(&lb->lock);
	s = slot_claim(lb);
	if (!s)
		s = slot_join(lb);
	if (s) {
		s->users++;
		*free_entry = (struct tls_slot){
			.handle_id = lb->id,
			.fork_epoch = lb_process.fork_epoch,
			.slot = s,
		};
	}
	pthread_mutex_unlock(&lb->lock);
	if (s)
		(void)pthread_setspecific(thread_exit_key, (void *)1);
	return s;
}

bool slot_enter_shared(struct lane_slot *s)
{
	atomic_store_explicit(&s->busy, false, memory_order_release);
	pthread_mutex_lock(&s->lock);
	return true;
}
