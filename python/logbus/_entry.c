/* SPDX-License-Identifier: MIT */
/* Python arguments to one logbus entry, checked with an error that names
 * the cause (see _entry.h). The key and tag rules are the library's own
 * (shm/record.h), so that nothing passes here that logbus_publishv then
 * refuses without a reason. */
#include <string.h>

#include "_entry.h"
#include "record.h"

void pyentry_init(struct pyentry *e)
{
	e->level = LOGBUS_INFO;
	e->tag = NULL;
	e->msg = "";
	e->msg_len = 0;
	e->nfields = 0;
	e->nowned = 0;
}

void pyentry_release(struct pyentry *e)
{
	for (size_t i = 0; i < e->nowned; i++)
		Py_DECREF(e->owned[i]);
	e->nowned = 0;
}

/* Keep a new reference until pyentry_release; steals obj. */
static void entry_own(struct pyentry *e, PyObject *obj)
{
	e->owned[e->nowned++] = obj;
}

int pyentry_level(PyObject *level, int *out)
{
	if (PyLong_Check(level) && !PyBool_Check(level)) {
		long n = PyLong_AsLong(level);
		if (n >= LOGBUS_EMERG && n <= LOGBUS_DEBUG) {
			*out = (int)n;
			return 0;
		}
		if (n == -1 && PyErr_Occurred())
			PyErr_Clear();
		PyErr_Format(PyExc_ValueError,
			     "logbus: level %R is out of range: levels are 0 (emerg) to 7 (debug)",
			     level);
		return -1;
	}
	if (PyUnicode_Check(level)) {
		const char *name = PyUnicode_AsUTF8(level);
		int n = name ? logbus_level_parse(name) : -EINVAL;
		if (n >= 0) {
			*out = n;
			return 0;
		}
		PyErr_Clear();
		PyErr_Format(PyExc_ValueError,
			     "logbus: %R is not a level: use emerg, alert, crit, err, warning, "
			     "notice, info, debug (or error, critical, warn) or 0 to 7",
			     level);
		return -1;
	}
	PyErr_Format(PyExc_TypeError, "logbus: a level is an int 0..7 or a name, not %.100s",
		     Py_TYPE(level)->tp_name);
	return -1;
}

int pyentry_level_from_logging(long levelno)
{
	if (levelno >= 50)
		return LOGBUS_CRIT;
	if (levelno >= 40)
		return LOGBUS_ERR;
	if (levelno >= 30)
		return LOGBUS_WARNING;
	if (levelno >= 20)
		return LOGBUS_INFO;
	return LOGBUS_DEBUG;
}

int pyentry_tag(struct pyentry *e, PyObject *tag)
{
	const char *s;
	Py_ssize_t len;

	if (tag == Py_None) {
		e->tag = NULL;
		return 0;
	}
	if (!PyUnicode_Check(tag)) {
		PyErr_Format(PyExc_TypeError, "logbus: a tag is a str, not %.100s",
			     Py_TYPE(tag)->tp_name);
		return -1;
	}
	s = PyUnicode_AsUTF8AndSize(tag, &len);
	if (!s)
		return -1;
	/* lb_tag_valid refuses a NUL, so an embedded one cannot cut the tag. */
	if (!lb_tag_valid(s, (size_t)len)) {
		PyErr_Format(PyExc_ValueError,
			     "logbus: tag %R is not valid: a tag is 1 to %d printable ASCII "
			     "characters without space",
			     tag, LOGBUS_TAG_MAX);
		return -1;
	}
	e->tag = s;
	return 0;
}

int pyentry_tag_cleaned(struct pyentry *e, PyObject *name)
{
	const char *s;
	Py_ssize_t len;

	if (!PyUnicode_Check(name)) {
		PyErr_Format(PyExc_TypeError, "logbus: a logger's name is a str, not %.100s",
			     Py_TYPE(name)->tp_name);
		return -1;
	}
	s = PyUnicode_AsUTF8AndSize(name, &len);
	if (!s)
		return -1;
	if (len > 0 && len <= LOGBUS_TAG_MAX && lb_tag_valid(s, (size_t)len)) {
		e->tag = s;
		return 0;
	}
	if (len == 0) {
		e->tag = "root";
		return 0;
	}
	if (len > LOGBUS_TAG_MAX)
		len = LOGBUS_TAG_MAX;
	for (Py_ssize_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		e->tag_buf[i] = c > 0x20 && c < 0x7f ? (char)c : '_';
	}
	e->tag_buf[len] = '\0';
	e->tag = e->tag_buf;
	return 0;
}

/* The bytes of a str or bytes object; NULL with TypeError otherwise. */
static const char *text_of(PyObject *obj, Py_ssize_t *len)
{
	if (PyUnicode_Check(obj))
		return PyUnicode_AsUTF8AndSize(obj, len);
	if (PyBytes_Check(obj)) {
		*len = PyBytes_GET_SIZE(obj);
		return PyBytes_AS_STRING(obj);
	}
	return NULL;
}

int pyentry_message(struct pyentry *e, PyObject *msg)
{
	const char *s = text_of(msg, &e->msg_len);

	if (!s) {
		if (!PyErr_Occurred())
			PyErr_Format(PyExc_TypeError, "logbus: a message is a str or bytes, not %.100s",
				     Py_TYPE(msg)->tp_name);
		return -1;
	}
	e->msg = s;
	return 0;
}

/* The field key's bytes; NULL with the error set when it breaks the rule. */
static const char *field_key(PyObject *key)
{
	const char *s;
	Py_ssize_t len;

	if (!PyUnicode_Check(key)) {
		PyErr_Format(PyExc_TypeError, "logbus: field key %R is a %.100s: keys are str",
			     key, Py_TYPE(key)->tp_name);
		return NULL;
	}
	s = PyUnicode_AsUTF8AndSize(key, &len);
	if (!s) {
		PyErr_Clear();
		len = -1;
	}
	/* lb_key_valid refuses a NUL, so an embedded one cannot cut the key. */
	if (len < 0 || !lb_key_valid(s, (size_t)len)) {
		PyErr_Format(PyExc_ValueError,
			     "logbus: field key %R is not valid: a key is 1 to %d characters "
			     "of [A-Za-z0-9_]",
			     key, LOGBUS_KEY_MAX);
		return NULL;
	}
	return s;
}

/* The decimal text of n into buf (PYENTRY_NUMBER_MAX bytes, no NUL);
 * returns its length. snprintf would cost more than the whole publish. */
static Py_ssize_t format_integer(char *buf, long long n)
{
	char digits[PYENTRY_NUMBER_MAX];
	unsigned long long u = n < 0 ? 0ull - (unsigned long long)n : (unsigned long long)n;
	size_t i = sizeof(digits), len = 0;

	do {
		digits[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (n < 0)
		buf[len++] = '-';
	memcpy(buf + len, digits + i, sizeof(digits) - i);
	return (Py_ssize_t)(len + sizeof(digits) - i);
}

/* The text of a value that is not str or bytes, into e's storage. */
static const char *value_text(struct pyentry *e, PyObject *key, PyObject *value,
			      enum pyentry_values how, Py_ssize_t *len)
{
	PyObject *text;

	if (value == Py_True || value == Py_False || value == Py_None) {
		const char *word = value == Py_True ? "true" : value == Py_False ? "false" : "null";
		*len = (Py_ssize_t)strlen(word);
		return word;
	}
	if (PyLong_CheckExact(value)) {
		int overflow;
		long long n = PyLong_AsLongLongAndOverflow(value, &overflow);
		if (!overflow) {
			char *buf = e->numbers[e->nfields];
			*len = format_integer(buf, n);
			return buf;
		}
	}
	if (PyLong_Check(value) || PyFloat_Check(value) || how == PYENTRY_LENIENT)
		text = PyObject_Str(value);
	else {
		PyErr_Format(PyExc_TypeError,
			     "logbus: field %S is a %.100s: values are str, bytes, int, float, "
			     "bool or None",
			     key, Py_TYPE(value)->tp_name);
		return NULL;
	}
	if (!text)
		return NULL;
	entry_own(e, text);
	return PyUnicode_AsUTF8AndSize(text, len);
}

int pyentry_field(struct pyentry *e, PyObject *key, PyObject *value, enum pyentry_values how)
{
	const char *k, *v;
	Py_ssize_t len;

	if (e->nfields == LOGBUS_FIELDS_MAX) {
		PyErr_Format(PyExc_ValueError, "logbus: too many fields: an entry holds at most %d",
			     LOGBUS_FIELDS_MAX);
		return -1;
	}
	k = field_key(key);
	if (!k)
		return -1;
	v = text_of(value, &len);
	if (!v) {
		if (PyErr_Occurred())
			return -1;
		v = value_text(e, key, value, how, &len);
		if (!v)
			return -1;
	}
	e->fields[e->nfields++] = (struct logbus_field){ .key = k, .value = v, .len = (size_t)len };
	return 0;
}
