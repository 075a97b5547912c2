# SPDX-License-Identifier: MIT
"""logbus.Handler: each record's level, tag, message and fields (module,
funcName, lineno, thread, process, extra= keys, traceback) in the writer's
output; filters, formatters, dictConfig; a bad extra= key is reported."""

import contextlib
import io
import logging
import logging.config
import os
import threading
import unittest

import logbus
from writerproc import WriterTestCase


class HandlerFields(WriterTestCase):

    def setUp(self):
        super().setUp()
        self.logger = logging.getLogger(f"app.{self.tag}")
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)
        self.handler = logbus.Handler(bus=self.bus)
        self.logger.addHandler(self.handler)
        self.addCleanup(self.logger.removeHandler, self.handler)

    def written(self, tag=None):
        return super().written(self.bus, tag or self.logger.name)

    def test_record_fields(self):
        """A record's place in the code, thread and process become fields."""
        line = self._log_here()
        (entry,) = self.written()
        self.assertEqual(entry["msg"], "user bob logged in")
        self.assertEqual(entry["level"], "info")
        self.assertEqual(entry["tag"], self.logger.name)
        self.assertEqual(entry["fields"], {
            "module": "test_handler", "funcName": "_log_here", "lineno": str(line),
            "thread": str(threading.get_ident()), "process": str(os.getpid()),
            "request_id": "42", "user": "bob"})

    def _log_here(self):
        self.logger.info("user %s logged in", "bob", extra={"request_id": 42, "user": "bob"})
        return self._log_here.__code__.co_firstlineno + 1

    def test_level_mapping(self):
        """logging's levels map onto syslog's."""
        for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR,
                      logging.CRITICAL, 25, 45):
            self.logger.log(level, "level %d", level)
        got = [e["level"] for e in self.written()]
        self.assertEqual(got, ["debug", "info", "warning", "err", "crit", "info", "err"])

    def test_traceback(self):
        """logger.exception carries the traceback text in a field."""
        try:
            raise KeyError("missing")
        except KeyError:
            self.logger.exception("lookup failed")
        (entry,) = self.written()
        self.assertEqual(entry["level"], "err")
        self.assertEqual(entry["msg"], "lookup failed")
        self.assertIn("Traceback (most recent call last)", entry["fields"]["traceback"])
        self.assertIn("KeyError: 'missing'", entry["fields"]["traceback"])

    def test_stack_info(self):
        self.logger.warning("where", stack_info=True)
        (entry,) = self.written()
        self.assertIn("Stack (most recent call last)", entry["fields"]["traceback"])

    def test_lenient_values_and_formatter(self):
        """extra= values of any type become their str(); a formatter, when
        set, makes the message."""
        self.handler.setFormatter(logging.Formatter("%(levelname)s:%(message)s"))
        self.logger.warning("odd", extra={"items": [1, 2], "none": None})
        (entry,) = self.written()
        self.assertEqual(entry["msg"], "WARNING:odd")
        self.assertEqual(entry["fields"]["items"], "[1, 2]")
        self.assertEqual(entry["fields"]["none"], "null")

    def test_message_forms(self):
        """Message formatting as logging does it: % args, a mapping, any
        object, a bad format (reported, not raised)."""
        self.logger.info("%(a)s-%(b)s", {"a": 1, "b": 2})
        self.logger.info(["not", "a", "str"])
        self.logger.info("100%% sure, no args")
        self.logger.info("plain %s")
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            self.logger.info("%d", "not a number")
        self.assertIn("--- Logging error ---", stderr.getvalue())
        self.assertEqual([e["msg"] for e in self.written()],
                         ["1-2", "['not', 'a', 'str']", "100%% sure, no args", "plain %s"])

    def test_tag_option_and_logger_names(self):
        """tag= overrides the logger's name; a name that is no tag is
        cleaned up."""
        tagged = logbus.Handler(bus=self.bus, tag="fixed")
        odd = logging.getLogger(f"odd {self.bus_name} \u00e9")
        odd.propagate = False
        odd.addHandler(self.handler)
        self.addCleanup(odd.removeHandler, self.handler)
        self.logger.addHandler(tagged)
        self.addCleanup(self.logger.removeHandler, tagged)
        self.logger.warning("twice")
        odd.warning("odd")
        self.assertEqual([e["msg"] for e in self.written()], ["twice"])
        self.assertEqual([e["msg"] for e in self.written("fixed")], ["twice"])
        self.assertEqual([e["msg"] for e in self.written(f"odd_{self.bus_name}___")], ["odd"])

    def test_filters(self):
        """A handler's filters run; a filtered record is not published."""
        self.handler.addFilter(lambda record: "keep" in record.getMessage())
        self.logger.info("keep this")
        self.logger.info("drop this")
        self.assertEqual([e["msg"] for e in self.written()], ["keep this"])

    def test_bad_extra_key(self):
        """An extra= key that is no field key goes to handleError, naming
        the key and the rule; the caller does not see an exception."""
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            self.logger.info("x", extra={"request.id": 1})
        self.assertIn("field key 'request.id' is not valid", stderr.getvalue())
        self.assertIn("[A-Za-z0-9_]", stderr.getvalue())
        self.assertEqual(self.written(), [])


class HandlerConfig(WriterTestCase):

    def test_dict_config(self):
        """dictConfig builds the handler from its class name and options;
        logging.shutdown-style close() closes the bus it opened."""
        name = f"cfg.{os.getpid()}"
        logging.config.dictConfig({
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"bus": {"class": "logbus.Handler", "level": "INFO",
                                 "bus": self.bus_name, "tag": "configured"}},
            "loggers": {name: {"handlers": ["bus"], "level": "DEBUG", "propagate": False}},
        })
        logger = logging.getLogger(name)
        (handler,) = logger.handlers
        self.assertIsInstance(handler, logbus.Handler)
        logger.debug("below the handler's level")
        logger.info("configured")
        handler.flush()
        (entry,) = [e for e in self.writer.entries() if e["tag"] == "configured"]
        self.assertEqual(entry["msg"], "configured")
        handler.close()
        handler.close()
        self.assertTrue(handler.bus.closed)
        logger.removeHandler(handler)

    def test_bad_tag_option(self):
        with self.assertRaisesRegex(ValueError, "tag 'a b' is not valid"):
            logbus.Handler(bus=self.bus_name, tag="a b")


if __name__ == "__main__":
    unittest.main()
