/* SPDX-License-Identifier: MIT */
/*
 * The syslog sink: the drain formats each entry (rfc5424.c) into a
 * bounded queue; a sender thread of the sink's own connects, sends and
 * reconnects (syslog_transport.c), so the drain never waits on the
 * network.
 *
 * How much the queue takes depends on the collector:
 * - up, or not tried yet: at most UP_QUEUE messages (or buffer_entries
 *   when smaller), plus one batch when the queue is empty. A batch that
 *   does not fit waits up to ROOM_WAIT_MS for room, then is refused whole
 *   (-EAGAIN): the drain keeps it in the bus, which survives a writer
 *   restart where this queue does not, and tries again (or counts it
 *   dropped for this sink when other sinks took it);
 * - down (a connect failed, or the link broke, and no connect worked
 *   since): up to buffer_entries; the rest of a batch is counted in
 *   counters.dropped, so the bus keeps moving for the other sinks.
 * Reconnects back off from RETRY_MIN_MS, doubling up to reconnect_max_ms.
 * counters.bytes counts the messages as they enter the queue.
 *
 * On destroy the thread sends what is queued for as long as the collector
 * takes some of it every FLUSH_MS; when it is down or stalls, what is left
 * is lost, and said on stderr. A writer killed outright loses the queue:
 * UP_QUEUE messages and a batch at most while the collector keeps up.
 *
 * Locking: `lock` guards the queue, `up`, the thread's counters and the
 * flags; the sender never holds it while it sends. Only the drain pushes
 * at the tail, only the sender pops at the head, so the messages the
 * sender is busy with stay put while it sends them unlocked.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rfc5424.h"
#include "sink_syslog.h"
#include "syslog_transport.h"

#define DEFAULT_BUFFER 10000
#define DEFAULT_RECONNECT_MAX_MS 5000
#define RETRY_MIN_MS 50
#define ROOM_WAIT_MS 50
#define FLUSH_MS 5000
#define UP_QUEUE 4096
#define SEND_CHUNK 64

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
	pthread_cond_t room;    /* to the drain: the queue shrank */
	struct syslog_msg *q;   /* ring of size messages */
	size_t size, head, count;
	size_t cap;             /* what it keeps while the collector is down */
	bool up;                /* connected */
	bool down;              /* the last connect failed or the link broke:
				 * the collector is down, not just slow */
	bool reconnect;         /* SIGHUP asked for a new connection */
	bool stopping;
	uint64_t stop_by_ns;    /* CLOCK_MONOTONIC */
	uint64_t send_errors, refused;  /* from the sender, folded in write() */
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

static void pop(struct syslog_sink *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s->q[s->head].data);
		s->head = (s->head + 1) % s->size;
	}
	s->count -= n;
}

/* Up to SEND_CHUNK messages from the head, copied out (pointers only). */
static size_t peek(const struct syslog_sink *s, struct syslog_msg *out)
{
	size_t n = s->count < SEND_CHUNK ? s->count : SEND_CHUNK;

	for (size_t i = 0; i < n; i++)
		out[i] = s->q[(s->head + i) % s->size];
	return n;
}

/* Stopping: done once the queue is sent, the collector is down (a reload
 * during an outage must not hold the drain), or the time is up. */
static bool thread_done(const struct syslog_sink *s)
{
	return s->stopping && (s->count == 0 || s->down || mono_ns() >= s->stop_by_ns);
}

/* Not connected: try, and back off after a failure. Lock held. */
static void try_connect(struct syslog_sink *s, unsigned *backoff_ms)
{
	pthread_mutex_unlock(&s->lock);
	int r = link_connect(&s->link);
	pthread_mutex_lock(&s->lock);
	if (r == 0) {
		s->up = true;
		s->down = false;
		*backoff_ms = RETRY_MIN_MS;
		return;
	}
	s->send_errors++;
	s->down = true;
	wait_ms(s, &s->work, *backoff_ms);
	*backoff_ms = *backoff_ms * 2 > s->reconnect_max_ms ? s->reconnect_max_ms
							     : *backoff_ms * 2;
}

/* Send a chunk from the head. Lock held. */
static void send_some(struct syslog_sink *s)
{
	struct syslog_msg m[SEND_CHUNK];
	size_t n = peek(s, m), refused = 0;

	pthread_mutex_unlock(&s->lock);
	long r = link_send(&s->link, m, n, &refused);
	pthread_mutex_lock(&s->lock);
	if (r < 0) {
		s->up = false;
		s->down = true;
		s->send_errors++;
		link_close(&s->link);
		return;
	}
	s->refused += refused;
	pop(s, (size_t)r);
	if (r > 0 && s->stopping)
		s->stop_by_ns = mono_ns() + (uint64_t)FLUSH_MS * 1000000u;
	pthread_cond_signal(&s->room);
}

static void *sender(void *arg)
{
	struct syslog_sink *s = arg;
	unsigned backoff_ms = RETRY_MIN_MS;

	pthread_mutex_lock(&s->lock);
	while (!thread_done(s)) {
		if (s->reconnect) {
			s->reconnect = false;
			s->up = false;
		}
		if (!s->up) {
			try_connect(s, &backoff_ms);
		} else if (s->count) {
			send_some(s);
		} else {
			wait_ms(s, &s->work, 1000);
		}
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
	c->dropped += s->refused;
	s->send_errors = s->refused = 0;
}

static bool fits(const struct syslog_sink *s, size_t n)
{
	size_t bound = s->cap < UP_QUEUE ? s->cap : UP_QUEUE;

	return s->down || s->count == 0 || (s->count < bound && bound - s->count >= n);
}

/* Whether the batch may go in now; waits a little for room unless the
 * collector is down. Lock held. */
static bool admit(struct syslog_sink *s, size_t n)
{
	if (fits(s, n))
		return true;
	wait_ms(s, &s->room, ROOM_WAIT_MS);
	return fits(s, n);
}

/* Make the ring hold n more messages; false when memory ran out. */
static bool reserve(struct syslog_sink *s, size_t n)
{
	size_t size = s->size;
	struct syslog_msg *q;

	if (s->count + n <= size)
		return true;
	while (size < s->count + n)
		size *= 2;
	q = malloc(size * sizeof(*q));
	if (!q)
		return false;
	for (size_t i = 0; i < s->count; i++)
		q[i] = s->q[(s->head + i) % s->size];
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
	size_t i;

	if (!m)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	fold_counters(s);
	if (!admit(s, b->count)) {
		pthread_mutex_unlock(&s->lock);
		for (i = 0; i < b->count; i++)
			free(m[i].data);
		free(m);
		return -EAGAIN;
	}
	/* Down: keep up to the bound. Up: take it all (admit() said so). */
	size_t take = !s->down ? b->count : s->count < s->cap ? s->cap - s->count : 0;
	if (take > b->count)
		take = b->count;
	if (!reserve(s, take))
		take = 0;
	for (i = 0; i < take; i++) {
		s->q[(s->head + s->count++) % s->size] = m[i];
		s->sink.counters.bytes += m[i].len;
	}
	s->sink.counters.dropped += b->count - i;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
	for (; i < b->count; i++)
		free(m[i].data);
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
			fprintf(stderr, "logbus-writer: sink syslog: %zu messages the collector "
				"did not take before the stop are lost\n", s->count);
	}
	if (s->q)
		pop(s, s->count);
	free(s->q);
	link_fini(&s->link);
	lb_buf_free(&s->line);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->room);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct sink_ops syslog_ops = {
	.write = syslog_write,
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
	pthread_cond_init(&s->room, &ca);
	pthread_condattr_destroy(&ca);
}

int sink_syslog_new(const struct syslog_options *o, struct sink **out)
{
	struct syslog_sink *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->sink = (struct sink){ .name = "syslog", .ops = &syslog_ops };
	init_sync(s);
	rfc5424_origin_init(&s->origin, o->hostname, o->facility);
	s->cap = o->buffer_entries ? o->buffer_entries : DEFAULT_BUFFER;
	s->reconnect_max_ms = o->reconnect_max_ms ? o->reconnect_max_ms
						  : DEFAULT_RECONNECT_MAX_MS;
	if (s->reconnect_max_ms < RETRY_MIN_MS)
		s->reconnect_max_ms = RETRY_MIN_MS;
	s->size = s->cap;
	s->q = calloc(s->size, sizeof(*s->q));
	r = s->q ? link_init(&s->link, o) : -ENOMEM;
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
