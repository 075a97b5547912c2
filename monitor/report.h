/* SPDX-License-Identifier: MIT */
/*
 * logbus-stat's three outputs of one sample: aligned text for people, JSON
 * (the schema documented in README.md, "logbus-stat JSON"), and the
 * Prometheus text exposition format 0.0.4.
 */
#pragma once

#include <jansson.h>
#include <stdio.h>

#include "view.h"

#define REPORT_SCHEMA 1

/* report_json - the sample as a JSON object; NULL when out of memory. */
json_t *report_json(const char *bus, const struct mon_sample *m);

/* report_text - the sample as aligned text on f. */
void report_text(FILE *f, const char *bus, const struct mon_sample *m);

/* report_prometheus - the sample as Prometheus text on f. */
void report_prometheus(FILE *f, const char *bus, const struct mon_sample *m);

/* report_prometheus_down - Prometheus text for a bus whose stats cannot be
 * read: logbus_writer_up 0 and the state dead, so that an alert on the
 * writer fires. */
void report_prometheus_down(FILE *f, const char *bus);

/* Quantiles of a histogram. */
struct report_quantiles {
	uint64_t count, mean, max, p50, p90, p99, p999;
};

void report_quantiles_get(const struct lb_stats_hist *h, struct report_quantiles *q);
