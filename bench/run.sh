#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/run.sh - run every logbus benchmark and write the report.
#
# SYNOPSIS
#	bench/run.sh [--quick] [--build DIR] [--out DIR | --refresh-report]
#
# DESCRIPTION
#	Installs what is missing (scripts/deps.sh), builds the benchmarks in a
#	release build (default build-bench-run), starts the peers (journald,
#	a private rsyslogd, an lttng session daemon and session), then runs:
#	publish latency per call for logbus and each alternative, the
#	original logger's sync-vs-async table, Python's logging through
#	logbus and the standard library's handlers, burst and sustained rates into
#	each sink with 1 to 16 producer processes, writer CPU, idle writer CPU,
#	publish-to-written latency, the growth with message size, what
#	registering with the writer costs and how soon a gone client's lane
#	is reclaimed. Writes
#	REPORT.md, results.json (every raw figure, one object per
#	measurement) and latency.png into --out, by default bench-report/ in
#	the --build directory: a run never touches the source tree.
#	--refresh-report writes them into bench/ instead, replacing the
#	committed report (for a run worth committing). Takes about 6 minutes
#	on 2 cores; --quick runs every step with 1/20 of the entries, to check
#	the tools (its figures mean little).
#
#	Other load on the machine shows up in the figures: REPORT.md records
#	the load average before and after the run.
#
# EXIT STATUS
#	0 the report is written (a measurement that failed is in it as a TODO);
#	1 the build or the setup failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$root/build-bench-run
out=
refresh=false
scale=1
cmdline="bench/run.sh${*:+ $*}"
while [ $# -gt 0 ]; do
	case $1 in
	--quick) scale=0.05 ;;
	--build) build=$2; shift ;;
	--out) out=$2; shift ;;
	--refresh-report) refresh=true ;;
	-h | --help) sed -n '3,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;$d'; exit 0 ;;
	*) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
	esac
	shift
done

die() { echo "run.sh: $*" >&2; exit 1; }

if $refresh; then
	[ -z "$out" ] || die "--out and --refresh-report name two places for the report: give one"
	out=$here
fi
out=${out:-$build/bench-report}

"$root/scripts/deps.sh" || die "scripts/deps.sh failed"
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" --buildtype=release -Dtests=disabled >/dev/null ||
		die "meson setup $build failed"
fi
ninja -C "$build" bench/publish-latency bench/drain-rate bench/wake-latency bench/register-cost \
	writer/logbus-writer libclient/logbus-cat >/dev/null ||
	die "building the benchmarks in $build failed"
lat=$build/bench/publish-latency
drain=$build/bench/drain-rate
wake=$build/bench/wake-latency
reg=$build/bench/register-cost
export LOGBUS_BENCH_WRITER=$build/writer/logbus-writer

work=$(mktemp -d "${TMPDIR:-/tmp}/logbus-bench.XXXXXX")
export TMPDIR=$work
results=$work/results.jsonl
cdf=$work/cdf
mkdir -p "$cdf" "$out"
: >"$results"
log_err=$work/errors.log

# n COUNT: COUNT scaled for --quick, at least 10.
n() { awk -v c="$1" -v s="$scale" 'BEGIN { v = int(c * s); print (v < 10 ? 10 : v) }'; }

# record LABEL CMD...: run a measurement; its JSON line goes to the
# results with the label, a failure becomes an error record.
record() {
	local label=$1 line t0=$SECONDS
	shift
	printf '  %-34s' "$label" >&2
	if line=$("$@" --label "$label" 2>>"$log_err" | tail -n 1) && [ -n "$line" ]; then
		echo "$line" >>"$results"
		echo "$line" | jq -r --argjson t $((SECONDS - t0)) '[.p50_ns // empty, .entries_per_s // empty] |
			(if length > 0 then "ok \(.[0])" else "ok" end) + " (\($t) s)"' >&2
	else
		jq -cn --arg l "$label" --arg c "$*" --arg e "$(tail -n 1 "$log_err" 2>/dev/null)" \
			'{bench:"error", label:$l, command:$c, error:$e}' >>"$results"
		echo "FAILED (see report)" >&2
	fi
}

# ---- peers ----------------------------------------------------------------

rsyslog_socket=""
lttng_ok=false
lttng_daemon=""   # the session daemon's pid when this script started it
start_peers() {
	"$root/scripts/services.sh" journald >/dev/null 2>>"$log_err" ||
		echo "run.sh: journald did not start; its figures will be missing" >&2
	local rs
	if rs=$("$root/scripts/services.sh" rsyslogd "$work/rsyslog" bench 2>>"$log_err"); then
		rsyslog_socket=$(sed -n 's/.*unix=\([^ ]*\).*/\1/p' <<<"$rs")
	fi
	if command -v lttng >/dev/null; then
		if ! pgrep -x lttng-sessiond >/dev/null; then
			lttng-sessiond --daemonize --no-kernel 2>>"$log_err" &&
				lttng_daemon=$(pgrep -x -o lttng-sessiond) || true
		fi
		lttng create logbus-bench --output "$work/lttng" >/dev/null 2>>"$log_err" &&
			lttng enable-channel -u --subbuf-size 4M --num-subbuf 8 bench >/dev/null 2>>"$log_err" &&
			lttng enable-event -u -c bench 'logbus_bench:*' >/dev/null 2>>"$log_err" &&
			lttng start >/dev/null 2>>"$log_err" && lttng_ok=true
	fi
}

stop_peers() {
	if $lttng_ok; then
		lttng stop logbus-bench >/dev/null 2>&1 || true
		lttng destroy logbus-bench >/dev/null 2>&1 || true
		lttng_ok=false
	fi
	if [ -n "$lttng_daemon" ]; then
		kill "$lttng_daemon" 2>/dev/null || true
		lttng_daemon=""
	fi
	"$root/scripts/services.sh" stop-rsyslogd "$work/rsyslog" >/dev/null 2>&1 || true
}

cleanup() {
	stop_peers
	rm -rf "$work"
}
trap cleanup EXIT

# ---- the runs -------------------------------------------------------------

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t_start=$(date +%s)
start_peers

big=(--lanes 4 --lane-size 256M)

echo "publish latency per call (logbus)" >&2
# A 256 MiB lane holds 1M entries of up to 128 B and their burst (count/4)
# even if the writer never drained: no drops. 1 KiB entries get fewer.
for size in 32 100 128 1024; do
	count=1000000; [ "$size" = 1024 ] && count=160000
	record "lat-logbus-${size}-1t" "$lat" --size "$size" --count "$(n $count)" "${big[@]}" \
		--cdf "$cdf/logbus-${size}-1t.dat"
	record "lat-logbus-${size}-2p" "$lat" --size "$size" --procs 2 --count "$(n $count)" \
		"${big[@]}" --cdf "$cdf/logbus-${size}-2p.dat"
	[ "$size" = 100 ] && continue
	record "lat-logbus-${size}-2t" "$lat" --size "$size" --threads 2 --count "$(n $count)" \
		"${big[@]}" --cdf "$cdf/logbus-${size}-2t.dat"
done
# Beside the plain 100 B case, the same with 4 fields (keys key0..key3,
# all of one length: the duplicate-key check compares every pair).
record "lat-logbus-100-1t-4f" "$lat" --size 100 --fields 4 --count "$(n 1000000)" "${big[@]}" \
	--cdf "$cdf/logbus-100-1t-4f.dat"
# The default 4 MiB lane stays in cache, a 256 MiB one does not: the tail
# differs. Paced below the drain rate so that the small lane never fills.
record "lat-logbus-100-1t-paced" "$lat" --size 100 --rate 300000 \
	--count "$(n 600000)" --lanes 4 --lane-size 4M --cdf "$cdf/logbus-100-1t-paced.dat"
record "lat-logbus-100-2p-paced" "$lat" --size 100 --procs 2 --rate 200000 \
	--count "$(n 400000)" --lanes 4 --lane-size 4M --cdf "$cdf/logbus-100-2p-paced.dat"

echo "wake-up of a publisher blocked on a full lane (overflow policy block)" >&2
record "wake-blocked-100" "$wake" --rounds "$(n 2000)" --size 100 --cdf "$cdf/wake-blocked-100.dat"

echo "registration: open + first publish + close, logbus-cat runs, reclaim after a client ends" >&2
record "register-open" "$reg" --mode open --runs "$(n 2000)"
record "register-open-64k" "$reg" --mode open --runs "$(n 2000)" --lane-size 64K
record "register-cat" "$reg" --mode cat --runs "$(n 500)" --cat "$build/libclient/logbus-cat"
record "reclaim-exit" "$reg" --mode reclaim --runs "$(n 500)"
record "reclaim-kill" "$reg" --mode reclaim --end kill --runs "$(n 500)"

echo "publish latency per call (the alternatives, 128 B)" >&2
peer() {
	local target=$1 conf=$2 count=$3
	shift 3
	record "lat-${target}-128-${conf}" "$lat" --target "$target" --size 128 \
		--count "$(n "$count")" --warmup 1000 --cdf "$cdf/${target}-128-${conf}.dat" "$@"
}
for conf in 1t 2p; do
	flags=(); [ $conf = 2p ] && flags=(--procs 2)
	peer fprintf $conf 200000 --path "$work/fprintf.log" "${flags[@]}"
	if [ -n "$rsyslog_socket" ]; then
		peer syslog $conf 100000 --socket "$rsyslog_socket" "${flags[@]}"
	fi
	peer journald $conf 50000 "${flags[@]}"
	if "$lat" --list | grep -qx spdlog; then
		peer spdlog $conf 200000 --path "$work/spdlog.log" "${flags[@]}"
	fi
	if $lttng_ok && "$lat" --list | grep -qx lttng; then
		peer lttng $conf 200000 "${flags[@]}"
	fi
done

echo "the original's table: N responses of 1 KiB, sync (fprintf+fflush) vs logbus" >&2
for resp in 10 100 500; do
	record "orig-sync-${resp}" "$lat" --target fprintf --path "$work/orig.log" --size 1024 \
		--count "$resp" --warmup 10
	record "orig-logbus-${resp}" "$lat" --size 1024 --count "$resp" --warmup 10 \
		--lanes 4 --lane-size 4M
done

echo "Python: Bus.publish, logger.info through logbus.Handler, FileHandler, QueueHandler" >&2
printf '  %-34s' "python-logging" >&2
if meson test -C "$build" --benchmark python-logging --test-args="--calls $(n 200000)" \
	>>"$log_err" 2>&1; then
	jq -c '.python as $v | .results[] | . + {label: ("py-" + .label), python: $v}' \
		"$build/bench/python-logging.json" >>"$results"
	echo "ok" >&2
else
	jq -cn --arg e "meson test --benchmark python-logging failed (see $build/meson-logs)" \
		'{bench:"error", label:"python-logging", command:"bench/python-logging.py", error:$e}' \
		>>"$results"
	echo "FAILED (see report)" >&2
fi

echo "sustained rates into each sink" >&2
printf '{"file":{"compress":"zstd"}}\n' >"$work/zstd.json"
printf '{"format":["journald"]}\n' >"$work/journald.json"
if [ -n "$rsyslog_socket" ]; then
	printf '{"format":["syslog"],"syslog":[{"transport":"unix","socket":"%s"}]}\n' \
		"$rsyslog_socket" >"$work/syslog.json"
fi
record "drain-backlog-2p" "$drain" --mode backlog --procs 2 --count "$(n 1000000)" \
	--lanes 4 --lane-size 256M
for sink in json zstd journald syslog; do
	conf=()
	case $sink in
	json) total=2000000 ;;
	zstd) total=2000000; conf=(--config "$work/zstd.json") ;;
	journald) total=50000; conf=(--config "$work/journald.json") ;;
	syslog) [ -n "$rsyslog_socket" ] || continue
		total=200000; conf=(--config "$work/syslog.json") ;;
	esac
	for p in 1 2 4 8 16; do
		[ $p = 16 ] && [ $sink != json ] && continue
		record "e2e-${sink}-${p}p" "$drain" --mode e2e --procs "$p" \
			--count "$(n $((total / p)))" --lanes 32 --lane-size 4M "${conf[@]}"
	done
done

echo "delivered into journald and rsyslogd (bench/sink-rate.sh)" >&2
printf '  %-34s' "sink-rate" >&2
if "$here/sink-rate.sh" "$drain" "$(n 25000)" 2 >"$work/sink-rate.jsonl" 2>>"$log_err"; then
	jq -c '. + {label: ("sink-rate-" + .sink)}' "$work/sink-rate.jsonl" >>"$results"
	echo "ok" >&2
else
	jq -cn --arg e "$(tail -n 1 "$log_err")" \
		'{bench:"error", label:"sink-rate", command:"bench/sink-rate.sh", error:$e}' >>"$results"
	echo "FAILED (see report)" >&2
fi

echo "publish to written; idle writer" >&2
for rate in 10000 100000; do
	record "written-${rate}" "$drain" --mode written --rate "$rate" --seconds 3 \
		--lanes 4 --lane-size 4M
done
record "idle-10s" "$drain" --mode idle --seconds "$(awk -v s="$scale" 'BEGIN { print 10 * s }')" \
	--lanes 4 --lane-size 4M

echo "growth with message size and producers" >&2
for size in 32 128 512 2048 8192 32768 65536; do
	count=$((128 * 1024 * 1024 / size)); [ $count -gt 200000 ] && count=200000
	record "size-lat-${size}" "$lat" --size "$size" --count "$(n $count)" --warmup 100 \
		--lanes 4 --lane-size 256M
	count=$((256 * 1024 * 1024 / size)); [ $count -gt 1000000 ] && count=1000000
	record "size-e2e-${size}" "$drain" --mode e2e --procs 1 --size "$size" \
		--count "$(n $count)" --lanes 4 --lane-size 16M
done
for p in 1 2 4 8 16; do
	record "procs-lat-${p}" "$lat" --procs "$p" --size 128 --count "$(n 100000)" \
		--warmup 1000 --lanes 20 --lane-size 64M
done

stop_peers
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
t_total=$(($(date +%s) - t_start))

# ---- the report -----------------------------------------------------------

jq -s --arg started "$started" --arg load_before "$load_before" --arg load_after "$load_after" \
	--argjson seconds "$t_total" --argjson scale "$scale" \
	'{started: $started, seconds: $seconds, scale: $scale, load_before: $load_before,
	  load_after: $load_after, results: .}' "$results" >"$out/results.json"
"$here/plot.sh" "$cdf" "$out/latency.png" 2>>"$log_err" ||
	echo "run.sh: the plot failed: $(tail -n 1 "$log_err")" >&2
"$here/report.sh" "$out/results.json" "$build" "$cmdline" >"$out/REPORT.md"
echo "run.sh: wrote $out/REPORT.md, $out/results.json and $out/latency.png in ${t_total} s" >&2
