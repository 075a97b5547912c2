/* SPDX-License-Identifier: MIT */
/* What the drain hands to sinks: a batch of validated entries in output
 * order. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct batch_entry {
	struct lb_entry e;      /* points into the batch's private copy */
	uint64_t ts_ns;         /* CLOCK_REALTIME */
	uint64_t seq;           /* writer-assigned output sequence */
	uint32_t lane;
};

struct batch {
	struct batch_entry *entries;  /* in output order */
	size_t count;
	size_t cap;
};
