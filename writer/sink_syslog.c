/* SPDX-License-Identifier: MIT */
/*
 * The syslog sink: the drain formats each entry (rfc5424.c) into a queue
 * of the sink's own; a sender thread connects, sends and reconnects
 * (syslog_transport.c), so the drain never waits on the network.
 *
 * The sink is asynchronous (sink.h): it takes every batch (no bound of its
 * own: the lanes bound it, since the drain hands it nothing beyond them),
 * and acknowledges a batch's lanes once its messages are done: over TCP
 * and the unix socket when the kernel took the bytes, over RELP when the
 * collector acknowledged them. Each batch ends, in the queue, with one
 * marker per lane it moves (a slot without data); the sender acknowledges
 * a marker when every message before it is done. So while the collector
 * is down or slow the lanes' tails stay where it left off and the entries
 * wait in the bus, which survives a writer restart where this queue does
 * not; nothing is dropped here.
 *
 * Queue: a ring of slots from head, count slots; the first `sent` of them
 * went over the link and wait for an acknowledgement (RELP only; the other
 * links pop what they sent). After a broken link `sent` goes back to 0:
 * the unacknowledged messages go again, so RELP may deliver one twice,
 * never zero times. Reconnects back off from RETRY_MIN_MS, doubling up to
 * reconnect_max_ms. counters.bytes counts the messages as they enter the
 * queue.
 *
 * The spool (spool.c): once more than buffer_entries messages are pending
 * in the queue (the collector is down, or slower than the bus), the
 * sender appends everything pending to a spool of the sink's own on disk,
 * syncs it, and acknowledges it: the lanes move on. From then on new
 * batches go to the spool too, in order, and the sender replays the spool
 * to the collector (over RELP a record counts as done when acknowledged),
 * saving its read position as it goes; once it is empty the sink works
 * from memory again. The spool survives SIGKILL and restarts (a new
 * writer replays it first). Beyond spool_max bytes messages are dropped,
 * counted in counters.dropped and said once on stderr: the one place
 * where this sink drops.
 *
 * On destroy the thread sends what is queued (and the spool) for as long
 * as the collector takes some of it every FLUSH_MS; what it did not
 * acknowledge then stays in the bus (or the spool) for the next writer.
 *
 * Locking: `lock` guards the queue, `up`, the thread's counters and the
 * flags; the sender never holds it while it sends or waits for
 * acknowledgements. Only the drain pushes at the tail, only the sender
 * pops at the head, so the slots the sender is busy with stay put while
 * it works on them unlocked.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "config_schema.h"
#include "outfile.h"
#include "rfc5424.h"
#include "sink.h"
#include "sink_outage.h"
#include "sink_syslog.h"
#include "spool.h"
#include "syslog_transport.h"

#define DEFAULT_RECONNECT_MAX_MS 30000
#define RETRY_MIN_MS 50
#define FLUSH_MS 5000
#define QUEUE_MIN 4096
#define SEND_CHUNK 64
#define ACK_WAIT_MS 20
#define DEFAULT_BUFFER 100000
#define REPLAY_MAX 1024   /* spool records in flight */

/* The transports' names, as enum syslog_transport counts them. */
static const char *const transport_words[] = { "unix", "tcp", "relp", NULL };

/* A message, or (data NULL) the end of a batch's part of a lane. */
struct slot {
	struct syslog_msg m;
	uint32_t lane;
	uint64_t end;
};

/* Spool records read and sent, not yet done: m[0..sent) went over the
 * link, m[sent..n) wait for it. */
struct replay {
	struct syslog_msg m[REPLAY_MAX];
	struct spool_pos end[REPLAY_MAX];
	size_t n, sent;
};

struct syslog_sink {
	struct sink sink;
	struct rfc5424_origin origin;
	struct syslog_link link;
	unsigned reconnect_max_ms;
	struct lb_buf line;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t work;    /* to the sender: messages, reconnect, stop */
	struct slot *q;         /* ring of size slots */
	size_t size, head, count;
	size_t sent;            /* the first `sent` slots went over the link */
	bool up;                /* connected */
	bool down;              /* the last connect failed or the link broke:
				 * the collector is down, not just slow */
	bool reconnect;         /* SIGHUP asked for a new connection */
	bool stopping;
	uint64_t stop_by_ns;    /* CLOCK_MONOTONIC */
	uint64_t send_errors, refused;  /* from the sender, folded in write() */
	int link_error;         /* negative errno of the last connect or send
				 * failure, 0 once connected: the sink's
				 * last_error, folded in write() and poll() */
	struct sink_outage outage;  /* entries that came while it failed */

	/* The spool; only the sender thread touches it and the replay. */
	size_t pending;         /* messages (not markers) in the queue */
	size_t threshold;       /* pending beyond this: spool */
	bool has_spool;
	bool spooling;          /* the spool goes first */
	bool spool_full_said;
	struct spool spool;
	struct replay *rp;
	struct lb_buf rec;
	uint64_t spool_dropped; /* folded in write() */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wait on cond until signalled or ms passed; lock held. */
static void wait_ms(struct syslog_sink *s, pthread_cond_t *cond, unsigned ms)
{
	uint64_t t = mono_ns() + (uint64_t)ms * 1000000u;
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000u),
			       .tv_nsec = (long)(t % 1000000000u) };

	pthread_cond_timedwait(cond, &s->lock, &ts);
}

static struct slot *slot_at(const struct syslog_sink *s, size_t i)
{
	return &s->q[(s->head + i) % s->size];
}

/* Pop the head slot; a marker acknowledges its lane. Lock held. */
static void pop_one(struct syslog_sink *s)
{
	struct slot *q = slot_at(s, 0);

	if (q->m.data) {
		free(q->m.data);
		s->pending--;
	} else {
		sink_ack(&s->sink, q->lane, q->end);
	}
	s->head = (s->head + 1) % s->size;
	s->count--;
	if (s->sent)
		s->sent--;
}

/* n more messages from the head are done: pop them and the markers
 * around them. Lock held. */
static void settle(struct syslog_sink *s, size_t n)
{
	while (s->count && (!slot_at(s, 0)->m.data || n)) {
		if (slot_at(s, 0)->m.data)
			n--;
		pop_one(s);
	}
}

/* Up to SEND_CHUNK messages after the sent ones, copied out (pointers
 * only). */
static size_t peek(const struct syslog_sink *s, struct syslog_msg *out)
{
	size_t n = 0;

	for (size_t i = s->sent; i < s->count && n < SEND_CHUNK; i++)
		if (slot_at(s, i)->m.data)
			out[n++] = slot_at(s, i)->m;
	return n;
}

/* n more messages after the sent ones went over the link. Lock held. */
static void mark_sent(struct syslog_sink *s, size_t n)
{
	while (s->sent < s->count && (!slot_at(s, s->sent)->m.data || n)) {
		if (slot_at(s, s->sent)->m.data)
			n--;
		s->sent++;
	}
}

/* Stopping: done once the queue (and the spool) is done with, the
 * collector is down (a reload during an outage must not hold the drain),
 * or the time is up. */
static bool thread_done(const struct syslog_sink *s)
{
	return s->stopping && ((s->count == 0 && !s->spooling) || s->down ||
			       mono_ns() >= s->stop_by_ns);
}

/* Progress while stopping pushes the deadline. Lock held. */
static void progressed(struct syslog_sink *s)
{
	if (s->stopping)
		s->stop_by_ns = mono_ns() + (uint64_t)FLUSH_MS * 1000000u;
}

/* Forget the spool records in flight: they go again. */
static void replay_reset(struct syslog_sink *s)
{
	for (size_t i = 0; i < s->rp->n; i++)
		free(s->rp->m[i].data);
	s->rp->n = s->rp->sent = 0;
	spool_rewind(&s->spool);
}

/* The destination, in words, for a line on stderr. */
static void describe_link(const struct syslog_link *l, char *buf, size_t cap)
{
	if (l->kind == SYSLOG_UNIX)
		snprintf(buf, cap, "unix socket %s", l->path);
	else
		snprintf(buf, cap, "%s %s:%s", l->kind == SYSLOG_RELP ? "RELP" : "TCP", l->host,
			 l->port);
}

/* The link failed with r (a negative errno): the sink's last_error, and
 * one line on stderr when an outage starts. Lock held. */
static void link_failed(struct syslog_sink *s, int r)
{
	sink_outage_fail(&s->outage, "syslog", s->sink.dest, r, "memory, then in the spool");
	s->link_error = r;
}

/* Not connected: try, and back off after a failure. Lock held. */
static void try_connect(struct syslog_sink *s, unsigned *backoff_ms)
{
	pthread_mutex_unlock(&s->lock);
	int r = link_connect(&s->link);
	pthread_mutex_lock(&s->lock);
	if (r == 0) {
		sink_outage_end(&s->outage, "syslog", s->sink.dest);
		s->link_error = 0;
		s->up = true;
		s->down = false;
		s->sent = 0;   /* what was not acknowledged goes again */
		*backoff_ms = RETRY_MIN_MS;
		return;
	}
	s->send_errors++;
	s->down = true;
	link_failed(s, r);
	wait_ms(s, &s->work, *backoff_ms);
	*backoff_ms = *backoff_ms * 2 > s->reconnect_max_ms ? s->reconnect_max_ms
							     : *backoff_ms * 2;
}

/* The link broke with r (a negative errno). Lock held. */
static void link_broke(struct syslog_sink *s, long r)
{
	s->up = false;
	s->down = true;
	s->send_errors++;
	link_failed(s, (int)r);
	s->sent = 0;
	link_close(&s->link);
	if (s->spooling)
		replay_reset(s);
}

/* n more spool records are done: save the read position past them. */
static void replay_done(struct syslog_sink *s, size_t n)
{
	struct replay *rp = s->rp;

	if (n == 0)
		return;
	(void)spool_commit(&s->spool, rp->end[n - 1]);
	for (size_t i = 0; i < n; i++)
		free(rp->m[i].data);
	memmove(rp->m, rp->m + n, (rp->n - n) * sizeof(*rp->m));
	memmove(rp->end, rp->end + n, (rp->n - n) * sizeof(*rp->end));
	rp->n -= n;
	rp->sent -= n;
}

/* Done with n messages: queue slots, or spool records while spooling. */
static void done_with(struct syslog_sink *s, size_t n)
{
	if (s->spooling)
		replay_done(s, n);
	else
		settle(s, n);
}

/* Past the threshold: what is pending goes to the spool from now on. What
 * went over a RELP link unacknowledged goes again, from the spool, and so
 * does a message half sent over a stream (the link restarts, so framing
 * never breaks). Lock held. */
static void start_spooling(struct syslog_sink *s)
{
	if (s->sent || s->link.partial) {
		link_close(&s->link);
		s->up = false;
		s->sent = 0;
	}
	s->spooling = true;
}

/* Write slots m[0..n) to the spool and sync it; returns how many of them
 * may count as done (all, or none when the spool failed), with *dropped
 * the messages it had no room for. Lock not held. */
static size_t spool_slots(struct syslog_sink *s, const struct slot *m, size_t n,
			  uint64_t *dropped)
{
	int r = 0;

	*dropped = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		if (!m[i].m.data)
			continue;
		r = spool_append(&s->spool, m[i].m.data, m[i].m.len);
		if (r == -ENOSPC || r == -EMSGSIZE) {
			(*dropped)++;
			r = 0;
		}
	}
	if (r == 0)
		r = spool_sync(&s->spool);
	if (r == 0)
		return n;
	fprintf(stderr, "logbus-writer: sink syslog: the spool fails (%s); keeping entries "
		"in the bus instead\n", strerror(-r));
	s->has_spool = false;
	return 0;
}

/* Move the queue into the spool, acknowledging it. Lock held. */
static void absorb(struct syslog_sink *s)
{
	size_t n = s->count, done;
	uint64_t dropped;
	struct slot *m;

	if (n == 0 || !s->has_spool || !(m = malloc(n * sizeof(*m))))
		return;
	for (size_t i = 0; i < n; i++)
		m[i] = *slot_at(s, i);   /* the drain may move the ring meanwhile */
	pthread_mutex_unlock(&s->lock);
	done = spool_slots(s, m, n, &dropped);
	pthread_mutex_lock(&s->lock);
	free(m);
	if (dropped && !s->spool_full_said)
		fprintf(stderr, "logbus-writer: sink syslog: spool full (spool_max %llu bytes); "
			"dropping entries until the collector takes some\n",
			(unsigned long long)s->spool.max_bytes);
	s->spool_full_said = dropped != 0;
	s->spool_dropped += dropped;
	while (done--)
		pop_one(s);
}

/* Read spool records into the replay and send what waits; returns how
 * many went. Lock held. */
static long replay_some(struct syslog_sink *s)
{
	struct replay *rp = s->rp;
	struct spool_pos end;
	size_t refused = 0;
	long r = 0;

	pthread_mutex_unlock(&s->lock);
	while (rp->n < REPLAY_MAX && (r = spool_next(&s->spool, &s->rec, &end)) == 1) {
		rp->m[rp->n].data = malloc(s->rec.len ? s->rec.len : 1);
		if (!rp->m[rp->n].data)
			break;
		memcpy(rp->m[rp->n].data, s->rec.data, s->rec.len);
		rp->m[rp->n].len = s->rec.len;
		rp->end[rp->n++] = end;
	}
	if (rp->sent < rp->n)
		r = link_send(&s->link, rp->m + rp->sent, rp->n - rp->sent, &refused);
	else
		r = 0;
	pthread_mutex_lock(&s->lock);
	if (r < 0) {
		link_broke(s, r);
		return 0;
	}
	s->refused += refused;
	rp->sent += (size_t)r;
	if (!link_acknowledges(&s->link))
		replay_done(s, (size_t)r);
	if (r > 0)
		progressed(s);
	if (rp->n == 0 && spool_empty(&s->spool) && s->pending <= s->threshold)
		s->spooling = false;   /* drained: from memory again */
	return r;
}

/* Send a chunk after the sent messages; returns how many went. Lock
 * held. */
static long send_some(struct syslog_sink *s)
{
	struct syslog_msg m[SEND_CHUNK];
	size_t n = peek(s, m), refused = 0;

	if (n == 0) {
		mark_sent(s, 0);   /* only markers: nothing to wait for */
		if (!link_acknowledges(&s->link))
			settle(s, 0);
		return 0;
	}
	pthread_mutex_unlock(&s->lock);
	long r = link_send(&s->link, m, n, &refused);
	pthread_mutex_lock(&s->lock);
	if (r < 0) {
		link_broke(s, r);
		return 0;
	}
	s->refused += refused;
	if (link_acknowledges(&s->link))
		mark_sent(s, (size_t)r);
	else
		settle(s, (size_t)r);
	if (r > 0)
		progressed(s);
	return r;
}

/* The next step on a connected link; returns how many messages went. */
static long send_next(struct syslog_sink *s)
{
	if (s->spooling)
		return replay_some(s);
	return s->sent < s->count ? send_some(s) : 0;
}

/* Whether there is nothing to send or wait for. */
static bool idle(const struct syslog_sink *s)
{
	return s->spooling ? s->rp->n == 0 && spool_empty(&s->spool) : s->sent == s->count;
}

/* RELP: take the acknowledgements that came, waiting up to wait_ms for
 * the first. Lock held. */
static void await_acks(struct syslog_sink *s, int wait_ms)
{
	pthread_mutex_unlock(&s->lock);
	long r = link_acked(&s->link, wait_ms);
	pthread_mutex_lock(&s->lock);
	if (r < 0) {
		link_broke(s, r);
		return;
	}
	done_with(s, (size_t)r);
	if (r > 0)
		progressed(s);
}

static void *sender(void *arg)
{
	struct syslog_sink *s = arg;
	unsigned backoff_ms = RETRY_MIN_MS;

	pthread_mutex_lock(&s->lock);
	while (!thread_done(s)) {
		long went = 0;

		if (s->reconnect) {
			s->reconnect = false;
			s->up = false;
		}
		if (s->has_spool && !s->spooling && s->pending > s->threshold)
			start_spooling(s);
		if (s->spooling)
			absorb(s);
		if (!s->up)
			try_connect(s, &backoff_ms);
		else
			went = send_next(s);
		if (!s->up)
			continue;
		/* Sending on: only look at what came; stuck: wait for it. */
		if (link_acknowledges(&s->link) && link_unacked(&s->link))
			await_acks(s, went > 0 ? 0 : ACK_WAIT_MS);
		else if (idle(s) && s->count == 0)
			wait_ms(s, &s->work, 1000);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Format the batch into malloc'd messages; NULL on allocation failure. */
static struct syslog_msg *format_batch(struct syslog_sink *s, const struct batch *b)
{
	struct syslog_msg *m = calloc(b->count ? b->count : 1, sizeof(*m));

	for (size_t i = 0; m && i < b->count; i++) {
		s->line.len = 0;
		rfc5424_put(&s->line, &s->origin, &b->entries[i]);
		m[i].data = s->line.failed ? NULL : malloc(s->line.len);
		if (!m[i].data) {
			s->line.failed = false;
			while (i--)
				free(m[i].data);
			free(m);
			return NULL;
		}
		memcpy(m[i].data, s->line.data, s->line.len);
		m[i].len = s->line.len;
	}
	return m;
}

/* Take the thread's counts into the sink's counters. Lock held. */
static void fold_counters(struct syslog_sink *s)
{
	struct sink_counters *c = &s->sink.counters;

	c->errors += s->send_errors + s->refused;
	c->dropped += s->refused + s->spool_dropped;
	c->last_error = s->link_error;
	s->send_errors = s->refused = s->spool_dropped = 0;
}

/* Make the ring hold n more slots; false when memory ran out. */
static bool reserve(struct syslog_sink *s, size_t n)
{
	size_t size = s->size;
	struct slot *q;

	if (s->count + n <= size)
		return true;
	while (size < s->count + n)
		size *= 2;
	q = malloc(size * sizeof(*q));
	if (!q)
		return false;
	for (size_t i = 0; i < s->count; i++)
		q[i] = *slot_at(s, i);
	free(s->q);
	s->q = q;
	s->size = size;
	s->head = 0;
	return true;
}

static int syslog_write(struct sink *sink, const struct batch *b)
{
	struct syslog_sink *s = (struct syslog_sink *)sink;
	struct syslog_msg *m = format_batch(s, b);

	if (!m)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	fold_counters(s);
	if (!reserve(s, b->count + b->nends)) {
		pthread_mutex_unlock(&s->lock);
		for (size_t i = 0; i < b->count; i++)
			free(m[i].data);
		free(m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < b->count; i++) {
		*slot_at(s, s->count++) = (struct slot){ .m = m[i] };
		s->sink.counters.bytes += m[i].len;
	}
	s->pending += b->count;
	sink_outage_waits(&s->outage, b->count);
	for (size_t i = 0; i < b->nends; i++)
		*slot_at(s, s->count++) = (struct slot){ .lane = b->ends[i].lane,
							 .end = b->ends[i].end };
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
	free(m);
	return 0;
}

static int syslog_reopen(struct sink *sink)
{
	struct syslog_sink *s = (struct syslog_sink *)sink;

	pthread_mutex_lock(&s->lock);
	s->reconnect = true;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void syslog_destroy(struct sink *sink)
{
	struct syslog_sink *s = (struct syslog_sink *)sink;

	if (!s)
		return;
	if (s->thread_started) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		s->stop_by_ns = mono_ns() + (uint64_t)FLUSH_MS * 1000000u;
		pthread_cond_signal(&s->work);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		if (s->count)
			fprintf(stderr, "logbus-writer: sink syslog: the collector did not take "
				"every message before the stop; the rest stays in the bus\n");
	}
	for (size_t i = 0; s->q && i < s->count; i++)
		free(slot_at(s, i)->m.data);
	free(s->q);
	if (s->rp)
		for (size_t i = 0; i < s->rp->n; i++)
			free(s->rp->m[i].data);
	free(s->rp);
	spool_close(&s->spool);
	lb_buf_free(&s->rec);
	link_fini(&s->link);
	lb_buf_free(&s->line);
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Between rounds: the sender's counts and its destination's state into
 * the counters, so that the stats tell an outage while no entry comes.
 * The spool is the sender's to replay: nothing left for the drain. */
static bool syslog_poll(struct sink *sink)
{
	struct syslog_sink *s = (struct syslog_sink *)sink;

	pthread_mutex_lock(&s->lock);
	fold_counters(s);
	pthread_mutex_unlock(&s->lock);
	return false;
}

static const struct sink_ops syslog_ops = {
	.write = syslog_write,
	.poll = syslog_poll,
	.reopen = syslog_reopen,
	.destroy = syslog_destroy,
};

static void init_sync(struct syslog_sink *s)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->work, &ca);
	pthread_condattr_destroy(&ca);
}

/* The sink's spool: <spool_dir>/syslog-<hash of its key>. A spool left by
 * an earlier writer is replayed first. */
static int open_spool(struct syslog_sink *s, const struct sink_context *sc)
{
	char name[64];
	int dirfd = outfile_open_dir(sc->spool_dir), r;

	if (dirfd < 0) {
		fprintf(stderr, "logbus-writer: sink syslog: spool directory %s: %s\n",
			sc->spool_dir, strerror(-dirfd));
		return dirfd;
	}
	snprintf(name, sizeof(name), "syslog-%016llx",
		 (unsigned long long)sink_key_hash(s->sink.key));
	r = spool_open(&s->spool, dirfd, name, sc->spool_max);
	close(dirfd);
	if (r < 0) {
		fprintf(stderr, "logbus-writer: sink syslog: spool %s/%s: %s\n", sc->spool_dir,
			name, strerror(-r));
		return r;
	}
	s->has_spool = true;
	s->spooling = !spool_empty(&s->spool);
	return 0;
}

/* What the sink's positions are saved under: its transport and
 * destination. */
static void sink_syslog_key(const struct syslog_options *o, char *key, size_t cap)
{
	if (o->transport == SYSLOG_UNIX)
		snprintf(key, cap, "syslog unix %s", o->socket_path ? o->socket_path : "/dev/log");
	else
		snprintf(key, cap, "syslog %s %s %s", transport_words[o->transport],
			 o->host ? o->host : "", o->port ? o->port : "");
}

int sink_syslog_from_config(const void *opts, unsigned index, const struct sink_context *sc,
			    struct sink **out)
{
	const struct syslog_options *o = opts;
	struct syslog_sink *s = calloc(1, sizeof(*s));
	int r;

	(void)index;
	if (!s)
		return -ENOMEM;
	s->sink = (struct sink){ .name = "syslog", .ops = &syslog_ops, .async = true,
				 .own_last_error = true };
	sink_syslog_key(o, s->sink.key, sizeof(s->sink.key));
	init_sync(s);
	rfc5424_origin_init(&s->origin, o->hostname, o->facility);
	s->reconnect_max_ms = o->reconnect_max_ms;
	if (s->reconnect_max_ms < RETRY_MIN_MS)
		s->reconnect_max_ms = RETRY_MIN_MS;
	s->size = QUEUE_MIN;
	s->q = calloc(s->size, sizeof(*s->q));
	s->rp = calloc(1, sizeof(*s->rp));
	s->threshold = o->buffer_entries ? o->buffer_entries : DEFAULT_BUFFER;
	s->spool = (struct spool){ .dirfd = -1, .wfd = -1, .rfd = -1, .readfd = -1 };
	r = s->q && s->rp ? 0 : -ENOMEM;
	if (r == 0)
		r = link_init(&s->link, o->transport, o->socket_path, o->host, o->port);
	if (r == 0)
		describe_link(&s->link, s->sink.dest, sizeof(s->sink.dest));
	if (r == 0 && sc->spool_dir)
		r = open_spool(s, sc);
	if (r == 0) {
		r = -pthread_create(&s->thread, NULL, sender, s);
		s->thread_started = r == 0;
	}
	if (r < 0) {
		syslog_destroy(&s->sink);
		return r;
	}
	*out = &s->sink;
	return 0;
}

/* ---- a destination of the "syslog" section of the configuration ---- */

static void syslog_defaults(void *p)
{
	*(struct syslog_options *)p = (struct syslog_options){
		.transport = SYSLOG_UNIX,
		.facility = LOG_USER,
		.buffer_entries = DEFAULT_BUFFER,
		.reconnect_max_ms = DEFAULT_RECONNECT_MAX_MS,
	};
}

static void syslog_check(struct config_ctx *x, const char *path, void *p)
{
	struct syslog_options *o = p;

	if (o->transport != SYSLOG_UNIX && (!o->host || !o->port))
		config_problem(x, path, "needs \"host\" and \"port\" for transport %s",
			       transport_words[o->transport]);
	if (o->reconnect_max_ms == 0)
		config_problem(x, path, "reconnect_max_ms must be at least 1");
}

static const struct config_key syslog_keys[] = {
	CONFIG_WORDS("transport", struct syslog_options, transport, transport_words),
	CONFIG_KEY("socket", CONFIG_STRING, struct syslog_options, socket_path),
	CONFIG_KEY("host", CONFIG_STRING, struct syslog_options, host),
	CONFIG_KEY("port", CONFIG_STRING, struct syslog_options, port),
	CONFIG_KEY("hostname", CONFIG_STRING, struct syslog_options, hostname),
	CONFIG_KEY("facility", CONFIG_FACILITY, struct syslog_options, facility),
	CONFIG_KEY("buffer_entries", CONFIG_COUNT, struct syslog_options, buffer_entries),
	CONFIG_KEY("reconnect_max_ms", CONFIG_COUNT, struct syslog_options, reconnect_max_ms),
	{ 0 },
};

const struct config_section sink_syslog_section = {
	syslog_keys, sizeof(struct syslog_options), syslog_defaults, syslog_check,
};
