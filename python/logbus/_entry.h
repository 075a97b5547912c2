/* SPDX-License-Identifier: MIT */
/*
 * Python arguments to one logbus entry: level, tag, message and fields,
 * checked with one clear error each and turned into the byte views that
 * logbus_publishv takes. Everything lives on the caller's stack; the
 * Python objects whose bytes the views point into are kept alive by the
 * caller's arguments or by entry->owned until pyentry_release.
 */
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdbool.h>

#include <logbus.h>

/* Room for the decimal text of any 64-bit integer, sign and NUL included. */
#define PYENTRY_NUMBER_MAX 24

struct pyentry {
	int level;
	const char *tag;                       /* NULL: the library's default */
	char tag_buf[LOGBUS_TAG_MAX + 1];      /* a cleaned-up tag */
	const char *msg;
	Py_ssize_t msg_len;
	struct logbus_field fields[LOGBUS_FIELDS_MAX];
	size_t nfields;
	char numbers[LOGBUS_FIELDS_MAX][PYENTRY_NUMBER_MAX];
	PyObject *owned[LOGBUS_FIELDS_MAX + 2]; /* a value's text each, the message, the record's dict */
	size_t nowned;
};

/* How a field value that is not str, bytes, int, float, bool or None is
 * taken: Bus.publish refuses it, the logging handler takes its str(). */
enum pyentry_values { PYENTRY_STRICT, PYENTRY_LENIENT };

/* pyentry_init - an entry with no tag, no message and no field. */
void pyentry_init(struct pyentry *e);

/* pyentry_release - drop the references the entry holds. */
void pyentry_release(struct pyentry *e);

/*
 * pyentry_level - a level given as a syslog number 0..7 or a name ("info",
 * "err", "error", "warning", "warn", "crit", "critical", ...). Returns 0, or
 * -1 with ValueError or TypeError set.
 */
int pyentry_level(PyObject *level, int *out);

/* pyentry_level_from_logging - the syslog level for a logging levelno:
 * CRITICAL and above crit, ERROR err, WARNING warning, INFO info, below
 * INFO debug (a level between two takes the lower one's). */
int pyentry_level_from_logging(long levelno);

/* pyentry_tag - set the tag from a str (None: the library's default, the
 * program's name). A tag that is not 1..64 printable ASCII characters
 * without space raises ValueError. Returns 0 or -1. */
int pyentry_tag(struct pyentry *e, PyObject *tag);

/* pyentry_tag_cleaned - set the tag from a logger's name: bytes outside
 * printable ASCII become '_', the name is cut at 64 bytes, an empty name
 * becomes "root". Returns 0 or -1 (not a str). */
int pyentry_tag_cleaned(struct pyentry *e, PyObject *name);

/* pyentry_message - the message, a str (as UTF-8) or bytes-like object
 * given as bytes. Returns 0 or -1 with TypeError set. */
int pyentry_message(struct pyentry *e, PyObject *msg);

/* pyentry_field - append the field key=value. The key must be a str of 1
 * to 64 characters of [A-Za-z0-9_] (ValueError naming the key and the
 * rule); str values are taken as UTF-8, bytes as they are, int and float
 * as their str(), True/False as "true"/"false", None as "null"; other types
 * raise TypeError (strict) or are taken as their str() (lenient). At most
 * LOGBUS_FIELDS_MAX fields. Returns 0 or -1. */
int pyentry_field(struct pyentry *e, PyObject *key, PyObject *value, enum pyentry_values how);
