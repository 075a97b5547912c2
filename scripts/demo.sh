#!/usr/bin/env bash
# The main job: a writer plus a few demo client processes on bus "demo".
# Shows where the entries landed (and the live monitor when on a terminal).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh

dir=${LOGBUS_DIR:-$PWD/logbus-logs}
export LOGBUS_BUS=demo
build/writer/logbus-writer --bus demo --dir "$dir" &
writer=$!
trap 'kill $writer 2>/dev/null || true' EXIT
sleep 0.3

clients=()
for i in 1 2 3; do
	build/examples/logbus-demo 2000 1 &
	clients+=($!)
done
if [ -t 1 ] && [ -x build/monitor/logbus-top ]; then
	build/monitor/logbus-top --bus demo --exit-when-idle 3 || true
fi
wait "${clients[@]}"
kill -TERM $writer
wait $writer
trap - EXIT

echo
echo "Entries landed in $dir:"
ls -l "$dir" | tail -n +2
last=$(ls -t "$dir"/demo_*.jsonl | head -1)
echo
echo "$(wc -l < "$last") entries in $last; the last three:"
tail -n 3 "$last"
