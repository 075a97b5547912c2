/* SPDX-License-Identifier: MIT */
/* The SIGBUS guard of the writer's lane mappings (lane_guard.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "lane.h"
#include "lane_guard.h"

static const struct lb_bus *guarded;
static volatile sig_atomic_t *broken;
static volatile sig_atomic_t trips;

/* Async-signal-safe: reads the lane table (its one writer is the thread
 * that faulted, stopped in an access) and calls mmap. */
static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	int saved = errno;

	(void)sig;
	(void)ctx;
	for (uint32_t i = 0; guarded->lanes && i < guarded->lane_count; i++) {
		const struct lb_lane_map *m = &guarded->lanes[i];
		uintptr_t lo = (uintptr_t)m->lane;

		if (!m->size || a < lo || a - lo >= m->size)
			continue;
		if (mmap(m->lane, m->size, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED) {
			broken[i] = 1;
			trips++;
			errno = saved;
			return;   /* the access runs again, on zero pages */
		}
		break;
	}
	/* Not a lane's: returning runs the access again, which now crashes. */
	signal(SIGBUS, SIG_DFL);
	errno = saved;
}

int lane_guard_install(const struct lb_bus *bus)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };

	broken = calloc(bus->lane_count, sizeof(*broken));
	if (!broken)
		return -ENOMEM;
	guarded = bus;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) < 0 ? -errno : 0;
}

unsigned lane_guard_trips(void)
{
	return (unsigned)trips;
}

bool lane_guard_broken(uint32_t i)
{
	return broken && broken[i];
}

void lane_guard_clear(uint32_t i)
{
	if (broken)
		broken[i] = 0;
}
