# SPDX-License-Identifier: MIT
"""logbus.Logger: a call that reaches only logbus.Handlers publishes the
very entry logging.Logger plus logbus.Handler publishes (same level, tag,
message and fields); every call it cannot take that way (exceptions,
stacklevel, filters, formatters, other handlers, bad extra keys, format
errors, no handler) behaves exactly as with logging.Logger."""

import contextlib
import io
import logging
import os
import unittest
from unittest import mock

import logbus
from writerproc import WriterTestCase


class Equivalence(WriterTestCase):

    def make_logger(self, cls, name):
        logging.setLoggerClass(cls)
        try:
            logger = logging.getLogger(name)
        finally:
            logging.setLoggerClass(logging.Logger)
        self.assertIs(type(logger), cls)
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        handler = logbus.Handler(bus=self.bus)
        logger.addHandler(handler)
        self.addCleanup(logger.removeHandler, handler)
        return logger, handler

    def both(self, calls):
        """Run calls(logger) on a logging.Logger and on a logbus.Logger;
        return the two lists of entries, without what must differ."""
        entries = []
        for cls in (logging.Logger, logbus.Logger):
            name = f"{self.tag}.{cls.__module__}"
            logger, _ = self.make_logger(cls, name)
            calls(logger)
            got = self.written(self.bus, name)
            for e in got:
                for key in ("ts", "seq", "lane", "lane_seq", "tag"):
                    e.pop(key)
            entries.append(got)
        return entries

    def test_same_entries(self):
        """Messages, args, mappings, levels and extra= keys alike."""
        def calls(logger):
            for line in range(2):  # the same line for both loggers
                logger.info("plain")
            logger.debug("%s and %d", "text", 3)
            logger.warning("%(a)s-%(b)s", {"a": 1, "b": 2})
            logger.error("100%% sure")
            logger.critical(["not", "a", "str"])
            logger.log(25, "custom level", extra={"rid": 7, "user": "bob", "ok": True,
                                                  "items": [1, 2]})
        plain, fast = self.both(calls)
        self.assertEqual(len(plain), 7)
        self.assertEqual(plain, fast)

    def test_module_names(self):
        """module is the file's base name less its extension, as
        os.path.splitext makes it, for odd names too."""
        names = ["a.py", ".bashrc", "..x.py", "x", "a.b.c", "/d.ir/file", "/d/...", "d/.a.b"]

        def calls(logger):
            for name in names:
                exec(compile("logger.info('m')", name, "exec"), {"logger": logger})
        plain, fast = self.both(calls)
        self.assertEqual([e["fields"]["module"] for e in fast],
                         [os.path.splitext(os.path.basename(n))[0] for n in names])
        self.assertEqual(plain, fast)

    def test_fast_path_taken(self):
        """The fast path builds no LogRecord: findCaller never runs for a
        plain call, and runs for one the fast path leaves to logging."""
        logger, _ = self.make_logger(logbus.Logger, f"{self.tag}.counted")
        found = []
        original = logging.Logger.findCaller

        def counting(self, *args, **kwargs):
            found.append(1)
            return original(self, *args, **kwargs)
        with mock.patch.object(logging.Logger, "findCaller", counting):
            logger.info("fast %s", "path", extra={"n": 1})
            self.assertEqual(found, [])
            logger.info("slow path", stack_info=True)
            self.assertEqual(found, [1])
        self.assertEqual([e["msg"] for e in self.written(self.bus, logger.name)],
                         ["fast path", "slow path"])

    def test_slow_paths_behave_alike(self):
        """What the fast path leaves to logging.Logger comes out the same."""
        def calls(logger):
            try:
                raise KeyError("k")
            except KeyError:
                logger.exception("failed")
            logger.info("stack", stack_info=True)
            logger.info("level up", stacklevel=2)
            stderr = io.StringIO()
            with contextlib.redirect_stderr(stderr):
                logger.info("%d", "not a number")
                logger.info("bad key", extra={"request.id": 1})
            self.assertEqual(stderr.getvalue().count("--- Logging error ---"), 2)
            with self.assertRaisesRegex(KeyError, "Attempt to overwrite 'module'"):
                logger.info("x", extra={"module": "m"})
        plain, fast = self.both(calls)
        for entries in (plain, fast):
            for e in entries:
                e["fields"].pop("traceback", None)
        self.assertEqual([e["msg"] for e in plain], ["failed", "stack", "level up"])
        self.assertEqual(plain, fast)

    def test_other_handlers_filters_and_formatters(self):
        """A logger whose records also reach another handler, or whose
        handler filters or formats, sees every record as before."""
        logger, handler = self.make_logger(logbus.Logger, f"{self.tag}.mixed")
        stream = io.StringIO()
        other = logging.StreamHandler(stream)
        logger.addHandler(other)
        logger.info("to both")
        logger.removeHandler(other)
        handler.addFilter(lambda r: r.getMessage() != "filtered")
        logger.info("filtered")
        logger.info("kept")
        handler.filters.clear()
        handler.setFormatter(logging.Formatter("F:%(message)s"))
        logger.info("formatted")
        handler.setFormatter(None)
        logger.setLevel(logging.WARNING)
        logger.info("below the level")
        self.assertEqual(stream.getvalue(), "to both\n")
        self.assertEqual([e["msg"] for e in self.written(self.bus, logger.name)],
                         ["to both", "kept", "F:formatted"])

    def test_propagation_and_handler_levels(self):
        """Records climb to the parent's logbus handlers, as in logging,
        and each handler's level and tag apply."""
        parent, _ = self.make_logger(logbus.Logger, f"{self.tag}.parent")
        tagged = logbus.Handler(bus=self.bus, tag=f"{self.tag}-warn", level=logging.WARNING)
        parent.addHandler(tagged)
        self.addCleanup(parent.removeHandler, tagged)
        logging.setLoggerClass(logbus.Logger)
        child = logging.getLogger(f"{self.tag}.parent.child")
        logging.setLoggerClass(logging.Logger)
        child.info("info")
        child.warning("warning")
        self.assertEqual([e["msg"] for e in self.written(self.bus, child.name)],
                         ["info", "warning"])
        self.assertEqual([e["msg"] for e in self.written(self.bus, f"{self.tag}-warn")],
                         ["warning"])


if __name__ == "__main__":
    unittest.main()
