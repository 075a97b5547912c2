/* SPDX-License-Identifier: MIT */
/* Description: entries reach a real systemd-journald through the journald
 * sink with their message, priority, identifier, our LOGBUS_* fields, the
 * publishing process's identity in OBJECT_* and LOGBUS_* fields (from the
 * writer, or from journald for a writer of uid 0) and the user's fields;
 * a 1 MiB message and one with newlines arrive whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"
#include "services.h"

#define BIG (1u << 20)

struct jtest {
	struct harness h;
	logbus_t *lb;
	char tag[64];
};

/* Start journald and a writer with the journald sink; the bus's largest
 * record is half a lane, so 4 MiB lanes take the 1 MiB message. */
static void start(struct jtest *t, const char *name)
{
	const char *args[] = { "--format", "journald", "--lanes", "4", "--lane-size", "4M", NULL };

	services_journald();
	harness_init(&t->h, name);
	harness_start_writer(&t->h, args);
	t->lb = logbus_open(t->h.bus);
	assert_non_null(t->lb);
	snprintf(t->tag, sizeof(t->tag), "lbtest-%s-%d", name, (int)getpid());
}

static void stop(struct jtest *t)
{
	assert_int_equal(logbus_flush(t->lb, 10000), 0);
	harness_stop_writer(&t->h);
	logbus_close(t->lb);
	harness_fini(&t->h);
}

/* Every entry journald holds under our tag, oldest first. */
static json_t *journal_entries(const char *tag)
{
	char cmd[256];
	FILE *p;
	json_t *all = json_array();
	json_error_t err;
	json_t *o;

	assert_true(services_run("journalctl --sync", NULL, 0));
	/* --all: without it journalctl prints fields over 4096 bytes as null. */
	snprintf(cmd, sizeof(cmd), "journalctl -o json --all SYSLOG_IDENTIFIER=%s", tag);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((o = json_loadf(p, JSON_DISABLE_EOF_CHECK, &err)))
		json_array_append_new(all, o);
	pclose(p);
	return all;
}

/* A journal field as bytes: journalctl prints text as a string and
 * anything else as an array of byte values. Returns its length. */
static size_t field_bytes(json_t *e, const char *name, char *out, size_t cap)
{
	json_t *v = json_object_get(e, name);
	size_t n = 0, i;
	json_t *b;

	if (!v)
		fail_msg("field %s missing", name);
	if (json_is_string(v)) {
		n = json_string_length(v);
		assert_true(n <= cap);
		memcpy(out, json_string_value(v), n);
		return n;
	}
	assert_true(json_is_array(v));
	json_array_foreach(v, i, b) {
		assert_true(n < cap);
		out[n++] = (char)json_integer_value(b);
	}
	return n;
}

/* This process's identity, once each (one value: a string), under
 * prefix UID, GID, COMM and EXE. */
static void expect_prefixed(json_t *e, const char *prefix, const struct harness_self *self)
{
	char name[32], num[16];

	snprintf(name, sizeof(name), "%sUID", prefix);
	snprintf(num, sizeof(num), "%u", self->uid);
	assert_string_equal(services_str(e, name), num);
	snprintf(name, sizeof(name), "%sGID", prefix);
	snprintf(num, sizeof(num), "%u", self->gid);
	assert_string_equal(services_str(e, name), num);
	snprintf(name, sizeof(name), "%sCOMM", prefix);
	assert_string_equal(services_str(e, name), self->comm);
	snprintf(name, sizeof(name), "%sEXE", prefix);
	assert_string_equal(services_str(e, name), self->exe);
}

/* The publisher's identity, as the writer says it (LOGBUS_) and as
 * journald's clients say it (OBJECT_: from journald itself when the
 * writer is root, while this process lives). */
static void expect_identity(json_t *e)
{
	struct harness_self self;

	harness_self(&self);
	expect_prefixed(e, "LOGBUS_", &self);
	expect_prefixed(e, "OBJECT_", &self);
}

/* Message, priority, identifier, our fields and user fields, renamed
 * where journald would refuse the name. */
static void test_fields(void **state)
{
	static const char long_key[] =
		"1a345678901234567890123456789012345678901234567890123456789012xy";
	struct logbus_field f[] = {
		{ "user", "bob", 3 }, { "_trusted", "t", 1 }, { "message", "m", 1 },
		{ "9lives", "cat", 3 }, { long_key, "long", 4 }, { "bin", "\xff\x00\x01", 3 },
		{ "object_pid", "1", 1 },
	};
	struct jtest t;
	json_t *all, *e;
	char buf[16], num[32];

	(void)state;
	start(&t, "fields");
	assert_int_equal(logbus_publishv(t.lb, LOGBUS_WARNING, t.tag, "hello journald", 14,
					 f, 7), 0);
	stop(&t);
	all = journal_entries(t.tag);
	assert_int_equal(json_array_size(all), 1);
	e = json_array_get(all, 0);
	assert_string_equal(services_str(e, "MESSAGE"), "hello journald");
	assert_string_equal(services_str(e, "PRIORITY"), "4");
	snprintf(num, sizeof(num), "%d", (int)getpid());
	assert_string_equal(services_str(e, "LOGBUS_PID"), num);
	assert_string_equal(services_str(e, "SYSLOG_PID"), num);
	assert_string_equal(services_str(e, "OBJECT_PID"), num);
	assert_string_equal(services_str(e, "F_OBJECT_PID"), "1");
	/* The writer's code location says nothing about the entry. */
	assert_null(json_object_get(e, "CODE_FILE"));
	assert_null(json_object_get(e, "CODE_LINE"));
	assert_null(json_object_get(e, "CODE_FUNC"));
	expect_identity(e);
	snprintf(num, sizeof(num), "%d", (int)gettid());
	assert_string_equal(services_str(e, "LOGBUS_TID"), num);
	assert_int_equal(strlen(services_str(e, "LOGBUS_TS")), 30);
	assert_string_equal(services_str(e, "LOGBUS_LANE_SEQ"), "0");
	assert_non_null(json_object_get(e, "LOGBUS_SEQ"));
	assert_string_not_equal(services_str(e, "_PID"), services_str(e, "LOGBUS_PID"));
	assert_string_equal(services_str(e, "USER"), "bob");
	assert_string_equal(services_str(e, "F__TRUSTED"), "t");
	assert_string_equal(services_str(e, "F_MESSAGE"), "m");
	assert_string_equal(services_str(e, "F_9LIVES"), "cat");
	/* A digit first: prefixed, and cut back to 64 characters. */
	assert_string_equal(
		services_str(e, "F_1A345678901234567890123456789012345678901234567890123456789012"),
		"long");
	assert_int_equal(field_bytes(e, "BIN", buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "\xff\x00\x01", 3);
	json_decref(all);
}

/* A message with newlines arrives as it was sent. */
static void test_newlines(void **state)
{
	static const char msg[] = "line one\nline two\n\tindented\n";
	struct jtest t;
	json_t *all;
	char buf[64];

	(void)state;
	start(&t, "newlines");
	assert_int_equal(logbus_publish(t.lb, LOGBUS_INFO, t.tag, msg, sizeof(msg) - 1), 0);
	stop(&t);
	all = journal_entries(t.tag);
	assert_int_equal(json_array_size(all), 1);
	assert_int_equal(field_bytes(json_array_get(all, 0), "MESSAGE", buf, sizeof(buf)),
			 sizeof(msg) - 1);
	assert_memory_equal(buf, msg, sizeof(msg) - 1);
	json_decref(all);
}

/* A 1 MiB message is stored whole: journald's native protocol takes
 * entries up to 768 MiB (the sink hands big ones over in a memfd). */
static void test_big(void **state)
{
	char *msg = malloc(BIG), *back = malloc(BIG + 1);
	struct jtest t;
	json_t *all;

	(void)state;
	assert_non_null(msg);
	assert_non_null(back);
	for (size_t i = 0; i < BIG; i++)
		msg[i] = (char)('a' + i % 26);
	start(&t, "big");
	assert_int_equal(logbus_publish(t.lb, LOGBUS_INFO, t.tag, msg, BIG), 0);
	stop(&t);
	all = journal_entries(t.tag);
	assert_int_equal(json_array_size(all), 1);
	assert_int_equal(field_bytes(json_array_get(all, 0), "MESSAGE", back, BIG + 1), BIG);
	assert_memory_equal(back, msg, BIG);
	json_decref(all);
	free(msg);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_newlines),
		cmocka_unit_test(test_big),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
