/* SPDX-License-Identifier: MIT */
/*
 * Who a client is, as the kernel says: the writer's registrar takes pid,
 * uid and gid from the client's socket (SO_PEERCRED), and comm, exe and
 * the start time from /proc/<pid> when the client registers. Nothing here
 * comes from the client's own bytes. The registry (registry.h) keeps one
 * per lane slot; the writer stamps every entry of the slot with it.
 */
#pragma once

#include <stdint.h>

#define LB_COMM_MAX 16      /* TASK_COMM_LEN: 15 characters and a NUL */
#define LB_EXE_MAX 256      /* a longer path is cut, and ends in "..." */

struct lb_client_identity {
	uint32_t pid;       /* as the writer's PID namespace sees it */
	uint32_t uid;
	uint32_t gid;
	uint32_t reserved;
	uint64_t start;     /* process start, clock ticks since boot: tells a reused pid */
	char comm[LB_COMM_MAX];   /* NUL-terminated */
	char exe[LB_EXE_MAX];     /* NUL-terminated; "" when /proc would not say */
};

_Static_assert(sizeof(struct lb_client_identity) == 24 + LB_COMM_MAX + LB_EXE_MAX,
	       "identity size");
