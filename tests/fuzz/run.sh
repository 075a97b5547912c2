#!/usr/bin/env bash
# Run one libFuzzer target for a bounded time: run.sh TARGET SEEDS WORK.
# New inputs go to WORK/corpus (WORK is in the build directory), never to
# the committed SEEDS. LOGBUS_FUZZ_SECONDS bounds the run (default 60). On a crash, a
# leak, a timeout or a broken oracle, libFuzzer's report is followed by the
# failing input in base64, so the log alone reproduces it:
#   base64 -d > input; TARGET input
set -uo pipefail
target=$1 seeds=$2 work=$3
seconds=${LOGBUS_FUZZ_SECONDS:-60}
mkdir -p "$work/artifacts" "$work/corpus"
rm -f "$work"/artifacts/*
cd "$work" || exit 1
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65552 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" \
	>"$work/fuzz.log" 2>&1 &
pid=$!
wait "$pid"
status=$?
tail -n 60 "$work/fuzz.log"
# What a target makes is named after its pid; after a crash or a timeout
# its exit handlers did not run.
rm -rf /dev/shm/logbus.fuzz-*-"$pid" /dev/shm/logbus.fuzz-*-"$pid".stats \
	/dev/shm/logbus.fuzz-*-"$pid".sock /dev/shm/logbus.fuzz-*-"$pid".d fuzz-*-"$pid".json
for f in "$work"/artifacts/*; do
	[ -f "$f" ] || continue
	echo "run.sh: failing input $(basename "$f") ($(stat -c %s "$f") bytes), base64:"
	base64 -w 76 "$f"
	status=1
done
exit "$status"
