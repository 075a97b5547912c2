/* SPDX-License-Identifier: MIT */
/* Services for the sink tests, through scripts/services.sh. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "services.h"

static const char *script(void)
{
	const char *s = getenv("LOGBUS_TEST_SERVICES");
	return s ? s : "scripts/services.sh";
}

bool services_run(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;

	if (!p)
		return false;
	if (out) {
		n = fread(out, 1, cap - 1, p);
		out[n] = '\0';
	} else {
		char sink[256];
		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	return pclose(p) == 0;
}

/* A service is missing: fail in CI, skip elsewhere. */
static void unavailable(const char *what)
{
	const char *ci = getenv("CI");

	if (ci && !strcmp(ci, "true"))
		fail_msg("%s cannot be started (see the line above); CI needs it", what);
	fprintf(stderr, "SKIP: %s cannot be started (see the line above); "
		"run scripts/services.sh as root, or set CI=true to fail\n", what);
	exit(77);
}

void services_journald(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s journald", script());
	if (!services_run(cmd, NULL, 0))
		unavailable("systemd-journald");
}

void services_journald_namespace(const char *ns)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s journald-namespace '%s'", script(), ns);
	if (!services_run(cmd, NULL, 0))
		unavailable("systemd-journald (namespace)");
}

void services_journald_namespace_stop(const char *ns, const char *how)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s stop-journald-namespace '%s' %s", script(), ns, how);
	assert_true(services_run(cmd, NULL, 0));
}

void services_rsyslogd_start(struct rsyslogd *r, const char *test)
{
	char cmd[512], out[512];
	const char *tmp = getenv("TMPDIR");
	int pid;

	if (!r->dir[0])
		snprintf(r->dir, sizeof(r->dir), "%s/logbus-rsyslogd-%s-%d",
			 tmp && *tmp ? tmp : "/tmp", test, (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s rsyslogd '%s'", script(), r->dir);
	if (!services_run(cmd, out, sizeof(out)))
		unavailable("rsyslogd");
	if (sscanf(out, "unix=%299s tcp=%7s relp=%7s pid=%d", r->unix_path, r->tcp_port,
		   r->relp_port, &pid) != 4)
		fail_msg("services.sh rsyslogd printed '%s'", out);
	r->pid = pid;
}

void services_rsyslogd_kill(struct rsyslogd *r, int sig)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s stop-rsyslogd '%s' %d", script(), r->dir, sig);
	assert_true(services_run(cmd, NULL, 0));
	r->pid = 0;
}

void services_rsyslogd_fini(struct rsyslogd *r)
{
	char cmd[600];

	if (!r->dir[0])
		return;
	services_rsyslogd_kill(r, SIGTERM);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
	assert_true(services_run(cmd, NULL, 0));
}

void services_stop_all(struct harness *h, struct rsyslogd *r)
{
	if (h->bus[0])
		harness_fini(h);
	*h = (struct harness){ .writer = 0 };
	services_rsyslogd_fini(r);
	*r = (struct rsyslogd){ .dir = "" };
}

json_t *services_rsyslogd_read(const struct rsyslogd *r, const char *name)
{
	char path[400], *line = NULL;
	size_t cap = 0;
	json_t *all = json_array();
	unsigned lineno = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.log", r->dir, name);
	f = fopen(path, "re");
	if (!f)
		return all;
	/* rsyslogd may be writing the last line as we read: a line without
	 * its newline yet is left for the next read. */
	while ((n = getline(&line, &cap, f)) > 0 && line[n - 1] == '\n') {
		json_error_t err;
		json_t *o = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &err);

		lineno++;
		if (!o)
			fail_msg("%s: line %u: %s", path, lineno, err.text);
		json_array_append_new(all, o);
	}
	free(line);
	fclose(f);
	return all;
}

const char *services_syslog_config(const struct rsyslogd *r, const char *transport,
				   unsigned buffer)
{
	static char path[400];
	json_t *dest = json_pack("{s:s, s:s, s:i, s:i}", "transport", transport, "facility",
				 "local0", "buffer_entries", (int)buffer, "reconnect_max_ms", 500);

	if (!strcmp(transport, "unix"))
		json_object_set_new(dest, "socket", json_string(r->unix_path));
	else
		json_object_update_new(dest, json_pack("{s:s, s:s}", "host", "127.0.0.1", "port",
						       strcmp(transport, "tcp") ? r->relp_port
										 : r->tcp_port));
	json_t *conf = json_pack("{s:[s], s:[o]}", "format", "syslog", "syslog", dest);
	snprintf(path, sizeof(path), "%s/writer-%s.json", r->dir, transport);
	assert_int_equal(json_dump_file(conf, path, 0), 0);
	json_decref(conf);
	return path;
}

/* The sink's counters in one logbus-stat --json report; NULL if none. */
static json_t *sink_report(const char *bus, const char *sink)
{
	char cmd[512];
	static char out[1 << 16];
	json_t *all, *s, *found = NULL;
	size_t i;

	snprintf(cmd, sizeof(cmd), "'%s' --bus '%s' --json", getenv("LOGBUS_TEST_STAT"), bus);
	if (!services_run(cmd, out, sizeof(out)))
		return NULL;
	all = json_loads(out, 0, NULL);
	json_array_foreach(json_object_get(all, "sinks"), i, s)
		if (!found && !strcmp(json_string_value(json_object_get(s, "name")), sink))
			found = json_incref(s);
	json_decref(all);
	return found;
}

unsigned long long services_sink_dropped(const char *bus, const char *sink,
					 unsigned long long want)
{
	for (int i = 0; i < 400; i++) {
		json_t *s = sink_report(bus, sink);
		unsigned long long written = json_integer_value(json_object_get(s, "written"));
		unsigned long long dropped = json_integer_value(json_object_get(s, "dropped"));
		json_decref(s);
		if (written >= want)
			return dropped;
		nanosleep(&(struct timespec){ .tv_nsec = 25 * 1000000 }, NULL);
	}
	fail_msg("logbus-stat never reported %llu entries taken by sink %s", want, sink);
	return 0;
}

char *services_sink_error_now(const char *bus, const char *sink, bool *found)
{
	json_t *s = sink_report(bus, sink);
	const char *e = json_string_value(json_object_get(s, "last_error"));
	char *copy = e ? strdup(e) : NULL;

	*found = s != NULL;
	json_decref(s);
	return copy;
}

char *services_sink_last_error(const char *bus, const char *sink, bool set)
{
	for (int i = 0; i < 400; i++) {
		bool found;
		char *e = services_sink_error_now(bus, sink, &found);
		if (found && (e != NULL) == set)
			return e;
		free(e);
		nanosleep(&(struct timespec){ .tv_nsec = 25 * 1000000 }, NULL);
	}
	fail_msg("logbus-stat never reported sink %s's last_error %s", sink,
		 set ? "set" : "null");
	return NULL;
}

const char *services_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s)
		fail_msg("%s missing or not a string", key);
	return s;
}
