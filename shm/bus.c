/* SPDX-License-Identifier: MIT */
/*
 * The bus segment: creation, attaching with validation of everything the
 * header claims, and the writer's words in the header (generation, pid,
 * heartbeat, output sequence).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "layout.h"

int lb_bus_geometry_check(const struct lb_bus_geometry *g, struct lb_bus_error *err)
{
	if (g->lane_count < 1 || g->lane_count > LB_MAX_LANES) {
		lb_set_why(err, "lane count %u is outside 1..%u", g->lane_count, LB_MAX_LANES);
		return -EINVAL;
	}
	if (g->lane_size < LB_MIN_LANE_SIZE || g->lane_size > LB_MAX_LANE_SIZE ||
	    (g->lane_size & (g->lane_size - 1))) {
		lb_set_why(err, "lane size %llu is not a power of two in %llu..%llu",
			(unsigned long long)g->lane_size, (unsigned long long)LB_MIN_LANE_SIZE,
			(unsigned long long)LB_MAX_LANE_SIZE);
		return -EINVAL;
	}
	return 0;
}

static uint64_t lane_stride(uint64_t lane_size)
{
	return LB_LANE_HEADER_SIZE + lane_size;
}

static int map_fd(int fd, size_t size, bool writable, struct lb_bus *bus)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0)
		return -errno;
	p = mmap(NULL, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	bus->base = p;
	bus->size = size;
	bus->hdr = p;
	bus->fd = fd;
	bus->dev = st.st_dev;
	bus->ino = st.st_ino;
	return 0;
}

/* A random id that tells this segment from any earlier one of the same
 * name; never 0, which stands for a segment made before ids existed. */
static uint64_t new_segment_id(void)
{
	uint64_t id = 0;

	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id) || id == 0)
		id = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^ 1u;
	return id;
}

int lb_bus_create(const char *name, const struct lb_bus_geometry *g, uint32_t ts_mode,
		  struct lb_bus *bus, struct lb_bus_error *err)
{
	char path[LB_BUS_PATH_MAX];
	uint64_t size = sizeof(struct lb_bus_header);
	int fd, r;

	*bus = (struct lb_bus){ .fd = -1 };
	if (lb_bus_path(name, NULL, path) < 0) {
		lb_set_why(err, "bad bus name (want 1-64 of [A-Za-z0-9_.-])");
		return -EINVAL;
	}
	r = lb_bus_geometry_check(g, err);
	if (r < 0)
		return r;
	fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		lb_set_why(err, "cannot create %s: %s", path, strerror(errno));
		return r;
	}
	/* Only the writer holding the bus's lock (lb_registry_lock) creates
	 * it; clients read it, so it is theirs to read, never to write. */
	if (fchmod(fd, 0644) < 0 ||
	    ftruncate(fd, (off_t)size) < 0) {
		r = -errno;
		lb_set_why(err, "cannot size %s: %s", path, strerror(errno));
		goto fail;
	}
	/* posix_fallocate returns the error instead of setting errno. */
	r = posix_fallocate(fd, 0, (off_t)size);
	if (r != 0) {
		lb_set_why(err, "cannot allocate %llu bytes for %s: %s",
			(unsigned long long)size, path, strerror(r));
		r = -r;
		goto fail;
	}
	r = map_fd(fd, size, true, bus);
	if (r < 0) {
		lb_set_why(err, "cannot map %s: %s", path, strerror(-r));
		goto fail;
	}

	struct lb_bus_header *h = bus->hdr;
	h->version = LB_LAYOUT_VERSION;
	h->header_size = sizeof(*h);
	h->segment_size = size;
	h->lane_count = g->lane_count;
	h->lane_header_size = LB_LANE_HEADER_SIZE;
	h->lane_size = g->lane_size;
	h->lane_stride = lane_stride(g->lane_size);
	h->max_record = (uint32_t)(g->lane_size / 2);
	h->ts_mode = ts_mode;
	h->segment_id = new_segment_id();
	/* LMM(bus_create:A) pairs with bus_attach:A: the geometry above is
	 * visible to whoever sees the magic. */
	atomic_store_explicit(&h->magic, LB_BUS_MAGIC, memory_order_release);

	bus->lane_count = h->lane_count;
	bus->lane_size = h->lane_size;
	bus->lane_stride = h->lane_stride;
	bus->max_record = h->max_record;
	bus->ts_mode = ts_mode;
	return 0;

fail:
	if (bus->base)
		munmap(bus->base, bus->size);
	*bus = (struct lb_bus){ .fd = -1 };
	(void)shm_unlink(path);
	close(fd);
	return r;
}

/* Checks the header copy h against the file size; fills bus's geometry. */
static int validate_header(const struct lb_bus_header *h, uint64_t file_size,
			   const char *path, struct lb_bus *bus, struct lb_bus_error *err)
{
	struct lb_bus_geometry g = { .lane_count = h->lane_count, .lane_size = h->lane_size };
	uint64_t stride, expect;

	if (h->version != LB_LAYOUT_VERSION) {
		lb_set_why(err, "%s has layout version %u, this program speaks version %u", path,
			h->version, LB_LAYOUT_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (h->header_size != sizeof(*h) || h->lane_header_size != LB_LANE_HEADER_SIZE ||
	    lb_bus_geometry_check(&g, NULL) < 0) {
		lb_set_why(err, "%s has an inconsistent header (lanes %u of %llu bytes)", path,
			h->lane_count, (unsigned long long)h->lane_size);
		return -EBADMSG;
	}
	stride = lane_stride(h->lane_size);
	expect = sizeof(*h);
	if (h->lane_stride != stride || h->segment_size != expect || file_size != expect ||
	    h->max_record != h->lane_size / 2 ||
	    (h->ts_mode != LB_TS_TSC && h->ts_mode != LB_TS_REALTIME)) {
		lb_set_why(err, "%s is %llu bytes but its header describes %llu", path,
			(unsigned long long)file_size, (unsigned long long)expect);
		return -EBADMSG;
	}
	bus->lane_count = h->lane_count;
	bus->lane_size = h->lane_size;
	bus->lane_stride = stride;
	bus->max_record = h->max_record;
	bus->ts_mode = h->ts_mode;
	return 0;
}

int lb_bus_attach(const char *name, bool writable, struct lb_bus *bus,
		  struct lb_bus_error *err)
{
	char path[LB_BUS_PATH_MAX];
	struct lb_bus_header copy;
	struct stat st;
	int fd, r;

	*bus = (struct lb_bus){ .fd = -1 };
	if (lb_bus_path(name, NULL, path) < 0) {
		lb_set_why(err, "bad bus name (want 1-64 of [A-Za-z0-9_.-])");
		return -EINVAL;
	}
	fd = shm_open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		lb_set_why(err, "cannot open %s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		lb_set_why(err, "cannot stat %s: %s", path, strerror(errno));
		goto fail;
	}
	if ((uint64_t)st.st_size < sizeof(copy)) {
		/* The creator sizes the file right after creating it. */
		r = st.st_size == 0 ? -EAGAIN : -EBADMSG;
		lb_set_why(err, "%s is %lld bytes, too small for a bus header", path,
			(long long)st.st_size);
		goto fail;
	}
	/* Load once, copy, validate the copy: pread, not the mapping, so that
	 * a segment shorter than it claims can never fault us. The magic is
	 * read first; LMM(bus_attach:A) pairs with bus_create:A: the acquire
	 * fence orders the header read after it. */
	if (pread(fd, &copy.magic, sizeof(copy.magic), 0) != (ssize_t)sizeof(copy.magic)) {
		r = -EIO;
		lb_set_why(err, "cannot read the header of %s", path);
		goto fail;
	}
	atomic_thread_fence(memory_order_acquire);
	uint64_t magic = copy.magic;
	if (pread(fd, &copy, sizeof(copy), 0) != (ssize_t)sizeof(copy)) {
		r = -EIO;
		lb_set_why(err, "cannot read the header of %s", path);
		goto fail;
	}
	if (magic == 0) {
		r = -EAGAIN;
		lb_set_why(err, "%s is still being created", path);
		goto fail;
	}
	if (magic != LB_BUS_MAGIC || copy.magic != LB_BUS_MAGIC) {
		r = -EPROTO;
		lb_set_why(err, "%s is not a logbus segment (bad magic)", path);
		goto fail;
	}
	r = validate_header(&copy, (uint64_t)st.st_size, path, bus, err);
	if (r < 0)
		goto fail;
	r = map_fd(fd, (size_t)st.st_size, writable, bus);
	if (r < 0) {
		lb_set_why(err, "cannot map %s: %s", path, strerror(-r));
		goto fail;
	}
	return 0;

fail:
	close(fd);
	{
		struct lb_bus_error keep = err ? *err : (struct lb_bus_error){ 0 };
		*bus = (struct lb_bus){ .fd = -1 };
		if (err)
			*err = keep;
	}
	return r;
}

void lb_bus_detach(struct lb_bus *bus)
{
	if (bus->base) {
		munmap(bus->base, bus->size);
		close(bus->fd);
	}
	*bus = (struct lb_bus){ .fd = -1 };
}

void lb_bus_writer_generation(const struct lb_bus *bus)
{
	atomic_fetch_add_explicit(&bus->hdr->generation, 1, memory_order_relaxed);
}

void lb_bus_writer_begin(const struct lb_bus *bus, pid_t pid, uint64_t realtime_ns,
			 uint64_t monotonic_ns)
{
	struct lb_bus_header *h = bus->hdr;

	atomic_store_explicit(&h->writer_start_ns, realtime_ns, memory_order_relaxed);
	atomic_store_explicit(&h->heartbeat_ns, monotonic_ns, memory_order_relaxed);
	atomic_store_explicit(&h->writer_pid, pid, memory_order_relaxed);
}

void lb_bus_writer_end(const struct lb_bus *bus)
{
	atomic_store_explicit(&bus->hdr->writer_pid, 0, memory_order_relaxed);
}

void lb_bus_heartbeat(const struct lb_bus *bus, uint64_t monotonic_ns)
{
	atomic_store_explicit(&bus->hdr->heartbeat_ns, monotonic_ns, memory_order_relaxed);
}

pid_t lb_bus_writer_pid(const struct lb_bus *bus)
{
	return atomic_load_explicit(&bus->hdr->writer_pid, memory_order_relaxed);
}

uint64_t lb_bus_generation(const struct lb_bus *bus)
{
	/* A hint only, ordered with nothing: a client that reads an old
	 * value reattaches at its next slow path instead. */
	return atomic_load_explicit(&bus->hdr->generation, memory_order_relaxed);
}

bool lb_bus_writer_stale(const struct lb_bus *bus, uint64_t now_ns, uint64_t stale_ns)
{
	uint64_t beat = atomic_load_explicit(&bus->hdr->heartbeat_ns, memory_order_relaxed);

	if (lb_bus_writer_pid(bus) == 0)
		return true;
	return now_ns > beat && now_ns - beat > stale_ns;
}

uint64_t lb_bus_output_seq(const struct lb_bus *bus)
{
	return atomic_load_explicit(&bus->hdr->next_output_seq, memory_order_relaxed);
}

void lb_bus_set_output_seq(const struct lb_bus *bus, uint64_t seq)
{
	atomic_store_explicit(&bus->hdr->next_output_seq, seq, memory_order_relaxed);
}

uint64_t lb_bus_id(const struct lb_bus *bus)
{
	/* Written once before the magic's release store (bus_create:A). */
	return bus->hdr->segment_id;
}
