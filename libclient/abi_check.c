/* SPDX-License-Identifier: MIT */
/* Compile-time checks that the public header and the shared layout agree:
 * shm/record.h states the record's limits and the field it encodes without
 * including logbus.h, and the library, which sees both, holds them equal. */
#include <stddef.h>

#include "logbus.h"
#include "record.h"

_Static_assert(LOGBUS_EMERG == 0 && LOGBUS_DEBUG == LB_LEVEL_MAX, "levels: logbus.h and record.h differ");
_Static_assert(LOGBUS_TAG_MAX == LB_TAG_MAX, "LOGBUS_TAG_MAX differs from record.h's LB_TAG_MAX");
_Static_assert(LOGBUS_KEY_MAX == LB_KEY_MAX, "LOGBUS_KEY_MAX differs from record.h's LB_KEY_MAX");
_Static_assert(LOGBUS_FIELDS_MAX == LB_FIELDS_MAX, "LOGBUS_FIELDS_MAX differs from record.h's LB_FIELDS_MAX");

/* record.c reads a struct logbus_field array as struct lb_field_src. */
_Static_assert(sizeof(struct logbus_field) == sizeof(struct lb_field_src), "struct logbus_field size");
_Static_assert(offsetof(struct logbus_field, key) == offsetof(struct lb_field_src, key), "logbus_field.key");
_Static_assert(offsetof(struct logbus_field, value) == offsetof(struct lb_field_src, value), "logbus_field.value");
_Static_assert(offsetof(struct logbus_field, len) == offsetof(struct lb_field_src, len), "logbus_field.len");
