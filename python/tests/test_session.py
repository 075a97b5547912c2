# SPDX-License-Identifier: MIT
"""logbus.SessionLogger with the shipped writer configuration
(python/examples/session-writer.json): one document per response named
<agent>_<YYYYMMDD>_<HHMMSS>_<usec>.json holding the request summary, the
response, the metadata and the time; get_stats(); LOGBUS_BUS and
LOGBUS_SYNC as in C."""

import json
import os
import re
import subprocess
import sys
import unittest

import logbus
from writerproc import Writer, unique_bus

NAME = re.compile(r"^(?P<agent>.+)_(?P<date>\d{8})_(?P<time>\d{6})_(?P<usec>\d{6})\.json$")


class SessionFiles(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.bus_name = unique_bus("session")
        cls.writer = Writer(cls.bus_name)
        cls.addClassCleanup(cls.writer.close)
        cls.sessions = os.path.join(cls.writer.dir, "sessions")
        os.mkdir(cls.sessions)
        with open(os.environ["LOGBUS_TEST_SESSION_CONFIG"]) as f:
            config = json.load(f)
        config["entry_files"][0]["dir"] = cls.sessions
        path = os.path.join(cls.writer.dir, "session-writer.json")
        with open(path, "w") as f:
            json.dump(config, f)
        cls.writer.args = ["--config", path, "--lane-size", "64K"]
        cls.writer.start()
        # Held open so that the loggers below share one library handle.
        cls.bus = logbus.Bus(cls.bus_name)
        cls.addClassCleanup(cls.bus.close)

    def documents(self, agent):
        """{file name: document} of the agent's files."""
        found = {}
        for name in sorted(os.listdir(self.sessions)):
            match = NAME.match(name)
            if match and match["agent"] == agent:
                with open(os.path.join(self.sessions, name)) as f:
                    found[name] = json.load(f)
        return found

    def test_one_document_per_response(self):
        """Each log_response becomes its own file, named after the agent
        and the entry's time, holding everything that was logged."""
        metadata = {"model": "m-1", "tokens": 12, "nested": {"a": [1, 2]}}
        with logbus.SessionLogger("research", bus=self.bus_name) as log:
            for i in range(3):
                self.assertTrue(log.log_response(f"question {i}", f"answer {i}", metadata))
            self.assertTrue(log.flush(30))
            stats = log.get_stats()
        docs = self.documents("research")
        self.assertEqual(len(docs), 3)
        for i, (name, doc) in enumerate(docs.items()):
            self.assertEqual(doc["tag"], "research")
            self.assertEqual(doc["msg"], f"answer {i}")
            self.assertEqual(doc["fields"]["request_summary"], f"question {i}")
            self.assertEqual(json.loads(doc["fields"]["metadata"]), metadata)
            match = NAME.match(name)
            stamp = f"{match['date'][:4]}-{match['date'][4:6]}-{match['date'][6:]}T" \
                    f"{match['time'][:2]}:{match['time'][2:4]}:{match['time'][4:]}"
            self.assertTrue(doc["ts"].startswith(stamp), (name, doc["ts"]))
        self.assertEqual(stats["logged"], 3)
        self.assertEqual(stats["dropped"], 0)
        self.assertGreater(stats["avg_publish_us"], 0)

    def test_structured_content(self):
        """A response or summary that is not a str is stored as JSON text;
        no metadata is an empty object."""
        with logbus.SessionLogger("structured", bus=self.bus_name) as log:
            log.log_response({"q": 1}, ["a", "b"])
            self.assertTrue(log.flush(30))
        (doc,) = self.documents("structured").values()
        self.assertEqual(json.loads(doc["msg"]), ["a", "b"])
        self.assertEqual(json.loads(doc["fields"]["request_summary"]), {"q": 1})
        self.assertEqual(json.loads(doc["fields"]["metadata"]), {})

    def test_drops_are_counted(self):
        """With the writer stopped, a full lane drops responses without
        raising or waiting; get_stats() counts them."""
        with logbus.SessionLogger("flood", bus=self.bus_name) as log:
            self.writer.pause()
            try:
                results = [log.log_response("q", "x" * 1000) for _ in range(200)]
            finally:
                self.writer.resume()
            stats = log.get_stats()
            self.assertTrue(log.flush(30))
        self.assertIn(False, results)
        self.assertEqual(stats["logged"], results.count(True))
        self.assertEqual(stats["dropped"], results.count(False))
        self.assertEqual(len(self.documents("flood")), results.count(True))

    def test_environment(self):
        """LOGBUS_BUS picks the bus of SessionLogger(agent); with
        LOGBUS_SYNC=1 the file exists as soon as log_response returns."""
        code = ("import json, logbus, os, sys\n"
                "log = logbus.SessionLogger('synced')\n"
                "log.log_response('q', 'a')\n"
                "print(json.dumps([n for n in os.listdir(sys.argv[1]) if n.startswith('synced_')]))\n")
        env = dict(os.environ, LOGBUS_BUS=self.bus_name, LOGBUS_SYNC="1")
        out = subprocess.run([sys.executable, "-c", code, self.sessions], env=env,
                             capture_output=True, text=True, check=True).stdout
        (name,) = json.loads(out)
        self.assertRegex(name, NAME)

    def test_bad_agent(self):
        with self.assertRaisesRegex(ValueError, "tag 'my agent' is not valid"):
            logbus.SessionLogger("my agent", bus=self.bus_name)


if __name__ == "__main__":
    unittest.main()
