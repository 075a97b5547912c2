/* SPDX-License-Identifier: MIT */
/*
 * The writer's private directory: its lock, the registry of lane slots,
 * and the lane files (the design is at the top of registry.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "futex.h"
#include "layout.h"
#include "registry.h"

#define REGISTRY_FILE "registry"

/* The directory must be ours and closed to everyone else: whoever else
 * could enter it could read every lane. */
static int dir_check(int fd, const char *path, struct lb_bus_error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		lb_set_why(err, "cannot stat %s: %s", path, strerror(errno));
		return -errno;
	}
	if (st.st_uid != geteuid()) {
		lb_set_why(err, "%s belongs to uid %u, not to this writer (uid %u); remove it",
			   path, (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if ((st.st_mode & 077) && fchmod(fd, 0700) < 0) {
		lb_set_why(err, "%s is open to other users and cannot be closed: %s", path,
			   strerror(errno));
		return -EPERM;
	}
	return 0;
}

int lb_registry_lock(const char *bus_name, struct lb_bus_error *err)
{
	char path[LB_BUS_PATH_MAX + 32];
	int fd, r;

	if (lb_registry_dir(bus_name, path, sizeof(path)) < 0) {
		lb_set_why(err, "bad bus name (want 1-64 of [A-Za-z0-9_.-])");
		return -EINVAL;
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		lb_set_why(err, "cannot make %s: %s", path, strerror(errno));
		return -errno;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		lb_set_why(err, "cannot open %s: %s", path, strerror(errno));
		return r;
	}
	r = dir_check(fd, path, err);
	if (r == 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		lb_set_why(err, "cannot lock %s: %s", path, strerror(-r));
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static size_t registry_size(uint32_t slots)
{
	return sizeof(struct lb_registry_header) + (size_t)slots * sizeof(struct lb_slot);
}

/* Whether the mapped registry serves bus as it is now. */
static bool registry_fits(const struct lb_registry_header *h, const struct lb_bus *bus)
{
	return h->magic == LB_REGISTRY_MAGIC && h->version == LB_REGISTRY_VERSION &&
	       h->slot_count == bus->lane_count && h->lane_size == bus->lane_size &&
	       h->bus_id == lb_bus_id(bus);
}

/* An adopted registry: a grant a killed writer left unfinished is undone
 * (its client never got the file). */
static void registry_recover(struct lb_registry *reg)
{
	for (uint32_t i = 0; i < reg->slot_count; i++) {
		struct lb_slot *s = &reg->slots[i];
		uint32_t state = atomic_load_explicit(&s->state, memory_order_relaxed);

		if (state == LB_SLOT_GRANTING || state > LB_SLOT_RELEASED) {
			(void)lb_lane_file_unlink(reg, i,
						  atomic_load_explicit(&s->grant, memory_order_relaxed));
			atomic_store_explicit(&s->state, LB_SLOT_FREE, memory_order_relaxed);
		}
	}
}

static void registry_init(struct lb_registry *reg, const struct lb_bus *bus)
{
	struct lb_registry_header *h = reg->hdr;

	memset(reg->hdr, 0, reg->size);
	h->version = LB_REGISTRY_VERSION;
	h->slot_count = bus->lane_count;
	h->lane_size = bus->lane_size;
	h->bus_id = lb_bus_id(bus);
	h->magic = LB_REGISTRY_MAGIC;
}

/* Whether the lane file named name belongs to a slot that holds a lane. */
static bool lane_file_named(const struct lb_registry *reg, const char *name)
{
	unsigned long long grant;
	unsigned slot;
	int end = 0;

	if (sscanf(name, "lane.%u.%llu%n", &slot, &grant, &end) != 2 || name[end] ||
	    slot >= reg->slot_count)
		return false;
	const struct lb_slot *s = &reg->slots[slot];
	uint32_t state = atomic_load_explicit(&s->state, memory_order_acquire);

	return (state == LB_SLOT_GRANTED || state == LB_SLOT_RELEASED) &&
	       atomic_load_explicit(&s->grant, memory_order_relaxed) == grant;
}

/* Remove every lane file that no slot names (left by a writer killed while
 * it made or removed one). */
static void lane_file_sweep(const struct lb_registry *reg)
{
	int fd = openat(reg->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *d;
	DIR *dp;

	if (fd < 0 || !(dp = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((d = readdir(dp)))
		if (!strncmp(d->d_name, "lane.", 5) && !lane_file_named(reg, d->d_name))
			(void)unlinkat(reg->dirfd, d->d_name, 0);
	closedir(dp);
}

int lb_registry_open(int dirfd, const struct lb_bus *bus, struct lb_registry *reg,
		     struct lb_bus_error *err)
{
	size_t size = registry_size(bus->lane_count);
	struct stat st;
	void *p;
	int fd, r;

	*reg = (struct lb_registry){ .dirfd = dirfd, .slot_count = bus->lane_count,
				     .lane_size = bus->lane_size,
				     .file_size = LB_LANE_HEADER_SIZE + bus->lane_size, .size = size };
	fd = openat(dirfd, REGISTRY_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		lb_set_why(err, "cannot open the lane registry: %s", strerror(errno));
		goto fail;
	}
	bool fresh = (uint64_t)st.st_size != size;
	if (fresh && (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)size) < 0)) {
		r = -errno;
		lb_set_why(err, "cannot size the lane registry: %s", strerror(errno));
		goto fail;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		lb_set_why(err, "cannot map the lane registry: %s", strerror(errno));
		goto fail;
	}
	close(fd);
	reg->hdr = p;
	reg->slots = (struct lb_slot *)(reg->hdr + 1);
	if (fresh || !registry_fits(reg->hdr, bus))
		registry_init(reg, bus);   /* every slot free: the sweep removes every file */
	else
		registry_recover(reg);
	lane_file_sweep(reg);
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	reg->dirfd = -1;
	return r;
}

int lb_registry_view(const char *bus_name, struct lb_registry *reg)
{
	char path[LB_BUS_PATH_MAX + 48];
	struct stat st;
	void *p;
	int fd;

	*reg = (struct lb_registry){ .dirfd = -1 };
	if (lb_registry_dir(bus_name, path, sizeof(path)) < 0)
		return -EINVAL;
	strcat(path, "/" REGISTRY_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(struct lb_registry_header)) {
		close(fd);
		return -EBADMSG;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	reg->hdr = p;
	reg->size = (size_t)st.st_size;
	reg->slots = (struct lb_slot *)(reg->hdr + 1);
	if (reg->hdr->magic != LB_REGISTRY_MAGIC ||
	    registry_size(reg->hdr->slot_count) != reg->size) {
		lb_registry_close(reg);
		return -EBADMSG;
	}
	reg->slot_count = reg->hdr->slot_count;
	reg->lane_size = reg->hdr->lane_size;
	reg->file_size = LB_LANE_HEADER_SIZE + reg->lane_size;
	return 0;
}

void lb_registry_close(struct lb_registry *reg)
{
	if (reg->hdr)
		munmap(reg->hdr, reg->size);
	if (reg->dirfd >= 0)
		close(reg->dirfd);
	*reg = (struct lb_registry){ .dirfd = -1 };
}

void lb_registry_notify(const struct lb_registry *reg)
{
	atomic_fetch_add_explicit(&reg->hdr->changes, 1, memory_order_release);
	lb_futex_wake(&reg->hdr->changes, INT32_MAX);
}

static void lane_file_name(char *out, size_t n, uint32_t slot, uint64_t grant)
{
	snprintf(out, n, "lane.%u.%llu", slot, (unsigned long long)grant);
}

int lb_lane_file_create(const struct lb_registry *reg, uint32_t slot, uint64_t grant)
{
	struct lb_slot *s = &reg->slots[slot];
	struct lb_lane *lane;
	char name[64];
	int fd, r;

	lane_file_name(name, sizeof(name), slot, grant);
	fd = openat(reg->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* Every byte allocated now: a client must not take SIGBUS on a full
	 * tmpfs in the middle of a publish. */
	r = posix_fallocate(fd, 0, (off_t)reg->file_size);
	if (r != 0) {
		r = -r;
		goto fail;
	}
	lane = mmap(NULL, LB_LANE_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (lane == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	s->pos_start = atomic_load_explicit(&s->tail, memory_order_relaxed);
	s->seq_start = atomic_load_explicit(&s->seq_floor, memory_order_relaxed);
	lane->grant = grant;
	lane->slot = slot;
	atomic_store_explicit(&lane->head, s->pos_start, memory_order_relaxed);
	atomic_store_explicit(&lane->tail, s->pos_start, memory_order_relaxed);
	atomic_store_explicit(&lane->next_seq, s->seq_start, memory_order_relaxed);
	munmap(lane, LB_LANE_HEADER_SIZE);
	return fd;

fail:
	close(fd);
	(void)unlinkat(reg->dirfd, name, 0);
	return r;
}

int lb_lane_file_open(const struct lb_registry *reg, uint32_t slot, uint64_t grant)
{
	char name[64];
	int fd;

	lane_file_name(name, sizeof(name), slot, grant);
	fd = openat(reg->dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int lb_lane_file_unlink(const struct lb_registry *reg, uint32_t slot, uint64_t grant)
{
	char name[64];

	lane_file_name(name, sizeof(name), slot, grant);
	return unlinkat(reg->dirfd, name, 0) < 0 ? -errno : 0;
}
