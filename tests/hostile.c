/* SPDX-License-Identifier: MIT */
/* The hostile client of the isolation tests: every attack it can reach. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "logbus.h"

#include "bus.h"
#include "clock.h"
#include "doorbell.h"
#include "hostile.h"
#include "lane.h"
#include "record.h"
#include "register.h"
#include "registry.h"

#define MAX_HELD 256        /* lanes it tries to take: more than any test bus has */
#define GRANT_SLACK 64      /* grant ids guessed beyond the highest it was given */
#define PROC_FDS 32         /* /proc/<pid>/fd/<n> tried, n below this */

/* Which of its lanes each attack uses. */
enum {
	LANE_SCRIBBLE_HEADER, /* random bytes over the lane header, every round */
	LANE_SCRIBBLE_RING,   /* random bytes over the ring and a random head */
	LANE_FORGE_PID,       /* well-formed records of pid 1, tag sshd */
	LANE_FORGE_SEQ,       /* records from lane_seq 2^62 on */
	LANE_TRUNC_HALF,      /* records, then the file cut to half */
	LANE_TRUNC_ZERO,      /* records, then the file cut to 0 */
	LANES_USED,
};

struct held {
	int fd;
	uint32_t slot;
	uint64_t grant;
	struct lb_lane_map m;
	struct lb_producer p;
	bool mapped;
};

struct hostile_run {
	struct hostile_target *t;
	struct hostile_report *r;
	struct lb_bus bus;
	int sock;
	struct held held[MAX_HELD];
	unsigned nheld;
	uint64_t max_grant;
	uint64_t rng;
	char buf[1 << 16];
};

static uint64_t rnd(struct hostile_run *h)
{
	/* xorshift64 */
	h->rng ^= h->rng << 13;
	h->rng ^= h->rng >> 7;
	h->rng ^= h->rng << 17;
	return h->rng;
}

static void fill_random(struct hostile_run *h, void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rnd(h);
		memcpy(b + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* Record what stopped the hostile; the first reason wins. */
static int give_up(struct hostile_run *h, const char *what, int err)
{
	if (!h->r->failed[0])
		snprintf(h->r->failed, sizeof(h->r->failed), "%s: %s", what, strerror(err));
	return 1;
}

/* ---- others' files ------------------------------------------------------ */

/* Whether a failure is one the kernel gives for a file not ours. */
static bool refused_errno(int e)
{
	return e == EACCES || e == EPERM || e == ENOENT || e == ENXIO || e == ESRCH;
}

/* Count an attempt on what: rc >= 0 worked, else it failed with err. */
static void note(struct hostile_run *h, const char *what, long rc, int e)
{
	h->r->tried++;
	if (rc >= 0) {
		if (!h->r->breaches++)
			snprintf(h->r->breach, sizeof(h->r->breach), "%.200s worked", what);
	} else if (!refused_errno(e)) {
		if (!h->r->odd++)
			snprintf(h->r->odd_what, sizeof(h->r->odd_what), "%.200s: %s", what,
				 strerror(e));
	}
}

/* Read fd to its end, counting a leak when the secret is in it. */
static void read_scan(struct hostile_run *h, int fd)
{
	size_t keep = strlen(h->t->secret) - 1, have = 0;
	ssize_t n;

	while ((n = read(fd, h->buf + have, sizeof(h->buf) - have)) > 0) {
		have += (size_t)n;
		if (memmem(h->buf, have, h->t->secret, keep + 1)) {
			h->r->leaks++;
			return;
		}
		if (have > keep) {
			memmove(h->buf, h->buf + have - keep, keep);
			have = keep;
		}
	}
}

/* Open path with flags, expecting a refusal; what opens is read. */
static void try_open(struct hostile_run *h, const char *path, int flags)
{
	char what[300];
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), e = errno;

	snprintf(what, sizeof(what), "open(%s, %s)", path,
		 (flags & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : "O_RDWR");
	note(h, what, fd, e);
	if (fd >= 0) {
		read_scan(h, fd);
		close(fd);
	}
}

/* Read and write path (a file). */
static void try_file(struct hostile_run *h, const char *path)
{
	try_open(h, path, O_RDONLY);
	try_open(h, path, O_RDWR);
}

/* Open, list and plant a file in path (a directory). */
static void try_dir(struct hostile_run *h, const char *path)
{
	char what[300], planted[300];
	DIR *d;
	int e, fd;

	try_open(h, path, O_RDONLY | O_DIRECTORY);
	d = opendir(path);
	e = errno;
	snprintf(what, sizeof(what), "opendir(%.200s)", path);
	note(h, what, d ? 0 : -1, e);
	if (d)
		closedir(d);
	snprintf(planted, sizeof(planted), "%.200s/planted.%d", path, (int)getpid());
	fd = open(planted, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	e = errno;
	snprintf(what, sizeof(what), "creat(%.200s)", planted);
	note(h, what, fd, e);
	if (fd >= 0) {
		close(fd);
		(void)unlink(planted);
	}
}

/* The bus segment is 0644 by design (clients map it read-only): reading
 * it is no breach, but it must hold nothing of the victim's, and it must
 * not be writable. */
static void try_bus_segment(struct hostile_run *h, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0) {
		note(h, "open(the bus segment, O_RDONLY)", -1, errno);
		return;
	}
	read_scan(h, fd);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	note(h, "mmap(the bus segment, PROT_WRITE, MAP_SHARED)", p == MAP_FAILED ? -1 : 0, EACCES);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	/* Any failure will do here (EBADF, EINVAL: the descriptor is
	 * read-only): only success counts. */
	note(h, "ftruncate(the bus segment)", ftruncate(fd, 0), EACCES);
	note(h, "fchmod(the bus segment)", fchmod(fd, 0666), EPERM);
	close(fd);
	try_open(h, path, O_RDWR);
}

/* Every file of the bus in /dev/shm, the writer's private directory, the
 * registry and every lane file name it can guess. */
static void attack_files(struct hostile_run *h)
{
	char dir[LB_BUS_PATH_MAX + 32], path[3 * LB_BUS_PATH_MAX], prefix[LB_BUS_PATH_MAX];
	struct dirent *de;
	DIR *shm;

	snprintf(prefix, sizeof(prefix), "logbus.%s", h->t->bus);
	snprintf(path, sizeof(path), "/dev/shm/%s", prefix);
	try_bus_segment(h, path);
	shm = opendir("/dev/shm");
	/* logbus.<bus>.<anything> but the socket (connecting to it is allowed) */
	while (shm && (de = readdir(shm))) {
		size_t n = strlen(prefix);
		if (strncmp(de->d_name, prefix, n) || de->d_name[n] != '.' ||
		    !strcmp(de->d_name + n, ".sock") || strlen(de->d_name) > 2 * LB_BUS_PATH_MAX)
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%.*s", 2 * LB_BUS_PATH_MAX, de->d_name);
		if (de->d_type == DT_DIR)
			try_dir(h, path);
		else
			try_file(h, path);
	}
	if (shm)
		closedir(shm);
	if (lb_registry_dir(h->t->bus, dir, sizeof(dir)) < 0)
		return;
	try_dir(h, dir);
	snprintf(path, sizeof(path), "%s/registry", dir);
	try_file(h, path);
	for (uint32_t s = 0; s < h->bus.lane_count; s++) {
		for (uint64_t g = 0; g <= h->max_grant + GRANT_SLACK; g++) {
			snprintf(path, sizeof(path), "%s/lane.%u.%llu", dir, s, (unsigned long long)g);
			try_file(h, path);
		}
	}
}

/* The /proc files through which one process reaches another's memory and
 * descriptors. */
static void attack_proc(struct hostile_run *h, pid_t pid)
{
	static const char *const files[] = { "mem", "maps", "smaps", "environ", "pagemap",
					     "auxv", "stack", "syscall", "root/dev/shm",
					     "cwd" };
	static const char *const dirs[] = { "fd", "fdinfo", "map_files" };
	char path[128];

	if (pid <= 0)
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[i]);
		try_file(h, path);
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, dirs[i]);
		try_dir(h, path);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", (int)pid, (int)pid, dirs[i]);
		try_dir(h, path);
	}
	for (int fd = 0; fd < PROC_FDS; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		try_file(h, path);
	}
}

/* ---- the protocol --------------------------------------------------------- */

int hostile_connect(const char *bus)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), e;

	if (s < 0)
		return -errno;
	if ((e = lb_reg_socket_path(bus, a.sun_path, sizeof(a.sun_path))) < 0)
		goto fail;
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		e = -errno;
		goto fail;
	}
	return s;
fail:
	close(s);
	return e;
}

static struct lb_reg_msg reg_msg(uint16_t type, uint32_t slot, uint64_t grant)
{
	return (struct lb_reg_msg){ .version = LB_REG_VERSION, .type = type, .slot = slot,
				    .grant = grant, .tid = (uint32_t)getpid() };
}

int hostile_request(int sock, uint16_t type, uint32_t slot, uint64_t grant,
		    struct lb_reg_msg *answer, int *fd)
{
	struct lb_reg_msg m = reg_msg(type, slot, grant);
	int r;

	*fd = -1;
	if ((r = lb_reg_send(sock, &m, -1)) < 0)
		return r;
	return lb_reg_recv(sock, answer, fd);
}

/* Ask for one lane on sock: 0 with the lane held, or the refusal's error
 * (with its text in text, when not NULL), or another negative errno. */
static int ask_lane(struct hostile_run *h, int sock, char *text)
{
	struct held *l = &h->held[h->nheld];
	struct lb_reg_msg m;
	int r, fd;

	if ((r = hostile_request(sock, LB_REG_LANE, 0, 0, &m, &fd)) < 0)
		return r;
	if (m.type == LB_REG_REFUSE) {
		if (text)
			snprintf(text, LB_REG_TEXT_MAX, "%.*s", LB_REG_TEXT_MAX - 1, m.text);
		if (fd >= 0)
			close(fd);
		return m.error < 0 ? m.error : -EPROTO;
	}
	if (m.type != LB_REG_GRANT || fd < 0) {
		if (fd >= 0)
			close(fd);
		return -EPROTO;
	}
	*l = (struct held){ .fd = fd, .slot = m.slot, .grant = m.grant };
	if (lb_lane_map(fd, h->bus.lane_size, &l->m) == 0) {
		l->mapped = true;
		lb_producer_init(&l->p, &l->m, &h->bus, m.slot, false);
	}
	if (m.grant > h->max_grant)
		h->max_grant = m.grant;
	h->nheld++;
	return 0;
}

/* Take lanes until refused; then ask once more on a second connection. */
static int take_lanes(struct hostile_run *h)
{
	int r = 0, other;

	while (h->nheld < MAX_HELD && (r = ask_lane(h, h->sock, h->r->refusal_text)) == 0)
		continue;
	h->r->lanes = h->nheld;
	h->r->refusal = h->nheld < MAX_HELD ? r : 0;
	other = hostile_connect(h->t->bus);
	if (other < 0)
		return give_up(h, "connect to the registrar a second time", -other);
	if (h->nheld < MAX_HELD) {
		h->r->refusal_again = ask_lane(h, other, NULL);
		if (h->r->refusal_again == 0)
			h->r->lanes++;
	}
	/* Kept open: the lane it may have got stays held. */
	return 0;
}

/* Whether (slot, grant) is one of its own lanes. */
static bool own(const struct hostile_run *h, uint32_t slot, uint64_t grant)
{
	for (unsigned i = 0; i < h->nheld; i++)
		if (h->held[i].slot == slot && h->held[i].grant == grant)
			return true;
	return false;
}

/* ADOPT every slot and grant it does not hold, on a connection of its
 * own, and with release, RELEASE each too. The registrar ends a
 * connection that RELEASEs what it does not hold (with a line on its
 * stderr): it is made again each time, and RELEASE is tried only for the
 * grants given so far, where the victim's lane must be. */
static void sweep(struct hostile_run *h, bool release)
{
	int s = hostile_connect(h->t->bus);

	for (uint32_t slot = 0; s >= 0 && slot < h->bus.lane_count; slot++) {
		for (uint64_t g = 0; s >= 0 && g <= h->max_grant + GRANT_SLACK; g++) {
			struct lb_reg_msg m;
			int fd;

			if (own(h, slot, g))
				continue;
			if (hostile_request(s, LB_REG_ADOPT, slot, g, &m, &fd) < 0) {
				close(s);
				s = hostile_connect(h->t->bus);
				continue;
			}
			h->r->adopted += m.type == LB_REG_ADOPTED;
			if (fd >= 0)
				close(fd);
			if (!release || g == 0 || g > h->max_grant)
				continue;
			m = reg_msg(LB_REG_RELEASE, slot, g);
			(void)lb_reg_send(s, &m, -1);
			close(s);
			s = hostile_connect(h->t->bus);
		}
	}
	if (s >= 0)
		close(s);
	h->r->sweeps++;
}

/* Datagrams that are no message of this protocol, each on a connection
 * of its own: sizes around the message's, another version, unknown and
 * answer types, and a descriptor passed along. */
static void send_garbage(struct hostile_run *h)
{
	static const size_t sizes[] = { 0, 1, 8, sizeof(struct lb_reg_msg) - 1,
					sizeof(struct lb_reg_msg) + 1, 4096 };
	uint8_t bytes[4096];
	struct lb_reg_msg m;
	int s;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if ((s = hostile_connect(h->t->bus)) < 0)
			return;
		fill_random(h, bytes, sizes[i]);
		h->r->garbage += send(s, bytes, sizes[i], MSG_NOSIGNAL | MSG_DONTWAIT) >= 0;
		close(s);
	}
	for (int kind = 0; kind < 5; kind++) {
		int fd = -1;

		if ((s = hostile_connect(h->t->bus)) < 0)
			return;
		fill_random(h, &m, sizeof(m));
		if (kind == 1)
			m.version = LB_REG_VERSION;     /* random type */
		if (kind == 2)
			m = reg_msg(LB_REG_GRANT, (uint32_t)rnd(h), rnd(h));
		if (kind == 3)
			m = reg_msg(LB_REG_LANE, 0, 0); /* with a descriptor */
		if (kind == 4)
			m = reg_msg(LB_REG_REFUSE, 0, 0);
		if (kind == 3)
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		h->r->garbage += lb_reg_send(s, &m, fd) == 0;
		if (fd >= 0)
			close(fd);
		close(s);
	}
}

/* ---- its own lanes ---------------------------------------------------------- */

/* Commit one record of pid, tag and msg at lane sequence seq into l;
 * false when the lane is full. */
static bool forge(struct hostile_run *h, struct held *l, uint64_t seq, const char *msg)
{
	size_t tag_len = strlen(HOSTILE_FORGED_TAG), msg_len = strlen(msg);
	size_t size = lb_record_size(tag_len, msg_len, NULL, 0);
	struct lb_record_meta meta = {
		.seq = seq,
		.ts = lb_clock_stamp(h->bus.ts_mode),
		.ts_mode = (uint8_t)h->bus.ts_mode,
		.level = LOGBUS_NOTICE,
		.pid = HOSTILE_FORGED_PID,
		.tid = HOSTILE_FORGED_PID,
	};
	void *dst;

	if (!l->mapped || !(dst = lb_lane_reserve(&l->p, size)))
		return false;
	lb_record_encode(dst, size, &meta, HOSTILE_FORGED_TAG, tag_len, msg, msg_len, NULL, 0);
	if (lb_lane_commit(&l->p, size))
		lb_doorbell_wake(l->p.lane);
	h->r->forged++;
	h->r->forged_seq += seq >= HOSTILE_FORGED_SEQ;
	return true;
}

/* Records of pid 1, tag sshd, in the lane's own sequence. */
static void forge_pid(struct hostile_run *h, struct held *l, int count)
{
	for (int i = 0; i < count; i++)
		if (!forge(h, l, l->p.seq, "Accepted password for root from 10.0.0.1 port 22 ssh2"))
			return;
}

/* Records from lane_seq 2^62 on. */
static void forge_seq(struct hostile_run *h, struct held *l, int count)
{
	if (l->p.seq < HOSTILE_FORGED_SEQ)
		l->p.seq = HOSTILE_FORGED_SEQ;
	for (int i = 0; i < count; i++)
		if (!forge(h, l, l->p.seq, "lane_seq forged to 2^62"))
			return;
}

/* Random bytes over the lane header (head, counters, the writer's tail
 * and the doorbell word included). */
static void scribble_header(struct hostile_run *h, struct held *l)
{
	if (l->mapped)
		fill_random(h, l->m.lane, LB_LANE_HEADER_SIZE);
}

/* Random bytes over the ring, and a head that points anywhere. */
static void scribble_ring(struct hostile_run *h, struct held *l)
{
	if (!l->mapped)
		return;
	fill_random(h, l->m.ring, h->bus.lane_size);
	atomic_store_explicit(&l->m.lane->head, rnd(h), memory_order_release);
	lb_doorbell_wake(l->m.lane);
}

/* Commit records, then cut the file to size; its mapping is dropped first
 * (a store past the new end would be a SIGBUS of its own). */
static void truncate_lane(struct hostile_run *h, struct held *l, off_t size)
{
	forge_pid(h, l, 100);
	if (l->mapped)
		lb_lane_unmap(&l->m);
	l->mapped = false;
	if (ftruncate(l->fd, size) < 0)
		(void)give_up(h, "ftruncate its own lane file", errno);
}

/* ---- the run ------------------------------------------------------------------- */

static void round_of_attacks(struct hostile_run *h)
{
	scribble_header(h, &h->held[LANE_SCRIBBLE_HEADER]);
	scribble_ring(h, &h->held[LANE_SCRIBBLE_RING]);
	forge_pid(h, &h->held[LANE_FORGE_PID], 50);
	forge_seq(h, &h->held[LANE_FORGE_SEQ], 50);
	attack_files(h);
	attack_proc(h, h->t->victim);
	attack_proc(h, h->t->writer);
	attack_proc(h, h->t->registrar);
	send_garbage(h);
	sweep(h, atomic_load_explicit(&h->r->rounds, memory_order_relaxed) < 2);
	atomic_fetch_add_explicit(&h->r->rounds, 1, memory_order_release);
}

/* Every lane it got, filled with records from lane_seq 2^62 on. */
static int run_seq_only(struct hostile_run *h)
{
	for (unsigned i = 0; i < h->nheld; i++)
		forge_seq(h, &h->held[i], 100);
	atomic_store_explicit(&h->r->armed, 1, memory_order_release);
	return 0;
}

int hostile_main(void *arg)
{
	struct hostile *x = arg;
	struct hostile_run *h = calloc(1, sizeof(*h));
	struct lb_bus_error err;
	int r;

	if (!h)
		return 1;
	h->t = &x->target;
	h->r = &x->report;
	h->rng = (uint64_t)h->t->seed * 0x9e3779b97f4a7c15u | 1;
	if ((r = lb_bus_attach(h->t->bus, false, &h->bus, &err)) < 0)
		return give_up(h, "attach the bus read-only", -r);
	if ((h->sock = hostile_connect(h->t->bus)) < 0)
		return give_up(h, "connect to the registrar", -h->sock);
	if ((r = take_lanes(h)) != 0)
		return r;
	if (h->t->seq_only)
		return run_seq_only(h);
	if (h->nheld < LANES_USED)
		return give_up(h, "too few lanes for every attack", ENOSPC);
	truncate_lane(h, &h->held[LANE_TRUNC_HALF], (off_t)(h->held[LANE_TRUNC_HALF].m.size / 2));
	truncate_lane(h, &h->held[LANE_TRUNC_ZERO], 0);
	round_of_attacks(h);
	atomic_store_explicit(&h->r->armed, 1, memory_order_release);
	while (!atomic_load_explicit(&h->t->stop, memory_order_acquire))
		round_of_attacks(h);
	return h->r->failed[0] ? 1 : 0;
}
