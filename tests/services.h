/* SPDX-License-Identifier: MIT */
/*
 * Services for the sink tests: journald and private rsyslogds started
 * through scripts/services.sh, and the writer that feeds them. A service
 * that cannot be started fails the test when CI=true, and skips it (exit
 * 77, with the reason) otherwise.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "harness.h"

struct rsyslogd {
	char dir[256];
	char unix_path[300];
	char tcp_port[8];
	char relp_port[8];
	pid_t pid;
};

/* services_journald - make sure systemd-journald runs. */
void services_journald(void);

/* services_journald_namespace - start (or restart) the private journald
 * of namespace ns; services_journald_namespace_stop signals it ("KILL",
 * "TERM") or, with "remove", stops it and removes its journal. */
void services_journald_namespace(const char *ns);
void services_journald_namespace_stop(const char *ns, const char *how);

/* services_rsyslogd_start - start (or restart, with the same ports) the
 * private rsyslogd of r->dir; r->dir is set by the first call from test. */
void services_rsyslogd_start(struct rsyslogd *r, const char *test);

/* services_rsyslogd_kill - signal it and wait until it is gone. */
void services_rsyslogd_kill(struct rsyslogd *r, int sig);

/* services_rsyslogd_fini - stop it and remove its directory. */
void services_rsyslogd_fini(struct rsyslogd *r);

/* services_stop_all - a teardown's work, after a failure too: end h's
 * writer and bus and r's rsyslogd, so that none outlives its test, and
 * leave both ready for the next test. */
void services_stop_all(struct harness *h, struct rsyslogd *r);

/* services_rsyslogd_read - the JSON objects of the whole lines in
 * r->dir/NAME.log ("unix", "tcp", "relp"), as an array; an empty one when
 * there is no file. A last line still being written is left out. */
json_t *services_rsyslogd_read(const struct rsyslogd *r, const char *name);

/* services_syslog_config - write a writer configuration into r->dir
 * that runs one syslog sink to the rsyslogd over transport ("unix",
 * "tcp", "relp") keeping buffer entries while it is down; returns its
 * path (static storage). */
const char *services_syslog_config(const struct rsyslogd *r, const char *transport,
				   unsigned buffer);

/* services_sink_counters - wait until the writer on bus reports that its
 * sink named sink took at least want entries (logbus-stat --json), and
 * return what it reported as dropped. */
unsigned long long services_sink_dropped(const char *bus, const char *sink,
					 unsigned long long want);

/* services_sink_last_error - wait (10 s at most) until the writer on bus
 * reports its sink named sink with a last_error (set true) or with a null
 * one; returns it (malloc()ed) or NULL. */
char *services_sink_last_error(const char *bus, const char *sink, bool set);

/* services_sink_error_now - the same, read once: NULL when null, *found
 * whether the report held the sink. */
char *services_sink_error_now(const char *bus, const char *sink, bool *found);

/* services_str - the string under key in o; fails the test when there
 * is none. */
const char *services_str(json_t *o, const char *key);

/* services_run - run a shell command, return its stdout (at most cap-1
 * bytes, NUL-terminated) and whether it exited 0. */
bool services_run(const char *cmd, char *out, size_t cap);
