# SPDX-License-Identifier: MIT
"""Test support: a logbus-writer from the build tree on a private bus and
directory, and what it wrote, read back as JSON."""

import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import logbus

WRITER = os.environ.get("LOGBUS_TEST_WRITER", "logbus-writer")
STAT = os.environ.get("LOGBUS_TEST_STAT", "logbus-stat")
START_TIMEOUT_S = 10


def unique_bus(test):
    """A bus name no other test run uses."""
    return f"py-{test}-{os.getpid()}-{time.monotonic_ns() % 1000000}"


def remove_bus(bus):
    """Remove what a writer leaves of a bus: its segment, stats segment and
    socket, and its private directory with the lane files."""
    for path in (f"/dev/shm/logbus.{bus}", f"/dev/shm/logbus.{bus}.stats",
                 f"/dev/shm/logbus.{bus}.sock"):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    shutil.rmtree(f"/dev/shm/logbus.{bus}.d", ignore_errors=True)


class Writer:
    """A logbus-writer on bus `bus` writing JSON lines into dir (its own
    temporary directory unless given). Use as a context manager, or call
    start() and stop()/close()."""

    def __init__(self, bus, args=(), dir=None):
        self.bus = bus
        self.dir = dir or tempfile.mkdtemp(prefix=f"logbus-{bus}-")
        self.args = list(args)
        self.proc = None

    def start(self):
        """Start the writer and wait until the bus names it as its writer."""
        self.proc = subprocess.Popen([WRITER, "--bus", self.bus, "--dir", self.dir, *self.args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"logbus-writer exited at start, status "
                                     f"{self.proc.returncode}: {self.proc.stderr.read().decode()}")
            if self._ready():
                return self
            time.sleep(0.02)
        raise AssertionError(f"logbus-writer on {self.bus} not ready after {START_TIMEOUT_S} s")

    def _ready(self):
        out = subprocess.run([STAT, "--bus", self.bus, "--json"], capture_output=True)
        if out.returncode != 0:
            return False
        return json.loads(out.stdout)["writer"]["pid"] == self.proc.pid

    def stop(self):
        """SIGTERM: the writer drains what was committed and exits 0."""
        self.proc.send_signal(signal.SIGTERM)
        status = self.proc.wait(timeout=60)
        self.proc.stderr.close()
        self.proc = None
        if status != 0:
            raise AssertionError(f"logbus-writer exited with status {status}")

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def close(self):
        """Stop the writer if it runs, remove the bus and the directory."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()
            self.proc.stderr.close()
            self.proc = None
        remove_bus(self.bus)
        shutil.rmtree(self.dir, ignore_errors=True)

    def entries(self):
        """Every entry of the JSON-lines files, in file then line order."""
        found = []
        for path in sorted(glob.glob(os.path.join(self.dir, "*.jsonl"))):
            with open(path, encoding="utf-8") as f:
                found += [json.loads(line) for line in f]
        return found

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.close()


class WriterTestCase(unittest.TestCase):
    """Test cases sharing one writer on a private bus (cls.writer, on
    cls.bus_name), started once for the class, and a Bus on it (cls.bus)
    open for the whole class. Each test tells its entries apart by tag:
    self.tag is unique to the test; self.written(bus) flushes and returns
    the entries of that tag."""

    writer_args = ()

    @classmethod
    def setUpClass(cls):
        cls.bus_name = unique_bus(cls.__name__[:20])
        cls.writer = Writer(cls.bus_name, cls.writer_args)
        cls.addClassCleanup(cls.writer.close)
        cls.writer.start()
        cls.bus = logbus.Bus(cls.bus_name)
        cls.addClassCleanup(cls.bus.close)

    def setUp(self):
        self.tag = self.id().rsplit(".", 1)[-1][:40]

    def written(self, bus, tag=None):
        """Flush bus, then the entries with tag (default self.tag)."""
        self.assertTrue(bus.flush(30), "the writer did not write the entries in 30 s")
        tag = tag or self.tag
        return [e for e in self.writer.entries() if e["tag"] == tag]
