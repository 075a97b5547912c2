/* SPDX-License-Identifier: MIT */
/*
 * logbus._logbus: the CPython extension over liblogbus. This file is the
 * module and its Bus type, a handle of the library; _entry.c turns Python
 * arguments into an entry, _record.c a LogRecord, _logger.c is
 * logbus.Logger's fast path. The Python layer (logbus/__init__.py) builds
 * the public API on them.
 *
 * The GIL. A publish in drop mode never waits, so it runs with the GIL held:
 * releasing and taking it again would cost more than the publish itself.
 * Calls that may wait (flush, and every publish under LOGBUS_SYNC=1 or the
 * block overflow policy) let the GIL go.
 *
 * Handles. Every Bus of this process on the same bus name and overflow
 * policy shares one library handle (struct shared_handle), counted: a
 * thread can publish through at most 8 open handles (the library keeps its
 * lanes per handle in a small thread-local table), so a program with a Bus
 * per Handler or per task on one bus would soon run out. The library forbids logbus_close while another thread uses the handle,
 * so a call running without the GIL holds a count too; the last count
 * closes the handle. All counts are taken under the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <logbus.h>

#include "_bus.h"
#include "_entry.h"
#include "_logger.h"
#include "_record.h"
#include "bus.h"

/* What a publish does when its lane is full. */
struct overflow {
	int policy;                  /* LOGBUS_OVERFLOW_*, or -1: the library's ($LOGBUS_OVERFLOW) */
	int timeout_ms;              /* LOGBUS_OVERFLOW_BLOCK: negative for no limit */
};

/* One library handle, shared by the Bus objects of one bus name and
 * overflow policy. */
struct shared_handle {
	char *name;                  /* NULL: the default ($LOGBUS_BUS, else "default") */
	struct overflow overflow;
	logbus_t *lb;
	unsigned refs;               /* open Bus objects plus calls without the GIL */
	struct shared_handle *next;
};

static struct shared_handle *shared_handles; /* under the GIL */

typedef struct {
	PyObject_HEAD
	struct shared_handle *handle; /* NULL once closed */
	bool may_wait;                /* LOGBUS_SYNC=1: publish waits for the writer */
} BusObject;

/* The Bus type, defined below its methods. */
static PyTypeObject pybus_type;

static PyObject *str_tag; /* "tag", interned: the one keyword of publish that is no field */

static bool same_name(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The shared handle of bus name (NULL: the default) with policy o, opened
 * on first use; NULL with errno set by logbus_open, or ENOMEM. */
static struct shared_handle *handle_get(const char *name, struct overflow o)
{
	struct shared_handle *h;

	for (h = shared_handles; h; h = h->next) {
		if (same_name(h->name, name) && h->overflow.policy == o.policy &&
		    h->overflow.timeout_ms == o.timeout_ms) {
			h->refs++;
			return h;
		}
	}
	h = calloc(1, sizeof(*h));
	if (!h || (name && !(h->name = strdup(name)))) {
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	h->lb = logbus_open(name);
	if (!h->lb || (o.policy >= 0 && logbus_set_overflow(h->lb, o.policy, o.timeout_ms) < 0)) {
		int err = h->lb ? EINVAL : errno;
		logbus_close(h->lb);
		free(h->name);
		free(h);
		errno = err;
		return NULL;
	}
	h->overflow = o;
	h->refs = 1;
	h->next = shared_handles;
	shared_handles = h;
	return h;
}

/* Drop a count of h; the last one closes the library handle. */
static void handle_put(struct shared_handle *h)
{
	if (--h->refs)
		return;
	for (struct shared_handle **p = &shared_handles; *p; p = &(*p)->next) {
		if (*p == h) {
			*p = h->next;
			break;
		}
	}
	logbus_close(h->lb);
	free(h->name);
	free(h);
}

/* Start a call on the bus; NULL with ValueError when it is closed. The
 * caller ends it with handle_put. */
static struct shared_handle *bus_enter(BusObject *self, const char *what)
{
	if (!self->handle) {
		PyErr_Format(PyExc_ValueError, "logbus: %s on a closed Bus", what);
		return NULL;
	}
	self->handle->refs++;
	return self->handle;
}

/* A timeout in seconds (None: no limit) as the library's milliseconds. */
static int timeout_ms(PyObject *timeout, int *ms)
{
	double seconds;

	if (timeout == Py_None) {
		*ms = -1;
		return 0;
	}
	seconds = PyFloat_AsDouble(timeout);
	if (seconds == -1.0 && PyErr_Occurred())
		return -1;
	if (!(seconds >= 0)) {
		PyErr_Format(PyExc_ValueError,
			     "logbus: timeout %R is not valid: seconds >= 0, or None for no limit",
			     timeout);
		return -1;
	}
	*ms = seconds * 1000.0 >= (double)INT_MAX ? INT_MAX : (int)ceil(seconds * 1000.0);
	return 0;
}

/* Bus's overflow and timeout arguments as a policy. */
static int overflow_parse(const char *name, PyObject *timeout, struct overflow *o)
{
	o->policy = -1;
	o->timeout_ms = -1;
	if (!name) {
		if (timeout != Py_None) {
			PyErr_SetString(PyExc_ValueError,
					"logbus: a timeout is for overflow='block' only");
			return -1;
		}
		return 0;
	}
	if (!strcmp(name, "drop")) {
		o->policy = LOGBUS_OVERFLOW_DROP;
		if (timeout != Py_None) {
			PyErr_SetString(PyExc_ValueError,
					"logbus: a timeout is for overflow='block' only, not 'drop'");
			return -1;
		}
		return 0;
	}
	if (!strcmp(name, "block")) {
		o->policy = LOGBUS_OVERFLOW_BLOCK;
		return timeout_ms(timeout, &o->timeout_ms);
	}
	PyErr_Format(PyExc_ValueError,
		     "logbus: overflow '%s' is not a policy: 'drop', 'block', or None for "
		     "$LOGBUS_OVERFLOW (else drop)",
		     name);
	return -1;
}

/* The error of a Bus that did not open, naming what the library refused. */
static void open_error(const char *name, int err)
{
	const char *env_bus = getenv("LOGBUS_BUS");
	const char *env_overflow = getenv("LOGBUS_OVERFLOW");

	if (err != EINVAL)
		PyErr_Format(PyExc_OSError, "logbus: cannot open bus %s: %s",
			     name ? name : lb_bus_default_name(), strerror(err));
	else if (name && !lb_bus_name_valid(name))
		PyErr_Format(PyExc_ValueError,
			     "logbus: bus name '%s' is not valid: a name is 1 to 64 characters of "
			     "[A-Za-z0-9_.-]",
			     name);
	else if (!name && env_bus && *env_bus && !lb_bus_name_valid(env_bus))
		PyErr_Format(PyExc_ValueError,
			     "logbus: $LOGBUS_BUS '%s' is not a valid bus name: a name is 1 to 64 "
			     "characters of [A-Za-z0-9_.-]",
			     env_bus);
	else
		PyErr_Format(PyExc_ValueError,
			     "logbus: $LOGBUS_OVERFLOW '%s' is not a policy: drop, block or "
			     "block:MS",
			     env_overflow ? env_overflow : "");
}

static PyObject *bus_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *keywords[] = { "name", "overflow", "timeout", NULL };
	const char *name = NULL, *overflow_name = NULL;
	const char *sync = getenv("LOGBUS_SYNC"), *env_overflow = getenv("LOGBUS_OVERFLOW");
	PyObject *timeout = Py_None;
	struct overflow overflow;
	BusObject *self;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|zzO:Bus", keywords, &name, &overflow_name,
					 &timeout) ||
	    overflow_parse(overflow_name, timeout, &overflow) < 0)
		return NULL;
	self = (BusObject *)type->tp_alloc(type, 0);
	if (!self)
		return NULL;
	self->handle = handle_get(name, overflow);
	if (!self->handle) {
		int err = errno;
		Py_DECREF(self);
		open_error(name, err);
		return NULL;
	}
	/* A publish may wait under LOGBUS_SYNC=1 (read as the library reads
	 * it) and under the block policy, chosen here or by a
	 * $LOGBUS_OVERFLOW other than drop (the library parsed it: any other
	 * value would have failed the open): then the GIL goes while it waits. */
	self->may_wait = (sync && !strcmp(sync, "1")) || overflow.policy == LOGBUS_OVERFLOW_BLOCK ||
			 (overflow.policy < 0 && env_overflow && *env_overflow &&
			  strcmp(env_overflow, "drop"));
	return (PyObject *)self;
}

static void bus_dealloc(BusObject *self)
{
	if (self->handle)
		handle_put(self->handle);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

int pybus_send(PyObject *bus, struct pyentry *e)
{
	BusObject *self = (BusObject *)bus;
	struct shared_handle *h = bus_enter(self, "publish");
	logbus_t *lb;
	int r;

	if (!h)
		return -1;
	lb = h->lb;
	if (__builtin_expect(self->may_wait, 0)) {
		Py_BEGIN_ALLOW_THREADS
		r = logbus_publishv(lb, e->level, e->tag, e->msg, (size_t)e->msg_len, e->fields,
				    e->nfields);
		Py_END_ALLOW_THREADS
	} else {
		r = logbus_publishv(lb, e->level, e->tag, e->msg, (size_t)e->msg_len, e->fields,
				    e->nfields);
	}
	handle_put(h);
	switch (r) {
	case 0:
		return 1;
	case -EAGAIN:    /* lane full */
	case -ENOSPC:    /* no lane: every lane taken */
	case -EDQUOT:    /* no lane: the user's quota (Bus.refusal says why) */
	case -EACCES:    /* no lane: the user may not log (Bus.refusal says why) */
	case -EMSGSIZE:  /* larger than the bus takes */
	case -EIO:       /* the fallback write failed */
		return 0;
	case -EINVAL:
		PyErr_SetString(PyExc_ValueError, "logbus: the library refused the entry's arguments");
		return -1;
	default:
		errno = -r;
		PyErr_SetFromErrno(PyExc_OSError);
		return -1;
	}
}

bool pybus_is_open(PyObject *bus)
{
	return PyObject_TypeCheck(bus, &pybus_type) && ((BusObject *)bus)->handle;
}

/* pybus_send as True, False or NULL. */
static PyObject *bus_send(BusObject *self, struct pyentry *e)
{
	int r = pybus_send((PyObject *)self, e);

	return r < 0 ? NULL : PyBool_FromLong(r);
}

PyDoc_STRVAR(bus_publish_doc,
	     "publish(level, msg, /, tag=None, **fields) -> bool\n\n"
	     "Publish one entry. True when it is in the bus (or the fallback), False\n"
	     "when it was dropped and counted (lane full, too large, no lane: then\n"
	     "Bus.refusal says why).");

static PyObject *bus_publish(BusObject *self, PyObject *const *args, Py_ssize_t nargs,
			     PyObject *kwnames)
{
	Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	struct pyentry e;
	PyObject *result = NULL;

	if (nargs != 2) {
		PyErr_Format(PyExc_TypeError,
			     "publish() takes the level and the message as its 2 positional "
			     "arguments (%zd given)",
			     nargs);
		return NULL;
	}
	pyentry_init(&e);
	if (pyentry_level(args[0], &e.level) < 0 || pyentry_message(&e, args[1]) < 0)
		goto out;
	for (Py_ssize_t i = 0; i < nkw; i++) {
		PyObject *key = PyTuple_GET_ITEM(kwnames, i), *value = args[nargs + i];
		int r;
		if (key == str_tag ||
		    (PyUnicode_GET_LENGTH(key) == 3 && PyUnicode_Compare(key, str_tag) == 0))
			r = pyentry_tag(&e, value);
		else
			r = pyentry_field(&e, key, value, PYENTRY_STRICT);
		if (r < 0)
			goto out;
	}
	result = bus_send(self, &e);
out:
	pyentry_release(&e);
	return result;
}

PyDoc_STRVAR(bus_publish_record_doc,
	     "_publish_record(record, tag, message, traceback) -> bool\n\n"
	     "logbus.Handler's emit: publish a logging.LogRecord (tag, message and\n"
	     "traceback may be None).");

static PyObject *bus_publish_record(BusObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	struct pyentry e;
	PyObject *result = NULL;

	if (nargs != 4) {
		PyErr_SetString(PyExc_TypeError,
				"_publish_record() takes record, tag, message, traceback");
		return NULL;
	}
	pyentry_init(&e);
	if (pyrecord_entry(&e, args[0], args[1], args[2], args[3]) == 0)
		result = bus_send(self, &e);
	pyentry_release(&e);
	return result;
}

PyDoc_STRVAR(bus_flush_doc,
	     "flush(timeout=None) -> bool\n\n"
	     "Wait until the writer has written every entry published through this\n"
	     "Bus before the call: True, or False when timeout seconds passed first.");

static PyObject *bus_flush(BusObject *self, PyObject *args, PyObject *kwds)
{
	static char *keywords[] = { "timeout", NULL };
	PyObject *timeout = Py_None;
	struct shared_handle *h;
	int ms, r;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:flush", keywords, &timeout) ||
	    timeout_ms(timeout, &ms) < 0)
		return NULL;
	h = bus_enter(self, "flush");
	if (!h)
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	r = logbus_flush(h->lb, ms);
	Py_END_ALLOW_THREADS
	handle_put(h);
	if (r == 0)
		Py_RETURN_TRUE;
	if (r == -ETIMEDOUT)
		Py_RETURN_FALSE;
	errno = -r;
	return PyErr_SetFromErrno(PyExc_OSError);
}

PyDoc_STRVAR(bus_stats_doc,
	     "stats() -> dict\n\n"
	     "The library's counters for this process's handle on the bus (every Bus\n"
	     "of this process on the same bus name shares it): published = queued + fallback +\n"
	     "dropped_full + dropped_too_large + dropped_no_lane + dropped_fallback.");

static PyObject *bus_stats(BusObject *self, PyObject *unused)
{
	struct logbus_stats st;
	struct shared_handle *h = bus_enter(self, "stats");
	int r;

	(void)unused;
	if (!h)
		return NULL;
	r = logbus_stats_get(h->lb, &st);
	handle_put(h);
	if (r < 0) {
		errno = -r;
		return PyErr_SetFromErrno(PyExc_OSError);
	}
	return Py_BuildValue("{sKsKsKsKsKsKsKsKsK}", "published", st.published, "queued",
			     st.queued, "fallback", st.fallback, "dropped_full", st.dropped_full,
			     "dropped_too_large", st.dropped_too_large, "dropped_no_lane",
			     st.dropped_no_lane, "dropped_fallback", st.dropped_fallback, "wakes",
			     st.wakes, "blocked", st.blocked);
}

PyDoc_STRVAR(bus_close_doc,
	     "close()\n\n"
	     "Give the handle back; entries already published stay in the bus for\n"
	     "the writer. Closing a closed Bus does nothing.");

static PyObject *bus_close(BusObject *self, PyObject *unused)
{
	(void)unused;
	if (self->handle) {
		handle_put(self->handle);
		self->handle = NULL;
	}
	Py_RETURN_NONE;
}

static PyObject *bus_get_closed(BusObject *self, void *unused)
{
	(void)unused;
	return PyBool_FromLong(!self->handle);
}

static PyMethodDef bus_methods[] = {
	{ "publish", (PyCFunction)(void (*)(void))bus_publish, METH_FASTCALL | METH_KEYWORDS,
	  bus_publish_doc },
	{ "_publish_record", (PyCFunction)(void (*)(void))bus_publish_record, METH_FASTCALL,
	  bus_publish_record_doc },
	{ "flush", (PyCFunction)(void (*)(void))bus_flush, METH_VARARGS | METH_KEYWORDS,
	  bus_flush_doc },
	{ "stats", (PyCFunction)bus_stats, METH_NOARGS, bus_stats_doc },
	{ "close", (PyCFunction)bus_close, METH_NOARGS, bus_close_doc },
	{ NULL, NULL, 0, NULL },
};

static PyObject *bus_get_refusal(BusObject *self, void *unused)
{
	struct shared_handle *h = bus_enter(self, "refusal");
	PyObject *why;
	const char *text;

	(void)unused;
	if (!h)
		return NULL;
	text = logbus_refusal(h->lb);
	why = text ? PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace") : NULL;
	handle_put(h);
	if (!text)
		Py_RETURN_NONE;
	return why;
}

static PyGetSetDef bus_getset[] = {
	{ "closed", (getter)bus_get_closed, NULL, "True once close() was called", NULL },
	{ "refusal", (getter)bus_get_refusal, NULL,
	  "Why the writer last refused this handle a lane (one line), or None", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyTypeObject pybus_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "logbus._logbus.Bus",
	.tp_basicsize = sizeof(BusObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = PyDoc_STR("Bus(name=None, overflow=None, timeout=None): a handle on the "
			    "logbus bus name (None: $LOGBUS_BUS, else \"default\")."),
	.tp_new = bus_new,
	.tp_dealloc = (destructor)bus_dealloc,
	.tp_methods = bus_methods,
	.tp_getset = bus_getset,
};

static PyObject *module_setup(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
	PyObject *record_type;
	int r;

	(void)module;
	if (nargs != 3) {
		PyErr_SetString(PyExc_TypeError, "_setup(logging, Handler, attribute_names)");
		return NULL;
	}
	record_type = PyObject_GetAttrString(args[0], "LogRecord");
	if (!record_type)
		return NULL;
	r = pyrecord_setup(record_type, args[2]);
	Py_DECREF(record_type);
	if (r < 0 || pylogger_setup(args[1], args[0]) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *module_check_tag(PyObject *module, PyObject *tag)
{
	struct pyentry e;

	(void)module;
	pyentry_init(&e);
	if (pyentry_tag(&e, tag) < 0)
		return NULL;
	Py_INCREF(tag);
	return tag;
}

static PyMethodDef module_methods[] = {
	{ "_setup", (PyCFunction)(void (*)(void))module_setup, METH_FASTCALL,
	  "_setup(logging, Handler, attribute_names): what the handler and the fast path "
	  "know of logging (the standard LogRecord attributes among them)" },
	{ "_check_tag", (PyCFunction)module_check_tag, METH_O,
	  "_check_tag(tag) -> tag: ValueError or TypeError when it is not a valid tag" },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "logbus._logbus",
	.m_doc = "The C extension of the logbus package, over liblogbus.",
	.m_size = -1,
	.m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__logbus(void);

PyMODINIT_FUNC PyInit__logbus(void)
{
	static const struct {
		const char *name;
		long value;
	} constants[] = {
		{ "EMERG", LOGBUS_EMERG },     { "ALERT", LOGBUS_ALERT },
		{ "CRIT", LOGBUS_CRIT },       { "ERR", LOGBUS_ERR },
		{ "WARNING", LOGBUS_WARNING }, { "NOTICE", LOGBUS_NOTICE },
		{ "INFO", LOGBUS_INFO },       { "DEBUG", LOGBUS_DEBUG },
		{ "TAG_MAX", LOGBUS_TAG_MAX }, { "KEY_MAX", LOGBUS_KEY_MAX },
		{ "FIELDS_MAX", LOGBUS_FIELDS_MAX },
	};
	PyObject *m;

	str_tag = PyUnicode_InternFromString("tag");
	if (!str_tag || PyType_Ready(&pybus_type) < 0 || PyType_Ready(&pylogger_type) < 0)
		return NULL;
	m = PyModule_Create(&module_def);
	if (!m)
		return NULL;
	for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++)
		if (PyModule_AddIntConstant(m, constants[i].name, constants[i].value) < 0)
			goto fail;
	Py_INCREF(&pybus_type);
	if (PyModule_AddObject(m, "Bus", (PyObject *)&pybus_type) < 0) {
		Py_DECREF(&pybus_type);
		goto fail;
	}
	Py_INCREF(&pylogger_type);
	if (PyModule_AddObject(m, "LoggerBase", (PyObject *)&pylogger_type) < 0) {
		Py_DECREF(&pylogger_type);
		goto fail;
	}
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}
