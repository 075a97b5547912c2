#!/usr/bin/env bash
# Install dependencies, build, start the services the tests talk to, and run
# the whole test suite as CI runs it, part by part:
#
#   default   the default suite (build/)
#   soak      the soak suite, LOGBUS_SOAK_SECONDS (default here 180) of
#             producer churn plus 50 writer kill/restart cycles
#   systemd   logbus in a container booting systemd (needs root)
#   asan      the default suite under ASan+UBSan (build-asan/)
#   tsan      the default suite under TSan (build-tsan/)
#   fuzz      each libFuzzer target for LOGBUS_FUZZ_SECONDS (default 60)
#             (build-fuzz/, clang)
#
# LOGBUS_TEST_PARTS="default fuzz" runs only those parts. Each part prints
# its time; the last line sums every test of every part:
# "N passed, N failed, N skipped". Exits non-zero when anything failed
# (a build that fails counts as one failed test).
set -euo pipefail
cd "$(dirname "$0")/.."
parts=${LOGBUS_TEST_PARTS:-default soak systemd asan tsan fuzz}
scripts/deps.sh
scripts/build.sh
# journald for the journald sink tests (the syslog tests start private
# rsyslogds through the same script); without it those tests fail in CI
# and skip elsewhere.
scripts/services.sh journald ||
	echo "test.sh: journald is not running; its tests fail with CI=true, else skip" >&2

export LOGBUS_SOAK_SECONDS=${LOGBUS_SOAK_SECONDS:-180}
export LOGBUS_FUZZ_SECONDS=${LOGBUS_FUZZ_SECONDS:-60}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}
status=0
logs=()           # meson JSON logs to count
build_failures=0

# Configure (once) and build a sanitizer or fuzz tree: setup DIR ARGS...
# Warnings are the release build's business (-Werror there); with
# sanitizers gcc warns falsely (-Wrestrict under ASan).
setup() {
	local dir=$1
	shift
	local log=build/$dir.log start=$SECONDS
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dtests=enabled -Dwerror=false -Db_lundef=false \
			--buildtype=debugoptimized "$@" >"$log" 2>&1 ||
			{ tail -n 5 "$log" >&2; return 1; }
	fi
	ninja -C "$dir" >"$log" 2>&1 || { grep -A10 -m3 FAILED "$log" >&2; return 1; }
	echo "test.sh: $dir built in $((SECONDS - start)) s"
}

# Run a part: part NAME DIR SUITE [meson test arguments]; its time and
# outcome on one line.
part() {
	local name=$1 dir=$2 suite=$3 start=$SECONDS
	shift 3
	if meson test -C "$dir" --no-rebuild --suite "$suite" --logbase "$name" --print-errorlogs "$@"; then
		echo "test.sh: part $name passed in $((SECONDS - start)) s"
	else
		echo "test.sh: part $name FAILED in $((SECONDS - start)) s"
		status=1
	fi
	logs+=("$dir/meson-logs/$name.json")
}

# A build that fails: one failed test, said in one line.
build_failed() {
	echo "test.sh: part $1 FAILED: its build ($2) failed"
	build_failures=$((build_failures + 1))
	status=1
}

for p in $parts; do
	case $p in
	default)
		part default build default --num-processes 2 ;;
	soak)
		part soak build soak --num-processes 1 --timeout-multiplier 1 ;;
	systemd)
		part systemd build systemd --num-processes 1 ;;
	asan)
		if setup build-asan -Db_sanitize=address,undefined; then
			part asan build-asan default --num-processes 2 --timeout-multiplier 3
		else
			build_failed asan build-asan
		fi ;;
	tsan)
		# A race report fails the test. TSan sees the threads of one
		# process; the lanes between processes are the kill matrix's.
		# One test at a time: two TSan tests on two cores slowed a
		# writer past the clients' 5 s liveness limit (roundtrip sent
		# entries to the fallback).
		if setup build-tsan -Db_sanitize=thread; then
			part tsan build-tsan default --num-processes 1 --timeout-multiplier 4
		else
			build_failed tsan build-tsan
		fi ;;
	fuzz)
		if CC=clang setup build-fuzz -Dfuzz=enabled -Db_sanitize=address,undefined; then
			part fuzz build-fuzz fuzz --num-processes 1
		else
			build_failed fuzz build-fuzz
		fi ;;
	*)
		echo "test.sh: unknown part '$p' (default soak systemd asan tsan fuzz)" >&2
		exit 2 ;;
	esac
done

# One closing line that any CI reader understands.
python3 - "$build_failures" "${logs[@]}" <<'PY' || status=1
import json, sys
ok, fail, skip = 0, int(sys.argv[1]), 0
for path in sys.argv[2:]:
    try:
        lines = open(path).readlines()
    except OSError:
        fail += 1
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r == "OK": ok += 1
        elif r == "SKIP": skip += 1
        else: fail += 1
print(f"{ok} passed, {fail} failed, {skip} skipped")
PY
exit $status
