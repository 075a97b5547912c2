# SPDX-License-Identifier: MIT
"""logbus.SessionLogger: the agent framework's session logger API on logbus.

log_response() publishes one entry tagged with the agent's name; a writer
with an entry_files rule for the tag (python/examples/session-writer.json)
makes it the JSON document <agent>_<YYYYMMDD>_<HHMMSS>_<usec>.json, with
the response as "msg", the time as "ts", and the request summary and the
metadata (as JSON text) in "fields".
"""

import json
import threading
import time

from . import _logbus
from .bus import Bus


class SessionLogger:
    """SessionLogger(agent, bus=None): log an agent's responses.

    agent: the tag of the entries and the first part of the file names
    (1 to 64 printable ASCII characters, no space). bus: a logbus.Bus (the
    caller keeps it), a bus name, or None for $LOGBUS_BUS else "default".
    $LOGBUS_SYNC=1 makes each log_response wait until the file is written.
    """

    def __init__(self, agent, bus=None):
        self.agent = _logbus._check_tag(agent)
        if isinstance(bus, _logbus.Bus):
            self.bus, self._owns_bus = bus, False
        else:
            self.bus, self._owns_bus = Bus(bus), True
        self._lock = threading.Lock()
        self._logged = 0
        self._dropped = 0
        self._publish_ns = 0

    def log_response(self, request_summary, response_content, metadata=None):
        """Publish one response: request_summary and response_content are
        str (anything else is stored as its JSON text), metadata a
        JSON-serialisable dict or None. Returns True when the entry is in
        the bus, False when it was dropped (counted in get_stats())."""
        start = time.perf_counter_ns()
        accepted = self.bus.publish(
            _logbus.INFO, _as_text(response_content), tag=self.agent,
            request_summary=_as_text(request_summary),
            metadata=json.dumps(metadata if metadata is not None else {},
                                ensure_ascii=False, default=str))
        elapsed = time.perf_counter_ns() - start
        with self._lock:
            if accepted:
                self._logged += 1
            else:
                self._dropped += 1
            self._publish_ns += elapsed
        return accepted

    def get_stats(self):
        """{"logged": entries accepted, "dropped": entries dropped,
        "avg_publish_us": mean time of a log_response call}."""
        with self._lock:
            calls = self._logged + self._dropped
            return {"logged": self._logged, "dropped": self._dropped,
                    "avg_publish_us": self._publish_ns / calls / 1000 if calls else 0.0}

    def flush(self, timeout=None):
        """Wait until the writer wrote every response logged so far."""
        return self.bus.flush(timeout)

    def close(self):
        """Close the logger, and its bus when it opened it (idempotent)."""
        if self._owns_bus:
            self.bus.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _as_text(value):
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           default=str)
