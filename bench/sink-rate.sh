#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/sink-rate.sh - entries per second delivered into journald and into
# rsyslogd over the syslog sink's unix socket, TCP and RELP, and into the
# file and RELP at once (file+relp: delivered counts what rsyslogd got;
# the file sink runs ahead and the syslog sink holds the lanes' tails).
#
# SYNOPSIS
#	bench/sink-rate.sh DRAIN_RATE [COUNT_PER_PROCESS] [PROCS]
#
# DESCRIPTION
#	For each sink, starts the service (scripts/services.sh: journald, and
#	one private rsyslogd on a private socket and loopback ports), runs
#	DRAIN_RATE --mode e2e with PROCS (default 2) producer processes of
#	COUNT_PER_PROCESS (default 100000) entries of 100 bytes against a
#	logbus-writer configured with that sink alone, then waits until the
#	service holds every entry. Prints one JSON object a line:
#	  taken_per_s      entries/s until the writer had taken them all
#	                   (drain-rate's figure: for syslog, into its queue)
#	  delivered_per_s  entries/s from the start until the last entry was
#	                   in journald (journalctl --sync) or in rsyslogd's
#	                   output file: what the collector really received
#	  delivered        entries found there (less than entries when the sink
#	                   dropped; rsyslogd writes each one as a JSON line,
#	                   which is part of what is measured)
#	LOGBUS_BENCH_WRITER names the logbus-writer to run.
#
# EXIT STATUS
#	0 measured; 1 a service or a run failed (one line on stderr says what).
set -euo pipefail

drain=${1:?usage: sink-rate.sh DRAIN_RATE [COUNT_PER_PROCESS] [PROCS]}
count=${2:-100000}
procs=${3:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
services=$root/scripts/services.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/logbus-sink-rate.XXXXXX")
rs=$work/rsyslog
total=$((count * procs))
trap '"$services" stop-rsyslogd "$rs" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

die() { echo "sink-rate.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }

"$services" journald || die "journald cannot be started"
info=$("$services" rsyslogd "$rs" bench) || die "rsyslogd cannot be started"
sock=$(sed -n 's/^unix=\([^ ]*\) .*/\1/p' <<<"$info")
tcp=$(sed -n 's/.* tcp=\([0-9]*\) .*/\1/p' <<<"$info")
relp=$(sed -n 's/.* relp=\([0-9]*\) .*/\1/p' <<<"$info")

# delivered SINK TAG: entries the service holds.
delivered() {
	case $1 in
	journald)
		journalctl --sync
		journalctl -o cat "SYSLOG_IDENTIFIER=$2" | wc -l ;;
	file+relp) cat "$rs/relp.log" 2>/dev/null | wc -l ;;
	*) cat "$rs/$1.log" 2>/dev/null | wc -l ;;
	esac
}

# measure SINK CONFIG_JSON
measure() {
	local sink=$1 conf=$work/$1.json tag line t0 t1 got=0 last=-1 still=0
	echo "$2" >"$conf"
	tag=sinkrate$$-bench
	t0=$(now)
	line=$("$drain" --mode e2e --procs "$procs" --count "$count" --size 100 \
		--config "$conf" --label "sink-$sink" | tail -n 1) || die "drain-rate failed for $sink"
	# Wait for the last entry; give up when nothing arrives for 5 s.
	while [ "$got" -lt "$total" ] && [ "$still" -lt 50 ]; do
		got=$(delivered "$sink" "$tag")
		if [ "$got" -eq "$last" ]; then still=$((still + 1)); else still=0; t1=$(now); fi
		last=$got
		[ "$got" -lt "$total" ] && sleep 0.1
	done
	jq -c --arg sink "$sink" --argjson got "$got" --argjson s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
		'{bench: "sink-rate", sink: $sink, procs: .procs, entries: .entries,
		  taken_per_s: .entries_per_s, delivered: $got, seconds: $s,
		  delivered_per_s: (($got / $s) | floor), writer_cpu_s: .writer_cpu_s}' <<<"$line"
}

measure journald '{"format": ["journald"], "journald": {"identifier_prefix": "sinkrate'$$'-"}}'
for t in unix tcp relp; do
	case $t in
	unix) dest='"socket": "'$sock'"' ;;
	tcp) dest='"host": "127.0.0.1", "port": "'$tcp'"' ;;
	relp) dest='"host": "127.0.0.1", "port": "'$relp'"' ;;
	esac
	measure "$t" '{"format": ["syslog"], "syslog": [{"transport": "'$t'", '"$dest"',
		"buffer_entries": 100000}]}'
done
: >"$rs/relp.log"   # what the relp run left
measure file+relp '{"format": ["json", "syslog"], "syslog": [{"transport": "relp",
	"host": "127.0.0.1", "port": "'$relp'", "buffer_entries": 100000}]}'
