#!/bin/sh
# SPDX-License-Identifier: MIT
# The benchmarks' smoke run for the test suite: each tool for a moment on
# small geometry, so that they never rot. Measures nothing worth reading.
set -eu
lat=$1 drain=$2 wake=$3 reg=$4 cat=$5
out=$("$lat" --count 20000 --warmup 1000 --lanes 4 --lane-size 8M --size 100)
echo "$out" | grep -q '"p50_ns"' || { echo "smoke: publish-latency printed no figures" >&2; exit 1; }
"$lat" --procs 2 --count 10000 --warmup 1000 --lanes 4 --lane-size 8M >/dev/null
"$lat" --target fprintf --path "${TMPDIR:-/tmp}/logbus-bench-smoke.$$" --count 2000 --warmup 100 >/dev/null
rm -f "${TMPDIR:-/tmp}/logbus-bench-smoke.$$"
"$drain" --mode backlog --procs 2 --count 20000 --lanes 4 --lane-size 8M >/dev/null
"$drain" --mode e2e --procs 2 --count 20000 --lanes 4 --lane-size 1M >/dev/null
"$drain" --mode written --rate 10000 --seconds 0.3 --lanes 4 --lane-size 1M >/dev/null
"$drain" --mode idle --seconds 0.2 --lanes 4 --lane-size 1M >/dev/null
"$wake" --rounds 50 | grep -q '"p50_ns"' || { echo "smoke: wake-latency printed no figures" >&2; exit 1; }
for mode in open cat reclaim; do
	"$reg" --mode "$mode" --runs 20 --cat "$cat" | grep -q '"p50_ns"' ||
		{ echo "smoke: register-cost --mode $mode printed no figures" >&2; exit 1; }
done
