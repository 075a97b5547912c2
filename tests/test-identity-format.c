/* SPDX-License-Identifier: MIT */
/* Description: every output format carries the identity the drain gives
 * an entry (struct batch_entry.who): the JSON line's uid, gid, comm and
 * exe, RFC 5424's PROCID and logbus@32473 params, journald's OBJECT_* and
 * LOGBUS_* fields; hostile names (quotes, brackets, backslashes, control
 * bytes, invalid UTF-8) stay inside their value, and an entry without an
 * identity prints what it says itself, as before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "entry_json.h"
#include "journal_fields.h"
#include "rfc5424.h"
#include "sink.h"

#define PID 4242

/* A batch entry as the drain makes it: decoded from a record, with a
 * field, its pid the identity's. */
struct made {
	_Alignas(8) uint8_t rec[512];
	struct batch_entry be;
	struct lb_client_identity who;
};

static void make(struct made *m, const char *comm, size_t comm_len, const char *exe,
		 size_t exe_len)
{
	static const struct logbus_field f = { "user", "bob", 3 };
	struct lb_record_meta meta = { .seq = 7, .ts = 1, .ts_mode = LB_TS_REALTIME, .level = 3,
				       .pid = PID, .tid = PID + 1 };
	size_t size = lb_record_size(3, 5, &f, 1);
	bool pad;

	assert_true(size <= sizeof(m->rec));
	assert_true(comm_len < LB_COMM_MAX && exe_len < LB_EXE_MAX);
	lb_record_encode(m->rec, size, &meta, "app", 3, "hello", 5, &f, 1);
	m->be = (struct batch_entry){ .ts_ns = 1, .seq = 11, .lane = 2, .who = &m->who };
	assert_true(lb_record_decode(m->rec, size, size, &m->be.e, &pad) > 0 && !pad);
	m->who = (struct lb_client_identity){ .pid = PID, .uid = 1001, .gid = 1002 };
	memcpy(m->who.comm, comm, comm_len);
	memcpy(m->who.exe, exe, exe_len);
}

#define MAKE(m, comm, exe) make((m), (comm), sizeof(comm) - 1, (exe), sizeof(exe) - 1)

/* The JSON line of m->be, parsed; fails on a line that is not JSON. */
static json_t *json_line(const struct made *m)
{
	struct lb_entry_ids ids = batch_entry_ids(&m->be);
	struct lb_buf b = { 0 };
	json_error_t err;
	json_t *o;

	lb_entry_json_put(&b, &m->be.e, m->be.ts_ns, &ids);
	assert_false(b.failed);
	assert_true(b.len > 0 && b.data[b.len - 1] == '\n');
	assert_null(memchr(b.data, '\n', b.len - 1));
	o = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (!o)
		fail_msg("not JSON (%s): %.*s", err.text, (int)b.len, b.data);
	lb_buf_free(&b);
	return o;
}

/* The keys of o, in order, joined by spaces. */
static void keys_of(json_t *o, char *out, size_t cap)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	out[0] = '\0';
	json_object_foreach(o, k, v)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? " " : "", k);
	assert_true(n < cap);
}

/* The keys of a JSON line, with an identity and without one. */
static void test_json_keys(void **state)
{
	struct made m;
	char keys[256];
	json_t *o;

	(void)state;
	MAKE(&m, "app", "/usr/bin/app");
	o = json_line(&m);
	keys_of(o, keys, sizeof(keys));
	assert_string_equal(keys, "ts seq lane lane_seq level tag pid tid uid gid comm exe msg fields");
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), PID);
	assert_int_equal(json_integer_value(json_object_get(o, "uid")), 1001);
	assert_int_equal(json_integer_value(json_object_get(o, "gid")), 1002);
	assert_string_equal(json_string_value(json_object_get(o, "comm")), "app");
	assert_string_equal(json_string_value(json_object_get(o, "exe")), "/usr/bin/app");
	json_decref(o);

	m.be.who = NULL;
	o = json_line(&m);
	keys_of(o, keys, sizeof(keys));
	assert_string_equal(keys, "ts seq lane lane_seq level tag pid tid msg fields");
	json_decref(o);
}

/* Quotes, backslashes and control bytes read back as they were; bytes
 * that are not UTF-8 go in base64 under comm_b64 and exe_b64. */
static void test_json_hostile(void **state)
{
	static const char comm[] = "a\"b\\c\n\x01]", exe[] = "/x/\"}\x1b[0m\t\x7f";
	struct made m;
	json_t *o;

	(void)state;
	MAKE(&m, comm, exe);
	o = json_line(&m);
	assert_string_equal(json_string_value(json_object_get(o, "comm")), comm);
	assert_string_equal(json_string_value(json_object_get(o, "exe")), exe);
	assert_string_equal(json_string_value(json_object_get(o, "msg")), "hello");
	json_decref(o);

	MAKE(&m, "\xff\xfe", "/bin/\xc3\x28");
	o = json_line(&m);
	assert_null(json_object_get(o, "comm"));
	assert_null(json_object_get(o, "exe"));
	assert_string_equal(json_string_value(json_object_get(o, "comm_b64")), "//4=");
	assert_string_equal(json_string_value(json_object_get(o, "exe_b64")), "L2Jpbi/DKA==");
	json_decref(o);
}

/* The RFC 5424 message of m->be, NUL-terminated in b. */
static const char *syslog_line(const struct made *m, struct lb_buf *b)
{
	struct rfc5424_origin o;

	rfc5424_origin_init(&o, "host", 16 << 3);
	b->len = 0;
	rfc5424_put(b, &o, &m->be);
	lb_buf_putc(b, '\0');
	assert_false(b->failed);
	return b->data;
}

/* PROCID is the pid; our SD-ELEMENT has uid, gid, comm, exe, escaped as
 * RFC 5424 says ('"', '\' and ']'), base64 under NAME.b64 when not
 * UTF-8; without an identity none of them. */
static void test_rfc5424(void **state)
{
	struct lb_buf b = { 0 };
	struct made m;

	(void)state;
	MAKE(&m, "app", "/usr/bin/app");
	assert_string_equal(syslog_line(&m, &b),
			    "<131>1 1970-01-01T00:00:00.000000Z host app 4242 - [logbus@32473 "
			    "tid=\"4243\" seq=\"11\" lane=\"2\" lane_seq=\"7\" uid=\"1001\" "
			    "gid=\"1002\" comm=\"app\" exe=\"/usr/bin/app\"][fields@32473 "
			    "user=\"bob\"] hello");

	MAKE(&m, "a\"b]c\\d\n", "/x]\"y");
	if (!strstr(syslog_line(&m, &b), " comm=\"a\\\"b\\]c\\\\d\n\" exe=\"/x\\]\\\"y\"]"))
		fail_msg("comm and exe not escaped: %s", b.data);

	MAKE(&m, "\xff", "/\xfe");
	if (!strstr(syslog_line(&m, &b), " comm.b64=\"/w==\" exe.b64=\"L/4=\"]"))
		fail_msg("comm and exe not in base64: %s", b.data);

	m.be.who = NULL;
	if (strstr(syslog_line(&m, &b), "uid=") || strstr(b.data, "comm"))
		fail_msg("an entry without identity has one: %s", b.data);
	assert_non_null(strstr(b.data, " app 4242 - "));
	lb_buf_free(&b);
}

/* How many fields named name there are, and the value of the last one. */
static int journal_field(const struct journal_fields *f, const char *name, const char **value,
			 size_t *len)
{
	size_t nl = strlen(name);
	int count = 0;

	for (int i = 0; i < f->n; i++) {
		const char *p = f->iov[i].iov_base;
		if (f->iov[i].iov_len > nl && !memcmp(p, name, nl) && p[nl] == '=') {
			*value = p + nl + 1;
			*len = f->iov[i].iov_len - nl - 1;
			count++;
		}
	}
	return count;
}

/* Assert that field name is there once, with value want[0..want_len). */
static void expect_field(const struct journal_fields *f, const char *name, const char *want,
			 size_t want_len)
{
	const char *v = NULL;
	size_t len = 0;
	int n = journal_field(f, name, &v, &len);

	if (n != 1)
		fail_msg("%s is there %d times, want once", name, n);
	if (len != want_len || memcmp(v, want, len))
		fail_msg("%s=%.*s, want %.*s", name, (int)len, v, (int)want_len, want);
}

#define EXPECT_FIELD(f, name, lit) expect_field((f), (name), (lit), sizeof(lit) - 1)

static void expect_absent(const struct journal_fields *f, const char *name)
{
	const char *v;
	size_t len;

	if (journal_field(f, name, &v, &len))
		fail_msg("%s is there; want none", name);
}

/* journald: the LOGBUS_ identity always; OBJECT_UID.. only when journald
 * will not add them itself (a writer of another uid than 0); OBJECT_PID
 * always; names byte for byte, control bytes and all. */
static void test_journald(void **state)
{
	static const char *const object[] = { "OBJECT_UID", "OBJECT_GID", "OBJECT_COMM",
					      "OBJECT_EXE" };
	struct journal_fields f = { 0 };
	struct made m;

	(void)state;
	MAKE(&m, "a\n\"\xff", "/bin/x\x01");
	assert_true(journal_fields_build(&f, &m.be, "pre-", false) > 0);
	EXPECT_FIELD(&f, "SYSLOG_IDENTIFIER", "pre-app");
	EXPECT_FIELD(&f, "SYSLOG_PID", "4242");
	EXPECT_FIELD(&f, "OBJECT_PID", "4242");
	EXPECT_FIELD(&f, "LOGBUS_PID", "4242");
	EXPECT_FIELD(&f, "OBJECT_UID", "1001");
	EXPECT_FIELD(&f, "OBJECT_GID", "1002");
	EXPECT_FIELD(&f, "OBJECT_COMM", "a\n\"\xff");
	EXPECT_FIELD(&f, "OBJECT_EXE", "/bin/x\x01");
	EXPECT_FIELD(&f, "LOGBUS_UID", "1001");
	EXPECT_FIELD(&f, "LOGBUS_GID", "1002");
	EXPECT_FIELD(&f, "LOGBUS_COMM", "a\n\"\xff");
	EXPECT_FIELD(&f, "LOGBUS_EXE", "/bin/x\x01");
	EXPECT_FIELD(&f, "MESSAGE", "hello");
	EXPECT_FIELD(&f, "USER", "bob");

	/* journald adds them for a writer of uid 0: never twice. */
	assert_true(journal_fields_build(&f, &m.be, "", true) > 0);
	EXPECT_FIELD(&f, "OBJECT_PID", "4242");
	for (size_t i = 0; i < sizeof(object) / sizeof(object[0]); i++)
		expect_absent(&f, object[i]);
	EXPECT_FIELD(&f, "LOGBUS_UID", "1001");
	EXPECT_FIELD(&f, "LOGBUS_COMM", "a\n\"\xff");

	/* An exe /proc would not tell is left out, as journald does. */
	MAKE(&m, "app", "");
	assert_true(journal_fields_build(&f, &m.be, "", false) > 0);
	expect_absent(&f, "OBJECT_EXE");
	expect_absent(&f, "LOGBUS_EXE");
	EXPECT_FIELD(&f, "OBJECT_COMM", "app");

	/* No identity: the pid the entry says, nothing more. */
	m.be.who = NULL;
	assert_true(journal_fields_build(&f, &m.be, "", false) > 0);
	EXPECT_FIELD(&f, "OBJECT_PID", "4242");
	expect_absent(&f, "LOGBUS_UID");
	for (size_t i = 0; i < sizeof(object) / sizeof(object[0]); i++)
		expect_absent(&f, object[i]);
	journal_fields_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_keys),
		cmocka_unit_test(test_json_hostile),
		cmocka_unit_test(test_rfc5424),
		cmocka_unit_test(test_journald),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
