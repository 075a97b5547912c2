# SPDX-License-Identifier: MIT
"""Many threads publishing through one Bus, and through one Handler: every
entry arrives once, each thread's in its order, under its own thread id."""

import collections
import logging
import threading
import unittest

import logbus
from writerproc import WriterTestCase

THREADS = 8
PER_THREAD = 2000


class Threads(WriterTestCase):

    def run_threads(self, body):
        start = threading.Barrier(THREADS)
        tids = {}

        def run(n):
            tids[n] = threading.get_native_id()
            start.wait()
            body(n)
        threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return tids

    def check(self, entries, tids):
        by_thread = collections.defaultdict(list)
        for e in entries:
            by_thread[int(e["fields"]["n"])].append((e["tid"], int(e["fields"]["i"])))
        self.assertEqual(sorted(by_thread), list(range(THREADS)))
        for n, got in by_thread.items():
            self.assertEqual(got, [(tids[n], i) for i in range(PER_THREAD)])

    def test_one_bus_many_threads(self):
        def body(n):
            for i in range(PER_THREAD):
                while not self.bus.publish("info", "m", tag=self.tag, n=n, i=i):
                    self.bus.flush(30)  # a full lane: wait for room, then again
        tids = self.run_threads(body)
        self.check(self.written(self.bus), tids)

    def test_handler_many_threads(self):
        logger = logging.getLogger(f"threads.{self.tag}")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        handler = logbus.Handler(bus=self.bus)
        logger.addHandler(handler)
        self.addCleanup(logger.removeHandler, handler)

        def body(n):
            for i in range(PER_THREAD):
                logger.info("m", extra={"n": n, "i": i})  # far below a 4M lane
        tids = self.run_threads(body)
        entries = self.written(self.bus, logger.name)
        self.assertEqual(len(entries), THREADS * PER_THREAD, self.bus.stats())
        self.check(entries, tids)


if __name__ == "__main__":
    unittest.main()
