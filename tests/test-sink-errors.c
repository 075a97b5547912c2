/* SPDX-License-Identifier: MIT */
/* Description: a sink's failure is told while it lasts. A syslog sink
 * whose socket does not exist shows the cause in the stats' last_error
 * (not null beside a growing error count) and says so in one line on
 * stderr when it starts; when the socket appears, one line says it works
 * again and last_error is null. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include "services.h"

/* How often the writer's stderr holds what. */
static int stderr_count(const struct harness *h, const char *what)
{
	char *err = outfiles_stderr(h);
	int n = 0;

	for (const char *p = err; (p = strstr(p, what)); p += strlen(what))
		n++;
	free(err);
	return n;
}

static void test_syslog_socket_missing(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct harness h;
	char sock[sizeof(addr.sun_path)], *e;
	logbus_t *lb;
	int fd;

	(void)state;
	harness_init(&h, "sink-errors");
	assert_true(strlen(h.dir) + 6 <= sizeof(addr.sun_path));
	memcpy(sock, h.dir, strlen(h.dir));
	memcpy(sock + strlen(h.dir), ".sock", 6);
	outfiles_start(&h, outfiles_config(&h, "{\"format\":[\"syslog\"],\"syslog\":[{"
					   "\"transport\":\"unix\",\"socket\":\"%s\","
					   "\"reconnect_max_ms\":50}]}", sock), NULL);
	lb = logbus_open(h.bus);
	assert_non_null(lb);
	assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "t", "waits", 5), 0);

	e = services_sink_last_error(h.bus, "syslog", true);
	assert_string_equal(e, strerror(ENOENT));
	free(e);
	assert_int_equal(stderr_count(&h, "sink syslog (unix socket "), 1);
	assert_int_equal(stderr_count(&h, "fails: No such file or directory"), 1);

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memcpy(addr.sun_path, sock, sizeof(sock));
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_null(services_sink_last_error(h.bus, "syslog", false));
	assert_int_equal(stderr_count(&h, "works again after "), 1);
	assert_int_equal(stderr_count(&h, "; 1 entries waited\n"), 1);
	assert_int_equal(stderr_count(&h, "fails:"), 1);

	assert_int_equal(logbus_flush(lb, 10000), 0);
	logbus_close(lb);
	harness_stop_writer(&h);
	close(fd);
	unlink(sock);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syslog_socket_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
