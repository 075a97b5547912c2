/* SPDX-License-Identifier: MIT */
/*
 * Lines of one writer file, forward or backward, a chunk at a time.
 *
 * The writer appends whole batches: a plain file is JSON lines, a .zst
 * file a sequence of ended frames (writer/outfile.c), usually one or a few
 * per batch. A writer killed mid-write leaves a last line without its
 * newline or a last frame cut short: forward, the decoder keeps what the
 * cut frame held and says so; backward, the frames are found by walking
 * their headers (list_frames), the last one decoded first.
 *
 * A chunk is a block of a plain file or what a zstd frame holds. Lines
 * cross chunks, so the fragment a chunk ends with (forward) or begins
 * with (backward) is carried over to the next one read.
 *
 * Files are read with pread(2), never mapped: a restarted writer cuts its
 * last file back (ftruncate), which would turn a mapping into SIGBUS.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "names.h"
#include "reader.h"

/* Bytes read per plain chunk, and compressed bytes per zstd read. */
#define CHUNK (1u << 20)
#define ZCHUNK (256u << 10)

static const uint8_t zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

/* Append a line to r->lines. Returns 0 or -ENOMEM. */
static int add_line(struct reader *r, const char *p, size_t len, uint64_t where, bool cut)
{
	if (r->nlines == r->lines_cap) {
		size_t cap = r->lines_cap ? 2 * r->lines_cap : 4096;
		struct reader_line *v = realloc(r->lines, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->lines = v;
		r->lines_cap = cap;
	}
	r->lines[r->nlines++] = (struct reader_line){ p, len, where, cut };
	return 0;
}

/* Open path read-only and check it is a regular file. Returns 0 or a
 * negative errno (-EISDIR, -EINVAL for another kind of file). */
static int open_common(struct reader *r, const char *path)
{
	*r = (struct reader){ .fd = -1, .zstd = name_ends_with(path, ".zst") };
	r->path = strdup(path);
	if (!r->path)
		return -ENOMEM;
	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (r->fd < 0)
		return -errno;
	struct stat st;
	if (fstat(r->fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return 0;
}

/* pread until n bytes or the end of the file; the count or -errno. */
static ssize_t pread_full(int fd, void *p, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(fd, (char *)p + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

void reader_where(const struct reader *r, const struct reader_line *l, char *out, size_t cap)
{
	if (!r->backward)
		snprintf(out, cap, "%s:%llu", r->path, (unsigned long long)l->where);
	else if (r->zstd)
		snprintf(out, cap, "%s: zstd frame at byte %llu", r->path,
			 (unsigned long long)l->where);
	else
		snprintf(out, cap, "%s: byte %llu", r->path, (unsigned long long)l->where);
}

/* ---- forward ---- */

int reader_open(struct reader *r, const char *path, uint64_t start)
{
	int e = open_common(r, path);

	if (e < 0)
		return e;
	r->pos = r->frame_start = r->in_offset = start;
	if (r->zstd && !(r->dctx = ZSTD_createDCtx()))
		return -ENOMEM;
	return 0;
}

/* After a damaged frame: on from the next zstd magic number after the
 * frame's start (or the end of the file). */
static int resync(struct reader *r)
{
	uint8_t block[ZCHUNK];
	uint64_t off = r->frame_start + 1;

	for (;;) {
		ssize_t n = pread_full(r->fd, block, sizeof(block), off);
		if (n < 0)
			return (int)n;
		for (ssize_t i = 0; i + 4 <= n; i++)
			if (!memcmp(block + i, zstd_magic, 4)) {
				off += (uint64_t)i;
				goto found;
			}
		if (n < (ssize_t)sizeof(block)) {
			off += n > 3 ? (uint64_t)n - 3 : 0;
			break;
		}
		off += (uint64_t)n - 3;
	}
found:
	r->pos = r->in_offset = r->frame_start = off;
	r->in.len = r->in_pos = 0;
	r->in_frame = false;
	ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
	return 0;
}

/* Decode what the file holds now into r->buf until it holds a newline or
 * the input runs out. Returns 0 or a negative errno. */
static int fill_zstd(struct reader *r)
{
	for (;;) {
		if (r->in_pos == r->in.len) {
			r->in.len = r->in_pos = 0;
			if (!lb_buf_reserve(&r->in, ZCHUNK))
				return -ENOMEM;
			ssize_t n = pread_full(r->fd, r->in.data, ZCHUNK, r->pos);
			if (n < 0)
				return (int)n;
			if (n == 0)
				return 0;
			r->in_offset = r->pos;
			r->in.len = (size_t)n;
			r->pos += (uint64_t)n;
		}
		if (!lb_buf_reserve(&r->buf, CHUNK / 4))
			return -ENOMEM;
		ZSTD_inBuffer in = { r->in.data, r->in.len, r->in_pos };
		ZSTD_outBuffer out = { r->buf.data + r->buf.len, r->buf.cap - r->buf.len, 0 };
		size_t ret = ZSTD_decompressStream(r->dctx, &out, &in);
		r->in_pos = in.pos;
		if (ZSTD_isError(ret)) {
			fprintf(stderr, "logbus-query: %s: byte %llu: damaged zstd frame (%s), "
				"skipped to the next frame\n", r->path,
				(unsigned long long)r->frame_start, ZSTD_getErrorName(ret));
			/* The line the damaged frame would have ended is lost. */
			char *nl = memrchr(r->buf.data, '\n', r->buf.len);
			r->buf.len = nl ? (size_t)(nl - r->buf.data) + 1 : 0;
			int e = resync(r);
			if (e < 0)
				return e;
			continue;
		}
		r->buf.len += out.pos;
		if (ret == 0) {   /* a frame ended and is flushed */
			r->frame_start = r->in_offset + r->in_pos;
			r->in_frame = false;
		} else
			r->in_frame = r->in_offset + r->in_pos > r->frame_start;
		if (out.pos == out.size)
			continue;   /* more output may be waiting inside */
		if (memchr(r->buf.data + r->buf.len - out.pos, '\n', out.pos) &&
		    r->buf.len >= CHUNK / 2)
			return 0;
	}
}

/* Read what the plain file holds now into r->buf, one chunk. */
static int fill_plain(struct reader *r)
{
	if (!lb_buf_reserve(&r->buf, CHUNK))
		return -ENOMEM;
	ssize_t n = pread_full(r->fd, r->buf.data + r->buf.len, CHUNK, r->pos);
	if (n < 0)
		return (int)n;
	r->buf.len += (size_t)n;
	r->pos += (uint64_t)n;
	return 0;
}

long reader_next(struct reader *r, bool at_end)
{
	/* Keep the unterminated tail of the last chunk: it is the start of
	 * this one's first line. */
	if (r->consumed) {
		memmove(r->buf.data, r->buf.data + r->consumed, r->buf.len - r->consumed);
		r->buf.len -= r->consumed;
		r->consumed = 0;
	}
	r->nlines = 0;
	for (;;) {
		size_t before = r->buf.len;
		int e = r->zstd ? fill_zstd(r) : fill_plain(r);
		if (e < 0)
			return e;
		char *nl = r->buf.len ? memrchr(r->buf.data, '\n', r->buf.len) : NULL;
		if (nl) {
			size_t whole = (size_t)(nl - r->buf.data) + 1;
			for (size_t i = 0; i < whole;) {
				char *end = memchr(r->buf.data + i, '\n', whole - i);
				e = add_line(r, r->buf.data + i, (size_t)(end - r->buf.data) - i,
					     ++r->lineno, false);
				if (e < 0)
					return e;
				i = (size_t)(end - r->buf.data) + 1;
			}
			r->consumed = whole;
			return (long)r->nlines;
		}
		if (r->buf.len > before)
			continue;   /* a line longer than a chunk */
		break;
	}
	if (!at_end)
		return 0;
	if (r->zstd && r->in_frame) {
		fprintf(stderr, "logbus-query: %s: byte %llu: the last zstd frame is cut short "
			"(the writer was killed?); kept the lines it held\n", r->path,
			(unsigned long long)r->frame_start);
		r->in_frame = false;
	}
	if (!r->buf.len)
		return 0;
	int e = add_line(r, r->buf.data, r->buf.len, ++r->lineno, true);
	if (e < 0)
		return e;
	r->consumed = r->buf.len;
	return 1;
}

/* ---- backward ---- */

/*
 * Frames are found by their headers (RFC 8878, 3.1): a frame header, then
 * blocks with a 3-byte header each (last-block bit, type, size), then a
 * checksum when the header says so; a skippable frame is its magic and a
 * 4-byte size. Only those headers are read, a small window at each, so
 * listing the frames of a 64 MB file costs a few hundred preads, not the
 * file.
 */
#define WINDOW 4096u

/* n (<= 64) bytes at off through a window of the file kept between
 * calls: frames and blocks smaller than the window cost no read of their
 * own. Returns them, or NULL when the file ends first. */
static const uint8_t *window_get(struct reader *r, uint64_t off, size_t n)
{
	if (off < r->win_off || off + n > r->win_off + r->win_len) {
		ssize_t got = pread_full(r->fd, r->win, WINDOW, off);
		r->win_off = off;
		r->win_len = got > 0 ? (size_t)got : 0;
	}
	return off + n <= r->win_off + r->win_len ? r->win + (off - r->win_off) : NULL;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The size of the frame at off, reading headers only: > 0, 0 when it is
 * cut short by the end of the file (size), or -EBADMSG when it is no
 * frame; a read error as a negative errno. */
static int64_t frame_size(struct reader *r, uint64_t off, uint64_t size)
{
	static const uint8_t did_bytes[4] = { 0, 1, 2, 4 };
	const uint8_t *w = window_get(r, off, 8);

	if (!w) {
		w = window_get(r, off, 4);
		return w && memcmp(w, zstd_magic, 4) ? -EBADMSG : 0;
	}
	if ((le32(w) & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START) {
		uint64_t total = 8 + (uint64_t)le32(w + 4);
		return off + total <= size ? (int64_t)total : 0;
	}
	if (memcmp(w, zstd_magic, 4))
		return -EBADMSG;
	uint8_t fhd = w[4];
	unsigned fcs_flag = fhd >> 6, single = (fhd >> 5) & 1, checksum = (fhd >> 2) & 1;
	unsigned fcs = fcs_flag == 0 ? single : fcs_flag == 1 ? 2 : fcs_flag == 2 ? 4 : 8;
	if (fhd & 0x08)
		return -EBADMSG;   /* the reserved bit */
	uint64_t pos = off + 5 + !single + did_bytes[fhd & 3] + fcs;
	for (;;) {
		if (pos + 3 > size)
			return 0;
		const uint8_t *bh = window_get(r, pos, 3);
		if (!bh)
			return 0;
		uint32_t h = (uint32_t)bh[0] | (uint32_t)bh[1] << 8 | (uint32_t)bh[2] << 16;
		unsigned type = (h >> 1) & 3;
		uint32_t bsize = h >> 3;
		if (type == 3 || bsize > ZSTD_BLOCKSIZE_MAX)
			return -EBADMSG;
		pos += 3 + (type == 1 ? 1 : bsize);
		if (h & 1)
			break;
	}
	pos += checksum ? 4 : 0;
	return pos <= size ? (int64_t)(pos - off) : 0;
}

/* The offset of the next zstd magic number after off, or size. */
static uint64_t next_magic(struct reader *r, uint64_t off, uint64_t size)
{
	for (off++; off < size; off += WINDOW - 3) {
		if (!window_get(r, off, 4))
			break;
		const uint8_t *m = memmem(r->win + (off - r->win_off), r->win_len - (off - r->win_off),
					  zstd_magic, 4);
		if (m)
			return r->win_off + (uint64_t)(m - r->win);
	}
	return size;
}

/* The frames of the file's first size bytes: whole ones, then a cut one
 * when keep_cut. */
static int list_frames(struct reader *r, uint64_t size, bool keep_cut)
{
	size_t cap = 0;
	uint64_t off = 0;

	while (off < size) {
		int64_t sz = frame_size(r, off, size);
		if (sz == -EBADMSG) {
			fprintf(stderr, "logbus-query: %s: byte %llu: damaged zstd frame (a bad "
				"frame or block header), skipped to the next frame\n", r->path,
				(unsigned long long)off);
			off = next_magic(r, off, size);
			continue;
		}
		if (sz < 0)
			return (int)sz;
		bool cut = sz == 0;
		if (cut && !keep_cut)
			break;
		if (r->nframes == cap) {
			cap = cap ? 2 * cap : 256;
			struct reader_frame *v = realloc(r->frames, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			r->frames = v;
		}
		r->frames[r->nframes++] =
			(struct reader_frame){ off, cut ? size - off : (uint64_t)sz, !cut };
		off = cut ? size : off + (uint64_t)sz;
	}
	r->whole_end = off;
	return 0;
}

int reader_open_backward(struct reader *r, const char *path, bool keep_cut)
{
	int e = open_common(r, path);
	struct stat st;

	if (e < 0)
		return e;
	r->backward = r->first_prev = true;
	if (fstat(r->fd, &st) < 0)
		return -errno;
	size_t size = (size_t)st.st_size;
	if (!r->zstd) {
		r->end = r->whole_end = size;
		if (!keep_cut) {   /* stop after the last newline */
			char block[4096];
			while (r->whole_end > 0) {
				size_t n = r->whole_end < sizeof(block) ? (size_t)r->whole_end
									: sizeof(block);
				ssize_t got = pread_full(r->fd, block, n, r->whole_end - n);
				if (got < (ssize_t)n)
					return got < 0 ? (int)got : -EIO;
				char *nl = memrchr(block, '\n', n);
				if (nl) {
					r->whole_end -= n - (size_t)(nl - block) - 1;
					break;
				}
				r->whole_end -= n;
			}
			r->end = r->whole_end;
		}
		return 0;
	}
	return list_frames(r, size, keep_cut);
}

uint64_t reader_whole_end(const struct reader *r)
{
	return r->whole_end;
}

/* Decode frame f into r->buf (after nothing). Returns 0, or -EBADMSG
 * after reporting a damaged frame. */
static int decode_frame(struct reader *r, const struct reader_frame *f)
{
	ZSTD_DCtx *d;
	int e = 0;

	if (!lb_buf_reserve(&r->in, (size_t)f->size))
		return -ENOMEM;
	ssize_t got = pread_full(r->fd, r->in.data, (size_t)f->size, f->start);
	if (got < 0)
		return (int)got;
	if (!(d = ZSTD_createDCtx()))
		return -ENOMEM;
	ZSTD_inBuffer in = { r->in.data, (size_t)got, 0 };
	unsigned long long hint = ZSTD_getFrameContentSize(in.src, in.size);

	r->buf.len = 0;
	if (hint != ZSTD_CONTENTSIZE_UNKNOWN && hint != ZSTD_CONTENTSIZE_ERROR && hint < (1u << 30))
		(void)lb_buf_reserve(&r->buf, (size_t)hint + 1);
	while (in.pos < in.size) {
		if (!lb_buf_reserve(&r->buf, CHUNK / 4)) {
			e = -ENOMEM;
			break;
		}
		ZSTD_outBuffer out = { r->buf.data + r->buf.len, r->buf.cap - r->buf.len, 0 };
		size_t ret = ZSTD_decompressStream(d, &out, &in);
		r->buf.len += out.pos;
		if (ZSTD_isError(ret)) {
			fprintf(stderr, "logbus-query: %s: byte %llu: damaged zstd frame (%s), "
				"skipped\n", r->path, (unsigned long long)f->start,
				ZSTD_getErrorName(ret));
			e = -EBADMSG;
			break;
		}
		if (ret == 0 && out.pos < out.size)
			break;
	}
	if (!f->whole && e == 0)
		fprintf(stderr, "logbus-query: %s: byte %llu: the last zstd frame is cut short "
			"(the writer was killed?); kept the lines it held\n", r->path,
			(unsigned long long)f->start);
	ZSTD_freeDCtx(d);
	return e;
}

/* The previous chunk's bytes into r->buf: a plain block, or a frame's
 * content; *at_start when nothing comes before it. 0, 1 (nothing left)
 * or a negative errno. */
static int read_prev(struct reader *r, bool *at_start)
{
	if (r->zstd) {
		for (;;) {
			if (!r->nframes)
				return 1;
			const struct reader_frame *f = &r->frames[--r->nframes];
			r->chunk_start = f->start;
			int e = decode_frame(r, f);
			if (e == -EBADMSG) {
				r->carry.len = 0;   /* its line is lost with the frame */
				continue;
			}
			*at_start = r->nframes == 0;
			return e;
		}
	}
	if (r->end == 0)
		return 1;
	uint64_t start = r->end > CHUNK ? r->end - CHUNK : 0;
	size_t n = (size_t)(r->end - start);
	if (!lb_buf_reserve(&r->buf, n + r->carry.len))
		return -ENOMEM;
	ssize_t got = pread_full(r->fd, r->buf.data, n, start);
	if (got < 0)
		return (int)got;
	if ((size_t)got < n)   /* cut back under us: what is left is not ours */
		n = (size_t)got;
	r->buf.len = n;
	r->chunk_start = start;
	r->end = start;
	*at_start = start == 0;
	return 0;
}

long reader_prev(struct reader *r)
{
	r->nlines = 0;
	for (;;) {
		bool at_start = false;
		int e = read_prev(r, &at_start);
		if (e < 0)
			return e;
		if (e == 1) {
			/* Nothing before: a carried fragment is a whole first line. */
			if (!r->carry.len)
				return 0;
			r->buf.len = 0;
			at_start = true;
		}
		/* This chunk, then the fragment the later chunk began with. */
		size_t blen = r->buf.len;
		lb_buf_put(&r->buf, r->carry.data, r->carry.len);
		if (r->buf.failed)
			return -ENOMEM;
		r->carry.len = 0;
		size_t from = 0;
		if (!at_start) {
			char *nl = memchr(r->buf.data, '\n', blen);
			if (!nl) {   /* all of it belongs to a line begun earlier */
				lb_buf_put(&r->carry, r->buf.data, r->buf.len);
				if (r->carry.failed)
					return -ENOMEM;
				continue;
			}
			from = (size_t)(nl - r->buf.data) + 1;
			lb_buf_put(&r->carry, r->buf.data, from);
			if (r->carry.failed)
				return -ENOMEM;
		}
		for (size_t i = from; i < r->buf.len;) {
			char *end = memchr(r->buf.data + i, '\n', r->buf.len - i);
			size_t stop = end ? (size_t)(end - r->buf.data) : r->buf.len;
			uint64_t where = r->zstd ? r->chunk_start : r->chunk_start + i;
			bool cut = !end && r->first_prev;
			if (stop > i || end) {
				e = add_line(r, r->buf.data + i, stop - i, where, cut);
				if (e < 0)
					return e;
			}
			i = stop + 1;
		}
		r->first_prev = false;
		if (r->nlines || at_start)
			return (long)r->nlines;
	}
}

void reader_close(struct reader *r)
{
	if (r->fd > 0)
		close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	lb_buf_free(&r->buf);
	lb_buf_free(&r->carry);
	lb_buf_free(&r->in);
	free(r->lines);
	free(r->frames);
	free(r->path);
	*r = (struct reader){ .fd = -1 };
}
