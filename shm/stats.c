/* SPDX-License-Identifier: MIT */
/*
 * DOC: the stats segment
 *
 * Layout, every area starting on a cache line, all sizes derived from the
 * lane count (a reader recomputes them and checks the file's size):
 *
 *   0      struct stats_header   line 0: magic, version, geometry
 *                                line 1: heartbeat (outside the seqlock)
 *                                line 2: seq, the seqlock word
 *   192    struct stats_meta     writer pid, start, last publish, counts
 *   256    struct lb_stats_bus
 *   448    struct lb_stats_client x lane_count
 *          struct lb_stats_sink   x LB_STATS_SINKS_MAX
 *          struct lb_stats_hook   x LB_STATS_HOOKS_MAX
 *          struct lb_stats_hist   latency, then batch sizes
 *
 * Writer: lb_stats_create() once (it replaces a segment left by an earlier
 * writer: counters count from this writer's start, which start_ns tells),
 * then lb_stats_heartbeat() often and lb_stats_publish() every ~100 ms.
 * The writer keeps its counters privately and publishes copies, so the
 * drain loop never touches this segment, and a counter here only changes
 * to the next value the writer computed (which it keeps from decreasing).
 *
 * Readers: lb_stats_read() copies the segment with pread(2) and never maps
 * it. A truncated or replaced file then costs a short read, not SIGBUS, and
 * nothing a reader does can slow the writer: the seqlock makes readers
 * retry, never the writer wait.
 *
 *	seq odd -> store the words -> seq even      (writer)
 *	read seq -> copy -> read seq; equal and even, or retry   (reader)
 *
 * A writer killed mid-update leaves seq odd forever; a reader then takes
 * the words as they are (each word is whole: relaxed atomic stores) and
 * says the copy is not consistent.
 *
 * Memory ordering pairs (LMM tags):
 *   stats_create:A (magic store, release) -> stats_read:C (the reader's
 *        header copy, after which it takes every geometry field as final)
 *   stats_publish:A (odd seq, then release fence) -> stats_read:B (acquire
 *        fence, then the second seq load): a reader that saw any word of
 *        an update also sees its seq change.
 *   stats_publish:B (even seq, release) -> stats_read:A (first seq load,
 *        then acquire fence): a reader that sees the even seq sees every
 *        word stored before it.
 * The reader's loads are the kernel's copies inside pread(2); each call is
 * ordered after the previous one on the reader's CPU, and the fences keep
 * the compiler from moving anything across them.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "layout.h"
#include "stats.h"

#define READ_TRIES 200

struct stats_header {
	_Atomic uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t segment_size;
	uint32_t lane_count;
	uint32_t sinks_max;
	uint32_t hooks_max;
	uint32_t hist_buckets;

	alignas(LB_CACHE_LINE) _Atomic uint64_t heartbeat_ns;

	alignas(LB_CACHE_LINE) _Atomic uint64_t seq;
};

struct stats_meta {
	uint64_t writer_pid;
	uint64_t start_ns;
	uint64_t updated_ns;
	uint64_t publishes;
	uint64_t nsinks;
	uint64_t nhooks;
	uint64_t reserved[2];
};

_Static_assert(offsetof(struct stats_header, version) == LB_STATS_VERSION_OFFSET, "version");
_Static_assert(offsetof(struct stats_header, heartbeat_ns) == 64, "heartbeat line");
_Static_assert(offsetof(struct stats_header, seq) == 128, "seqlock line");
_Static_assert(sizeof(struct stats_header) == 192, "stats header size");
_Static_assert(sizeof(struct stats_meta) == 64, "meta: one cache line");

/* Where each area starts, for a lane count. */
struct stats_layout {
	size_t meta, bus, clients, sinks, hooks, latency, batch, size;
};

static struct stats_layout layout_for(uint32_t lane_count)
{
	struct stats_layout l;

	l.meta = sizeof(struct stats_header);
	l.bus = l.meta + sizeof(struct stats_meta);
	l.clients = l.bus + sizeof(struct lb_stats_bus);
	l.sinks = l.clients + (size_t)lane_count * sizeof(struct lb_stats_client);
	l.hooks = l.sinks + LB_STATS_SINKS_MAX * sizeof(struct lb_stats_sink);
	l.latency = l.hooks + LB_STATS_HOOKS_MAX * sizeof(struct lb_stats_hook);
	l.batch = l.latency + sizeof(struct lb_stats_hist);
	l.size = l.batch + sizeof(struct lb_stats_hist);
	return l;
}

/* ---- histogram buckets ---- */

#define SUB_COUNT (1u << LB_STATS_HIST_SUB_BITS)

/* The bucket of value v. */
static unsigned hist_index(uint64_t v)
{
	if (v < 2 * SUB_COUNT)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - LB_STATS_HIST_SUB_BITS;
	return (shift + 1) * SUB_COUNT + (unsigned)((v >> shift) & (SUB_COUNT - 1));
}

/* The smallest value bucket i holds. */
static uint64_t hist_low(unsigned i)
{
	if (i < 2 * SUB_COUNT)
		return i;
	unsigned shift = i / SUB_COUNT - 1;
	return (uint64_t)(SUB_COUNT + i % SUB_COUNT) << shift;
}

/* The largest value bucket i holds. */
static uint64_t hist_high(unsigned i)
{
	if (i < 2 * SUB_COUNT)
		return i;
	if (i + 1 >= LB_STATS_HIST_BUCKETS)
		return UINT64_MAX;
	return hist_low(i + 1) - 1;
}

/* ---- writer ---- */

/* Make the segment file: made 0600, then given its group and mode, so that
 * nobody outside them can open it in between. */
static int create_fd(const char *path, size_t size, mode_t mode, gid_t group,
		     struct lb_bus_error *err)
{
	int fd, r;

	(void)shm_unlink(path);
	fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		lb_set_why(err, "cannot create %s: %s", path, strerror(errno));
		return r;
	}
	if (group != (gid_t)-1 && fchown(fd, (uid_t)-1, group) < 0) {
		r = -errno;
		lb_set_why(err, "cannot give %s to group %u: %s", path, (unsigned)group,
			   strerror(errno));
		goto fail;
	}
	if (fchmod(fd, mode) < 0 || ftruncate(fd, (off_t)size) < 0) {
		r = -errno;
		lb_set_why(err, "cannot size %s: %s", path, strerror(errno));
		goto fail;
	}
	r = posix_fallocate(fd, 0, (off_t)size);
	if (r != 0) {
		lb_set_why(err, "cannot allocate %zu bytes for %s: %s", size, path, strerror(r));
		r = -r;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	(void)shm_unlink(path);
	return r;
}

int lb_stats_create(const char *name, uint32_t lane_count, mode_t mode, gid_t group,
		    struct lb_stats_segment *s, struct lb_bus_error *err)
{
	struct stats_layout l = layout_for(lane_count);
	char path[LB_BUS_PATH_MAX];
	struct stats_header *h;
	void *p;
	int fd;

	*s = (struct lb_stats_segment){ 0 };
	if (lb_bus_path(name, LB_STATS_SUFFIX, path) < 0 || lane_count < 1 ||
	    lane_count > LB_MAX_LANES) {
		lb_set_why(err, "bad bus name or lane count for a stats segment");
		return -EINVAL;
	}
	fd = create_fd(path, l.size, mode, group, err);
	if (fd < 0)
		return fd;
	p = mmap(NULL, l.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		int r = -errno;
		lb_set_why(err, "cannot map %s: %s", path, strerror(errno));
		(void)shm_unlink(path);
		return r;
	}
	h = p;
	h->version = LB_STATS_VERSION;
	h->header_size = sizeof(*h);
	h->segment_size = l.size;
	h->lane_count = lane_count;
	h->sinks_max = LB_STATS_SINKS_MAX;
	h->hooks_max = LB_STATS_HOOKS_MAX;
	h->hist_buckets = LB_STATS_HIST_BUCKETS;
	/* LMM(stats_create:A) pairs with stats_read:C: the geometry is
	 * complete before a reader can see the magic. */
	atomic_store_explicit(&h->magic, LB_STATS_MAGIC, memory_order_release);
	*s = (struct lb_stats_segment){ .base = p, .size = l.size, .lane_count = lane_count };
	return 0;
}

void lb_stats_close(struct lb_stats_segment *s)
{
	if (!s->base)
		return;
	munmap(s->base, s->size);
	s->base = NULL;
}

void lb_stats_heartbeat(const struct lb_stats_segment *s, uint64_t monotonic_ns)
{
	struct stats_header *h = (struct stats_header *)s->base;

	/* Relaxed: a lone word that readers only compare with their clock. */
	atomic_store_explicit(&h->heartbeat_ns, monotonic_ns, memory_order_relaxed);
}

/* Store n bytes of src (whole words) into the segment at off. */
static void store_words(const struct lb_stats_segment *s, size_t off, const void *src, size_t n)
{
	_Atomic uint64_t *dst = (_Atomic uint64_t *)(s->base + off);

	for (size_t i = 0; i < n / 8; i++) {
		uint64_t w;
		memcpy(&w, (const uint8_t *)src + i * 8, 8);
		atomic_store_explicit(&dst[i], w, memory_order_relaxed);
	}
}

/* A histogram: buckets above the one of its maximum were never counted
 * and are still zero in the segment, so they are not stored again. */
static void store_hist(const struct lb_stats_segment *s, size_t off, const struct lb_stats_hist *h)
{
	size_t used = h->count ? hist_index(h->max) + 1 : 0;

	store_words(s, off, h,
		    offsetof(struct lb_stats_hist, buckets) + used * sizeof(h->buckets[0]));
}

static void store_areas(const struct lb_stats_segment *s, const struct lb_stats_snapshot *snap)
{
	struct stats_layout l = layout_for(s->lane_count);
	uint32_t nclients = snap->nclients < s->lane_count ? snap->nclients : s->lane_count;
	struct stats_meta meta = {
		.writer_pid = (uint64_t)snap->writer_pid,
		.start_ns = snap->start_ns,
		.updated_ns = snap->updated_ns,
		.publishes = snap->publishes,
		.nsinks = snap->nsinks,
		.nhooks = snap->nhooks,
	};

	store_words(s, l.meta, &meta, sizeof(meta));
	store_words(s, l.bus, &snap->bus, sizeof(snap->bus));
	store_words(s, l.clients, snap->clients, nclients * sizeof(*snap->clients));
	store_words(s, l.sinks, snap->sinks, sizeof(snap->sinks));
	store_words(s, l.hooks, snap->hooks, sizeof(snap->hooks));
	store_hist(s, l.latency, &snap->latency);
	store_hist(s, l.batch, &snap->batch);
}

void lb_stats_publish(const struct lb_stats_segment *s, const struct lb_stats_snapshot *snap)
{
	struct stats_header *h = (struct stats_header *)s->base;
	uint64_t seq = atomic_load_explicit(&h->seq, memory_order_relaxed);

	atomic_store_explicit(&h->seq, seq + 1, memory_order_relaxed);
	/* LMM(stats_publish:A) pairs with stats_read:B: the odd seq is
	 * visible before any word of this update. */
	atomic_thread_fence(memory_order_release);
	store_areas(s, snap);
	/* LMM(stats_publish:B) pairs with stats_read:A: every word is
	 * visible before the even seq. */
	atomic_store_explicit(&h->seq, seq + 2, memory_order_release);
}

/* ---- reader ---- */

static int read_exact(int fd, void *buf, size_t n, off_t off)
{
	ssize_t got = pread(fd, buf, n, off);

	if (got < 0)
		return -errno;
	return (size_t)got == n ? 0 : -EBADMSG;
}

static int check_header(const struct stats_header *h, uint64_t file_size, const char *path,
			struct lb_bus_error *err)
{
	uint64_t magic = atomic_load_explicit(&h->magic, memory_order_relaxed);

	if (magic == 0) {
		lb_set_why(err, "%s is being created", path);
		return -EAGAIN;
	}
	if (magic != LB_STATS_MAGIC) {
		lb_set_why(err, "%s is not a logbus stats segment (bad magic)", path);
		return -EPROTO;
	}
	if (h->version != LB_STATS_VERSION) {
		lb_set_why(err, "%s has stats layout version %u; this reader knows version %u",
			path, h->version, LB_STATS_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (h->header_size != sizeof(*h) || h->lane_count < 1 || h->lane_count > LB_MAX_LANES ||
	    h->sinks_max != LB_STATS_SINKS_MAX || h->hooks_max != LB_STATS_HOOKS_MAX ||
	    h->hist_buckets != LB_STATS_HIST_BUCKETS ||
	    h->segment_size != layout_for(h->lane_count).size || h->segment_size != file_size) {
		lb_set_why(err, "%s is damaged: its geometry does not match its size (%llu bytes)",
			path, (unsigned long long)file_size);
		return -EBADMSG;
	}
	return 0;
}

static uint64_t read_seq(int fd)
{
	uint64_t seq = 1;

	if (read_exact(fd, &seq, sizeof(seq), offsetof(struct stats_header, seq)) < 0)
		return 1;   /* as if mid-update: the caller retries */
	return seq;
}

/* Copy the seqlocked part (meta to end) into buf; *consistent says whether
 * a whole update was seen. */
static int copy_consistent(int fd, uint8_t *buf, size_t n, bool *consistent)
{
	for (int tries = 0; tries < READ_TRIES; tries++) {
		uint64_t before = read_seq(fd);
		/* LMM(stats_read:A) pairs with stats_publish:B. */
		atomic_thread_fence(memory_order_acquire);
		int r = read_exact(fd, buf, n, sizeof(struct stats_header));
		if (r < 0)
			return r;
		/* LMM(stats_read:B) pairs with stats_publish:A. */
		atomic_thread_fence(memory_order_acquire);
		if (before % 2 == 0 && read_seq(fd) == before) {
			*consistent = true;
			return 0;
		}
		sched_yield();
	}
	*consistent = false;
	return 0;
}

/* Make a name read from the segment a printable C string. */
static void clean_name(char *s, size_t n)
{
	s[n - 1] = '\0';
	for (size_t i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			s[i] = '?';
}

static int take_meta(struct lb_stats_snapshot *snap, const struct stats_meta *m,
		     const char *path, struct lb_bus_error *err)
{
	if (m->writer_pid > INT32_MAX || m->nsinks > LB_STATS_SINKS_MAX ||
	    m->nhooks > LB_STATS_HOOKS_MAX) {
		lb_set_why(err, "%s is damaged: writer pid %llu, %llu sinks, %llu hooks", path,
			(unsigned long long)m->writer_pid, (unsigned long long)m->nsinks,
			(unsigned long long)m->nhooks);
		return -EBADMSG;
	}
	snap->writer_pid = (pid_t)m->writer_pid;
	snap->start_ns = m->start_ns;
	snap->updated_ns = m->updated_ns;
	snap->publishes = m->publishes;
	snap->nsinks = (uint32_t)m->nsinks;
	snap->nhooks = (uint32_t)m->nhooks;
	return 0;
}

/* Fill snap from copy, the segment from the meta record on, validating
 * as it goes. */
static int take_copy(struct lb_stats_snapshot *snap, const uint8_t *copy, uint32_t lane_count,
		     const char *path, struct lb_bus_error *err)
{
	struct stats_layout l = layout_for(lane_count);
	struct stats_meta meta;
	int r;

	memcpy(&meta, copy, sizeof(meta));
	r = take_meta(snap, &meta, path, err);
	if (r < 0)
		return r;
	memcpy(&snap->bus, copy + (l.bus - l.meta), sizeof(snap->bus));
	memcpy(snap->clients, copy + (l.clients - l.meta), lane_count * sizeof(*snap->clients));
	memcpy(snap->sinks, copy + (l.sinks - l.meta), sizeof(snap->sinks));
	memcpy(snap->hooks, copy + (l.hooks - l.meta), sizeof(snap->hooks));
	memcpy(&snap->latency, copy + (l.latency - l.meta), sizeof(snap->latency));
	memcpy(&snap->batch, copy + (l.batch - l.meta), sizeof(snap->batch));
	snap->nclients = lane_count;
	for (uint32_t i = 0; i < lane_count; i++) {
		struct lb_stats_client *c = &snap->clients[i];
		clean_name(c->comm, sizeof(c->comm));
		if (c->state > LB_STATS_CLIENT_RELEASED)
			c->state = LB_STATS_CLIENT_FREE;
		if (c->pid > INT32_MAX || c->tid > INT32_MAX)
			c->state = LB_STATS_CLIENT_FREE;
	}
	for (uint32_t i = 0; i < LB_STATS_SINKS_MAX; i++)
		clean_name(snap->sinks[i].name, sizeof(snap->sinks[i].name));
	for (uint32_t i = 0; i < LB_STATS_HOOKS_MAX; i++) {
		clean_name(snap->hooks[i].name, sizeof(snap->hooks[i].name));
		clean_name(snap->hooks[i].type, sizeof(snap->hooks[i].type));
	}
	return 0;
}

static int read_fd(int fd, const char *path, struct lb_stats_snapshot *snap,
		   struct lb_bus_error *err)
{
	struct stats_header h;
	struct stat st;
	uint8_t *copy;
	size_t n;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		lb_set_why(err, "cannot stat %s: %s", path, strerror(errno));
		return r;
	}
	if ((uint64_t)st.st_size < sizeof(h)) {
		lb_set_why(err, "%s is not a logbus stats segment (%lld bytes)", path,
			(long long)st.st_size);
		return st.st_size == 0 ? -EAGAIN : -EPROTO;
	}
	r = read_exact(fd, &h, sizeof(h), 0);
	/* LMM(stats_read:C) pairs with stats_create:A. */
	atomic_thread_fence(memory_order_acquire);
	if (r == 0)
		r = check_header(&h, (uint64_t)st.st_size, path, err);
	else
		lb_set_why(err, "cannot read %s: %s", path, strerror(-r));
	if (r < 0)
		return r;
	n = h.segment_size - sizeof(h);
	copy = malloc(n);
	snap->clients = calloc(h.lane_count, sizeof(*snap->clients));
	if (!copy || !snap->clients) {
		free(copy);
		lb_set_why(err, "out of memory reading %s", path);
		return -ENOMEM;
	}
	r = copy_consistent(fd, copy, n, &snap->consistent);
	if (r < 0)
		lb_set_why(err, "%s changed size while being read", path);
	else
		r = take_copy(snap, copy, h.lane_count, path, err);
	snap->version = h.version;
	snap->heartbeat_ns = atomic_load_explicit(&h.heartbeat_ns, memory_order_relaxed);
	free(copy);
	return r;
}

int lb_stats_read(const char *name, struct lb_stats_snapshot *snap, struct lb_bus_error *err)
{
	char path[LB_BUS_PATH_MAX];
	int fd, r;

	*snap = (struct lb_stats_snapshot){ 0 };
	if (lb_bus_path(name, LB_STATS_SUFFIX, path) < 0) {
		lb_set_why(err, "bad bus name (want 1-64 of [A-Za-z0-9_.-])");
		return -EINVAL;
	}
	fd = shm_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		lb_set_why(err, "cannot open %s: %s", path, strerror(errno));
		return r;
	}
	r = read_fd(fd, path, snap, err);
	close(fd);
	if (r < 0)
		lb_stats_snapshot_free(snap);
	return r;
}

void lb_stats_snapshot_free(struct lb_stats_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->clients);
	snap->clients = NULL;
	snap->nclients = 0;
}

/* ---- histograms ---- */

void lb_stats_hist_add(struct lb_stats_hist *h, uint64_t v, uint64_t n)
{
	h->buckets[hist_index(v)] += n;
	h->count += n;
	h->sum += v * n;
	if (v > h->max)
		h->max = v;
}

uint64_t lb_stats_hist_quantile(const struct lb_stats_hist *h, double q)
{
	uint64_t seen = 0, rank;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (unsigned i = 0; i < LB_STATS_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen > rank) {
			uint64_t high = hist_high(i);
			return high < h->max ? high : h->max;
		}
	}
	return h->max;
}
