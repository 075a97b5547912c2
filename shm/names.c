/* SPDX-License-Identifier: MIT */
/* The names of a bus and the paths of its files (names.h). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "names.h"

bool lb_bus_name_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, LB_BUS_NAME_MAX + 1);
	if (n == 0 || n > LB_BUS_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

const char *lb_bus_default_name(void)
{
	const char *env = getenv("LOGBUS_BUS");

	return env && *env ? env : "default";
}

void lb_set_why(struct lb_bus_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->why, sizeof(err->why), fmt, ap);
	va_end(ap);
}

int lb_bus_path(const char *name, const char *suffix, char out[LB_BUS_PATH_MAX])
{
	if (!lb_bus_name_valid(name))
		return -EINVAL;
	snprintf(out, LB_BUS_PATH_MAX, "/logbus.%s%s", name, suffix ? suffix : "");
	return 0;
}

/* "/dev/shm/logbus.<bus><suffix>", a file of the bus that is no segment. */
static int file_path(const char *bus, const char *suffix, char *out, size_t n)
{
	if (!lb_bus_name_valid(bus))
		return -EINVAL;
	snprintf(out, n, "/dev/shm/logbus.%s%s", bus, suffix);
	return 0;
}

int lb_reg_socket_path(const char *bus, char *out, size_t n)
{
	return file_path(bus, ".sock", out, n);
}

int lb_registry_dir(const char *bus, char *out, size_t n)
{
	return file_path(bus, ".d", out, n);
}

/* Remove the segment "/logbus.<name><suffix>"; 0 or a negative errno. */
static int segment_unlink(const char *name, const char *suffix)
{
	char path[LB_BUS_PATH_MAX];

	if (lb_bus_path(name, suffix, path) < 0)
		return -EINVAL;
	return shm_unlink(path) < 0 ? -errno : 0;
}

int lb_stats_unlink(const char *name)
{
	return segment_unlink(name, LB_STATS_SUFFIX);
}

/* Remove the writer's private directory of bus name and what it holds. */
static void unlink_private_dir(const char *name)
{
	char dir[LB_BUS_PATH_MAX + 32];
	struct dirent *d;
	DIR *dp;

	if (lb_registry_dir(name, dir, sizeof(dir)) < 0 || !(dp = opendir(dir)))
		return;
	while ((d = readdir(dp)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			(void)unlinkat(dirfd(dp), d->d_name, 0);
	closedir(dp);
	(void)rmdir(dir);
}

int lb_bus_unlink(const char *name)
{
	char sock[LB_BUS_PATH_MAX + 32];

	if (!lb_bus_name_valid(name))
		return -EINVAL;
	/* The writer leaves its stats segment for readers, its socket and
	 * its lanes for the next writer; they go with the bus. */
	(void)lb_stats_unlink(name);
	if (lb_reg_socket_path(name, sock, sizeof(sock)) == 0)
		(void)unlink(sock);
	unlink_private_dir(name);
	return segment_unlink(name, NULL);
}
