/* SPDX-License-Identifier: MIT */
/*
 * A logging.LogRecord as one logbus entry. The handler's hot path: the
 * record's __dict__ is read once, with interned keys; its extra= keys are
 * those that are not the standard attributes, which are recognised by
 * pointer in a small table (attribute names are interned strings), with a
 * set lookup as the fallback for an equal string that is not the interned
 * one. Trade-off: a record carries some twenty standard attributes, so a
 * pointer probe per key keeps the scan to a few nanoseconds a key.
 */
#include <stdint.h>

#include "_record.h"

#define STANDARD_SLOTS 128 /* power of two, well above the ~23 names */

static PyObject *record_type;      /* logging.LogRecord */
static PyObject *standard_names;   /* frozenset of its attribute names */
static PyObject *standard_table[STANDARD_SLOTS];

static PyObject *key_levelno, *key_name, *key_msg, *key_args, *key_module, *key_funcName,
	*key_lineno, *key_thread, *key_process, *key_traceback,
	*name_getMessage;

static size_t slot_of(PyObject *name)
{
	return ((uintptr_t)name >> 4) & (STANDARD_SLOTS - 1);
}

static int table_add(PyObject *name)
{
	size_t i = slot_of(name);

	for (size_t n = 0; n < STANDARD_SLOTS; n++, i = (i + 1) & (STANDARD_SLOTS - 1)) {
		if (!standard_table[i] || standard_table[i] == name) {
			standard_table[i] = name;
			return 0;
		}
	}
	PyErr_SetString(PyExc_ValueError, "logbus: too many LogRecord attribute names");
	return -1;
}

bool pyrecord_is_attribute(PyObject *key)
{
	size_t i = slot_of(key);

	for (; standard_table[i]; i = (i + 1) & (STANDARD_SLOTS - 1))
		if (standard_table[i] == key)
			return true;
	return PySet_Contains(standard_names, key) == 1;
}

static int intern_key(PyObject **slot, const char *name)
{
	*slot = PyUnicode_InternFromString(name);
	return *slot ? 0 : -1;
}

int pyrecord_setup(PyObject *type, PyObject *names)
{
	PyObject *iter, *name;

	if (!PyType_Check(type) || !PyFrozenSet_Check(names)) {
		PyErr_SetString(PyExc_TypeError, "logbus: expects LogRecord and a frozenset");
		return -1;
	}
	if (intern_key(&key_levelno, "levelno") || intern_key(&key_name, "name") ||
	    intern_key(&key_msg, "msg") || intern_key(&key_args, "args") ||
	    intern_key(&key_module, "module") || intern_key(&key_funcName, "funcName") ||
	    intern_key(&key_lineno, "lineno") || intern_key(&key_thread, "thread") ||
	    intern_key(&key_process, "process") || intern_key(&key_traceback, "traceback") ||
	    intern_key(&name_getMessage, "getMessage"))
		return -1;
	iter = PyObject_GetIter(names);
	if (!iter)
		return -1;
	while ((name = PyIter_Next(iter))) {
		if (!PyUnicode_Check(name)) {
			Py_DECREF(name);
			continue;
		}
		PyUnicode_InternInPlace(&name);
		/* The table borrows: the frozenset below keeps every name alive
		 * (interning returned the very object when it was interned). */
		int r = table_add(name);
		Py_DECREF(name);
		if (r < 0) {
			Py_DECREF(iter);
			return -1;
		}
	}
	Py_DECREF(iter);
	if (PyErr_Occurred())
		return -1;
	Py_INCREF(type);
	Py_XSETREF(record_type, type);
	Py_INCREF(names);
	Py_XSETREF(standard_names, names);
	return 0;
}

/* The record's message. For a plain LogRecord with a str msg this is
 * getMessage() done here (msg, or msg % args when there are args): the
 * method call would cost as much as the rest of the entry. */
static int record_message(struct pyentry *e, PyObject *record, PyObject *dict)
{
	PyObject *msg = PyDict_GetItemWithError(dict, key_msg);
	PyObject *args = PyDict_GetItemWithError(dict, key_args);
	PyObject *text;
	int r;

	if (PyErr_Occurred())
		return -1;
	if (msg && PyUnicode_CheckExact(msg) && (PyObject *)Py_TYPE(record) == record_type) {
		r = args ? PyObject_IsTrue(args) : 0;
		if (r < 0)
			return -1;
		if (r == 0)
			return pyentry_message(e, msg);
		text = PyUnicode_Format(msg, args);
	} else {
		text = PyObject_CallMethodNoArgs(record, name_getMessage);
	}
	if (!text)
		return -1;
	r = pyentry_message(e, text);
	if (r < 0) {
		Py_DECREF(text);
		return -1;
	}
	e->owned[e->nowned++] = text;
	return 0;
}

/* Add the field key from the record's dict, when it is there and not None. */
static int record_field(struct pyentry *e, PyObject *dict, PyObject *key)
{
	PyObject *value = PyDict_GetItemWithError(dict, key);

	if (!value)
		return PyErr_Occurred() ? -1 : 0;
	if (value == Py_None)
		return 0;
	return pyentry_field(e, key, value, PYENTRY_LENIENT);
}

static int record_extras(struct pyentry *e, PyObject *dict)
{
	PyObject *key, *value;
	Py_ssize_t pos = 0;

	while (PyDict_Next(dict, &pos, &key, &value))
		if (!pyrecord_is_attribute(key) && pyentry_field(e, key, value, PYENTRY_LENIENT) < 0)
			return -1;
	return 0;
}

int pyrecord_entry(struct pyentry *e, PyObject *record, PyObject *tag, PyObject *message,
		   PyObject *traceback)
{
	PyObject *dict, *levelno, *name;
	long level;
	int r = -1;

	if (!record_type) {
		PyErr_SetString(PyExc_RuntimeError, "logbus: the record layer is not set up");
		return -1;
	}
	dict = PyObject_GenericGetDict(record, NULL);
	if (!dict)
		return -1;
	e->owned[e->nowned++] = dict;
	levelno = PyDict_GetItemWithError(dict, key_levelno);
	if (!levelno) {
		if (!PyErr_Occurred())
			PyErr_SetString(PyExc_TypeError, "logbus: the record has no levelno");
		return -1;
	}
	level = PyLong_AsLong(levelno);
	if (level == -1 && PyErr_Occurred())
		return -1;
	e->level = pyentry_level_from_logging(level);

	if (tag != Py_None)
		r = pyentry_tag(e, tag);
	else if ((name = PyDict_GetItemWithError(dict, key_name)))
		r = pyentry_tag_cleaned(e, name);
	else
		r = PyErr_Occurred() ? -1 : 0;
	if (r < 0)
		return -1;
	if (message != Py_None ? pyentry_message(e, message) : record_message(e, record, dict))
		return -1;
	if (record_field(e, dict, key_module) || record_field(e, dict, key_funcName) ||
	    record_field(e, dict, key_lineno) || record_field(e, dict, key_thread) ||
	    record_field(e, dict, key_process))
		return -1;
	if (traceback != Py_None && pyentry_field(e, key_traceback, traceback, PYENTRY_LENIENT) < 0)
		return -1;
	return record_extras(e, dict);
}
