/* SPDX-License-Identifier: MIT */
/*
 * The hook set's life: built from a parsed configuration (cached: nothing
 * is re-read while it runs), replaced whole on reload, its counters shared
 * with the set that replaces it so that they never go backwards.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "hooks_impl.h"

#define RETIRE_WAIT_MS 5000

uint64_t hook_now_ns(void)
{
	return lb_clock_ns(CLOCK_MONOTONIC);
}

/* Counters have one writing thread each per hook (the drain for matched
 * and filter counts, the worker for the rest) or are only ever added to:
 * relaxed adds, read by the stats publisher. */
void hook_count(_Atomic uint64_t *c, uint64_t v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

void hook_count_time(struct hook *h, uint64_t calls, uint64_t ns)
{
	hook_count(&h->n->calls, calls);
	hook_count(&h->n->time_ns_sum, ns);
	if (ns > atomic_load_explicit(&h->n->time_ns_max, memory_order_relaxed))
		atomic_store_explicit(&h->n->time_ns_max, ns, memory_order_relaxed);
}

void hook_say(const struct hook *h, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "logbus-writer: hook '%s': %s\n", h->c->name, msg);
}

static struct hook_counters *counters_for(const struct hooks *prev, const char *name)
{
	for (size_t i = 0; prev && i < prev->count; i++)
		if (strcmp(prev->hooks[i].c->name, name) == 0) {
			struct hook_counters *n = prev->hooks[i].n;
			atomic_fetch_add_explicit(&n->refs, 1, memory_order_relaxed);
			return n;
		}
	struct hook_counters *n = calloc(1, sizeof(*n));
	if (n)
		atomic_init(&n->refs, 1);
	return n;
}

static void counters_put(struct hook_counters *n)
{
	if (n && atomic_fetch_sub_explicit(&n->refs, 1, memory_order_acq_rel) == 1)
		free(n);
}

/* Who waits for whom: the reverse of each hook's "after". */
static int link_dependents(struct hooks *set)
{
	for (size_t i = 0; i < set->count; i++) {
		const struct hook_conf *c = set->hooks[i].c;
		for (size_t k = 0; k < c->nafter; k++) {
			struct hook *p = &set->hooks[c->after[k]];
			size_t *d = realloc(p->dependents, (p->ndependents + 1) * sizeof(*d));
			if (!d)
				return -ENOMEM;
			p->dependents = d;
			d[p->ndependents++] = i;
		}
	}
	return 0;
}

static int hook_init(struct hooks *set, size_t i, const struct hooks *prev)
{
	struct hook *h = &set->hooks[i];

	h->c = &set->conf->hooks[i];
	h->index = i;
	h->cmd.in_fd = h->cmd.out_fd = -1;
	h->cmd.backoff_ms = HOOK_RESTART_MIN_MS;
	pthread_mutex_init(&h->q.lock, NULL);
	pthread_cond_init(&h->q.more, NULL);
	if (h->c->type == HOOK_FILTER)
		set->any_filter = true;
	else
		set->any_action = true;
	h->n = counters_for(prev, h->c->name);
	return h->n ? 0 : -ENOMEM;
}

int hooks_start(struct hooks_conf *conf, const struct hooks *prev, struct hooks **out)
{
	struct hooks *set = calloc(1, sizeof(*set));
	int r = -ENOMEM;

	if (!set || !(set->hooks = calloc(conf->count + 1, sizeof(*set->hooks)))) {
		free(set);
		hooks_conf_free(conf);
		return -ENOMEM;
	}
	set->conf = conf;
	set->count = conf->count;
	for (size_t i = 0; i < set->count; i++)
		if ((r = hook_init(set, i, prev)) < 0)
			goto fail;
	if ((r = link_dependents(set)) < 0 || (r = hook_workers_start(set)) < 0)
		goto fail;
	*out = set;
	return 0;
fail:
	hooks_stop(set, 0, NULL);
	return r;
}

static bool any_stuck(const struct hooks *set)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->hooks[i].has_thread)
			return true;
	return false;
}

static void report(const struct hooks *h, FILE *f)
{
	struct hook_metrics m[HOOKS_MAX];
	size_t n = hooks_metrics(h, m, HOOKS_MAX);

	for (size_t i = 0; i < n; i++)
		fprintf(f, "logbus-writer: hook %s (%s): %llu matched, %llu calls, %llu ok, "
			"%llu dropped, %llu rewritten, %llu errors, %llu timeouts, "
			"%llu queue drops, %llu restarts, mean %.1f us, max %.1f us\n",
			m[i].name, m[i].type, (unsigned long long)m[i].matched,
			(unsigned long long)m[i].calls, (unsigned long long)m[i].ok,
			(unsigned long long)m[i].dropped, (unsigned long long)m[i].rewritten,
			(unsigned long long)m[i].errors, (unsigned long long)m[i].timeouts,
			(unsigned long long)m[i].queue_drops, (unsigned long long)m[i].restarts,
			m[i].calls ? (double)m[i].time_ns_sum / (double)m[i].calls / 1e3 : 0.0,
			(double)m[i].time_ns_max / 1e3);
}

void hooks_stop(struct hooks *h, int wait_ms, FILE *f)
{
	if (!h)
		return;
	hook_workers_stop(h, wait_ms);
	if (f)
		report(h, f);
	if (any_stuck(h))
		return;   /* a worker may still touch the set */
	for (size_t i = 0; i < h->count; i++) {
		struct hook *k = &h->hooks[i];
		if (k->c->type == HOOK_FILTER)
			hook_plugin_close(k);
		counters_put(k->n);
		free(k->q.ring);
		free(k->dependents);
		pthread_mutex_destroy(&k->q.lock);
		pthread_cond_destroy(&k->q.more);
	}
	for (size_t i = 0; i < h->nrewrites; i++)
		free(h->rewrites[i]);
	free(h->rewrites);
	free(h->hooks);
	hooks_conf_free(h->conf);
	free(h);
}

static void *retire(void *old)
{
	hooks_stop(old, RETIRE_WAIT_MS, NULL);
	return NULL;
}

int hooks_replace(struct hooks **slot, struct hooks_conf *conf)
{
	struct hooks *next, *old = *slot;
	pthread_t t;
	int r = conf ? hooks_start(conf, old, &next) : 0;

	if (r < 0)
		return r;
	*slot = conf ? next : NULL;
	if (old && hook_thread_create(&t, retire, old) == 0)
		pthread_detach(t);
	else if (old)
		hooks_stop(old, 0, NULL);
	return 0;
}

static uint64_t get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

size_t hooks_metrics(const struct hooks *h, struct hook_metrics *out, size_t cap)
{
	for (size_t i = 0; h && i < h->count && i < cap; i++) {
		const struct hook_counters *n = h->hooks[i].n;
		struct hook_metrics *m = &out[i];

		snprintf(m->name, sizeof(m->name), "%s", h->hooks[i].c->name);
		m->type = h->hooks[i].c->type == HOOK_FILTER ? "filter" : "action";
		m->matched = get(&n->matched);
		m->calls = get(&n->calls);
		m->ok = get(&n->ok);
		m->dropped = get(&n->dropped);
		m->rewritten = get(&n->rewritten);
		m->errors = get(&n->errors);
		m->timeouts = get(&n->timeouts);
		m->queue_drops = get(&n->queue_drops);
		m->restarts = get(&n->restarts);
		m->time_ns_sum = get(&n->time_ns_sum);
		m->time_ns_max = get(&n->time_ns_max);
	}
	return h ? h->count : 0;
}
