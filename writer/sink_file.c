/* SPDX-License-Identifier: MIT */
/*
 * The file sink. Names carry the creation time to the microsecond and are
 * created with O_EXCL, bumping the microsecond on a collision, so no file
 * is ever overwritten; O_NOFOLLOW keeps a symlink planted in the directory
 * from redirecting us. A batch is written whole or not at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "entry_json.h"
#include "buf.h"
#include "sink_file.h"

#define NAME_ATTEMPTS 1000

struct file_sink {
	struct sink sink;
	int dirfd;
	int fd;
	char prefix[80];
	char name[160];         /* the current file, relative to the directory */
	uint64_t size;          /* bytes of whole lines in the current file */
	struct lb_buf line;
};

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

static void format_name(char *out, size_t cap, const char *prefix, uint64_t us)
{
	time_t sec = (time_t)(us / 1000000u);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(out, cap, "%s_%04d%02d%02d_%02d%02d%02d_%06llu.jsonl", prefix,
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned long long)(us % 1000000u));
}

static int create_file(struct file_sink *s)
{
	uint64_t us = lb_clock_ns(CLOCK_REALTIME) / 1000u;

	for (int i = 0; i < NAME_ATTEMPTS; i++, us++) {
		format_name(s->name, sizeof(s->name), s->prefix, us);
		s->fd = openat(s->dirfd, s->name,
			       O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_APPEND,
			       0640);
		if (s->fd >= 0) {
			s->size = 0;
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}


static int write_all(int fd, const char *p, size_t n)
{
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

static int file_write(struct sink *sink, const struct batch *b)
{
	struct file_sink *s = (struct file_sink *)sink;
	int r;

	if (s->fd < 0) {
		r = create_file(s);
		if (r < 0)
			return r;
	}
	s->line.len = 0;
	for (size_t i = 0; i < b->count; i++) {
		const struct batch_entry *be = &b->entries[i];
		struct lb_entry_ids ids = { .seq = be->seq, .lane = be->lane };
		lb_entry_json_put(&s->line, &be->e, be->ts_ns, &ids);
	}
	if (s->line.failed) {
		s->line.failed = false;
		return -ENOMEM;
	}
	r = write_all(s->fd, s->line.data, s->line.len);
	if (r < 0) {
		/* Cut back to the last whole line, so the file stays valid
		 * JSON lines and the retry does not duplicate a half. */
		(void)!ftruncate(s->fd, (off_t)s->size);
		return r;
	}
	s->size += s->line.len;
	s->sink.counters.bytes += s->line.len;
	return 0;
}

static int file_reopen(struct sink *sink)
{
	struct file_sink *s = (struct file_sink *)sink;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return create_file(s);
}

static void file_destroy(struct sink *sink)
{
	struct file_sink *s = (struct file_sink *)sink;

	if (s->fd >= 0)
		close(s->fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	lb_buf_free(&s->line);
	free(s);
}

static const struct sink_ops file_ops = {
	.write = file_write,
	.reopen = file_reopen,
	.destroy = file_destroy,
};

int sink_file_new(const char *dir, const char *prefix, struct sink **out)
{
	struct file_sink *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	*s = (struct file_sink){
		.sink = { .name = "file", .ops = &file_ops },
		.dirfd = -1,
		.fd = -1,
	};
	snprintf(s->prefix, sizeof(s->prefix), "%s", prefix);
	r = make_dirs(dir);
	if (r == 0) {
		s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = s->dirfd < 0 ? -errno : create_file(s);
	}
	if (r < 0) {
		file_destroy(&s->sink);
		return r;
	}
	*out = &s->sink;
	return 0;
}

const char *sink_file_name(const struct sink *sink)
{
	return ((const struct file_sink *)sink)->name;
}
