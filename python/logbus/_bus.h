/* SPDX-License-Identifier: MIT */
/* The Bus type of logbus._logbus, for the other parts of the extension. */
#pragma once

#include "_entry.h"

/* pybus_send - publish e through bus (a Bus). Returns 1 when the entry is
 * in the bus (or the fallback), 0 when it was dropped and counted, -1 with
 * an error set (a closed Bus: ValueError). */
int pybus_send(PyObject *bus, struct pyentry *e);

/* pybus_is_open - whether bus is a Bus that is not closed. */
bool pybus_is_open(PyObject *bus);
