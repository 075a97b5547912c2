/* SPDX-License-Identifier: MIT */
/*
 * Test command hook: reads JSON lines on stdin and appends each, exactly as
 * read, to FILE; answers OK per line. Modes:
 *	hook-cmd echo FILE       every line
 *	hook-cmd quiet FILE      every line, no answer (for hooks without confirm)
 *	hook-cmd crash N FILE    exits 3 on every Nth line of a run, unanswered
 *	hook-cmd hang FILE       never answers, never exits by itself
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void append(const char *file, const char *line, size_t len)
{
	FILE *f = fopen(file, "ae");

	if (!f)
		exit(1);
	fwrite(line, 1, len, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[1] : "";
	long crash_at = strcmp(mode, "crash") == 0 && argc == 4 ? atol(argv[2]) : 0;
	const char *file = argv[argc - 1];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (argc < 3) {
		fprintf(stderr, "usage: hook-cmd echo|quiet|crash N|hang FILE\n");
		return 2;
	}
	for (long i = 1; (n = getline(&line, &cap, stdin)) > 0; i++) {
		append(file, line, (size_t)n);
		if (crash_at && i == crash_at)
			return 3;
		while (strcmp(mode, "hang") == 0)
			pause();
		if (strcmp(mode, "quiet") == 0)
			continue;
		fputs("OK\n", stdout);
		fflush(stdout);
	}
	free(line);
	return 0;
}
