/* SPDX-License-Identifier: MIT */
/* Description: who may log, and how much. With clients.lanes_per_uid = 2,
 * a third lane of the same non-root uid is refused with EDQUOT (and
 * logbus-cat of that uid fails saying so) and counted in the stats, while
 * another uid still gets one; a user that clients.allowed_users or
 * clients.allowed_groups leaves out is refused: logbus-cat prints one line
 * naming the cause and exits 1, and the refusal is counted, while an
 * allowed user's entry lands. Needs root (to make the users). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "hostile.h"
#include "outfiles.h"
#include "stattest.h"
#include "users.h"

/* A client of the raw protocol, shared with the test. */
struct quota_client {
	char bus[64];
	int asks;                 /* LANE requests to make, at most 3 */
	int answers[3];           /* 0 granted, else the refusal's error */
	char text[LB_REG_TEXT_MAX];   /* the last refusal's text */
	_Atomic int holding;      /* the client: asked, and holds what it got */
	_Atomic int release;      /* the test: done, exit */
};

/* Ask for a lane on sock: 0 granted (the descriptor is kept open, so the
 * lane stays held), else the refusal's error, with its text in text. */
static int ask(int sock, char *text)
{
	struct lb_reg_msg m;
	int fd, r = hostile_request(sock, LB_REG_LANE, 0, 0, &m, &fd);

	if (r < 0)
		return r;
	if (m.type == LB_REG_GRANT)
		return fd >= 0 ? 0 : -EPROTO;
	if (fd >= 0)
		close(fd);
	if (m.type != LB_REG_REFUSE)
		return -EPROTO;
	snprintf(text, LB_REG_TEXT_MAX, "%.*s", LB_REG_TEXT_MAX - 1, m.text);
	return m.error;
}

/* q->asks LANE requests on one connection, then hold what was granted
 * until the test is done. */
static int quota_main(void *arg)
{
	struct quota_client *q = arg;
	int sock = hostile_connect(q->bus);

	if (sock < 0)
		return 1;
	for (int i = 0; i < q->asks; i++)
		q->answers[i] = ask(sock, q->text);
	atomic_store(&q->holding, 1);
	while (!atomic_load(&q->release))
		harness_sleep_us(1000);
	return 0;
}

/* Run a quota_client of asks requests as u; returns its pid once it
 * holds its lanes. */
static pid_t quota_client(struct quota_client *q, const struct test_user *u, const char *bus,
			  int asks)
{
	pid_t pid;

	snprintf(q->bus, sizeof(q->bus), "%s", bus);
	q->asks = asks;
	pid = users_fork(u, quota_main, q);
	while (!atomic_load(&q->holding))
		harness_sleep_us(1000);
	return pid;
}

/* The last line logbus-cat wrote to path holds want; path is removed. */
static void expect_cat_said(const char *path, const char *want)
{
	char line[512] = "", buf[512];
	FILE *f = fopen(path, "re");

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f))
		snprintf(line, sizeof(line), "%s", buf);
	fclose(f);
	if (strncmp(line, "logbus-cat: ", 12) || !strstr(line, want))
		fail_msg("logbus-cat said '%s', want a line with '%s'", line, want);
	assert_int_equal(unlink(path), 0);
}

static void cat_err_path(const struct harness *h, char *out, size_t n)
{
	snprintf(out, n, "%s.cat", h->dir);
}

/* lanes_per_uid = 2: uid A gets two lanes, not a third; uid B gets one. */
static void test_lane_quota(void **state)
{
	struct harness *h = *state;
	struct quota_client *qa = harness_shared(sizeof(*qa)), *qb = harness_shared(sizeof(*qb));
	struct test_user a, b;
	char err[300];
	pid_t pa, pb;
	json_t *j;

	if (!users_available())
		skip();
	users_get(USERS_HOSTILE, &a);
	users_get(USERS_VICTIM, &b);
	outfiles_start(h, outfiles_config(h, "{\"clients\": {\"lanes_per_uid\": 2}}"), NULL);
	pa = quota_client(qa, &a, h->bus, 3);
	assert_int_equal(qa->answers[0], 0);
	assert_int_equal(qa->answers[1], 0);
	if (qa->answers[2] != -EDQUOT)
		fail_msg("the third lane of uid %u: answer %d (%s), want -EDQUOT", (unsigned)a.uid,
			 qa->answers[2], qa->text);
	printf("# quota: the third lane refused: %s\n", qa->text);

	/* The same uid through logbus-cat: refused, and it says why. */
	cat_err_path(h, err, sizeof(err));
	assert_int_equal(users_cat(&a, h->bus, (const char *const[]){ "-t", "quota", "a", NULL }, err),
			 1);
	expect_cat_said(err, "quota");

	/* Another uid still gets a lane, and its logbus-cat's entry lands. */
	pb = quota_client(qb, &b, h->bus, 1);
	assert_int_equal(qb->answers[0], 0);
	assert_int_equal(users_cat(&b, h->bus, (const char *const[]){ "-t", "quota", "b", NULL }, NULL),
			 0);
	/* Counted: the raw client's third request, and logbus-cat's. */
	json_decref(stattest_wait(h->bus, "totals.refused_quota", 2));
	atomic_store(&qa->release, 1);
	atomic_store(&qb->release, 1);
	harness_wait_exit(pa, 0);
	harness_wait_exit(pb, 0);
	harness_stop_writer(h);
	j = harness_tagged(h, "quota");
	assert_int_equal(json_array_size(j), 1);
	harness_expect_str(j, 0, "msg", "b");
	json_decref(j);
}

/* A writer configured with allow (the "clients" keys, JSON): the denied
 * user is refused with one line naming the cause, the victim user's
 * entry lands. */
static void denied_with(struct harness *h, const char *allow)
{
	struct test_user ok, denied;
	char err[300];
	json_t *j;

	users_get(USERS_VICTIM, &ok);
	users_get(USERS_DENIED, &denied);
	outfiles_start(h, outfiles_config(h, "{\"clients\": {%s}}", allow), NULL);
	cat_err_path(h, err, sizeof(err));
	assert_int_equal(users_cat(&denied, h->bus, (const char *const[]){ "-t", "denied", "no", NULL },
				   err), 1);
	expect_cat_said(err, "(" USERS_DENIED ") may not log");
	assert_int_equal(users_cat(&ok, h->bus, (const char *const[]){ "-t", "denied", "yes", NULL },
				   NULL), 0);
	json_decref(stattest_wait(h->bus, "totals.refused_denied", 1));
	harness_stop_writer(h);
	j = harness_tagged(h, "denied");
	assert_int_equal(json_array_size(j), 1);
	harness_expect_str(j, 0, "msg", "yes");
	json_decref(j);
}

/* clients.allowed_users names root and the victim user only. */
static void test_denied_user(void **state)
{
	if (!users_available())
		skip();
	denied_with(*state, "\"allowed_users\": [\"root\", \"" USERS_VICTIM "\"]");
}

/* clients.allowed_groups names the victim user's group only. */
static void test_denied_group(void **state)
{
	if (!users_available())
		skip();
	denied_with(*state, "\"allowed_groups\": [\"" USERS_VICTIM "\"]");
}

static int setup(void **state)
{
	*state = harness_new("access");
	return 0;
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_lane_quota),
		TEST(test_denied_user),
		TEST(test_denied_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
