/* SPDX-License-Identifier: MIT */
/* Description: the writer's registrar, spoken to with the raw protocol
 * (shm/register.h): a client that breaks the protocol (garbage, an unknown
 * type, a RELEASE of a lane it does not hold, answers it never reads)
 * loses its own connection and nobody else's lanes; lanes_per_client and
 * allowed_users refuse with the key's name and are counted; ADOPT after a
 * writer restart is for the very process the lane was granted to; a
 * closed connection's lanes go RELEASED, then FREE once drained, also
 * while the drain is stopped; the socket and the stats segment get the
 * configured mode and group. Every client here is root: the tests of
 * distinct users are test-isolation's. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "outfiles.h"
#include "register.h"
#include "registry.h"

#define LANES 8   /* outfiles_start's */

/* A writer on h's bus with the "clients" section clients (a JSON object). */
static void start(struct harness *h, const char *clients)
{
	outfiles_start(h, outfiles_config(h, "{\"clients\": %s}", clients), NULL);
}

/* A connection to h's registrar whose reads give up after 10 s. */
static int dial(const struct harness *h)
{
	struct timeval tv = { .tv_sec = 10 };
	int sock = harness_raw_connect(h);

	assert_int_equal(setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return sock;
}

/* Send a request of type for (slot, grant) on sock; when ans, wait for the
 * answer. Returns lb_reg_recv's result (0 without ans). */
static int ask(int sock, uint16_t type, uint32_t slot, uint64_t grant, struct lb_reg_msg *ans)
{
	struct lb_reg_msg m = { .version = LB_REG_VERSION, .type = type, .slot = slot,
				.grant = grant, .tid = (uint32_t)gettid() };
	int fd = -1, r;

	assert_int_equal(lb_reg_send(sock, &m, -1), 0);
	if (!ans)
		return 0;
	r = lb_reg_recv(sock, ans, &fd);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Assert the registrar ended connection sock: its next read finds the end. */
static void expect_ended(int sock, const char *after)
{
	struct lb_reg_msg m;
	int r = lb_reg_recv(sock, &m, NULL);

	if (r != -ECONNRESET)
		fail_msg("after %s the connection is still open: read %d (type %#x), want %d",
			 after, r, r == 0 ? m.type : 0, -ECONNRESET);
	close(sock);
}

static uint32_t slot_state(const struct harness *h, uint32_t slot, uint64_t *grant)
{
	struct harness_lane lanes[LANES];

	assert_int_equal(harness_lanes(h, lanes, LANES), LANES);
	if (grant)
		*grant = lanes[slot].grant;
	return lanes[slot].state;
}

/* Wait until slot is in state want (the drain acts on its own time);
 * fails after 10 s. */
static void wait_state(const struct harness *h, uint32_t slot, uint32_t want)
{
	uint32_t got = 0;

	for (int i = 0; i < 1000 && (got = slot_state(h, slot, NULL)) != want; i++)
		harness_sleep_us(10000);
	if (got != want)
		fail_msg("slot %u is in state %u after 10 s, want %u", slot, got, want);
}

/* The registry header's counters, by offset. */
static uint64_t counter(const struct harness *h, size_t off)
{
	struct lb_registry reg;
	uint64_t v;

	assert_int_equal(lb_registry_view(h->bus, &reg), 0);
	v = atomic_load_explicit((_Atomic uint64_t *)((char *)reg.hdr + off), memory_order_relaxed);
	lb_registry_close(&reg);
	return v;
}

#define COUNTER(h, name) counter(h, offsetof(struct lb_registry_header, name))

/* Whether the writer's stderr holds text. */
static bool said(const struct harness *h, const char *text)
{
	char *err = outfiles_stderr(h);
	bool found = strstr(err, text) != NULL;

	if (!found)
		print_error("the writer's stderr lacks \"%s\":\n%s\n", text, err);
	free(err);
	return found;
}

/* Garbage, a message of another version and one of an unknown type each
 * end their own connection, with a line on stderr; a client with a lane
 * keeps it and is still served. */
static void test_bad_messages(void **state)
{
	struct harness *h = *state;
	struct lb_reg_msg wrong = { .version = LB_REG_VERSION + 1, .type = LB_REG_LANE };
	struct lb_reg_msg unknown = { .version = LB_REG_VERSION, .type = 0x55 };
	struct harness_raw_lane a, b;
	int victim, s;

	start(h, "{}");
	victim = dial(h);
	assert_int_equal(harness_raw_lane(h, victim, &a, NULL), 0);

	s = dial(h);
	assert_int_equal(send(s, "garbage", 7, 0), 7);
	expect_ended(s, "a 7-byte datagram");
	s = dial(h);
	assert_int_equal(send(s, &wrong, sizeof(wrong), 0), (ssize_t)sizeof(wrong));
	expect_ended(s, "a message of another version");
	s = dial(h);
	assert_int_equal(send(s, &unknown, sizeof(unknown), 0), (ssize_t)sizeof(unknown));
	expect_ended(s, "a message of an unknown type");

	assert_int_equal(slot_state(h, a.slot, NULL), LB_SLOT_GRANTED);
	assert_int_equal(harness_raw_lane(h, victim, &b, NULL), 0);
	assert_true(said(h, "it sent a message of the wrong size or version"));
	assert_true(said(h, "it sent a message of unknown type 85"));
	close(victim);
	harness_stop_writer(h);
}

/* A RELEASE of another connection's lane ends the sender's connection and
 * leaves the lane to its holder, who can release it. */
static void test_foreign_release(void **state)
{
	struct harness *h = *state;
	struct harness_raw_lane a;
	uint64_t grant;
	int holder, thief;

	start(h, "{}");
	holder = dial(h);
	assert_int_equal(harness_raw_lane(h, holder, &a, NULL), 0);
	thief = dial(h);
	assert_int_equal(ask(thief, LB_REG_RELEASE, a.slot, a.grant, NULL), 0);
	expect_ended(thief, "a RELEASE of another connection's lane");
	assert_int_equal(slot_state(h, a.slot, &grant), LB_SLOT_GRANTED);
	assert_int_equal(grant, a.grant);
	assert_true(said(h, "it released a lane it does not hold"));

	harness_raw_release(&a);
	wait_state(h, a.slot, LB_SLOT_FREE);
	close(holder);
	harness_stop_writer(h);
}

/* lanes_per_client: the connection's next LANE is refused with -EDQUOT
 * naming the quota, counted as refused by quota and as an entry lost;
 * another connection still gets a lane. */
static void test_lanes_per_client(void **state)
{
	struct harness *h = *state;
	struct harness_raw_lane l[3];
	char why[LB_REG_TEXT_MAX];
	int s, other;

	start(h, "{\"lanes_per_client\": 2}");
	s = dial(h);
	assert_int_equal(harness_raw_lane(h, s, &l[0], NULL), 0);
	assert_int_equal(harness_raw_lane(h, s, &l[1], NULL), 0);
	assert_int_equal(harness_raw_lane(h, s, &l[2], why), -EDQUOT);
	if (!strstr(why, "(clients.lanes_per_client = 2)"))
		fail_msg("the refusal does not name the quota: \"%s\"", why);
	assert_int_equal(COUNTER(h, refused_quota), 1);
	assert_int_equal(COUNTER(h, dropped_no_lane), 1);
	assert_int_equal(COUNTER(h, registrations), 2);

	other = dial(h);
	assert_int_equal(harness_raw_lane(h, other, &l[2], NULL), 0);
	close(other);
	close(s);
	harness_stop_writer(h);
}

/* allowed_users without root: root's LANE is refused with -EACCES naming
 * the key, and counted; allowed_groups with root's group lets it in. */
static void test_allowed(void **state)
{
	struct harness *h = *state;
	struct harness_raw_lane l;
	char why[LB_REG_TEXT_MAX], want[160];
	int s;

	start(h, "{\"allowed_users\": [\"4242\"]}");
	s = dial(h);
	assert_int_equal(harness_raw_lane(h, s, &l, why), -EACCES);
	snprintf(want, sizeof(want), "uid 0 (root) may not log to bus '%s' (clients.allowed_users)",
		 h->bus);
	assert_string_equal(why, want);
	assert_int_equal(COUNTER(h, refused_denied), 1);
	close(s);
	harness_stop_writer(h);

	start(h, "{\"allowed_users\": [4242], \"allowed_groups\": [\"root\"]}");
	s = dial(h);
	assert_int_equal(harness_raw_lane(h, s, &l, NULL), 0);
	close(s);
	harness_stop_writer(h);
}

/* A closed connection's lanes are RELEASED at once, by the registrar even
 * while the drain is stopped, then FREE when the drain runs again; and a
 * stopped drain does not stop registrations. */
static void test_close_releases(void **state)
{
	struct harness *h = *state;
	struct harness_raw_lane a, b, c;
	int s, later;

	start(h, "{}");
	s = dial(h);
	assert_int_equal(harness_raw_lane(h, s, &a, NULL), 0);
	assert_int_equal(harness_raw_lane(h, s, &b, NULL), 0);
	assert_int_equal(kill(h->writer, SIGSTOP), 0);

	close(s);
	wait_state(h, a.slot, LB_SLOT_RELEASED);
	wait_state(h, b.slot, LB_SLOT_RELEASED);
	later = dial(h);
	assert_int_equal(harness_raw_lane(h, later, &c, NULL), 0);
	assert_int_equal(slot_state(h, a.slot, NULL), LB_SLOT_RELEASED);

	assert_int_equal(kill(h->writer, SIGCONT), 0);
	wait_state(h, a.slot, LB_SLOT_FREE);
	wait_state(h, b.slot, LB_SLOT_FREE);
	assert_int_equal(slot_state(h, c.slot, NULL), LB_SLOT_GRANTED);
	close(later);
	harness_stop_writer(h);
}

/* After a writer SIGKILL, a lane is an orphan that only the process it was
 * granted to may adopt: another pid, or a wrong grant, is refused with
 * -EPERM; the holder gets ADOPTED and its lane is bound to the new
 * connection (closing it releases the lane). */
static void test_adopt(void **state)
{
	struct harness *h = *state;
	struct harness_raw_lane a;
	struct lb_reg_msg ans;
	int s, again;
	pid_t other;

	start(h, "{}");
	s = dial(h);
	assert_int_equal(harness_raw_lane(h, s, &a, NULL), 0);
	harness_kill_writer(h);
	start(h, "{}");

	other = harness_fork();
	if (other == 0) {
		int o = dial(h);
		int r = ask(o, LB_REG_ADOPT, a.slot, a.grant, &ans);
		_exit(r == 0 && ans.type == LB_REG_REFUSE && ans.error == -EPERM &&
		      strstr(ans.text, "granted to another process") ? 0 : 1);
	}
	harness_wait_exit(other, 0);

	again = dial(h);
	assert_int_equal(ask(again, LB_REG_ADOPT, a.slot, a.grant + 1, &ans), 0);
	assert_int_equal(ans.type, LB_REG_REFUSE);
	assert_int_equal(ans.error, -EPERM);
	assert_int_equal(ask(again, LB_REG_ADOPT, a.slot, a.grant, &ans), 0);
	if (ans.type != LB_REG_ADOPTED)
		fail_msg("ADOPT by its own process refused: %d %s", ans.error, ans.text);
	assert_int_equal(slot_state(h, a.slot, NULL), LB_SLOT_GRANTED);
	close(s);
	close(again);
	wait_state(h, a.slot, LB_SLOT_FREE);
	harness_stop_writer(h);
}

/* A client that sends without reading its answers loses its connection
 * when its answers fill the socket, and its lanes with it; another
 * client's lane is untouched, and it is served after. */
static void test_never_reads(void **state)
{
	struct harness *h = *state;
	struct lb_reg_msg m = { .version = LB_REG_VERSION, .type = LB_REG_LANE,
				.flags = LB_REG_SHARES };
	struct timeval tv = { .tv_sec = 10 };
	struct harness_raw_lane mine, more;
	int flood, other, sent = 0;

	start(h, "{}");
	other = dial(h);
	assert_int_equal(harness_raw_lane(h, other, &mine, NULL), 0);
	flood = dial(h);
	assert_int_equal(setsockopt(flood, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	while (sent < 100000 && send(flood, &m, sizeof(m), MSG_NOSIGNAL) == (ssize_t)sizeof(m))
		sent++;
	if (sent == 100000 || (errno != EPIPE && errno != ECONNRESET))
		fail_msg("the registrar kept a client that reads nothing: %d requests sent, "
			 "then %s", sent, strerror(errno));
	assert_true(said(h, "it does not read its answers"));
	harness_wait_free_lanes(h, LANES - 1);   /* the flood's lanes, all of them */
	assert_int_equal(slot_state(h, mine.slot, NULL), LB_SLOT_GRANTED);
	assert_int_equal(harness_raw_lane(h, other, &more, NULL), 0);
	close(flood);
	close(other);
	harness_stop_writer(h);
}

/* The socket and the stats segment get the mode and group the section
 * gives (root may give any group), and 0666 and 0640 by default. */
static void test_modes(void **state)
{
	struct harness *h = *state;
	char sock[128], stats[128];
	struct stat st;

	assert_int_equal(lb_reg_socket_path(h->bus, sock, sizeof(sock)), 0);
	snprintf(stats, sizeof(stats), "/dev/shm/logbus.%s.stats", h->bus);
	start(h, "{}");
	assert_int_equal(stat(sock, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0666);
	assert_int_equal(stat(stats, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, getegid());
	harness_stop_writer(h);

	start(h, "{\"socket_mode\": \"0660\", \"socket_group\": 4242, \"stats_mode\": \"0600\", "
		 "\"stats_group\": \"4243\"}");
	assert_int_equal(stat(sock, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, 4242);
	assert_int_equal(stat(stats, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_gid, 4243);
	harness_stop_writer(h);
	assert_int_equal(stat(sock, &st), -1);   /* a clean stop removes the socket */
}

static int setup(void **state)
{
	*state = harness_new("registrar");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_messages, setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_foreign_release, setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_lanes_per_client, setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_allowed, setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_close_releases, setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_adopt, setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_never_reads, setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, harness_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
