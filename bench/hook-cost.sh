#!/bin/sh
# SPDX-License-Identifier: MIT
# hook-cost.sh - what hooks cost the drain: drain-rate's backlog mode (the
# writer stopped while the lanes fill, then timed until every entry is in
# the file) with no hook, one filter plugin that reads each entry, the
# shipped redact.so, and one action command (without and with OK
# acknowledgements). Prints drain-rate's JSON line per case, then the
# writer's counters for the hook.
#
#	hook-cost.sh DRAIN_RATE SCAN_SO REDACT_SO ALERT [COUNT]
set -eu
drain=$1 scan=$2 redact=$3 alert=$4 count=${5:-1000000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/logbus-hook-cost.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

hooks() {
	printf '{ "hooks": [ %s ] }\n' "$2" >"$tmp/$1.json"
}
hooks none ''
hooks filter "{ \"name\": \"scan\", \"type\": \"filter\", \"plugin\": \"$scan\" }"
hooks redact "{ \"name\": \"redact\", \"type\": \"filter\", \"plugin\": \"$redact\",
  \"config\": { \"patterns\": [ \"password=[^ ]*\", \"[0-9]{13,16}\" ], \"fields\": [ \"token\" ] } }"
hooks action "{ \"name\": \"sink\", \"type\": \"action\", \"queue\": 65536,
  \"command\": [ \"dd\", \"of=/dev/null\", \"bs=64k\", \"status=none\" ] }"
hooks action-confirm "{ \"name\": \"alert\", \"type\": \"action\", \"queue\": 65536, \"confirm\": true,
  \"command\": [ \"$alert\", \"$tmp/alerts\" ] }"

for case in none filter redact action action-confirm; do
	"$drain" --mode backlog --procs 1 --count "$count" --size 100 --lanes 2 \
		--lane-size 256M --config "$tmp/$case.json" --label "hooks-$case" 2>"$tmp/err"
	grep 'hook ' "$tmp/err" || true
done
