/* SPDX-License-Identifier: MIT */
/* logbus.Logger's fast path: logging calls that reach only logbus.Handlers
 * become entries without a LogRecord (see _logger.c). */
#pragma once

#include <Python.h>

/* The C base of logbus.Logger: its _log method. */
extern PyTypeObject pylogger_type;

/*
 * pylogger_setup - learn the logbus.Handler class and the logging module
 * (its Logger._log is the slow path, its switches logThreads and
 * logProcesses are read at each call).
 * Returns 0 or -1 with an error set.
 */
int pylogger_setup(PyObject *handler_type, PyObject *logging_module);
