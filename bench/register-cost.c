/* SPDX-License-Identifier: MIT */
/*
 * register-cost - what registering with the writer costs a client, and how
 * soon a client's lane comes back once it is gone.
 *
 * SYNOPSIS
 *	register-cost [--mode open|cat|reclaim] [--runs N] [--end exit|kill]
 *	              [--cat PATH] [--lanes N] [--lane-size BYTES] [--out DIR]
 *	              [--label TEXT]
 *
 * DESCRIPTION
 *	Every mode starts a private logbus-writer with --lanes lanes of
 *	--lane-size bytes (the writer's defaults, 32 of 4M: each grant makes
 *	a lane file of that size, every byte allocated, and the client maps
 *	all of it), its files under --out (default $TMPDIR), and prints one
 *	JSON object on stdout: the quantiles of --runs samples, in ns.
 *
 *	open: in one process, N times logbus_open, a first publish (which
 *	connects to the registrar and is granted a lane) and logbus_close,
 *	each timed as a whole (CLOCK_MONOTONIC), and its two parts:
 *	open and publish, close. A publish refused for want of a free lane
 *	(-ENOSPC: every slot released but not yet freed by the writer) is
 *	counted in "refused", any other failure in "failed".
 *	cat: N whole runs of `logbus-cat -b BUS MESSAGE` (--cat), each from
 *	fork to its exit, beside N runs of `logbus-cat --version` (which
 *	starts the same program and never registers) as the baseline.
 *	reclaim: N clients in turn, each a child process that publishes, waits
 *	until its entry is written, and ends (--end exit: _exit(0) without
 *	logbus_close; kill: SIGKILLed); timed from its end (the time stamp
 *	taken just before) to its lane slot's FREE in the writer's registry,
 *	polled: the writer's reclaim delay.
 *
 * EXIT STATUS
 *	0 measured; 1 something failed (one line on stderr says what).
 *
 * EXAMPLES
 *	register-cost --mode open --runs 5000
 *	register-cost --mode cat --cat build/libclient/logbus-cat --runs 500
 *	register-cost --mode reclaim --end kill --runs 500
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "logbus.h"
#include "registry.h"

struct options {
	const char *mode, *end, *cat, *lanes, *lane_size, *out, *label;
	size_t runs;
};

static struct options o;

/* Samples are in ns already: the quantiles' clock is the identity. */
static const struct bench_tsc ns_clock = { .ns_per_tick = 1.0 };

/* Print the quantiles of n samples (sorted here) as one JSON object, with
 * extra members (a string starting with ',' or ""). */
static void report(uint64_t *ns, size_t n, size_t failed, const char *extra)
{
	struct bench_quantiles q;

	bench_sort(ns, n);
	bench_quantiles(ns, n, &ns_clock, &q);
	printf("{\"bench\":\"register-cost\",\"label\":\"%s\",\"mode\":\"%s\",\"runs\":%zu,"
	       "\"failed\":%zu,\"lanes\":\"%s\",\"lane_size\":\"%s\",",
	       o.label, o.mode, n, failed, o.lanes, o.lane_size);
	bench_json_quantiles(stdout, &q);
	printf("%s}\n", extra);
}

/* "name_p50_ns":..,"name_p99_ns":.. of n samples (sorted here), into out. */
static void part(char *out, size_t cap, const char *name, uint64_t *ns, size_t n)
{
	struct bench_quantiles q;

	bench_sort(ns, n);
	bench_quantiles(ns, n, &ns_clock, &q);
	snprintf(out + strlen(out), cap - strlen(out), ",\"%s_p50_ns\":%.1f,\"%s_p99_ns\":%.1f",
		 name, q.p50, name, q.p99);
}

/* open: logbus_open, a first publish, logbus_close, as one sample; and
 * its two parts: open and publish (the registration), close (the
 * release, which waits for the registrar to take it). */
static int run_open(const struct bench_writer *w)
{
	uint64_t *ns = calloc(o.runs, sizeof(*ns)), *reg = calloc(o.runs, sizeof(*reg));
	uint64_t *rel = calloc(o.runs, sizeof(*rel));
	char extra[200] = "";
	size_t failed = 0, refused = 0;

	if (!ns || !reg || !rel)
		bench_fail("calloc", ENOMEM);
	for (size_t i = 0; i < o.runs; i++) {
		uint64_t t0 = bench_now_ns(), t1;
		logbus_t *lb = logbus_open(w->bus);
		int r = lb ? logbus_publish(lb, LOGBUS_INFO, "register", "first", 5) : -errno;
		t1 = bench_now_ns();
		refused += r == -ENOSPC;
		failed += r != 0 && r != -ENOSPC;
		logbus_close(lb);
		ns[i] = bench_now_ns() - t0;
		reg[i] = t1 - t0;
		rel[i] = ns[i] - reg[i];
	}
	snprintf(extra, sizeof(extra), ",\"refused\":%zu", refused);
	part(extra, sizeof(extra), "open_publish", reg, o.runs);
	part(extra, sizeof(extra), "close", rel, o.runs);
	report(ns, o.runs, failed, extra);
	free(ns);
	free(reg);
	free(rel);
	return failed ? 1 : 0;
}

/* Run argv to its end; its duration in ns, with *ok telling exit 0. */
static uint64_t run_timed(const char *const *argv, bool *ok)
{
	uint64_t t0 = bench_now_ns();
	pid_t pid = fork();
	int st;

	if (pid < 0)
		bench_fail("fork", errno);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	*ok = waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	return bench_now_ns() - t0;
}

/* cat: whole logbus-cat runs, beside its --version as the baseline. */
static int run_cat(const struct bench_writer *w)
{
	const char *const cat[] = { o.cat, "-b", w->bus, "-t", "register", "first", NULL };
	const char *const version[] = { o.cat, "--version", NULL };
	uint64_t *ns = calloc(o.runs, sizeof(*ns)), *base = calloc(o.runs, sizeof(*base));
	char extra[200] = ",\"baseline\":\"logbus-cat --version\"";
	size_t failed = 0;
	bool ok;

	if (!ns || !base)
		bench_fail("calloc", ENOMEM);
	for (size_t i = 0; i < o.runs; i++) {
		base[i] = run_timed(version, &ok);
		failed += !ok;
		ns[i] = run_timed(cat, &ok);
		failed += !ok;
	}
	part(extra, sizeof(extra), "baseline", base, o.runs);
	report(ns, o.runs, failed, extra);
	free(ns);
	free(base);
	return failed ? 1 : 0;
}

/* What a reclaim client and the parent tell each other. */
struct reclaim_shared {
	atomic_int ready;             /* LMM(ready:A) pairs with the parent's acquire spin */
	atomic_int go;                /* LMM(go:A) pairs with the child's acquire spin */
	_Atomic uint64_t end_ns;      /* when the client ended */
};

/* The client: publish, wait until written, say so, end when told. */
static _Noreturn void reclaim_client(struct reclaim_shared *sh, const char *bus)
{
	logbus_t *lb = logbus_open(bus);

	if (!lb || logbus_publish(lb, LOGBUS_INFO, "reclaim", "gone", 4) != 0 ||
	    logbus_flush(lb, 10000) != 0)
		_exit(1);
	/* LMM(ready:A) pairs with wait_slot: its lane is granted and drained */
	atomic_store_explicit(&sh->ready, 1, memory_order_release);
	/* LMM(go:B) pairs with the parent's release store */
	while (!atomic_load_explicit(&sh->go, memory_order_acquire))
		sched_yield();
	atomic_store_explicit(&sh->end_ns, bench_now_ns(), memory_order_relaxed);
	_exit(0);
}

/* The slot that pid holds, GRANTED, in reg; -1 when none. */
static int slot_of(const struct lb_registry *reg, pid_t pid)
{
	for (uint32_t i = 0; i < reg->slot_count; i++) {
		const struct lb_slot *s = &reg->slots[i];
		if (s->who.pid == (uint32_t)pid &&
		    atomic_load_explicit(&s->state, memory_order_acquire) == LB_SLOT_GRANTED)
			return (int)i;
	}
	return -1;
}

/* One client's reclaim delay in ns, or 0 when the client failed. */
static uint64_t reclaim_once(struct reclaim_shared *sh, const struct lb_registry *reg,
			     const char *bus)
{
	pid_t pid;
	uint64_t end;
	int slot, st;

	*sh = (struct reclaim_shared){ 0 };
	if ((pid = fork()) < 0)
		bench_fail("fork", errno);
	if (pid == 0)
		reclaim_client(sh, bus);
	while (!atomic_load_explicit(&sh->ready, memory_order_acquire))
		if (waitpid(pid, &st, WNOHANG) == pid)
			return 0;
	if ((slot = slot_of(reg, pid)) < 0)
		bench_fail("the client's slot is not in the registry", ENOENT);
	if (!strcmp(o.end, "kill")) {
		atomic_store_explicit(&sh->end_ns, bench_now_ns(), memory_order_relaxed);
		(void)kill(pid, SIGKILL);
	}
	/* LMM(go:A) pairs with the client's acquire spin */
	atomic_store_explicit(&sh->go, 1, memory_order_release);
	while (atomic_load_explicit(&reg->slots[slot].state, memory_order_acquire) != LB_SLOT_FREE)
		sched_yield();
	end = bench_now_ns();
	if (waitpid(pid, &st, 0) != pid || (WIFEXITED(st) && WEXITSTATUS(st) != 0))
		return 0;
	/* After waitpid: the child's store of end_ns is visible. */
	return end - atomic_load_explicit(&sh->end_ns, memory_order_relaxed);
}

/* reclaim: from a client's end to its slot FREE. */
static int run_reclaim(const struct bench_writer *w)
{
	struct reclaim_shared *sh = bench_shared(sizeof(*sh));
	uint64_t *ns = calloc(o.runs, sizeof(*ns));
	struct lb_registry reg;
	size_t n = 0, failed = 0;
	char extra[64];
	int r;

	if (!ns)
		bench_fail("calloc", ENOMEM);
	if ((r = lb_registry_view(w->bus, &reg)) < 0)
		bench_fail("the writer's registry", -r);
	for (size_t i = 0; i < o.runs; i++) {
		uint64_t d = reclaim_once(sh, &reg, w->bus);
		if (d)
			ns[n++] = d;
		else
			failed++;
	}
	lb_registry_close(&reg);
	snprintf(extra, sizeof(extra), ",\"end\":\"%s\"", o.end);
	report(ns, n, failed, extra);
	free(ns);
	return failed ? 1 : 0;
}

static _Noreturn void usage_exit(void)
{
	fputs("Usage: register-cost [--mode open|cat|reclaim] [--runs N] [--end exit|kill]\n"
	      "         [--cat PATH] [--lanes N] [--lane-size BYTES] [--out DIR] [--label TEXT]\n",
	      stderr);
	exit(1);
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", 1, NULL, 'm' }, { "runs", 1, NULL, 'n' }, { "end", 1, NULL, 'e' },
		{ "cat", 1, NULL, 'c' },  { "lanes", 1, NULL, 'L' }, { "lane-size", 1, NULL, 'S' },
		{ "out", 1, NULL, 'o' },  { "label", 1, NULL, 'l' }, { 0 },
	};
	int c;

	o = (struct options){ .mode = "open", .end = "exit", .lanes = "32", .lane_size = "4M",
			      .label = "", .runs = 1000 };
	while ((c = getopt_long(argc, argv, "m:n:e:c:L:S:o:l:", opts, NULL)) != -1) {
		switch (c) {
		case 'm': o.mode = optarg; break;
		case 'n': o.runs = (size_t)bench_number(optarg); break;
		case 'e': o.end = optarg; break;
		case 'c': o.cat = optarg; break;
		case 'L': o.lanes = optarg; break;
		case 'S': o.lane_size = optarg; break;
		case 'o': o.out = optarg; break;
		case 'l': o.label = optarg; break;
		default: usage_exit();
		}
	}
	if (optind < argc || !o.runs || (strcmp(o.end, "exit") && strcmp(o.end, "kill")) ||
	    (strcmp(o.mode, "open") && strcmp(o.mode, "cat") && strcmp(o.mode, "reclaim")))
		usage_exit();
	if (!strcmp(o.mode, "cat") && !o.cat)
		bench_fail("--cat: the mode cat needs the path of logbus-cat", EINVAL);
}

int main(int argc, char **argv)
{
	struct bench_writer w;
	const char *extra[] = { "--lanes", NULL, "--lane-size", NULL, NULL };
	int r;

	parse_args(argc, argv);
	extra[1] = o.lanes;
	extra[3] = o.lane_size;
	if (o.out && setenv("TMPDIR", o.out, 1) < 0)
		bench_fail("setenv TMPDIR", errno);
	if ((r = bench_writer_start(&w, o.mode, extra)) < 0)
		bench_fail("logbus-writer", -r);
	if (!strcmp(o.mode, "open"))
		r = run_open(&w);
	else if (!strcmp(o.mode, "cat"))
		r = run_cat(&w);
	else
		r = run_reclaim(&w);
	if (w.pid > 0 && bench_writer_stop(&w) != 0)
		r = 1;
	bench_writer_cleanup(&w);
	return r;
}
