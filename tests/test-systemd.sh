#!/usr/bin/env bash
# Description: logbus under a real systemd. Boots systemd as PID 1 in a
# container (systemd-nspawn over this machine's /usr, volatile root),
# with logbus installed into it (meson install --destdir, bound on
# /usr/local), and checks: `systemctl start` reaches active (READY=1) and
# the service shows a STATUS= line; sysusers made the logbus user; a
# non-root client in group logbus publishes and its entries land in
# /var/log/logbus; `systemctl reload` rereads the configuration (zstd
# output after switching to it); a writer stopped with SIGSTOP is
# restarted by the watchdog (WatchdogSec=3s here) and entries land again.
# The container is powered off, or killed, at the end whatever happens.
#
#   test-systemd.sh BUILD_DIR
#
# Exit 0 passed, 1 failed, 77 skipped (no root or no systemd-nspawn,
# outside CI; with CI=true those fail).
set -uo pipefail

build=$1
machine=logbus-test-$$
work=$(mktemp -d "${TMPDIR:-/tmp}/logbus-systemd.XXXXXX")
nspawn_pid= leader=

say() { echo "test-systemd: $*" >&2; }
skip() {
	if [ "${CI:-}" = true ]; then
		say "FAIL (CI): $*"
		exit 1
	fi
	say "SKIP: $*"
	exit 77
}
fail() {
	say "FAIL: $*"
	[ -n "$leader" ] && in_container journalctl -b --no-pager -n 40 -u logbus-writer >&2
	exit 1
}

# Run a command inside the container, as root.
in_container() { nsenter -t "$leader" -m -u -i -n -p -- "$@"; }

# Poll "$@" for up to $1 seconds.
wait_for() {
	local seconds=$1
	shift
	for _ in $(seq $((seconds * 5))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

cleanup() {
	if [ -n "$leader" ] && kill -0 "$leader" 2>/dev/null; then
		kill -RTMIN+4 "$leader" 2>/dev/null   # systemd: poweroff
		for _ in $(seq 100); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -0 "$nspawn_pid" 2>/dev/null && kill -KILL "$leader" 2>/dev/null
	fi
	if [ -n "$nspawn_pid" ]; then
		for _ in $(seq 50); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$nspawn_pid" 2>/dev/null
		wait "$nspawn_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || skip "needs root to boot a container"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn not installed (package systemd-container)"
[ -x /lib/systemd/systemd ] || skip "no /lib/systemd/systemd to boot"

# logbus as a package would install it, under /usr/local; the unit gets
# a short watchdog so that the SIGSTOP check takes seconds.
meson install -C "$build" --no-rebuild --quiet --destdir "$work/root" >"$work/install.log" 2>&1 ||
	fail "meson install: $(tail -n 1 "$work/install.log")"
[ -f "$work/root/usr/local/lib/systemd/system/logbus-writer.service" ] ||
	fail "meson install made no logbus-writer.service under /usr/local/lib/systemd/system"
mkdir -p "$work/dropin"
printf '[Service]\nWatchdogSec=3s\n' >"$work/dropin/watchdog.conf"
config=$work/root/usr/local/etc/logbus/writer.json

# nspawn keeps its propagation directory under /run/systemd/nspawn and
# removes it only from a tmpfs: give it one, in a mount namespace of its
# own so that nothing of this machine changes.
unshare --mount --propagation private sh -c '
	mkdir -p /run/systemd/nspawn && mount -t tmpfs tmpfs /run/systemd/nspawn &&
	exec systemd-nspawn --quiet --directory=/ --volatile=yes --register=no --keep-unit \
		--console=pipe --machine="$1" --bind="$2:/usr/local" \
		--bind-ro="$3:/etc/systemd/system/logbus-writer.service.d" \
		-b systemd.firstboot=off' sh "$machine" "$work/root/usr/local" "$work/dropin" \
	</dev/null >"$work/console.log" 2>&1 &
nspawn_pid=$!

container_leader() { leader=$(pgrep -P "$nspawn_pid" -x systemd | head -n 1); [ -n "$leader" ]; }
wait_for 30 container_leader || fail "the container did not start: $(tail -n 3 "$work/console.log")"
booted() {
	local state
	state=$(in_container systemctl is-system-running)   # non-zero when degraded
	[ "$state" = running ] || [ "$state" = degraded ]
}
wait_for 60 booted || fail "systemd in the container did not reach multi-user: $(in_container systemctl is-system-running)"

# sysusers made the user (from /usr/local/lib/sysusers.d/logbus.conf).
in_container getent passwd logbus >/dev/null || fail "sysusers did not create user logbus"

# Start: Type=notify, so active means READY=1 arrived. (On a first boot
# with an empty /etc, systemd applies the presets, which enable every unit
# on Debian: the writer already runs. It is stopped first, so that this
# start is the one checked.)
in_container systemctl stop logbus-writer || fail "systemctl stop logbus-writer failed"
[ "$(in_container systemctl is-active logbus-writer)" != active ] || fail "logbus-writer did not stop"
in_container systemctl start logbus-writer || fail "systemctl start logbus-writer failed"
[ "$(in_container systemctl is-active logbus-writer)" = active ] || fail "logbus-writer is not active"
status_text() { [ -n "$(in_container systemctl show -p StatusText --value logbus-writer)" ]; }
wait_for 30 status_text || fail "no STATUS= line from the writer"
say "started: $(in_container systemctl show -p StatusText --value logbus-writer)"

# A client that is not root, in group logbus, publishes; logbus-cat exits
# 0 only when the writer confirmed the entry.
publish() {
	in_container setpriv --reuid=nobody --regid=logbus --clear-groups \
		/usr/local/bin/logbus-cat -t systemd-test "$1"
}
outputs() {
	in_container sh -c 'cat /var/log/logbus/*.jsonl; zstd -dcq /var/log/logbus/*.jsonl.zst; true' 2>/dev/null
}
landed() { outputs | grep -F "\"msg\":\"$1\"" >/dev/null; }
publish "from nobody" || fail "a non-root client could not publish"
landed "from nobody" || fail "the non-root client's entry is not in /var/log/logbus"

# Reload: switch the files to zstd; a reread configuration writes .zst.
sed -i 's/"compress": "none"/"compress": "zstd"/' "$config"
grep -q '"compress": "zstd"' "$config" || fail "could not edit $config"
in_container systemctl reload logbus-writer || fail "systemctl reload failed"
reloaded() {
	in_container journalctl -b -u logbus-writer --no-pager | grep "reloaded the configuration" >/dev/null
}
wait_for 20 reloaded || fail "the writer did not say it reloaded"
publish "after reload" || fail "publish after the reload failed"
in_container sh -c 'ls /var/log/logbus/*.jsonl.zst' >/dev/null 2>&1 || fail "no zstd file after the reload"
landed "after reload" || fail "the entry after the reload did not land"

# Watchdog: a stopped writer stops pinging; systemd kills and restarts it.
old=$(in_container systemctl show -p MainPID --value logbus-writer)
[ "${old:-0}" -gt 0 ] || fail "no MainPID"
in_container kill -STOP "$old" || fail "cannot SIGSTOP the writer"
restarted() {
	local pid
	pid=$(in_container systemctl show -p MainPID --value logbus-writer)
	[ "${pid:-0}" -gt 0 ] && [ "$pid" != "$old" ] &&
		[ "$(in_container systemctl is-active logbus-writer)" = active ]
}
wait_for 30 restarted || fail "the watchdog did not restart the stopped writer (pid $old)"
in_container journalctl -b -u logbus-writer --no-pager | grep -i "watchdog timeout" >/dev/null ||
	fail "the restart was not the watchdog's"
publish "after watchdog" || fail "publish after the watchdog restart failed"
landed "after watchdog" || fail "the entry after the watchdog restart did not land"
say "watchdog restarted pid $old as $(in_container systemctl show -p MainPID --value logbus-writer)"
say "passed"
exit 0
