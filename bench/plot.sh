#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/plot.sh CDF_DIR OUT.png - plot the latency distributions that
# publish-latency wrote (--cdf: "percentile ns" lines) with gnuplot, in the
# HdrHistogram style: the x axis counts nines (50%, 90%, 99%, 99.9%...).
# Left: every logger at 128 B; right: logbus by message size.
set -euo pipefail

dir=$1 png=$2
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot not installed (gnuplot-nox)" >&2; exit 1; }

# series FILE...: gnuplot plot clauses for the files that exist.
series() {
	local f dt clauses=()
	for f in "$@"; do
		[ -s "$dir/$f.dat" ] || continue
		dt=1; [[ $f == *-2p* ]] && dt=2   # processes dashed, threads solid
		clauses+=("'$dir/$f.dat' using (\$1 < 100 ? 100 / (100 - \$1) : 1/0):(\$2 > 0 ? \$2 : 0.1) with lines lw 2 dt $dt title '$f'")
	done
	[ ${#clauses[@]} -gt 0 ] || clauses=("1/0 notitle")
	local IFS=,
	echo "${clauses[*]}"
}

left=$(series logbus-128-1t logbus-128-2t logbus-128-2p fprintf-128-1t syslog-128-1t \
	journald-128-1t spdlog-128-1t lttng-128-1t spdlog-128-2p lttng-128-2p)
right=$(series logbus-32-1t logbus-100-1t logbus-128-1t logbus-1024-1t logbus-32-2p \
	logbus-100-2p logbus-128-2p logbus-1024-2p logbus-100-1t-paced logbus-100-2p-paced)

gnuplot <<GP
set terminal pngcairo size 1600,700 noenhanced font ",10"
set output '$png'
set multiplot layout 1,2
set logscale xy
set xrange [1:100000]
set xtics ("0%%" 1, "50%%" 2, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
set xlabel "percentile"
set ylabel "latency per call (ns, timer overhead removed)"
set grid
set key top left
set title "publish latency per call, 128 B: logbus and the alternatives"
plot $left
set title "logbus publish latency by message size (1 thread, 2 processes)"
plot $right
unset multiplot
GP
