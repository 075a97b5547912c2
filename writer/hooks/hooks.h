/* SPDX-License-Identifier: MIT */
/*
 * Hooks: filter hooks inline in the drain before the sinks, action hooks on
 * worker threads after them. The configuration is parsed once into an
 * immutable hooks_conf; a running set (struct hooks) is built from it and
 * replaced whole on reload. Plugins are loaded the first time an entry
 * matches them; commands are started the same way.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sink.h"

#define HOOKS_MAX 64
#define HOOK_NAME_MAX 64

struct hooks_conf;
struct hooks;

/* A snapshot of one hook's counters. Every matched entry is counted once
 * as ok, errors, timeouts or queue_drops (for an action hook, once its
 * queue is empty). A plugin call that overruns timeout_ms cannot be cut
 * short: it counts as a timeout (a filter's verdict still applies); a
 * command is killed and restarted. */
struct hook_metrics {
	char name[HOOK_NAME_MAX + 1];
	const char *type;       /* "filter" or "action" */
	uint64_t matched;       /* entries that matched the hook */
	uint64_t calls;         /* calls made (entries a command was fed) */
	uint64_t ok;            /* calls that succeeded */
	uint64_t dropped;       /* filters: entries dropped */
	uint64_t rewritten;     /* filters: entries rewritten */
	uint64_t errors;        /* failed calls, and entries a hook that cannot
				   load or start could not take */
	uint64_t timeouts;      /* calls that took longer than timeout_ms */
	uint64_t queue_drops;   /* actions: entries lost to a full queue or a stop */
	uint64_t restarts;      /* commands: restarts after an exit or a kill */
	uint64_t time_ns_sum;   /* time in calls, for the mean (sum / calls) */
	uint64_t time_ns_max;
};

/* A problem of the hooks' configuration, "PATH: what", handed to the
 * caller (who prints it as one line). */
typedef void hooks_conf_report_fn(void *ctx, const char *msg);

/*
 * hooks_conf_parse - parse the "hooks" array of the writer's configuration.
 * path names the array in messages ("$.hooks"). Each problem goes to
 * report, naming its JSON path ("$.hooks[1].match.level: 'loud' is not a
 * level..."): the first of every bad hook, all hooks. Returns 0, -EINVAL
 * after a problem, or -ENOMEM (reported too).
 */
int hooks_conf_parse(const json_t *array, const char *path, struct hooks_conf **out,
		     hooks_conf_report_fn *report, void *ctx);

/* hooks_conf_free - accepts NULL. */
void hooks_conf_free(struct hooks_conf *c);

/*
 * hooks_conf_check - load every plugin of the configuration (without
 * calling it) and check its ABI version, and look for every command, as
 * --check-config does. Each problem goes to report, naming the hook, the
 * plugin, and both ABI versions when they differ. Returns how many.
 */
int hooks_conf_check(const struct hooks_conf *c, hooks_conf_report_fn *report, void *ctx);

/*
 * hooks_start - a running set for conf (taken over, freed with the set):
 * starts one worker thread per action hook; loads nothing yet. Counters of
 * hooks in prev (may be NULL) with the same name carry over. Returns 0,
 * -ENOMEM, or the error of pthread_create.
 */
int hooks_start(struct hooks_conf *conf, const struct hooks *prev, struct hooks **out);

/* How long a stopping writer lets the action queues empty. */
#define HOOKS_STOP_WAIT_MS 5000

/*
 * hooks_stop - let the action workers empty their queues for up to wait_ms,
 * then stop them (commands get EOF, then SIGKILL), print each hook's
 * counters to report (when not NULL), finish the plugins and free the set.
 * A worker stuck in a plugin is left behind with its memory. Accepts NULL.
 */
void hooks_stop(struct hooks *h, int wait_ms, FILE *report);

/*
 * hooks_replace - start a set for conf (NULL: no hooks), make it the one
 * *slot points at, and stop the old one on a thread of its own, so that a
 * reload never waits on a slow hook. On error conf is freed and the old set
 * stays. Returns 0 or a negative errno.
 */
int hooks_replace(struct hooks **slot, struct hooks_conf *conf);

/* What the drain asks to be told before a filter hook runs on an entry
 * (writer/poison.c). */
struct hooks_watch {
	bool active;    /* false: not called */
	void (*before)(struct hooks_watch *w, const struct batch_entry *be, const char *hook);
};

/*
 * hooks_filter - run the filter chain over b, in configuration order:
 * dropped entries leave the batch, rewritten ones point at records the set
 * owns until the next call. Renumbers seq to stay consecutive from the
 * first entry's. Returns how many entries were dropped. NULL h: nothing.
 * When no sink takes the batch the drain retries the round later, and the
 * filters see (and count) its entries again. watch (may be NULL), when
 * active, is told of each call before it is made.
 */
size_t hooks_filter(struct hooks *h, struct batch *b, struct hooks_watch *watch);

/* hooks_have_filters - whether the set runs filter hooks (NULL: false). */
bool hooks_have_filters(const struct hooks *h);

/*
 * hooks_dispatch - queue each entry of b for the action hooks it matches;
 * copies what they need and never blocks: a full queue counts a drop.
 */
void hooks_dispatch(struct hooks *h, const struct batch *b);

/* hooks_idle - whether every queued entry is done with (NULL h: true). */
bool hooks_idle(const struct hooks *h);

/*
 * hooks_metrics - copy the counters of up to cap hooks into out, in
 * configuration order; returns how many hooks the set has. For the stats
 * publisher: reading never blocks a hook.
 */
size_t hooks_metrics(const struct hooks *h, struct hook_metrics *out, size_t cap);
