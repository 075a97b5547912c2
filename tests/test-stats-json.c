/* SPDX-License-Identifier: MIT */
/* Description: `logbus-stat --json` follows the schema of README.md: every
 * key there, with its JSON type, at the top level, in writer, totals, the
 * histograms, clients[], sinks[] and hooks[]. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "stattest.h"

struct key {
	const char *name;
	json_type type;
	bool nullable;
};

static const struct key top_keys[] = {
	{ "schema", JSON_INTEGER }, { "bus", JSON_STRING }, { "time", JSON_STRING },
	{ "writer", JSON_OBJECT }, { "totals", JSON_OBJECT }, { "latency_ns", JSON_OBJECT },
	{ "batch_size", JSON_OBJECT }, { "clients", JSON_ARRAY }, { "sinks", JSON_ARRAY },
	{ "hooks", JSON_ARRAY }, { NULL },
};

static const struct key writer_keys[] = {
	{ "pid", JSON_INTEGER }, { "state", JSON_STRING }, { "start_time", JSON_STRING, true },
	{ "uptime_seconds", JSON_INTEGER }, { "heartbeat_age_ms", JSON_INTEGER },
	{ "consistent", JSON_TRUE }, { NULL },
};

static const struct key totals_keys[] = {
	{ "lane_count", JSON_INTEGER }, { "lane_size", JSON_INTEGER },
	{ "lanes_in_use", JSON_INTEGER }, { "fill_bytes", JSON_INTEGER },
	{ "published", JSON_INTEGER }, { "queued", JSON_INTEGER }, { "written", JSON_INTEGER },
	{ "filtered", JSON_INTEGER }, { "waiting", JSON_INTEGER }, { "quarantined", JSON_INTEGER }, { "dropped_full", JSON_INTEGER },
	{ "dropped_too_large", JSON_INTEGER }, { "dropped_no_lane", JSON_INTEGER }, { "dropped_abandoned", JSON_INTEGER },
	{ "batches", JSON_INTEGER }, { "batches_failed", JSON_INTEGER },
	{ "corrupt", JSON_INTEGER }, { "reclaimed", JSON_INTEGER },
	{ "clients_retired", JSON_INTEGER }, { "registrations", JSON_INTEGER },
	{ "refused_denied", JSON_INTEGER }, { "refused_quota", JSON_INTEGER },
	{ "refused_full", JSON_INTEGER }, { NULL },
};

static const struct key hist_keys[] = {
	{ "count", JSON_INTEGER }, { "mean", JSON_INTEGER }, { "max", JSON_INTEGER },
	{ "p50", JSON_INTEGER }, { "p90", JSON_INTEGER }, { "p99", JSON_INTEGER },
	{ "p99_9", JSON_INTEGER }, { NULL },
};

static const struct key client_keys[] = {
	{ "lane", JSON_INTEGER }, { "pid", JSON_INTEGER }, { "tid", JSON_INTEGER },
	{ "program", JSON_STRING }, { "state", JSON_STRING }, { "last_publish", JSON_STRING, true },
	{ "published", JSON_INTEGER }, { "queued", JSON_INTEGER }, { "written", JSON_INTEGER },
	{ "filtered", JSON_INTEGER }, { "waiting", JSON_INTEGER }, { "dropped_full", JSON_INTEGER },
	{ "dropped_too_large", JSON_INTEGER }, { "dropped_abandoned", JSON_INTEGER },
	{ "fill_bytes", JSON_INTEGER }, { NULL },
};

static const struct key sink_keys[] = {
	{ "name", JSON_STRING }, { "last_error", JSON_STRING, true },
	{ "written", JSON_INTEGER }, { "bytes", JSON_INTEGER }, { "errors", JSON_INTEGER },
	{ "dropped", JSON_INTEGER }, { "batches", JSON_INTEGER },
	{ "latency_ns_sum", JSON_INTEGER }, { "latency_ns_max", JSON_INTEGER }, { NULL },
};

/* Every key of keys in o with its type, and no other key. */
static void check_keys(json_t *o, const struct key *keys, const char *where)
{
	size_t n = 0;

	if (!json_is_object(o))
		fail_msg("%s is not an object", where);
	for (; keys[n].name; n++) {
		json_t *v = json_object_get(o, keys[n].name);
		json_type t = keys[n].type;
		if (!v)
			fail_msg("%s.%s is missing", where, keys[n].name);
		if (keys[n].nullable && json_is_null(v))
			continue;
		if (t == JSON_TRUE ? !json_is_boolean(v) : json_typeof(v) != t)
			fail_msg("%s.%s has JSON type %d, expected %d", where, keys[n].name,
				 json_typeof(v), t);
	}
	if (json_object_size(o) != n)
		fail_msg("%s has %zu keys, the schema %zu", where, json_object_size(o), n);
}

/* A bus with a live client: every object of the report has the schema's
 * keys, types and values that make sense. */
static void test_schema(void **state)
{
	static const char *const args[] = { "--lanes", "4", "--lane-size", "64K", NULL };
	struct harness h;
	pid_t client;
	json_t *j;

	(void)state;
	harness_init(&h, "stats-json");
	harness_start_writer(&h, args);
	client = stattest_spawn_publisher(h.bus, "json-client", 10, 20);
	j = stattest_wait_client(h.bus, client, 1);
	check_keys(j, top_keys, "report");
	check_keys(json_object_get(j, "writer"), writer_keys, "writer");
	check_keys(json_object_get(j, "totals"), totals_keys, "totals");
	check_keys(json_object_get(j, "latency_ns"), hist_keys, "latency_ns");
	check_keys(json_object_get(j, "batch_size"), hist_keys, "batch_size");
	check_keys(stattest_client(j, client), client_keys, "clients[]");
	check_keys(json_array_get(json_object_get(j, "sinks"), 0), sink_keys, "sinks[0]");
	assert_int_equal(json_array_size(json_object_get(j, "hooks")), 0);

	assert_int_equal(stattest_get(j, "schema"), 1);
	assert_string_equal(json_string_value(json_object_get(j, "bus")), h.bus);
	assert_int_equal(stattest_get(j, "writer.pid"), h.writer);
	assert_string_equal(json_string_value(json_object_get(stattest_client(j, client),
							      "program")), "json-client");
	assert_string_equal(json_string_value(json_object_get(stattest_client(j, client),
							      "state")), "owned");
	json_decref(j);
	stattest_kill(client);
	harness_stop_writer(&h);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
