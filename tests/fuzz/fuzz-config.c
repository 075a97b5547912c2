/* SPDX-License-Identifier: MIT */
/* Description: libFuzzer target for the writer's configuration parser, as
 * --check-config runs it: any bytes as the configuration file must not
 * crash it, and the oracle is that every problem it counts is printed as
 * exactly one line, "logbus-writer: ...", with no other control byte. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char config_path[64];

/* Remove the configuration file at exit: libFuzzer ends with exit(). */
static void config_remove(void)
{
	unlink(config_path);
}

/* One file for the whole run, rewritten per input; the variables that
 * would override the file are cleared. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const vars[] = { "LOGBUS_BUS", "LOGBUS_DIR", "LOGBUS_FORMAT",
					    "LOGBUS_LANES", "LOGBUS_LANE_SIZE" };
	int fd;

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	snprintf(config_path, sizeof(config_path), "fuzz-config-%d.json", (int)getpid());
	fd = open(config_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror("fuzz-config: cannot create the configuration file");
		exit(1);
	}
	close(fd);
	atexit(config_remove);
	return 0;
}

/* Whether out holds exactly lines lines, each "logbus-writer: ..."
 * ending in a newline, with no control byte but the newlines. */
static bool one_line_each(const char *out, size_t len, int lines)
{
	static const char prefix[] = "logbus-writer: ";
	int seen = 0;
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c == '\n') {
			if (i - start < sizeof(prefix) - 1 ||
			    memcmp(out + start, prefix, sizeof(prefix) - 1))
				return false;
			seen++;
			start = i + 1;
		} else if (c < 0x20 || c == 0x7f) {
			return false;
		}
	}
	return start == len && seen == lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_overrides ov = { .config_path = config_path };
	struct writer_config c = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *errs, *f;
	int problems, warnings;

	f = fopen(config_path, "we");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	errs = open_memstream(&out, &len);
	if (!errs)
		abort();
	problems = config_load(&ov, &c, errs);
	warnings = c.warnings;
	fclose(errs);
	config_free(&c);
	/* Warnings are lines too, but no problems. */
	if (problems < 0 || !one_line_each(out, len, problems + warnings)) {
		fprintf(stderr, "fuzz-config: %d problems, %d warnings, printed as:\n%.*s\n",
			problems, warnings,
			(int)len, out);
		abort();
	}
	free(out);
	return 0;
}
