/* SPDX-License-Identifier: MIT */
/*
 * The journald sink: one datagram per entry, over journald's native
 * protocol (journal_native.c), so values may hold newlines and any bytes,
 * and a message too big for one datagram goes in a sealed memfd. It goes
 * to the default journald, or to the journald of a namespace
 * ("namespace": /run/systemd/journal.NAMESPACE/socket). The fields of an
 * entry, the process's identity among them, are journal_fields.c's.
 *
 * What journalctl shows: `journalctl -t TAG` finds the entries by
 * SYSLOG_IDENTIFIER, but its short format prints TAG[_PID], and _PID is
 * journald's word for the sender, the writer; SYSLOG_PID shows only when
 * there is no _PID. The client's pid and identity are in `journalctl -o
 * verbose`, and `journalctl OBJECT_PID=1234` (or LOGBUS_PID=) selects a
 * client's entries.
 *
 * Sizes: journald truncates nothing that comes over the native protocol
 * below its hard limits of hundreds of MiB (a 64 MiB MESSAGE was stored
 * whole by systemd 252 here); LineMax= only cuts stdout streams. So the bus's own limit, half a lane,
 * is the one that counts: a 1 MiB message needs lanes of 2 MiB or more.
 * Readers beware: `journalctl -o json` prints a field over 4096 bytes as
 * null unless given --all, and a value that is not printable UTF-8 as an
 * array of byte values.
 *
 * journald rate-limits per unit (RateLimitBurst=10000 per 30 s by
 * default): the writer's unit sets LogRateLimitIntervalSec=0.
 *
 * The sink is synchronous: an entry is done when the send returned. But a
 * datagram journald had in its socket and not yet written when it was
 * killed is lost with it, and the protocol has no acknowledgement: so the
 * sink keeps the entries it sent in the last RECENT_NS (at most
 * RECENT_MAX), and when journald is found gone (the socket refuses) it
 * spools those again first: they may come twice, with the same
 * LOGBUS_LANE and LOGBUS_LANE_SEQ, never zero times. When journald does
 * not take an entry (gone; or stuck: the send timed out), that entry and
 * every later one go to the sink's spool (spool.c) as encoded datagrams,
 * identity and all (nothing there points into a batch), synced before
 * write() returns, and the sink replays the
 * spool in order, between rounds (poll) and before each batch, until it
 * is empty; then entries go straight to journald again. Beyond spool_max
 * bytes entries are dropped, counted and said once on stderr. While the
 * spool goes first the sink's last_error holds why journald did not take
 * entries, and the outage is told in two lines (sink_outage.h). Without a
 * spool, a failure on the first entry of a batch refuses it (the drain
 * hands it again later) and a failure later in the batch counts that
 * entry as dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config_schema.h"
#include "journal_fields.h"
#include "journal_native.h"
#include "outfile.h"
#include "sink.h"
#include "sink_journal.h"
#include "sink_outage.h"
#include "spool.h"

#define REPLAY_PER_POLL 4096
#define RECENT_MAX 8192
#define RECENT_NS (UINT64_C(2) * 1000000000u)
#define RECENT_KEEP_MAX (64u << 10)   /* a bigger buffer is freed once reused */

/* The "journald" section of the configuration. */
struct journal_options {
	const char *identifier_prefix;  /* prepended to the tag; NULL: none */
	const char *namespace_;         /* journald namespace; NULL: the default one */
};

/* An entry sent lately, as sent. */
struct recent {
	struct lb_buf dgram;
	uint64_t sent_ns;       /* CLOCK_MONOTONIC */
};

struct journal_sink {
	struct sink sink;
	char prefix[64];
	bool object_by_journald;    /* journald adds the OBJECT_ fields (journal_fields.c) */
	struct journal_fields fields;   /* one entry's */
	struct lb_buf dgram;    /* one entry, encoded */
	struct journal_native out;
	bool has_spool;
	bool spooling;          /* the spool goes first */
	bool spool_full_said;
	struct sink_outage outage;  /* journald does not take entries */
	struct spool spool;
	struct lb_buf rec;
	struct recent *recent;  /* ring of RECENT_MAX */
	size_t recent_head, recent_count;
};

/* Encode one entry into s->dgram; returns 0 or -ENOMEM. */
static int encode_entry(struct journal_sink *s, const struct batch_entry *be)
{
	int n = journal_fields_build(&s->fields, be, s->prefix, s->object_by_journald);

	return n < 0 ? n : journal_native_encode(s->fields.iov, n, &s->dgram);
}

/* Keep the entry just sent among the recent ones. */
static void remember(struct journal_sink *s)
{
	struct recent *r;

	if (!s->recent)
		return;
	r = &s->recent[(s->recent_head + s->recent_count) % RECENT_MAX];
	if (s->recent_count == RECENT_MAX)
		s->recent_head = (s->recent_head + 1) % RECENT_MAX;
	else
		s->recent_count++;
	if (r->dgram.cap > RECENT_KEEP_MAX)
		lb_buf_free(&r->dgram);
	r->dgram.len = 0;
	lb_buf_put(&r->dgram, s->dgram.data, s->dgram.len);
	if (r->dgram.failed) {     /* no copy: nothing to send again */
		r->dgram.failed = false;
		r->dgram.len = 0;
	}
	r->sent_ns = lb_clock_ns(CLOCK_MONOTONIC);
}

/* journald is gone: what it may have had unwritten in its socket goes to
 * the spool again, oldest first. */
static void spool_recent(struct journal_sink *s)
{
	uint64_t since = lb_clock_ns(CLOCK_MONOTONIC) - RECENT_NS;

	for (size_t i = 0; i < s->recent_count; i++) {
		struct recent *r = &s->recent[(s->recent_head + i) % RECENT_MAX];
		if (r->sent_ns >= since && r->dgram.len &&
		    spool_append(&s->spool, r->dgram.data, r->dgram.len) < 0)
			break;
	}
	s->recent_count = 0;
}

/* journald did not take an entry (r, a negative errno): the sink's
 * last_error while its entries wait in the spool, said once an outage. */
static void journald_fails(struct journal_sink *s, int r)
{
	s->sink.counters.last_error = r;
	sink_outage_fail(&s->outage, "journald", s->sink.dest, r, "the spool");
}

/* Replay up to max spool records to journald; returns whether the spool
 * is empty now. */
static bool replay(struct journal_sink *s, size_t max)
{
	struct spool_pos end, done = { 0, 0 };
	size_t sent = 0;
	int r = 0;

	while (sent < max && (r = spool_next(&s->spool, &s->rec, &end)) == 1) {
		int e = journal_native_send(&s->out, s->rec.data, s->rec.len);
		if (e < 0) {
			journald_fails(s, e);
			spool_rewind(&s->spool);
			break;
		}
		s->dgram.len = 0;
		lb_buf_put(&s->dgram, s->rec.data, s->rec.len);
		remember(s);
		done = end;
		sent++;
	}
	if (sent)
		(void)spool_commit(&s->spool, done);
	spool_rewind(&s->spool);
	if (spool_empty(&s->spool) && s->spooling) {
		s->spooling = false;
		s->sink.counters.last_error = 0;
		sink_outage_end(&s->outage, "journald", s->sink.dest);
	}
	return !s->spooling;
}

/* Keep the encoded entry in the spool; false when it failed (counted). */
static bool spool_entry(struct journal_sink *s)
{
	struct sink_counters *c = &s->sink.counters;
	int r = spool_append(&s->spool, s->dgram.data, s->dgram.len);

	if (r == 0)
		return true;
	c->errors++;
	c->dropped++;
	if (!s->spool_full_said)
		fprintf(stderr, "logbus-writer: sink journald: %s (spool_max %llu bytes); "
			"dropping entries until journald takes some\n",
			r == -ENOSPC ? "spool full" : strerror(-r),
			(unsigned long long)s->spool.max_bytes);
	s->spool_full_said = true;
	return false;
}

/*
 * With a spool: straight to journald while it takes them, into the spool
 * from the first one it does not take (or while the spool is not empty),
 * the spool synced before returning. Without one: see the head comment.
 */
static int journal_write(struct sink *sink, const struct batch *b)
{
	struct journal_sink *s = (struct journal_sink *)sink;
	struct sink_counters *c = &s->sink.counters;
	bool spooled = false;

	if (s->spooling)
		replay(s, SIZE_MAX);
	for (size_t i = 0; i < b->count; i++) {
		int r = encode_entry(s, &b->entries[i]);
		if (r == 0 && !s->spooling)
			r = journal_native_send(&s->out, s->dgram.data, s->dgram.len);
		if (r == 0 && !s->spooling) {
			c->bytes += s->dgram.len;
			remember(s);
			continue;
		}
		if (r == -ENOMEM || (!s->has_spool && i == 0))
			return r;
		if (!s->has_spool) {
			c->errors++;
			c->dropped++;
			continue;
		}
		if (!s->spooling) {
			journald_fails(s, r);
			if (r == -ECONNREFUSED || r == -ENOENT)
				spool_recent(s);
		}
		s->spooling = true;
		if (spool_entry(s)) {
			sink_outage_waits(&s->outage, 1);
			spooled = true;
			s->spool_full_said = false;
		}
	}
	if (spooled) {
		int r = spool_sync(&s->spool);
		if (r < 0)
			return r;   /* not durable: the drain hands the batch again */
	}
	return 0;
}

static bool journal_poll(struct sink *sink)
{
	struct journal_sink *s = (struct journal_sink *)sink;

	return s->spooling && !replay(s, REPLAY_PER_POLL);
}

static int journal_reopen(struct sink *sink)
{
	(void)sink;
	return 0;
}

static void journal_destroy(struct sink *sink)
{
	struct journal_sink *s = (struct journal_sink *)sink;

	if (!s)
		return;
	journal_fields_free(&s->fields);
	lb_buf_free(&s->dgram);
	lb_buf_free(&s->rec);
	for (size_t i = 0; s->recent && i < RECENT_MAX; i++)
		lb_buf_free(&s->recent[i].dgram);
	free(s->recent);
	spool_close(&s->spool);
	journal_native_close(&s->out);
	free(s);
}

static const struct sink_ops journal_ops = {
	.write = journal_write,
	.reopen = journal_reopen,
	.destroy = journal_destroy,
	.poll = journal_poll,
};

/* The sink's spool: <spool_dir>/journald-<hash of its key>. */
static int open_spool(struct journal_sink *s, const struct sink_context *sc)
{
	char name[64];
	int dirfd = outfile_open_dir(sc->spool_dir), r;

	if (dirfd < 0) {
		fprintf(stderr, "logbus-writer: sink journald: spool directory %s: %s\n",
			sc->spool_dir, strerror(-dirfd));
		return dirfd;
	}
	snprintf(name, sizeof(name), "journald-%016llx",
		 (unsigned long long)sink_key_hash(s->sink.key));
	r = spool_open(&s->spool, dirfd, name, sc->spool_max);
	close(dirfd);
	if (r < 0) {
		fprintf(stderr, "logbus-writer: sink journald: spool %s/%s: %s\n", sc->spool_dir,
			name, strerror(-r));
		return r;
	}
	s->has_spool = true;
	s->sink.own_last_error = true;
	s->spooling = !spool_empty(&s->spool);
	return 0;
}

int sink_journal_from_config(const void *opts, unsigned index, const struct sink_context *sc,
			     struct sink **out)
{
	const struct journal_options *o = opts;
	struct journal_sink *s = calloc(1, sizeof(*s));

	(void)index;
	if (!s)
		return -ENOMEM;
	s->sink = (struct sink){ .name = "journald", .ops = &journal_ops };
	s->object_by_journald = journal_fields_object_by_journald();
	s->spool = (struct spool){ .dirfd = -1, .wfd = -1, .rfd = -1, .readfd = -1 };
	snprintf(s->sink.key, sizeof(s->sink.key), "journald %s",
		 o->namespace_ ? o->namespace_ : "");
	int r = 0;
	if (o->identifier_prefix &&
	    snprintf(s->prefix, sizeof(s->prefix), "%s", o->identifier_prefix) >=
		    (int)sizeof(s->prefix))
		r = -ENAMETOOLONG;
	if (r == 0)
		r = journal_native_open(&s->out, o->namespace_);
	if (r == 0)
		snprintf(s->sink.dest, sizeof(s->sink.dest), "socket %s", s->out.path);
	if (r == 0 && sc->spool_dir) {
		r = open_spool(s, sc);
		s->recent = calloc(RECENT_MAX, sizeof(*s->recent));
		if (!s->recent)
			r = -ENOMEM;
	}
	if (r < 0) {
		journal_destroy(&s->sink);
		return r;
	}
	*out = &s->sink;
	return 0;
}

/* ---- the "journald" section of the configuration ---- */

static const struct config_key journal_keys[] = {
	CONFIG_KEY("identifier_prefix", CONFIG_STRING, struct journal_options, identifier_prefix),
	CONFIG_KEY("namespace", CONFIG_STRING, struct journal_options, namespace_),
	{ 0 },
};

const struct config_section sink_journal_section = {
	journal_keys, sizeof(struct journal_options), NULL, NULL,
};
