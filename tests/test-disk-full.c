/* SPDX-License-Identifier: MIT */
/* Description: the file sink on a full file system (a 1 MiB tmpfs):
 * ENOSPC reported once on stderr and in the sink's counters, the other
 * sinks (a per-entry sink elsewhere) still fed, the file sink resumes when
 * space returns, and written + dropped accounts for every entry. Needs
 * root for mount(8); skipped without it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "logbus.h"
#include "outfiles.h"

#define FILLER_BYTES ((1u << 20) - (48u << 10))

static void publish(logbus_t *lb, int first, int count)
{
	char msg[1000];

	memset(msg, 'x', sizeof(msg));
	for (int i = first; i < first + count; i++) {
		int n = snprintf(msg, sizeof(msg), "%d ", i);
		msg[n] = 'x';
		assert_int_equal(logbus_publish(lb, LOGBUS_INFO, "full", msg, sizeof(msg)), 0);
		if (i % 10 == 9)
			assert_int_equal(logbus_flush(lb, 5000), 0);
	}
	assert_int_equal(logbus_flush(lb, 5000), 0);
}

static size_t count_of(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* Fill, overflow, free, resume; then check the accounting. */
static void test_disk_full(void **state)
{
	unsigned long long written, bytes, errors, dropped;
	char filler[400], entries[400], config[800], *err, *line;
	struct harness h;
	logbus_t *lb;
	json_t *all;
	int fd;

	(void)state;
	harness_init(&h, "full");
	assert_int_equal(mkdir(h.dir, 0750), 0);
	if (mount("tmpfs", h.dir, "tmpfs", 0, "size=1m") < 0) {
		rmdir(h.dir);
		skip();
	}
	snprintf(filler, sizeof(filler), "%s/filler", h.dir);
	fd = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(posix_fallocate(fd, 0, FILLER_BYTES), 0);
	close(fd);
	snprintf(entries, sizeof(entries), "%s.entries", h.dir);
	snprintf(config, sizeof(config), "{\"entry_files\":[{\"dir\":\"%s\",\"tag\":\"*\"}]}",
		 entries);
	outfiles_start(&h, outfiles_config(&h, "%s", config), NULL);
	lb = logbus_open(h.bus);
	assert_non_null(lb);

	publish(lb, 0, 200);                /* about 220 KB: the disk fills */
	assert_int_equal(unlink(filler), 0);
	publish(lb, 200, 50);               /* space again */
	harness_stop_writer(&h);

	err = outfiles_stderr(&h);
	assert_int_equal(count_of(err, "sink file failed: No space left on device"), 1);
	assert_int_equal(count_of(err, "sink file works again"), 1);
	line = strstr(err, "sink file: ");
	assert_non_null(line);
	assert_int_equal(sscanf(line, "sink file: %llu written, %llu bytes, %llu errors, "
				"%llu dropped", &written, &bytes, &errors, &dropped), 4);
	assert_true(dropped > 0);
	assert_true(errors > 0);
	assert_int_equal(written + dropped, 250);
	all = outfiles_entries(h.dir);
	assert_int_equal(json_array_size(all), written);
	/* The last entries, after the space came back, are in the file. */
	assert_non_null(strstr(json_string_value(json_object_get(
		json_array_get(all, json_array_size(all) - 1), "msg")), "249 "));
	json_decref(all);
	assert_int_equal(outfiles_count(entries, ".json"), 250);
	free(err);

	logbus_close(lb);
	assert_int_equal(umount(h.dir), 0);
	char cmd[500];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", entries);
	assert_int_equal(system(cmd), 0);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
