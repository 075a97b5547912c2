# SPDX-License-Identifier: MIT
"""logbus.Bus: a handle on a bus, with the context-manager and asyncio parts
of its API (the rest is the C type logbus._logbus.Bus)."""

from . import _logbus


class Bus(_logbus.Bus):
    """Bus(name=None, overflow=None, timeout=None): a handle on the bus
    `name` (None: $LOGBUS_BUS, else "default"). When the bus does not exist
    yet, entries go to the fallback (stderr, or $LOGBUS_FALLBACK) until it
    appears; $LOGBUS_SYNC=1 makes every publish wait until the writer has
    written the entry.

    overflow: what a publish does when the thread's lane is full. "drop"
    counts the entry dropped and returns False at once; "block" waits for
    the writer to free room, at most timeout seconds (None: no limit), then
    drops; None takes $LOGBUS_OVERFLOW (drop, block or block:MS), else
    drop. A publish that waits lets the GIL go.

    publish(level, msg, /, tag=None, **fields) -> bool
        level: 0..7 or a name ("info", "err", "error", "warning", ...);
        msg: str or bytes; tag: None for the program's name; fields: keys of
        [A-Za-z0-9_] (at most 64 characters, 64 fields), values str, bytes,
        int, float, bool or None (as text). Returns True when the entry is
        in the bus, False when it was dropped and counted (the thread's lane
        is full, the entry too large, no lane for it: the writer refused
        one): it never raises for a full bus or a refusal, and never waits
        in drop mode. Bad arguments raise ValueError or TypeError naming
        the cause.
    refusal -> str or None
        Why the writer last refused this handle a lane, in one line that
        names the setting (clients.allowed_users, lanes_per_uid, ...), or
        None when it never did.
    flush(timeout=None) -> bool
        Wait until the writer wrote everything published before the call.
    stats() -> dict
        The library's counters for this handle (shared by the Bus objects
        of this process on the same bus and policy).
    close()
        Give the handle back (idempotent); also on leaving a with block.

    Safe to use from many threads, and in the child after fork().
    """

    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"<logbus.Bus{' closed' if self.closed else ''}>"

    async def aflush(self, timeout=None):
        """flush() for a coroutine: the wait runs on the event loop's default
        executor, so the loop keeps running; returns flush()'s result."""
        import asyncio
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.flush, timeout)
