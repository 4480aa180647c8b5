#!/bin/sh
# run-ab.sh: the feed and Kafka benchmarks of two builds, alternately, in
# one run, so that both see the same machine.
#
#	bench/run-ab.sh OLD_BUILD NEW_BUILD [PAIRS [KAFKA_PAIRS]]
#
# Each BUILD is a build directory after `make && make bench` (an
# optimised build); its source tree (for bench/run-kafka.sh) is read from
# the build's Makefile (abs_top_srcdir), so an older tree is run with its
# own script.  For every benchmark, PAIRS pairs (default 5) of one old
# and one new run; the order alternates (old first in odd pairs, new
# first in even ones) so that a load that rises or falls during the run
# favours neither.  KAFKA_PAIRS (default PAIRS) pairs of
# bench/run-kafka.sh, which takes about 40 s a run.
#
# Per pair it prints both figures and new/old; at the end, per figure, the
# median of the pairs' ratios and their spread (min-max), and the median
# of each build's own figures.  A ratio above 1 is faster for a
# throughput, slower for a latency.
#
# The figures compared:
#   bench_feed_parse, bench_ingest: each program times 5 runs inside
#     itself.  Builds before the median change print only the fastest of
#     the 5 ("best of 5"); newer ones print the median and the range.  So
#     that both sides are the same statistic, the fastest of the 5 inner
#     runs is compared (the outer figure is still the median of PAIRS).
#   bench_ws_ingest: one timed run per invocation.
#   run-kafka.sh: bench_fetch's median of its 3 consumer runs (its
#     RESULT line's median_* keys: run-kafka.sh's own summary shows the
#     fastest), the 16 KiB rate over the same run's iperf3, and
#     bench_latency's p50, p99 and max.
#
# Environment:
#   ONLY="parse ingest10 ingest3 ws kafka"   the benchmarks to run
#   WS_ARGS   bench_ws_ingest's arguments [-n 3000000 -k 10]
#   KEEP=DIR  keep every raw output in DIR
set -u

if [ $# -lt 2 ]; then
	echo "usage: bench/run-ab.sh OLD_BUILD NEW_BUILD [PAIRS [KAFKA_PAIRS]]" >&2
	exit 2
fi
absdir() { (cd "$1" 2>/dev/null && pwd) || { echo "no directory $1" >&2; exit 1; }; }
old=$(absdir "$1") || exit 1
new=$(absdir "$2") || exit 1
pairs=${3:-5}
kpairs=${4:-$pairs}
only=${ONLY:-parse ingest10 ingest3 ws kafka}
ws_args=${WS_ARGS:--n 3000000 -k 10}

srcdir_of() {
	absdir "$(sed -n 's/^abs_top_srcdir = //p' "$1/Makefile" | head -n 1)"
}
for b in "$old" "$new"; do
	for f in finnstreamd bench/bench_feed_parse bench/bench_ingest \
	    bench/bench_ws_ingest bench/finnhub-sim bench/bench_fetch \
	    bench/bench_latency; do
		[ -x "$b/$f" ] || {
			echo "run-ab.sh: $b/$f missing: make && make bench" >&2
			exit 1
		}
	done
	[ -x "$(srcdir_of "$b")/bench/run-kafka.sh" ] || {
		echo "run-ab.sh: no bench/run-kafka.sh in the source of $b" >&2
		exit 1
	}
done

if [ -n "${KEEP:-}" ]; then
	mkdir -p "$KEEP" && tmp=$(absdir "$KEEP") || exit 1
else
	tmp=$(mktemp -d -t run-ab.XXXXXX) || exit 1
	trap 'rm -rf "$tmp"' EXIT
fi
trap 'exit 1' INT TERM HUP
: >"$tmp/values" # BENCH FIGURE PAIR SIDE VALUE

echo "== run-ab: $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC');" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== old: $old (source $(srcdir_of "$old"))"
echo "== new: $new (source $(srcdir_of "$new"))"

# The fastest of the inner runs: "best of 5: T s  N trades/s" (older
# builds) or "(runs LOW .. HIGH trades/s" (newer ones).
best_tps() {
	awk '/^best of/ { for (i = 1; i <= NF; i++)
			if ($i == "trades/s") { print $(i - 1); exit } }
	    /\(runs / { for (i = 1; i <= NF; i++)
			if ($i == "..") { print $(i + 1); exit } }' "$1"
}
ws_tps() {
	awk '/ trades\/s / { for (i = 1; i <= NF; i++)
			if ($i == "trades/s") { print $(i - 1); exit } }' "$1"
}
# result FILE RECORD KEY [WORKLOAD]: KEY= of a "RESULT RECORD" line.
result() {
	awk -v rec="$2" -v key="$3" -v wl="${4:-}" '
	    $1 == "RESULT" && $2 == rec {
		if (wl != "" && index($0, " workload=" wl " ") == 0) next
		for (i = 3; i <= NF; i++)
			if (index($i, key "=") == 1)
				v = substr($i, length(key) + 2)
	    } END { if (v != "") print v }' "$1"
}
iperf_mbs() {
	sed -n 's/^iperf3: \([0-9.]*\) MB\/s.*/\1/p' "$1" | tail -n 1
}
put() { # BENCH FIGURE PAIR SIDE VALUE
	if [ -z "$5" ]; then
		echo "   ($1 $2: no figure from the $4 build, pair $3)"
		return
	fi
	echo "$1 $2 $3 $4 $5" >>"$tmp/values"
}

# run_one BENCH SIDE BUILD PAIR: runs it, records its figures.
run_one() {
	bench=$1 side=$2 b=$3 p=$4
	out=$tmp/$bench.$p.$side.out
	case $bench in
	parse)
		"$b/bench/bench_feed_parse" >"$out" 2>&1
		put parse trades_per_s "$p" "$side" "$(best_tps "$out")" ;;
	ingest10)
		"$b/bench/bench_ingest" 10 200000 >"$out" 2>&1
		put ingest10 trades_per_s "$p" "$side" "$(best_tps "$out")" ;;
	ingest3)
		"$b/bench/bench_ingest" 3 300000 >"$out" 2>&1
		put ingest3 trades_per_s "$p" "$side" "$(best_tps "$out")" ;;
	ws)
		# shellcheck disable=SC2086
		"$b/bench/bench_ws_ingest" -s "$b/bench/finnhub-sim" \
		    $ws_args >"$out" 2>&1
		put ws trades_per_s "$p" "$side" "$(ws_tps "$out")" ;;
	kafka)
		"$(srcdir_of "$b")/bench/run-kafka.sh" "$b" >"$out" 2>&1
		i=$(iperf_mbs "$out")
		f16=$(result "$out" fetch median_MB_per_s 16k)
		put kafka iperf3_MBps "$p" "$side" "$i"
		put kafka fetch16k_MBps "$p" "$side" "$f16"
		if [ -n "$i" ] && [ -n "$f16" ]; then
			put kafka fetch16k_pct_of_iperf3 "$p" "$side" \
			    "$(awk -v a="$f16" -v b="$i" \
			    'BEGIN { printf "%.1f", 100 * a / b }')"
		fi
		put kafka fetch_trade_rps "$p" "$side" \
		    "$(result "$out" fetch median_records_per_s trade)"
		put kafka latency_p50_us "$p" "$side" \
		    "$(result "$out" latency p50_us)"
		put kafka latency_p99_us "$p" "$side" \
		    "$(result "$out" latency p99_us)"
		put kafka latency_max_us "$p" "$side" \
		    "$(result "$out" latency max_us)"
		echo "   $side: $(grep -E '^== load average at (start|end)' \
		    "$out" | sed 's/^== //' | tr '\n' ' ')" ;;
	esac
}

for bench in $only; do
	n=$pairs
	[ "$bench" = kafka ] && n=$kpairs
	p=1
	while [ "$p" -le "$n" ]; do
		if [ $((p % 2)) = 1 ]; then order="old new"; else order="new old"; fi
		echo "-- $bench pair $p (${order%% *} first; load average" \
		    "$(cut -d' ' -f1 /proc/loadavg))"
		for side in $order; do
			if [ "$side" = old ]; then b=$old; else b=$new; fi
			run_one "$bench" "$side" "$b" "$p"
		done
		awk -v bn="$bench" -v p="$p" '
		    $1 == bn && $3 == p { v[$2 " " $4] = $5; f[$2] = 1 }
		    END { for (k in f) if ((k " old") in v && (k " new") in v)
			printf "   %-24s old %-12s new %-12s new/old %.3f\n", k,
			    v[k " old"], v[k " new"], v[k " new"] / v[k " old"] }' \
		    "$tmp/values" | sort
		p=$((p + 1))
	done
done

echo
echo "== new/old per figure: median of the pairs (min-max); each build's median;" \
    "$(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
awk '
    { v[$1 " " $2 " " $3 " " $4] = $5; fig[$1 " " $2] = 1
      if ($3 > np[$1 " " $2]) np[$1 " " $2] = $3 }
    function fmt(x) { return sprintf(x >= 1000 ? "%.0f" : "%.1f", x) }
    function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    END {
	for (k in fig) {
		n = 0; no = 0; nn = 0
		for (p = 1; p <= np[k]; p++) {
			o = v[k " " p " old"]; w = v[k " " p " new"]
			if (o != "") ov[++no] = o + 0
			if (w != "") nv[++nn] = w + 0
			if (o != "" && w != "" && o + 0 != 0)
				r[++n] = (w + 0) / (o + 0)
		}
		if (n == 0) continue
		m = median(r, n); lo = r[1]; hi = r[n]
		printf "%-34s new/old %.3f (%.3f-%.3f, %d pairs)   old %s   new %s\n",
		    k, m, lo, hi, n, fmt(median(ov, no)), fmt(median(nv, nn))
	}
    }' "$tmp/values" | sort
