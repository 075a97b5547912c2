/* SPDX-License-Identifier: MIT */
/* The bus segment: creation by the writer, attaching, validation (its name
 * and path: names.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "names.h"

/* Defaults: a thread can burst 10,000 entries of 200 B; a 1 MiB entry fits. */
#define LB_DEFAULT_LANES 32u
#define LB_DEFAULT_LANE_SIZE (UINT64_C(4) << 20)
#define LB_MIN_LANE_SIZE (UINT64_C(64) << 10)
#define LB_MAX_LANE_SIZE (UINT64_C(1) << 30)
#define LB_MAX_LANES 4096u

struct lb_bus_header;
struct lb_lane;
struct lb_lane_map;

/* A mapped bus. The geometry is a private copy, validated once against the
 * mapped size at attach; nothing here re-reads it from shared memory.
 * Clients map the segment read-only; the writer maps it read-write and
 * keeps its view of every lane slot in lanes (lb_bus_lanes_init, lane.h). */
struct lb_bus {
	uint8_t *base;
	size_t size;
	struct lb_bus_header *hdr;
	int fd;
	uint32_t lane_count;
	uint32_t max_record;
	uint32_t ts_mode;
	uint64_t lane_size;
	uint64_t lane_stride;   /* a lane file's size */
	uint64_t dev, ino;      /* identity of the segment file */
	bool membarrier;        /* writer: fences producers before sleeping */
	struct lb_lane_map *lanes;  /* writer: slot i's lane, or an idle one */
	struct lb_lane *idle;       /* writer: the idle lanes' headers */
	uint8_t *idle_ring;         /* writer: an empty ring, never written */
};

struct lb_bus_geometry {
	uint32_t lane_count;
	uint64_t lane_size;
};

/* lb_bus_geometry_check - 0 when g can be created, else -EINVAL with why. */
int lb_bus_geometry_check(const struct lb_bus_geometry *g, struct lb_bus_error *err);

/*
 * lb_bus_create - create the segment of bus name (mode 0644: clients read
 * it, only the writer writes) and map it. Returns 0, -EEXIST when it
 * exists already, or another negative errno with why.
 */
int lb_bus_create(const char *name, const struct lb_bus_geometry *g, uint32_t ts_mode,
		  struct lb_bus *bus, struct lb_bus_error *err);

/*
 * lb_bus_attach - map the existing segment of bus name, read-write for the
 * writer (writable true), else read-only, and validate its header: magic, layout version, geometry against the file size. Returns 0,
 * -ENOENT when there is no such bus, -EAGAIN when it is being created,
 * -EPROTO (not a logbus segment), -EPROTONOSUPPORT (another layout
 * version), -EBADMSG (geometry does not match the size), or the errno of
 * the failed system call; err says why.
 */
int lb_bus_attach(const char *name, bool writable, struct lb_bus *bus,
		  struct lb_bus_error *err);

/* lb_bus_detach - unmap and close; a bus that is not mapped is a no-op.
 * The writer's lane table goes first, with lb_bus_lanes_fini (lane.h). */
void lb_bus_detach(struct lb_bus *bus);

/* lb_bus_writer_generation - a new writer's first word in the header:
 * bumps the generation, which clients read to notice a writer restart.
 * Before its registrar answers anyone. */
void lb_bus_writer_generation(const struct lb_bus *bus);

/* lb_bus_writer_begin - record the calling process as the bus's writer,
 * once it drains: sets pid, start time and heartbeat. */
void lb_bus_writer_begin(const struct lb_bus *bus, pid_t pid, uint64_t realtime_ns,
			 uint64_t monotonic_ns);

/* lb_bus_writer_end - a clean writer exit: the pid goes back to 0. */
void lb_bus_writer_end(const struct lb_bus *bus);

/* lb_bus_heartbeat - the writer's sign of life, CLOCK_MONOTONIC ns. */
void lb_bus_heartbeat(const struct lb_bus *bus, uint64_t monotonic_ns);

/* lb_bus_writer_pid - the writer's pid, 0 when none ran or it exited. */
pid_t lb_bus_writer_pid(const struct lb_bus *bus);

/* lb_bus_generation - how many writers started on the bus: a client that
 * sees it change knows the writer restarted (and reattaches its lanes). */
uint64_t lb_bus_generation(const struct lb_bus *bus);

/* lb_bus_writer_stale - true when no writer runs, or its heartbeat is older
 * than stale_ns at now (CLOCK_MONOTONIC ns). */
bool lb_bus_writer_stale(const struct lb_bus *bus, uint64_t now_ns, uint64_t stale_ns);

/* lb_bus_output_seq, lb_bus_set_output_seq - where the writer's output
 * sequence resumes after a restart. */
uint64_t lb_bus_output_seq(const struct lb_bus *bus);
void lb_bus_set_output_seq(const struct lb_bus *bus, uint64_t seq);


/* lb_bus_id - the segment's random id, set at creation: a segment made
 * again under the same name has another id (lane sequences restart with
 * it). 0 for a segment made before ids existed. */
uint64_t lb_bus_id(const struct lb_bus *bus);
