/* SPDX-License-Identifier: MIT */
/*
 * A handle's connection to the writer's registrar (shm/register.h): made
 * at the handle's first lane request, kept for its life, one request at a
 * time under the handle lock.
 *
 * - LANE at a thread's first publish: GRANT and the new lane file's
 *   descriptor (mapped, kept from forked children, closed), or REFUSE with
 *   an errno and a line of text, kept for logbus_refusal.
 * - RELEASE when a lane is given back; it has no answer.
 * - After a writer restart (the bus header's generation moved), or when
 *   the connection broke: a new connection, and ADOPT for every lane the
 *   handle still holds, so that the new registrar binds them to it (and
 *   frees them when it ends). Retired lanes, whose entries the writer has
 *   yet to drain, are adopted and released again. A live lane the writer
 *   will not adopt is lost (slot_lose): its users get other lanes.
 *
 * A registrar that does not answer within LB_REG_TIMEOUT_S is taken for
 * none for now, but the connection stays, and with it the handle's lanes:
 * every request carries an id the answer echoes, so a late answer is told
 * from the next one's and skipped (a late GRANT given back at once). After
 * such a failure, or when nobody
 * listens, the registrar is left alone for LB_ATTACH_RETRY_NS
 * (LB_WRITER_STALE_NS after a timeout): entries meanwhile go to the
 * fallback at once, instead of each waiting for the same silence.
 *
 * A refusal is not remembered that way: a thread without a lane asks at
 * each publish, so that the writer counts every entry a refusal cost
 * (registry.h, dropped_no_lane) and a lane that frees up is taken at
 * once. The trade-off: a refused process that keeps publishing pays a
 * round trip per entry, and the registrar serves it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "client.h"

/* The internal answers of a request, besides 0 and a refusal's errno. */
#define CONN_NO_WRITER (-ENOTCONN)   /* nobody to ask, or the connection broke */
#define CONN_NO_ANSWER (-ETIMEDOUT)  /* the registrar took longer than LB_REG_TIMEOUT_S */

/* Close the connection. The registrar releases its lanes when it sees the
 * end, so the handle's lanes are bound to nothing until conn_open. */
static void conn_drop(logbus_t *lb)
{
	if (lb->conn_fd >= 0)
		(void)close(lb->conn_fd);
	lb->conn_fd = -1;
	atomic_store_explicit(&lb->conn_generation, LB_CONN_UNBOUND, memory_order_relaxed);
}

/* Remember why the writer refused, for logbus_refusal: the text up to its
 * first control byte, or the errno's name when that leaves nothing. */
static void refusal_keep(logbus_t *lb, const char *text, size_t cap, int error)
{
	char buf[64];
	size_t n = 0;

	while (n < cap && n < sizeof(lb->refusal) - 1 && (unsigned char)text[n] >= 0x20 &&
	       text[n] != 0x7f)
		n++;
	if (n) {
		memcpy(lb->refusal, text, n);
		lb->refusal[n] = '\0';
	} else {
		snprintf(lb->refusal, sizeof(lb->refusal), "%s", strerror_r(-error, buf, sizeof(buf)));
	}
	/* LMM(refusal_keep:A) pairs with logbus_refusal's acquire load: the
	 * text is complete before the flag that says there is one. */
	atomic_store_explicit(&lb->has_refusal, true, memory_order_release);
}

/* A REFUSE's error is a negative errno, and never one of ours. */
static bool refusal_valid(int error)
{
	return error < 0 && error > -4096 && error != CONN_NO_WRITER && error != CONN_NO_ANSWER;
}

/*
 * Connect to the registrar of lb's bus. Returns a descriptor;
 * CONN_NO_WRITER when nobody listens there (no socket, one a dead writer
 * left), CONN_NO_ANSWER when a full backlog did not clear in time, or
 * -EACCES or -EPERM with *refused set when the socket's mode (or the
 * system) keeps us out.
 */
static int conn_connect(logbus_t *lb, bool *refused)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = LB_REG_TIMEOUT_S };
	char text[sizeof(sa.sun_path) + 32];
	int fd, e;

	if (lb_reg_socket_path(lb->name, sa.sun_path, sizeof(sa.sun_path)) < 0)
		return CONN_NO_WRITER;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return CONN_NO_WRITER;
	/* The send timeout bounds connect(2) on a full backlog. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
	    connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	(void)close(fd);
	if (e == EACCES || e == EPERM) {
		snprintf(text, sizeof(text), "permission denied on socket %s", sa.sun_path);
		refusal_keep(lb, text, sizeof(text), -e);
		*refused = true;
		return -e;
	}
	return e == EAGAIN || e == ETIMEDOUT ? CONN_NO_ANSWER : CONN_NO_WRITER;
}

/* Send a message that has no answer; a failure is ignored, see the
 * callers. */
static void conn_tell(logbus_t *lb, uint16_t type, uint32_t slot, uint64_t grant)
{
	struct lb_reg_msg m = {
		.version = LB_REG_VERSION, .type = type, .slot = slot, .grant = grant,
	};

	if (lb->conn_fd >= 0)
		(void)lb_reg_send(lb->conn_fd, &m, -1);
}

/* A late answer a, to an earlier request that timed out: a lane it grants
 * goes back at once. */
static void conn_skip_late(logbus_t *lb, const struct lb_reg_msg *a, int fd)
{
	if (fd >= 0)
		(void)close(fd);
	if (a->type == LB_REG_GRANT)
		conn_tell(lb, LB_REG_RELEASE, a->slot, a->grant);
}

/*
 * Send m (with a new request id) and receive its answer into a, its
 * descriptor into *fd (-1 when none came; fd NULL: closed), skipping late
 * answers to earlier requests. Returns 0, CONN_NO_ANSWER when none came in
 * time (the connection stays: its lanes stay bound), or CONN_NO_WRITER
 * when the request could not be sent or the connection broke (closed).
 */
static int conn_ask(logbus_t *lb, struct lb_reg_msg *m, struct lb_reg_msg *a, int *fd)
{
	int late = -1, r;

	m->req = ++lb->conn_req;
	r = lb_reg_send(lb->conn_fd, m, -1);
	while (r == 0 || r == -EINTR) {
		r = lb_reg_recv(lb->conn_fd, a, fd ? fd : &late);
		if (r == 0 && a->req == m->req) {
			if (!fd && late >= 0)
				(void)close(late);
			return 0;
		}
		if (r == 0)
			conn_skip_late(lb, a, fd ? *fd : late);
		late = -1;
	}
	if (r == -EAGAIN || r == -EWOULDBLOCK)
		return CONN_NO_ANSWER;
	conn_drop(lb);
	return CONN_NO_WRITER;
}

/* An answer the request did not ask for: the registrar is not one we can
 * talk to. */
static int conn_garbled(logbus_t *lb, int fd)
{
	if (fd >= 0)
		(void)close(fd);
	conn_drop(lb);
	return CONN_NO_WRITER;
}

/*
 * ADOPT s's lane on the new connection. A live lane the writer refuses is
 * lost, with its text kept; a retired one is released again once adopted,
 * and left to the writer when refused (it has it already, or it is gone).
 * Returns 0 or a failure of conn_ask.
 */
static int conn_adopt(logbus_t *lb, struct lane_slot *s, bool live)
{
	struct lb_reg_msg m = {
		.version = LB_REG_VERSION, .type = LB_REG_ADOPT, .slot = s->prod.index,
		.grant = s->grant,
	};
	struct lb_reg_msg a;
	int r = conn_ask(lb, &m, &a, NULL);

	if (r < 0)
		return r;
	if (a.type == LB_REG_ADOPTED && a.slot == m.slot && a.grant == m.grant) {
		if (!live)
			conn_tell(lb, LB_REG_RELEASE, m.slot, m.grant);
		return 0;
	}
	if (a.type != LB_REG_REFUSE || !refusal_valid(a.error))
		return conn_garbled(lb, -1);
	if (live) {
		refusal_keep(lb, a.text, sizeof(a.text), a.error);
		slot_lose(s);
	}
	return 0;
}

/* A new connection, and the handle's lanes bound to it. Returns 0, or a
 * failure of conn_connect or conn_ask. */
static int conn_open(logbus_t *lb, bool *refused)
{
	uint64_t generation;
	int r;

	conn_drop(lb);
	r = conn_connect(lb, refused);
	if (r < 0)
		return r;
	lb->conn_fd = r;
	/* Read once connected: a writer puts its generation in the header
	 * before its registrar answers, so this is the generation of the
	 * registrar we reached (or of a later one, whose start ends this
	 * connection: the next request sees it broken and reconnects).
	 * Read before connecting, a writer that began meanwhile would look
	 * new at the next check, and the reconnect would release every lane
	 * this connection had just adopted. */
	generation = lb_bus_generation(&lb->bus);
	for (struct lane_slot *s = lb->slots; s; s = s->next)
		if (!atomic_load_explicit(&s->lost, memory_order_relaxed) &&
		    (r = conn_adopt(lb, s, true)) < 0)
			return r;
	for (struct lane_slot *s = lb->retired; s; s = s->next)
		if (!atomic_load_explicit(&s->lost, memory_order_relaxed) &&
		    (r = conn_adopt(lb, s, false)) < 0)
			return r;
	atomic_store_explicit(&lb->conn_generation, generation, memory_order_relaxed);
	return 0;
}

/* After a failure r, leave the registrar alone for a while:
 * LB_WRITER_STALE_NS after no answer, else LB_ATTACH_RETRY_NS. */
static void conn_backoff(logbus_t *lb, int r)
{
	uint64_t wait = r == CONN_NO_ANSWER ? LB_WRITER_STALE_NS : LB_ATTACH_RETRY_NS;

	atomic_store_explicit(&lb->conn_retry_ns, lb_clock_ns(CLOCK_MONOTONIC_COARSE) + wait,
			      memory_order_relaxed);
}

/* Map the lane file fd the registrar granted in a into s. Returns 0 or a
 * negative errno (a file of the wrong size: -EBADMSG). */
static int lane_take(logbus_t *lb, struct lane_slot *s, const struct lb_reg_msg *a, int fd)
{
	int r = lb_lane_map(fd, lb->bus.lane_size, &s->map);

	if (r < 0)
		return r;
	/* A forked child must not inherit the lane: it would keep the file
	 * alive, and could write into a lane that is not its own. */
	if (madvise(s->map.lane, s->map.size, MADV_DONTFORK) < 0) {
		r = -errno;
		lb_lane_unmap(&s->map);
		return r;
	}
	lb_producer_init(&s->prod, &s->map, &lb->bus, a->slot, lb->light_fence);
	s->grant = a->grant;
	return 0;
}

/* LANE on a ready connection, and on GRANT the lane into s. Returns 0, a
 * refusal's errno with *refused set, or a failure of conn_ask. */
static int conn_grant(logbus_t *lb, struct lane_slot *s, uint32_t flags, bool *refused)
{
	struct lb_reg_msg m = {
		.version = LB_REG_VERSION, .type = LB_REG_LANE, .tid = slot_thread_tid(),
		.flags = flags,
	};
	struct lb_reg_msg a;
	int fd, r = conn_ask(lb, &m, &a, &fd);

	if (r < 0)
		return r;
	if (a.type == LB_REG_REFUSE && refusal_valid(a.error) && fd < 0) {
		refusal_keep(lb, a.text, sizeof(a.text), a.error);
		*refused = true;
		return a.error;
	}
	if (a.type != LB_REG_GRANT || fd < 0 || a.slot >= lb->bus.lane_count)
		return conn_garbled(lb, fd);
	r = lane_take(lb, s, &a, fd);
	(void)close(fd);
	if (r < 0) {
		/* A file we cannot use: give the grant back at once. */
		conn_tell(lb, LB_REG_RELEASE, a.slot, a.grant);
		return CONN_NO_WRITER;
	}
	return 0;
}

int conn_lane(logbus_t *lb, struct lane_slot *s, uint32_t flags, bool *refused)
{
	int r = CONN_NO_WRITER;

	*refused = false;
	if (lb_clock_ns(CLOCK_MONOTONIC_COARSE) <
	    atomic_load_explicit(&lb->conn_retry_ns, memory_order_relaxed))
		return CONN_NO_WRITER;
	/* A connection made earlier may have broken since (a registrar that
	 * restarted alone): one more try on a new one. */
	for (int tries = 0; tries < 2; tries++) {
		bool fresh = lb->conn_fd < 0 ||
			     lb_bus_generation(&lb->bus) !=
				     atomic_load_explicit(&lb->conn_generation, memory_order_relaxed);

		r = fresh ? conn_open(lb, refused) : 0;
		if (r == 0)
			r = conn_grant(lb, s, flags, refused);
		if (r == 0)
			return 0;
		if (fresh || r != CONN_NO_WRITER || lb->conn_fd >= 0)
			break;
	}
	if (*refused)
		return r;
	conn_backoff(lb, r);
	return CONN_NO_WRITER;
}

void conn_release(logbus_t *lb, const struct lane_slot *s)
{
	/* Without an answer to wait for. A connection that broke released
	 * every lane already; one whose buffer is full (a registrar that
	 * lags) keeps the lane until it ends. */
	conn_tell(lb, LB_REG_RELEASE, s->prod.index, s->grant);
}

void conn_check(logbus_t *lb)
{
	uint64_t generation = lb_bus_generation(&lb->bus);
	bool refused = false;
	int r;

	if (generation == atomic_load_explicit(&lb->conn_generation, memory_order_relaxed) ||
	    lb_clock_ns(CLOCK_MONOTONIC_COARSE) <
		    atomic_load_explicit(&lb->conn_retry_ns, memory_order_relaxed))
		return;
	pthread_mutex_lock(&lb->lock);
	generation = lb_bus_generation(&lb->bus);
	if (generation != atomic_load_explicit(&lb->conn_generation, memory_order_relaxed)) {
		if (!lb->slots && !lb->retired) {
			/* Nothing to bind: the next lane request connects. */
			conn_drop(lb);
			atomic_store_explicit(&lb->conn_generation, generation,
					      memory_order_relaxed);
		} else if ((r = conn_open(lb, &refused)) < 0) {
			/* Refused too: a slow path must not try at every wake. */
			conn_backoff(lb, r);
		}
	}
	pthread_mutex_unlock(&lb->lock);
}

void conn_close(logbus_t *lb)
{
	struct lb_reg_msg m;
	int r;

	/* The registrar ends its side once it read up to ours: waiting for
	 * that end makes the RELEASEs taken when logbus_close returns. At
	 * most the receive timeout, when the registrar is stuck. */
	if (lb->conn_fd >= 0 && shutdown(lb->conn_fd, SHUT_WR) == 0)
		do
			r = lb_reg_recv(lb->conn_fd, &m, NULL);
		while (r == 0 || r == -EINTR);
	conn_forget(lb);
}

void conn_forget(logbus_t *lb)
{
	conn_drop(lb);
	atomic_store_explicit(&lb->conn_retry_ns, 0, memory_order_relaxed);
	atomic_store_explicit(&lb->has_refusal, false, memory_order_relaxed);
}
