# SPDX-License-Identifier: MIT
"""logbus.Handler: the standard library's logging into a logbus bus.

Each record becomes one entry: the level mapped to syslog's (CRITICAL crit,
ERROR err, WARNING warning, INFO info, DEBUG debug), the logger's name as
the tag, the message (record.getMessage(), or the handler's formatter's
output when one is set), and the fields module, funcName, lineno, thread,
process, every extra= key, and traceback (the exception's traceback text
and the stack_info). The record is read in C straight from its __dict__.
"""

import logging

from . import _logbus
from .bus import Bus

_traceback_formatter = logging.Formatter()


class Handler(logging.Handler):
    """Handler(level=NOTSET, bus=None, tag=None, flush_timeout=1.0,
            overflow=None, timeout=None)

    bus: a logbus.Bus to publish through (the caller keeps it), or a bus
    name, or None for $LOGBUS_BUS else "default" (the handler opens it with
    overflow and timeout, as logbus.Bus takes them, and closes it in
    close()). tag: the tag of every entry instead of the
    logger's name (a logger's name is used with characters outside
    printable ASCII replaced by '_' and cut at 64). flush() waits up to
    flush_timeout seconds for the writer.

    emit() never waits in drop mode: a full lane drops the entry and the
    bus counts it (bus.stats()). An extra= key that is no valid field key
    goes to handleError with a ValueError naming it.

    Configurable with logging.config.dictConfig:
        {"class": "logbus.Handler", "bus": "app", "level": "INFO"}
    """

    def __init__(self, level=logging.NOTSET, bus=None, tag=None, flush_timeout=1.0,
                 overflow=None, timeout=None):
        super().__init__(level)
        if tag is not None:
            _logbus._check_tag(tag)
        if isinstance(bus, _logbus.Bus):
            if overflow is not None or timeout is not None:
                raise ValueError("logbus: overflow and timeout are the given Bus's own")
            self.bus, self._owns_bus = bus, False
        else:
            self.bus, self._owns_bus = Bus(bus, overflow, timeout), True
        self.tag = tag
        self.flush_timeout = flush_timeout

    def handle(self, record):
        """Filter, then emit, without the handler's lock: a publish is
        thread-safe by itself."""
        rv = True
        if self.filters:
            rv = self.filter(record)
            if not rv:
                return rv
            if isinstance(rv, logging.LogRecord):
                record = rv
        self.emit(record)
        return rv

    def emit(self, record):
        """Publish the record; errors go to handleError."""
        try:
            message = None if self.formatter is None else self.format(record)
            traceback = None
            if record.exc_info or record.stack_info:
                traceback = self._traceback(record)
            self.bus._publish_record(record, self.tag, message, traceback)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    @staticmethod
    def _traceback(record):
        parts = []
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = _traceback_formatter.formatException(record.exc_info)
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(_traceback_formatter.formatStack(record.stack_info))
        return "\n".join(parts)

    def flush(self):
        """Wait up to flush_timeout seconds until the writer wrote every
        record emitted so far."""
        if not self.bus.closed:
            self.bus.flush(self.flush_timeout)

    def close(self):
        """Close the handler, and the bus when the handler opened it."""
        super().close()
        if self._owns_bus:
            self.bus.close()


# Every attribute a plain LogRecord has, plus the two a Formatter adds: the
# other keys of a record's __dict__ are its extra= fields.
_logbus._setup(logging, Handler,
               frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None)))
               | {"message", "asctime"})
