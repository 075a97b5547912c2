/* SPDX-License-Identifier: MIT */
/*
 * The writer's small state files (sinks' restart marks, persisted stats
 * counts): text rewritten in place with one pwrite(2) at offset 0 and
 * closed by an "end <hash>" line, so that a process killed at any
 * instruction leaves the old state or the new one, and a state cut by a
 * crash of the machine is recognised and ignored.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* state_hash - 64-bit FNV-1a of n bytes at p. */
uint64_t state_hash(const char *p, size_t n);

/* state_file_read - the whole state of fd, up to its "end" line (which is
 * cut off), NUL-terminated in buf[cap]; false when there is none or it
 * does not match its hash. */
bool state_file_read(int fd, char *buf, size_t cap);

/* state_file_write - append the "end" line to the lines in b and write it
 * all at offset 0 of fd. Returns 0, -ENOMEM when b is incomplete, or a
 * negative errno. */
int state_file_write(int fd, struct lb_buf *b);
