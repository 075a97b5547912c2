/* SPDX-License-Identifier: MIT */
/* Description: logbus-query over what a real writer wrote (small rotation
 * size, plain and zstd, two buses in one directory): every filter and
 * output mode gives what the test computes itself from the files; the
 * short form shows the attested comm[pid], hostile names escaped. */
#include <fnmatch.h>
#include <pty.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "logbus.h"
#include "outfiles.h"
#include "querytest.h"

#define ENTRIES 400

static const char *const tags[] = { "web", "web-api", "db", "cron" };
static const char *const users[] = { "bob", "alice", "carol" };

/* Entry i's message: mostly text, some not UTF-8 (msg_b64), some with a
 * control character (shown as binary data). */
static size_t message(int i, char *out, size_t cap)
{
	if (i % 40 == 7)
		return (size_t)snprintf(out, cap, "bin\xff%d", i);
	if (i % 40 == 9)
		return (size_t)snprintf(out, cap, "ctl\x01%d", i);
	return (size_t)snprintf(out, cap, "entry %d of the test", i);
}

static void publish(logbus_t *lb, int i)
{
	char msg[64], num[16];
	struct logbus_field f[2] = { { "user", users[i % 3], strlen(users[i % 3]) },
				     { "n", num, 0 } };
	size_t len = message(i, msg, sizeof(msg));

	f[1].len = (size_t)snprintf(num, sizeof(num), "%d", i);
	assert_int_equal(logbus_publishv(lb, i % 8, tags[i % 4], msg, len, f, 2), 0);
}

/* A child process's entries, for --pid: returns its pid. */
static pid_t publish_from_child(const char *bus)
{
	pid_t pid = harness_fork();

	if (pid == 0) {
		logbus_t *lb = logbus_open(bus);
		for (int i = 0; lb && i < 30; i++)
			logbus_publishf(lb, LOGBUS_NOTICE, "child", "from the child %d", i);
		_exit(lb && logbus_flush(lb, 10000) == 0 ? 0 : 1);
	}
	harness_wait_exit(pid, 0);
	return pid;
}

struct fixture {
	struct harness h;
	json_t *all;      /* the files' entries, as the test reads them */
	pid_t child;
};

static void write_entries(struct fixture *x, const char *name, bool zstd)
{
	const char *config;
	logbus_t *lb;

	harness_init(&x->h, name);
	config = outfiles_config(&x->h, "{\"file\":{\"compress\":\"%s\",\"rotate_size\":\"3K\"}}",
				 zstd ? "zstd" : "none");
	outfiles_start(&x->h, config, NULL);
	lb = logbus_open(x->h.bus);
	assert_non_null(lb);
	for (int i = 0; i < ENTRIES; i++) {
		publish(lb, i);
		if (i % 50 == 49)
			assert_int_equal(logbus_flush(lb, 10000), 0);
	}
	assert_int_equal(logbus_flush(lb, 10000), 0);
	x->child = publish_from_child(x->h.bus);
	logbus_close(lb);
	harness_stop_writer(&x->h);
	assert_true(outfiles_count(x->h.dir, zstd ? ".jsonl.zst" : ".jsonl") >= 3);
	x->all = outfiles_entries(x->h.dir);
	assert_int_equal(json_array_size(x->all), ENTRIES + 30);
}

static void fixture_free(struct fixture *x)
{
	json_decref(x->all);
	harness_fini(&x->h);
}

/* ---- what the test expects, by its own reading ---- */

typedef bool (*want_fn)(json_t *e, const void *ctx);

static json_t *select_entries(json_t *all, want_fn want, const void *ctx)
{
	json_t *v = json_array(), *e;
	size_t i;

	json_array_foreach(all, i, e)
		if (want(e, ctx))
			json_array_append(v, e);
	return v;
}

static const char *str(json_t *e, const char *key)
{
	const char *s = json_string_value(json_object_get(e, key));
	return s ? s : "";
}

static const char *field(json_t *e, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(e, "fields"), key));
	return s ? s : "";
}

static int level_of(json_t *e)
{
	return logbus_level_parse(str(e, "level"));
}

static bool want_glob(json_t *e, const void *glob)
{
	return fnmatch(glob, str(e, "tag"), 0) == 0;
}

static bool want_db_or_cron(json_t *e, const void *ctx)
{
	(void)ctx;
	return !strcmp(str(e, "tag"), "db") || !strcmp(str(e, "tag"), "cron");
}

struct range { int lo, hi; };

static bool want_levels(json_t *e, const void *ctx)
{
	const struct range *r = ctx;
	return level_of(e) >= r->lo && level_of(e) <= r->hi;
}

static bool want_pid(json_t *e, const void *ctx)
{
	return json_integer_value(json_object_get(e, "pid")) == *(const pid_t *)ctx;
}

static bool want_bob(json_t *e, const void *ctx)
{
	(void)ctx;
	return !strcmp(field(e, "user"), "bob");
}

static bool want_bob_or_alice(json_t *e, const void *ctx)
{
	(void)ctx;
	return !strcmp(field(e, "user"), "bob") || !strcmp(field(e, "user"), "alice");
}

static bool want_bob_web(json_t *e, const void *ctx)
{
	(void)ctx;
	return want_bob(e, NULL) && fnmatch("web*", str(e, "tag"), 0) == 0 && level_of(e) <= 6;
}

static bool want_regex(json_t *e, const void *re)
{
	return regexec(re, str(e, "msg"), 0, NULL, 0) == 0;
}

struct span { const char *since, *until; };

static bool want_span(json_t *e, const void *ctx)
{
	const struct span *s = ctx;
	return strcmp(str(e, "ts"), s->since) >= 0 && strcmp(str(e, "ts"), s->until) <= 0;
}

static bool want_none(json_t *e, const void *ctx)
{
	(void)e;
	(void)ctx;
	return false;
}

static bool want_all(json_t *e, const void *ctx)
{
	(void)e;
	(void)ctx;
	return true;
}

/* The last n of v (all when fewer), reversed when reverse. */
static json_t *tail(json_t *v, size_t n, bool reverse)
{
	json_t *out = json_array();
	size_t len = json_array_size(v), from = len > n ? len - n : 0;

	for (size_t i = from; i < len; i++)
		json_array_append(out, json_array_get(v, reverse ? len - 1 - (i - from) : i));
	json_decref(v);
	return out;
}

/* Run the query (-o json) on dir with the arguments, compare with want
 * (which it takes). */
static void check(const char *dir, json_t *want, const char *what, ...)
{
	const char *args[32] = { "--dir", dir, "-o", "json" };
	size_t n = 4;
	struct qrun r;
	va_list ap;

	va_start(ap, what);
	while (n < 31 && (args[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	args[n] = NULL;
	querytest_runv(&r, args, NULL);
	if (r.status != 0 || r.err[0])
		fail_msg("%s: exit %d, stderr: %s", what, r.status, r.err);
	json_t *got = querytest_parse_lines(&r);
	querytest_same_entries(got, want, what);
	json_decref(got);
	json_decref(want);
	querytest_free(&r);
}

static void check_filters(struct fixture *x)
{
	const char *d = x->h.dir;
	json_t *all = x->all;
	char pid[16];
	regex_t re;

	check(d, json_incref(all), "no filter", NULL);
	check(d, select_entries(all, want_glob, "web"), "-t web", "-t", "web", NULL);
	check(d, select_entries(all, want_glob, "web*"), "-t web*", "-t", "web*", NULL);
	check(d, select_entries(all, want_db_or_cron, NULL), "-t db -t cron", "-t", "db", "-t",
	      "cron", NULL);
	check(d, select_entries(all, want_levels, &(struct range){ 0, 3 }), "-p err", "-p", "err",
	      NULL);
	check(d, select_entries(all, want_levels, &(struct range){ 4, 5 }), "-p notice..warning",
	      "-p", "notice..warning", NULL);
	snprintf(pid, sizeof(pid), "%d", (int)x->child);
	check(d, select_entries(all, want_pid, &x->child), "--pid", "--pid", pid, NULL);
	check(d, select_entries(all, want_bob, NULL), "user=bob", "user=bob", NULL);
	check(d, select_entries(all, want_bob_or_alice, NULL), "user=bob user=alice", "user=bob",
	      "user=alice", NULL);
	check(d, select_entries(all, want_bob_web, NULL), "user=bob -t web* -p info", "user=bob",
	      "-t", "web*", "-p", "info", NULL);
	assert_int_equal(regcomp(&re, "entry 1[0-9]*5 ", REG_EXTENDED | REG_NOSUB), 0);
	check(d, select_entries(all, want_regex, &re), "-g", "-g", "entry 1[0-9]*5 ", NULL);
	regfree(&re);

	struct span s = { str(json_array_get(all, 100), "ts"), str(json_array_get(all, 200), "ts") };
	check(d, select_entries(all, want_span, &s), "--since --until", "--since", s.since,
	      "--until", s.until, NULL);
	check(d, json_incref(all), "--since '1h ago'", "--since", "1h ago", NULL);
	check(d, json_incref(all), "--since yesterday", "--since", "yesterday", NULL);
	check(d, select_entries(all, want_none, NULL), "--until '1h ago'", "--until", "1 h ago",
	      NULL);
	check(d, select_entries(all, want_none, NULL), "--since tomorrow", "--since", "tomorrow",
	      NULL);

	check(d, tail(select_entries(all, want_all, NULL), 7, false), "-n 7", "-n", "7", NULL);
	check(d, tail(select_entries(all, want_glob, "db"), 7, false), "-n 7 -t db", "-n", "7",
	      "-t", "db", NULL);
	check(d, tail(select_entries(all, want_all, NULL), 10000, true), "-r", "-r", NULL);
	check(d, tail(select_entries(all, want_glob, "cron"), 5, true), "-r -n 5 -t cron", "-r",
	      "-n", "5", "-t", "cron", NULL);
	check(d, select_entries(all, want_none, NULL), "-n 0", "-n", "0", NULL);
}

/* ---- output modes ---- */

/* What the message of e shows as: decoded msg_b64, control characters
 * as a byte count. */
static void shown_message(json_t *e, char *out, size_t cap)
{
	int n = atoi(field(e, "n"));
	char msg[64];
	size_t len;

	if (!strcmp(str(e, "tag"), "child")) {
		snprintf(out, cap, "%s", str(e, "msg"));
		return;
	}
	len = message(n, msg, sizeof(msg));
	if (n % 40 == 9)
		snprintf(out, cap, "[%zu bytes of binary data]", len);
	else
		snprintf(out, cap, "%s", msg);
}

/* "Dec 01 19:47:47[.604987] tag comm[pid]: message" from the entry's own
 * ts; the writer attests comm and pid (the test's comm is plain text). */
static void shown_short(json_t *e, bool precise, char *out, size_t cap)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	const char *ts = str(e, "ts");
	char msg[128];

	shown_message(e, msg, sizeof(msg));
	snprintf(out, cap, "%s %.2s %.8s%s%.*s %s %s[%lld]: %s", months[atoi(ts + 5) - 1], ts + 8,
		 ts + 11, precise ? "." : "", precise ? 6 : 0, ts + 20, str(e, "tag"),
		 str(e, "comm"), (long long)json_integer_value(json_object_get(e, "pid")), msg);
}

static void check_text_mode(struct fixture *x, const char *mode)
{
	struct qrun r;
	char want[256];
	json_t *lines;

	querytest_run(&r, "--dir", x->h.dir, "-o", mode, NULL);
	assert_int_equal(r.status, 0);
	lines = querytest_lines(&r);
	assert_int_equal(json_array_size(lines), json_array_size(x->all));
	for (size_t i = 0; i < json_array_size(lines); i++) {
		json_t *e = json_array_get(x->all, i);
		if (!strcmp(mode, "cat"))
			shown_message(e, want, sizeof(want));
		else
			shown_short(e, !strcmp(mode, "short-precise"), want, sizeof(want));
		const char *got = json_string_value(json_array_get(lines, i));
		if (strcmp(got, want))
			fail_msg("-o %s line %zu: got '%s', want '%s'", mode, i, got, want);
	}
	json_decref(lines);
	querytest_free(&r);
}

static void check_json_pretty(struct fixture *x)
{
	struct qrun r;
	json_t *got = json_array();
	size_t off = 0;

	querytest_run(&r, "--dir", x->h.dir, "-o", "json-pretty", "-t", "db", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\n  \"tag\": \"db\",\n"));
	while (off < r.out_len) {
		json_error_t err;
		json_t *v = json_loadb(r.out + off, r.out_len - off,
				       JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &err);
		if (!v)
			fail_msg("-o json-pretty: not JSON at byte %zu: %s", off, err.text);
		json_array_append_new(got, v);
		off += err.position;
		while (off < r.out_len && r.out[off] == '\n')
			off++;
	}
	json_t *want = select_entries(x->all, want_glob, "db");
	querytest_same_entries(got, want, "-o json-pretty");
	json_decref(want);
	json_decref(got);
	querytest_free(&r);
}

/* Entry 47 (not UTF-8: msg_b64), every key as KEY=VALUE. */
static void check_verbose(struct fixture *x)
{
	json_t *e = json_array_get(x->all, 47);
	char want[1024], ts[64];
	struct qrun r;

	assert_string_equal(field(e, "n"), "47");
	querytest_run(&r, "--dir", x->h.dir, "-o", "verbose", "n=47", NULL);
	assert_int_equal(r.status, 0);
	snprintf(ts, sizeof(ts), "%.10s %.18s UTC", str(e, "ts"), str(e, "ts") + 11);
	snprintf(want, sizeof(want),
		 "%s\n    ts=%s\n    seq=%lld\n    lane=%lld\n    lane_seq=%lld\n"
		 "    level=%s\n    tag=%s\n    pid=%lld\n    tid=%lld\n    uid=%lld\n"
		 "    gid=%lld\n    comm=%s\n    exe=%s\n    msg=bin\xff" "47\n"
		 "    fields.user=%s\n    fields.n=47\n",
		 ts, str(e, "ts"), (long long)json_integer_value(json_object_get(e, "seq")),
		 (long long)json_integer_value(json_object_get(e, "lane")),
		 (long long)json_integer_value(json_object_get(e, "lane_seq")), str(e, "level"),
		 str(e, "tag"), (long long)json_integer_value(json_object_get(e, "pid")),
		 (long long)json_integer_value(json_object_get(e, "tid")),
		 (long long)json_integer_value(json_object_get(e, "uid")),
		 (long long)json_integer_value(json_object_get(e, "gid")), str(e, "comm"),
		 str(e, "exe"), users[47 % 3]);
	/* The header starts with the day of the week. */
	const char *got = strchr(r.out, ' ');
	assert_non_null(got);
	if (strcmp(got + 1, want))
		fail_msg("-o verbose: got\n%s\nwant\n%s", r.out, want);
	querytest_free(&r);
}

/* Colour on a terminal for err and worse only, none with NO_COLOR. */
static void check_colour(struct fixture *x, const char *no_color, bool want_colour)
{
	char out[65536];
	size_t n = 0;
	int master, st;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);

	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("TZ", "UTC", 1);
		if (no_color)
			setenv("NO_COLOR", no_color, 1);
		else
			unsetenv("NO_COLOR");
		execl(getenv("LOGBUS_TEST_QUERY"), "logbus-query", "--dir", x->h.dir, "-t", "web",
		      "-n", "8", (char *)NULL);
		_exit(127);
	}
	for (ssize_t k; n < sizeof(out) - 1 && (k = read(master, out + n, sizeof(out) - 1 - n)) > 0;)
		n += (size_t)k;
	out[n] = '\0';
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(master);
	if (!want_colour) {
		assert_null(strchr(out, '\033'));
		return;
	}
	/* -t web: levels 0 (emerg, in colour) and 4 (warning, not). */
	for (char *line = out, *next; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (strncmp(line, "\033[1;31m", 7) && memchr(line, '\033', (size_t)(next - line)))
			fail_msg("a line coloured but not as err or worse: %s", line);
	}
	querytest_contains(out, "\033[1;31m");
	querytest_contains(out, "\033[0m");
}

static void check_modes(struct fixture *x)
{
	check_text_mode(x, "short");
	check_text_mode(x, "short-precise");
	check_text_mode(x, "cat");
	check_json_pretty(x);
	check_verbose(x);
	check_colour(x, NULL, true);
	check_colour(x, "1", false);
}

static void test_plain(void **state)
{
	struct fixture x;

	(void)state;
	write_entries(&x, "qplain", false);
	check_filters(&x);
	check_modes(&x);
	fixture_free(&x);
}

static void test_zstd(void **state)
{
	struct fixture x;

	(void)state;
	write_entries(&x, "qzstd", true);
	check_filters(&x);
	check_modes(&x);
	fixture_free(&x);
}

/* The entries of bus (its files are named after it) in file order. */
static json_t *of_bus(json_t *all, const struct harness *h)
{
	json_t *v = json_array(), *e;
	size_t i;

	json_array_foreach(all, i, e)
		if (json_integer_value(json_object_get(e, "pid")) == getpid() &&
		    !strcmp(str(e, "tag"), h->bus))
			json_array_append(v, e);
	return v;
}

/* Two buses in one directory: merged by time (each bus in seq order, the
 * earlier head first, a tie to the bus whose name sorts first); --bus
 * picks one. */
static void test_two_buses(void **state)
{
	struct harness a, b;
	logbus_t *la, *lb;
	json_t *all, *in_a, *in_b, *merged = json_array();

	(void)state;
	harness_init(&a, "qbus-a");
	harness_init(&b, "qbus-b");
	snprintf(b.dir, sizeof(b.dir), "%s", a.dir);
	outfiles_start(&a, NULL, NULL);
	outfiles_start(&b, NULL, NULL);
	la = logbus_open(a.bus);
	lb = logbus_open(b.bus);
	for (int i = 0; i < 40; i++) {
		/* The tag names the bus, so the test can tell them apart. */
		bool to_a = i % 3 != 0;
		assert_int_equal(logbus_publishf(to_a ? la : lb, LOGBUS_INFO, to_a ? a.bus : b.bus,
						 "entry %d", i), 0);
		assert_int_equal(logbus_flush(to_a ? la : lb, 10000), 0);
		harness_sleep_us(500);
	}
	harness_stop_writer(&a);
	harness_stop_writer(&b);
	all = outfiles_entries(a.dir);
	assert_int_equal(json_array_size(all), 40);
	in_a = of_bus(all, &a);
	in_b = of_bus(all, &b);
	assert_int_equal(json_array_size(in_a) + json_array_size(in_b), 40);
	for (size_t i = 0, j = 0; i < json_array_size(in_a) || j < json_array_size(in_b);) {
		json_t *x = json_array_get(in_a, i), *y = json_array_get(in_b, j);
		bool take_a = x && (!y || strcmp(str(x, "ts"), str(y, "ts")) <= 0);
		json_array_append(merged, take_a ? x : y);
		take_a ? i++ : j++;
	}
	check(a.dir, merged, "two buses", NULL);
	check(a.dir, json_incref(in_b), "--bus b", "--bus", b.bus, NULL);
	json_decref(in_a);
	json_decref(in_b);
	json_decref(all);
	logbus_close(la);
	logbus_close(lb);
	harness_fini(&b);
	harness_fini(&a);
}

/* Short output of lines a writer could have written for a hostile
 * process name: control bytes and backslashes escaped, a comm that is not
 * UTF-8 (comm_b64) byte by byte, and a line without comm (the fallback's)
 * as tag[pid]; verbose decodes comm_b64 and exe_b64. */
static void test_short_names(void **state)
{
	static const char lines[] =
		"{\"ts\":\"2026-01-02T03:04:05.000000000Z\",\"seq\":0,\"lane\":0,\"lane_seq\":0,"
		"\"level\":\"info\",\"tag\":\"sshd\",\"pid\":7,\"tid\":7,\"uid\":1000,"
		"\"gid\":1000,\"comm\":\"ev\\u001b[1m\\\\il\",\"exe\":\"/bin/x\",\"msg\":\"one\"}\n"
		"{\"ts\":\"2026-01-02T03:04:06.000000000Z\",\"seq\":1,\"lane\":0,\"lane_seq\":1,"
		"\"level\":\"info\",\"tag\":\"app\",\"pid\":8,\"tid\":8,\"uid\":0,\"gid\":0,"
		"\"comm_b64\":\"Yf9i\",\"exe_b64\":\"L/4=\",\"msg\":\"two\"}\n"
		"{\"ts\":\"2026-01-02T03:04:07.000000000Z\",\"level\":\"info\",\"tag\":\"fb\","
		"\"pid\":9,\"tid\":9,\"msg\":\"three\"}\n";
	struct harness h;
	char path[300];
	struct qrun r;
	FILE *f;

	(void)state;
	harness_init(&h, "qnames");
	snprintf(path, sizeof(path), "%s.jsonl", h.dir);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_true(fputs(lines, f) >= 0);
	assert_int_equal(fclose(f), 0);
	querytest_run(&r, "-o", "short", path, NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "Jan 02 03:04:05 sshd ev\\x1b[1m\\x5cil[7]: one\n"
				   "Jan 02 03:04:06 app a\\xffb[8]: two\n"
				   "Jan 02 03:04:07 fb[9]: three\n");
	querytest_free(&r);
	querytest_run(&r, "-o", "verbose", path, NULL);
	assert_int_equal(r.status, 0);
	querytest_contains(r.out, "\n    comm=a\xff" "b\n    exe=/\xfe\n    msg=two\n");
	querytest_free(&r);
	unlink(path);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_two_buses),
		cmocka_unit_test(test_short_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
