/* SPDX-License-Identifier: MIT */
/* Description: libFuzzer target for the stats segment reader: any bytes
 * as the segment file, read as logbus-stat and logbus-top read it, then
 * printed as text, JSON and Prometheus, must neither crash nor read out of
 * bounds; a refused segment gets a one-line reason. */
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bus.h"
#include "report.h"
#include "stats.h"
#include "view.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_bus_name[64];
static int segment_fd = -1;
static FILE *devnull;

/* Remove the segment at exit: libFuzzer ends with exit(). */
static void segment_remove(void)
{
	(void)lb_stats_unlink(fuzz_bus_name);
}

/* One segment file for the whole run, rewritten per input. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[LB_BUS_PATH_MAX];

	(void)argc;
	(void)argv;
	snprintf(fuzz_bus_name, sizeof(fuzz_bus_name), "fuzz-stats-%d", (int)getpid());
	if (lb_bus_path(fuzz_bus_name, LB_STATS_SUFFIX, path) < 0)
		abort();
	segment_fd = shm_open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	devnull = fopen("/dev/null", "we");
	if (segment_fd < 0 || !devnull) {
		perror("fuzz-stats: setup");
		exit(1);
	}
	atexit(segment_remove);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mon_sample m;
	char why[256];
	json_t *j;

	if (ftruncate(segment_fd, 0) < 0 ||
	    (size && pwrite(segment_fd, data, size, 0) != (ssize_t)size))
		abort();
	if (mon_sample_read(fuzz_bus_name, &m, why, sizeof(why)) < 0) {
		if (!why[0] || strchr(why, '\n')) {
			fprintf(stderr, "fuzz-stats: the refusal is not one line: '%s'\n", why);
			abort();
		}
		return 0;
	}
	j = report_json(fuzz_bus_name, &m);
	if (j) {
		char *s = json_dumps(j, 0);
		free(s);
		json_decref(j);
	}
	report_text(devnull, fuzz_bus_name, &m);
	report_prometheus(devnull, fuzz_bus_name, &m);
	mon_sample_free(&m);
	return 0;
}
