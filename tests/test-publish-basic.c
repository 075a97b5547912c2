/* SPDX-License-Identifier: MIT */
/* Description: entries published through liblogbus reach the writer's
 * file as JSON lines with every key of the format, the publishing
 * process's identity as the kernel gave it among them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"

/* One entry with fields: every key present, with the values given. */
static void test_entry_keys(void **state)
{
	struct harness h;
	struct logbus_field fields[] = {
		{ .key = "user", .value = "bob", .len = 3 },
		{ .key = "bin", .value = "\xff\xfe", .len = 2 },
	};
	struct harness_self self;
	logbus_t *lb;
	json_t *all, *e;

	(void)state;
	harness_self(&self);
	harness_init(&h, "basic");
	harness_start_writer(&h, NULL);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publishv(lb, LOGBUS_WARNING, "app", "hello", 5, fields, 2), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	harness_stop_writer(&h);

	all = harness_entries(&h);
	assert_int_equal(json_array_size(all), 1);
	e = json_array_get(all, 0);
	assert_string_equal(json_string_value(json_object_get(e, "level")), "warning");
	assert_string_equal(json_string_value(json_object_get(e, "tag")), "app");
	assert_string_equal(json_string_value(json_object_get(e, "msg")), "hello");
	assert_int_equal(json_integer_value(json_object_get(e, "pid")), getpid());
	assert_int_equal(json_integer_value(json_object_get(e, "tid")), gettid());
	assert_true(json_is_integer(json_object_get(e, "uid")));
	assert_true(json_is_integer(json_object_get(e, "gid")));
	assert_int_equal(json_integer_value(json_object_get(e, "uid")), self.uid);
	assert_int_equal(json_integer_value(json_object_get(e, "gid")), self.gid);
	assert_string_equal(json_string_value(json_object_get(e, "comm")), self.comm);
	assert_string_equal(json_string_value(json_object_get(e, "exe")), self.exe);
	assert_true(json_is_integer(json_object_get(e, "seq")));
	assert_true(json_is_integer(json_object_get(e, "lane")));
	assert_int_equal(json_integer_value(json_object_get(e, "lane_seq")), 0);
	assert_int_equal(strlen(json_string_value(json_object_get(e, "ts"))), 30);
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "fields"), "user")),
			    "bob");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(e, "fields_b64"), "bin")), "//4=");
	json_decref(all);
	logbus_close(lb);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
