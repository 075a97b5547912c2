/* SPDX-License-Identifier: MIT */
/*
 * The stats publisher's counts in a state file, one pwrite per save
 * (state_file.h):
 *
 *	logbus-counts 1
 *	segment <id>                    lb_bus_id() of the bus counted
 *	retired <clients> <counts>      the retired clients' totals
 *	lane <i> <pid> <grant> <seq_known> <next_seq> <counts>
 *	                                (pid 0: the client is not known yet)
 *	end <hash>
 *
 * where <counts> is queued, dropped_full, dropped_too_large, written,
 * filtered, abandoned. Lanes with no client known and nothing counted are
 * left out (free ones: a restarted writer reads where they stand from the
 * lane), so a save is a line per lane in use. A state of
 * another segment is ignored: lane sequences and clients start anew with a
 * new segment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "state_file.h"
#include "stats_state.h"

#define MAGIC "logbus-counts 1"
#define LINE_MAX_BYTES 256

static void put_counts(struct lb_buf *b, const struct client_counts *c)
{
	const uint64_t v[] = { c->queued, c->dropped_full, c->dropped_too_large,
			       c->written, c->filtered, c->abandoned };

	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		lb_buf_putc(b, ' ');
		lb_buf_put_u64(b, v[k]);
	}
}

/* Six counts at p; returns the characters taken, 0 when they are not. */
static int take_counts(const char *p, struct client_counts *c)
{
	unsigned long long v[6];
	int used = 0;

	if (sscanf(p, " %llu %llu %llu %llu %llu %llu%n", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &used) != 6)
		return 0;
	*c = (struct client_counts){ v[0], v[1], v[2], v[3], v[4], v[5] };
	return used;
}

/* One "lane" line at p into lanes[n]; returns its length, 0 when it is
 * none. */
static int take_lane(const char *p, struct lane_basis *lanes, uint32_t n)
{
	unsigned long long grant, next_seq;
	unsigned lane, pid, seq_known;
	struct lane_basis lb = { 0 };
	int used = 0, more;

	if (sscanf(p, "lane %u %u %llu %u %llu%n", &lane, &pid, &grant, &seq_known, &next_seq,
		   &used) != 5 || !(more = take_counts(p + used, &lb.n)) || p[used + more] != '\n')
		return 0;
	lb.known = pid != 0;   /* no client has pid 0 */
	lb.pid = pid;
	lb.grant = grant;
	lb.seq_known = seq_known != 0;
	lb.next_seq = next_seq;
	if (lane < n)
		lanes[lane] = lb;
	return used + more + 1;
}

static void load(struct stats_state *st, struct lane_basis *lanes, uint32_t n,
		 struct retired_counts *retired)
{
	size_t cap = (size_t)n * LINE_MAX_BYTES + 4096;
	char *buf = malloc(cap), *p;
	unsigned long long seg = 0, clients;
	int used = 0, more;

	if (!buf || !state_file_read(st->fd, buf, cap) ||
	    sscanf(buf, MAGIC "\nsegment %llu\nretired %llu%n", &seg, &clients, &used) != 2 ||
	    seg != st->segment_id || !(more = take_counts(buf + used, &retired->n)) ||
	    buf[used + more] != '\n') {
		*retired = (struct retired_counts){ 0 };
		free(buf);
		return;
	}
	retired->clients = clients;
	p = buf + used + more + 1;
	while ((used = take_lane(p, lanes, n)) > 0)
		p += used;
	free(buf);
}

int stats_state_open(struct stats_state *st, int dirfd, const char *bus, uint64_t segment_id,
		     struct lane_basis *lanes, uint32_t n, struct retired_counts *retired)
{
	*st = (struct stats_state){ .fd = -1, .segment_id = segment_id };
	snprintf(st->name, sizeof(st->name), ".%s.counts", bus);
	if (dirfd < 0)
		return 0;
	st->fd = openat(dirfd, st->name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (st->fd < 0)
		return -errno;
	load(st, lanes, n, retired);
	return 0;
}

/* A lane with no client known and nothing counted: a restarted writer
 * learns all there is from the lane itself. */
static bool basis_empty(const struct lane_basis *l)
{
	const struct client_counts *c = &l->n;

	return !l->known && !(c->queued | c->dropped_full | c->dropped_too_large | c->written |
			      c->filtered | c->abandoned);
}

int stats_state_save(struct stats_state *st, const struct lane_basis *lanes, uint32_t n,
		     const struct retired_counts *retired)
{
	struct lb_buf *b = &st->buf;

	if (st->fd < 0)
		return 0;
	b->len = 0;
	lb_buf_puts(b, MAGIC "\nsegment ");
	lb_buf_put_u64(b, st->segment_id);
	lb_buf_puts(b, "\nretired ");
	lb_buf_put_u64(b, retired->clients);
	put_counts(b, &retired->n);
	lb_buf_putc(b, '\n');
	for (uint32_t i = 0; i < n; i++) {
		const struct lane_basis *l = &lanes[i];
		const uint64_t head[] = { i, l->pid, l->grant, l->seq_known, l->next_seq };

		if (basis_empty(l))
			continue;
		lb_buf_puts(b, "lane");
		for (size_t k = 0; k < sizeof(head) / sizeof(head[0]); k++) {
			lb_buf_putc(b, ' ');
			lb_buf_put_u64(b, head[k]);
		}
		put_counts(b, &l->n);
		lb_buf_putc(b, '\n');
	}
	return state_file_write(st->fd, b);
}

void stats_state_close(struct stats_state *st)
{
	if (st->fd >= 0)
		close(st->fd);
	lb_buf_free(&st->buf);
	*st = (struct stats_state){ .fd = -1, .name = "" };
}
