/* SPDX-License-Identifier: MIT */
/*
 * The registrar process: it binds the bus's socket, forks, and serves
 * every client connection from one thread with epoll, never waiting on
 * any one client:
 *
 * - it accepts at most CONNS_MAX connections, a uid other than root at
 *   most 3/4 of them; the one beyond gets a REFUSE and is closed;
 * - at accept it learns who the peer is from the kernel: SO_PEERCRED
 *   (pid, uid, gid), SO_PEERGROUPS (the supplementary groups, read when
 *   allowed_groups is set: the kernel's copy from connect(2), unlike
 *   /proc/<pid>/status it cannot race a pid's reuse), and, through one
 *   descriptor of /proc/<pid> so that all three describe one process, the
 *   start time, comm and exe. A process that dies and whose pid is reused
 *   between its connect and the accept would lend its successor's
 *   /proc; the pid itself is the kernel's either way;
 * - each request goes to registrar_grant.c, and its answer is sent with
 *   MSG_DONTWAIT: a client that does not read its answers loses its
 *   connection (EAGAIN), and delays nobody;
 * - anything that is not the protocol (a message of the wrong size or
 *   version, an unknown type, a RELEASE of a lane the connection does not
 *   hold) ends that connection, with one line on stderr, at most LOG_BURST
 *   lines a second;
 * - a connection's end, however it comes (EOF, HUP, an error), releases
 *   its lanes at once.
 *
 * Each connection gets MSGS_PER_TURN messages per turn of the loop, so a
 * flood from one client cannot starve the others.
 *
 * A LANE that finds every slot taken, or its quota reached, while some of
 * those lanes are released and being drained, waits for the drain to
 * free one (it does in a few ms) rather than be refused: the connection
 * is not read meanwhile, the request is tried again every LANE_RETRY_MS,
 * and refused after LANE_WAIT_MS. So a client that ends just before the
 * next one starts does not cost that one its lane.
 *
 * The registrar dies with the writer (PR_SET_PDEATHSIG) and keeps none of
 * its descriptors: not the private directory's, whose flock(2) is the
 * single-writer lock (it opens the directory again for itself), nor the
 * sinks' files. So a registrar that outlives its writer for an instant
 * never keeps the next writer out.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "procstat.h"
#include "register.h"
#include "registrar.h"
#include "registrar_grant.h"

#define SOCKET_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)
#define CONNS_MAX 4096u
#define FDS_SPARE 16u          /* descriptors kept beside the connections */
#define MSGS_PER_TURN 16
#define ACCEPTS_PER_TURN 64
#define EVENTS_MAX 64
#define LOG_BURST 10u          /* stderr lines a second */
#define LISTEN_PAUSE_MS 100    /* out of descriptors: accept again after it */
#define LANE_RETRY_MS 2        /* a LANE waiting for a lane to be drained */
#define LANE_WAIT_MS 1000

struct conn {
	int fd;
	uint32_t index;            /* in server.conns */
	struct grant_peer peer;
	bool waiting;              /* a LANE waits for a lane to be drained: */
	struct lb_reg_msg pending; /* that request */
	uint64_t wait_until;       /* CLOCK_MONOTONIC ns; then it is refused */
};

struct server {
	const char *bus;
	int lfd, epfd;
	struct conn **conns;
	uint32_t nconns, max_conns;
	uint64_t next_conn;
	uint64_t listen_resume_ns; /* 0: accepting */
	uint32_t nwaiting;         /* connections with a LANE waiting */
	struct grant_ctx g;
	uint64_t log_second;
	unsigned log_lines;
	unsigned long log_hidden;
};

/* ---- stderr, rate limited ---- */

/* say - one line on stderr, at most LOG_BURST a second; the count of the
 * lines left out comes with the next second's first line. */
__attribute__((format(printf, 2, 3)))
static void say(struct server *s, const char *fmt, ...)
{
	uint64_t second = lb_clock_ns(CLOCK_MONOTONIC) / 1000000000u;
	va_list ap;

	if (second != s->log_second) {
		if (s->log_hidden)
			fprintf(stderr, "logbus-writer: registrar of bus '%s': %lu lines not "
				"shown (at most %u a second)\n", s->bus, s->log_hidden, LOG_BURST);
		s->log_second = second;
		s->log_lines = 0;
		s->log_hidden = 0;
	}
	if (s->log_lines++ >= LOG_BURST) {
		s->log_hidden++;
		return;
	}
	fprintf(stderr, "logbus-writer: registrar of bus '%s': ", s->bus);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A process's comm, fit for one line: its control bytes as '?'. */
static const char *printable_comm(const struct lb_client_identity *who, char out[LB_COMM_MAX])
{
	size_t i;

	for (i = 0; i + 1 < LB_COMM_MAX && who->comm[i]; i++)
		out[i] = (unsigned char)who->comm[i] < 0x20 || who->comm[i] == 0x7f ? '?'
										     : who->comm[i];
	out[i] = '\0';
	return out;
}

/* ---- who the peer is ---- */

/* Read the file name of the directory dfd into buf (NUL-terminated);
 * returns the bytes read, or -1. */
static ssize_t read_at(int dfd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* The start time, comm and exe of who->pid, read through one descriptor
 * of /proc/<pid>: a pid reused between two reads fails the later ones
 * instead of mixing two processes. What /proc does not say stays 0 or ""
 * (a process gone; another user's exe, which only root may read). */
static void proc_identity(struct lb_client_identity *who)
{
	char path[32], line[1024], exe[4096], state;
	ssize_t n;
	int dfd;

	snprintf(path, sizeof(path), "/proc/%u", who->pid);
	dfd = who->pid ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd < 0)
		return;
	if (read_at(dfd, "stat", line, sizeof(line)) <= 0 ||
	    !lb_proc_stat_parse(line, &state, &who->start))
		who->start = 0;
	if (read_at(dfd, "comm", who->comm, sizeof(who->comm)) > 0)
		who->comm[strcspn(who->comm, "\n")] = '\0';
	n = readlinkat(dfd, "exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((size_t)n < LB_EXE_MAX)
			memcpy(who->exe, exe, (size_t)n + 1);
		else   /* cut to LB_EXE_MAX - 1 bytes, the last three "..." */
			snprintf(who->exe, LB_EXE_MAX, "%.*s...", LB_EXE_MAX - 4, exe);
	}
	close(dfd);
}

/* Whether the configuration lets the peer of fd, with credentials cr,
 * log. Its supplementary groups are asked for only when allowed_groups
 * needs them; a kernel that will not tell leaves uid and gid to decide. */
static bool peer_allowed(int fd, const struct registrar_config *c, const struct ucred *cr)
{
	bool ok = grant_may_log(c, cr->uid, cr->gid, NULL, 0);
	socklen_t len = 0;
	gid_t *groups = NULL;

	if (ok || !c->allowed_groups.ids)
		return ok;
	/* Asked with no room, the kernel says how much it needs (ERANGE),
	 * or that there is no group at all (0). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, NULL, &len) < 0 && errno == ERANGE &&
	    (groups = malloc(len)) &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		ok = grant_may_log(c, cr->uid, cr->gid, groups, len / sizeof(gid_t));
	free(groups);
	return ok;
}

/* ---- connections ---- */

/* How many connections uid holds. O(connections): once per accept. */
static uint32_t conns_of(const struct server *s, uid_t uid)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->nconns; i++)
		n += s->conns[i]->peer.who.uid == uid;
	return n;
}

/* Refuse the connection fd of uid when the registrar is full, or uid holds
 * its share; true when it was refused (and closed). Not counted with the
 * lane requests refused: this client has asked for nothing yet. */
static bool conn_refused(struct server *s, int fd, uid_t uid)
{
	struct lb_reg_msg ans = { .version = LB_REG_VERSION };
	uint32_t share = s->max_conns - s->max_conns / 4, held;

	if (s->nconns >= s->max_conns)
		grant_refuse(&ans, -EUSERS, "the registrar of bus '%s' serves %u connections, "
			     "its most", s->bus, s->nconns);
	else if (uid != 0 && (held = conns_of(s, uid)) >= share)
		grant_refuse(&ans, -EUSERS, "uid %u holds %u connections to bus '%s', its share "
			     "(3/4 of the registrar's %u)", (unsigned)uid, held, s->bus,
			     s->max_conns);
	else
		return false;
	(void)lb_reg_send(fd, &ans, -1);
	close(fd);
	return true;
}

static void conn_open(struct server *s, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct conn *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		close(fd);
		return;
	}
	if (conn_refused(s, fd, cr.uid))
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		say(s, "out of memory: a connection of pid %d closed", (int)cr.pid);
		close(fd);
		return;
	}
	c->fd = fd;
	c->peer.conn = ++s->next_conn;
	c->peer.who = (struct lb_client_identity){ .pid = (uint32_t)cr.pid, .uid = cr.uid,
						    .gid = cr.gid };
	proc_identity(&c->peer.who);
	c->peer.allowed = peer_allowed(fd, s->g.cfg, &cr);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		say(s, "cannot watch a connection of pid %d: %s", (int)cr.pid, strerror(errno));
		close(fd);
		free(c);
		return;
	}
	c->index = s->nconns;
	s->conns[s->nconns++] = c;
}

/* End connection c: its lanes go to the drain. why, when not NULL, is
 * what the client did, for one line on stderr. */
static void conn_close(struct server *s, struct conn *c, const char *why)
{
	char comm[LB_COMM_MAX];

	if (why)
		say(s, "ended the connection of pid %u (%s), uid %u: it %s", c->peer.who.pid,
		    printable_comm(&c->peer.who, comm), c->peer.who.uid, why);
	s->nwaiting -= c->waiting;
	(void)grant_drop_conn(&s->g, &c->peer);
	close(c->fd);   /* leaves the epoll set with it */
	s->conns[c->index] = s->conns[--s->nconns];
	s->conns[c->index]->index = c->index;
	free(c);
}

/* Send ans (with descriptor fd, which is closed then) to c. Returns
 * whether c stays, with *why as handle() says. */
static bool answer(struct conn *c, const struct lb_reg_msg *ans, int fd, const char **why)
{
	int r = lb_reg_send(c->fd, ans, fd);

	if (fd >= 0)
		close(fd);   /* the client's copy is its lane; a failed send: the lane is released */
	*why = r == -EAGAIN ? "does not read its answers" : NULL;
	return r == 0;
}

/* Watch c for events (EPOLLIN | EPOLLRDHUP, or EPOLLRDHUP alone while its
 * LANE waits: its next requests stay queued in the socket). */
static void conn_watch(struct server *s, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	(void)epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* c's LANE m waits for a lane to be drained. */
static void conn_wait(struct server *s, struct conn *c, const struct lb_reg_msg *m)
{
	c->waiting = true;
	c->pending = *m;
	c->wait_until = lb_clock_ns(CLOCK_MONOTONIC) + LANE_WAIT_MS * 1000000ull;
	s->nwaiting++;
	conn_watch(s, c, EPOLLRDHUP);
}

/* Try the waiting LANE of c again; returns whether c stays. */
static bool conn_retry(struct server *s, struct conn *c, uint64_t now, const char **why)
{
	struct lb_reg_msg ans = { .version = LB_REG_VERSION, .req = c->pending.req };
	int fd = -1, r = grant_lane(&s->g, &c->peer, &c->pending, &ans, &fd,
				    now < c->wait_until);

	*why = NULL;
	if (r == -EINPROGRESS)
		return true;
	if (r < 0)
		say(s, "cannot make a lane file: %s", strerror(-r));
	c->waiting = false;
	s->nwaiting--;
	conn_watch(s, c, EPOLLIN | EPOLLRDHUP);
	return answer(c, &ans, fd, why);
}

static void retry_waiting(struct server *s)
{
	uint64_t now = lb_clock_ns(CLOCK_MONOTONIC);
	const char *why;

	for (uint32_t i = 0; i < s->nconns && s->nwaiting; i++) {
		struct conn *c = s->conns[i];
		if (c->waiting && !conn_retry(s, c, now, &why)) {
			conn_close(s, c, why);
			i--;   /* the last connection moved into slot i */
		}
	}
}

/*
 * Answer one request m of c. Returns true when c stays; false when it
 * must end, with *why what the client did (NULL: nothing to report, the
 * peer is gone).
 */
static bool handle(struct server *s, struct conn *c, const struct lb_reg_msg *m,
		   const char **why)
{
	static char unknown[48];
	struct lb_reg_msg ans = { .version = LB_REG_VERSION, .req = m->req };
	int fd = -1, r;

	*why = NULL;
	switch (m->type) {
	case LB_REG_LANE:
		r = grant_lane(&s->g, &c->peer, m, &ans, &fd, true);
		if (r == -EINPROGRESS) {
			conn_wait(s, c, m);
			return true;
		}
		if (r < 0)
			say(s, "cannot make a lane file: %s", strerror(-r));
		break;
	case LB_REG_ADOPT:
		grant_adopt(&s->g, &c->peer, m, &ans);
		break;
	case LB_REG_RELEASE:
		if (grant_release(&s->g, &c->peer, m->slot, m->grant) == 0)
			return true;
		*why = "released a lane it does not hold";
		return false;
	default:
		snprintf(unknown, sizeof(unknown), "sent a message of unknown type %u", m->type);
		*why = unknown;
		return false;
	}
	return answer(c, &ans, fd, why);
}

/* Serve up to MSGS_PER_TURN requests of c, which epoll reported with
 * events; while its LANE waits, only its end. */
static void conn_serve(struct server *s, struct conn *c, uint32_t events)
{
	const char *why = NULL;
	struct lb_reg_msg m;

	if (c->waiting) {
		if (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR))
			conn_close(s, c, NULL);
		return;
	}
	for (int k = 0; k < MSGS_PER_TURN && !c->waiting; k++) {
		int r = lb_reg_recv(c->fd, &m, NULL);
		if (r == -EAGAIN && !(events & (EPOLLHUP | EPOLLERR)))
			return;
		if (r == -EBADMSG)
			why = "sent a message of the wrong size or version";
		if (r < 0 || !handle(s, c, &m, &why)) {
			conn_close(s, c, why);
			return;
		}
	}
}

/* Stop accepting for LISTEN_PAUSE_MS: out of descriptors or memory, the
 * listening socket would stay ready and spin the loop. */
static void listen_pause(struct server *s, int err)
{
	struct epoll_event ev = { .events = 0, .data.ptr = NULL };

	say(s, "cannot accept a connection: %s; trying again in %d ms", strerror(err),
	    LISTEN_PAUSE_MS);
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &ev) == 0)
		s->listen_resume_ns = lb_clock_ns(CLOCK_MONOTONIC) + LISTEN_PAUSE_MS * 1000000ull;
}

static void listen_resume(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	if (s->listen_resume_ns && lb_clock_ns(CLOCK_MONOTONIC) >= s->listen_resume_ns &&
	    epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &ev) == 0)
		s->listen_resume_ns = 0;
}

static void accept_some(struct server *s)
{
	for (int k = 0; k < ACCEPTS_PER_TURN; k++) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_open(s, fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			listen_pause(s, errno);
		return;   /* EAGAIN: none left; ECONNABORTED and the like: the next turn */
	}
}

static _Noreturn void serve(struct server *s)
{
	struct epoll_event ev[EVENTS_MAX];

	for (;;) {
		int timeout = s->nwaiting ? LANE_RETRY_MS : s->listen_resume_ns ? LISTEN_PAUSE_MS : -1;
		int n = epoll_wait(s->epfd, ev, EVENTS_MAX, timeout);
		if (n < 0 && errno != EINTR) {
			say(s, "epoll_wait: %s; the registrar stops", strerror(errno));
			_exit(1);
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr)
				conn_serve(s, ev[i].data.ptr, ev[i].events);
			else
				accept_some(s);
		}
		retry_waiting(s);
		listen_resume(s);
	}
}

/* ---- the child ---- */

static int int_order(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* Close every descriptor but those of keep[n] (sorted here). */
static void close_others(int *keep, size_t n)
{
	unsigned lo = 0;

	qsort(keep, n, sizeof(*keep), int_order);
	for (size_t i = 0; i <= n; i++) {
		unsigned hi = i < n ? (unsigned)keep[i] : ~0u;   /* close [lo, hi) */
		if (hi > lo && close_range(lo, i < n ? hi - 1 : ~0u, 0) < 0) {
			long max = i < n ? (long)hi : sysconf(_SC_OPEN_MAX);
			for (long fd = lo; fd < max; fd++)   /* a kernel without close_range */
				(void)close((int)fd);
		}
		if (i < n && hi >= lo)
			lo = hi + 1;
	}
}

/* The writer's signal handlers and mask are not the registrar's: SIGTERM
 * (registrar_stop) ends it; SIGINT and SIGHUP, which a terminal or
 * systemctl send to the writer's whole group, are the drain's to handle. */
static void child_signals(void)
{
	sigset_t none;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* As many connections as the descriptor limit allows, up to CONNS_MAX. */
static uint32_t conns_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024 - FDS_SPARE;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 2 * FDS_SPARE)
		return FDS_SPARE;
	return rl.rlim_cur - FDS_SPARE < CONNS_MAX ? (uint32_t)(rl.rlim_cur - FDS_SPARE)
						   : CONNS_MAX;
}

static _Noreturn void registrar_main(const struct registrar_config *cfg, const char *bus,
				     const struct lb_registry *writer_reg, uint64_t run, int lfd,
				     pid_t writer)
{
	struct lb_registry reg = *writer_reg;
	struct server s = { .bus = bus, .lfd = lfd };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != writer)
		_exit(0);   /* the writer is gone already */
	(void)prctl(PR_SET_NAME, "lb-registrar");
	child_signals();
	/* A descriptor of its own: the writer's holds the lock. */
	reg.dirfd = openat(writer_reg->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (reg.dirfd < 0) {
		say(&s, "cannot open the private directory: %s", strerror(errno));
		_exit(1);
	}
	int keep[] = { 0, 1, 2, lfd, reg.dirfd };
	close_others(keep, sizeof(keep) / sizeof(keep[0]));
	s.max_conns = conns_limit();
	s.conns = calloc(s.max_conns, sizeof(*s.conns));
	s.epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (!s.conns || s.epfd < 0 || epoll_ctl(s.epfd, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		say(&s, "cannot start: %s", s.conns ? strerror(errno) : "out of memory");
		_exit(1);
	}
	grant_init(&s.g, cfg, &reg, bus, run);
	serve(&s);
}

/* ---- the writer's side ---- */

/* Bind, set mode and group, listen: the descriptor, or a negative errno
 * after one line on stderr. */
static int listen_socket(const struct registrar_config *c, const char path[SOCKET_PATH_MAX])
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *what = "create";
	int fd, r;

	memcpy(a.sun_path, path, SOCKET_PATH_MAX);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	what = "remove the old";
	if (unlink(path) < 0 && errno != ENOENT)
		goto fail;
	what = "bind";
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	/* No client can connect before listen(2): none sees the socket with
	 * the mode and group it was made with. */
	what = "give the group to";
	if (c->socket_group != (gid_t)-1 && lchown(path, (uid_t)-1, c->socket_group) < 0)
		goto unlink;
	what = "set the mode of";
	if (chmod(path, c->socket_mode) < 0)
		goto unlink;
	what = "listen on";
	if (listen(fd, SOMAXCONN) < 0)
		goto unlink;
	return fd;

unlink:
	r = errno;
	(void)unlink(path);
	errno = r;
fail:
	r = -errno;
	fprintf(stderr, "logbus-writer: cannot %s the registration socket %s: %s\n", what, path,
		strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

int registrar_start(const struct registrar_config *c, const char *bus_name,
		    const struct lb_registry *reg, pid_t *pid)
{
	char path[SOCKET_PATH_MAX] = "";
	pid_t writer = getpid(), child;
	uint64_t run;
	int lfd;

	if (lb_reg_socket_path(bus_name, path, sizeof(path)) < 0)
		return -EINVAL;
	lfd = listen_socket(c, path);
	if (lfd < 0)
		return lfd;
	/* Relaxed: the child gets the value through fork(2), and no other
	 * field is published with it. */
	run = atomic_fetch_add_explicit(&reg->hdr->run, 1, memory_order_relaxed) + 1;
	fflush(NULL);   /* nothing buffered is written twice */
	child = fork();
	if (child == 0)
		registrar_main(c, bus_name, reg, run, lfd, writer);
	close(lfd);
	if (child < 0) {
		int r = -errno;
		fprintf(stderr, "logbus-writer: cannot start the registrar: %s\n", strerror(errno));
		(void)unlink(path);
		return r;
	}
	/* Relaxed: for tools and tests to read; it orders nothing. */
	atomic_store_explicit(&reg->hdr->registrar_pid, child, memory_order_relaxed);
	*pid = child;
	return 0;
}

void registrar_stop(pid_t pid, const char *bus_name)
{
	char path[SOCKET_PATH_MAX] = "";

	if (pid > 0 && kill(pid, SIGTERM) == 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	if (lb_reg_socket_path(bus_name, path, sizeof(path)) == 0)
		(void)unlink(path);
}
