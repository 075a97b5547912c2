#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""logbus-client.py: a Python client. Publishes through logbus.Bus (with
fields) and through the standard library's logging with logbus.Handler,
waits until the writer has written everything, and checks each result:
it exits 1 with one line saying what did not reach the writer.

    LOGBUS_BUS=app python3 client.py
"""

import logging
import sys

import logbus


def main():
    with logbus.Bus() as bus:
        if not bus.publish("info", "hello from Python", tag="pyclient", user="bob"):
            print("client.py: the entry was dropped:", bus.stats(), file=sys.stderr)
            return 1

        logging.setLoggerClass(logbus.Logger)
        log = logging.getLogger("pyclient")
        log.propagate = False
        log.setLevel(logging.INFO)
        handler = logbus.Handler(bus=bus)
        log.addHandler(handler)
        log.warning("slow request", extra={"path": "/login"})
        handler.close()

        if not bus.flush(5.0):
            print("client.py: the writer did not write the entries in 5 s", file=sys.stderr)
            return 1
        st = bus.stats()
        if st["queued"] != st["published"]:
            print(f"client.py: of {st['published']} entries, {st['fallback']} went to the "
                  "fallback (no bus or no writer) and the rest of those not queued were "
                  "dropped", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
