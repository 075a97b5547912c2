/* SPDX-License-Identifier: MIT */
/*
 * Registration: how a client gets lanes from the writer.
 *
 * The writer's registrar listens on the unix socket
 * /dev/shm/logbus.<bus>.sock (lb_reg_socket_path, names.h; SOCK_SEQPACKET;
 * its mode and group, and the users and groups it accepts, are the
 * writer's configuration). A client process connects once per handle and
 * keeps the connection: the kernel tells the registrar the client's pid,
 * uid and gid (SO_PEERCRED), and the connection's end tells it the client
 * is gone, at once, however it died.
 *
 * Every message, both ways, is one struct lb_reg_msg in one datagram:
 *
 *   client                              registrar
 *   LANE (tid, flags)          ->       GRANT (slot, grant) + the lane
 *                                         file's descriptor (SCM_RIGHTS)
 *                              <-       or REFUSE (error, text)
 *   RELEASE (slot, grant)      ->       (no answer) the slot is drained
 *                                         and freed
 *   ADOPT (slot, grant)        ->       ADOPTED, or REFUSE: after a writer
 *                              <-         restart, "these lanes are mine";
 *                                         the registrar checks the slot's
 *                                         pid and start time
 *
 * Requests are answered in order, each answer carrying its request's
 * `req`; a client waits for each answer with a timeout, and tells a late
 * answer to an earlier request by its `req` (a late GRANT it gives back
 * with a RELEASE). Anything that is not one whole message of this version
 * ends the connection.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define LB_REG_VERSION 1u
#define LB_REG_TEXT_MAX 200

enum lb_reg_type {
	LB_REG_LANE = 1,
	LB_REG_RELEASE = 2,
	LB_REG_ADOPT = 3,
	LB_REG_GRANT = 0x81,
	LB_REG_REFUSE = 0x82,
	LB_REG_ADOPTED = 0x83,
};

/* LANE flags. */
#define LB_REG_SHARES 1u   /* the client has a lane to share if refused: a
			    * refusal does not cost it the entry */

struct lb_reg_msg {
	uint16_t version;          /* LB_REG_VERSION */
	uint16_t type;             /* enum lb_reg_type */
	uint32_t slot;
	uint64_t grant;
	uint32_t tid;              /* LANE: the thread that asks (its word) */
	uint32_t flags;            /* LANE: LB_REG_* */
	int32_t error;             /* REFUSE: a negative errno */
	uint32_t req;              /* the client's id of a request, echoed in its answer */
	char text[LB_REG_TEXT_MAX];/* REFUSE: why, one line, NUL-terminated */
};

_Static_assert(sizeof(struct lb_reg_msg) == 232, "registration message size");

/* lb_reg_send - send m, with descriptor fd when fd >= 0. Never blocks
 * (MSG_DONTWAIT) and never raises SIGPIPE. Returns 0 or a negative errno. */
int lb_reg_send(int sock, const struct lb_reg_msg *m, int fd);

/*
 * lb_reg_recv - receive one message into m. A descriptor that came with
 * it goes to *fd when fd is not NULL (else it is closed); *fd is -1 when
 * none came. Returns 0, -ECONNRESET when the peer closed, -EBADMSG for a
 * message of the wrong size or version (any descriptor is closed), or the
 * errno of recvmsg (-EAGAIN when the socket's timeout ran out).
 */
int lb_reg_recv(int sock, struct lb_reg_msg *m, int *fd);
