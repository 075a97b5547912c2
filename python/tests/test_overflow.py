# SPDX-License-Identifier: MIT
"""Bus(overflow="block"): a publish into a full lane waits for the writer
(without the GIL: other threads run on), up to its timeout, then drops;
LOGBUS_OVERFLOW works as in C; bad policies are refused by name."""

import os
import subprocess
import sys
import threading
import unittest

import logbus
from writerproc import WriterTestCase

ENTRIES = 200       # of 1000 bytes: three times a 64K lane
BIG = "b" * 1000


class Overflow(WriterTestCase):

    writer_args = ("--lane-size", "64K")

    def test_block_waits_for_room(self):
        """With the writer stopped, a blocking publisher waits; the main
        thread still runs (the GIL is free) and resumes the writer; then
        every entry is written, none dropped, and the waits are counted."""
        bus = logbus.Bus(self.bus_name, overflow="block")
        self.addCleanup(bus.close)
        results = []
        self.writer.pause()
        try:
            publisher = threading.Thread(target=lambda: results.extend(
                bus.publish("info", BIG, tag=self.tag, i=i) for i in range(ENTRIES)))
            publisher.start()
            while bus.stats()["blocked"] == 0 and publisher.is_alive():
                publisher.join(0.01)
            self.assertTrue(publisher.is_alive())   # waiting for room, not dropping
        finally:
            self.writer.resume()
        publisher.join()
        stats = bus.stats()
        self.assertEqual(results, [True] * ENTRIES)
        self.assertGreater(stats["blocked"], 0)
        self.assertEqual(stats["dropped_full"], 0)
        got = self.written(bus)
        self.assertEqual([e["fields"]["i"] for e in got], [str(i) for i in range(ENTRIES)])

    def test_block_timeout_drops(self):
        """Past its timeout a blocked publish drops the entry and counts it."""
        bus = logbus.Bus(self.bus_name, overflow="block", timeout=0.02)
        self.addCleanup(bus.close)
        self.writer.pause()
        try:
            results = []
            while len(results) < ENTRIES and (not results or results[-1]):
                results.append(bus.publish("info", BIG, tag=self.tag))
            stats = bus.stats()
        finally:
            self.writer.resume()
        self.assertEqual(results[-1], False)
        self.assertEqual(stats["dropped_full"], 1)
        self.assertGreater(stats["blocked"], 0)
        self.assertEqual(len(self.written(bus)), results.count(True))

    def test_drop_is_the_default(self):
        """Without overflow= (and no LOGBUS_OVERFLOW) a full lane drops at once."""
        self.writer.pause()
        try:
            results = [self.bus.publish("info", BIG, tag=self.tag) for _ in range(ENTRIES)]
            stats = self.bus.stats()
        finally:
            self.writer.resume()
        self.assertIn(False, results)
        self.assertEqual(stats["blocked"], 0)

    def test_environment(self):
        """LOGBUS_OVERFLOW=block:MS applies to Bus() without overflow=; a
        misspelt value is named."""
        code = ("import logbus, sys\n"
                "bus = logbus.Bus(sys.argv[1])\n"
                "print(bus.publish('info', 'from env', tag=sys.argv[2]))\n")
        env = dict(os.environ, LOGBUS_OVERFLOW="block:1000")
        out = subprocess.run([sys.executable, "-c", code, self.bus_name, self.tag], env=env,
                             capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout, "True\n")
        env["LOGBUS_OVERFLOW"] = "blok"
        out = subprocess.run([sys.executable, "-c", code, self.bus_name, self.tag], env=env,
                             capture_output=True, text=True)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("ValueError: logbus: $LOGBUS_OVERFLOW 'blok' is not a policy: drop, "
                      "block or block:MS", out.stderr)

    def test_bad_policies(self):
        with self.assertRaisesRegex(ValueError, "overflow 'wait' is not a policy: 'drop', "
                                    "'block', or None"):
            logbus.Bus(self.bus_name, overflow="wait")
        with self.assertRaisesRegex(ValueError, "a timeout is for overflow='block' only"):
            logbus.Bus(self.bus_name, overflow="drop", timeout=1)
        with self.assertRaisesRegex(ValueError, "timeout -2 is not valid"):
            logbus.Bus(self.bus_name, overflow="block", timeout=-2)
        with self.assertRaisesRegex(ValueError, "overflow and timeout are the given Bus's own"):
            logbus.Handler(bus=self.bus, overflow="block")


if __name__ == "__main__":
    unittest.main()
