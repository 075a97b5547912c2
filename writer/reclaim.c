/* SPDX-License-Identifier: MIT */
/*
 * Reclaiming lanes. A lane comes back to the free pool when the writer has
 * drained it and its owner either released it (thread exit, logbus_close)
 * or died. Death is read from /proc/<pid>/stat: gone, a zombie, or a
 * different start time (the pid was reused).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "drain.h"
#include "lane.h"
#include "procstat.h"
#include "reclaim.h"
#include "stats_publish.h"

#define RECHECK_NS (250 * 1000000ull)

bool process_gone(pid_t pid, uint64_t start)
{
	char path[64], buf[1024], state;
	uint64_t started;
	FILE *f;
	bool ok;

	if (pid <= 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return kill(pid, 0) < 0 && errno == ESRCH;
	ok = fgets(buf, sizeof(buf), f) && lb_proc_stat_parse(buf, &state, &started);
	fclose(f);
	if (!ok)
		return false;
	if (state == 'Z' || state == 'X')
		return true;
	return start != 0 && started != start;
}

void reclaim_lanes(struct writer *w, uint64_t now)
{
	for (uint32_t i = 0; i < w->bus.lane_count; i++) {
		struct lane_track *t = &w->lanes[i];
		struct lb_lane_info info;

		if (now < t->next_check_ns)
			continue;
		t->next_check_ns = now == UINT64_MAX ? 0 : now + RECHECK_NS;
		lb_lane_info_get(&w->bus, i, &info);
		if (!info.owner || info.head != t->tail)
			continue;
		if (!info.released && !process_gone((pid_t)info.pid, info.owner_start))
			continue;
		if (lb_lane_free(&w->bus, i, info.owner)) {
			w->counters.reclaimed++;
			writer_stats_retire(w, i, &info);
		}
	}
}
