# SPDX-License-Identifier: MIT
"""Bus.stats(): the library's counters, and the accounting rule between
them; a full lane drops without raising or waiting, and the drop is
counted."""

import unittest

from writerproc import WriterTestCase

COUNTERS = {"published", "queued", "fallback", "dropped_full", "dropped_too_large",
            "dropped_no_lane", "dropped_fallback", "wakes", "blocked"}


def accounted(stats):
    return (stats["queued"] + stats["fallback"] + stats["dropped_full"]
            + stats["dropped_too_large"] + stats["dropped_no_lane"] + stats["dropped_fallback"])


class Stats(WriterTestCase):

    writer_args = ("--lane-size", "64K")

    def test_counts(self):
        """Every accepted publish is counted as queued."""
        before = self.bus.stats()
        self.assertEqual(set(before), COUNTERS)
        for i in range(10):
            self.assertTrue(self.bus.publish("info", f"entry {i}", tag=self.tag))
        after = self.bus.stats()
        self.assertEqual(after["published"] - before["published"], 10)
        self.assertEqual(after["queued"] - before["queued"], 10)
        self.assertEqual(after["published"], accounted(after))
        self.assertEqual(len(self.written(self.bus)), 10)

    def test_full_lane_drops(self):
        """With the writer stopped the lane fills: publish returns False,
        never raises, and dropped_full counts each drop."""
        before = self.bus.stats()
        self.writer.pause()
        try:
            results = [self.bus.publish("info", "y" * 1000, tag=self.tag) for _ in range(200)]
        finally:
            self.writer.resume()
        after = self.bus.stats()
        self.assertIn(False, results)
        self.assertEqual(after["dropped_full"] - before["dropped_full"], results.count(False))
        self.assertEqual(after["queued"] - before["queued"], results.count(True))
        self.assertEqual(after["published"], accounted(after))
        self.assertEqual(len(self.written(self.bus)), results.count(True))

    def test_too_large(self):
        """An entry larger than the bus takes is dropped and counted too."""
        before = self.bus.stats()
        self.assertFalse(self.bus.publish("info", "z" * (128 << 10), tag=self.tag))
        after = self.bus.stats()
        self.assertEqual(after["dropped_too_large"] - before["dropped_too_large"], 1)


if __name__ == "__main__":
    unittest.main()
