/* SPDX-License-Identifier: MIT */
/* Description: 4 processes x 4 threads publish 250,000 entries of every
 * kind of byte (0 B to 64 KiB, escapes, NUL, multibyte and invalid UTF-8,
 * with fields); the writer's output holds each exactly once, byte-exact,
 * in each thread's order, every line valid JSON. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
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

#include "harness.h"
#include "logbus.h"

#define PROCS 4
#define THREADS 4
#define TOTAL 250000
#define PER_THREAD (TOTAL / (PROCS * THREADS))
#define MSG_MAX 65536
#define EXTRA_FIELDS 3
#define VALUE_MAX 48
#define ID_MAX 32

_Static_assert(PER_THREAD * PROCS * THREADS == TOTAL, "entries split evenly");

/* What each producer thread and process tells the checker. */
struct thread_report {
	uint32_t tid;
	uint64_t eagain;   /* publishes retried because the lane was full */
	uint64_t failed;   /* publishes that returned anything but 0 or -EAGAIN */
};

struct proc_report {
	uint32_t pid;
	struct thread_report thread[THREADS];
	struct logbus_stats stats;
	int flushed;       /* logbus_flush's result */
};

/* ---- Deterministic content: everything follows from (process, thread,
 * index), so the checker regenerates instead of storing. ---- */

enum kind { KIND_ESCAPES, KIND_NUL, KIND_MULTIBYTE, KIND_INVALID, KINDS };

/* splitmix64 */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Pieces a text is made of; each kind draws from its own list. */
static const char *const escapes[] = { "\"", "\\", "\n", "\r", "\t", "\x01", "\x1f", "\x7f",
				       "\b", "\f", "/", "a", "Z", "0", " ", "{}" };
static const char *const nuls[] = { "", "x", "\"", "\\" };  /* "" is one NUL byte */
static const char *const multibyte[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
					 "\xf4\x8f\xbf\xbf", "\xc2\x80", "\xef\xbf\xbd",
					 "\xe4\xb8\xad", "q" };
static const char *const invalid[] = { "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82",
				       "\xf4\x90\x80\x80", "\x80", "\xfe", "\xc3\xa9" };

/* A piece of a kind; its length through *len (NUL pieces are one byte). */
static const char *piece(enum kind k, uint64_t r, size_t *len)
{
	const char *p;

	switch (k) {
	case KIND_ESCAPES: p = escapes[r % 16]; break;
	case KIND_NUL: p = nuls[r % 4]; *len = p[0] ? strlen(p) : 1; return p;
	case KIND_MULTIBYTE: p = multibyte[r % 8]; break;
	default: p = invalid[r % 8]; break;
	}
	*len = strlen(p);
	return p;
}

/* len bytes of kind k into out; whole pieces, 'a' where the next piece
 * does not fit, so valid kinds stay valid UTF-8. An invalid text gets a
 * 0xff byte (never UTF-8) so that it is invalid however it was cut. */
static void text_fill(char *out, size_t len, enum kind k, uint64_t *s)
{
	size_t at = 0, n;

	while (at < len) {
		const char *p = piece(k, rnd(s), &n);
		if (n > len - at) {
			p = "a";
			n = 1;
		}
		memcpy(out + at, p, n);
		at += n;
	}
	if (k == KIND_INVALID && len)
		out[rnd(s) % len] = (char)0xff;
}

/* Whether text of kind k and length len is UTF-8 (msg) or not (msg_b64). */
static bool text_utf8(enum kind k, size_t len)
{
	return k != KIND_INVALID || len == 0;
}

/* One entry as its producer publishes it. */
struct entry {
	int level;
	char *msg;
	size_t len;
	enum kind kind;
	struct logbus_field fields[1 + EXTRA_FIELDS];
	enum kind field_kind[1 + EXTRA_FIELDS];
	size_t nfields;
	char id[ID_MAX];
	char values[EXTRA_FIELDS][VALUE_MAX];
};

static const char *const field_keys[EXTRA_FIELDS] = {
	"k1", "Key_2",
	"k123456789012345678901234567890123456789012345678901234567890_64", /* 64 bytes */
};

/* Index 0 of each thread is empty, index 1 is 64 KiB; otherwise mostly up
 * to 200 B, one in 500 up to 64 KiB. */
static size_t msg_len(unsigned i, uint64_t *s)
{
	uint64_t r = rnd(s);

	if (i < 2)
		return i == 0 ? 0 : MSG_MAX;
	if (r % 500 == 0)
		return 1024 + rnd(s) % (MSG_MAX - 1024 + 1);
	return rnd(s) % 201;
}

/* Fill e (whose msg buffer holds MSG_MAX bytes) for (p, t, i). */
static void entry_make(struct entry *e, unsigned p, unsigned t, unsigned i)
{
	uint64_t s = ((uint64_t)p << 48) ^ ((uint64_t)t << 40) ^ i;

	e->level = (int)(i % 8);
	e->len = msg_len(i, &s);
	e->kind = (enum kind)(rnd(&s) % KINDS);
	text_fill(e->msg, e->len, e->kind, &s);

	snprintf(e->id, sizeof(e->id), "%u.%u.%u", p, t, i);
	e->fields[0] = (struct logbus_field){ .key = "id", .value = e->id, .len = strlen(e->id) };
	e->field_kind[0] = KIND_ESCAPES;
	e->nfields = 1 + rnd(&s) % (EXTRA_FIELDS + 1);
	for (size_t f = 1; f < e->nfields; f++) {
		size_t len = rnd(&s) % VALUE_MAX;
		e->field_kind[f] = (enum kind)(rnd(&s) % KINDS);
		text_fill(e->values[f - 1], len, e->field_kind[f], &s);
		e->fields[f] = (struct logbus_field){
			.key = field_keys[f - 1], .value = e->values[f - 1], .len = len };
	}
}

/* ---- Producers ---- */

struct producer {
	const char *bus;
	logbus_t *lb;
	unsigned p, t;
	struct thread_report *report;
};

/* Publish every entry of one thread, retrying while the lane is full. */
static void *producer_thread(void *arg)
{
	struct producer *pr = arg;
	struct entry e = { .msg = malloc(MSG_MAX) };
	char tag[16];

	snprintf(tag, sizeof(tag), "rt-%u", pr->p);
	pr->report->tid = (uint32_t)gettid();
	for (unsigned i = 0; e.msg && i < PER_THREAD; i++) {
		int r;

		entry_make(&e, pr->p, pr->t, i);
		while ((r = logbus_publishv(pr->lb, e.level, tag, e.msg, e.len, e.fields,
					    e.nfields)) == -EAGAIN) {
			pr->report->eagain++;
			harness_sleep_us(200);
		}
		pr->report->failed += r != 0;
	}
	pr->report->failed += !e.msg;
	free(e.msg);
	return NULL;
}

/* A producer process: THREADS threads, then the handle's counters and a
 * flush; the checker asserts on the report. */
static void producer_process(const char *bus, unsigned p, struct proc_report *rep)
{
	struct producer pr[THREADS];
	pthread_t th[THREADS];
	logbus_t *lb = logbus_open(bus);

	if (!lb)
		_exit(1);
	rep->pid = (uint32_t)getpid();
	for (unsigned t = 0; t < THREADS; t++) {
		pr[t] = (struct producer){ bus, lb, p, t, &rep->thread[t] };
		if (pthread_create(&th[t], NULL, producer_thread, &pr[t]) != 0)
			_exit(1);
	}
	for (unsigned t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	(void)logbus_stats_get(lb, &rep->stats);
	rep->flushed = logbus_flush(lb, 60000);
	logbus_close(lb);
	_exit(0);
}

/* ---- Checker ---- */

struct checker {
	const struct proc_report *rep;
	unsigned next[PROCS][THREADS];        /* index expected next */
	int64_t lane_seq[PROCS][THREADS];     /* last lane_seq seen */
	struct entry e;
	char *decoded;
	uint64_t entries;
};

static int b64_value(char c)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *at = c ? strchr(alphabet, c) : NULL;

	return at ? (int)(at - alphabet) : -1;
}

/* Decode padded base64 text into out; returns the byte count, or -1. */
static long b64_decode(const char *text, char *out, size_t cap)
{
	size_t n = strlen(text), len = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		for (int j = 0; j < 4; j++)
			v[j] = text[i + j] == '=' && i + 4 == n && j >= 2 ? 0 : b64_value(text[i + j]);
		if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0 || len + 3 > cap)
			return -1;
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		char bytes[3] = { (char)(w >> 16), (char)(w >> 8), (char)w };
		size_t keep = text[i + 2] == '=' ? 1 : text[i + 3] == '=' ? 2 : 3;
		memcpy(out + len, bytes, keep);
		len += keep;
	}
	return (long)len;
}

/* Assert that the text under key (UTF-8) or b64_key (base64) of obj holds
 * exactly want[0..len). */
static void text_check(struct checker *c, const json_t *obj, const json_t *obj_b64,
		       const char *key, const char *want, size_t len, bool utf8)
{
	const json_t *v = json_object_get(utf8 ? obj : obj_b64, key);
	const char *got;
	long got_len;

	if (!json_is_string(v))
		fail_msg("entry %s: no %s '%s'", c->e.id, utf8 ? "text" : "base64", key);
	got = json_string_value(v);
	got_len = utf8 ? (long)json_string_length(v) : b64_decode(got, c->decoded, MSG_MAX + 3);
	if (!utf8)
		got = c->decoded;
	if (got_len != (long)len || memcmp(got, want, len))
		fail_msg("entry %s: '%s' differs (%ld bytes, want %zu)", c->e.id, key, got_len, len);
}

/* Assert the fields of entry j, regenerated in c->e. */
static void fields_check(struct checker *c, const json_t *j)
{
	const json_t *f = json_object_get(j, "fields"), *fb = json_object_get(j, "fields_b64");

	assert_int_equal(json_object_size(f) + json_object_size(fb), c->e.nfields);
	for (size_t i = 0; i < c->e.nfields; i++) {
		const struct logbus_field *fl = &c->e.fields[i];
		text_check(c, f, fb, fl->key, fl->value, fl->len,
			   text_utf8(c->e.field_kind[i], fl->len));
	}
}

/* Which (process, thread, index) the entry's id field names. */
static void entry_id(const json_t *j, unsigned *p, unsigned *t, unsigned *i)
{
	const char *id = json_string_value(json_object_get(json_object_get(j, "fields"), "id"));

	if (!id || sscanf(id, "%u.%u.%u", p, t, i) != 3 || *p >= PROCS || *t >= THREADS)
		fail_msg("entry without a valid id: '%s'", id ? id : "(none)");
}

/* One output entry: the next of its thread, byte-exact, in lane order. */
static void entry_check(json_t *j, void *ctx)
{
	struct checker *c = ctx;
	unsigned p, t, i;
	int64_t lane_seq;

	entry_id(j, &p, &t, &i);
	if (i != c->next[p][t])
		fail_msg("thread %u.%u: entry %u where %u was due", p, t, i, c->next[p][t]);
	c->next[p][t]++;
	entry_make(&c->e, p, t, i);
	assert_int_equal(json_integer_value(json_object_get(j, "pid")), c->rep[p].pid);
	assert_int_equal(json_integer_value(json_object_get(j, "tid")), c->rep[p].thread[t].tid);
	assert_string_equal(json_string_value(json_object_get(j, "level")),
			    logbus_level_name(c->e.level));
	lane_seq = json_integer_value(json_object_get(j, "lane_seq"));
	assert_true(lane_seq > c->lane_seq[p][t]);
	c->lane_seq[p][t] = lane_seq;
	text_check(c, j, j, text_utf8(c->e.kind, c->e.len) ? "msg" : "msg_b64", c->e.msg, c->e.len,
		   text_utf8(c->e.kind, c->e.len));
	fields_check(c, j);
	c->entries++;
}

/* A process's counters add up: every entry queued, every retry counted as
 * dropped for a full lane, nothing else. */
static void report_check(const struct proc_report *rep)
{
	uint64_t eagain = 0;

	for (unsigned t = 0; t < THREADS; t++) {
		assert_int_equal(rep->thread[t].failed, 0);
		eagain += rep->thread[t].eagain;
	}
	assert_int_equal(rep->stats.queued, (uint64_t)PER_THREAD * THREADS);
	assert_int_equal(rep->stats.dropped_full, eagain);
	assert_int_equal(rep->stats.published, rep->stats.queued + eagain);
	assert_int_equal(rep->stats.fallback + rep->stats.dropped_too_large +
				 rep->stats.dropped_no_lane + rep->stats.dropped_fallback, 0);
	assert_int_equal(rep->flushed, 0);
}

/* 250,000 entries from 16 threads in 4 processes, all written exactly once,
 * byte-exact and in order. */
static void test_roundtrip(void **state)
{
	static const char *const geometry[] = { "--lanes", "16", "--lane-size", "1M", NULL };
	struct proc_report *rep = harness_shared(sizeof(*rep) * PROCS);
	struct checker *c = calloc(1, sizeof(*c));
	pid_t pid[PROCS];
	struct harness *h = *state;

	assert_non_null(c);
	harness_start_writer(h, geometry);
	for (unsigned p = 0; p < PROCS; p++) {
		pid[p] = fork();
		assert_true(pid[p] >= 0);
		if (pid[p] == 0)
			producer_process(h->bus, p, &rep[p]);
	}
	for (unsigned p = 0; p < PROCS; p++)
		harness_wait_exit(pid[p], 0);
	harness_stop_writer(h);
	for (unsigned p = 0; p < PROCS; p++)
		report_check(&rep[p]);

	*c = (struct checker){ .rep = rep, .e.msg = malloc(MSG_MAX), .decoded = malloc(MSG_MAX + 3) };
	assert_true(c->e.msg && c->decoded);
	memset(c->lane_seq, -1, sizeof(c->lane_seq));
	harness_each_entry(h, entry_check, c);
	assert_int_equal(c->entries, TOTAL);
	for (unsigned p = 0; p < PROCS; p++)
		for (unsigned t = 0; t < THREADS; t++)
			assert_int_equal(c->next[p][t], PER_THREAD);
	free(c->e.msg);
	free(c->decoded);
	free(c);
}

static int setup(void **state)
{
	*state = harness_new("roundtrip");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
