/* SPDX-License-Identifier: MIT */
/* Description: SIGHUP reloads the configuration under load: the new sinks
 * take over between two batches, so the union of the files holds every
 * entry exactly once; a bad new configuration is refused with its reason,
 * the running one keeps writing (its files reopened); a change of what
 * only a restart changes (the clients section) is told, not dropped
 * silently. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "logbus.h"
#include "outfiles.h"
#include "register.h"

/* Wait until the writer's stderr holds what, up to 10 s. */
static void wait_stderr(const struct harness *h, const char *what)
{
	for (int i = 0; i < 1000; i++) {
		char *err = outfiles_stderr(h);
		bool found = strstr(err, what) != NULL;
		free(err);
		if (found)
			return;
		harness_sleep_us(10000);
	}
	fail_msg("the writer never said \"%s\"", what);
}

/* JSON lines, then zstd after a reload, then a bad reload: nothing lost,
 * nothing twice, the zstd files still growing. */
static void test_reload_under_load(void **state)
{
	struct outfiles_producer p;
	struct harness h;
	const char *config;
	size_t zst;
	json_t *all;
	char *err;

	(void)state;
	harness_init(&h, "reload");
	config = outfiles_config(&h, "{\"file\":{\"compress\":\"none\"}}");
	outfiles_start(&h, config, NULL);
	outfiles_producer_start(&p, h.bus, "r", 20);
	harness_sleep_us(200000);

	outfiles_config(&h, "{\"file\":{\"compress\":\"zstd\"}}");
	assert_int_equal(kill(h.writer, SIGHUP), 0);
	wait_stderr(&h, "reloaded the configuration");
	harness_sleep_us(200000);
	zst = outfiles_count(h.dir, ".jsonl.zst");
	assert_int_equal(zst, 1);

	outfiles_config(&h, "{\"file\":{\"compress\":\"gzip\"}}");
	assert_int_equal(kill(h.writer, SIGHUP), 0);
	wait_stderr(&h, "reload failed; keeping the running configuration");
	harness_sleep_us(200000);

	uint64_t n = outfiles_producer_stop(&p);
	harness_stop_writer(&h);
	err = outfiles_stderr(&h);
	assert_non_null(strstr(err, "$.file.compress: is not \"none\" or \"zstd\""));
	free(err);
	/* The old sinks reopened: a second zstd file, and no new plain one. */
	assert_int_equal(outfiles_count(h.dir, ".jsonl.zst"), 2);
	assert_int_equal(outfiles_count(h.dir, ".jsonl"), 1);
	all = outfiles_entries(h.dir);
	outfiles_add_fallback(all, &p);
	unlink(p.fallback);
	outfiles_check_once(all, "r", n);
	json_decref(all);
	harness_fini(&h);
}

/* Whether the writer's stderr holds what. */
static bool stderr_has(const struct harness *h, const char *what)
{
	char *err = outfiles_stderr(h);
	bool found = strstr(err, what) != NULL;

	free(err);
	return found;
}

/* A reload that changes nothing warns of nothing; flags that ask an
 * existing bus for another geometry get a line saying it keeps its own. */
static void test_geometry_warnings(void **state)
{
	static const char *const four[] = { "--lanes", "4", NULL };
	struct harness h;
	char want[256];

	(void)state;
	harness_init(&h, "reload-geometry");
	outfiles_start(&h, NULL, NULL);   /* makes the bus: 8 lanes of 1 MiB */
	assert_int_equal(kill(h.writer, SIGHUP), 0);
	wait_stderr(&h, "reloaded the configuration");
	if (stderr_has(&h, "asked for") || stderr_has(&h, "restart"))
		fail_msg("a reload that changed nothing warned about the geometry");
	harness_stop_writer(&h);

	outfiles_start(&h, NULL, four);
	snprintf(want, sizeof(want), "logbus-writer: bus '%s' has 8 lanes of 1048576 bytes, not "
		 "the 4 lanes asked for", h.bus);
	wait_stderr(&h, want);
	harness_stop_writer(&h);
	harness_fini(&h);
}

/* A reload that changes the clients section says it keeps the running one,
 * and the running quota still holds after it. */
static void test_clients_kept(void **state)
{
	struct harness_raw_lane l[2];
	char why[LB_REG_TEXT_MAX];
	struct harness h;
	int s;

	(void)state;
	harness_init(&h, "reload-clients");
	outfiles_start(&h, outfiles_config(&h, "{\"clients\":{\"lanes_per_client\":1}}"), NULL);
	outfiles_config(&h, "{\"clients\":{\"lanes_per_client\":4}}");
	assert_int_equal(kill(h.writer, SIGHUP), 0);
	wait_stderr(&h, "reloaded the configuration");
	assert_true(stderr_has(&h, "reload: the clients section changes only with a restart; "
				   "keeping the running one"));
	s = harness_raw_connect(&h);
	assert_int_equal(harness_raw_lane(&h, s, &l[0], NULL), 0);
	assert_int_equal(harness_raw_lane(&h, s, &l[1], why), -EDQUOT);
	if (!strstr(why, "(clients.lanes_per_client = 1)"))
		fail_msg("the running quota is not the one in force: \"%s\"", why);
	harness_raw_release(&l[0]);
	close(s);
	harness_stop_writer(&h);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_under_load),
		cmocka_unit_test(test_geometry_warnings),
		cmocka_unit_test(test_clients_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
