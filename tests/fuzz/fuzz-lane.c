/* SPDX-License-Identifier: MIT */
/* Description: libFuzzer target for a whole lane as the writer drains it:
 * the input sets the lane's tail, head and ring bytes in a real lane file
 * granted to slot 0 of a real bus (its registry made by hand, as the
 * registrar would), and the writer's own drain (writer_run after a stop request:
 * the final drain) decodes, merges and hands the entries to a sink that
 * formats each as a JSON line. Any bytes must neither crash the writer nor
 * make it read out of bounds or loop, and every line must be valid JSON
 * (numbers read as reals: JSON's are unbounded, jansson's integers not). */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "bus.h"
#include "drain.h"
#include "entry_json.h"
#include "lane.h"
#include "layout.h"
#include "registry.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lb_bus fuzz_bus;
static struct lb_registry fuzz_reg;
static struct lb_lane_map fuzz_lane;  /* slot 0's lane, as its client maps it */
static char fuzz_bus_name[64];
static struct tsc_clock fuzz_clock;   /* calibrated once: calibrating sleeps */

/* A sink that formats every entry as the file sink does and checks it. */
static int json_sink_write(struct sink *s, const struct batch *b)
{
	struct lb_buf line = { 0 };

	(void)s;
	for (size_t i = 0; i < b->count; i++) {
		const struct batch_entry *be = &b->entries[i];
		struct lb_entry_ids ids = batch_entry_ids(be);
		json_error_t err;
		json_t *v;

		line.len = 0;
		lb_entry_json_put(&line, &be->e, be->ts_ns, &ids);
		if (line.failed)
			break;
		v = json_loadb(line.data, line.len, JSON_ALLOW_NUL, &err);
		if (!json_is_object(v)) {
			fprintf(stderr, "fuzz-lane: invalid JSON line: %s: %.*s", err.text,
				(int)line.len, line.data);
			abort();
		}
		json_decref(v);
	}
	lb_buf_free(&line);
	return 0;
}

static int json_sink_reopen(struct sink *s)
{
	(void)s;
	return 0;
}

static void json_sink_destroy(struct sink *s)
{
	(void)s;
}

static const struct sink_ops json_sink_ops = {
	.write = json_sink_write, .reopen = json_sink_reopen, .destroy = json_sink_destroy,
};

/* Remove the bus at exit: libFuzzer ends with exit(). */
static void bus_remove(void)
{
	(void)lb_bus_unlink(fuzz_bus_name);
}

/* Grant slot 0 to this process, as the registrar would: a lane file
 * starting at position 0, lane sequence 0. */
static void grant_slot0(void)
{
	struct lb_slot *s = &fuzz_reg.slots[0];
	int fd;

	atomic_store_explicit(&s->grant, 1, memory_order_relaxed);
	s->who = (struct lb_client_identity){ .pid = (uint32_t)getpid(), .comm = "fuzz-lane" };
	fd = lb_lane_file_create(&fuzz_reg, 0, 1);
	if (fd < 0 || lb_lane_map(fd, fuzz_bus.lane_size, &fuzz_lane) < 0) {
		fprintf(stderr, "fuzz-lane: cannot make the lane file\n");
		exit(1);
	}
	close(fd);
	atomic_store_explicit(&s->state, LB_SLOT_GRANTED, memory_order_release);
}

/* One bus of one 64K lane for the whole run. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct lb_bus_geometry g = { .lane_count = 1, .lane_size = LB_MIN_LANE_SIZE };
	struct lb_bus_error err = { { 0 } };
	int dirfd;

	(void)argc;
	(void)argv;
	snprintf(fuzz_bus_name, sizeof(fuzz_bus_name), "fuzz-lane-%d", (int)getpid());
	dirfd = lb_registry_lock(fuzz_bus_name, &err);
	if (dirfd < 0 || lb_bus_create(fuzz_bus_name, &g, LB_TS_REALTIME, &fuzz_bus, &err) < 0 ||
	    lb_registry_open(dirfd, &fuzz_bus, &fuzz_reg, &err) < 0) {
		fprintf(stderr, "fuzz-lane: cannot create bus %s: %s\n", fuzz_bus_name, err.why);
		exit(1);
	}
	grant_slot0();
	atexit(bus_remove);
	tsc_clock_init(&fuzz_clock);
	return 0;
}

static uint64_t load_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Input: tail (8 bytes), head (8 bytes), then the ring's first bytes
 * (the rest of the ring is zero). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_lane *lane = fuzz_lane.lane;
	uint8_t *ring = fuzz_lane.ring;
	struct sink sink = { .name = "fuzz", .ops = &json_sink_ops };
	struct sink *sinks[1] = { &sink };
	volatile sig_atomic_t stop = 1, reopen = 0;
	struct writer w = { .bus = fuzz_bus, .reg = fuzz_reg, .clock = fuzz_clock, .stop = &stop,
			    .reopen = &reopen, .state_dirfd = -1,
			    .poison = { .fd = -1, .qfd = -1, .dirfd = -1 } };
	size_t ring_bytes;

	if (size < 16)
		return 0;
	ring_bytes = size - 16 < fuzz_bus.lane_size ? size - 16 : fuzz_bus.lane_size;
	memset(ring, 0, fuzz_bus.lane_size);
	memcpy(ring, data + 16, ring_bytes);
	/* Relaxed: one thread plays producer, registrar and writer here. The
	 * drain starts at the registry's tail, whatever the lane says. */
	atomic_store_explicit(&fuzz_reg.slots[0].tail, load_u64(data), memory_order_relaxed);
	atomic_store_explicit(&lane->tail, load_u64(data), memory_order_relaxed);
	atomic_store_explicit(&lane->head, load_u64(data + 8), memory_order_relaxed);
	struct sink **owned = malloc(sizeof(sinks));   /* the drain frees it */
	if (!owned || writer_init(&w) < 0)
		abort();
	memcpy(owned, sinks, sizeof(sinks));
	if (writer_set_sinks(&w, owned, 1) < 0)
		abort();
	(void)writer_run(&w);
	writer_fini(&w);
	return 0;
}
