#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/python-logging.py - per-call latency of Python logging into logbus
and into the standard library's handlers.

SYNOPSIS
    python3 bench/python-logging.py --writer PATH --out DIR [--calls N] [--quick]

DESCRIPTION
    Starts logbus-writer (PATH) on a private bus with lanes large enough
    that nothing is dropped even if it fell behind, writing into DIR, and
    times each call alone with time.perf_counter_ns() (the timer's own
    median cost subtracted) while the writer drains:

      publish       Bus.publish(INFO, a 100-byte message)
      publish-3f    the same with three fields
      handler       logger.info(fmt, 2 args) through logbus.Handler, the
                    logger a logging.Logger
      handler-fast  the same, the logger a logbus.Logger (its fast path:
                    no LogRecord; logging.setLoggerClass(logbus.Logger))
      file          ... through logging.FileHandler, format
                    "%(asctime)s %(levelname)s %(name)s: %(message)s"
                    (what a logbus entry holds: time, level, tag, message)
      file-plain    ... through logging.FileHandler, its default format
      queue         ... through logging.handlers.QueueHandler, with a
                    QueueListener handing the records to the FileHandler
                    above on its own thread (the standard library's
                    asynchronous pattern)

    Prints a table beside the original session logger's figures (async
    p50 2 us, p99 5 us) and the goals, one JSON object per measurement on
    stdout's last lines, and writes DIR/python-logging.json. The package
    is imported from PYTHONPATH (the build tree's python/ directory).

EXIT STATUS
    0 measured (whether the goals are met is in the table), 1 failure.
"""

import argparse
import gc
import json
import logging
import logging.handlers
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import logbus

MESSAGE = "GET /api/v1/items?page=2 served to 10.1.2.3 in 83 us, 200 OK, 4182 bytes, cache hit" \
          " (x1)"
ORIGINAL_ASYNC_NS = {"p50": 2000, "p99": 5000}
PUBLISH_GOAL_NS = 300


def timer_cost(calls):
    """Median cost of the timing pair itself."""
    clock = time.perf_counter_ns
    samples = [0] * calls
    for i in range(calls):
        t0 = clock()
        samples[i] = clock() - t0
    samples.sort()
    return samples[calls // 2]


def percentiles(samples, cost):
    samples.sort()
    n = len(samples)

    def at(q):
        return max(0, samples[min(n - 1, int(q * n))] - cost)
    return {"p50_ns": at(0.50), "p90_ns": at(0.90), "p99_ns": at(0.99),
            "p99_9_ns": at(0.999), "max_ns": samples[-1] - cost}


def time_calls(call, calls, warmup):
    """Per-call times of call(i); the garbage collector off while timing."""
    clock = time.perf_counter_ns
    for i in range(warmup):
        call(i)
    samples = [0] * calls
    gc.collect()
    gc.disable()
    try:
        for i in range(calls):
            t0 = clock()
            call(i)
            samples[i] = clock() - t0
    finally:
        gc.enable()
    return samples


def start_writer(writer, bus, directory):
    """Start the writer; returns it and a Bus whose entries it drains."""
    proc = subprocess.Popen([writer, "--bus", bus, "--dir", directory, "--lanes", "4",
                             "--lane-size", "256M"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.environ["LOGBUS_FALLBACK"] = os.devnull  # probes before the bus exists
    handle = logbus.Bus(bus)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"python-logging: logbus-writer exited: {proc.stderr.read().decode()}")
        # Until the handle attached to the bus the probe goes to the
        # fallback; then it is queued, and flushed once the writer drains.
        if os.path.exists(f"/dev/shm/logbus.{bus}") and handle.publish("info", "probe") \
                and handle.stats()["queued"] > 0 and handle.flush(1):
            return proc, handle
        time.sleep(0.05)
    raise SystemExit("python-logging: logbus-writer did not start draining in 10 s")


def stop_writer(proc, bus):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    for path in (f"/dev/shm/logbus.{bus}", f"/dev/shm/logbus.{bus}.stats",
                 f"/dev/shm/logbus.{bus}.sock"):
        if os.path.exists(path):
            os.unlink(path)
    shutil.rmtree(f"/dev/shm/logbus.{bus}.d", ignore_errors=True)


def logger_for(name, handler, cls=logging.Logger):
    logging.setLoggerClass(cls)
    logger = logging.getLogger(f"bench.{name}")
    logging.setLoggerClass(logging.Logger)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.handlers[:] = [handler]
    return logger


def measure(args, work):
    cost = timer_cost(args.calls)
    bus_name = f"bench-python-{os.getpid()}"
    proc, bus = start_writer(args.writer, bus_name, os.path.join(work, "logbus"))
    results = []

    def record(label, samples, **extra):
        results.append({"bench": "python", "label": label, "calls": len(samples),
                        "timer_ns": cost, **percentiles(samples, cost), **extra})

    try:
        publish = bus.publish
        before = bus.stats()
        record("publish", time_calls(lambda i: publish(logbus.INFO, MESSAGE), args.calls,
                                     args.warmup))
        record("publish-3f", time_calls(lambda i: publish(logbus.INFO, MESSAGE, user="bob",
                                                          status=200, ms=0.083),
                                        args.calls, args.warmup))
        info = logger_for("logbus", logbus.Handler(bus=bus)).info
        record("handler", time_calls(lambda i: info("request %d served in %d us", i, 83),
                                     args.calls, args.warmup))
        info = logger_for("logbus-fast", logbus.Handler(bus=bus), logbus.Logger).info
        record("handler-fast", time_calls(lambda i: info("request %d served in %d us", i, 83),
                                          args.calls, args.warmup))
        after = bus.stats()
        dropped = sum(after[k] - before[k] for k in after if k.startswith("dropped"))
        flushed = bus.flush(120)
        for r in results:
            r.update(dropped=dropped, flushed=flushed)
        bus.close()
    finally:
        stop_writer(proc, bus_name)

    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = logging.FileHandler(os.path.join(work, "file.log"))
    file_handler.setFormatter(fmt)
    info = logger_for("file", file_handler).info
    record("file", time_calls(lambda i: info("request %d served in %d us", i, 83), args.calls,
                              args.warmup))
    plain_handler = logging.FileHandler(os.path.join(work, "file-plain.log"))
    info = logger_for("file-plain", plain_handler).info
    record("file-plain", time_calls(lambda i: info("request %d served in %d us", i, 83),
                                    args.calls, args.warmup))

    records = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, file_handler)
    listener.start()
    info = logger_for("queue", logging.handlers.QueueHandler(records)).info
    record("queue", time_calls(lambda i: info("request %d served in %d us", i, 83), args.calls,
                               args.warmup))
    listener.stop()
    file_handler.close()
    plain_handler.close()
    return results


def table(results):
    by = {r["label"]: r for r in results}
    us = lambda ns: f"{ns / 1000:.2f} us"  # noqa: E731
    rows = [("Bus.publish, 100 B", "publish"), ("Bus.publish, 100 B + 3 fields", "publish-3f"),
            ("logger.info -> logbus.Handler (logging.Logger)", "handler"),
            ("logger.info -> logbus.Handler (logbus.Logger)", "handler-fast"),
            ("logger.info -> FileHandler (time level name msg)", "file"),
            ("logger.info -> FileHandler (default format)", "file-plain"),
            ("logger.info -> QueueHandler + QueueListener", "queue")]
    lines = ["| call | p50 | p99 | p99.9 |", "| --- | --- | --- | --- |"]
    for title, label in rows:
        r = by[label]
        lines.append(f"| {title} | {us(r['p50_ns'])} | {us(r['p99_ns'])} | {us(r['p99_9_ns'])} |")
    lines.append(f"| original session logger, async (queue put) | "
                 f"{us(ORIGINAL_ASYNC_NS['p50'])} | {us(ORIGINAL_ASYNC_NS['p99'])} | - |")
    f, q = by["file"]["p50_ns"], by["queue"]["p50_ns"]
    p = by["publish"]["p50_ns"]
    lines += ["", "| goal | measured | met |", "| --- | --- | --- |",
              f"| Bus.publish p50 <= {PUBLISH_GOAL_NS} ns | {p} ns | "
              f"{'yes' if p <= PUBLISH_GOAL_NS else 'NO'} |"]
    for title, label in (("logging.Logger", "handler"), ("logbus.Logger", "handler-fast")):
        h = by[label]["p50_ns"]
        lines += [f"| handler p50 <= QueueHandler p50 / 2 ({title}) | {h / q:.2f} of it | "
                  f"{'yes' if 2 * h <= q else 'NO'} |",
                  f"| handler p50 <= FileHandler p50 / 5 ({title}) | {h / f:.2f} of it | "
                  f"{'yes' if 5 * h <= f else 'NO'} |"]
    lines += [
              "", f"Timer cost subtracted: {results[0]['timer_ns']} ns per call; "
              f"{results[0]['calls']} calls each; entries dropped by logbus: "
              f"{by['publish']['dropped']}; all written by the writer: {by['publish']['flushed']}."]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writer", required=True, help="the logbus-writer binary")
    parser.add_argument("--out", required=True, help="directory for python-logging.json")
    parser.add_argument("--calls", type=int, default=200000, help="timed calls per case")
    parser.add_argument("--quick", action="store_true", help="1/20 of the calls")
    args = parser.parse_args()
    if args.quick:
        args.calls = max(1000, args.calls // 20)
    args.warmup = max(100, args.calls // 20)
    work = tempfile.mkdtemp(prefix="logbus-bench-python-")
    try:
        results = measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "python-logging.json"), "w") as f:
        json.dump({"python": sys.version.split()[0], "results": results}, f, indent=1)
    print(f"Python {sys.version.split()[0]} ({sys.executable})\n")
    print(table(results))
    print()
    for r in results:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
