# SPDX-License-Identifier: MIT
"""A writer that refuses this process a lane: publish returns False and
counts the entry (it never raises), and Bus.refusal says why in the
writer's words, naming the setting that refused."""

import json
import os
import tempfile
import unittest

import logbus
from writerproc import Writer, unique_bus


class Refusal(unittest.TestCase):

    def test_refused_user(self):
        other = 65534 if os.getuid() != 65534 else 0   # nobody, else root
        config = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        self.addCleanup(os.unlink, config.name)
        json.dump({"clients": {"allowed_users": [other]}}, config)
        config.close()
        bus_name = unique_bus("Refusal")
        writer = Writer(bus_name, ("--config", config.name))
        self.addCleanup(writer.close)
        writer.start()
        with logbus.Bus(bus_name) as bus:
            self.assertIsNone(bus.refusal)
            self.assertFalse(bus.publish("info", "refused", tag="refusal"))
            self.assertFalse(bus.publish("info", "asked again", tag="refusal"))
            self.assertIn(f"uid {os.getuid()}", bus.refusal)
            self.assertIn("(clients.allowed_users)", bus.refusal)
            stats = bus.stats()
            self.assertEqual(stats["dropped_no_lane"], 2)
            self.assertEqual(stats["queued"], 0)
        self.assertEqual([e for e in writer.entries() if e["tag"] == "refusal"], [])

    def test_no_refusal(self):
        bus_name = unique_bus("NoRefusal")
        with Writer(bus_name), logbus.Bus(bus_name) as bus:
            self.assertTrue(bus.publish("info", "welcome", tag="refusal"))
            self.assertIsNone(bus.refusal)


if __name__ == "__main__":
    unittest.main()
