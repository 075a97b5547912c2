# SPDX-License-Identifier: MIT
"""A Bus across fork(): the child publishes through the Bus it inherited
under its own pid and lane, the parent's entries are untouched, and both
keep publishing."""

import os
import unittest

from writerproc import WriterTestCase

CHILDREN = 4
PER_PROCESS = 500


class Fork(WriterTestCase):

    def test_children_publish_through_the_inherited_bus(self):
        self.assertTrue(self.bus.publish("info", "before", tag=self.tag))
        pids = []
        for c in range(CHILDREN):
            pid = os.fork()
            if pid == 0:
                status = 0
                try:
                    for i in range(PER_PROCESS):
                        if not self.bus.publish("info", "child", tag=self.tag, c=c, i=i):
                            status = 2
                    if not self.bus.flush(30):
                        status = 3
                except BaseException:
                    status = 1
                os._exit(status)
            pids.append(pid)
        for i in range(PER_PROCESS):
            self.assertTrue(self.bus.publish("info", "parent", tag=self.tag, i=i))
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        entries = self.written(self.bus)
        parent = [e for e in entries if e["msg"] in ("before", "parent")]
        self.assertEqual({e["pid"] for e in parent}, {os.getpid()})
        self.assertEqual([e["fields"]["i"] for e in parent[1:]],
                         [str(i) for i in range(PER_PROCESS)])
        children = [e for e in entries if e["msg"] == "child"]
        self.assertEqual({e["pid"] for e in children}, set(pids))
        for pid in pids:
            mine = [e for e in children if e["pid"] == pid]
            self.assertEqual([e["fields"]["i"] for e in mine],
                             [str(i) for i in range(PER_PROCESS)])
            self.assertNotIn(parent[0]["lane"], {e["lane"] for e in mine})


if __name__ == "__main__":
    unittest.main()
