/* SPDX-License-Identifier: MIT */
/*
 * The doorbell, after io_uring's IORING_SQ_NEED_WAKEUP: the writer sets
 * `sleeping` and re-checks the lanes before it waits on the futex; a
 * producer, after its head store, loads `sleeping` and wakes the writer
 * only when it wins the exchange that clears it. Both sides use seq_cst
 * (a store followed by a load of another location needs a full barrier;
 * acquire/release alone would let both miss each other).
 *
 * The producer's full fence costs more than the rest of its commit. Where
 * the kernel has membarrier(2), producers register for
 * MEMBARRIER_CMD_GLOBAL_EXPEDITED and publish with a release store; the
 * writer, which sleeps rarely, pays instead: after setting `sleeping` it
 * issues the membarrier, which runs a full barrier on every CPU that runs a
 * registered producer, before it re-checks the lanes. This is the
 * asymmetric fence of liburcu and folly.
 *
 * The futex is shared between processes (shm/futex.h).
 */
#include <linux/membarrier.h>
#include <stdatomic.h>

#include "doorbell.h"
#include "futex.h"
#include "layout.h"
#include "membarrier.h"

void lb_doorbell_wake(const struct lb_bus *bus)
{
	lb_futex_wake(&bus->hdr->sleeping, 1);
}

void lb_doorbell_writer_setup(struct lb_bus *bus)
{
	int cmds = lb_membarrier(MEMBARRIER_CMD_QUERY);

	bus->membarrier = cmds > 0 && (cmds & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
			  lb_membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0;
	atomic_store_explicit(&bus->hdr->doorbell_flags,
			      bus->membarrier ? LB_DOORBELL_MEMBARRIER : 0, memory_order_relaxed);
}

bool lb_doorbell_producer_light(const struct lb_bus *bus)
{
	uint32_t flags = atomic_load_explicit(&bus->hdr->doorbell_flags, memory_order_relaxed);

	return (flags & LB_DOORBELL_MEMBARRIER) &&
	       lb_membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
}

void lb_doorbell_arm(const struct lb_bus *bus)
{
	atomic_fetch_add_explicit(&bus->hdr->sleeps, 1, memory_order_relaxed);
	/* LMM(doorbell_arm:A) pairs with lane_commit:B: the lanes are
	 * re-checked with seq_cst loads (lb_lane_pending) after this store. */
	atomic_store_explicit(&bus->hdr->sleeping, 1, memory_order_seq_cst);
	/* LMM(doorbell_arm:B) pairs with lane_commit:B for producers that
	 * publish with a release store: the fence they skipped. */
	if (bus->membarrier)
		(void)lb_membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);
}

void lb_doorbell_disarm(const struct lb_bus *bus)
{
	atomic_store_explicit(&bus->hdr->sleeping, 0, memory_order_relaxed);
}

void lb_doorbell_wait(const struct lb_bus *bus, int timeout_ms)
{
	/* Returns at once when a producer cleared the word first. */
	(void)lb_futex_wait(&bus->hdr->sleeping, 1, (uint64_t)timeout_ms * 1000000u);
	atomic_store_explicit(&bus->hdr->sleeping, 0, memory_order_relaxed);
}

uint64_t lb_doorbell_sleeps(const struct lb_bus *bus)
{
	return atomic_load_explicit(&bus->hdr->sleeps, memory_order_relaxed);
}
