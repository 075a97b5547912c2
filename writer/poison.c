/* SPDX-License-Identifier: MIT */
/*
 * Poison entries. The state file ".<bus>.filters", rewritten in place with
 * one pwrite at offset 0 (a kill leaves the old state or the new one;
 * bytes of a longer old one after the "end" line are ignored):
 *
 *	logbus-filters 1
 *	segment <id>          lb_bus_id() of the segment drained
 *	idle                  no filter runs, or
 *	batch                 the filters run over a batch, or
 *	entry <lane> <lane_seq> <hook>   hook runs on that entry (careful)
 *	end
 *
 * A writer that starts on "batch" died inside the filters (a crash, or a
 * kill that happened to come then): it goes over its next batch carefully,
 * noting each entry and hook before the hook runs (one pwrite each, only
 * for that batch). A writer that starts on "entry" died on that entry in
 * that hook twice: the entry is poison. When the drain meets it again it
 * goes to "<bus>.quarantine" in the state directory, one JSON line
 * {"hook", "lane", "lane_seq", "entry"} (entry: the JSON line it would
 * have been), synced, and leaves the batch: it reaches no sink. A
 * careful batch that comes through ends the suspicion.
 *
 * Cost: two pwrites of a few dozen bytes per batch, only when filter hooks
 * are configured.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "entry_json.h"
#include "poison.h"

#define MAGIC "logbus-filters 1"

static void save(struct poison *p, const char *what)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), MAGIC "\nsegment %" PRIu64 "\n%s\nend\n",
			 p->segment_id, what);

	if (p->fd >= 0 && n > 0 && n < (int)sizeof(buf))
		(void)!pwrite(p->fd, buf, (size_t)n, 0);
}

/* A hook name as it may go into the state and a JSON string. */
static void clean_name(char *out, size_t cap, const char *name)
{
	size_t i = 0;

	for (; name[i] && i + 1 < cap; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
		out[i] = ok ? c : '_';
	}
	out[i] = '\0';
}

static void before_hook(struct hooks_watch *w, const struct batch_entry *be, const char *hook)
{
	struct poison *p = (struct poison *)w;
	char what[160], name[64];

	clean_name(name, sizeof(name), hook);
	snprintf(what, sizeof(what), "entry %" PRIu32 " %" PRIu64 " %s", be->lane, be->e.seq,
		 name);
	save(p, what);
}

static void load(struct poison *p, const char *bus)
{
	char buf[512], hook[64];
	unsigned long long seg, seq;
	unsigned lane;
	int used = 0;
	ssize_t n = pread(p->fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return;
	buf[n] = '\0';
	if (!strstr(buf, "\nend\n") ||
	    sscanf(buf, MAGIC "\nsegment %llu\n%n", &seg, &used) != 1 || seg != p->segment_id)
		return;
	const char *what = buf + used;
	if (!strncmp(what, "batch\n", 6)) {
		p->careful = true;
		fprintf(stderr, "logbus-writer: the last writer on bus '%s' died inside the filter "
			"hooks; going over the next entries one by one\n", bus);
	} else if (sscanf(what, "entry %u %llu %63s\n", &lane, &seq, hook) == 3) {
		p->have_poison = true;
		p->poison_lane = lane;
		p->poison_seq = seq;
		snprintf(p->poison_hook, sizeof(p->poison_hook), "%s", hook);
		fprintf(stderr, "logbus-writer: entry lane %u lane_seq %llu crashed the writer "
			"twice in filter hook %s; it goes to %s instead of the sinks\n", lane, seq,
			hook, p->qname);
	}
}

int poison_open(struct poison *p, int dirfd, const char *bus, uint64_t segment_id)
{
	char name[96];

	*p = (struct poison){ .fd = -1, .qfd = -1, .dirfd = dirfd, .segment_id = segment_id };
	p->watch.before = before_hook;
	snprintf(p->qname, sizeof(p->qname), "%s.quarantine", bus);
	snprintf(name, sizeof(name), ".%s.filters", bus);
	p->fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (p->fd < 0)
		return -errno;
	load(p, bus);
	return 0;
}

void poison_close(struct poison *p)
{
	if (p->fd >= 0)
		close(p->fd);
	if (p->qfd >= 0)
		close(p->qfd);
	lb_buf_free(&p->buf);
	*p = (struct poison){ .fd = -1, .qfd = -1, .dirfd = -1 };
}

/* The poison entry, as a line of the quarantine file. */
static void quarantine(struct poison *p, const struct batch_entry *be)
{
	struct lb_entry_ids ids = batch_entry_ids(be);
	struct lb_buf *b = &p->buf;

	if (p->qfd < 0)
		p->qfd = openat(p->dirfd, p->qname,
				O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	b->len = 0;
	lb_buf_puts(b, "{\"hook\":\"");
	lb_buf_put(b, p->poison_hook, strlen(p->poison_hook));
	lb_buf_puts(b, "\",\"lane\":");
	lb_buf_put_u64(b, be->lane);
	lb_buf_puts(b, ",\"lane_seq\":");
	lb_buf_put_u64(b, be->e.seq);
	lb_buf_puts(b, ",\"entry\":");
	lb_entry_json_put(b, &be->e, be->ts_ns, &ids);
	if (b->len && b->data[b->len - 1] == '\n')
		b->len--;
	lb_buf_puts(b, "}\n");
	if (p->qfd < 0 || b->failed || write(p->qfd, b->data, b->len) != (ssize_t)b->len ||
	    fdatasync(p->qfd) < 0)
		fprintf(stderr, "logbus-writer: cannot write the poison entry to %s; it is "
			"dropped\n", p->qname);
	b->failed = false;
	p->quarantined++;
}

size_t poison_begin(struct poison *p, struct batch *b)
{
	size_t out = 0;

	if (p->have_poison && b->count) {
		uint64_t first = b->entries[0].seq;
		for (size_t i = 0; i < b->count; i++) {
			const struct batch_entry *be = &b->entries[i];
			if (p->have_poison && be->lane == p->poison_lane &&
			    be->e.seq == p->poison_seq) {
				quarantine(p, be);
				p->have_poison = false;
				continue;
			}
			b->entries[out] = b->entries[i];
			b->entries[out].seq = first + out;
			out++;
		}
	} else {
		out = b->count;
	}
	size_t left = b->count - out;
	b->count = out;
	p->watch.active = p->careful;
	if (!p->careful)
		save(p, "batch");
	return left;
}

void poison_end(struct poison *p)
{
	save(p, "idle");
	p->careful = false;
	p->watch.active = false;
}
