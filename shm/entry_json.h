/* SPDX-License-Identifier: MIT */
/* An entry as one JSON line, the format of files and of the fallback. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "record.h"

/* Where the writer placed the entry; the fallback has none of it. */
struct lb_entry_ids {
	uint64_t seq;       /* writer-assigned, strictly increasing */
	uint32_t lane;
};

/*
 * lb_entry_json_put - append e as one JSON line ending in '\n': ts (from
 * ts_ns, CLOCK_REALTIME), seq, lane and lane_seq (when ids is not NULL),
 * level, tag, pid, tid, msg or msg_b64, fields and fields_b64 when any.
 */
void lb_entry_json_put(struct lb_buf *b, const struct lb_entry *e, uint64_t ts_ns,
		       const struct lb_entry_ids *ids);
