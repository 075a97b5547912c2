/* SPDX-License-Identifier: MIT */
/* Description: after warm-up, publishing makes no system call but the
 * doorbell's futex wake: 1,000,000 publishes run under a seccomp filter
 * that ends the process on any other call, and the wakes they made are no
 * more than the writer's sleeps. The same holds under the overflow policy
 * "block" while the lane has room: 60,000 publishes that fit in the
 * emptied lane, under the same filter. */
#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus.h"
#include "doorbell.h"
#include "harness.h"
#include "logbus.h"

#define PUBLISHES 1000000u
#define WARMUP 1000u
/* Records of "n <i>" under tag "nosys" take at most 64 bytes: 60,000 of
 * them fit in the 4 MiB lane, so a blocking publish never has to wait. */
#define BLOCK_PUBLISHES 60000u
#define LANE_SIZE (4u << 20)
_Static_assert(BLOCK_PUBLISHES * 64u < LANE_SIZE, "the block-mode run fits in the lane");
#define EXIT_TRAPPED 99

/* What the filtered child tells the test, through MAP_SHARED memory: it
 * cannot write(2) once the filter is in place. */
struct report {
	int filtered;          /* the filter was installed */
	int bad_syscall;       /* number of a forbidden call it made, or -1 */
	uint64_t written;      /* publishes under the filter that returned 0 */
	uint64_t eagain;       /* retries because the lane was full */
	uint64_t failed;       /* publishes that returned anything else */
	struct logbus_stats stats;
};

static struct report *report;

/* End the process with the bare exit_group call the filter allows. Not
 * _exit: a sanitizer runtime intercepts it and runs its own exit code
 * (ASan's calls sigaltstack), which is not the publish path under test. */
static _Noreturn void exit_now(int status)
{
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

/* A forbidden call: note which, and end the process (exit_group is one of
 * the calls the filter allows). */
static void on_sigsys(int sig, siginfo_t *info, void *uc)
{
	(void)sig;
	(void)uc;
	report->bad_syscall = info->si_syscall;
	exit_now(EXIT_TRAPPED);
}

/* Allow only FUTEX_WAKE (the doorbell), exit and exit_group; any other
 * call traps into on_sigsys. The context is not released: freeing it
 * could call munmap, and the process ends right after the publishes. */
static int filter_install(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);

	if (!ctx || sigaction(SIGSYS, &sa, NULL) < 0)
		return -1;
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 1,
			     SCMP_A1(SCMP_CMP_EQ, FUTEX_WAKE)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit), 0) < 0)
		return -1;
	return seccomp_load(ctx);
}

/* Publish "n <i>", spinning (sleeping is a system call) while the lane is
 * full. */
static int publish_spin(logbus_t *lb, const char *tag, uint64_t i)
{
	char msg[32];
	int len = snprintf(msg, sizeof(msg), "n %" PRIu64, i);
	int r;

	while ((r = logbus_publish(lb, LOGBUS_INFO, tag, msg, (size_t)len)) == -EAGAIN)
		report->eagain++;
	return r;
}

/* The child: open, warm up (claims the lane), install the filter, publish
 * n entries, report, exit. With block, the overflow policy is "block" and
 * the lane is emptied (a flush) before the filter goes in, so that the n
 * publishes have room. */
static void child(const char *bus, uint64_t n, bool block)
{
	struct rlimit no_core = { 0, 0 };
	logbus_t *lb = logbus_open(bus);

	if (!lb || setrlimit(RLIMIT_CORE, &no_core) < 0)
		_exit(1);
	if (block && logbus_set_overflow(lb, LOGBUS_OVERFLOW_BLOCK, -1) != 0)
		_exit(1);
	for (uint64_t i = 0; i < WARMUP; i++)
		if (publish_spin(lb, "warm", i) != 0)
			_exit(2);
	if (block && logbus_flush(lb, 20000) != 0)
		_exit(2);
	if (filter_install() < 0)
		_exit(3);
	report->filtered = 1;
	for (uint64_t i = 0; i < n; i++) {
		if (publish_spin(lb, "nosys", i) == 0)
			report->written++;
		else
			report->failed++;
	}
	(void)logbus_stats_get(lb, &report->stats);
	exit_now(0);
}

/* Wait for the child; fail naming the system call it made, if any. */
static void child_wait(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (report->bad_syscall >= 0) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
							     report->bad_syscall);
		fail_msg("the publishing process made system call %d (%s) under the filter "
			 "after %" PRIu64 " publishes", report->bad_syscall, name ? name : "?",
			 report->written);
	}
	if (!WIFEXITED(st))
		fail_msg("the publishing process died: status 0x%x", st);
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(report->filtered, 1);
}

/* The writer's sleeps so far, from the bus header. */
static uint64_t writer_sleeps(const struct harness *h)
{
	struct lb_bus bus;
	uint64_t sleeps;

	assert_int_equal(lb_bus_attach(h->bus, false, &bus, NULL), 0);
	sleeps = lb_doorbell_sleeps(&bus);
	lb_bus_detach(&bus);
	return sleeps;
}

/* Which of the filtered publishes the writer wrote, by number. */
struct seen {
	uint8_t *count;
	uint64_t total;
	uint64_t expected;
};

static void seen_entry(json_t *e, void *ctx)
{
	struct seen *s = ctx;
	const char *tag = json_string_value(json_object_get(e, "tag"));
	const char *msg = json_string_value(json_object_get(e, "msg"));
	uint64_t n;

	if (!tag || strcmp(tag, "nosys"))
		return;
	if (!msg || sscanf(msg, "n %" SCNu64, &n) != 1 || n >= s->expected)
		fail_msg("unexpected entry '%s'", msg ? msg : "(no msg)");
	if (s->count[n]++)
		fail_msg("entry %" PRIu64 " written twice", n);
	s->total++;
}

/* n publishes under the filter, in drop or block mode: the process lives,
 * every entry is written, and it woke the writer no more often than the
 * writer slept. */
static void run_filtered(struct harness *h, uint64_t n, bool block)
{
	static const char *const geometry[] = { "--lanes", "2", "--lane-size", "4M", NULL };
	struct seen seen = { .count = calloc(n, 1), .expected = n };
	pid_t pid;

	assert_non_null(seen.count);
	report = harness_shared(sizeof(*report));
	report->bad_syscall = -1;
	harness_start_writer(h, geometry);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child(h->bus, n, block);
	child_wait(pid);

	assert_int_equal(report->written, n);
	assert_int_equal(report->failed, 0);
	assert_int_equal(report->stats.queued, WARMUP + n);
	assert_int_equal(report->stats.dropped_full, report->eagain);
	if (block) {
		assert_int_equal(report->eagain, 0);
		assert_int_equal(report->stats.blocked, 0);
	}
	if (report->stats.wakes > writer_sleeps(h))
		fail_msg("%" PRIu64 " wakes but the writer slept only %" PRIu64 " times",
			 report->stats.wakes, writer_sleeps(h));

	harness_stop_writer(h);
	harness_each_entry(h, seen_entry, &seen);
	assert_int_equal(seen.total, n);
	free(seen.count);
}

/* Drop mode: 1,000,000 publishes, retrying (spinning) when the lane is full. */
static void test_no_syscall(void **state)
{
	run_filtered(*state, PUBLISHES, false);
}

/* Block mode, while the lane has room: no system call either. */
static void test_no_syscall_block(void **state)
{
	run_filtered(*state, BLOCK_PUBLISHES, true);
}

static int setup(void **state)
{
	*state = harness_new("no-syscall");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_syscall, setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_no_syscall_block, setup, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
