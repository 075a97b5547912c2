/* SPDX-License-Identifier: MIT */
/*
 * The byte layouts that clients and the writer share: the bus segment
 * "/logbus.<bus>", which the writer alone writes and clients map read-only,
 * and the lane files, one per grant of a lane to a client, which that
 * client and the writer map read-write and nobody else can reach (see
 * registry.h). Only code under shm/ includes this file; everything else
 * goes through the functions of bus.h, lane.h and record.h.
 *
 *   bus segment:  struct lb_bus_header               (3 cache lines)
 *   lane file:    struct lb_lane                     (4 cache lines)
 *                 ring                               (lane_size bytes)
 *
 * All fields are fixed-width, native endian (the segment never leaves the
 * machine), and there are no pointers: only offsets, which every reader
 * checks against the mapped size before use.
 */
#pragma once

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define LB_CACHE_LINE 64

#define LB_BUS_MAGIC       UINT64_C(0x3153554247304f4c) /* "LO0GBUS1" */
#define LB_LAYOUT_VERSION  3u

/* Timestamps in records: raw TSC ticks (invariant TSC) or CLOCK_REALTIME ns. */
enum lb_ts_mode {
	LB_TS_REALTIME = 1,
	LB_TS_TSC = 2,
};

struct lb_bus_header {
	/* Line 0: identity and geometry, written once by the creating writer.
	 * magic is stored last, with release order (see bus.c). */
	_Atomic uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t segment_size;
	uint32_t lane_count;     /* lane slots: lanes granted at once, at most */
	uint32_t lane_header_size;
	uint64_t lane_size;      /* ring bytes per lane, a power of two */
	uint64_t reserved0;
	uint64_t lane_stride;    /* a lane file's size: lane_header_size + lane_size */
	uint32_t max_record;     /* largest record a lane accepts, in bytes */
	uint32_t ts_mode;        /* enum lb_ts_mode */

	/* Line 1: the current writer, rewritten at each writer start. */
	alignas(LB_CACHE_LINE) _Atomic uint64_t generation;
	_Atomic int32_t writer_pid;      /* 0 after a clean writer exit */
	uint32_t reserved1;
	_Atomic uint64_t writer_start_ns; /* CLOCK_REALTIME */
	_Atomic uint64_t heartbeat_ns;    /* CLOCK_MONOTONIC, refreshed by the writer */
	uint64_t segment_id;              /* random, set once at creation (bus_create:A) */
	uint64_t reserved2;
	_Atomic uint64_t next_output_seq; /* the writer's next output seq */
	uint64_t reserved3;

	/* Line 2: the doorbell's settings and count. The doorbell itself is
	 * a word in each lane (struct lb_lane.sleeping), so that no client
	 * can ring or silence it for another. */
	alignas(LB_CACHE_LINE) uint32_t reserved4;
	_Atomic uint32_t doorbell_flags;  /* LB_DOORBELL_*, set by the writer */
	_Atomic uint64_t sleeps;          /* times the writer went to sleep */
};

/* The writer fences every producer with membarrier(2) before it sleeps,
 * so producers registered for it may publish with a release store. */
#define LB_DOORBELL_MEMBARRIER 1u

/*
 * A lane: the header of a lane file. Everything in it is the client's to
 * scribble on; the writer trusts none of it (it keeps the tail, the grant
 * and the client's identity in its own registry, registry.h) and validates
 * every head it reads against its own tail.
 */
struct lb_lane {
	/* Line 0: set by the writer when it makes the file. */
	uint64_t grant;                   /* the grant this file was made for */
	uint32_t slot;
	uint32_t reserved0;

	/* Line 1: written only by the producer. */
	alignas(LB_CACHE_LINE) _Atomic uint64_t head;
	_Atomic uint64_t next_seq;        /* lane sequence of the next record */
	_Atomic uint64_t published;       /* records committed since the claim */
	_Atomic uint64_t dropped_full;    /* since the claim */
	_Atomic uint64_t dropped_too_large;

	/* Line 2: the writer's. tail is written only by the writer; blocked
	 * is the futex word of publishers waiting for room (lane_block:A):
	 * they set it to 1, the writer clears it and wakes them after it
	 * moved the tail. It was padding (zero) in writers that predate it;
	 * such a writer never wakes, and a blocked publisher polls instead. */
	alignas(LB_CACHE_LINE) _Atomic uint64_t tail;
	_Atomic uint32_t blocked;

	/* Line 3: the doorbell (a futex word), which every commit reads. The
	 * writer sets it in every lane before it sleeps and clears it when it
	 * wakes; a producer that clears it wakes the writer (doorbell.c). On
	 * a line of its own: the tail's line changes every batch, and a load
	 * of it per commit would cost a cache miss per batch. */
	alignas(LB_CACHE_LINE) _Atomic uint32_t sleeping;
};

#define LB_LANE_HEADER_SIZE ((uint32_t)sizeof(struct lb_lane))

/*
 * A record in a lane's ring. Records are 8-byte aligned and never wrap: a
 * record that does not fit before the end of the ring is preceded by a pad
 * record that fills the rest. The header is followed by the tag, the
 * message, then nfields fields, each a struct lb_field_header, its key and
 * its value. size counts all of it, before alignment.
 */
enum lb_record_kind {
	LB_RECORD_ENTRY = 0x454c, /* "LE" */
	LB_RECORD_PAD = 0x4150,   /* "PA" */
};

struct lb_record_header {
	uint32_t size;
	uint16_t kind;     /* enum lb_record_kind */
	uint8_t level;
	uint8_t ts_mode;   /* enum lb_ts_mode */
	uint64_t seq;      /* lane sequence */
	uint64_t ts;
	uint32_t pid;
	uint32_t tid;
	uint32_t msg_len;
	uint16_t tag_len;
	uint16_t nfields;
};

struct lb_field_header {
	uint16_t key_len;
	uint16_t reserved;
	uint32_t value_len;
};

#define LB_RECORD_ALIGN 8u

_Static_assert(offsetof(struct lb_bus_header, magic) == 0, "magic first");
_Static_assert(offsetof(struct lb_bus_header, generation) == 64, "writer line");
_Static_assert(offsetof(struct lb_bus_header, reserved3) == 120, "writer line, last word");
_Static_assert(offsetof(struct lb_bus_header, reserved4) == 128, "doorbell line");
_Static_assert(sizeof(struct lb_bus_header) == 192, "bus header size");
_Static_assert(offsetof(struct lb_lane, head) == 64, "producer line");
_Static_assert(offsetof(struct lb_lane, tail) == 128, "consumer line");
_Static_assert(offsetof(struct lb_lane, blocked) == 136, "blocked beside the tail");
_Static_assert(offsetof(struct lb_lane, sleeping) == 192, "doorbell line");
_Static_assert(sizeof(struct lb_lane) == 256, "lane header size");
_Static_assert(sizeof(struct lb_record_header) == 40, "record header size");
_Static_assert(sizeof(struct lb_field_header) == 8, "field header size");
_Static_assert(sizeof(struct lb_record_header) % LB_RECORD_ALIGN == 0, "aligned records");
