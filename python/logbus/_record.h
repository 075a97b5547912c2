/* SPDX-License-Identifier: MIT */
/* A logging.LogRecord as one logbus entry, read straight from the record's
 * __dict__ (see _record.c). */
#pragma once

#include "_entry.h"

/*
 * pyrecord_setup - learn the standard LogRecord class and the names of its
 * attributes (every other key of a record's __dict__ is an extra= field).
 * Called once by the Python layer. Returns 0 or -1 with an error set.
 */
int pyrecord_setup(PyObject *record_type, PyObject *attribute_names);

/* pyrecord_is_attribute - whether key names a standard LogRecord attribute
 * (or "message", "asctime"). */
bool pyrecord_is_attribute(PyObject *key);

/*
 * pyrecord_entry - fill e from record: the level from levelno, the tag
 * (tag, or the logger's name cleaned up), the message (message, or
 * record.getMessage()), the fields module, funcName, lineno, thread,
 * process, traceback (when given) and every extra attribute (lenient
 * values). Returns 0 or -1 with an error set.
 */
int pyrecord_entry(struct pyentry *e, PyObject *record, PyObject *tag, PyObject *message,
		   PyObject *traceback);
