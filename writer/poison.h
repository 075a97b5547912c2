/* SPDX-License-Identifier: MIT */
/*
 * Poison entries: an entry on which a filter plugin crashes the writer.
 * The drain notes which entries it hands the filters in a state file; a
 * restarted writer that finds it was killed inside the filters goes over
 * those entries one by one, noting each entry and hook first, and when it
 * dies again there, the next one writes that entry to a quarantine file
 * (a JSON line naming the hook), counts it and goes on without it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "hooks.h"
#include "sink.h"

struct poison {
	struct hooks_watch watch;   /* handed to hooks_filter; first member */
	int fd;                 /* the state file; -1: no guard */
	int qfd;                /* the quarantine file, opened when needed */
	int dirfd;              /* the state directory (not owned) */
	uint64_t segment_id;
	char qname[96];
	bool careful;           /* note every entry and hook before it runs */
	bool have_poison;       /* a writer died twice on this entry: */
	uint32_t poison_lane;
	uint64_t poison_seq;
	char poison_hook[64];
	uint64_t quarantined;
	struct lb_buf buf;
};

/* poison_open - the state file ".<bus>.filters" in dirfd, for the bus
 * whose segment is segment_id: learn what the last writer was doing in the
 * filters when it died, and say so on stderr. Returns 0 or a negative
 * errno (then p guards nothing). */
int poison_open(struct poison *p, int dirfd, const char *bus, uint64_t segment_id);

/* poison_close - a zeroed p (fd -1) is a no-op. */
void poison_close(struct poison *p);

/* poison_begin - before the filters run over b: quarantine the poison
 * entry if b holds it (it leaves b; seq renumbered), and note what b holds.
 * Returns how many entries left b. */
size_t poison_begin(struct poison *p, struct batch *b);

/* poison_end - the filters came through b. */
void poison_end(struct poison *p);
