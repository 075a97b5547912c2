/* SPDX-License-Identifier: MIT */
/*
 * The doorbell, after io_uring's IORING_SQ_NEED_WAKEUP, one per lane: the
 * writer sets `sleeping` in every lane and re-checks the lanes before it
 * waits on all those futex words at once (futex_waitv); a producer, after
 * its head store, loads its own lane's `sleeping` and wakes the writer
 * only when it wins the exchange that clears it. A client reaches only the
 * words of its own lanes: it can wake the writer, never silence it for
 * another client. Both sides use seq_cst
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
 * The futexes are shared between processes (shm/futex.h).
 */
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "doorbell.h"
#include "futex.h"
#include "lane.h"
#include "layout.h"
#include "membarrier.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

/* With more lanes in use than one futex_waitv watches, how often the
 * writer looks at the others while idle. */
#define MANY_LANES_POLL_MS 10

void lb_doorbell_wake(struct lb_lane *lane)
{
	lb_futex_wake(&lane->sleeping, 1);
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
	for (uint32_t i = 0; i < bus->lane_count; i++)
		atomic_store_explicit(&bus->lanes[i].lane->sleeping, 1, memory_order_relaxed);
	/* LMM(doorbell_arm:A) pairs with lane_commit:B: the flags are stored
	 * before the lanes are re-checked with seq_cst loads
	 * (lb_lane_pending). */
	atomic_thread_fence(memory_order_seq_cst);
	/* LMM(doorbell_arm:B) pairs with lane_commit:B for producers that
	 * publish with a release store: the fence they skipped. */
	if (bus->membarrier)
		(void)lb_membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);
}

void lb_doorbell_disarm(const struct lb_bus *bus)
{
	for (uint32_t i = 0; i < bus->lane_count; i++)
		atomic_store_explicit(&bus->lanes[i].lane->sleeping, 0, memory_order_relaxed);
}

/* futex_waitv(2), Linux 5.16: one sleep on many futex words, shared ones
 * (no FUTEX_PRIVATE_FLAG) since each lives in a file another process
 * maps. Returns when a word differs from its value or is woken. */
static void wait_many(struct futex_waitv *w, unsigned n, int timeout_ms)
{
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	(void)syscall(SYS_futex_waitv, w, n, 0, &end, CLOCK_MONOTONIC);
}

void lb_doorbell_wait(const struct lb_bus *bus, _Atomic uint32_t *also, uint32_t also_seen,
		      int timeout_ms)
{
	struct futex_waitv w[FUTEX_WAITV_MAX];
	unsigned n = 0;

	w[n++] = (struct futex_waitv){ .val = also_seen, .uaddr = (uintptr_t)also,
				       .flags = FUTEX_32 };
	for (uint32_t i = 0; i < bus->lane_count; i++) {
		if (!bus->lanes[i].size)
			continue;   /* idle: nobody publishes there */
		if (n == FUTEX_WAITV_MAX) {
			/* More lanes than one wait can watch: the rest are
			 * looked at often instead. */
			timeout_ms = timeout_ms < MANY_LANES_POLL_MS ? timeout_ms
								    : MANY_LANES_POLL_MS;
			break;
		}
		w[n++] = (struct futex_waitv){ .val = 1,
					       .uaddr = (uintptr_t)&bus->lanes[i].lane->sleeping,
					       .flags = FUTEX_32 };
	}
	/* Returns at once when a producer cleared its lane's word first. */
	wait_many(w, n, timeout_ms);
	lb_doorbell_disarm(bus);
}

uint64_t lb_doorbell_sleeps(const struct lb_bus *bus)
{
	return atomic_load_explicit(&bus->hdr->sleeps, memory_order_relaxed);
}
