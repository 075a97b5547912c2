/* SPDX-License-Identifier: MIT */
/*
 * Restart marks in a state file, rewritten whole at each save
 * (state_file.h: a killed process leaves the old state or the new one):
 *
 *	logbus-marks 1
 *	segment <id>         lb_bus_id() of the segment drained
 *	note <text>          what the sink keeps with its marks
 *	lane <i> <lane_seq>  per lane, the last lane_seq of the batch (or
 *	                     the held one, when greater)
 *	end <hash>           FNV-1a of the lines above
 *
 * Lane sequences restart with a new segment, so a state of another
 * segment is ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "lane_marks.h"
#include "state_file.h"

#define MAGIC "logbus-marks 1"
#define STATE_MAX (LB_MAX_LANES * 32 + 4096)

static bool reserve(struct lane_marks *m, uint32_t lane)
{
	if (lane < m->nlanes)
		return true;
	uint32_t n = lane + 1 > 2 * m->nlanes ? lane + 1 : 2 * m->nlanes;
	uint64_t *held = realloc(m->held, n * sizeof(*held));
	if (held)
		m->held = held;
	uint64_t *last = realloc(m->last, n * sizeof(*last));
	if (last)
		m->last = last;
	if (!held || !last)
		return false;
	memset(m->held + m->nlanes, 0, (n - m->nlanes) * sizeof(*held));
	memset(m->last + m->nlanes, 0, (n - m->nlanes) * sizeof(*last));
	m->nlanes = n;
	return true;
}

static void load(struct lane_marks *m, char *note, size_t cap)
{
	unsigned long long seg = 0, seq;
	char *buf = malloc(STATE_MAX), *p;
	unsigned lane;
	int used = 0;

	/* "%n" after the segment: a space in the format would also eat the
	 * newline of an empty note. */
	if (!buf || !state_file_read(m->fd, buf, STATE_MAX) ||
	    sscanf(buf, MAGIC "\nsegment %llu%n", &seg, &used) != 1 || seg == 0 ||
	    seg != m->segment_id || strncmp(buf + used, "\nnote ", 6) != 0) {
		free(buf);
		return;
	}
	p = buf + used + 6;
	size_t n = strcspn(p, "\n");
	snprintf(note, cap, "%.*s", (int)n, p);
	p += n + (p[n] == '\n');
	while (sscanf(p, "lane %u %llu\n%n", &lane, &seq, &used) == 2) {
		if (lane < LB_MAX_LANES && reserve(m, lane))
			m->held[lane] = seq + 1;
		p += used;
	}
	free(buf);
}

int lane_marks_open(struct lane_marks *m, int dirfd, const char *name, uint64_t segment_id,
		    char *note, size_t cap)
{
	*m = (struct lane_marks){ .segment_id = segment_id };
	note[0] = '\0';
	m->fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (m->fd < 0)
		return -errno;
	load(m, note, cap);
	return 0;
}

void lane_marks_close(struct lane_marks *m)
{
	if (m->fd >= 0)
		close(m->fd);
	free(m->held);
	free(m->last);
	lb_buf_free(&m->buf);
	*m = (struct lane_marks){ .fd = -1 };
}

void lane_marks_begin(struct lane_marks *m)
{
	if (m->nlanes)
		memset(m->last, 0, m->nlanes * sizeof(*m->last));
}

int lane_marks_note(struct lane_marks *m, uint32_t lane, uint64_t lane_seq)
{
	if (!reserve(m, lane))
		return -ENOMEM;
	m->last[lane] = lane_seq + 1;
	return lane_marks_held(m, lane, lane_seq);
}

bool lane_marks_held(const struct lane_marks *m, uint32_t lane, uint64_t lane_seq)
{
	/* Lane sequences only grow within a segment: a held mark never hides
	 * a new entry, so it needs no clearing. */
	return lane < m->nlanes && lane_seq < m->held[lane];
}

uint64_t lane_marks_loaded(const struct lane_marks *m, uint32_t lane)
{
	return lane < m->nlanes ? m->held[lane] : 0;
}

int lane_marks_save(struct lane_marks *m, const char *note)
{
	struct lb_buf *b = &m->buf;

	b->len = 0;
	lb_buf_puts(b, MAGIC "\nsegment ");
	lb_buf_put_u64(b, m->segment_id);
	lb_buf_puts(b, "\nnote ");
	lb_buf_put(b, note, strlen(note));
	lb_buf_putc(b, '\n');
	for (uint32_t i = 0; i < m->nlanes; i++) {
		uint64_t mark = m->last[i] > m->held[i] ? m->last[i] : m->held[i];
		if (!mark)
			continue;
		lb_buf_puts(b, "lane ");
		lb_buf_put_u64(b, i);
		lb_buf_putc(b, ' ');
		lb_buf_put_u64(b, mark - 1);
		lb_buf_putc(b, '\n');
	}
	return state_file_write(m->fd, b);
}
