/* SPDX-License-Identifier: MIT */
/* logbus-demo: a client that publishes a steady mix of entries from a few
 * threads, for the demo and for trying the monitor. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logbus.h"

static logbus_t *lb;
static int count = 1000;

static void *worker(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < count; i++) {
		char req[32];
		struct logbus_field f[] = {
			{ "worker", req, (size_t)snprintf(req, sizeof(req), "%ld", id) },
			{ "request", "GET /index.html", 15 },
		};
		int level = i % 50 == 0 ? LOGBUS_WARNING : LOGBUS_INFO;

		logbus_publishv(lb, level, "demo", "request served", 14, f, 2);
		if (i % 100 == 0)
			logbus_publishf(lb, LOGBUS_NOTICE, "demo", "worker %ld at %d of %d", id, i,
					count);
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[4];

	if (argc > 1)
		count = atoi(argv[1]);
	lb = logbus_open(NULL);
	if (!lb) {
		perror("logbus-demo: logbus_open");
		return 1;
	}
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	logbus_flush(lb, 5000);
	logbus_close(lb);
	return 0;
}
