/* SPDX-License-Identifier: MIT */
/*
 * The fallback: when there is no bus, or the writer is gone and the lane is
 * full, an entry is written synchronously as a JSON line (the writer's own
 * format, less the writer's seq and lane) to stderr or $LOGBUS_FALLBACK, so
 * that nothing is lost silently. Slow by design; never the steady state.
 */
#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "client.h"
#include "entry_json.h"

int fallback_write(logbus_t *lb, int level, const char *tag, size_t tag_len, const char *msg,
		   size_t len, const struct logbus_field *fields, size_t nfields)
{
	struct lb_record_meta meta = {
		.ts = lb_clock_ns(CLOCK_REALTIME),
		.ts_mode = LB_TS_REALTIME,
		.level = (uint8_t)level,
		.pid = lb_process.pid,
		.tid = slot_thread_tid(),
	};
	size_t size = lb_record_size(tag_len, len, fields, nfields);
	struct lb_buf line = { 0 };
	struct lb_entry e;
	bool is_pad;
	uint8_t *rec;
	int r = -EIO;

	/* Encode, then decode: one path to JSON for the writer and us. */
	rec = size ? malloc(size) : NULL;
	if (rec) {
		lb_record_encode(rec, size, &meta, tag, tag_len, msg, len, fields, nfields);
		if (lb_record_decode(rec, size, size, &e, &is_pad) > 0) {
			lb_entry_json_put(&line, &e, meta.ts, NULL);
			if (!line.failed) {
				pthread_mutex_lock(&lb->lock);
				if (fwrite(line.data, 1, line.len, lb->fallback) == line.len &&
				    fflush(lb->fallback) == 0)
					r = 0;
				pthread_mutex_unlock(&lb->lock);
			}
		}
	}
	free(rec);
	lb_buf_free(&line);
	atomic_fetch_add_explicit(r == 0 ? &lb->counts.fallback : &lb->counts.dropped_fallback, 1,
				  memory_order_relaxed);
	return r;
}
