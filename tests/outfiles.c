/* SPDX-License-Identifier: MIT */
/* Helpers for the file-sink tests (see outfiles.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <cmocka.h>

#include "logbus.h"
#include "outfiles.h"

const char *outfiles_config(const struct harness *h, const char *fmt, ...)
{
	static char path[300];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s.json", h->dir);
	f = fopen(path, "we");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
	return path;
}

void outfiles_start(struct harness *h, const char *config, const char *const *extra)
{
	const char *argv[24] = { "--lanes", "8", "--lane-size", "1M" };
	char err[300];
	int n = 4, saved, fd;

	if (config) {
		argv[n++] = "--config";
		argv[n++] = config;
	}
	for (; extra && *extra && n < 23; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	snprintf(err, sizeof(err), "%s.err", h->dir);
	fd = open(err, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	harness_start_writer(h, argv);
	dup2(saved, 2);
	close(saved);
	close(fd);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *data = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return strdup("");
	do {
		if (cap - n < 65536) {
			cap = cap ? 2 * cap : 65536;
			data = realloc(data, cap + 1);
			assert_non_null(data);
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	data[n] = '\0';
	if (len)
		*len = n;
	return data;
}

char *outfiles_stderr(const struct harness *h)
{
	char path[300];

	snprintf(path, sizeof(path), "%s.err", h->dir);
	return slurp(path, NULL);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir ending in suffix, sorted; returns the count. */
static size_t list(const char *dir, const char *suffix, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !ends_with(de->d_name, suffix))
			continue;
		v = realloc(v, (n + 1) * sizeof(*v));
		assert_non_null(v);
		v[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n)   /* v is NULL when nothing matched: qsort's pointer must not be */
		qsort(v, n, sizeof(*v), name_cmp);
	*out = v;
	return n;
}

size_t outfiles_count(const char *dir, const char *suffix)
{
	char **v;
	size_t n = list(dir, suffix, &v);

	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return n;
}

const char *outfiles_msg(json_t *entries, size_t i)
{
	const char *m = json_string_value(json_object_get(json_array_get(entries, i), "msg"));
	return m ? m : "";
}

bool outfiles_zstd_ok(const char *path)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "zstd -d -q -c '%s' >/dev/null 2>&1", path);
	return system(cmd) == 0;
}

char *outfiles_decompress(const char *path, size_t *len)
{
	size_t zlen, n = 0, cap = 1 << 20;
	char *z = slurp(path, &zlen), *out = malloc(cap + 1);
	ZSTD_DStream *d = ZSTD_createDStream();
	ZSTD_inBuffer in = { z, zlen, 0 };

	assert_non_null(out);
	while (in.pos < in.size) {
		if (cap - n < 65536) {
			cap *= 2;
			out = realloc(out, cap + 1);
			assert_non_null(out);
		}
		ZSTD_outBuffer o = { out + n, cap - n, 0 };
		size_t r = ZSTD_decompressStream(d, &o, &in);
		n += o.pos;
		if (ZSTD_isError(r) || (o.pos == 0 && r != 0 && in.pos == in.size))
			break;
	}
	ZSTD_freeDStream(d);
	free(z);
	out[n] = '\0';
	*len = n;
	return out;
}

/* Hand each line of data[0..len) to fn as JSON, asserting it is valid; a
 * last line without its newline fails, unless cut_ok (then it is left
 * out). */
static void each_line(const char *path, const char *data, size_t len, bool cut_ok,
		      harness_entry_fn fn, void *ctx)
{
	unsigned lineno = 0;

	for (const char *p = data, *end = data + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		json_error_t err;
		json_t *v;

		lineno++;
		if (!nl && cut_ok)
			break;
		if (!nl)
			fail_msg("%s:%u: last line is cut (no newline)", path, lineno);
		v = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL, &err);
		if (!v)
			fail_msg("%s:%u: invalid JSON: %s", path, lineno, err.text);
		fn(v, ctx);
		json_decref(v);
		p = nl + 1;
	}
}

void outfiles_add_lines(json_t *out, const char *path, const char *data, size_t len, bool cut_ok)
{
	each_line(path, data, len, cut_ok, harness_append, out);
}

void outfiles_each_entry(const char *dir, harness_entry_fn fn, void *ctx)
{
	char **v, path[600];
	size_t n = list(dir, "", &v), len;

	for (size_t i = 0; i < n; i++) {
		char *data = NULL;
		snprintf(path, sizeof(path), "%s/%s", dir, v[i]);
		if (ends_with(v[i], ".jsonl")) {
			data = slurp(path, &len);
		} else if (ends_with(v[i], ".jsonl.zst")) {
			if (!outfiles_zstd_ok(path))
				fail_msg("%s: zstd -d refuses it", path);
			data = outfiles_decompress(path, &len);
		}
		if (data)
			each_line(path, data, len, false, fn, ctx);
		free(data);
		free(v[i]);
	}
	free(v);
}

json_t *outfiles_entries(const char *dir)
{
	json_t *out = json_array();

	outfiles_each_entry(dir, harness_append, out);
	return out;
}

json_t *outfiles_documents(const char *dir)
{
	json_t *out = json_array();
	char **v, path[600];
	size_t n = list(dir, ".json", &v);

	for (size_t i = 0; i < n; i++) {
		json_error_t err;
		snprintf(path, sizeof(path), "%s/%s", dir, v[i]);
		json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &err);
		if (!doc)
			fail_msg("%s: invalid JSON: %s", path, err.text);
		json_array_append_new(out, doc);
		free(v[i]);
	}
	free(v);
	return out;
}

void outfiles_producer_start(struct outfiles_producer *p, const char *bus, const char *tag,
			     long pause_us)
{
	_Atomic uint64_t *sh = harness_shared(2 * sizeof(*sh));

	const char *tmp = getenv("TMPDIR");

	p->stop = (_Atomic int *)&sh[0];
	p->done = &sh[1];
	snprintf(p->fallback, sizeof(p->fallback), "%s/logbus-fallback-%s-%s",
		 tmp && *tmp ? tmp : "/tmp", bus, tag);
	unlink(p->fallback);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid)
		return;
	setenv("LOGBUS_FALLBACK", p->fallback, 1);
	logbus_t *lb = logbus_open(bus);
	uint64_t n = 0;
	char num[24];
	while (lb && !*p->stop) {
		struct logbus_field f = { .key = "n", .value = num };
		f.len = (size_t)snprintf(num, sizeof(num), "%" PRIu64, n);
		int r = logbus_publishv(lb, LOGBUS_INFO, tag, num, f.len, &f, 1);
		if (r == -EAGAIN) {
			harness_sleep_us(100);
			continue;
		}
		if (r < 0)
			_exit(1);
		*p->done = ++n;
		if (pause_us && n % 8 == 0)
			harness_sleep_us(pause_us);
	}
	_exit(lb && logbus_flush(lb, 30000) == 0 ? 0 : 2);
}

uint64_t outfiles_producer_stop(struct outfiles_producer *p)
{
	*p->stop = 1;
	harness_wait_exit(p->pid, 0);
	return *p->done;
}

void outfiles_add_fallback(json_t *entries, const struct outfiles_producer *p)
{
	size_t len;
	char *data = slurp(p->fallback, &len);

	outfiles_add_lines(entries, p->fallback, data, len, false);
	free(data);
}

void outfiles_check_once(json_t *entries, const char *tag, uint64_t count)
{
	uint8_t *seen = calloc(count ? count : 1, 1);
	size_t i;
	json_t *e;

	assert_non_null(seen);
	json_array_foreach(entries, i, e) {
		const char *t = json_string_value(json_object_get(e, "tag"));
		const char *n = json_string_value(json_object_get(json_object_get(e, "fields"), "n"));
		if (!t || strcmp(t, tag) != 0)
			continue;
		assert_non_null(n);
		uint64_t v = strtoull(n, NULL, 10);
		if (v >= count)
			fail_msg("entry n=%s was never published (published %" PRIu64 ")", n, count);
		if (seen[v]++)
			fail_msg("entry %s n=%" PRIu64 " written twice (lane %lld, lane_seq %lld)", tag, v,
				 json_integer_value(json_object_get(e, "lane")),
				 json_integer_value(json_object_get(e, "lane_seq")));
	}
	for (uint64_t k = 0; k < count; k++)
		if (!seen[k])
			fail_msg("entry %s n=%" PRIu64 " of %" PRIu64 " is missing", tag, k, count);
	free(seen);
}
