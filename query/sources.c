/* SPDX-License-Identifier: MIT */
/* What a query reads: streams of files, found by name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus.h"
#include "names.h"
#include "sources.h"

/* The bus a writer file's name belongs to, copied into bus[cap]; false
 * when name is not <bus>_YYYYMMDD_HHMMSS_USEC.jsonl[.zst]. */
static bool source_bus_of(const char *name, char *bus, size_t cap)
{
	static const char shape[] = "_99999999_999999_999999.jsonl";
	size_t len = strlen(name), stamp = sizeof(shape) - 1;

	if (name_ends_with(name, ".zst"))
		len -= 4;
	if (len <= stamp)
		return false;
	const char *tail = name + len - stamp;
	for (size_t i = 0; i < stamp; i++)
		if (shape[i] == '9' ? (tail[i] < '0' || tail[i] > '9') : tail[i] != shape[i])
			return false;
	size_t blen = len - stamp;
	if (blen >= cap)
		return false;
	memcpy(bus, name, blen);
	bus[blen] = '\0';
	return lb_bus_name_valid(bus);
}

/* The name after the last '/'. */
static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* By file name, which sorts a bus's files by time. */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(base_of(*(char *const *)a), base_of(*(char *const *)b));
}

/* Equal strings, or both NULL. */
static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The stream of (dir, bus), made when missing; NULL when out of memory. */
static struct source_stream *stream_of(struct source_set *set, const char *dir, const char *bus)
{
	for (size_t i = 0; bus && i < set->n; i++)
		if (same(set->v[i].dir, dir) && same(set->v[i].bus, bus))
			return &set->v[i];
	struct source_stream *v = realloc(set->v, (set->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	set->v = v;
	struct source_stream *s = &v[set->n];
	*s = (struct source_stream){ .dir = dir ? strdup(dir) : NULL,
				     .bus = bus ? strdup(bus) : NULL };
	if ((dir && !s->dir) || (bus && !s->bus))
		return NULL;
	set->n++;
	return s;
}

/* Whether s lists path. */
static bool holds(const struct source_stream *s, const char *path)
{
	for (size_t i = 0; i < s->nfiles; i++)
		if (!strcmp(s->files[i], path))
			return true;
	return false;
}

/* Add path to s, keeping the files sorted by name (that is, by time). */
static int stream_add(struct source_stream *s, const char *path)
{
	if (holds(s, path))
		return 0;
	char **v = realloc(s->files, (s->nfiles + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->files = v;
	if (!(v[s->nfiles] = strdup(path)))
		return -ENOMEM;
	s->nfiles++;
	qsort(s->files, s->nfiles, sizeof(*s->files), name_cmp);
	return 0;
}

/* Whether path is a lone-file stream already. */
static bool lone_file_known(const struct source_set *set, const char *path)
{
	for (size_t i = 0; i < set->n; i++)
		if (!set->v[i].bus && holds(&set->v[i], path))
			return true;
	return false;
}

/* Add path to the stream of (dir, bus), or as a lone file (bus NULL). */
static int add_to(struct source_set *set, const char *dir, const char *bus, const char *path)
{
	if (!bus && lone_file_known(set, path))
		return 0;
	struct source_stream *s = stream_of(set, dir, bus);
	return s ? stream_add(s, path) : -ENOMEM;
}

int source_add_file(struct source_set *set, const char *path)
{
	char bus[LB_BUS_NAME_MAX + 1], dir[4096];
	const char *base = base_of(path);

	if (!source_bus_of(base, bus, sizeof(bus)))
		return add_to(set, NULL, NULL, path);
	snprintf(dir, sizeof(dir), "%.*s", (int)(base - path), path);
	return add_to(set, dir[0] ? dir : "./", bus, path);
}

/* Whether bus is one of --bus (any bus when none is named). */
static bool bus_named(const char *bus, const char *const *buses, size_t nbuses)
{
	for (size_t i = 0; i < nbuses; i++)
		if (!strcmp(bus, buses[i]))
			return true;
	return nbuses == 0;
}

int source_add_dir(struct source_set *set, const char *dir, const char *const *buses,
		   size_t nbuses)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return -errno;
	while (r == 0 && (de = readdir(d))) {
		char bus[LB_BUS_NAME_MAX + 1], path[4096];
		struct stat st;
		bool writer_file = source_bus_of(de->d_name, bus, sizeof(bus));

		if (de->d_name[0] == '.' ||
		    (writer_file ? !bus_named(bus, buses, nbuses)
				 : nbuses || !(name_ends_with(de->d_name, ".jsonl") ||
					       name_ends_with(de->d_name, ".jsonl.zst"))))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		r = add_to(set, writer_file ? dir : NULL, writer_file ? bus : NULL, path);
	}
	closedir(d);
	return r;
}

/* The order of source_set_sort. */
static int stream_cmp(const void *a, const void *b)
{
	const struct source_stream *x = a, *y = b;

	/* Buses by name, then lone files by path. */
	if (!x->bus != !y->bus)
		return x->bus ? -1 : 1;
	if (x->bus) {
		int c = strcmp(x->bus, y->bus);
		if (c)
			return c;
	}
	return strcmp(x->files[0], y->files[0]);
}

void source_set_sort(struct source_set *set)
{
	if (set->n)
		qsort(set->v, set->n, sizeof(*set->v), stream_cmp);
}

void source_set_free(struct source_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		for (size_t j = 0; j < set->v[i].nfiles; j++)
			free(set->v[i].files[j]);
		free(set->v[i].files);
		free(set->v[i].dir);
		free(set->v[i].bus);
	}
	free(set->v);
	*set = (struct source_set){ 0 };
}
