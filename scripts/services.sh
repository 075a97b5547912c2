#!/usr/bin/env bash
# Start the services the sink tests and benchmarks talk to. Idempotent.
#
#   scripts/services.sh [journald]
#       Make sure a systemd-journald runs: start /lib/systemd/systemd-journald
#       when none does (as on a container or CI machine without systemd as
#       PID 1). Started by hand it needs only /etc/machine-id (made here
#       when missing) and a writable /run: it creates its own sockets under
#       /run/systemd/journal (socket, stdout, dev-log) and keeps the journal
#       in /run/log/journal, since nothing asks it to flush to /var. It
#       does not create the /dev/log symlink (systemd's socket unit does).
#       Waits until `journalctl --sync` works.
#   scripts/services.sh rsyslogd DIR [bench]
#       Run a private rsyslogd for one test: config, sockets, pid file and
#       output all in DIR. The test config hands each message to its file
#       before rsyslogd acknowledges it (Direct queues), so a SIGKILL loses
#       nothing acknowledged; "bench" uses rsyslogd's default in-memory
#       queues instead (a write per batch of messages), as a production
#       setup would, so the benchmark measures the sink more than rsyslogd. On first use it picks two free loopback ports
#       and writes DIR/rsyslog.conf; later calls (a restart after a kill)
#       reuse them. Prints "unix=PATH tcp=PORT relp=PORT pid=PID". What
#       arrives is written, one JSON object a line, to DIR/unix.log,
#       DIR/tcp.log and DIR/relp.log with keys raw (the message as
#       received), app, procid, msgid, pri, sd, msg.
#   scripts/services.sh stop-rsyslogd DIR [SIGNAL]
#       Signal the private rsyslogd of DIR (default TERM) and wait for it.
#   scripts/services.sh journald-namespace NS
#       Run a private journald for one test: the journal namespace NS
#       (systemd-journald NS, as systemd-journald@NS.service would), its
#       sockets in /run/systemd/journal.NS, its journal in
#       /run/log/journal/<machine-id>.NS; read it with
#       journalctl --namespace NS. Prints "pid=PID".
#   scripts/services.sh stop-journald-namespace NS [SIGNAL]
#       Signal it (default TERM) and wait; with "remove" as SIGNAL, stop it
#       and remove its sockets and journal.
#
# Exit status 0 when the service runs, 1 with one line on stderr saying
# what failed.
set -euo pipefail

die() { echo "services.sh: $*" >&2; exit 1; }

# Poll a condition for up to 10 s.
wait_for() {
	for _ in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

journald_running() { pgrep -x systemd-journal >/dev/null; }
journald_socket() { [ -S /run/systemd/journal/socket ]; }

start_journald() {
	if journald_running && journald_socket; then
		return 0
	fi
	local bin=/lib/systemd/systemd-journald
	[ -x "$bin" ] || die "journald: $bin not found (install the systemd package)"
	[ -s /etc/machine-id ] || systemd-machine-id-setup >/dev/null ||
		die "journald: no /etc/machine-id and systemd-machine-id-setup failed"
	if ! journald_running; then
		# A stale socket of a dead journald would keep refusing us.
		rm -f /run/systemd/journal/socket
		setsid "$bin" </dev/null >/dev/null 2>&1 &
	fi
	wait_for journald_socket || die "journald: /run/systemd/journal/socket did not appear"
	wait_for journalctl --sync 2>/dev/null || die "journald: journalctl --sync fails"
}

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

free_port() {
	local p
	for _ in $(seq 50); do
		# Below the kernel's ephemeral range (32768-60999): a client
		# reconnecting to a port nobody listens on could take it.
		p=$((20000 + RANDOM % 12000))
		port_free "$p" && { echo "$p"; return 0; }
	done
	die "rsyslogd: no free loopback port found"
}

write_rsyslog_conf() {
	local dir=$1 tcp=$2 relp=$3 mode=$4 queue='queue.type="Direct"'
	[ "$mode" = bench ] && queue='queue.type="FixedArray" queue.size="200000"'
	cat >"$dir/rsyslog.conf" <<CONF
# Private rsyslogd of one logbus test. tcp=$tcp relp=$relp
global(workDirectory="$dir" maxMessageSize="4m"
       parser.escapeControlCharactersOnReceive="off")
# Direct (tests): an input hands each message to its action before it
# returns, so what RELP acknowledged is in the file even if rsyslogd is
# killed.
main_queue($queue)
module(load="imuxsock" SysSock.Use="off")
module(load="imtcp")
module(load="imrelp")
template(name="logbus_json" type="string"
	string="{\"raw\":\"%rawmsg:::json%\",\"app\":\"%app-name:::json%\",\"procid\":\"%procid:::json%\",\"msgid\":\"%msgid:::json%\",\"pri\":\"%pri%\",\"host\":\"%hostname:::json%\",\"sd\":\"%structured-data:::json%\",\"msg\":\"%msg:::json%\"}\n")
ruleset(name="unix" $queue) { action(type="omfile" file="$dir/unix.log" template="logbus_json") }
ruleset(name="tcp" $queue) { action(type="omfile" file="$dir/tcp.log" template="logbus_json") }
ruleset(name="relp" $queue) { action(type="omfile" file="$dir/relp.log" template="logbus_json") }
input(type="imuxsock" Socket="$dir/log.sock" UseSpecialParser="off" CreatePath="on"
      Ruleset="unix")
input(type="imtcp" Port="$tcp" Address="127.0.0.1" Ruleset="tcp"
      MaxFrameSize="4200000")
input(type="imrelp" Port="$relp" Address="127.0.0.1" Ruleset="relp"
      MaxDataSize="4200000")
CONF
}

rsyslogd_pid() {
	local pid
	pid=$(cat "$1/rsyslogd.pid" 2>/dev/null) || return 1
	kill -0 "$pid" 2>/dev/null && echo "$pid"
}

listening() { ! port_free "$1"; }

start_rsyslogd() {
	local dir=$1 tcp relp pid
	[ -n "$dir" ] || die "rsyslogd: usage: services.sh rsyslogd DIR"
	command -v rsyslogd >/dev/null || die "rsyslogd: not installed (apt-get install rsyslog rsyslog-relp)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ ! -f "$dir/rsyslog.conf" ]; then
		write_rsyslog_conf "$dir" "$(free_port)" "$(free_port)" "${2:-test}"
	fi
	read -r tcp relp < <(sed -n 's/^# Private .* tcp=\([0-9]*\) relp=\([0-9]*\)$/\1 \2/p' "$dir/rsyslog.conf")
	if ! pid=$(rsyslogd_pid "$dir"); then
		rm -f "$dir/rsyslogd.pid"
		setsid rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" \
			</dev/null >>"$dir/rsyslogd.out" 2>&1 &
		wait_for rsyslogd_pid "$dir" >/dev/null ||
			die "rsyslogd: did not start: $(tail -n 1 "$dir/rsyslogd.out" 2>/dev/null)"
		pid=$(rsyslogd_pid "$dir")
	fi
	wait_for test -S "$dir/log.sock" || die "rsyslogd: no socket $dir/log.sock"
	wait_for listening "$tcp" || die "rsyslogd: not listening on tcp port $tcp"
	wait_for listening "$relp" || die "rsyslogd: not listening on relp port $relp"
	echo "unix=$dir/log.sock tcp=$tcp relp=$relp pid=$pid"
}

stop_rsyslogd() {
	local dir=$1 sig=${2:-TERM} pid
	pid=$(rsyslogd_pid "$dir") || return 0
	kill "-$sig" "$pid"
	wait_for sh -c "! kill -0 $pid 2>/dev/null" || die "rsyslogd: pid $pid did not exit on SIG$sig"
}

ns_pid() { pgrep -f -x "/lib/systemd/systemd-journald $1" | head -n 1; }

start_journald_namespace() {
	local ns=$1 pid
	[ -n "$ns" ] || die "journald-namespace: usage: services.sh journald-namespace NS"
	[ -s /etc/machine-id ] || systemd-machine-id-setup >/dev/null ||
		die "journald: no /etc/machine-id and systemd-machine-id-setup failed"
	if ! pid=$(ns_pid "$ns") || [ -z "$pid" ]; then
		rm -f "/run/systemd/journal.$ns/socket"
		setsid /lib/systemd/systemd-journald "$ns" </dev/null >/dev/null 2>&1 &
	fi
	wait_for test -S "/run/systemd/journal.$ns/socket" ||
		die "journald-namespace: /run/systemd/journal.$ns/socket did not appear"
	wait_for journalctl --namespace "$ns" --sync 2>/dev/null ||
		die "journald-namespace: journalctl --namespace $ns --sync fails"
	echo "pid=$(ns_pid "$ns")"
}

stop_journald_namespace() {
	local ns=$1 sig=${2:-TERM} pid
	pid=$(ns_pid "$ns")
	if [ -n "$pid" ]; then
		kill "-$([ "$sig" = remove ] && echo TERM || echo "$sig")" "$pid"
		wait_for sh -c "! kill -0 $pid 2>/dev/null" ||
			die "journald-namespace: pid $pid did not exit on SIG$sig"
	fi
	if [ "$sig" = remove ]; then
		rm -rf "/run/systemd/journal.$ns" /run/log/journal/*."$ns" /var/log/journal/*."$ns"
	fi
}

case "${1:-journald}" in
journald) start_journald ;;
rsyslogd) start_rsyslogd "${2:-}" "${3:-test}" ;;
stop-rsyslogd) stop_rsyslogd "${2:-}" "${3:-TERM}" ;;
journald-namespace) start_journald_namespace "${2:-}" ;;
stop-journald-namespace) stop_journald_namespace "${2:-}" "${3:-TERM}" ;;
*) die "usage: services.sh [journald | rsyslogd DIR [bench] | stop-rsyslogd DIR [SIGNAL] |" \
	"journald-namespace NS | stop-journald-namespace NS [SIGNAL|remove]]" ;;
esac
