/* SPDX-License-Identifier: MIT */
/*
 * An entry as the fields of a journal entry, each one "NAME=value", for
 * the journald sink (sink_journal.c) to encode (journal_native.c). Which
 * fields, and why, is told at the head of journal_fields.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "buf.h"
#include "logbus.h"
#include "sink.h"

#define JOURNAL_FIELDS_FIXED 19     /* ours, at most */
#define JOURNAL_FIELDS_MAX (JOURNAL_FIELDS_FIXED + LOGBUS_FIELDS_MAX)

struct journal_fields {
	struct iovec iov[JOURNAL_FIELDS_MAX];   /* into text */
	int n;
	size_t offs[JOURNAL_FIELDS_MAX + 1];    /* where each field starts in text */
	struct lb_buf text;
};

/* journal_fields_object_by_journald - whether journald adds the OBJECT_
 * fields itself for an OBJECT_PID this process sends: it does for a
 * sender of uid 0 only. */
bool journal_fields_object_by_journald(void);

/*
 * journal_fields_build - the fields of be into f (replacing what it held):
 * SYSLOG_IDENTIFIER is prefix + tag; object_by_journald as
 * journal_fields_object_by_journald() says. Returns the field count (in
 * f->iov), or -ENOMEM.
 */
int journal_fields_build(struct journal_fields *f, const struct batch_entry *be,
			 const char *prefix, bool object_by_journald);

/* journal_fields_free - release f's memory; f stays usable. */
void journal_fields_free(struct journal_fields *f);
