/* SPDX-License-Identifier: MIT */
/* Description: a real rsyslogd, started with a private config, receives
 * the syslog sink's RFC 5424 messages over a unix socket, TCP and RELP,
 * and their structured data round-trips: metadata, every field with '"',
 * '\' and ']' in it, binary values and keys too long for an SD-NAME. A
 * unix socket that is a stream socket gets NUL-terminated messages.
 * PROCID and the uid, gid, comm and exe params are the publishing
 * process's, as the kernel gave them. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"
#include "services.h"

#define LONG_KEY "k234567890123456789012345678901234567890"   /* 40 > 32 */

static struct rsyslogd rs;

/* The SD-ELEMENTs of a structured-data string as {id: {name: value}};
 * fails the test on anything that is not RFC 5424 SD. */
static json_t *parse_sd(const char *p)
{
	json_t *all = json_object();
	char name[64], *val = malloc(strlen(p) + 1);

	assert_non_null(val);
	while (*p == '[') {
		size_t n = strcspn(++p, " ]");
		json_t *el = json_object();
		assert_true(n < sizeof(name));
		memcpy(name, p, n);
		name[n] = '\0';
		json_object_set_new(all, name, el);
		p += n;
		while (*p == ' ') {
			n = strcspn(++p, "=");
			assert_true(n < sizeof(name) && p[n] == '=' && p[n + 1] == '"');
			memcpy(name, p, n);
			name[n] = '\0';
			size_t k = 0;
			for (p += n + 2; *p != '"'; p++) {
				assert_true(*p != '\0' && *p != ']');
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == ']'))
					p++;
				val[k++] = *p;
			}
			val[k] = '\0';
			json_object_set_new(el, name, json_string(val));
			p++;
		}
		assert_int_equal(*p++, ']');
	}
	assert_int_equal(*p, '\0');
	free(val);
	return all;
}

/* Poll the rsyslogd output until it holds want lines; rsyslogd writes
 * what it got in its own time. */
static json_t *await_lines(const char *name, size_t want)
{
	json_t *got = NULL;

	for (int i = 0; i < 200; i++) {
		json_decref(got);
		got = services_rsyslogd_read(&rs, name);
		if (json_array_size(got) >= want)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000000 }, NULL);
	}
	return got;
}

/* Publish two entries through a writer whose syslog sink sends over
 * transport name, and check what rsyslogd logged. */
static void round_trip(const char *name)
{
	struct logbus_field f[] = {
		{ "user", "bob", 3 }, { "quote", "a\"b", 3 }, { "back", "c\\d", 3 },
		{ "bracket", "e]f", 3 }, { "all", "\"\\]", 3 }, { "utf8", "h\xc3\xa9llo", 6 },
		{ "bin", "\xff\xfe", 2 }, { LONG_KEY, "v]", 2 },
	};
	const char *args[] = { "--config", services_syslog_config(&rs, name, 1000), "--lanes", "4",
			       "--lane-size", "1M", NULL };
	struct harness h;
	struct harness_self self;
	char tag[64], pid[16], num[16];
	logbus_t *lb;
	json_t *got, *sd, *ours, *fields, *e;

	harness_self(&self);
	harness_init(&h, name);
	harness_start_writer(&h, args);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	snprintf(tag, sizeof(tag), "app-%s", name);
	assert_int_equal(logbus_publishv(lb, LOGBUS_ERR, tag, "hello", 5, f, 8), 0);
	assert_int_equal(logbus_publish(lb, LOGBUS_DEBUG, tag, "two\nlines", 9), 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	harness_stop_writer(&h);
	logbus_close(lb);
	harness_fini(&h);

	got = await_lines(name, 2);
	assert_int_equal(json_array_size(got), 2);
	e = json_array_get(got, 0);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	assert_string_equal(services_str(e, "pri"), "131");      /* local0.err */
	assert_string_equal(services_str(e, "app"), tag);
	assert_string_equal(services_str(e, "procid"), pid);
	assert_string_equal(services_str(e, "msg"), "hello");
	sd = parse_sd(services_str(e, "sd"));
	fields = json_object_get(sd, "fields@32473");
	ours = json_object_get(sd, "logbus@32473");
	assert_non_null(ours);
	assert_string_equal(services_str(ours, "lane_seq"), "0");
	snprintf(num, sizeof(num), "%u", self.uid);
	assert_string_equal(services_str(ours, "uid"), num);
	snprintf(num, sizeof(num), "%u", self.gid);
	assert_string_equal(services_str(ours, "gid"), num);
	assert_string_equal(services_str(ours, "comm"), self.comm);
	assert_string_equal(services_str(ours, "exe"), self.exe);
	assert_string_equal(services_str(fields, "user"), "bob");
	assert_string_equal(services_str(fields, "quote"), "a\"b");
	assert_string_equal(services_str(fields, "back"), "c\\d");
	assert_string_equal(services_str(fields, "bracket"), "e]f");
	assert_string_equal(services_str(fields, "all"), "\"\\]");
	assert_string_equal(services_str(fields, "utf8"), "h\xc3\xa9llo");
	assert_string_equal(services_str(fields, "bin.b64"), "//4=");
	assert_string_equal(services_str(fields, "long-key"), LONG_KEY "=v]");
	json_decref(sd);
	e = json_array_get(got, 1);
	assert_string_equal(services_str(e, "pri"), "135");      /* local0.debug */
	assert_string_equal(services_str(e, "msg"), "two\nlines");
	json_decref(got);
}

/* Over the private unix datagram socket. */
static void test_unix(void **state)
{
	(void)state;
	round_trip("unix");
}

/* Over TCP with octet counting. */
static void test_tcp(void **state)
{
	(void)state;
	round_trip("tcp");
}

/* Over RELP. */
static void test_relp(void **state)
{
	(void)state;
	round_trip("relp");
}

/* A stream socket where a datagram one was expected: the sink falls back
 * to a stream and ends each message with a NUL, as glibc's syslog() does. */
static void test_unix_stream(void **state)
{
	struct rsyslogd stream = rs;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), c;
	char buf[4096], *second;
	size_t n = 0;
	ssize_t r;

	(void)state;
	snprintf(stream.unix_path, sizeof(stream.unix_path), "%s/stream.sock", rs.dir);
	assert_true(strlen(stream.unix_path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, stream.unix_path, strlen(stream.unix_path) + 1);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	const char *args[] = { "--config", services_syslog_config(&stream, "unix", 1000), NULL };
	struct harness h;
	harness_init(&h, "stream");
	harness_start_writer(&h, args);
	logbus_t *lb = logbus_open(h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "app-stream", "one", 3), 0);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "app-stream", "two", 3), 0);
	assert_int_equal(logbus_flush(lb, 10000), 0);
	harness_stop_writer(&h);        /* it sends what it queued, then closes */
	logbus_close(lb);
	harness_fini(&h);

	/* The connection waits in the backlog with its bytes, then EOF. */
	c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c >= 0);
	while ((r = read(c, buf + n, sizeof(buf) - n)) > 0)
		n += (size_t)r;
	close(c);
	close(l);
	assert_true(n > 2 && buf[n - 1] == '\0');
	second = memchr(buf, '\0', n) + 1;
	assert_true(second < buf + n);
	assert_true(!strncmp(buf, "<134>1 ", 7) && !strcmp(buf + strlen(buf) - 4, " one"));
	assert_true(!strncmp(second, "<134>1 ", 7) && !strcmp(second + strlen(second) - 4, " two"));
}

static int setup(void **state)
{
	(void)state;
	services_rsyslogd_start(&rs, "syslog");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	services_rsyslogd_fini(&rs);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unix),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_relp),
		cmocka_unit_test(test_unix_stream),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
