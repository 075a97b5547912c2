/* SPDX-License-Identifier: MIT */
/*
 * logbus.Logger's fast path. A logging call costs some 2.5 us in the
 * standard library before a handler sees it, most of it building the
 * LogRecord (and findCaller). When every handler the call would reach is a
 * plain logbus.Handler with no filter and no formatter, the entry those
 * handlers would publish is built here instead, from the call's arguments
 * and the caller's frame: the same level, tag, message and fields
 * (module, funcName, lineno, thread, process, extra= keys).
 *
 * Everything else takes logging.Logger._log, unchanged: exc_info,
 * stack_info, stacklevel, filters on the logger or a handler, a handler of
 * another class (or a subclass), a formatter, no handler at all (the
 * last-resort handler), a record factory or makeRecord of one's own, a
 * message that does not format, an extra= key that is no field key or
 * names a record attribute (logging's own error then), a closed bus. The
 * handlers' chain is walked at every call, as logging does: nothing is
 * cached that a program could change.
 */
#include <pthread.h>
#include <unistd.h>

#include "_bus.h"
#include "_logger.h"
#include "_record.h"

#define TARGETS_MAX 8 /* logbus handlers one call may reach on the fast path */

static PyObject *handler_type;     /* logbus.Handler */
static PyObject *logging_module;
static PyObject *slow_log;         /* logging.Logger._log */
static PyObject *base_make_record; /* logging.Logger.makeRecord */
static PyObject *module_names;     /* {co_filename: module name} */
static PyObject *str_handlers, *str_filters, *str_propagate, *str_parent, *str_disabled,
	*str_name, *str_level, *str_formatter, *str_tag, *str_bus, *str_srcfile,
	*str_record_factory, *str_record_type, *str_log_threads, *str_log_processes,
	*str_make_record, *str_exc_info, *str_extra, *str_stack_info, *str_stacklevel,
	*str_importlib, *str_bootstrap, *key_module, *key_funcName, *key_lineno, *key_thread,
	*key_process;
static long process_id;            /* getpid(), refreshed in a forked child */

static void pid_refresh(void)
{
	process_id = (long)getpid();
}

static int intern(PyObject **slot, const char *name)
{
	*slot = PyUnicode_InternFromString(name);
	return *slot ? 0 : -1;
}

int pylogger_setup(PyObject *handler, PyObject *logging)
{
	PyObject *logger_class;

	if (intern(&str_handlers, "handlers") || intern(&str_filters, "filters") ||
	    intern(&str_propagate, "propagate") || intern(&str_parent, "parent") ||
	    intern(&str_disabled, "disabled") || intern(&str_name, "name") ||
	    intern(&str_level, "level") || intern(&str_formatter, "formatter") ||
	    intern(&str_tag, "tag") || intern(&str_bus, "bus") ||
	    intern(&str_srcfile, "_srcfile") || intern(&str_record_factory, "_logRecordFactory") ||
	    intern(&str_record_type, "LogRecord") || intern(&str_log_threads, "logThreads") ||
	    intern(&str_log_processes, "logProcesses") || intern(&str_make_record, "makeRecord") ||
	    intern(&str_exc_info, "exc_info") || intern(&str_extra, "extra") ||
	    intern(&str_stack_info, "stack_info") || intern(&str_stacklevel, "stacklevel") ||
	    intern(&str_importlib, "importlib") || intern(&str_bootstrap, "_bootstrap") ||
	    intern(&key_module, "module") || intern(&key_funcName, "funcName") ||
	    intern(&key_lineno, "lineno") || intern(&key_thread, "thread") ||
	    intern(&key_process, "process"))
		return -1;
	logger_class = PyObject_GetAttrString(logging, "Logger");
	if (!logger_class)
		return -1;
	slow_log = PyObject_GetAttrString(logger_class, "_log");
	base_make_record = PyObject_GetAttr(logger_class, str_make_record);
	Py_DECREF(logger_class);
	module_names = PyDict_New();
	if (!slow_log || !base_make_record || !module_names)
		return -1;
	Py_INCREF(handler);
	handler_type = handler;
	Py_INCREF(logging);
	logging_module = logging;
	pid_refresh();
	if (pthread_atfork(NULL, NULL, pid_refresh) != 0) {
		PyErr_SetString(PyExc_OSError, "logbus: pthread_atfork failed");
		return -1;
	}
	return 0;
}

/* An attribute's truth; -1 with an error. */
static int attr_true(PyObject *obj, PyObject *name)
{
	PyObject *v = PyObject_GetAttr(obj, name);
	int r;

	if (!v)
		return -1;
	r = PyObject_IsTrue(v);
	Py_DECREF(v);
	return r;
}

/* A module attribute, borrowed (NULL without an error when missing). */
static PyObject *logging_attr(PyObject *name)
{
	return PyDict_GetItemWithError(PyModule_GetDict(logging_module), name);
}

/*
 * The logbus handlers a record of level on logger would reach, as logging's
 * callHandlers walks them, into targets (new references). Returns their
 * count, or -2 when the call must take the slow path, -1 on an error.
 */
static int route(PyObject *logger, long level, PyObject **targets)
{
	PyObject *c = logger, *next;
	int n = 0, seen = 0, r;

	if ((r = attr_true(logger, str_filters)) != 0 || (r = attr_true(logger, str_disabled)) != 0)
		return r < 0 ? -1 : -2;
	Py_INCREF(c);
	while (c && c != Py_None) {
		PyObject *handlers = PyObject_GetAttr(c, str_handlers);
		if (!handlers || !PyList_Check(handlers)) {
			Py_XDECREF(handlers);
			goto slow;
		}
		for (Py_ssize_t i = 0; i < PyList_GET_SIZE(handlers); i++) {
			PyObject *h = PyList_GET_ITEM(handlers, i), *hl, *formatter;
			long hlevel;
			seen++;
			if ((PyObject *)Py_TYPE(h) != handler_type || attr_true(h, str_filters) != 0)
				goto slow_handlers;
			formatter = PyObject_GetAttr(h, str_formatter);
			Py_XDECREF(formatter);
			if (formatter != Py_None)
				goto slow_handlers;
			hl = PyObject_GetAttr(h, str_level);
			hlevel = hl ? PyLong_AsLong(hl) : -1;
			Py_XDECREF(hl);
			if (hlevel == -1 && PyErr_Occurred())
				goto slow_handlers;
			if (level < hlevel)
				continue;
			if (n == TARGETS_MAX)
				goto slow_handlers;
			Py_INCREF(h);
			targets[n++] = h;
		}
		Py_DECREF(handlers);
		r = attr_true(c, str_propagate);
		if (r < 0)
			goto slow;
		next = r ? PyObject_GetAttr(c, str_parent) : NULL;
		if (r && !next)
			goto slow;
		Py_DECREF(c);
		c = next;
		continue;
slow_handlers:
		Py_DECREF(handlers);
		goto slow;
	}
	Py_XDECREF(c);
	if (seen == 0)
		goto release;          /* logging's last resort decides */
	return n;
slow:
	Py_XDECREF(c);
release:
	while (n > 0)
		Py_DECREF(targets[--n]);
	PyErr_Clear();
	return -2;
}

/* The module name of a file name, as LogRecord computes it (the base name
 * without its extension), cached per file name; borrowed. */
static PyObject *module_of(PyObject *filename)
{
	PyObject *name = PyDict_GetItemWithError(module_names, filename);
	Py_ssize_t len, start, end;
	const char *s;

	if (name || PyErr_Occurred())
		return name;
	s = PyUnicode_AsUTF8AndSize(filename, &len);
	if (!s)
		return NULL;
	start = len;
	while (start > 0 && s[start - 1] != '/')
		start--;
	/* splitext: the last dot starts the extension, unless only dots
	 * come before it (".bashrc", "..x" have none). */
	end = len;
	for (Py_ssize_t i = len; i > start; i--) {
		if (s[i - 1] == '.') {
			end = i - 1;
			break;
		}
	}
	bool leading_dots = true;
	for (Py_ssize_t i = start; i < end && leading_dots; i++)
		leading_dots = s[i] == '.';
	if (leading_dots)
		end = len;
	name = PyUnicode_FromStringAndSize(s + start, end - start);
	if (!name || PyDict_SetItem(module_names, filename, name) < 0) {
		Py_XDECREF(name);
		return NULL;
	}
	Py_DECREF(name);
	return name;
}

/* Whether code is logging's own or importlib's bootstrap, as logging's
 * _is_internal_frame decides (normcase is the identity on Linux). */
static int internal_code(PyCodeObject *code, PyObject *srcfile)
{
	int r = PyUnicode_Compare(code->co_filename, srcfile);

	if (r == 0)
		return 1;
	if (r == -1 && PyErr_Occurred())
		return -1;
	r = PyUnicode_Contains(code->co_filename, str_importlib);
	if (r <= 0)
		return r;
	return PyUnicode_Contains(code->co_filename, str_bootstrap);
}

/* The caller's place as findCaller finds it, the first frame outside
 * logging, as the fields module, funcName and lineno of e. Returns 0, or
 * -2 for the slow path. */
static int caller_fields(struct pyentry *e)
{
	PyObject *srcfile = logging_attr(str_srcfile);
	PyFrameObject *frame = PyEval_GetFrame(), *back;
	PyCodeObject *code;
	PyObject *module, *lineno;
	int r;

	if (!srcfile || !PyUnicode_Check(srcfile) || !frame)
		return -2;
	Py_INCREF(frame);
	for (;;) {
		code = PyFrame_GetCode(frame);
		r = internal_code(code, srcfile);
		if (r == 0)
			break;
		Py_DECREF(code);
		back = r > 0 ? PyFrame_GetBack(frame) : NULL;
		Py_DECREF(frame);
		if (!back)
			return -2;
		frame = back;
	}
	module = module_of(code->co_filename);
	lineno = PyLong_FromLong(PyFrame_GetLineNumber(frame));
	r = module && lineno && pyentry_field(e, key_module, module, PYENTRY_LENIENT) == 0 &&
			    pyentry_field(e, key_funcName, code->co_name, PYENTRY_LENIENT) == 0 &&
			    pyentry_field(e, key_lineno, lineno, PYENTRY_LENIENT) == 0
		    ? 0
		    : -2;
	Py_XDECREF(lineno);
	Py_DECREF(code);
	Py_DECREF(frame);
	return r;
}

/* The message as LogRecord.getMessage makes it: str(msg), formatted with
 * args when there are any (a lone non-empty dict is the mapping). Returns
 * 0, or -2 for the slow path (a format error is logging's to report). */
static int call_message(struct pyentry *e, PyObject *msg, PyObject *args)
{
	PyObject *text, *values = args;

	if (!PyUnicode_CheckExact(msg) || !PyTuple_CheckExact(args))
		return -2;
	if (PyTuple_GET_SIZE(args) == 0)
		return pyentry_message(e, msg) == 0 ? 0 : -2;
	if (PyTuple_GET_SIZE(args) == 1) {
		PyObject *only = PyTuple_GET_ITEM(args, 0);
		if (PyDict_CheckExact(only) && PyDict_GET_SIZE(only) > 0)
			values = only;
		else if (!PyUnicode_Check(only) && !PyLong_Check(only) && !PyFloat_Check(only))
			return -2;  /* perhaps a Mapping: logging decides */
	}
	text = PyUnicode_Format(msg, values);
	if (!text)
		return -2;
	e->owned[e->nowned++] = text;
	return pyentry_message(e, text) == 0 ? 0 : -2;
}

/* The extra= keys as fields; -2 when one is a record attribute or breaks
 * the key rule (logging's or the handler's error to raise). */
static int extra_fields(struct pyentry *e, PyObject *extra)
{
	PyObject *key, *value;
	Py_ssize_t pos = 0;

	if (extra == Py_None)
		return 0;
	if (!PyDict_Check(extra))
		return -2;
	while (PyDict_Next(extra, &pos, &key, &value))
		if (pyrecord_is_attribute(key) || pyentry_field(e, key, value, PYENTRY_LENIENT) < 0)
			return -2;
	return 0;
}

/* The record's thread and process fields, as logging's switches say. */
static int context_fields(struct pyentry *e)
{
	PyObject *threads = logging_attr(str_log_threads);
	PyObject *processes = logging_attr(str_log_processes);
	PyObject *v;
	int r = 0;

	if (!threads || !processes)
		return -2;
	if (PyObject_IsTrue(threads)) {
		v = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
		r = v ? pyentry_field(e, key_thread, v, PYENTRY_LENIENT) : -1;
		Py_XDECREF(v);
	}
	if (r == 0 && PyObject_IsTrue(processes)) {
		v = PyLong_FromLong(process_id);
		r = v ? pyentry_field(e, key_process, v, PYENTRY_LENIENT) : -1;
		Py_XDECREF(v);
	}
	return r == 0 ? 0 : -2;
}

/* Whether logging would make the record its own way: a record factory or
 * a makeRecord of the program's. */
static bool custom_records(PyObject *logger)
{
	PyObject *factory = logging_attr(str_record_factory);
	PyObject *record_class = logging_attr(str_record_type);
	PyObject *make = PyObject_GetAttr((PyObject *)Py_TYPE(logger), str_make_record);
	bool custom = !factory || factory != record_class || make != base_make_record;

	Py_XDECREF(make);
	return custom;
}

/* Build the entry of the call and publish it through each target. 0, or
 * -2 for the slow path. */
static int fast_log(PyObject *logger, long level, PyObject *msg, PyObject *args,
		    PyObject *extra, PyObject **targets, int n)
{
	struct pyentry e;
	PyObject *name = PyObject_GetAttr(logger, str_name);
	int r = -2;

	pyentry_init(&e);
	for (int i = 0; i < n; i++) {
		PyObject *bus = PyObject_GetAttr(targets[i], str_bus);
		bool open = bus && pybus_is_open(bus);
		Py_XDECREF(bus);
		if (!open)
			goto out;
	}
	e.level = pyentry_level_from_logging(level);
	if (!name || call_message(&e, msg, args) || caller_fields(&e) || context_fields(&e) ||
	    extra_fields(&e, extra))
		goto out;
	for (int i = 0; i < n; i++) {
		PyObject *bus = PyObject_GetAttr(targets[i], str_bus);
		PyObject *tag = PyObject_GetAttr(targets[i], str_tag);
		int sent = -1;
		if (bus && tag &&
		    (tag == Py_None ? pyentry_tag_cleaned(&e, name) : pyentry_tag(&e, tag)) == 0)
			sent = pybus_send(bus, &e);
		Py_XDECREF(bus);
		Py_XDECREF(tag);
		if (sent < 0) {
			/* The handlers before this one have it: report, as logging
			 * would report this handler's error, and go on. */
			PyErr_WriteUnraisable(targets[i]);
		}
	}
	r = 0;
out:
	Py_XDECREF(name);
	pyentry_release(&e);
	PyErr_Clear();
	return r;
}

/* Logger._log(level, msg, args, exc_info=None, extra=None,
 * stack_info=False, stacklevel=1). */
static PyObject *logger_log(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
			    PyObject *kwnames)
{
	Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	PyObject *extra = Py_None, *targets[TARGETS_MAX];
	long level;
	int n, r = -2;
	bool plain = nargs == 3;

	for (Py_ssize_t i = 0; plain && i < nkw; i++) {
		PyObject *key = PyTuple_GET_ITEM(kwnames, i), *value = args[nargs + i];
		if (key == str_extra)
			extra = value;
		else if (key == str_exc_info || key == str_stack_info)
			plain = value == Py_None || value == Py_False;
		else if (key == str_stacklevel)
			plain = PyLong_CheckExact(value) && PyLong_AsLong(value) == 1;
		else
			plain = false;
	}
	if (plain && PyLong_CheckExact(args[0]) && !custom_records(self)) {
		level = PyLong_AsLong(args[0]);
		n = route(self, level, targets);
		if (n >= 0) {
			r = n ? fast_log(self, level, args[1], args[2], extra, targets, n) : 0;
			while (n > 0)
				Py_DECREF(targets[--n]);
		}
	}
	PyErr_Clear();
	if (r == 0)
		Py_RETURN_NONE;
	{
		PyObject *full[12];
		if (nargs + nkw > 11) {
			PyErr_SetString(PyExc_TypeError, "_log() takes at most 7 arguments");
			return NULL;
		}
		full[0] = self;
		for (Py_ssize_t i = 0; i < nargs + nkw; i++)
			full[1 + i] = args[i];
		return PyObject_Vectorcall(slow_log, full, (size_t)(nargs + 1), kwnames);
	}
}

static PyMethodDef logger_methods[] = {
	{ "_log", (PyCFunction)(void (*)(void))logger_log, METH_FASTCALL | METH_KEYWORDS,
	  "logging.Logger._log, with the fast path to logbus.Handler" },
	{ NULL, NULL, 0, NULL },
};

PyTypeObject pylogger_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "logbus._logbus.LoggerBase",
	.tp_basicsize = sizeof(PyObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = PyDoc_STR("The C base of logbus.Logger: its _log"),
	.tp_new = PyType_GenericNew,
	.tp_methods = logger_methods,
};
