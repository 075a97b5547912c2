/* SPDX-License-Identifier: MIT */
/* An entry as one JSON line, the format of files and of the fallback. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "identity.h"
#include "record.h"

/* Where the writer placed the entry, and whose it is; the fallback has
 * none of it. */
struct lb_entry_ids {
	uint64_t seq;       /* writer-assigned, strictly increasing */
	uint32_t lane;
	/* The kernel-attested identity of the process that published the
	 * entry: its lane slot's, set by the drain. Valid while the batch is
	 * being handed to the sinks: whatever keeps an entry longer (an
	 * asynchronous sink's queue, a spool, an action hook's copy) copies
	 * what it needs. NULL: no identity (an entry built by hand); only
	 * what the entry itself says is printed. */
	const struct lb_client_identity *who;
};

/*
 * lb_entry_json_put - append e as one JSON line ending in '\n': ts (from
 * ts_ns, CLOCK_REALTIME), seq, lane and lane_seq (when ids is not NULL),
 * level, tag, pid, tid, then uid, gid, comm and exe (when ids->who is
 * set), msg or msg_b64, fields and fields_b64 when any. A comm or exe that
 * is not UTF-8 goes base64-encoded under comm_b64, exe_b64.
 */
void lb_entry_json_put(struct lb_buf *b, const struct lb_entry *e, uint64_t ts_ns,
		       const struct lb_entry_ids *ids);
