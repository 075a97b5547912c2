/* SPDX-License-Identifier: MIT */
/* Description: a writer SIGKILLed and started again many times while
 * three producers publish leaves files whose union holds every published
 * entry exactly once (the file sink's restart marks), plain and zstd,
 * across rotations; and the per-entry files of one producer's tag hold
 * each of its entries exactly once too. Entries a producer had to send to
 * its fallback (a restart slower than the heartbeat's staleness limit on a
 * loaded machine) count as written there, and nowhere else. RESTART_CYCLES kill/restart cycles (10 by default; the soak
 * suite runs 50). */
#include <setjmp.h>
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

#ifndef RESTART_CYCLES
#define RESTART_CYCLES 10
#endif

static void cycles(const char *name, const char *file_json)
{
	struct outfiles_producer a, b, e;
	struct harness h;
	const char *config;
	char entries[300];
	json_t *all;

	harness_init(&h, name);
	snprintf(entries, sizeof(entries), "%s/entries", h.dir);
	config = outfiles_config(&h, "{\"file\":%s,\"entry_files\":[{\"dir\":\"%s\","
				     "\"tag\":\"e\"}]}", file_json, entries);
	outfiles_start(&h, config, NULL);
	outfiles_producer_start(&a, h.bus, "a", 50);
	outfiles_producer_start(&b, h.bus, "b", 0);
	outfiles_producer_start(&e, h.bus, "e", 20000);
	srand((unsigned)getpid());
	for (int i = 0; i < RESTART_CYCLES; i++) {
		harness_sleep_us(20000 + rand() % 60000);
		harness_kill_writer(&h);
		outfiles_start(&h, config, NULL);
	}
	uint64_t na = outfiles_producer_stop(&a), nb = outfiles_producer_stop(&b);
	uint64_t ne = outfiles_producer_stop(&e);
	harness_stop_writer(&h);
	all = outfiles_entries(h.dir);
	outfiles_add_fallback(all, &a);
	outfiles_add_fallback(all, &b);
	outfiles_add_fallback(all, &e);
	outfiles_check_once(all, "a", na);
	outfiles_check_once(all, "b", nb);
	outfiles_check_once(all, "e", ne);
	assert_int_equal(json_array_size(all), na + nb + ne);
	json_decref(all);
	all = outfiles_documents(entries);
	outfiles_add_fallback(all, &e);
	outfiles_check_once(all, "e", ne);
	assert_int_equal(json_array_size(all), ne);
	json_decref(all);
	unlink(a.fallback);
	unlink(b.fallback);
	unlink(e.fallback);
	harness_fini(&h);
}

/* JSON lines, rotating every 256 KiB (keeping every file: each restart
 * starts one, and 50 cycles pass the default keep_files). */
static void test_plain(void **state)
{
	(void)state;
	cycles("rsplain", "{\"rotate_size\":\"256K\",\"keep_files\":0}");
}

/* zstd, rotating every 64 KiB of compressed bytes. */
static void test_zstd(void **state)
{
	(void)state;
	cycles("rszstd", "{\"compress\":\"zstd\",\"rotate_size\":\"64K\",\"keep_files\":0}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_zstd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
