/* SPDX-License-Identifier: MIT */
/*
 * DOC: lanes
 *
 * A lane is a single-producer, single-consumer byte ring in a lane
 * file: one producer thread writes records after `head`, the writer
 * copies them out and moves `tail`. Positions are 64-bit byte counts that
 * never wrap; a position's offset in the ring is pos & (size - 1).
 *
 *   tail                      head
 *    |<-- committed records -->|<-- free (size - (head - tail)) -->
 *
 * Records are 8-byte aligned and never straddle the end of the ring: when
 * one does not fit before the end, a pad record fills the rest and the
 * record starts at offset 0 (as in Aeron's ring buffers).
 *
 * A lane lives in a lane file of its own, made by the writer's registrar for
 * one client (registry.h): the client and the writer map it, nobody else
 * can. Who holds the lane is the writer's registry's business, not the
 * lane's; when a slot is given again, its next file starts where this one
 * ended (head = tail = the last tail, next_seq = above the last sequence),
 * so positions and lane sequences never go back. The writer keeps its view
 * of every slot in a table (bus->lanes, lb_bus_lanes_init), which its
 * lb_lane_* functions read by slot: the slot's lane file, mapped, or an
 * idle lane in its own memory (head = tail) while the slot holds none.
 *
 * Death: a producer killed at any instruction loses at most the record it
 * was writing. Bytes written after `head` are invisible until the head
 * store, so a half-written record is simply overwritten by the lane's next
 * owner; nobody waits for it. A writer killed at any instruction restarts
 * at `tail`, which it moves only after its sinks took the records: records
 * written but not yet acknowledged are read again, with the same (lane,
 * sequence), so they can be recognised.
 *
 * Blocked publishers. A publisher whose lane is full may choose to wait
 * for room (the overflow policy "block", libclient/overflow.c), and a
 * flush waits for the tail to pass its entries. Both sleep on the futex
 * word `blocked` beside the tail, after io_uring's NEED_WAKEUP again:
 *
 *   waiter (lb_lane_wait_tail)          writer (after lb_lane_advance)
 *     blocked = 1                         tail = new tail (release)
 *     full fence  <--lane_block:A-->      full fence (lane_wake:A)
 *     tail in range? return               blocked? exchange 0, futex wake
 *     futex wait while blocked == 1
 *
 * Either the writer sees the flag after its tail store, or the waiter sees
 * the new tail after its flag store; the futex wait returns at once when
 * the writer cleared the flag first. The writer pays a fence and a load of
 * its own line per lane per batch; the waiter's stores happen only on the
 * slow path, so a publish with room is unchanged. A writer that never
 * wakes (an older one, or one that is gone) costs waiters only time: they
 * sleep with a timeout.
 *
 * Usage, producer:
 *
 *	rec = lb_lane_reserve(p, size);          NULL: full
 *	lb_record_encode(rec, ...);
 *	if (lb_lane_commit(p, size))
 *		lb_doorbell_wake(bus);
 *
 * Usage, writer:
 *
 *	n = lb_lane_read(bus, i, tail, copy, cap, &head);
 *	... decode and validate the private copy, hand it to the sinks ...
 *	lb_lane_advance(bus, i, tail + consumed);
 *
 * Memory ordering pairs (LMM tags in the code):
 *
 *   lane_commit:A  (head store)       -> lane_read:A     (head load, acquire)
 *        the record's bytes are visible before the head that covers them.
 *   lane_advance:A (tail store)       -> lane_reserve:A  (tail load, acquire)
 *        the writer's copy is finished before the producer reuses the bytes.
 *   lane_commit:B  (sleeping load)    <-> doorbell_arm:A (sleeping store,
 *        then lb_lane_pending's seq_cst head loads): one of the two sides
 *        sees the other, so a producer never leaves the writer asleep.
 *        Producers with a light fence store head with release order; the
 *        writer's membarrier (doorbell_arm:B) supplies their full fence.
 *   lane_block:A   (blocked = 1, fence, tail load) <-> lane_wake:A (tail
 *        store, fence, blocked load): one of the two sees the other, so a
 *        waiter never sleeps through the tail move it waits for.
 *   lane_advance:A (tail store)       -> lane_wait:A     (tail load, acquire)
 *        a waiter that sees room also sees the writer's copy finished.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "futex.h"
#include "lane.h"

/*
 * Map the lane's pages now, writable, so that publishes never take a page
 * fault: on tmpfs even fallocated pages are cleared and mapped on first
 * touch, which costs a microsecond per page in the middle of a publish.
 * Touching each page by hand is the fallback for kernels before 5.14;
 * adding 0 atomically changes nothing a concurrent reader could see.
 */
static void prefault(uint8_t *p, uint64_t size)
{
	if (madvise(p, size, MADV_POPULATE_WRITE) == 0)
		return;
	for (uint64_t off = 0; off < size; off += 4096)
		__atomic_fetch_add(p + off, 0, __ATOMIC_RELAXED);
}

int lb_lane_map(int fd, uint64_t lane_size, struct lb_lane_map *m)
{
	uint64_t size = LB_LANE_HEADER_SIZE + lane_size;
	struct stat st;
	void *p;

	*m = (struct lb_lane_map){ 0 };
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		return -EBADMSG;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*m = (struct lb_lane_map){ .lane = p, .ring = (uint8_t *)p + LB_LANE_HEADER_SIZE,
				   .size = size };
	return 0;
}

void lb_lane_unmap(struct lb_lane_map *m)
{
	if (m->size)
		munmap(m->lane, m->size);
	*m = (struct lb_lane_map){ 0 };
}

void lb_producer_init(struct lb_producer *p, const struct lb_lane_map *m, const struct lb_bus *bus,
		      uint32_t slot, bool light_fence)
{
	struct lb_lane *lane = m->lane;

	*p = (struct lb_producer){
		.lane = lane,
		.ring = m->ring,
		.size = bus->lane_size,
		.head = atomic_load_explicit(&lane->head, memory_order_relaxed),
		.tail = atomic_load_explicit(&lane->tail, memory_order_relaxed),
		.seq = atomic_load_explicit(&lane->next_seq, memory_order_relaxed),
		.max_record = bus->max_record,
		.index = slot,
		.light_fence = light_fence,
	};
	/* The writer made the file: head == tail, aligned. Should it say
	 * otherwise, start on the tail rather than trust it. */
	if (p->head - p->tail > p->size || (p->head & (LB_RECORD_ALIGN - 1)))
		p->head = p->tail & ~(uint64_t)(LB_RECORD_ALIGN - 1);
	prefault(p->ring, p->size);
}

void lb_lane_count_drop(struct lb_producer *p, bool too_large)
{
	if (too_large)
		atomic_store_explicit(&p->lane->dropped_too_large, ++p->dropped_too_large,
				      memory_order_relaxed);
	else
		atomic_store_explicit(&p->lane->dropped_full, ++p->dropped_full,
				      memory_order_relaxed);
}

/* The writer's view of slot i: its lane header and ring. */
static struct lb_lane *bus_lane(const struct lb_bus *bus, uint32_t i)
{
	return bus->lanes[i].lane;
}

static uint8_t *bus_ring(const struct lb_bus *bus, uint32_t i)
{
	return bus->lanes[i].ring;
}

static bool head_possible(const struct lb_bus *bus, uint64_t tail, uint64_t head)
{
	return head >= tail && head - tail <= bus->lane_size &&
	       (head & (LB_RECORD_ALIGN - 1)) == 0;
}

long lb_lane_read(const struct lb_bus *bus, uint32_t i, uint64_t tail, uint8_t *dst, size_t cap,
		  uint64_t *head)
{
	struct lb_lane *lane = bus_lane(bus, i);
	const uint8_t *ring = bus_ring(bus, i);
	/* LMM(lane_read:A) pairs with lane_commit:A. */
	uint64_t h = atomic_load_explicit(&lane->head, memory_order_acquire);
	uint64_t n, off, first;

	*head = h;
	if (!head_possible(bus, tail, h))
		return -EBADMSG;
	n = h - tail < cap ? h - tail : cap;
	off = tail & (bus->lane_size - 1);
	first = bus->lane_size - off < n ? bus->lane_size - off : n;
	memcpy(dst, ring + off, first);
	memcpy(dst + first, ring, n - first);
	return (long)n;
}

bool lb_lane_pending(const struct lb_bus *bus, uint32_t i, uint64_t tail)
{
	/* seq_cst: the other half of doorbell_arm:A. */
	return atomic_load_explicit(&bus_lane(bus, i)->head, memory_order_seq_cst) != tail;
}

void lb_lane_advance(const struct lb_bus *bus, uint32_t i, uint64_t tail)
{
	/* LMM(lane_advance:A) pairs with lane_reserve:A. */
	atomic_store_explicit(&bus_lane(bus, i)->tail, tail, memory_order_release);
}

/* Whether lane's tail is in [lo, hi]. */
static bool tail_in(struct lb_lane *lane, uint64_t lo, uint64_t hi)
{
	/* LMM(lane_wait:A) pairs with lane_advance:A. */
	uint64_t tail = atomic_load_explicit(&lane->tail, memory_order_acquire);

	return tail >= lo && tail <= hi;
}

int lb_lane_wait_tail(struct lb_lane *lane, uint64_t lo, uint64_t hi, uint64_t timeout_ns)
{
	int r;

	if (tail_in(lane, lo, hi))
		return 0;
	atomic_store_explicit(&lane->blocked, 1, memory_order_relaxed);
	/* LMM(lane_block:A) pairs with lane_wake:A: the flag store is
	 * ordered before the tail load below. Relies on the writer fencing
	 * between its tail store and its flag load. */
	atomic_thread_fence(memory_order_seq_cst);
	if (tail_in(lane, lo, hi))
		return 0;
	r = lb_futex_wait(&lane->blocked, 1, timeout_ns);
	if (tail_in(lane, lo, hi))
		return 0;
	return r == -ETIMEDOUT ? -ETIMEDOUT : -EAGAIN;
}

void lb_lane_wake_blocked(const struct lb_bus *bus, uint32_t i)
{
	struct lb_lane *lane = bus_lane(bus, i);

	/* LMM(lane_wake:A) pairs with lane_block:A: the tail store of
	 * lb_lane_advance is ordered before the flag load. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&lane->blocked, memory_order_relaxed) == 0)
		return;
	/* Whoever clears the flag wakes; a waiter that sets it again after
	 * this re-checks the tail first (lane_block:A). */
	if (atomic_exchange_explicit(&lane->blocked, 0, memory_order_relaxed) != 0)
		lb_futex_wake(&lane->blocked, INT32_MAX);
}

void lb_lane_info_get(const struct lb_bus *bus, uint32_t i, struct lb_lane_info *info)
{
	struct lb_lane *lane = bus_lane(bus, i);

	*info = (struct lb_lane_info){
		.head = atomic_load_explicit(&lane->head, memory_order_acquire),
		.tail = atomic_load_explicit(&lane->tail, memory_order_relaxed),
		.next_seq = atomic_load_explicit(&lane->next_seq, memory_order_relaxed),
		.published = atomic_load_explicit(&lane->published, memory_order_relaxed),
		.dropped_full = atomic_load_explicit(&lane->dropped_full, memory_order_relaxed),
		.dropped_too_large =
			atomic_load_explicit(&lane->dropped_too_large, memory_order_relaxed),
		.blocked = atomic_load_explicit(&lane->blocked, memory_order_relaxed) != 0,
	};
}

void lb_lane_set_idle(const struct lb_bus *bus, uint32_t i, uint64_t pos)
{
	struct lb_lane *idle = &bus->idle[i];

	lb_lane_unmap(&bus->lanes[i]);
	memset(idle, 0, sizeof(*idle));
	atomic_store_explicit(&idle->head, pos, memory_order_relaxed);
	atomic_store_explicit(&idle->tail, pos, memory_order_relaxed);
	bus->lanes[i] = (struct lb_lane_map){ .lane = idle, .ring = bus->idle_ring };
}

void lb_bus_lanes_fini(struct lb_bus *bus)
{
	for (uint32_t i = 0; bus->lanes && i < bus->lane_count; i++)
		lb_lane_unmap(&bus->lanes[i]);
	free(bus->lanes);
	free(bus->idle);
	if (bus->idle_ring)
		munmap(bus->idle_ring, bus->lane_size);
	bus->lanes = NULL;
	bus->idle = NULL;
	bus->idle_ring = NULL;
}

int lb_bus_lanes_init(struct lb_bus *bus)
{
	void *ring;

	bus->lanes = calloc(bus->lane_count, sizeof(*bus->lanes));
	bus->idle = aligned_alloc(LB_CACHE_LINE, (size_t)bus->lane_count * sizeof(*bus->idle));
	/* An empty ring the size of a lane's, never written: the idle lanes'
	 * head equals their tail, so nothing reads it either. */
	ring = mmap(NULL, bus->lane_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bus->idle_ring = ring == MAP_FAILED ? NULL : ring;
	if (!bus->lanes || !bus->idle || !bus->idle_ring) {
		lb_bus_lanes_fini(bus);
		return -ENOMEM;
	}
	memset(bus->idle, 0, (size_t)bus->lane_count * sizeof(*bus->idle));
	for (uint32_t i = 0; i < bus->lane_count; i++)
		lb_lane_set_idle(bus, i, 0);
	return 0;
}

void lb_producer_counts(const struct lb_producer *p, uint64_t *published, uint64_t *dropped_full,
			uint64_t *dropped_too_large)
{
	/* The lane's words, not the producer's mirrors: another thread than
	 * the producer's may ask (logbus_stats_get). A new lane file starts
	 * them at 0. */
	*published = atomic_load_explicit(&p->lane->published, memory_order_relaxed);
	*dropped_full = atomic_load_explicit(&p->lane->dropped_full, memory_order_relaxed);
	*dropped_too_large =
		atomic_load_explicit(&p->lane->dropped_too_large, memory_order_relaxed);
}

void lb_producer_progress(const struct lb_producer *p, uint64_t *head, uint64_t *tail)
{
	*head = atomic_load_explicit(&p->lane->head, memory_order_relaxed);
	/* LMM(lane_reserve:A) again: the writer's copy is done. */
	*tail = atomic_load_explicit(&p->lane->tail, memory_order_acquire);
}
