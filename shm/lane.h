/* SPDX-License-Identifier: MIT */
/*
 * Lanes: single-producer, single-consumer byte rings in lane files.
 * The design, the states and every memory-ordering pair are described at
 * the top of lane.c. The producer's hot path is inline here.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bus.h"
#include "layout.h"
#include "record.h"

/* A lane file, mapped read-write (the client's own, or the writer's view
 * of one). */
struct lb_lane_map {
	struct lb_lane *lane;
	uint8_t *ring;
	size_t size;          /* bytes mapped: the lane file's size */
};

/* A producer's private view of the lane it owns. */
struct lb_producer {
	struct lb_lane *lane;
	uint8_t *ring;
	uint64_t size;        /* ring bytes */
	uint64_t head;        /* our copy of lane->head */
	uint64_t tail;        /* last tail seen, refreshed only when short of room */
	uint64_t seq;         /* sequence of the next record */
	uint64_t published;   /* mirrors of the lane's counters: a new file's */
	uint64_t dropped_full;    /* start at 0 */
	uint64_t dropped_too_large;
	uint32_t max_record;
	uint32_t index;       /* the slot the writer granted */
	bool light_fence;     /* commit with a release store (doorbell.c) */
};

/* A copy of a lane's header, for the writer: the client's word, all of
 * it (who the client is, the writer's registry says). */
struct lb_lane_info {
	uint64_t head;
	uint64_t tail;
	uint64_t next_seq;
	uint64_t published;
	uint64_t dropped_full;
	uint64_t dropped_too_large;
	bool blocked;         /* a publisher or flush sleeps for the tail to move */
};

/*
 * lb_lane_map - map the lane file fd of a bus whose lanes hold lane_size
 * ring bytes. The file must be exactly that size (LB_LANE_HEADER_SIZE +
 * lane_size); the mapping is shared and read-write. Returns 0 or a
 * negative errno (-EBADMSG for a file of another size).
 */
int lb_lane_map(int fd, uint64_t lane_size, struct lb_lane_map *m);

/* lb_lane_unmap - undo lb_lane_map; an unmapped map is a no-op. */
void lb_lane_unmap(struct lb_lane_map *m);

/*
 * lb_producer_init - a client: start publishing into the lane m maps,
 * granted as slot of bus; light_fence as lb_doorbell_producer_light said.
 * Maps the ring's pages now (no page fault in a publish), and starts from
 * the head and sequence the writer set in the new file.
 */
void lb_producer_init(struct lb_producer *p, const struct lb_lane_map *m, const struct lb_bus *bus,
		      uint32_t slot, bool light_fence);

/* lb_lane_count_drop - count an entry dropped for want of room (too_large
 * false) or for being larger than max_record (too_large true). */
void lb_lane_count_drop(struct lb_producer *p, bool too_large);

/* The ring bytes a record of size bytes takes after the head: itself, and
 * the pad before it when it does not fit before the end of the ring. */
static inline uint64_t lb_lane_need(const struct lb_producer *p, uint64_t size)
{
	uint64_t to_end = p->size - (p->head & (p->size - 1));

	return size <= to_end ? size : to_end + size;
}

/*
 * lb_lane_reserve - room for a record of size bytes (aligned). Returns
 * where to write it, or NULL when the lane lacks room. Nothing is visible
 * to the writer until lb_lane_commit.
 */
static inline void *lb_lane_reserve(struct lb_producer *p, uint64_t size)
{
	uint64_t off = p->head & (p->size - 1);
	uint64_t to_end = p->size - off;
	uint64_t need = lb_lane_need(p, size);

	if (p->head + need - p->tail > p->size) {
		/* LMM(lane_reserve:A) pairs with lane_advance:A: the writer
		 * finished copying the bytes before we overwrite them. */
		p->tail = atomic_load_explicit(&p->lane->tail, memory_order_acquire);
		if (p->head + need - p->tail > p->size)
			return NULL;
	}
	if (size > to_end) {
		/* Records never wrap: pad to the end, start over at 0. */
		lb_record_encode_pad(p->ring + off, to_end);
		p->head += to_end;
		off = 0;
	}
	return p->ring + off;
}

/*
 * lb_lane_commit - publish the record reserved last, of size bytes.
 * Returns true when the writer sleeps and this caller won the right to wake
 * it (then call lb_doorbell_wake on the lane).
 */
static inline bool lb_lane_commit(struct lb_producer *p, uint64_t size)
{
	p->head += size;
	/* Ask for the next lines for writing now, so that the next record's
	 * stores do not wait for them. */
	__builtin_prefetch(p->ring + (p->head & (p->size - 1)), 1, 3);
	__builtin_prefetch(p->ring + ((p->head + 64) & (p->size - 1)), 1, 3);
	__builtin_prefetch(p->ring + ((p->head + 128) & (p->size - 1)), 1, 3);
	__builtin_prefetch(p->ring + ((p->head + 192) & (p->size - 1)), 1, 3);
	p->seq++;
	p->published++;
	atomic_store_explicit(&p->lane->next_seq, p->seq, memory_order_relaxed);
	atomic_store_explicit(&p->lane->published, p->published, memory_order_relaxed);
	/* LMM(lane_commit:A) pairs with lane_read:A: the record's bytes are
	 * visible before the new head. The store must also be ordered before
	 * the doorbell load below (lane_commit:B): by seq_cst, or, for a
	 * producer registered for the writer's membarrier, by that
	 * membarrier (doorbell_arm:B), with only a compiler barrier here. */
	if (__builtin_expect(p->light_fence, 1)) {
		atomic_store_explicit(&p->lane->head, p->head, memory_order_release);
		atomic_signal_fence(memory_order_seq_cst);
	} else {
		atomic_store_explicit(&p->lane->head, p->head, memory_order_seq_cst);
	}
	/* LMM(lane_commit:B) pairs with doorbell_arm:A and doorbell_arm:B:
	 * either the writer's re-check sees our head, or we see its sleeping
	 * flag. */
	if (atomic_load_explicit(&p->lane->sleeping, memory_order_seq_cst) == 0)
		return false;
	return atomic_exchange_explicit(&p->lane->sleeping, 0, memory_order_seq_cst) == 1;
}

/* lb_lane_room_at - after lb_lane_reserve(p, size) failed: the tail from
 * which the record fits. */
static inline uint64_t lb_lane_room_at(const struct lb_producer *p, uint64_t size)
{
	return p->head + lb_lane_need(p, size) - p->size;
}

/*
 * lb_lane_wait_tail - a producer or a flush: sleep until the writer moved
 * the tail of lane (the client's mapping) into [lo, hi], at most
 * timeout_ns. Returns 0 when the tail
 * is there, -EAGAIN when woken before it is (call again), -ETIMEDOUT when
 * the time ran out. The writer wakes sleepers with lb_lane_wake_blocked;
 * one that does not is only slower (the futex times out). A tail outside
 * [lo, hi] that cannot get there (garbage in the segment) ends in
 * -ETIMEDOUT, never in a busy loop.
 */
int lb_lane_wait_tail(struct lb_lane *lane, uint64_t lo, uint64_t hi, uint64_t timeout_ns);

/*
 * lb_lane_wake_blocked - the writer, right after lb_lane_advance on lane
 * i: wake the publishers and flushes that sleep in lb_lane_wait_tail. A
 * fence and a load of the lane's own line when nobody sleeps.
 */
void lb_lane_wake_blocked(const struct lb_bus *bus, uint32_t i);

/*
 * lb_lane_read - copy committed bytes of lane i from position tail, at most
 * cap, into dst. Returns the count (0 when empty) with *head the head seen,
 * or -EBADMSG when the head is impossible (behind tail, beyond the ring,
 * unaligned): the lane is corrupt.
 */
long lb_lane_read(const struct lb_bus *bus, uint32_t i, uint64_t tail, uint8_t *dst, size_t cap,
		  uint64_t *head);

/* lb_lane_pending - whether lane i holds bytes after tail; a seq_cst load
 * for the writer's re-check before it sleeps (doorbell_arm:A). */
bool lb_lane_pending(const struct lb_bus *bus, uint32_t i, uint64_t tail);

/* lb_lane_advance - hand bytes up to tail back to the producer. */
void lb_lane_advance(const struct lb_bus *bus, uint32_t i, uint64_t tail);

/* lb_lane_info_get - a copy of lane i's header. */
void lb_lane_info_get(const struct lb_bus *bus, uint32_t i, struct lb_lane_info *info);

/* lb_lane_set_idle - the writer: lane i holds nothing and belongs to no
 * one: head and tail both at pos, in writer-private memory. */
void lb_lane_set_idle(const struct lb_bus *bus, uint32_t i, uint64_t pos);

/* lb_bus_lanes_init - the writer's table of lanes (bus->lanes), which
 * every lb_lane_* function of the writer reads: every slot idle at
 * position 0 (see lb_lane_set_idle). Returns 0 or -ENOMEM. */
int lb_bus_lanes_init(struct lb_bus *bus);

/* lb_bus_lanes_fini - unmap every lane and free the table; a bus without
 * one is a no-op. */
void lb_bus_lanes_fini(struct lb_bus *bus);

/* lb_producer_counts - what this producer added to the lane's counters. */
void lb_producer_counts(const struct lb_producer *p, uint64_t *published, uint64_t *dropped_full,
			uint64_t *dropped_too_large);

/* lb_producer_progress - the lane's published head and the writer's tail. */
void lb_producer_progress(const struct lb_producer *p, uint64_t *head, uint64_t *tail);
