#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/report.sh RESULTS.json BUILD_DIR COMMAND - write REPORT.md (stdout)
# from the raw figures bench/run.sh gathered: the machine and versions,
# each target beside its measured value, then every table. A measurement
# that is missing or failed is printed as a TODO, never as a number.
set -euo pipefail

json=$1 build=$2 command=$3

# q FILTER: one jq query over the results, with helpers:
#   r(label): the record of that label (null when missing)
#   ns(x): a latency in ns, or "n/a"; rate(x): entries/s as "1.23 M/s"
q() {
	local filter=${*: -1}
	jq -r "${@:1:$#-1}" '
	def r($l): [.results[] | select(.label == $l)] | first;
	def num($x; $d): if $x == null then "n/a" else ($x * pow(10; $d) | round / pow(10; $d) | tostring) end;
	def ns($x): if $x == null then "n/a" elif $x >= 100000 then num($x / 1000; 0) + " us"
		elif $x >= 1000 then num($x / 1000; 2) + " us" else num($x; 1) + " ns" end;
	def rate($x): if $x == null then "n/a" elif $x >= 1000000 then num($x / 1000000; 2) + " M/s"
		else num($x / 1000; 1) + " k/s" end;
	def ratio($a; $b): if $a == null or $b == null or $b == 0 then "n/a" else num($a / $b; 1) + "x" end;
	def met($ok): if $ok == null then "n/a" elif $ok then "met" else "**missed**" end;
	'"$filter" "$json"
}

version() { "$@" 2>/dev/null | head -n 1 || echo "not installed"; }

machine() {
	local model mem
	model=$(lscpu | sed -n 's/^Model name: *//p')
	mem=$(free -g | awk '/^Mem:/ { print $2 " GiB" }')
	echo "- Machine: $model, $(nproc) cores, $mem, Linux $(uname -r), Debian $(cat /etc/debian_version)"
	echo "- logbus: $(git -C "$(dirname "$0")/.." describe --always --dirty 2>/dev/null || echo unknown)," \
		"release build in $(basename "$build")"
	echo "- Compiler: $(version cc --version)"
	echo "- Peers: spdlog $(pkg-config --modversion spdlog 2>/dev/null || echo none)," \
		"lttng-ust $(pkg-config --modversion lttng-ust 2>/dev/null || echo none)," \
		"$(version lttng --version), $(version rsyslogd -v | sed 's/ compiled with.*//')," \
		"$(version journalctl --version)"
}

header() {
	echo "# logbus benchmark report"
	echo
	q --arg cmd "$command" '"Measured \(.started), \(.seconds) s, with `" + $cmd + "`."'
	echo
	machine
	q '"- Load average (1, 5, 15 min) before the run: \(.load_before); after: \(.load_after)."'
	q 'if .scale != 1 then "\n**Quick run (\(.scale) of the entries): the tools work, the figures mean little.**" else empty end'
	q 'if (.load_before | split(" ") | .[0] | tonumber) > 0.5 then "\n**The machine was busy when the run started (load \(.load_before)): figures are noisy.**" else empty end'
	echo
}

targets() {
	cat <<'EOF'
## Targets

| target | measured | |
| --- | --- | --- |
EOF
	q '
	  def row($t; $v; $ok): "| \($t) | \($v) | \(met($ok)) |";
	  r("lat-logbus-100-1t") as $a | r("lat-logbus-100-2p") as $b | r("lat-logbus-128-1t") as $c |
	  r("drain-backlog-2p") as $d | r("idle-10s") as $i |
	  ([.results[] | select(.label | test("^e2e-json-")) | .entries_per_s] | max) as $ej |
	  ([.results[] | select(.label | test("^e2e-zstd-")) | .entries_per_s] | max) as $ez |
	  r("lat-spdlog-128-1t") as $s | r("lat-lttng-128-1t") as $t |
	  row("publish p50 <= 25 ns, 100 B, 1 thread (issue 2)"; ns($a.p50_ns); if $a then $a.p50_ns <= 25 else null end),
	  row("publish p99.9 <= 250 ns, 100 B, 1 thread (issue 2)"; ns($a.p999_ns); if $a then $a.p999_ns <= 250 else null end),
	  row("publish p50 <= 25 ns, 100 B, 2 processes (issue 2)"; ns($b.p50_ns); if $b then $b.p50_ns <= 25 else null end),
	  row("publish p99.9 <= 250 ns, 100 B, 2 processes (issue 2)"; ns($b.p999_ns); if $b then $b.p999_ns <= 250 else null end),
	  row("drain >= 1.5 M entries/s to the file (backlog, issue 2)"; rate($d.entries_per_s); if $d then $d.entries_per_s >= 1500000 else null end),
	  row("publish p50 <= 20 ns, 128 B"; ns($c.p50_ns); if $c then $c.p50_ns <= 20 else null end),
	  row("publish p99.9 <= 200 ns, 128 B"; ns($c.p999_ns); if $c then $c.p999_ns <= 200 else null end),
	  row("p50 >= 5x lower than spdlog async"; ratio($s.p50_ns; $c.p50_ns); if $s and $c then $s.p50_ns >= 5 * $c.p50_ns else null end),
	  row("p50 >= 5x lower than LTTng-UST"; ratio($t.p50_ns; $c.p50_ns); if $t and $c then $t.p50_ns >= 5 * $c.p50_ns else null end),
	  row("sustained file output >= 1.5 M/s (best of 1-16 producers)"; rate($ej); if $ej then $ej >= 1500000 else null end),
	  row("sustained zstd file output >= 1 M/s"; rate($ez); if $ez then $ez >= 1000000 else null end),
	  row("idle writer CPU about zero"; if $i then "\($i.writer_cpu_s) s in \($i.seconds) s" else "n/a" end; if $i then $i.writer_cpu_s <= 0.02 * $i.seconds else null end)'
	echo
}

latency() {
	cat <<'EOF'
## Publish latency per call

Each call timed alone (lfence; rdtsc ... rdtscp; lfence), the timer's own
median cost subtracted, all samples of all workers sorted together. The
writer drains to a file meanwhile. "tight": calls back to back into a
256 MiB lane (large enough that it never fills: drops 0); "paced": each
producer at a fixed rate into a 4 MiB lane (the default size, which stays
in cache), yielding the CPU between calls so that the writer keeps up on
2 cores: each call then starts after a system call, with colder caches
and predictors, as in a program that does other work. Plot: `latency.png`.

| run | target | size | workers | mode | p50 | p90 | p99 | p99.9 | max | drops | timer |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
EOF
	q '.results[] | select(.bench == "publish-latency" and (.label | test("^lat-"))) |
	  "| \(.label) | \(.target) | \(.size)\(if (.fields // 0) > 0 then " + \(.fields) fields" else "" end) | \(.procs)p x \(.threads)t | \(.mode) | \(ns(.p50_ns)) | \(ns(.p90_ns)) | \(ns(.p99_ns)) | \(ns(.p999_ns)) | \(ns(.max_ns)) | \(.drops) | \(ns(.timer_overhead_ns)) |"'
	echo
}

peers() {
	cat <<'EOF'
## logbus against the alternatives (128 B)

Ratio: the alternative's figure over logbus's, same workers (higher: logbus
faster). fprintf: fprintf+fflush of a stamped line to a file; syslog:
syslog(3) into a private rsyslogd (its socket mounted as /dev/log in the
benchmark's own mount namespace); journald: sd_journal_send; spdlog: async
logger, one worker thread, a 262,144-message queue that blocks when full;
lttng: one tracepoint per entry, recorded by an lttng session (channel in
discard mode: what it lost is not visible to the caller).

| target | workers | p50 | p99 | p99.9 | p50 ratio | p99.9 ratio |
| --- | --- | --- | --- | --- | --- | --- |
EOF
	q '. as $all | .results[] | select(.bench == "publish-latency" and (.label | test("^lat-.*-128-(1t|2p)$"))) |
	  (if .procs > 1 then "2p" else "1t" end) as $c |
	  ($all | r("lat-logbus-128-" + $c)) as $l |
	  "| \(.target) | \($c) | \(ns(.p50_ns)) | \(ns(.p99_ns)) | \(ns(.p999_ns)) | \(ratio(.p50_ns; $l.p50_ns)) | \(ratio(.p999_ns; $l.p999_ns)) |"'
	for t in syslog journald spdlog lttng; do
		q --arg t "$t" 'if [.results[] | select(.bench == "publish-latency" and .target == $t)] | length == 0
		  then "\nTODO: \($t) was not measured in this run (not built or its service did not start)." else empty end'
	done
	echo
}

original() {
	cat <<'EOF'
## The original logger's tables, with logbus beside them

The original (a Python session logger) timed N responses logged
synchronously and through its async queue. Here: N entries of 1 KiB,
fprintf+fflush (sync) against logbus_publish, the sum of the per-call times
(after 10 warm-up calls, so the file is open and the lane claimed), and the
median call. With so few calls one preemption can dominate a sum.

| responses | original sync | original async | original improvement | fprintf+fflush | logbus | improvement | median call, sync / logbus |
| --- | --- | --- | --- | --- | --- | --- | --- |
EOF
	q '
	  {"10": ["0.001s", "0.000s", "98.2%"], "100": ["0.012s", "0.000s", "98.6%"], "500": ["0.061s", "0.001s", "98.7%"]} as $o |
	  . as $all | ("10", "100", "500") as $n |
	  ($all | r("orig-sync-" + $n)) as $s | ($all | r("orig-logbus-" + $n)) as $l |
	  ($s.mean_ns // null) as $sm | ($l.mean_ns // null) as $lm |
	  "| \($n) | \($o[$n][0]) | \($o[$n][1]) | \($o[$n][2]) | \(if $sm then ns($sm * ($n | tonumber)) else "n/a" end) | \(if $lm then ns($lm * ($n | tonumber)) else "n/a" end) | \(if $sm and $lm then num(100 * (1 - $lm / $sm); 2) + "%" else "n/a" end) | \(ns($s.p50_ns)) / \(ns($l.p50_ns)) |"'
	echo
	echo "| throughput | original | logbus |"
	echo "| --- | --- | --- |"
	q 'r("lat-logbus-128-1t") as $l | ([.results[] | select(.label | test("^e2e-json-")) | .entries_per_s] | max) as $e |
	  "| async enqueue rate, one thread | ~600,000/s | \(rate($l.burst_per_s_per_worker)) (burst, 128 B) |",
	  "| sustained, written to the file | not given | \(rate($e)) |"'
	echo
	echo "| percentile | original async | logbus 128 B, 1 thread |"
	echo "| --- | --- | --- |"
	q 'r("lat-logbus-128-1t") as $l |
	  "| p50 | 2 us | \(ns($l.p50_ns)) |", "| p95 | 3 us | n/a (p90 \(ns($l.p90_ns))) |", "| p99 | 5 us | \(ns($l.p99_ns)) |"'
	echo
}

python() {
	cat <<'EOF'
## Python: logging through logbus and through the standard library

Each call timed alone with `time.perf_counter_ns()` (the timer's median
cost subtracted) while a writer drains, from `bench/python-logging.py`:
`logger.info("request %d served in %d us", i, 83)` through each handler,
and `Bus.publish` with a 100-byte message. `logbus.Logger` is the
`logging.Logger` subclass whose calls that reach only logbus handlers skip
the LogRecord; FileHandler's format carries what an entry holds (time,
level, name, message); QueueHandler hands records to a QueueListener
thread writing through that FileHandler.

| call | p50 | p99 | p99.9 |
| --- | --- | --- | --- |
EOF
	q '. as $all | (["publish", "Bus.publish, 100 B"], ["publish-3f", "Bus.publish, 100 B and 3 fields"],
	  ["handler-fast", "logger.info, logbus.Handler, logbus.Logger"],
	  ["handler", "logger.info, logbus.Handler, logging.Logger"],
	  ["file", "logger.info, FileHandler (time level name message)"],
	  ["file-plain", "logger.info, FileHandler (its default format)"],
	  ["queue", "logger.info, QueueHandler + QueueListener"]) as [$l, $t] |
	  ($all | r("py-" + $l)) as $x |
	  "| \($t) | \(ns($x.p50_ns)) | \(ns($x.p99_ns)) | \(ns($x.p99_9_ns)) |"'
	echo "| the original session logger, async | 2 us | 5 us | n/a |"
	echo
	echo "| goal | measured | |"
	echo "| --- | --- | --- |"
	q 'r("py-publish") as $p | r("py-handler-fast") as $f | r("py-handler") as $h |
	  r("py-file") as $fi | r("py-queue") as $qu |
	  def part($a; $b): if $a == null or $b == null then null else $a.p50_ns / $b.p50_ns end;
	  def show($x): if $x == null then "n/a" else num($x; 2) end;
	  def within($x; $limit): if $x == null then null else $x <= $limit end;
	  "| Bus.publish p50 <= 300 ns | \(ns($p.p50_ns)) | \(met(if $p then $p.p50_ns <= 300 else null end)) |",
	  ([$f, "logbus.Logger"], [$h, "logging.Logger"]) as [$x, $t] |
	  "| handler p50 <= QueueHandler p50 / 2 (\($t)) | \(show(part($x; $qu))) of it | \(met(within(part($x; $qu); 0.5))) |",
	  "| handler p50 <= FileHandler p50 / 5 (\($t)) | \(show(part($x; $fi))) of it | \(met(within(part($x; $fi); 0.2))) |"'
	q 'r("py-publish") as $p | if $p then "\nPython \($p.python); entries dropped by logbus: \($p.dropped); all written: \($p.flushed)." else "\nTODO: the Python benchmark did not run." end'
	echo
}

rates() {
	cat <<'EOF'
## Throughput

Backlog: producers fill their lanes while the writer is stopped (SIGSTOP),
then the writer drains alone: the drain rate. End to end: producer
processes publish as fast as they can (a full lane retried after 20 us)
and wait until the writer has taken their entries (logbus_flush): for the
file sinks that is written; for journald, handed to its socket; for syslog,
in the sink's send queue. What the collectors really received is in the
next table. CPU: the writer's user+system seconds per million entries.

| run | sink | producers | entries | entries/s | writer CPU s / M | dropped | full-lane retries |
| --- | --- | --- | --- | --- | --- | --- | --- |
EOF
	q '.results[] | select(.bench == "drain-rate" and (.mode == "backlog" or .mode == "e2e")) |
	  "| \(.label) | \(.label | if test("^e2e-") then split("-")[1] elif test("^size-") then "json" else "json" end) | \(.procs) | \(.entries) | \(rate(.entries_per_s)) | \(num(.writer_cpu_s_per_m; 2)) | \(.dropped) | \(.retries) |"'
	for s in json zstd journald syslog; do
		q --arg s "$s" 'if [.results[] | select(.label | test("^e2e-" + $s + "-"))] | length == 0
		  then "\nTODO: the \($s) sink was not measured in this run (sink or service not available)." else empty end'
	done
	echo
	echo "Burst publish rate per thread (count/4 calls back to back after the timed run, no timer"
	echo "per call; the writer drains meanwhile):"
	echo
	echo "| size | 1 thread | per thread of 2 | per process of 2 |"
	echo "| --- | --- | --- | --- |"
	q '. as $all | (32, 100, 128, 1024) as $s | [("1t", "2t", "2p") | . as $c | $all | r("lat-logbus-\($s)-\($c)")] as $x |
	  "| \($s) | \(rate($x[0].burst_per_s_per_worker)) | \(rate($x[1].burst_per_s_per_worker)) | \(rate($x[2].burst_per_s_per_worker)) |"'
	echo
	q 'r("idle-10s") as $i | if $i then "Idle writer: \($i.writer_cpu_s) CPU seconds over \($i.seconds) s with nothing published." else "TODO: idle writer CPU not measured." end'
	echo
}

delivered() {
	cat <<'EOF'
## Delivered into the collectors

bench/sink-rate.sh: 2 producer processes into a writer with one sink, then
waiting until the collector holds every entry (journald: `journalctl
--sync`; rsyslogd: its output file, in-memory queue as deployed).

| sink | entries | taken by the writer | delivered | delivered/s |
| --- | --- | --- | --- | --- |
EOF
	q '.results[] | select(.bench == "sink-rate") |
	  "| \(.sink) | \(.entries) | \(rate(.taken_per_s)) | \(.delivered) | \(rate(.delivered_per_s)) |"'
	q 'if [.results[] | select(.bench == "sink-rate")] | length == 0
	  then "\nTODO: delivery into journald and rsyslogd was not measured in this run." else empty end'
	echo
}

written() {
	cat <<'EOF'
## Publish to written

One producer at a fixed rate; each message carries its CLOCK_REALTIME
stamp; the benchmark follows the writer's file with inotify and takes the
time from the stamp to the moment the line could be read.

| rate | entries | p50 | p90 | p99 | p99.9 | max |
| --- | --- | --- | --- | --- | --- | --- |
EOF
	q '.results[] | select(.bench == "drain-rate" and .mode == "written") |
	  "| \(.rate)/s | \(.entries) | \(ns(.p50_ns)) | \(ns(.p90_ns)) | \(ns(.p99_ns)) | \(ns(.p999_ns)) | \(ns(.max_ns)) |"'
	echo
}

growth() {
	cat <<'EOF'
## How cost grows

By message size: publish latency (1 thread, tight, 256 MiB lane) and the
end-to-end rate with one producer into the JSON file.

| size | p50 | p99 | p99.9 | drops | e2e entries/s | e2e MB/s | writer CPU s / M |
| --- | --- | --- | --- | --- | --- | --- | --- |
EOF
	q '. as $all | .results[] | select(.label | test("^size-lat-")) |
	  .size as $size | ($all | r("size-e2e-\($size)")) as $e |
	  "| \(.size) | \(ns(.p50_ns)) | \(ns(.p99_ns)) | \(ns(.p999_ns)) | \(.drops) | \(rate($e.entries_per_s)) | \(if $e then num($e.entries_per_s * $e.size / 1e6; 1) else "n/a" end) | \(if $e then num($e.writer_cpu_s_per_m; 2) else "n/a" end) |"'
	echo
	echo "By producer processes (128 B, tight, one thread each): publish latency; the end-to-end"
	echo "rate by producers is in the throughput table (e2e-json-Np)."
	echo
	echo "| producers | p50 | p99 | p99.9 | max | drops |"
	echo "| --- | --- | --- | --- | --- | --- |"
	q '.results[] | select(.label | test("^procs-lat-")) |
	  "| \(.procs) | \(ns(.p50_ns)) | \(ns(.p99_ns)) | \(ns(.p999_ns)) | \(ns(.max_ns)) | \(.drops) |"'
	echo
}

wakeup() {
	cat <<'EOF'
## Wake-up of a blocked publisher

A publisher under the overflow policy `block` sleeps on its lane's futex
when the lane is full. `wake-latency` plays the writer of a one-lane bus
and times each round from its tail move (`lb_lane_advance`, then
`lb_lane_wake_blocked`, as the drain does) to the blocked publish
returning.

| rounds | p50 | p90 | p99 | p99.9 | max |
| --- | --- | --- | --- | --- | --- |
EOF
	q '.results[] | select(.bench == "wake-latency") |
	  "| \(.rounds) | \(ns(.p50_ns)) | \(ns(.p90_ns)) | \(ns(.p99_ns)) | \(ns(.p999_ns)) | \(ns(.max_ns)) |"'
	echo
}

registration() {
	cat <<'EOF'
## Registration and reclaim

A client registers once per handle (a connection to the writer's
registrar) and asks for a lane at each thread's first publish.
`register-cost` times, in one process, `logbus_open` + the first publish
+ `logbus_close` (with the default 4 MiB lanes and with 64 KiB ones: a
grant allocates the whole lane file, and the client maps all of it);
whole `logbus-cat` runs beside `logbus-cat --version`
(the same program start, no registration); and the reclaim delay: from a
client's end (exit without `logbus_close`, or SIGKILL) to its lane slot's
FREE in the writer's registry.

| measurement | lane size | runs | failed | p50 | p90 | p99 | max | parts, p50 |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
EOF
	q '.results[] | select(.bench == "register-cost") |
	  "| \(.label) | \(.lane_size) | \(.runs) | \(.failed) | \(ns(.p50_ns)) | \(ns(.p90_ns)) | \(ns(.p99_ns)) | \(ns(.max_ns)) | \(if .open_publish_p50_ns then "open + publish \(ns(.open_publish_p50_ns)), close \(ns(.close_p50_ns))" elif .baseline_p50_ns then "`logbus-cat --version` \(ns(.baseline_p50_ns))" else "" end) |"'
	echo
}

failures() {
	q 'if [.results[] | select(.bench == "error")] | length > 0 then
	  "## Measurements that failed (TODO)\n", (.results[] | select(.bench == "error") |
	  "- \(.label): `\(.command)`: \(.error)") else empty end'
}

header
targets
latency
peers
original
python
rates
delivered
written
growth
wakeup
registration
failures
