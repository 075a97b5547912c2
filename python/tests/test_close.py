# SPDX-License-Identifier: MIT
"""Closing: twice is harmless, a closed Bus refuses calls with a clear
error, a with block closes, and a Bus closed while another thread waits in
flush() stays valid for that thread until it returns."""

import threading
import unittest

import logbus
from writerproc import WriterTestCase


class Close(WriterTestCase):

    def test_close_twice(self):
        bus = logbus.Bus(self.bus_name)
        self.assertTrue(bus.publish("info", "one", tag=self.tag))
        bus.close()
        bus.close()
        self.assertTrue(bus.closed)
        for call in (lambda: bus.publish("info", "x"), bus.flush, bus.stats):
            with self.assertRaisesRegex(ValueError, "on a closed Bus"):
                call()
        self.assertEqual(len(self.written(self.bus)), 1)

    def test_with_block(self):
        with logbus.Bus(self.bus_name) as bus:
            self.assertFalse(bus.closed)
            bus.publish("info", "inside", tag=self.tag)
        self.assertTrue(bus.closed)
        self.assertEqual([e["msg"] for e in self.written(self.bus)], ["inside"])

    def test_close_during_flush(self):
        """close() from one thread while another calls flush(): the flush
        either ran first and returns True once the writer wrote the entry,
        or came after the close and raised; never a crash."""
        bus = logbus.Bus(self.bus_name)
        bus.publish("info", "pending", tag=self.tag)
        self.writer.pause()
        results = []

        def flush():
            try:
                results.append(bus.flush(30))
            except ValueError as error:
                results.append(str(error))
        flusher = threading.Thread(target=flush)
        try:
            flusher.start()
            bus.close()
            self.assertTrue(bus.closed)
        finally:
            self.writer.resume()
        flusher.join()
        self.assertIn(results, ([True], ["logbus: flush on a closed Bus"]))
        self.assertEqual([e["msg"] for e in self.written(self.bus)], ["pending"])

    def test_handler_close_twice(self):
        handler = logbus.Handler(bus=self.bus_name)
        handler.close()
        handler.close()
        self.assertTrue(handler.bus.closed)
        self.assertFalse(self.bus.closed)


if __name__ == "__main__":
    unittest.main()
