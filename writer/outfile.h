/* SPDX-License-Identifier: MIT */
/* Output-file helpers shared by the file sinks: directories, names stamped
 * to the microsecond and created with O_EXCL, whole writes, zstd frames. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct ZSTD_CCtx_s;

/* outfile_open_dir - make dir and its parents (0750) when missing and open
 * it. Returns the directory descriptor or a negative errno. */
int outfile_open_dir(const char *dir);

/*
 * outfile_create - create <stem>_<YYYYMMDD>_<HHMMSS>_<usec><suffix> in
 * dirfd for the time us (microseconds since the epoch, UTC), 0640,
 * O_EXCL and O_NOFOLLOW: on a collision the microsecond is bumped, so no
 * file is ever overwritten and no planted symlink followed. The name goes
 * to name[cap]. Returns the descriptor or a negative errno.
 */
int outfile_create(int dirfd, const char *stem, const char *suffix, uint64_t us, char *name,
		   size_t cap);

/* outfile_write_all - write n bytes, retrying short writes and EINTR.
 * Returns 0 or a negative errno. */
int outfile_write_all(int fd, const void *p, size_t n);

/* outfile_zstd - compress in[0..n) into out as zstd frames of at most
 * OUTFILE_FRAME_MAX input bytes each, every frame ended (with a checksum),
 * so the bytes decompress on their own. Returns 0 or -ENOMEM. */
#define OUTFILE_FRAME_MAX (4u << 20)
int outfile_zstd(struct ZSTD_CCtx_s *cctx, const void *in, size_t n, struct lb_buf *out);

/* outfile_zstd_new - a compression context at level; NULL when out of
 * memory or the level is refused. Free with ZSTD_freeCCtx. */
struct ZSTD_CCtx_s *outfile_zstd_new(int level);
