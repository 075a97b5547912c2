/* SPDX-License-Identifier: MIT */
/* Reading samples of the stats segment, the writer's state, rates and
 * number formatting, shared by logbus-top and logbus-stat. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "procstat.h"
#include "view.h"

static bool bus_exists(const char *bus)
{
	char path[LB_BUS_PATH_MAX];
	int fd;

	if (lb_bus_path(bus, NULL, path) < 0)
		return false;
	fd = shm_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return errno != ENOENT;
	close(fd);
	return true;
}

/* Whether pid runs no process: none, or a zombie nobody reaped yet. Unlike
 * the writer's process_gone (writer/lane_table.c) it ignores pid reuse: the
 * stats name the writer by pid alone. */
static bool pid_not_running(pid_t pid)
{
	char path[64], buf[1024], state;
	uint64_t start;
	FILE *f;
	bool ok;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) && lb_proc_stat_parse(buf, &state, &start);
	fclose(f);
	return ok && (state == 'Z' || state == 'X');
}

static enum mon_state writer_state(const struct lb_stats_snapshot *s, uint64_t now)
{
	if (pid_not_running(s->writer_pid))
		return MON_DEAD;
	if (now > s->heartbeat_ns && now - s->heartbeat_ns > MON_STALL_NS)
		return MON_STALLED;
	return MON_ALIVE;
}

int mon_sample_read(const char *bus, struct mon_sample *m, char *why, size_t whylen)
{
	struct lb_bus_error err = { "" };
	int r;

	*m = (struct mon_sample){ 0 };
	if (!lb_bus_name_valid(bus)) {
		snprintf(why, whylen, "bad bus name '%s' (want 1-64 of [A-Za-z0-9_.-])", bus);
		return -EINVAL;
	}
	r = lb_stats_read(bus, &m->s, &err);
	if (r == -ENOENT) {
		if (bus_exists(bus))
			snprintf(why, whylen, "bus '%s' has no stats segment: is its writer "
				 "a logbus-writer with stats?", bus);
		else
			snprintf(why, whylen, "bus '%s' does not exist (no logbus-writer "
				 "has run on it)", bus);
		return r;
	}
	if (r < 0) {
		snprintf(why, whylen, "%s", err.why);
		return r;
	}
	m->taken_ns = lb_clock_ns(CLOCK_MONOTONIC);
	m->taken_real_ns = lb_clock_ns(CLOCK_REALTIME);
	m->state = writer_state(&m->s, m->taken_ns);
	return 0;
}

void mon_sample_free(struct mon_sample *m)
{
	lb_stats_snapshot_free(&m->s);
}

const char *mon_state_name(enum mon_state st)
{
	switch (st) {
	case MON_ALIVE:
		return "alive";
	case MON_STALLED:
		return "stalled";
	default:
		return "dead";
	}
}

uint64_t mon_uptime_s(const struct mon_sample *m)
{
	uint64_t end = m->state == MON_DEAD ? m->s.updated_ns : m->taken_real_ns;

	return end > m->s.start_ns ? (end - m->s.start_ns) / 1000000000u : 0;
}

double mon_rate(uint64_t now, uint64_t before, uint64_t dt_ns)
{
	if (!dt_ns || now < before)
		return 0;
	return (double)(now - before) * 1e9 / (double)dt_ns;
}

bool mon_same_writer(const struct mon_sample *a, const struct mon_sample *b)
{
	return a->s.start_ns == b->s.start_ns && a->s.nclients == b->s.nclients;
}

const struct lb_stats_client *mon_client_find(const struct mon_sample *m,
					      const struct lb_stats_client *c)
{
	if (c->lane >= m->s.nclients)
		return NULL;
	const struct lb_stats_client *o = &m->s.clients[c->lane];
	return o->claim == c->claim && o->state != LB_STATS_CLIENT_FREE ? o : NULL;
}

int mon_parse_seconds(const char *tool, const char *opt, const char *s, double lo, double hi,
		      double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || end == s || !(v >= lo && v <= hi)) {
		fprintf(stderr, "%s: %s '%s' is not a number of seconds in %g..%g\n", tool, opt, s,
			lo, hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

const char *mon_fmt_count(char buf[16], double v)
{
	static const char units[] = " kMGTPE";
	unsigned u = 0;

	while (v >= 999.5 && u < sizeof(units) - 2) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, 16, "%.0f", v);
	else
		snprintf(buf, 16, v < 9.995 ? "%.2f%c" : v < 99.95 ? "%.1f%c" : "%.0f%c", v,
			 units[u]);
	return buf;
}

const char *mon_fmt_ns(char buf[16], uint64_t ns)
{
	double v = (double)ns;

	if (ns < 1000)
		snprintf(buf, 16, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, 16, "%.1fus", v / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, 16, "%.1fms", v / 1e6);
	else
		snprintf(buf, 16, "%.2fs", v / 1e9);
	return buf;
}

const char *mon_fmt_uptime(char buf[24], uint64_t s)
{
	if (s >= 86400)
		snprintf(buf, 24, "%llud%02lluh%02llum", (unsigned long long)(s / 86400),
			 (unsigned long long)(s / 3600 % 24), (unsigned long long)(s / 60 % 60));
	else if (s >= 3600)
		snprintf(buf, 24, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
	else
		snprintf(buf, 24, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	return buf;
}

const char *mon_fmt_time(char buf[40], uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (!ns || !gmtime_r(&t, &tm) || tm.tm_year > 9999 - 1900) {
		snprintf(buf, 40, "-");
		return buf;
	}
	strftime(buf, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}
