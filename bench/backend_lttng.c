/* SPDX-License-Identifier: MIT */
/* The LTTng-UST peer: a tracepoint per entry, recorded by whatever lttng
 * session the caller enabled logbus_bench:* in (bench/run.sh starts one). */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "bench-tp.h"

#include "backend.h"

static void *lttng_open(const struct backend_args *a)
{
	static int token;

	(void)a;
	return &token;
}

static int lttng_log(void *ctx, const char *msg, size_t len)
{
	(void)ctx;
	lttng_ust_tracepoint(logbus_bench, message, msg, (unsigned int)len);
	return 0;
}

static void lttng_close(void *ctx)
{
	(void)ctx;
}

const struct backend backend_lttng = {
	.name = "lttng", .open = lttng_open, .log = lttng_log, .close = lttng_close,
};
