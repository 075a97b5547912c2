/* SPDX-License-Identifier: MIT */
/*
 * A hostile client for the isolation tests: run as a user of its own, it
 * does everything it can reach to a bus and to the other clients on it,
 * and reports what worked. It opens every file of the bus and of the
 * writer's private directory, and the /proc files of the victim, the
 * writer and its registrar, for reading and writing; it speaks the
 * registration protocol raw (shm/register.h): takes lanes until refused,
 * scribbles over its lanes' headers and rings, commits records with a
 * forged pid 1 and tag "sshd" and with a forged lane_seq of 2^62,
 * truncates lane files to half and to 0, sends garbage datagrams, and
 * RELEASEs and ADOPTs slots it does not hold. Everything it reads is
 * searched for the victim's secret.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "register.h"

#define HOSTILE_FORGED_TAG "sshd"
#define HOSTILE_FORGED_PID 1u
#define HOSTILE_FORGED_SEQ (UINT64_C(1) << 62)

/* What the test tells the hostile (set before it starts). */
struct hostile_target {
	char bus[64];
	pid_t victim, writer, registrar;  /* whose /proc files it goes for */
	char secret[48];                  /* the victim's bytes: never to be read */
	unsigned seed;                    /* of its random bytes */
	bool seq_only;                    /* only take lanes, commit records with
					   * the forged lane_seq, and exit */
	_Atomic int stop;                 /* end the attacks and exit */
};

/* What the hostile found. Counts are of attempts; "breaches" are the
 * attempts that worked and must not have. */
struct hostile_report {
	_Atomic int armed;                /* lanes taken, every attack made once */
	_Atomic uint64_t rounds;          /* attack rounds finished */
	unsigned lanes;                   /* lanes granted before the first refusal */
	int refusal;                      /* that refusal's error, a negative errno */
	char refusal_text[LB_REG_TEXT_MAX];
	int refusal_again;                /* the answer to LANE on a second connection */
	uint64_t tried;                   /* opens and reads of files not its own */
	uint64_t breaches;                /* of those, the ones that worked */
	char breach[256];                 /* the first one */
	uint64_t odd;                     /* failed, but not with EACCES, EPERM,
					   * ENOENT, ENXIO or ESRCH */
	char odd_what[256];               /* the first one */
	uint64_t leaks;                   /* reads that held the secret */
	uint64_t adopted;                 /* others' slots it was let ADOPT */
	uint64_t forged;                  /* records committed with pid 1 */
	uint64_t forged_seq;              /* records committed with lane_seq >= 2^62 */
	uint64_t garbage;                 /* garbage datagrams sent */
	uint64_t sweeps;                  /* RELEASE and ADOPT sweeps over every slot */
	char failed[256];                 /* why it gave up, when it did */
};

/* Both, in memory the test shares with the hostile (harness_shared). */
struct hostile {
	struct hostile_target target;
	struct hostile_report report;
};

/*
 * hostile_main - the hostile client, as a users_fn: attacks h->target
 * until h->target.stop (or, with seq_only, once), filling h->report.
 * Returns 0, or 1 when it could not carry out its attacks (report.failed
 * says why).
 */
int hostile_main(void *h);

/* The raw protocol, for tests of what the registrar answers, from forked
 * children of other users: unlike harness_raw_connect and
 * harness_raw_lane, these never assert (a cmocka failure in a child would
 * run the rest of the tests there), they return errors. */

/* hostile_connect - a new connection to bus's registrar, whose answers
 * are awaited 5 s at most. Returns a descriptor or a negative errno. */
int hostile_connect(const char *bus);

/*
 * hostile_request - send a request of type for slot and grant on sock,
 * then receive the answer into *answer, with the descriptor that came
 * with it in *fd (-1: none). Returns 0 or a negative errno (lb_reg_send's,
 * lb_reg_recv's).
 */
int hostile_request(int sock, uint16_t type, uint32_t slot, uint64_t grant,
		    struct lb_reg_msg *answer, int *fd);
