#!/usr/bin/env bash
# Install what logbus builds, tests and benchmarks with, from Debian's
# packages; a no-op when everything is there. Uses sudo when not root.
set -euo pipefail

packages=(
	build-essential meson ninja-build pkg-config
	libjansson-dev libzstd-dev libsystemd-dev libncurses-dev
	libcmocka-dev libseccomp-dev
	clang libclang-rt-14-dev
	zstd jq tmux man-db groff-base systemd systemd-container rsyslog rsyslog-relp
	gnuplot-nox libspdlog-dev lttng-tools liblttng-ust-dev
	python3-dev python3-venv
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	sudo="sudo"
fi
echo "deps.sh: installing ${missing[*]}" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
