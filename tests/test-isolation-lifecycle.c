/* SPDX-License-Identifier: MIT */
/* Description: registered clients come and go. 1,000 short-lived
 * logbus-cat runs in a row of a non-root user on a default bus all land,
 * each exiting 0; a client SIGKILLed with entries in its lane while no
 * writer runs (the writer was SIGKILLed first) has them all drained
 * exactly once by the next writer; a live client reattaches by itself
 * after a writer restart (its later entries land and the registry shows
 * its slot bound to the new registrar run); a client in another PID
 * namespace (unshare -p) gets its entry stamped with its pid as the
 * writer sees it, not 1. Needs root (to make the users, and for
 * unshare). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "logbus.h"
#include "registry.h"
#include "users.h"

#define RUNS 1000
#define BATCH 1000
#define WAIT_MS 60000

/* Every entry of tag in the output is "<n>" for n in 0..count-1, each
 * exactly once, and of pid when pid > 0. */
static void expect_once(const struct harness *h, const char *tag, int count, pid_t pid)
{
	json_t *e = harness_tagged(h, tag), *x;
	uint8_t *seen = calloc((size_t)count, 1);
	size_t i;

	json_array_foreach (e, i, x) {
		const char *msg = json_string_value(json_object_get(x, "msg"));
		long n = msg ? strtol(msg, NULL, 10) : -1;
		if (n < 0 || n >= count)
			fail_msg("%s entry %zu is '%s'", tag, i, msg ? msg : "(none)");
		if (pid > 0 && json_integer_value(json_object_get(x, "pid")) != pid)
			fail_msg("%s entry '%s' has pid %lld, want %d", tag, msg,
				 (long long)json_integer_value(json_object_get(x, "pid")), (int)pid);
		seen[n]++;
	}
	for (int n = 0; n < count; n++)
		if (seen[n] != 1)
			fail_msg("%s entry %d written %u times", tag, n, seen[n]);
	free(seen);
	json_decref(e);
}

/* 1,000 logbus-cat runs in a row, as the victim user, on a default bus:
 * each exits 0, and every line lands once. */
static void test_thousand_runs(void **state)
{
	struct harness *h = *state;
	struct test_user u;
	char msg[16], err[300];

	if (!users_available())
		skip();
	users_get(USERS_VICTIM, &u);
	snprintf(err, sizeof(err), "%s.err", h->dir);
	harness_start_writer(h, NULL);
	for (int n = 0; n < RUNS; n++) {
		int st;
		snprintf(msg, sizeof(msg), "%d", n);
		st = users_cat(&u, h->bus, (const char *const[]){ "-t", "short", msg, NULL }, err);
		if (st != 0) {
			char line[512] = "";
			FILE *f = fopen(err, "re");
			while (f && fgets(line, sizeof(line), f))
				continue;
			if (f)
				fclose(f);
			fail_msg("run %d exited %d: %s", n, st, line);
		}
	}
	harness_stop_writer(h);
	expect_once(h, "short", RUNS, 0);
}

/* What a client process and the test tell each other. */
struct client {
	char bus[64];
	char tag[16];
	_Atomic int phase;        /* the client: the batch it finished (1, 2, 3) */
	_Atomic int go;           /* the test: the batch it may publish next */
	int failures;             /* publishes, or flushes, that did not return 0 */
};

/* Publish batch b (entries b * BATCH .. b * BATCH + BATCH - 1). */
static void publish_batch(struct client *c, logbus_t *lb, int b)
{
	for (int n = b * BATCH; n < (b + 1) * BATCH; n++) {
		char msg[16];
		int len = snprintf(msg, sizeof(msg), "%d", n);
		c->failures += logbus_publish(lb, LOGBUS_INFO, c->tag, msg, (size_t)len) != 0;
	}
}

/* Three batches, each when the test says go; the first and the last
 * flushed (a writer runs then), the second not (none runs). Then it
 * waits for go 4 and exits 0 when nothing failed. */
static int client_main(void *arg)
{
	struct client *c = arg;
	logbus_t *lb = logbus_open(c->bus);

	if (!lb)
		return 1;
	for (int b = 0; b < 3; b++) {
		while (atomic_load(&c->go) <= b)
			harness_sleep_us(1000);
		publish_batch(c, lb, b);
		if (b != 1)
			c->failures += logbus_flush(lb, WAIT_MS) != 0;
		atomic_store(&c->phase, b + 1);
	}
	while (atomic_load(&c->go) < 4)
		harness_sleep_us(1000);
	logbus_close(lb);
	return c->failures ? 1 : 0;
}

static pid_t client_start(struct client *c, const struct harness *h, const char *tag)
{
	struct test_user u;

	users_get(USERS_VICTIM, &u);
	snprintf(c->bus, sizeof(c->bus), "%s", h->bus);
	snprintf(c->tag, sizeof(c->tag), "%s", tag);
	return users_fork(&u, client_main, c);
}

/* Let the client publish batch b and wait until it did. */
static void client_batch(struct client *c, pid_t pid, int b)
{
	atomic_store(&c->go, b + 1);
	for (int ms = 0; atomic_load(&c->phase) < b + 1; ms++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid)
			fail_msg("the client exited (status 0x%x) before its batch %d", st, b);
		if (ms >= WAIT_MS)
			fail_msg("the client's batch %d did not end in %d s", b, WAIT_MS / 1000);
		harness_sleep_us(1000);
	}
}

/* The writer is SIGKILLed; while none runs, a client with entries in its
 * lane is SIGKILLed too. The next writer drains every one of them, once,
 * and frees the dead client's lane. */
static void test_writer_killed_client_dies(void **state)
{
	static const char *const four_lanes[] = { "--lanes", "4", "--lane-size", "1M", NULL };
	struct harness *h = *state;
	struct client *c = harness_shared(sizeof(*c));
	pid_t pid;

	if (!users_available())
		skip();
	harness_start_writer(h, four_lanes);
	pid = client_start(c, h, "dies");
	client_batch(c, pid, 0);
	harness_kill_writer(h);
	client_batch(c, pid, 1);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	harness_start_writer(h, four_lanes);
	harness_wait_free_lanes(h, 4);
	harness_stop_writer(h);
	expect_once(h, "dies", 2 * BATCH, pid);
}

/* The slot pid holds in the registry: -1 when none; else its state, with
 * *bound telling whether the current registrar run holds it. */
static int slot_of(const struct harness *h, pid_t pid, bool *bound)
{
	struct lb_registry reg;
	int state = -1;

	assert_int_equal(lb_registry_view(h->bus, &reg), 0);
	for (uint32_t i = 0; i < reg.slot_count && state < 0; i++) {
		const struct lb_slot *s = &reg.slots[i];
		if (s->who.pid != (uint32_t)pid)
			continue;
		state = (int)atomic_load_explicit(&s->state, memory_order_acquire);
		*bound = s->run == atomic_load(&reg.hdr->run);
	}
	lb_registry_close(&reg);
	return state;
}

/* A live client keeps publishing across a writer SIGKILL and restart:
 * what it published while no writer ran and after the restart lands, and
 * its slot is bound again, without the client doing anything. */
static void test_client_reattaches(void **state)
{
	struct harness *h = *state;
	struct client *c = harness_shared(sizeof(*c));
	bool bound = false;
	int slot_state;
	pid_t pid;

	if (!users_available())
		skip();
	harness_start_writer(h, NULL);
	pid = client_start(c, h, "again");
	client_batch(c, pid, 0);
	harness_kill_writer(h);
	client_batch(c, pid, 1);
	harness_start_writer(h, NULL);
	client_batch(c, pid, 2);
	slot_state = slot_of(h, pid, &bound);
	if (slot_state != LB_SLOT_GRANTED || !bound)
		fail_msg("the client's slot: state %d, %s the new registrar's; want %d (granted), bound",
			 slot_state, bound ? "bound to" : "not bound to", LB_SLOT_GRANTED);
	atomic_store(&c->go, 4);
	harness_wait_exit(pid, 0);
	harness_stop_writer(h);
	expect_once(h, "again", 3 * BATCH, pid);
}

/* Whether the file path holds a first line equal to want. */
static bool first_line_is(const char *path, const char *want)
{
	char line[256];
	FILE *f = fopen(path, "re");
	bool same = f && fgets(line, sizeof(line), f) && !strcmp(line, want);

	if (f)
		fclose(f);
	return same;
}

/* The pid of a child of parent whose command is comm, or 0. */
static pid_t child_named(pid_t parent, const char *comm)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char want[64];
	pid_t found = 0;

	assert_non_null(d);
	snprintf(want, sizeof(want), "%s\n", comm);
	while (!found && (de = readdir(d))) {
		char path[300], line[512], *end;
		int ppid;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if (!(f = fopen(path, "re")))
			continue;
		/* "pid (comm) state ppid ...": comm may hold anything. */
		if (fgets(line, sizeof(line), f) && (end = strrchr(line, ')')) &&
		    sscanf(end + 1, " %*c %d", &ppid) == 1 && ppid == parent) {
			snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
			if (first_line_is(path, want))
				found = (pid_t)atoi(de->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* logbus-cat in a new PID namespace, where it is pid 1: its entry
 * carries its pid in the writer's namespace, while the pid it says of
 * itself (-i: the field syslog_pid) is 1. */
static void test_pid_namespace(void **state)
{
	struct harness *h = *state;
	const char *cat = getenv("LOGBUS_TEST_CAT");
	const char *const probe[] = { "/usr/bin/unshare", "-p", "-f", "--mount-proc", "/bin/true",
				      NULL };
	const char *const argv[] = { "/usr/bin/unshare", "-p", "-f", "--mount-proc", cat, "-b",
				     h->bus, "-t", "ns", "-i", NULL };
	pid_t unshare, inner = 0;
	int in[2];
	json_t *e;

	if (!users_available())
		skip();
	assert_non_null(cat);
	if (users_run(NULL, probe, NULL) != 0)
		skip();   /* no PID namespaces here */
	harness_start_writer(h, NULL);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	unshare = harness_fork();
	if (unshare == 0) {
		if (dup2(in[0], STDIN_FILENO) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	for (int ms = 0; ms < WAIT_MS && !(inner = child_named(unshare, "logbus-cat")); ms++)
		harness_sleep_us(1000);
	assert_true(inner > 0);
	assert_int_equal(write(in[1], "hello\n", 6), 6);
	close(in[1]);
	harness_wait_exit(unshare, 0);
	harness_stop_writer(h);
	e = harness_tagged(h, "ns");
	assert_int_equal(json_array_size(e), 1);
	harness_expect_str(e, 0, "msg", "hello");
	harness_expect_str(e, 0, "fields.syslog_pid", "1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(e, 0), "pid")), inner);
	printf("# pid namespace: logbus-cat is pid 1 in its namespace, %d in the writer's, "
	       "and its entry says %d\n", (int)inner, (int)inner);
	json_decref(e);
}

static int setup(void **state)
{
	*state = harness_new("lifecycle");
	return 0;
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_thousand_runs),
		TEST(test_writer_killed_client_dies),
		TEST(test_client_reattaches),
		TEST(test_pid_namespace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
