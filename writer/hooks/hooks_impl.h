/* SPDX-License-Identifier: MIT */
/* The inside of the hook engine, shared by writer/hooks/hooks*.c only. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "hooks.h"
#include "identity.h"
#include "logbus-hook.h"
#include "record.h"

#define HOOK_TIMEOUT_MS_DEFAULT 5000
#define HOOK_QUEUE_DEFAULT 1024
#define HOOK_RESTART_MIN_MS 100
#define HOOK_RESTART_MAX_MS 30000
/* Entries a command without acknowledgements is fed in one write. */
#define HOOK_BATCH_MAX 256

enum hook_type { HOOK_FILTER, HOOK_ACTION };

struct hook_field_match {
	char *key;
	char *value;            /* NULL: the field must be present */
};

struct hook_match {
	uint8_t level_min, level_max;   /* severities, inclusive */
	char *tag;                      /* fnmatch glob, NULL: any */
	struct hook_field_match *fields;
	size_t nfields;
};

/* One hook as configured; immutable once parsed. */
struct hook_conf {
	char *name;
	enum hook_type type;
	char *plugin;           /* a shared object, or */
	char **argv;            /* a command, NULL-terminated */
	char *config;           /* JSON text for the plugin's init */
	struct hook_match match;
	unsigned timeout_ms;
	unsigned queue;         /* action queue length */
	bool confirm;           /* commands: one "OK" line per entry */
	size_t *after;          /* indexes of the hooks this one waits for */
	size_t nafter;
};

struct hooks_conf {
	struct hook_conf *hooks;
	size_t count;
};

/* Counters, shared between the sets of one name across reloads. Written
 * by one thread at a time per counter group; read by the stats publisher:
 * relaxed atomics, as no other memory depends on them. */
struct hook_counters {
	_Atomic uint64_t matched, calls, ok, dropped, rewritten, errors, timeouts, queue_drops,
		restarts, time_ns_sum, time_ns_max;
	_Atomic unsigned refs;
};

/* A plugin as loaded by one hook instance. */
struct hook_plugin {
	int state;              /* PLUGIN_UNLOADED, PLUGIN_READY, PLUGIN_FAILED */
	void *dl;
	const struct logbus_hook_plugin *desc;
	void *data;             /* what init returned */
};

enum { PLUGIN_UNLOADED, PLUGIN_READY, PLUGIN_FAILED };

/* A command kept running by its worker. */
struct hook_command {
	pid_t pid;              /* 0: not running */
	int in_fd, out_fd;      /* its stdin; its stdout when confirm */
	unsigned backoff_ms;
	uint64_t not_before_ns; /* no restart before this (monotonic) */
	bool started_once;
	bool failing;           /* the last start or call failed (said once) */
	struct lb_buf line;
	char ack[256];
	size_t ack_len;
};

struct hook_job;

/* A bounded queue of jobs, for one action hook. */
struct hook_queue {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct hook_job **ring;
	size_t cap, head, count;
};

struct hook {
	const struct hook_conf *c;
	size_t index;                 /* in the set */
	struct hook_counters *n;
	struct hook_plugin plugin;
	struct hook_command cmd;
	struct hook_queue q;
	pthread_t thread;
	bool has_thread;
	size_t *dependents;           /* hooks whose after names this one */
	size_t ndependents;
};

struct hooks {
	struct hooks_conf *conf;
	struct hook *hooks;
	size_t count;
	bool any_filter, any_action;
	_Atomic bool stopping;        /* LMM(hooks_stop:A) pairs with worker_next:A */
	_Atomic bool abandon;         /* give up on the queues */
	_Atomic uint64_t jobs_live;   /* jobs some action hook still has to finish */
	void **rewrites;              /* records of rewritten entries, this batch */
	size_t nrewrites, rewrites_cap;
};

/* An entry copied for the action hooks, shared by those it matched. */
struct hook_job {
	_Atomic unsigned refs;        /* hooks that still have to finish it */
	uint64_t mask;                /* the action hooks it matched */
	_Atomic uint8_t pending[HOOKS_MAX]; /* per hook: hooks of its after still running */
	struct lb_entry e;
	uint64_t ts_ns, seq;
	uint32_t lane;
	/* A copy of the entry's identity, for the batch's is gone once the
	 * job outlives it; who points to it, or is NULL (none). */
	struct lb_client_identity who_copy;
	const struct lb_client_identity *who;
	char data[];                  /* tag, msg, fields */
};

/* hooks_match.c */
bool hook_matches(const struct hook_match *m, const struct lb_entry *e);

/* hooks_plugin.c */
int hook_plugin_open(const struct hook_conf *c, void **dl,
		     const struct logbus_hook_plugin **desc, char *err, size_t errlen);
bool hook_plugin_ready(struct hook *h);
void hook_plugin_close(struct hook *h);
void hook_entry_view(const struct lb_entry *e, uint64_t ts_ns, uint64_t seq,
		     const struct lb_client_identity *who, struct logbus_hook_field *fields,
		     struct logbus_hook_entry *v);

/* hooks_command.c */
int hook_command_call(struct hook *h, const struct hook_job *const *j, size_t n,
		      const _Atomic bool *stop);
void hook_command_end(struct hook *h);

/* hooks_action.c */
int hook_workers_start(struct hooks *set);
int hook_thread_create(pthread_t *t, void *(*fn)(void *), void *arg);
void hook_workers_stop(struct hooks *set, int wait_ms);

/* hooks.c */
uint64_t hook_now_ns(void);
void hook_count(_Atomic uint64_t *c, uint64_t v);
void hook_count_time(struct hook *h, uint64_t calls, uint64_t ns);
void hook_say(const struct hook *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
