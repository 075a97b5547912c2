# SPDX-License-Identifier: MIT
"""logbus from coroutines: publish returns at once even when the lane is
full (the writer stopped), and `await bus.aflush()` lets the event loop run
other tasks while it waits for the writer."""

import asyncio
import unittest

from writerproc import WriterTestCase


class Asyncio(WriterTestCase):

    writer_args = ("--lane-size", "64K")

    def test_publish_and_aflush(self):
        async def main():
            ticks = 0
            done = asyncio.Event()

            async def ticker():
                nonlocal ticks
                while not done.is_set():
                    ticks += 1
                    await asyncio.sleep(0)
            task = asyncio.create_task(ticker())
            self.writer.pause()
            try:
                results = [self.bus.publish("info", "x" * 1000, tag=self.tag)
                           for _ in range(200)]
                self.assertIn(False, results)      # the lane filled: dropped, no wait
                flushing = asyncio.create_task(self.bus.aflush(30))
                await asyncio.sleep(0)
                before = ticks
                for _ in range(10):
                    await asyncio.sleep(0)
                self.assertFalse(flushing.done())  # the writer is stopped ...
                self.assertGreater(ticks, before)  # ... and the loop runs on
            finally:
                self.writer.resume()
            self.assertTrue(await flushing)
            done.set()
            await task
            return results
        results = asyncio.run(main())
        self.assertEqual(len(self.written(self.bus)), results.count(True))


if __name__ == "__main__":
    unittest.main()
