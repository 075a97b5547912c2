/* SPDX-License-Identifier: MIT */
/* membarrier(2), which glibc does not wrap: the one wrapper, for the
 * doorbell's global fence (shm/doorbell.c) and the lane slots' private
 * one (libclient/slot.c). */
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

/* lb_membarrier - membarrier(cmd, 0, 0): what the kernel returns for cmd,
 * or -1 with errno set. */
static inline int lb_membarrier(int cmd)
{
	return (int)syscall(SYS_membarrier, cmd, 0, 0);
}
