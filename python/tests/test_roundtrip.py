# SPDX-License-Identifier: MIT
"""Entries published with Bus.publish reach a real writer's JSON lines whole:
level, tag, message, fields as text, bytes that are not UTF-8."""

import base64
import os
import threading
import unittest

import logbus
from writerproc import WriterTestCase


class RoundTrip(WriterTestCase):

    def test_entry_fields_and_levels(self):
        """Each publish becomes one JSON line with what was given."""
        with logbus.Bus(self.bus_name) as bus:
            self.assertTrue(bus.publish("info", "hello", tag=self.tag, user="bob", n=3,
                                        ratio=0.5, ok=True, off=False, nothing=None))
            self.assertTrue(bus.publish(logbus.ERR, "numeric level", tag=self.tag))
            self.assertTrue(bus.publish("warning", "default tag"))
            first, second = self.written(bus)
            (third,) = [e for e in self.writer.entries() if e.get("msg") == "default tag"]
        self.assertEqual(first["msg"], "hello")
        self.assertEqual(first["level"], "info")
        self.assertEqual(first["pid"], os.getpid())
        self.assertEqual(first["tid"], threading.get_native_id())
        self.assertEqual(first["fields"], {"user": "bob", "n": "3", "ratio": "0.5", "ok": "true",
                                           "off": "false", "nothing": "null"})
        self.assertEqual((second["level"], second["msg"]), ("err", "numeric level"))
        self.assertNotIn("fields", second)
        self.assertEqual(third["level"], "warning")
        with open("/proc/self/cmdline", "rb") as f:
            program = os.path.basename(f.read().split(b"\0")[0]).decode()
        self.assertEqual(third["tag"], program)

    def test_level_names(self):
        """Every level name and alias the library knows, and 0..7."""
        names = {"emerg": "emerg", "alert": "alert", "crit": "crit", "critical": "crit",
                 "err": "err", "error": "err", "warning": "warning", "warn": "warning",
                 "notice": "notice", "info": "info", "debug": "debug", "INFO": "info"}
        with logbus.Bus(self.bus_name) as bus:
            for name in names:
                bus.publish(name, name, tag=self.tag)
            for level in range(8):
                bus.publish(level, str(level), tag=self.tag)
            got = {e["msg"]: e["level"] for e in self.written(bus)}
        self.assertEqual({k: got[k] for k in names}, names)
        self.assertEqual([got[str(n)] for n in range(8)],
                         ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"])

    def test_bytes_and_unicode(self):
        """str goes as UTF-8; bytes as they are (msg_b64 when not UTF-8)."""
        raw = b"\xff\xfe not utf-8"
        with logbus.Bus(self.bus_name) as bus:
            bus.publish("info", "caf\u00e9 \u2713", tag=self.tag, word="\u00fcber")
            bus.publish("info", raw, tag=self.tag, blob=b"\x00\x01")
            text, binary = self.written(bus)
        self.assertEqual(text["msg"], "caf\u00e9 \u2713")
        self.assertEqual(text["fields"], {"word": "\u00fcber"})
        self.assertEqual(base64.b64decode(binary["msg_b64"]), raw)
        self.assertEqual(binary["fields"], {"blob": "\u0000\u0001"})


if __name__ == "__main__":
    unittest.main()
