/* SPDX-License-Identifier: MIT */
/*
 * journald's native protocol, client side: one datagram per entry to a
 * journald socket, the default one or a namespace's
 * (/run/systemd/journal.NAMESPACE/socket), so that the writer can feed a
 * journald of its own choosing, which sd_journal_sendv() cannot.
 */
#pragma once

#include <stddef.h>
#include <sys/uio.h>

#include "buf.h"

struct journal_native {
	int fd;
	char path[108];
};

/* journal_native_open - a socket for the journald of namespace (NULL or
 * "": the default one). Returns 0 or a negative errno. */
int journal_native_open(struct journal_native *j, const char *namespace_);

/* journal_native_close - a zeroed j (fd -1) is a no-op. */
void journal_native_close(struct journal_native *j);

/* journal_native_encode - the datagram for fields[0..n), each
 * "NAME=value", into out (replaced): every field in the binary-safe form
 * NAME LF <64-bit little-endian length> value LF. Returns 0 or -ENOMEM. */
int journal_native_encode(const struct iovec *fields, int n, struct lb_buf *out);

/* journal_native_send - send one encoded entry; one too big for a
 * datagram goes in a sealed memfd, as libsystemd does. Returns 0 or a
 * negative errno (-ECONNREFUSED, -ENOENT: journald is not there;
 * -EAGAIN: it did not take the entry within the send timeout). */
int journal_native_send(struct journal_native *j, const void *data, size_t len);
