# SPDX-License-Identifier: MIT
"""logbus.Logger: logging.Logger with a fast path to logbus.Handler.

A logging call spends most of its time in the standard library before any
handler runs (the LogRecord, findCaller). When every handler a call would
reach is a plain logbus.Handler without filters or a formatter, and the
call has no exc_info, stack_info or stacklevel, logbus.Logger builds the
entry those handlers would publish straight from the call (in C), with the
same level, tag, message and fields; any other call goes through
logging.Logger unchanged. Use it for every logger with
logging.setLoggerClass(logbus.Logger) before the loggers are made.
"""

import logging

from . import _logbus


class Logger(_logbus.LoggerBase, logging.Logger):
    """logging.Logger whose calls that reach only logbus.Handlers skip the
    LogRecord (see the module's documentation)."""
