/* SPDX-License-Identifier: MIT */
/*
 * The registry: the writer's own table of lane slots, and the lane files.
 *
 * A bus has lane_count slots. A client gets a lane by asking the writer's
 * registrar over the bus's socket (register.h); the registrar takes a free
 * slot, makes a new lane file for it and passes the client its descriptor.
 * A lane file is never handed to a second client: a slot given again gets
 * a new file, so whatever the last holder still maps is its own memory.
 * Positions and lane sequences continue across a slot's files, which keeps
 * (lane, lane_seq) an entry's identity and the sinks' saved positions
 * valid.
 *
 * Everything lives in the writer's private directory
 * /dev/shm/logbus.<bus>.d (lb_registry_dir, names.h; mode 0700): "registry"
 * (this table) and "lane.<slot>.<grant>" (mode 0600) for each slot that
 * holds a lane. The registry is shared by the writer's two processes, the drain and the
 * registrar, through a MAP_SHARED mapping of that file, and outlives them:
 * a writer restarted after a SIGKILL finds every lane that still holds
 * entries, those of clients that died meanwhile included.
 *
 * Slot states, each change a single store or CAS on `state`:
 *
 *   FREE --registrar: CAS--> GRANTING --file made, identity set--> GRANTED
 *    ^                                                               |
 *    |                   registrar: connection closed, RELEASE;      |
 *    |                   drain: process gone, lane file truncated    v
 *    +------- drain: drained, file unlinked, tail kept -------- RELEASED
 *
 * LMM(registry_grant:A): the registrar stores GRANTED with release order
 * after the slot's fields; the drain loads the state with acquire order
 * before it reads them (registry_map:A). LMM(registry_free:A): the drain
 * stores FREE with release order after the slot's tail and sequence floor;
 * the registrar's CAS from FREE is acquire (registry_claim:A).
 *
 * The registrar bumps `changes` and wakes it (a futex word) after every
 * change, so a sleeping drain maps a new lane, or frees a released one, at
 * once.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "identity.h"

#define LB_REGISTRY_MAGIC UINT64_C(0x3147455253554c42) /* "BLUSREG1" */
#define LB_REGISTRY_VERSION 1u

enum lb_slot_state {
	LB_SLOT_FREE = 0,
	LB_SLOT_GRANTING = 1,   /* the registrar is making its lane file */
	LB_SLOT_GRANTED = 2,    /* a client holds it */
	LB_SLOT_RELEASED = 3,   /* its client is gone: drain it, then free it */
};

struct lb_registry_header {
	uint64_t magic;
	uint32_t version;
	uint32_t slot_count;
	uint64_t lane_size;
	uint64_t bus_id;                 /* lb_bus_id of the segment it serves */
	/* Bumped by each registrar that starts: a slot granted or adopted in
	 * an earlier run has no connection any more (an orphan, see
	 * lb_slot.run). */
	_Atomic uint64_t run;
	_Atomic uint64_t next_grant;     /* grant ids, never reused */
	_Atomic uint32_t changes;        /* futex word: bumped at every grant and release */
	_Atomic int32_t registrar_pid;
	/* The registrar's counts, for the writer's stats. */
	_Atomic uint64_t registrations;  /* lanes granted */
	_Atomic uint64_t refused_denied; /* clients the configuration does not allow */
	_Atomic uint64_t refused_quota;  /* past a per-uid or per-client quota */
	_Atomic uint64_t refused_full;   /* every slot taken */
	_Atomic uint64_t dropped_no_lane;/* refusals that cost the client its entry */
	uint64_t reserved[5];
};

struct lb_slot {
	_Atomic uint32_t state;          /* enum lb_slot_state */
	uint32_t tid;                    /* the thread that asked: the client's word */
	_Atomic uint64_t grant;          /* the current lane file's grant id */
	uint64_t run;                    /* registrar run that holds its connection */
	uint64_t conn;                   /* that connection, within the run */
	/* Where the slot's positions and sequences stand, kept by the drain
	 * (its own word, never read back from a lane file): */
	_Atomic uint64_t tail;           /* the lane's tail */
	_Atomic uint64_t seq_floor;      /* above every lane_seq the slot has shown */
	/* Where the current lane file started (set with its grant): its
	 * records' lane sequences are at least seq_start, and at a position
	 * pos at most seq_start + (pos - pos_start) / the smallest record, so
	 * a forged sequence is seen for what it is. */
	uint64_t pos_start;
	uint64_t seq_start;
	struct lb_client_identity who;   /* the holder, as the kernel says */
};

/* The registry as a process maps it. */
struct lb_registry {
	struct lb_registry_header *hdr;
	struct lb_slot *slots;
	size_t size;
	int dirfd;                       /* the private directory */
	uint32_t slot_count;
	uint64_t lane_size;
	uint64_t file_size;              /* of a lane file: header and ring */
};

/*
 * lb_registry_lock - become the only writer of bus_name: make the private
 * directory (mode 0700), or open the one an earlier writer left, and take
 * an exclusive flock(2) on it, which the kernel drops when the process
 * dies. Clients cannot open the directory, so none can hold the lock. A
 * directory that another user owns, or that others may enter, is refused
 * (-EPERM). Returns the directory's descriptor, -EBUSY when another writer
 * holds the lock, or another negative errno; err says why.
 */
int lb_registry_lock(const char *bus_name, struct lb_bus_error *err);

/*
 * lb_registry_open - the writer, holding the lock (dirfd from
 * lb_registry_lock, which reg keeps): adopt the registry a previous writer
 * left when it serves the same segment and geometry, or make it anew (the
 * lane files beside it removed). An adopted registry's GRANTING slots, a
 * grant its writer did not finish, go back to FREE. Returns 0 or a
 * negative errno with err->why.
 */
int lb_registry_open(int dirfd, const struct lb_bus *bus, struct lb_registry *reg,
		     struct lb_bus_error *err);

/* lb_registry_view - map an existing registry read-only, for tests and
 * tools run by the writer's user. 0, -ENOENT, -EACCES, -EBADMSG. */
int lb_registry_view(const char *bus_name, struct lb_registry *reg);

/* lb_registry_close - unmap and close (the lock goes with the descriptor);
 * a closed registry is a no-op. */
void lb_registry_close(struct lb_registry *reg);

/* lb_registry_notify - after a change of slot states: bump `changes` and
 * wake the drain. */
void lb_registry_notify(const struct lb_registry *reg);

/*
 * lb_lane_file_create - the registrar: make slot's lane file for grant,
 * mode 0600, every byte allocated, its header set (head = tail = the
 * slot's tail, next_seq = its seq_floor), both noted in the slot's
 * pos_start and seq_start. Returns an O_RDWR descriptor or a negative
 * errno.
 */
int lb_lane_file_create(const struct lb_registry *reg, uint32_t slot, uint64_t grant);

/* lb_lane_file_open - the drain: open slot's lane file of grant. Returns
 * a descriptor or a negative errno (-ENOENT: there is none). */
int lb_lane_file_open(const struct lb_registry *reg, uint32_t slot, uint64_t grant);

/* lb_lane_file_unlink - remove slot's lane file of grant; 0 or -errno. */
int lb_lane_file_unlink(const struct lb_registry *reg, uint32_t slot, uint64_t grant);
