/* SPDX-License-Identifier: MIT */
/* The LTTng-UST tracepoint the lttng peer fires: one log message. */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER logbus_bench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./bench-tp.h"

#if !defined(BENCH_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define BENCH_TP_H

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(logbus_bench, message,
	LTTNG_UST_TP_ARGS(const char *, text, unsigned int, len),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_sequence_text(char, msg, text, unsigned int, len)
	)
)

#endif

#include <lttng/tracepoint-event.h>
