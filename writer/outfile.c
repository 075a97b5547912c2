/* SPDX-License-Identifier: MIT */
/*
 * Output-file helpers shared by the file sink and the per-entry sink.
 *
 * zstd: what a sink writes at once (a batch, or a 1 MiB chunk of a big
 * one) becomes whole frames (ZSTD_e_end), never a frame left open across
 * writes. zstd 1.5.4's `zstd -d` refuses a file whose last
 * frame was flushed but not ended ("Read error (39) : premature end",
 * exit 1, and with -o it deletes its output), so a file cut by a crash
 * after ZSTD_e_flush would not decompress. Ending a frame per write costs
 * a frame header and a checksum each time and the window across writes;
 * batches are large when the rate is high, so the ratio barely moves.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "outfile.h"

#define NAME_ATTEMPTS 100000

static int make_dirs(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0750) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int outfile_open_dir(const char *dir)
{
	int r = make_dirs(dir);

	if (r < 0)
		return r;
	r = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return r < 0 ? -errno : r;
}

static void format_name(char *out, size_t cap, const char *stem, const char *suffix,
			uint64_t us)
{
	time_t sec = (time_t)(us / 1000000u);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(out, cap, "%s_%04d%02d%02d_%02d%02d%02d_%06llu%s", stem, tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned long long)(us % 1000000u), suffix);
}

int outfile_create(int dirfd, const char *stem, const char *suffix, uint64_t us, char *name,
		   size_t cap)
{
	for (int i = 0; i < NAME_ATTEMPTS; i++, us++) {
		format_name(name, cap, stem, suffix, us);
		int fd = openat(dirfd, name,
				O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_APPEND, 0640);
		if (fd >= 0) {
			/* The umask must not widen or narrow what we promise. */
			(void)fchmod(fd, 0640);
			return fd;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int outfile_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

ZSTD_CCtx *outfile_zstd_new(int level)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();

	if (c && (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)) ||
		  ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)))) {
		ZSTD_freeCCtx(c);
		return NULL;
	}
	return c;
}

int outfile_zstd(ZSTD_CCtx *cctx, const void *in, size_t n, struct lb_buf *out)
{
	const char *p = in;

	out->len = 0;
	do {
		size_t chunk = n < OUTFILE_FRAME_MAX ? n : OUTFILE_FRAME_MAX;
		size_t bound = ZSTD_compressBound(chunk);

		if (!lb_buf_reserve(out, bound))
			return -ENOMEM;
		size_t z = ZSTD_compress2(cctx, out->data + out->len, bound, p, chunk);
		if (ZSTD_isError(z)) {
			ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
			return -ENOMEM;
		}
		out->len += z;
		p += chunk;
		n -= chunk;
	} while (n);
	return 0;
}
