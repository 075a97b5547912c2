/* SPDX-License-Identifier: MIT */
/*
 * logbus-stat's outputs. One table per record type names each counter once
 * with its JSON key, its Prometheus metric (and label) and its help text;
 * the JSON, text and Prometheus writers all walk the same tables, so the
 * three outputs cannot disagree on what a number is.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "report.h"

enum kind {
	GAUGE,
	COUNTER,
};

struct field {
	const char *key;     /* JSON key and text label */
	const char *metric;  /* Prometheus name; a run of equal names is one family */
	const char *label;   /* extra label of this sample, "reason=\"full\"", or NULL */
	enum kind kind;
	const char *help;
	size_t off;          /* of a uint64_t in the record */
	double scale;        /* Prometheus value = raw * scale; 0: raw integer */
};

#define BUS(f) offsetof(struct lb_stats_bus, f)
#define CLI(f) offsetof(struct lb_stats_client, f)
#define SINK(f) offsetof(struct lb_stats_sink, f)
#define HOOK(f) offsetof(struct lb_stats_hook, f)

static const struct field bus_fields[] = {
	{ "lane_count", "logbus_lanes", NULL, GAUGE, "Lanes in the bus.", BUS(lane_count), 0 },
	{ "lane_size", "logbus_lane_size_bytes", NULL, GAUGE, "Ring bytes per lane.",
	  BUS(lane_size), 0 },
	{ "lanes_in_use", "logbus_lanes_in_use", NULL, GAUGE, "Lanes held by a client.",
	  BUS(lanes_in_use), 0 },
	{ "fill_bytes", "logbus_fill_bytes", NULL, GAUGE,
	  "Bytes waiting in the lanes for the writer.", BUS(fill_bytes), 0 },
	{ "published", "logbus_entries_published_total", NULL, COUNTER,
	  "Entries clients offered to their lanes (queued plus dropped).", BUS(published), 0 },
	{ "queued", "logbus_entries_queued_total", NULL, COUNTER,
	  "Entries committed into a lane.", BUS(queued), 0 },
	{ "written", "logbus_entries_written_total", NULL, COUNTER,
	  "Entries the writer handed to its sinks.", BUS(written), 0 },
	{ "filtered", "logbus_entries_filtered_total", NULL, COUNTER,
	  "Entries a filter hook dropped on purpose.", BUS(filtered), 0 },
	{ "waiting", "logbus_entries_waiting", NULL, GAUGE,
	  "Entries committed into a lane and not yet written, filtered or abandoned.",
	  BUS(waiting), 0 },
	{ "quarantined", "logbus_entries_quarantined_total", NULL, COUNTER,
	  "Poison entries: crashed the writer in a filter hook twice, set aside.",
	  BUS(quarantined), 0 },
	{ "dropped_full", "logbus_entries_dropped_total", "reason=\"full\"", COUNTER,
	  "Entries dropped, by reason.", BUS(dropped_full), 0 },
	{ "dropped_too_large", "logbus_entries_dropped_total", "reason=\"too_large\"", COUNTER,
	  NULL, BUS(dropped_too_large), 0 },
	{ "dropped_no_lane", "logbus_entries_dropped_total", "reason=\"no_lane\"", COUNTER, NULL,
	  BUS(dropped_no_lane), 0 },
	{ "dropped_abandoned", "logbus_entries_dropped_total", "reason=\"abandoned\"", COUNTER,
	  NULL, BUS(dropped_abandoned), 0 },
	{ "batches", "logbus_batches_total", NULL, COUNTER, "Batches written.", BUS(batches), 0 },
	{ "batches_failed", "logbus_batches_failed_total", NULL, COUNTER,
	  "Batches that no sink took (retried).", BUS(batches_failed), 0 },
	{ "corrupt", "logbus_lanes_corrupt_total", NULL, COUNTER,
	  "Times a lane held bytes that were no record.", BUS(corrupt), 0 },
	{ "reclaimed", "logbus_lanes_reclaimed_total", NULL, COUNTER,
	  "Lanes freed after their client left or died.", BUS(reclaimed), 0 },
	{ "registrations", "logbus_lanes_granted_total", NULL, COUNTER,
	  "Lanes the writer's registrar granted to clients.", BUS(registrations), 0 },
	{ "refused_denied", "logbus_lane_requests_refused_total", "reason=\"denied\"", COUNTER,
	  "Lane requests the registrar refused, by reason.", BUS(refused_denied), 0 },
	{ "refused_quota", "logbus_lane_requests_refused_total", "reason=\"quota\"", COUNTER,
	  NULL, BUS(refused_quota), 0 },
	{ "refused_full", "logbus_lane_requests_refused_total", "reason=\"full\"", COUNTER,
	  NULL, BUS(refused_full), 0 },
	{ "clients_retired", "logbus_clients_retired_total", NULL, COUNTER,
	  "Clients whose counts moved to the totals when their lane was reclaimed.",
	  BUS(clients_retired), 0 },
};

static const struct field client_fields[] = {
	{ "published", "logbus_client_published_total", NULL, COUNTER,
	  "Entries the client offered to its lane.", CLI(published), 0 },
	{ "queued", "logbus_client_queued_total", NULL, COUNTER,
	  "Entries the client committed into its lane.", CLI(queued), 0 },
	{ "written", "logbus_client_written_total", NULL, COUNTER,
	  "Entries of the client the writer wrote.", CLI(written), 0 },
	{ "filtered", "logbus_client_filtered_total", NULL, COUNTER,
	  "Entries of the client a filter hook dropped.", CLI(filtered), 0 },
	{ "waiting", "logbus_client_waiting", NULL, GAUGE,
	  "Entries of the client committed and not yet written, filtered or abandoned.",
	  CLI(waiting), 0 },
	{ "dropped_full", "logbus_client_dropped_total", "reason=\"full\"", COUNTER,
	  "Entries of the client dropped, by reason.", CLI(dropped_full), 0 },
	{ "dropped_too_large", "logbus_client_dropped_total", "reason=\"too_large\"", COUNTER,
	  NULL, CLI(dropped_too_large), 0 },
	{ "dropped_abandoned", "logbus_client_dropped_total", "reason=\"abandoned\"", COUNTER,
	  NULL, CLI(dropped_abandoned), 0 },
	{ "fill_bytes", "logbus_client_fill_bytes", NULL, GAUGE,
	  "Bytes waiting in the client's lane.", CLI(fill_bytes), 0 },
	{ "last_publish_ns", "logbus_client_last_publish_time_seconds", NULL, GAUGE,
	  "Time stamp of the client's last written entry.", CLI(last_publish_ns), 1e-9 },
};

static const struct field sink_fields[] = {
	{ "written", "logbus_sink_written_total", NULL, COUNTER, "Entries the sink took.",
	  SINK(written), 0 },
	{ "bytes", "logbus_sink_bytes_total", NULL, COUNTER, "Bytes the sink wrote.",
	  SINK(bytes), 0 },
	{ "errors", "logbus_sink_errors_total", NULL, COUNTER, "Failed writes.", SINK(errors),
	  0 },
	{ "dropped", "logbus_sink_dropped_total", NULL, COUNTER,
	  "Entries the sink lost while failing.", SINK(dropped), 0 },
	{ "batches", "logbus_sink_writes_total", NULL, COUNTER, "Write calls.", SINK(batches),
	  0 },
	{ "latency_ns_sum", "logbus_sink_write_seconds_total", NULL, COUNTER,
	  "Time spent in write calls.", SINK(latency_ns_sum), 1e-9 },
	{ "latency_ns_max", "logbus_sink_write_max_seconds", NULL, GAUGE,
	  "Longest write call.", SINK(latency_ns_max), 1e-9 },
};

static const struct field hook_fields[] = {
	{ "matched", "logbus_hook_matched_total", NULL, COUNTER,
	  "Entries that matched the hook.", HOOK(matched), 0 },
	{ "calls", "logbus_hook_calls_total", NULL, COUNTER, "Calls made.", HOOK(calls), 0 },
	{ "ok", "logbus_hook_ok_total", NULL, COUNTER, "Calls that succeeded.", HOOK(ok), 0 },
	{ "dropped", "logbus_hook_dropped_total", NULL, COUNTER,
	  "Entries a filter hook dropped.", HOOK(dropped), 0 },
	{ "rewritten", "logbus_hook_rewritten_total", NULL, COUNTER,
	  "Entries a filter hook rewrote.", HOOK(rewritten), 0 },
	{ "errors", "logbus_hook_errors_total", NULL, COUNTER, "Failed calls.", HOOK(errors),
	  0 },
	{ "timeouts", "logbus_hook_timeouts_total", NULL, COUNTER, "Calls that timed out.",
	  HOOK(timeouts), 0 },
	{ "queue_drops", "logbus_hook_queue_drops_total", NULL, COUNTER,
	  "Entries an action hook lost to a full queue.", HOOK(queue_drops), 0 },
	{ "restarts", "logbus_hook_restarts_total", NULL, COUNTER,
	  "Restarts of a hook command.", HOOK(restarts), 0 },
	{ "time_ns_sum", "logbus_hook_seconds_total", NULL, COUNTER, "Time spent in calls.",
	  HOOK(time_ns_sum), 1e-9 },
	{ "time_ns_max", "logbus_hook_max_seconds", NULL, GAUGE, "Longest call.",
	  HOOK(time_ns_max), 1e-9 },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t value_of(const void *rec, const struct field *f)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)rec + f->off, sizeof(v));
	return v;
}

void report_quantiles_get(const struct lb_stats_hist *h, struct report_quantiles *q)
{
	*q = (struct report_quantiles){
		.count = h->count,
		.mean = h->count ? h->sum / h->count : 0,
		.max = h->max,
		.p50 = lb_stats_hist_quantile(h, 0.50),
		.p90 = lb_stats_hist_quantile(h, 0.90),
		.p99 = lb_stats_hist_quantile(h, 0.99),
		.p999 = lb_stats_hist_quantile(h, 0.999),
	};
}

static bool client_live(const struct lb_stats_client *c)
{
	return c->state != LB_STATS_CLIENT_FREE;
}

static const char *client_state_name(const struct lb_stats_client *c)
{
	return c->state == LB_STATS_CLIENT_RELEASED ? "released" : "owned";
}

/* ---- JSON ---- */

/* JSON integers are signed 64-bit: a counter beyond that is damage. */
static json_t *jint(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *jtime(uint64_t ns)
{
	char buf[40];
	return ns ? json_string(mon_fmt_time(buf, ns)) : json_null();
}

static void json_fields(json_t *o, const void *rec, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, f[i].key, jint(value_of(rec, &f[i])));
}

static json_t *json_hist(const struct lb_stats_hist *h)
{
	struct report_quantiles q;

	report_quantiles_get(h, &q);
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "count", jint(q.count), "mean",
			 jint(q.mean), "max", jint(q.max), "p50", jint(q.p50), "p90",
			 jint(q.p90), "p99", jint(q.p99), "p99_9", jint(q.p999));
}

static json_t *json_writer(const struct mon_sample *m)
{
	uint64_t age = m->taken_ns > m->s.heartbeat_ns ? m->taken_ns - m->s.heartbeat_ns : 0;

	return json_pack("{s:i, s:s, s:o, s:o, s:o, s:b}", "pid", (int)m->s.writer_pid, "state",
			 mon_state_name(m->state), "start_time", jtime(m->s.start_ns),
			 "uptime_seconds", jint(mon_uptime_s(m)), "heartbeat_age_ms",
			 jint(age / 1000000u), "consistent", m->s.consistent);
}

static json_t *json_clients(const struct mon_sample *m)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < m->s.nclients; i++) {
		const struct lb_stats_client *c = &m->s.clients[i];
		if (!client_live(c))
			continue;
		json_t *o = json_pack("{s:o, s:o, s:o, s:s, s:s, s:o}", "lane", jint(c->lane),
				      "pid", jint(c->pid), "tid", jint(c->tid), "program",
				      c->comm, "state", client_state_name(c), "last_publish",
				      jtime(c->last_publish_ns));
		/* All but the last field, last_publish_ns: a time, given above. */
		json_fields(o, c, client_fields, COUNT(client_fields) - 1);
		json_array_append_new(a, o);
	}
	return a;
}

/* sink_error_text - the text of a sink's last error, a negative errno read
 * from the stats segment: any other value (the segment is untrusted, and
 * -INT64_MIN overflows) reads as "invalid error code". */
static const char *sink_error_text(int64_t last_error)
{
	if (last_error >= 0 || last_error < -INT_MAX)
		return "invalid error code";
	return strerror((int)-last_error);
}

static json_t *json_sinks(const struct mon_sample *m)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < m->s.nsinks; i++) {
		const struct lb_stats_sink *s = &m->s.sinks[i];
		json_t *o = json_pack("{s:s, s:o}", "name", s->name, "last_error",
				      s->last_error ? json_string(sink_error_text(s->last_error))
						    : json_null());
		json_fields(o, s, sink_fields, COUNT(sink_fields));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *json_hooks(const struct mon_sample *m)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < m->s.nhooks; i++) {
		const struct lb_stats_hook *h = &m->s.hooks[i];
		json_t *o = json_pack("{s:s, s:s}", "name", h->name, "type", h->type);
		json_fields(o, h, hook_fields, COUNT(hook_fields));
		json_array_append_new(a, o);
	}
	return a;
}

json_t *report_json(const char *bus, const struct mon_sample *m)
{
	json_t *totals = json_object();
	char now[40];

	json_fields(totals, &m->s.bus, bus_fields, COUNT(bus_fields));
	return json_pack("{s:i, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "schema",
			 REPORT_SCHEMA, "bus", bus, "time", mon_fmt_time(now, m->taken_real_ns),
			 "writer", json_writer(m), "totals", totals, "latency_ns",
			 json_hist(&m->s.latency), "batch_size", json_hist(&m->s.batch),
			 "clients", json_clients(m), "sinks", json_sinks(m), "hooks",
			 json_hooks(m));
}

/* ---- text ---- */

static void text_quantiles(FILE *f, const char *what, const struct lb_stats_hist *h, bool ns)
{
	struct report_quantiles q;
	char b[5][16];

	report_quantiles_get(h, &q);
	if (ns)
		fprintf(f, "%-18s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%llu)\n", what,
			mon_fmt_ns(b[0], q.p50), mon_fmt_ns(b[1], q.p90), mon_fmt_ns(b[2], q.p99),
			mon_fmt_ns(b[3], q.p999), mon_fmt_ns(b[4], q.max),
			(unsigned long long)q.count);
	else
		fprintf(f, "%-18s p50 %llu  p90 %llu  p99 %llu  p99.9 %llu  max %llu  (%llu)\n",
			what, (unsigned long long)q.p50, (unsigned long long)q.p90,
			(unsigned long long)q.p99, (unsigned long long)q.p999,
			(unsigned long long)q.max, (unsigned long long)q.count);
}

static void text_clients(FILE *f, const struct mon_sample *m)
{
	char last[40];

	fprintf(f, "\nclients\n  %4s %8s %-15s %12s %12s %10s %10s %10s %10s  %s\n", "lane",
		"pid", "program", "published", "written", "full", "too_large", "abandoned",
		"fill", "last publish");
	for (uint32_t i = 0; i < m->s.nclients; i++) {
		const struct lb_stats_client *c = &m->s.clients[i];
		if (!client_live(c))
			continue;
		fprintf(f, "  %4llu %8llu %-15s %12llu %12llu %10llu %10llu %10llu %10llu  %s\n",
			(unsigned long long)c->lane, (unsigned long long)c->pid, c->comm,
			(unsigned long long)c->published, (unsigned long long)c->written,
			(unsigned long long)c->dropped_full,
			(unsigned long long)c->dropped_too_large,
			(unsigned long long)c->dropped_abandoned,
			(unsigned long long)c->fill_bytes, mon_fmt_time(last, c->last_publish_ns));
	}
}

static void text_sinks(FILE *f, const struct mon_sample *m)
{
	char mean[16], max[16];

	fprintf(f, "\nsinks\n  %-16s %12s %14s %8s %10s %10s %10s  %s\n", "name", "written",
		"bytes", "errors", "dropped", "mean", "max", "last error");
	for (uint32_t i = 0; i < m->s.nsinks; i++) {
		const struct lb_stats_sink *s = &m->s.sinks[i];
		fprintf(f, "  %-16s %12llu %14llu %8llu %10llu %10s %10s  %s\n", s->name,
			(unsigned long long)s->written, (unsigned long long)s->bytes,
			(unsigned long long)s->errors, (unsigned long long)s->dropped,
			mon_fmt_ns(mean, s->batches ? s->latency_ns_sum / s->batches : 0),
			mon_fmt_ns(max, s->latency_ns_max),
			s->last_error ? sink_error_text(s->last_error) : "-");
	}
}

static void text_hooks(FILE *f, const struct mon_sample *m)
{
	char mean[16], max[16];

	fprintf(f, "\nhooks\n");
	if (!m->s.nhooks)
		fprintf(f, "  (none)\n");
	for (uint32_t i = 0; i < m->s.nhooks; i++) {
		const struct lb_stats_hook *h = &m->s.hooks[i];
		fprintf(f, "  %-24s %-6s matched %llu  calls %llu  errors %llu  timeouts %llu  "
			"queue drops %llu  mean %s  max %s\n", h->name, h->type,
			(unsigned long long)h->matched, (unsigned long long)h->calls,
			(unsigned long long)h->errors, (unsigned long long)h->timeouts,
			(unsigned long long)h->queue_drops,
			mon_fmt_ns(mean, h->calls ? h->time_ns_sum / h->calls : 0),
			mon_fmt_ns(max, h->time_ns_max));
	}
}

void report_text(FILE *f, const char *bus, const struct mon_sample *m)
{
	char start[40], up[24];

	fprintf(f, "%-18s %s\n", "bus", bus);
	fprintf(f, "%-18s %d, %s%s, started %s, %s %s\n", "writer", (int)m->s.writer_pid,
		mon_state_name(m->state), m->s.consistent ? "" : " (stopped mid-update)",
		mon_fmt_time(start, m->s.start_ns), m->state == MON_DEAD ? "ran" : "up",
		mon_fmt_uptime(up, mon_uptime_s(m)));
	for (size_t i = 0; i < COUNT(bus_fields); i++)
		fprintf(f, "%-18s %llu\n", bus_fields[i].key,
			(unsigned long long)value_of(&m->s.bus, &bus_fields[i]));
	text_quantiles(f, "latency", &m->s.latency, true);
	text_quantiles(f, "batch size", &m->s.batch, false);
	text_clients(f, m);
	text_sinks(f, m);
	text_hooks(f, m);
}

/* ---- Prometheus ---- */

static void prom_head(FILE *f, const char *metric, const char *kind, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, kind);
}

/* A sample: metric{bus="..",labels,extra} value, where value is raw, or
 * raw * scale when scale is not 0. labels may be "". Bus names need no
 * escaping: [A-Za-z0-9_.-] only. */
static void prom_sample(FILE *f, const char *metric, const char *bus, const char *labels,
			const char *extra, uint64_t raw, double scale)
{
	fprintf(f, "%s{bus=\"%s\"%s%s%s}", metric, bus, labels, extra ? "," : "",
		extra ? extra : "");
	if (scale)
		fprintf(f, " %.10g\n", (double)raw * scale);
	else
		fprintf(f, " %llu\n", (unsigned long long)raw);
}

/* Each field of the table, as one family over every record of recs. */
static void prom_table(FILE *f, const char *bus, const struct field *t, size_t n,
		       const void *recs, size_t stride, size_t nrecs,
		       void (*labels)(const void *rec, char *out, size_t len),
		       bool (*skip)(const void *rec))
{
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || strcmp(t[i].metric, t[i - 1].metric))
			prom_head(f, t[i].metric, t[i].kind == COUNTER ? "counter" : "gauge",
				  t[i].help);
		for (size_t r = 0; r < nrecs; r++) {
			const void *rec = (const uint8_t *)recs + r * stride;
			char l[256] = "";
			if (skip && skip(rec))
				continue;
			if (labels)
				labels(rec, l, sizeof(l));
			prom_sample(f, t[i].metric, bus, l, t[i].label, value_of(rec, &t[i]),
				    t[i].scale);
		}
	}
}

/* Escape s into a label value inside out. */
static void label_escape(char *out, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o] = '\0';
}

static void client_labels(const void *rec, char *out, size_t len)
{
	const struct lb_stats_client *c = rec;
	char prog[40];

	label_escape(prog, sizeof(prog), c->comm);
	snprintf(out, len, ",lane=\"%llu\",pid=\"%llu\",program=\"%s\"",
		 (unsigned long long)c->lane, (unsigned long long)c->pid, prog);
}

static bool client_skip(const void *rec)
{
	return !client_live(rec);
}

static void sink_labels(const void *rec, char *out, size_t len)
{
	char name[80];

	label_escape(name, sizeof(name), ((const struct lb_stats_sink *)rec)->name);
	snprintf(out, len, ",sink=\"%s\"", name);
}

static void hook_labels(const void *rec, char *out, size_t len)
{
	const struct lb_stats_hook *h = rec;
	char name[160], type[24];

	label_escape(name, sizeof(name), h->name);
	label_escape(type, sizeof(type), h->type);
	snprintf(out, len, ",hook=\"%s\",type=\"%s\"", name, type);
}

static void prom_summary(FILE *f, const char *bus, const char *metric, const char *help,
			 const struct lb_stats_hist *h, double scale)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	char name[96];

	prom_head(f, metric, "summary", help);
	for (size_t i = 0; i < COUNT(qs); i++) {
		char q[32];
		snprintf(q, sizeof(q), "quantile=\"%g\"", qs[i]);
		prom_sample(f, metric, bus, "", q, lb_stats_hist_quantile(h, qs[i]), scale);
	}
	snprintf(name, sizeof(name), "%s_sum", metric);
	prom_sample(f, name, bus, "", NULL, h->sum, scale);
	snprintf(name, sizeof(name), "%s_count", metric);
	prom_sample(f, name, bus, "", NULL, h->count, 0);
}

/* logbus_writer_up and logbus_writer_state for a writer in state st. */
static void prom_writer_state(FILE *f, const char *bus, enum mon_state st)
{
	static const enum mon_state states[] = { MON_ALIVE, MON_STALLED, MON_DEAD };

	prom_head(f, "logbus_writer_up", "gauge", "1 when the writer is alive.");
	prom_sample(f, "logbus_writer_up", bus, "", NULL, st == MON_ALIVE, 0);
	prom_head(f, "logbus_writer_state", "gauge",
		  "The writer's state from its heartbeat: 1 for the current one.");
	for (size_t i = 0; i < COUNT(states); i++) {
		char l[32];
		snprintf(l, sizeof(l), "state=\"%s\"", mon_state_name(states[i]));
		prom_sample(f, "logbus_writer_state", bus, "", l, st == states[i], 0);
	}
}

static void prom_writer(FILE *f, const char *bus, const struct mon_sample *m)
{
	prom_writer_state(f, bus, m->state);
	prom_head(f, "logbus_writer_start_time_seconds", "gauge",
		  "When the writer started, since the epoch.");
	prom_sample(f, "logbus_writer_start_time_seconds", bus, "", NULL, m->s.start_ns, 1e-9);
}

void report_prometheus_down(FILE *f, const char *bus)
{
	prom_writer_state(f, bus, MON_DEAD);
}

void report_prometheus(FILE *f, const char *bus, const struct mon_sample *m)
{
	prom_writer(f, bus, m);
	prom_table(f, bus, bus_fields, COUNT(bus_fields), &m->s.bus, 0, 1, NULL, NULL);
	prom_summary(f, bus, "logbus_publish_latency_seconds",
		     "Time from publish to written, per entry.", &m->s.latency, 1e-9);
	prom_summary(f, bus, "logbus_batch_size_entries", "Entries per batch.", &m->s.batch, 1);
	prom_table(f, bus, client_fields, COUNT(client_fields), m->s.clients,
		   sizeof(*m->s.clients), m->s.nclients, client_labels, client_skip);
	prom_table(f, bus, sink_fields, COUNT(sink_fields), m->s.sinks, sizeof(*m->s.sinks),
		   m->s.nsinks, sink_labels, NULL);
	prom_table(f, bus, hook_fields, COUNT(hook_fields), m->s.hooks, sizeof(*m->s.hooks),
		   m->s.nhooks, hook_labels, NULL);
}
