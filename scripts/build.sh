#!/usr/bin/env bash
# Configure (once) and build logbus into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || meson setup build --buildtype=release -Dtests=enabled >/dev/null
ninja -C build >/dev/null
