/* SPDX-License-Identifier: MIT */
/* futex(2) on words of the bus segment, which several processes map: the
 * FUTEX_*_PRIVATE operations must never be used on them. */
#pragma once

#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* lb_futex_wait - sleep while *word == expected, at most timeout_ns.
 * Returns 0 when woken (or the word differed), -ETIMEDOUT, or -EINTR. */
static inline int lb_futex_wait(_Atomic uint32_t *word, uint32_t expected, uint64_t timeout_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(timeout_ns / 1000000000u),
		.tv_nsec = (long)(timeout_ns % 1000000000u),
	};

	if (syscall(SYS_futex, word, FUTEX_WAIT, expected, &ts, NULL, 0) == 0 || errno == EAGAIN)
		return 0;
	return -errno;
}

/* lb_futex_wake - wake at most n sleepers on word. */
static inline void lb_futex_wake(_Atomic uint32_t *word, int n)
{
	(void)syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0);
}
