#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Description: every installed tool answers --version with "NAME VERSION"
# (meson's project version) and -V alike, and --help with its usage on
# stdout and exit 0, creating no file (logbus-alert once wrote a file
# named --help).
#
#   test-tools-version.sh VERSION TOOL...
set -uo pipefail

version=$1
shift
work=$(mktemp -d "${TMPDIR:-/tmp}/logbus-tools.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
failed=0
fail() { echo "test-tools-version: $*" >&2; failed=1; }

for tool in "$@"; do
	name=$(basename "$tool")
	for opt in --version -V; do
		out=$("$tool" "$opt" </dev/null 2>&1)
		rc=$?
		[ $rc -eq 0 ] || fail "$name $opt exited $rc"
		[ "$out" = "$name $version" ] || fail "$name $opt printed '$out', want '$name $version'"
	done
	# A line on stdin: the old logbus-alert appended it to a file "--help".
	out=$("$tool" --help <<<"{}" 2>/dev/null)
	rc=$?
	[ $rc -eq 0 ] || fail "$name --help exited $rc"
	case $out in
	"Usage: $name "*) ;;
	*) fail "$name --help printed '${out%%$'\n'*}', want a line 'Usage: $name ...'" ;;
	esac
	left=$(ls -A)
	[ -z "$left" ] || fail "$name --help or --version left files behind: $left"
done
exit $failed
