/* SPDX-License-Identifier: MIT */
/* Description: a writer SIGKILLed and started again many times while two
 * producers publish leaves files whose union holds every published entry
 * exactly once (the file sink's restart state), plain and zstd, across
 * rotations. RESTART_CYCLES kill/restart cycles (10 by default; the soak
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
	struct outfiles_producer a, b;
	struct harness h;
	const char *config;
	json_t *all;

	harness_init(&h, name);
	config = outfiles_config(&h, "{\"file\":%s}", file_json);
	outfiles_start(&h, config, NULL);
	outfiles_producer_start(&a, h.bus, "a", 50);
	outfiles_producer_start(&b, h.bus, "b", 0);
	srand((unsigned)getpid());
	for (int i = 0; i < RESTART_CYCLES; i++) {
		harness_sleep_us(20000 + rand() % 60000);
		harness_kill_writer(&h);
		outfiles_start(&h, config, NULL);
	}
	uint64_t na = outfiles_producer_stop(&a), nb = outfiles_producer_stop(&b);
	harness_stop_writer(&h);
	all = outfiles_entries(h.dir);
	outfiles_check_once(all, "a", na);
	outfiles_check_once(all, "b", nb);
	assert_int_equal(json_array_size(all), na + nb);
	json_decref(all);
	harness_fini(&h);
}

/* JSON lines, rotating every 256 KiB. */
static void test_plain(void **state)
{
	(void)state;
	cycles("rsplain", "{\"rotate_size\":\"256K\"}");
}

/* zstd, rotating every 64 KiB of compressed bytes. */
static void test_zstd(void **state)
{
	(void)state;
	cycles("rszstd", "{\"compress\":\"zstd\",\"rotate_size\":\"64K\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_zstd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
