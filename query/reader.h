/* SPDX-License-Identifier: MIT */
/*
 * Lines of one file the writer wrote, JSON lines plain or as zstd frames,
 * read forward (streaming, and on at the end of a growing file for -f) or
 * backward (from the end, for -n and -r), a chunk at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct ZSTD_DCtx_s;

/* One line of a chunk, without its newline. */
struct reader_line {
	const char *p;
	size_t len;
	uint64_t where;   /* forward: line number (1-based); backward: see reader_where */
	bool cut;         /* the file's last line, without its newline */
};

struct reader_frame {
	uint64_t start, size;
	bool whole;       /* false: the last frame, cut short */
};

struct reader {
	char *path;
	int fd;
	bool zstd;
	bool backward;
	uint64_t pos;            /* forward: the file offset read next */
	uint64_t lineno;         /* forward: lines handed out so far */
	struct lb_buf buf;       /* the current chunk, after the carried fragment */
	size_t consumed;         /* forward: bytes of buf handed out as lines */
	struct lb_buf carry;     /* backward: the head fragment of the later chunk */
	struct reader_line *lines;
	size_t nlines, lines_cap;
	/* forward zstd */
	struct ZSTD_DCtx_s *dctx;
	struct lb_buf in;        /* compressed bytes read (forward: not yet decoded) */
	size_t in_pos;
	uint64_t in_offset;      /* file offset of in.data[0] */
	uint64_t frame_start;    /* file offset of the frame being decoded */
	bool in_frame;           /* the decoder holds part of a frame */
	/* backward */
	uint64_t end;            /* plain: bytes before it are still unread */
	uint64_t whole_end;      /* end of the whole lines (and frames) at open */
	uint8_t win[4096];       /* zstd: a window of the file for frame headers */
	uint64_t win_off;
	size_t win_len;
	struct reader_frame *frames;
	size_t nframes;          /* frames not yet read */
	uint64_t chunk_start;    /* where the current backward chunk starts */
	bool first_prev;
};

/*
 * reader_open - open path (zstd when it ends in ".zst") to read forward
 * from offset start (0, or a reader_whole_end() of the same file).
 * Returns 0 or a negative errno.
 */
int reader_open(struct reader *r, const char *path, uint64_t start);

/*
 * reader_open_backward - open path to read backward from its current end.
 * With keep_cut, a last line without its newline and a last zstd frame cut
 * short count (for a plain query); without, reading stops before them
 * (for -f, which reads on from reader_whole_end()). Returns 0 or a
 * negative errno.
 */
int reader_open_backward(struct reader *r, const char *path, bool keep_cut);

/* reader_whole_end - the offset where the whole lines (frames) ended when
 * reader_open_backward looked. */
uint64_t reader_whole_end(const struct reader *r);

/*
 * reader_next - the lines of the next chunk forward, in r->lines[0..n).
 * At the end of what the file holds now it returns 0; when at_end (no
 * more will come), it first hands out a last line without its newline
 * (cut set) and reports a zstd frame cut short. A damaged zstd frame is
 * reported on stderr and skipped. Returns n, 0, or a negative errno.
 * The lines stay valid until the next call.
 */
long reader_next(struct reader *r, bool at_end);

/*
 * reader_prev - the lines of the chunk before the last one read, in file
 * order in r->lines[0..n); 0 once the start is reached. Returns n, 0, or
 * a negative errno. The lines stay valid until the next call.
 */
long reader_prev(struct reader *r);

/* reader_where - "path:LINE" (forward) or "path: byte N" / "path: zstd
 * frame at byte N" (backward) for a line of the current chunk. */
void reader_where(const struct reader *r, const struct reader_line *l, char *out, size_t cap);

/* reader_close - release everything; a zeroed or closed reader is a no-op. */
void reader_close(struct reader *r);
