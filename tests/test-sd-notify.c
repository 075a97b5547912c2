/* SPDX-License-Identifier: MIT */
/* Description: under a service manager (NOTIFY_SOCKET, WATCHDOG_USEC) the
 * writer sends READY=1, STATUS= with entries/s and drops, WATCHDOG=1,
 * RELOADING=1 on SIGHUP and STOPPING=1 on SIGTERM; and a configuration
 * choosing the syslog sink on a unix socket feeds that socket (the
 * configuration wires the other sinks in). */
#include <errno.h>
#include <poll.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "logbus.h"
#include "outfiles.h"

/* A datagram socket bound at <h->dir><suffix>. */
static int bind_dgram(const struct harness *h, const char *suffix, char *path, size_t cap)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(path, cap, "%s%s", h->dir, suffix);
	assert_true(strlen(path) < sizeof(a.sun_path));
	strcpy(a.sun_path, path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Read datagrams for up to 10 s until one holds what; returns whether. */
static bool await(int fd, const char *what, char *last, size_t cap)
{
	for (int i = 0; i < 100; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = recv(fd, last, cap - 1, 0);
		if (n < 0)
			continue;
		last[n] = '\0';
		if (strstr(last, what))
			return true;
	}
	return false;
}

/* The notifications of a life: ready, status, watchdog, reload, stop. */
static void test_notify(void **state)
{
	char path[300], msg[1024];
	struct harness h;
	logbus_t *lb;
	int fd;

	(void)state;
	harness_init(&h, "notify");
	fd = bind_dgram(&h, ".notify", path, sizeof(path));
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	outfiles_start(&h, outfiles_config(&h, "{\"status_interval\":1}"), NULL);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publishf(lb, LOGBUS_INFO, "n", "one"), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);

	assert_true(await(fd, "READY=1", msg, sizeof(msg)));
	assert_true(await(fd, "WATCHDOG=1", msg, sizeof(msg)));
	assert_true(await(fd, "entries/s", msg, sizeof(msg)));
	assert_non_null(strstr(msg, "STATUS="));
	assert_non_null(strstr(msg, "dropped"));
	assert_int_equal(kill(h.writer, SIGHUP), 0);
	assert_true(await(fd, "RELOADING=1", msg, sizeof(msg)));
	assert_true(await(fd, "READY=1", msg, sizeof(msg)));
	harness_stop_writer(&h);
	assert_true(await(fd, "STOPPING=1", msg, sizeof(msg)));

	close(fd);
	unlink(path);
	logbus_close(lb);
	harness_fini(&h);
}

/* format syslog with a unix destination: the entry reaches the socket as
 * RFC 5424 with its tag and message. */
static void test_syslog_wired(void **state)
{
	char path[300], msg[1024];
	struct harness h;
	logbus_t *lb;
	int fd;

	(void)state;
	harness_init(&h, "wired");
	fd = bind_dgram(&h, ".log", path, sizeof(path));
	outfiles_start(&h, outfiles_config(&h, "{\"format\":\"syslog\",\"syslog\":[{\"transport\":"
						"\"unix\",\"socket\":\"%s\"}]}", path), NULL);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publishf(lb, LOGBUS_WARNING, "wiretag", "over syslog"), 0);
	assert_int_equal(logbus_flush(lb, 5000), 0);
	assert_true(await(fd, "over syslog", msg, sizeof(msg)));
	assert_non_null(strstr(msg, "wiretag"));
	assert_true(msg[0] == '<');
	harness_stop_writer(&h);
	close(fd);
	unlink(path);
	logbus_close(lb);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_syslog_wired),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
