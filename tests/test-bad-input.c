/* SPDX-License-Identifier: MIT */
/* Description: bad input never crashes and changes nothing. Every public
 * function returns a negative errno for NULL, oversized or invalid
 * arguments; a bus segment of another layout version, of another size,
 * truncated or of garbage gives a clear error to lb_bus_attach and to
 * logbus-writer, and a client on it falls back instead of crashing. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "bus.h"
#include "entry_json.h"
#include "harness.h"
#include "layout.h"   /* to forge headers: the one place a test needs the bytes */
#include "logbus.h"
#include "record.h"

/* ---- The public API ---- */

/* Bus names outside [A-Za-z0-9_.-]{1,64}: no handle, EINVAL. */
static void test_open_bad_names(void **state)
{
	char long_name[LB_BUS_NAME_MAX + 2];
	const char *bad[] = { "", long_name, "/", "a/b", "..", ".", "a b", " ", "bus\n", "\xc3\xa9" };

	(void)state;
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		if (logbus_open(bad[i]) != NULL || errno != EINVAL)
			fail_msg("logbus_open(\"%s\"): a handle or errno %d, want NULL and EINVAL",
				 bad[i], errno);
	}
}

/* One invalid publish: what it passes and why it is invalid. */
struct bad_call {
	const char *what;
	int level;
	const char *tag;
	const char *msg;
	size_t len;
	const struct logbus_field *fields;
	size_t nfields;
};

static const struct logbus_field good_field = { .key = "k", .value = "v", .len = 1 };
static struct logbus_field many_fields[LOGBUS_FIELDS_MAX + 1];
static const struct logbus_field key_empty = { .key = "", .value = "v", .len = 1 };
static const struct logbus_field key_65 = {
	.key = "k1234567890123456789012345678901234567890123456789012345678901234",
	.value = "v", .len = 1 };
static const struct logbus_field key_dash = { .key = "a-b", .value = "v", .len = 1 };
static const struct logbus_field key_space = { .key = "a b", .value = "v", .len = 1 };
static const struct logbus_field key_null = { .key = NULL, .value = "v", .len = 1 };
static const struct logbus_field value_null = { .key = "k", .value = NULL, .len = 3 };
static const struct logbus_field key_twice[] = {
	{ .key = "user", .value = "alice", .len = 5 },
	{ .key = "host", .value = "h", .len = 1 },
	{ .key = "user", .value = "mallory", .len = 7 },
};

static const struct bad_call bad_calls[] = {
	{ "level -1", -1, "t", "m", 1, NULL, 0 },
	{ "level 8", 8, "t", "m", 1, NULL, 0 },
	{ "tag of 65 bytes", 6, "t2345678901234567890123456789012345678901234567890123456789012345",
	  "m", 1, NULL, 0 },
	{ "empty tag", 6, "", "m", 1, NULL, 0 },
	{ "tag with a space", 6, "a b", "m", 1, NULL, 0 },
	{ "tag with a newline", 6, "a\nb", "m", 1, NULL, 0 },
	{ "tag with a control character", 6, "a\x01", "m", 1, NULL, 0 },
	{ "tag with DEL", 6, "a\x7f", "m", 1, NULL, 0 },
	{ "tag not ASCII", 6, "\xc3\xa9", "m", 1, NULL, 0 },
	{ "msg NULL with len 5", 6, "t", NULL, 5, NULL, 0 },
	{ "fields NULL with nfields 1", 6, "t", "m", 1, NULL, 1 },
	{ "empty key", 6, "t", "m", 1, &key_empty, 1 },
	{ "key of 65 bytes", 6, "t", "m", 1, &key_65, 1 },
	{ "key with '-'", 6, "t", "m", 1, &key_dash, 1 },
	{ "key with a space", 6, "t", "m", 1, &key_space, 1 },
	{ "key NULL", 6, "t", "m", 1, &key_null, 1 },
	{ "value NULL with len 3", 6, "t", "m", 1, &value_null, 1 },
	{ "65 fields", 6, "t", "m", 1, many_fields, LOGBUS_FIELDS_MAX + 1 },
	{ "key 'user' twice", 6, "t", "m", 1, key_twice, 3 },
};

/* Each bad call returns -EINVAL. */
static void calls_rejected(logbus_t *lb)
{
	for (size_t i = 0; i < sizeof(bad_calls) / sizeof(bad_calls[0]); i++) {
		const struct bad_call *c = &bad_calls[i];
		int r = logbus_publishv(lb, c->level, c->tag, c->msg, c->len, c->fields, c->nfields);
		if (r != -EINVAL)
			fail_msg("publish with %s returned %d, want -EINVAL", c->what, r);
		if (c->nfields == 0) {
			r = logbus_publish(lb, c->level, c->tag, c->msg, c->len);
			if (r != -EINVAL)
				fail_msg("logbus_publish with %s returned %d, want -EINVAL",
					 c->what, r);
		}
	}
}

/* The only entry written is the one good publish, msg "good". */
static void only_good_written(struct harness *h)
{
	json_t *all;

	harness_stop_writer(h);
	all = harness_entries(h);
	assert_int_equal(json_array_size(all), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(all, 0), "msg")),
			    "good");
	json_decref(all);
}

/* Bad publish arguments: -EINVAL, counters unchanged, nothing written. */
static void test_publish_bad_args(void **state)
{
	struct harness *h = *state;
	const char *volatile no_fmt = NULL;
	struct logbus_stats before, after;
	logbus_t *lb;

	for (size_t i = 0; i < LOGBUS_FIELDS_MAX + 1; i++)
		many_fields[i] = good_field;
	assert_int_equal(logbus_publishv(NULL, 6, "t", "m", 1, NULL, 0), -EINVAL);
	assert_int_equal(logbus_publish(NULL, 6, "t", "m", 1), -EINVAL);
	assert_int_equal(logbus_publishf(NULL, 6, "t", "%s", "m"), -EINVAL);
	harness_start_writer(h, (const char *const[]){ "--lanes", "2", "--lane-size", "64K", NULL });
	lb = logbus_open(h->bus);
	assert_non_null(lb);
	/* Claim the lane first, so that "nothing changed" covers its counters. */
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "t", "good", 4), 0);
	assert_int_equal(logbus_stats_get(lb, &before), 0);
	calls_rejected(lb);
	assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "t", no_fmt), -EINVAL);
	assert_int_equal(logbus_stats_get(lb, &after), 0);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(logbus_flush(lb, 10000), 0);
	logbus_close(lb);
	only_good_written(h);
}

/* An entry larger than the bus accepts: -EMSGSIZE, counted, not written. */
static void test_publish_too_large(void **state)
{
	struct harness *h = *state;
	size_t len = LB_MIN_LANE_SIZE;   /* twice the largest record of the bus */
	char *big = calloc(1, len);
	struct logbus_field field = { .key = "big", .value = big, .len = len };
	struct logbus_stats st;
	logbus_t *lb;

	assert_non_null(big);
	harness_start_writer(h, (const char *const[]){ "--lanes", "2", "--lane-size", "64K", NULL });
	lb = logbus_open(h->bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "t", big, len), -EMSGSIZE);
	assert_int_equal(logbus_publishv(lb, LOGBUS_INFO, "t", "m", 1, &field, 1), -EMSGSIZE);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "t", "good", 4), 0);
	assert_int_equal(logbus_stats_get(lb, &st), 0);
	assert_int_equal(st.dropped_too_large, 2);
	assert_int_equal(st.queued, 1);
	assert_int_equal(st.published, 3);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	logbus_close(lb);
	free(big);
	only_good_written(h);
}

/* NULL handles and NULL out-parameters: -EINVAL; close(NULL) is a no-op. */
static void test_null_handles(void **state)
{
	struct logbus_stats st;
	logbus_t *lb;

	(void)state;
	assert_int_equal(logbus_flush(NULL, 0), -EINVAL);
	assert_int_equal(logbus_stats_get(NULL, &st), -EINVAL);
	lb = logbus_open("t-bad-input-no-such-bus");
	assert_non_null(lb);
	assert_int_equal(logbus_stats_get(lb, NULL), -EINVAL);
	logbus_close(lb);
	logbus_close(NULL);
	assert_null(logbus_level_name(-1));
	assert_null(logbus_level_name(8));
	assert_int_equal(logbus_level_parse(NULL), -EINVAL);
	assert_int_equal(logbus_level_parse("loud"), -EINVAL);
	assert_int_equal(logbus_level_parse("8"), -EINVAL);
	assert_int_equal(logbus_level_parse("errors"), -EINVAL);
	assert_int_equal(logbus_level_parse("error"), LOGBUS_ERR);
	assert_int_equal(logbus_level_parse("ERR"), LOGBUS_ERR);
	assert_int_equal(logbus_level_parse("3"), LOGBUS_ERR);
}

/* ---- Damaged segments ---- */

/* A descriptor on the segment of bus (flags: O_CREAT | O_EXCL to make one). */
static int segment_open(const char *bus, int flags)
{
	char path[LB_BUS_PATH_MAX];
	int fd;

	assert_int_equal(lb_bus_path(bus, NULL, path), 0);
	fd = shm_open(path, O_RDWR | O_CLOEXEC | flags, 0600);
	assert_true(fd >= 0);
	return fd;
}

/* A good segment of one 64 KiB lane, made as the writer makes it. */
static int segment_make(const char *bus)
{
	struct lb_bus_geometry g = { .lane_count = 1, .lane_size = LB_MIN_LANE_SIZE };
	struct lb_bus b;

	assert_int_equal(lb_bus_create(bus, &g, LB_TS_REALTIME, &b, NULL), 0);
	lb_bus_detach(&b);
	return segment_open(bus, 0);
}

/* A new segment of size bytes of garbage (a fixed pseudo-random series). */
static int segment_garbage(const char *bus, size_t size)
{
	int fd = segment_open(bus, O_CREAT | O_EXCL);
	unsigned char *buf = malloc(size);

	assert_non_null(buf);
	srandom(42);
	for (size_t i = 0; i < size; i++)
		buf[i] = (unsigned char)random();
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	free(buf);
	return fd;
}

/* Start argv with its stderr into a pipe: its pid, with *err the pipe's
 * reading end. */
static pid_t spawn_stderr(const char *const *argv, int *err)
{
	int pipefd[2];
	pid_t pid;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	*err = pipefd[0];
	return pid;
}

/* Run argv with stderr captured into out (NUL-terminated); returns the
 * exit status, or 128 + the signal that ended it. */
static int run_capture(const char *const *argv, char *out, size_t cap)
{
	int fd, st;
	size_t len = 0;
	ssize_t n;
	pid_t pid = spawn_stderr(argv, &fd);

	while (len + 1 < cap && (n = read(fd, out + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* lb_bus_attach refuses the segment with want and a why naming it. */
static void attach_refused(const struct harness *h, int want, const char *keyword)
{
	struct lb_bus bus;
	struct lb_bus_error err = { "" };
	int r = lb_bus_attach(h->bus, false, &bus, &err);

	if (r != want)
		fail_msg("lb_bus_attach returned %d (%s), want %d", r, err.why, want);
	if (!strstr(err.why, h->bus) || !strstr(err.why, keyword))
		fail_msg("lb_bus_attach says '%s', want the bus and '%s'", err.why, keyword);
}

/* A client on the segment: opens, and its entry goes to the fallback. */
static void client_falls_back(const struct harness *h)
{
	char path[300];
	struct logbus_stats st;
	logbus_t *lb;
	json_t *line;

	snprintf(path, sizeof(path), "%s.fallback", h->dir);
	assert_int_equal(setenv("LOGBUS_FALLBACK", path, 1), 0);
	lb = logbus_open(h->bus);
	unsetenv("LOGBUS_FALLBACK");
	assert_non_null(lb);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "t", "fell back", 9), 0);
	assert_int_equal(logbus_stats_get(lb, &st), 0);
	assert_int_equal(st.fallback, 1);
	assert_int_equal(st.queued, 0);
	logbus_close(lb);
	line = json_load_file(path, JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(line);
	assert_string_equal(json_string_value(json_object_get(line, "msg")), "fell back");
	json_decref(line);
	assert_int_equal(unlink(path), 0);
}

/* logbus-writer on the segment: the segment is the writer's alone (clients
 * only read it), so it says in one line what was wrong, naming the bus
 * and keyword, makes the bus anew and runs. */
static void writer_remakes(const struct harness *h, const char *keyword)
{
	const char *argv[] = { harness_writer_path(), "--bus", h->bus, "--dir", h->dir, NULL };
	char line[1024];
	int fd, st;
	struct lb_bus bus;
	pid_t pid = spawn_stderr(argv, &fd);
	FILE *err = fdopen(fd, "r");
	assert_non_null(err);
	if (!fgets(line, sizeof(line), err) || !strstr(line, h->bus) || !strstr(line, keyword) ||
	    !strstr(line, "making it anew"))
		fail_msg("logbus-writer's first line is '%s'; want the bus, '%s' and 'making it "
			 "anew'", line, keyword);
	for (int i = 0; i < 1000; i++) {
		bool ready = lb_bus_attach(h->bus, false, &bus, NULL) == 0;
		if (ready) {
			ready = lb_bus_writer_pid(&bus) == pid;
			lb_bus_detach(&bus);
		}
		if (ready)
			break;
		harness_sleep_us(10000);
	}
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	fclose(err);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Every check on a damaged segment of h's bus. */
static void segment_refused(const struct harness *h, int want, const char *keyword)
{
	attach_refused(h, want, keyword);
	client_falls_back(h);
	writer_remakes(h, keyword);
}

/* A segment of another layout version. */
static void test_segment_version(void **state)
{
	struct harness *h = *state;
	int fd = segment_make(h->bus);
	uint32_t version = LB_LAYOUT_VERSION + 1;

	assert_int_equal(pwrite(fd, &version, sizeof(version),
				offsetof(struct lb_bus_header, version)),
			 (ssize_t)sizeof(version));
	char want[64];

	close(fd);
	snprintf(want, sizeof(want), "layout version %u", version);
	segment_refused(h, -EPROTONOSUPPORT, want);
}

/* A segment whose size does not match its header. */
static void test_segment_size(void **state)
{
	struct harness *h = *state;
	int fd = segment_make(h->bus);
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(ftruncate(fd, st.st_size + 4096), 0);
	close(fd);
	segment_refused(h, -EBADMSG, "header describes");
}

/* A segment smaller than a bus header. */
static void test_segment_truncated(void **state)
{
	struct harness *h = *state;

	close(segment_garbage(h->bus, 100));
	segment_refused(h, -EBADMSG, "too small");
}

/* A segment of garbage. */
static void test_segment_garbage(void **state)
{
	struct harness *h = *state;

	close(segment_garbage(h->bus, 1 << 20));
	segment_refused(h, -EPROTO, "not a logbus segment");
}

/* A segment with the right magic and garbage after it. */
static void test_segment_garbage_header(void **state)
{
	struct harness *h = *state;
	int fd = segment_garbage(h->bus, 1 << 20);
	uint64_t magic = LB_BUS_MAGIC;
	uint32_t version = LB_LAYOUT_VERSION;

	assert_int_equal(pwrite(fd, &magic, sizeof(magic), 0), (ssize_t)sizeof(magic));
	assert_int_equal(pwrite(fd, &version, sizeof(version),
				offsetof(struct lb_bus_header, version)),
			 (ssize_t)sizeof(version));
	close(fd);
	segment_refused(h, -EBADMSG, "inconsistent header");
}

/* Bad writer arguments: exit 2 with a message that names them. */
static void test_writer_bad_args(void **state)
{
	static const struct {
		const char *arg, *value, *named;
	} bad[] = {
		{ "--bogus", NULL, "--bogus" },
		{ "--lane-size", "3000", "3000" },
		{ "--lane-size", "abc", "abc" },
		{ "--lanes", "0", "0" },
		{ "--lanes", "many", "many" },
		{ "--bus", "a/b", "a/b" },
		{ "--bus", "..", ".." },
		{ "--bus", "", "--bus" },
	};
	struct harness *h = *state;
	char out[4096];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = { harness_writer_path(), "--dir", h->dir, bad[i].arg,
				       bad[i].value, NULL };
		int status = run_capture(argv, out, sizeof(out));
		if (status != 2 || !strstr(out, bad[i].named))
			fail_msg("logbus-writer %s %s exited %d saying '%s'; want 2 and a "
				 "message naming '%s'", bad[i].arg, bad[i].value ? bad[i].value : "",
				 status, out, bad[i].named);
	}
}

/* ---- Damaged records ---- */

/* Decode a record of lane sequence seq; returns what lb_record_decode did,
 * with the entry's JSON line (when it decoded) read back by jansson. */
static long decode_seq(uint64_t seq, json_t **line)
{
	_Alignas(8) uint8_t rec[256];
	size_t size = lb_record_size(1, 1, NULL, 0);
	struct lb_record_meta meta = { .seq = seq, .ts = 1, .ts_mode = LB_TS_REALTIME, .level = 6 };
	struct lb_entry_ids ids = { .seq = 1, .lane = 0 };
	struct lb_buf b = { 0 };
	struct lb_entry e;
	bool pad;
	long r;

	assert_true(size <= sizeof(rec));
	lb_record_encode(rec, size, &meta, "t", 1, "m", 1, NULL, 0);
	r = lb_record_decode(rec, sizeof(rec), sizeof(rec), &e, &pad);
	*line = NULL;
	if (r > 0) {
		lb_entry_json_put(&b, &e, 0, &ids);
		*line = json_loadb(b.data, b.len, 0, NULL);
		lb_buf_free(&b);
	}
	return r;
}

/* A lane sequence above 2^63 - 1 is damage, refused as no record (the
 * drain skips it and says so); up to 2^63 - 1 the JSON line reads back
 * with the same number. */
static void test_record_seq_readable(void **state)
{
	json_t *line;

	(void)state;
	assert_int_equal(decode_seq((uint64_t)INT64_MAX + 1, &line), -EBADMSG);
	assert_int_equal(decode_seq(UINT64_MAX, &line), -EBADMSG);
	assert_true(decode_seq(INT64_MAX, &line) > 0);
	assert_non_null(line);
	assert_true(json_integer_value(json_object_get(line, "lane_seq")) == INT64_MAX);
	json_decref(line);
}

static int setup(void **state)
{
	*state = harness_new("bad-input");
	return 0;
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_open_bad_names),
		TEST(test_publish_bad_args),
		TEST(test_publish_too_large),
		TEST(test_null_handles),
		TEST(test_segment_version),
		TEST(test_segment_size),
		TEST(test_segment_truncated),
		TEST(test_segment_garbage),
		TEST(test_segment_garbage_header),
		TEST(test_writer_bad_args),
		cmocka_unit_test(test_record_seq_readable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
