# SPDX-License-Identifier: MIT
"""logbus: publish log entries into a logbus shared-memory bus from Python.

Bus is a handle on a bus (a C call into liblogbus per publish, no system
call, never a wait in drop mode); Handler is a logging.Handler over it;
SessionLogger is the session logger's API (one JSON document per response,
made by the writer's entry_files rule).
"""

try:
    from . import _logbus
except ImportError as error:  # the extension is missing, or does not load
    raise ImportError(
        f"logbus: its C extension logbus._logbus cannot be loaded ({error}); "
        "install the package with 'pip install .' from a logbus source tree, "
        "or put a meson build's python/ directory on PYTHONPATH",
        name="logbus._logbus") from error

from ._logbus import (EMERG, ALERT, CRIT, ERR, WARNING, NOTICE, INFO, DEBUG,
                      TAG_MAX, KEY_MAX, FIELDS_MAX)
from .bus import Bus
from .handler import Handler
from .logger import Logger
from .session import SessionLogger

__all__ = ["Bus", "Handler", "Logger", "SessionLogger",
           "EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG",
           "TAG_MAX", "KEY_MAX", "FIELDS_MAX"]
