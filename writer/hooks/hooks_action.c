/* SPDX-License-Identifier: MIT */
/*
 * Action hooks: after the sinks took a batch, each entry that matches an
 * action hook is copied once into a job shared by the hooks it matched,
 * and queued for each of them. Every action hook has a worker thread and a
 * bounded queue of its own, so independent hooks run in parallel and a
 * slow or hanging one holds up nothing but its own queue; the drain never
 * waits: a job that finds a queue full is counted as a queue drop.
 *
 * Ordering: a hook whose "after" names others is queued an entry only once
 * every named hook that matched the entry finished it (or dropped it).
 * Each job carries, per hook, how many of its predecessors still have to
 * finish; the worker that brings a count to zero queues the job onward.
 *
 *	drain:   hooks_dispatch -> job (refs = hooks matched) -> submit roots
 *	worker:  call -> finish: for each dependent d, --pending[d] == 0 ->
 *	         submit(d); --refs == 0 -> free
 *
 * Memory ordering pairs:
 *	job_finish:A (acq_rel fetch_sub on pending) pairs with itself in the
 *	    other finishing workers: the last one sees the job as the others
 *	    left it before queueing it.
 *	job_unref:A (acq_rel fetch_sub on refs) pairs with itself: the one that
 *	    frees sees every other hook's use of the job done.
 *	jobs_live:B (release fetch_sub) pairs with hooks_idle:A (acquire
 *	    load): a set seen idle has done all the work of its jobs.
 *	hooks_stop:A (release store of stopping) pairs with worker_next:A.
 *	The queues' mutexes order everything else (job contents before the
 *	worker reads them).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hooks_impl.h"

static void submit(struct hooks *set, size_t i, struct hook_job *j);

static void job_unref(struct hooks *set, struct hook_job *j)
{
	/* LMM(job_unref:A) pairs with job_unref:A of the other hooks. */
	if (atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(j);
	/* LMM(jobs_live:B) pairs with hooks_idle:A: the job's work done
	 * before the set looks idle. */
	atomic_fetch_sub_explicit(&set->jobs_live, 1, memory_order_release);
}

/* Hook i is done with j (called, failed or dropped): release the hooks
 * that wait for it, then its reference. */
static void job_finish(struct hooks *set, size_t i, struct hook_job *j)
{
	const struct hook *h = &set->hooks[i];

	for (size_t k = 0; k < h->ndependents; k++) {
		size_t d = h->dependents[k];
		if (!(j->mask & (UINT64_C(1) << d)))
			continue;
		/* LMM(job_finish:A) pairs with job_finish:A of the other predecessors. */
		if (atomic_fetch_sub_explicit(&j->pending[d], 1, memory_order_acq_rel) == 1)
			submit(set, d, j);
	}
	job_unref(set, j);
}

static void submit(struct hooks *set, size_t i, struct hook_job *j)
{
	struct hook *h = &set->hooks[i];
	struct hook_queue *q = &h->q;
	bool queued = false;

	pthread_mutex_lock(&q->lock);
	if (q->count < q->cap && !atomic_load_explicit(&set->abandon, memory_order_relaxed)) {
		q->ring[(q->head + q->count++) % q->cap] = j;
		queued = true;
		pthread_cond_signal(&q->more);
	}
	pthread_mutex_unlock(&q->lock);
	if (!queued) {
		hook_count(&h->n->queue_drops, 1);
		job_finish(set, i, j);
	}
}

/* The bytes after the last field, i.e. the end of the fields region. */
static size_t fields_span(const struct lb_entry *e)
{
	const uint8_t *cur;
	struct lb_field_view f;

	lb_entry_field_first(e, &cur);
	for (size_t i = 0; i < e->nfields; i++)
		lb_entry_field_next(&cur, &f);
	return (size_t)(cur - e->fields);
}

static struct hook_job *job_new(struct hooks *set, const struct batch_entry *be, uint64_t mask)
{
	size_t span = fields_span(&be->e);
	struct hook_job *j = malloc(sizeof(*j) + be->e.tag_len + be->e.msg_len + span);

	if (!j)
		return NULL;
	atomic_fetch_add_explicit(&set->jobs_live, 1, memory_order_relaxed);
	memset(j, 0, sizeof(*j));
	j->mask = mask;
	j->e = be->e;
	j->ts_ns = be->ts_ns;
	j->seq = be->seq;
	j->lane = be->lane;
	if (be->who) {
		j->who_copy = *be->who;
		j->who = &j->who_copy;
	}
	j->e.tag = memcpy(j->data, be->e.tag, be->e.tag_len);
	j->e.msg = memcpy(j->data + be->e.tag_len, be->e.msg, be->e.msg_len);
	j->e.fields = memcpy(j->data + be->e.tag_len + be->e.msg_len, be->e.fields, span);
	return j;
}

/* Count, per matched hook, its matched predecessors; then queue the
 * hooks that wait for none. All counts are set before any submit, as a
 * worker may finish the job at once; and once the last root is submitted
 * the job may be gone, so the roots are picked beforehand. */
static void job_start(struct hooks *set, struct hook_job *j)
{
	uint64_t roots = 0;
	unsigned refs = 0;

	for (size_t i = 0; i < set->count; i++) {
		const struct hook *h = &set->hooks[i];
		uint8_t waits = 0;

		if (!(j->mask & (UINT64_C(1) << i)))
			continue;
		refs++;
		for (size_t k = 0; k < h->c->nafter; k++)
			waits += (j->mask >> h->c->after[k]) & 1;
		atomic_init(&j->pending[i], waits);
		roots |= (uint64_t)(waits == 0) << i;
	}
	atomic_init(&j->refs, refs);
	for (size_t i = 0; i < set->count; i++)
		if (roots & (UINT64_C(1) << i))
			submit(set, i, j);
}

static uint64_t match_actions(struct hooks *set, const struct lb_entry *e)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < set->count; i++) {
		struct hook *h = &set->hooks[i];
		if (h->c->type == HOOK_ACTION && hook_matches(&h->c->match, e)) {
			hook_count(&h->n->matched, 1);
			mask |= UINT64_C(1) << i;
		}
	}
	return mask;
}

static void drop_all(struct hooks *set, uint64_t mask)
{
	for (size_t i = 0; i < set->count; i++)
		if (mask & (UINT64_C(1) << i))
			hook_count(&set->hooks[i].n->queue_drops, 1);
}

void hooks_dispatch(struct hooks *h, const struct batch *b)
{
	if (!h || !h->any_action)
		return;
	for (size_t i = 0; i < b->count; i++) {
		uint64_t mask = match_actions(h, &b->entries[i].e);
		struct hook_job *j;

		if (!mask)
			continue;
		if (!(j = job_new(h, &b->entries[i], mask))) {
			drop_all(h, mask);
			continue;
		}
		job_start(h, j);
	}
}

/* Call a plugin action on j; returns 0 or a negative errno. */
static int plugin_call(struct hook *h, const struct hook_job *j)
{
	struct logbus_hook_field fields[LOGBUS_FIELDS_MAX];
	struct logbus_hook_entry view;

	if (!hook_plugin_ready(h))
		return -ENOEXEC;
	hook_entry_view(&j->e, j->ts_ns, j->seq, j->who, fields, &view);
	return h->plugin.desc->action(h->plugin.data, &view);
}

/* Run hook h on n jobs (more than one only for a command without
 * acknowledgements, fed in one write) and count the outcome for each. */
static void run_jobs(struct hooks *set, struct hook *h, struct hook_job *const *j, size_t n)
{
	uint64_t start = hook_now_ns();
	int r = h->c->argv ? hook_command_call(h, (const struct hook_job *const *)j, n,
					       &set->abandon)
			   : plugin_call(h, j[0]);
	uint64_t took = hook_now_ns() - start;

	if (r == -ENOEXEC || r == -ESHUTDOWN) {   /* never called */
		hook_count(r == -ENOEXEC ? &h->n->errors : &h->n->queue_drops, n);
		return;
	}
	hook_count_time(h, n, took);
	if (r == -ETIMEDOUT || (r == 0 && took > (uint64_t)h->c->timeout_ms * 1000000u))
		hook_count(&h->n->timeouts, n);
	else
		hook_count(r < 0 ? &h->n->errors : &h->n->ok, n);
}

/* Take up to max jobs into out; 0 when the worker should end.
 * LMM(worker_next:A) pairs with hooks_stop:A through the queue mutex. */
static size_t worker_next(struct hooks *set, struct hook_queue *q, struct hook_job **out,
			  size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&q->lock);
	while (!q->count && !atomic_load_explicit(&set->stopping, memory_order_acquire))
		pthread_cond_wait(&q->more, &q->lock);
	for (; q->count && n < max; n++) {
		out[n] = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
	pthread_mutex_unlock(&q->lock);
	return n;
}

struct worker_arg {
	struct hooks *set;
	size_t index;
};

static void *worker(void *arg)
{
	struct worker_arg a = *(struct worker_arg *)arg;
	struct hook *h = &a.set->hooks[a.index];
	size_t max = h->c->argv && !h->c->confirm ? HOOK_BATCH_MAX : 1, n;
	struct hook_job *jobs[HOOK_BATCH_MAX];

	free(arg);
	while ((n = worker_next(a.set, &h->q, jobs, max))) {
		if (atomic_load_explicit(&a.set->abandon, memory_order_relaxed))
			hook_count(&h->n->queue_drops, n);
		else
			run_jobs(a.set, h, jobs, n);
		for (size_t i = 0; i < n; i++)
			job_finish(a.set, a.index, jobs[i]);
	}
	if (h->c->argv)
		hook_command_end(h);
	else
		hook_plugin_close(h);
	return NULL;
}

static int worker_start(struct hooks *set, size_t i)
{
	struct hook *h = &set->hooks[i];
	struct worker_arg *a = malloc(sizeof(*a));
	int r;

	h->q.cap = h->c->queue;
	h->q.ring = calloc(h->q.cap, sizeof(*h->q.ring));
	if (!a || !h->q.ring) {
		free(a);
		return -ENOMEM;
	}
	*a = (struct worker_arg){ set, i };
	r = hook_thread_create(&h->thread, worker, a);
	if (r < 0) {
		free(a);
		return r;
	}
	h->has_thread = true;
	return 0;
}

/* Hook threads take no signal: SIGTERM and SIGHUP go to the drain
 * thread, and a write to a dead command's pipe returns EPIPE instead of
 * killing us. Returns 0 or the error of pthread_create, negated. */
int hook_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -r;
}

int hook_workers_start(struct hooks *set)
{
	int r = 0;

	for (size_t i = 0; i < set->count && r == 0; i++)
		if (set->hooks[i].c->type == HOOK_ACTION)
			r = worker_start(set, i);
	return r;
}

bool hooks_idle(const struct hooks *h)
{
	/* LMM(hooks_idle:A) pairs with jobs_live:B. */
	return !h || atomic_load_explicit(&h->jobs_live, memory_order_acquire) == 0;
}

static void wake_all(struct hooks *set)
{
	for (size_t i = 0; i < set->count; i++) {
		struct hook_queue *q = &set->hooks[i].q;
		pthread_mutex_lock(&q->lock);
		pthread_cond_broadcast(&q->more);
		pthread_mutex_unlock(&q->lock);
	}
}

/* Let the queues empty until the deadline, then abandon what is left and
 * join. A worker that does not end within a second more (stuck in a
 * plugin) is detached and keeps its hook's memory: set->hooks leaks. */
void hook_workers_stop(struct hooks *set, int wait_ms)
{
	uint64_t deadline = hook_now_ns() + (uint64_t)wait_ms * 1000000u;

	while (!hooks_idle(set) && hook_now_ns() < deadline)
		nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
	atomic_store_explicit(&set->abandon, true, memory_order_relaxed);
	/* LMM(hooks_stop:A) pairs with worker_next:A: a worker that sees
	 * stopping and leaves sees abandon too, and so does any thread that
	 * takes its queue lock after it: nothing is queued to a gone worker. */
	atomic_store_explicit(&set->stopping, true, memory_order_release);
	wake_all(set);
	for (size_t i = 0; i < set->count; i++) {
		struct hook *h = &set->hooks[i];
		struct timespec ts;

		if (!h->has_thread)
			continue;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (pthread_timedjoin_np(h->thread, NULL, &ts) == 0) {
			h->has_thread = false;
			continue;
		}
		hook_say(h, "worker stuck in a call; left behind");
		pthread_detach(h->thread);
	}
}
