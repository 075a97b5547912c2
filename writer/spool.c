/* SPDX-License-Identifier: MIT */
/*
 * The spool on disk, one directory per sink:
 *
 *	<16 hex digits>.seg   segments, numbered in order, each at most
 *	                      SEG_MAX bytes of records
 *	read                  the committed read position: segment, offset
 *	                      and a check word, 24 bytes rewritten in place
 *
 * A record is a header of two little-endian 32-bit words, the payload's
 * length and its CRC-32, then the payload. Appends go to the last segment
 * with one writev(2); spool_sync() fdatasyncs it (and, after a new
 * segment was made, the directory), and only synced records count as
 * acknowledged. So a kill leaves at most one torn record at the end of the
 * last segment, which spool_open() finds (short header, short payload or
 * bad CRC) and cuts off: it was never acknowledged. A damaged record
 * elsewhere (a bad disk) ends its segment for the reader: counted in
 * `corrupt`, the reader goes on with the next segment.
 *
 * The read position is saved after the destination took records (one
 * pwrite of 24 bytes, no sync): a kill before it only replays records
 * twice. Segments wholly before it are unlinked.
 *
 * Cost: one writev per record and one fdatasync per batch of records;
 * reading is one pread per record, header and payload together when the
 * payload is small.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "spool.h"

#define SEG_MAX (UINT64_C(8) << 20)
#define RECORD_MAX (UINT32_C(64) << 20)
#define HEADER 8
#define READ_CHECK UINT64_C(0x9e3779b97f4a7c15)

static uint32_t crc_table[256];

/* At load, before any thread: the CRC-32 (IEEE) table. */
static void __attribute__((constructor)) crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t v = i;
		for (int k = 0; k < 8; k++)
			v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
		crc_table[i] = v;
	}
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	const uint32_t *table = crc_table;
	uint32_t c = 0xffffffffu;

	while (n--)
		c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void seg_name(char *name, size_t cap, uint64_t id)
{
	snprintf(name, cap, "%016" PRIx64 ".seg", id);
}

static int cmp_seg(const void *a, const void *b)
{
	const struct spool_segment *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int add_seg(struct spool *sp, uint64_t id, uint64_t size)
{
	if (sp->nsegs == sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 16;
		struct spool_segment *s = realloc(sp->segs, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		sp->segs = s;
		sp->cap = cap;
	}
	sp->segs[sp->nsegs++] = (struct spool_segment){ id, size };
	return 0;
}

/* Every segment of the directory, in order. */
static int list_segments(struct spool *sp)
{
	int fd = openat(sp->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (r == 0 && (de = readdir(d))) {
		char name[32];
		uint64_t id;
		struct stat st;
		if (sscanf(de->d_name, "%16" SCNx64 ".seg", &id) != 1)
			continue;
		seg_name(name, sizeof(name), id);
		if (strcmp(name, de->d_name) || fstatat(sp->dirfd, name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		r = add_seg(sp, id, (uint64_t)st.st_size);
	}
	closedir(d);
	if (sp->nsegs)
		qsort(sp->segs, sp->nsegs, sizeof(*sp->segs), cmp_seg);
	return r;
}

/* Read the record header at off of fd; returns its payload length, or -1
 * when there is no whole valid record there (crc checked into buf). */
static long record_at(int fd, uint64_t off, uint64_t size, struct lb_buf *buf)
{
	uint8_t h[HEADER];

	if (size - off < HEADER || pread(fd, h, HEADER, (off_t)off) != HEADER)
		return -1;
	uint32_t len = get_le32(h), crc = get_le32(h + 4);
	if (len > RECORD_MAX || size - off - HEADER < len)
		return -1;
	buf->len = 0;
	lb_buf_reserve(buf, len ? len : 1);
	if (buf->failed) {
		buf->failed = false;
		return -1;
	}
	if (pread(fd, buf->data, len, (off_t)(off + HEADER)) != (ssize_t)len ||
	    crc32_of((const uint8_t *)buf->data, len) != crc)
		return -1;
	buf->len = len;
	return (long)len;
}

/* The last segment: cut it after its last whole record. */
static int cut_torn_tail(struct spool *sp, uint64_t from)
{
	struct spool_segment *last = &sp->segs[sp->nsegs - 1];
	struct lb_buf buf = { 0 };
	uint64_t off = from;
	char name[32];
	long len;
	int r = 0;

	seg_name(name, sizeof(name), last->id);
	int fd = openat(sp->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	while ((len = record_at(fd, off, last->size, &buf)) >= 0)
		off += HEADER + (uint64_t)len;
	if (off < last->size) {
		if (ftruncate(fd, (off_t)off) < 0)
			r = -errno;
		last->size = off;
	}
	lb_buf_free(&buf);
	close(fd);
	return r;
}

static void load_read_position(struct spool *sp)
{
	uint8_t b[24];
	uint64_t v[3];

	sp->committed = (struct spool_pos){ sp->nsegs ? sp->segs[0].id : 0, 0 };
	if (pread(sp->readfd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return;
	memcpy(v, b, sizeof(v));
	if (v[2] != ((v[0] ^ (v[1] << 1)) * READ_CHECK))
		return;
	for (size_t i = 0; i < sp->nsegs; i++)
		if (sp->segs[i].id == v[0] && v[1] <= sp->segs[i].size)
			sp->committed = (struct spool_pos){ v[0], v[1] };
}

/* Remove the segments wholly before the committed position, and count
 * what is left. */
static void drop_read_segments(struct spool *sp)
{
	size_t k = 0;
	char name[32];

	while (k + 1 < sp->nsegs && sp->segs[k].id < sp->committed.seg) {
		seg_name(name, sizeof(name), sp->segs[k].id);
		(void)unlinkat(sp->dirfd, name, 0);
		k++;
	}
	memmove(sp->segs, sp->segs + k, (sp->nsegs - k) * sizeof(*sp->segs));
	sp->nsegs -= k;
	if (sp->nsegs && sp->segs[0].id != sp->committed.seg)
		sp->committed = (struct spool_pos){ sp->segs[0].id, 0 };
	sp->bytes = 0;
	for (size_t i = 0; i < sp->nsegs; i++)
		sp->bytes += sp->segs[i].size;
	sp->bytes -= sp->nsegs ? sp->committed.off : 0;
}

/* Start segment id, empty, and sync the directory so it survives. */
static int new_segment(struct spool *sp, uint64_t id)
{
	char name[32];

	seg_name(name, sizeof(name), id);
	int fd = openat(sp->dirfd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
			0640);
	if (fd < 0)
		return -errno;
	int r = add_seg(sp, id, 0);
	if (r < 0) {
		close(fd);
		return r;
	}
	(void)fsync(sp->dirfd);
	if (sp->wfd >= 0) {
		(void)fdatasync(sp->wfd);
		close(sp->wfd);
	}
	sp->wfd = fd;
	return 0;
}

int spool_open(struct spool *sp, int dirfd, const char *name, uint64_t max_bytes)
{
	int r;

	*sp = (struct spool){ .dirfd = -1, .wfd = -1, .rfd = -1, .readfd = -1,
			      .max_bytes = max_bytes };
	if (mkdirat(dirfd, name, 0750) < 0 && errno != EEXIST)
		return -errno;
	sp->dirfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (sp->dirfd < 0)
		return -errno;
	sp->readfd = openat(sp->dirfd, "read", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	r = sp->readfd < 0 ? -errno : list_segments(sp);
	if (r == 0 && sp->nsegs) {
		load_read_position(sp);
		drop_read_segments(sp);
		r = cut_torn_tail(sp, sp->nsegs == 1 ? sp->committed.off : 0);
		drop_read_segments(sp);   /* recount after the cut */
	}
	if (r == 0 && sp->nsegs) {
		char seg[32];
		seg_name(seg, sizeof(seg), sp->segs[sp->nsegs - 1].id);
		sp->wfd = openat(sp->dirfd, seg, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		r = sp->wfd < 0 ? -errno : 0;
	} else if (r == 0) {
		r = new_segment(sp, 1);
		sp->committed = (struct spool_pos){ 1, 0 };
	}
	sp->cursor = sp->committed;
	if (r < 0)
		spool_close(sp);
	return r;
}

void spool_close(struct spool *sp)
{
	int fds[] = { sp->wfd, sp->rfd, sp->readfd, sp->dirfd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(sp->segs);
	*sp = (struct spool){ .dirfd = -1, .wfd = -1, .rfd = -1, .readfd = -1 };
}

int spool_append(struct spool *sp, const void *data, size_t len)
{
	uint8_t h[HEADER];
	struct spool_segment *last = &sp->segs[sp->nsegs - 1];
	uint64_t rec = HEADER + (uint64_t)len;

	if (len > RECORD_MAX)
		return -EMSGSIZE;
	if (sp->bytes + rec > sp->max_bytes)
		return -ENOSPC;
	if (last->size && last->size + rec > SEG_MAX) {
		int r = new_segment(sp, last->id + 1);
		if (r < 0)
			return r;
		last = &sp->segs[sp->nsegs - 1];
	}
	put_le32(h, (uint32_t)len);
	put_le32(h + 4, crc32_of(data, len));
	struct iovec iov[2] = { { h, HEADER }, { (void *)data, len } };
	ssize_t w = writev(sp->wfd, iov, 2);
	if (w != (ssize_t)rec) {
		int r = w < 0 ? -errno : -EIO;
		(void)ftruncate(sp->wfd, (off_t)last->size);   /* no torn record stays */
		return r;
	}
	last->size += rec;
	sp->bytes += rec;
	return 0;
}

int spool_sync(struct spool *sp)
{
	return fdatasync(sp->wfd) < 0 ? -errno : 0;
}

/* The index of segment id, or nsegs. */
static size_t seg_index(const struct spool *sp, uint64_t id)
{
	size_t i = 0;

	while (i < sp->nsegs && sp->segs[i].id != id)
		i++;
	return i;
}

int spool_next(struct spool *sp, struct lb_buf *out, struct spool_pos *end)
{
	for (;;) {
		size_t i = seg_index(sp, sp->cursor.seg);
		if (i == sp->nsegs)
			return 0;
		if (sp->cursor.off >= sp->segs[i].size) {
			if (i + 1 == sp->nsegs)
				return 0;
			sp->cursor = (struct spool_pos){ sp->segs[i + 1].id, 0 };
			continue;
		}
		if (sp->rfd < 0 || sp->rfd_seg != sp->cursor.seg) {
			char name[32];
			if (sp->rfd >= 0)
				close(sp->rfd);
			seg_name(name, sizeof(name), sp->cursor.seg);
			sp->rfd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (sp->rfd < 0)
				return -errno;
			sp->rfd_seg = sp->cursor.seg;
		}
		long len = record_at(sp->rfd, sp->cursor.off, sp->segs[i].size, out);
		if (len < 0) {
			/* Damaged: the rest of this segment cannot be framed. */
			sp->corrupt++;
			sp->cursor.off = sp->segs[i].size;
			continue;
		}
		sp->cursor.off += HEADER + (uint64_t)len;
		*end = sp->cursor;
		return 1;
	}
}

void spool_rewind(struct spool *sp)
{
	sp->cursor = sp->committed;
}

int spool_commit(struct spool *sp, struct spool_pos end)
{
	uint64_t v[3] = { end.seg, end.off, (end.seg ^ (end.off << 1)) * READ_CHECK };

	sp->committed = end;
	drop_read_segments(sp);
	if (pwrite(sp->readfd, v, sizeof(v), 0) != (ssize_t)sizeof(v))
		return -EIO;
	return 0;
}

bool spool_empty(const struct spool *sp)
{
	return sp->bytes == 0;
}
