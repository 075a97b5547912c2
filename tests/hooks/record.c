/* SPDX-License-Identifier: MIT */
/*
 * Test plugin: an action that records, per entry, its label, the entry's
 * message and when the call started and ended (CLOCK_MONOTONIC ns), after
 * sleeping sleep_ms, then the identity the writer gave it (pid=, uid=,
 * gid=, comm=, "-" for none). Config: { "file": PATH, "label": "A", "sleep_ms": N }.
 * Its constructor creates $LOGBUS_TEST_MARKER when set, to show when the
 * writer loaded it.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logbus-hook.h"

struct record {
	int fd;
	char label[32];
	long sleep_ms;
};

__attribute__((constructor)) static void loaded(void)
{
	const char *marker = getenv("LOGBUS_TEST_MARKER");
	int fd = marker ? open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) : -1;

	if (fd >= 0)
		close(fd);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int record_init(const char *config, void **state)
{
	json_t *c = json_loads(config, 0, NULL);
	const char *file = json_string_value(json_object_get(c, "file"));
	struct record *r = calloc(1, sizeof(*r));

	if (!c || !file || !r) {
		json_decref(c);
		free(r);
		return -EINVAL;
	}
	r->fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	snprintf(r->label, sizeof(r->label), "%s",
		 json_string_value(json_object_get(c, "label")) ?: "?");
	r->sleep_ms = (long)json_integer_value(json_object_get(c, "sleep_ms"));
	json_decref(c);
	*state = r;
	return r->fd < 0 ? -errno : 0;
}

static int record_action(void *state, const struct logbus_hook_entry *e)
{
	struct record *r = state;
	uint64_t start = now_ns();
	char line[512];
	int n;

	nanosleep(&(struct timespec){ .tv_sec = r->sleep_ms / 1000,
				      .tv_nsec = (r->sleep_ms % 1000) * 1000000L }, NULL);
	n = snprintf(line, sizeof(line), "%s %.*s %llu %llu pid=%u uid=%u gid=%u comm=%s\n",
		     r->label, (int)e->msg_len, e->msg, (unsigned long long)start,
		     (unsigned long long)now_ns(), e->pid, e->uid, e->gid, e->comm ? e->comm : "-");
	return write(r->fd, line, (size_t)n) == n ? 0 : -EIO;
}

static void record_fini(void *state)
{
	struct record *r = state;

	close(r->fd);
	free(r);
}

LOGBUS_HOOK_DEFINE(.name = "record", .init = record_init, .action = record_action,
		   .fini = record_fini);
