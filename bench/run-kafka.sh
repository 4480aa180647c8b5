#!/bin/sh
# run-kafka.sh: the Kafka-side benchmarks of DESIGN.md in one command.
#
#	bench/run-kafka.sh [BUILD_DIR]
#
# BUILD_DIR (or $BUILD; default ../build beside this script) holds an
# optimised build after `make && make bench`; this script builds nothing.
# It measures iperf3's loopback bandwidth, starts finnstreamd on free
# loopback ports with a data_dir in a temporary directory, runs
# bench_fetch (16 KiB records, then trade-sized records), stops it, starts
# a second daemon whose feed is bench_latency's websocket server, runs
# bench_latency, stops everything, and prints a summary with the exact
# commands.  bench_fetch runs 3 consumers one after another; the summary
# and the RESULT kafka line give their median (its own RESULT fetch_16k
# and fetch_trade lines also give the fastest).  Exit status: 0 when every benchmark ran
# (whatever the figures), 1 otherwise.
#
# Environment:
#	FETCH_16K_ARGS, FETCH_TRADE_ARGS, LATENCY_ARGS   extra arguments,
#	    e.g. FETCH_TRADE_ARGS='-n 1000000' for a shorter run
#	PIN=1            pin the daemon to CPU 0 and the benches to CPU 1
#	RT=1             run the daemon and the benches SCHED_FIFO (chrt -f 10),
#	    a diagnostic: on a machine shared with busy processes it shows
#	    what the scheduler's time slices add to the latency tail
#	DAEMON_PREFIX    command put before the daemon (e.g. a profiler)
#	IPERF_SECONDS    length of the iperf3 run [5]

set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
build=${1:-${BUILD:-$here/../build}}
build=$(cd "$build" 2>/dev/null && pwd) || {
	echo "run-kafka.sh: no build directory ${1:-${BUILD:-$here/../build}}" >&2
	exit 1
}
daemon=$build/finnstreamd
fetch=$build/bench/bench_fetch
latency=$build/bench/bench_latency
for f in "$daemon" "$fetch" "$latency"; do
	if [ ! -x "$f" ]; then
		echo "run-kafka.sh: $f missing: run make && make bench in $build" >&2
		exit 1
	fi
done
command -v iperf3 >/dev/null 2>&1 || {
	echo "run-kafka.sh: iperf3 not found (Debian: apt-get install iperf3)" >&2
	exit 1
}

tmp=$(mktemp -d -t run-kafka.XXXXXX) || exit 1
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

pin_daemon=
pin_bench=
if [ "${PIN:-0}" = 1 ]; then
	pin_daemon="taskset -c 0"
	pin_bench="taskset -c 1"
fi
if [ "${RT:-0}" = 1 ]; then
	pin_daemon="chrt -f 10 $pin_daemon"
	pin_bench="chrt -f 10 $pin_bench"
fi

commands=$tmp/commands
: >"$commands"
note() {
	printf '  %s\n' "$(echo "$*" | sed 's/^ *//')" >>"$commands"
}

# start_daemon NAME ARGS...: sets $dpid; the log goes to $tmp/NAME.log.
start_daemon() {
	name=$1
	shift
	note "${DAEMON_PREFIX:+$DAEMON_PREFIX }$pin_daemon finnstreamd $*"
	${DAEMON_PREFIX:-} $pin_daemon "$daemon" "$@" 2>"$tmp/$name.log" &
	dpid=$!
	pids="$pids $dpid"
}

stop_daemon() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	pids=$(echo "$pids" | sed "s/ $1\b//")
}

# Percent of CPU time idle over one second: others' load skews figures.
cpu_idle() {
	a=$(head -n 1 /proc/stat)
	sleep 1
	b=$(head -n 1 /proc/stat)
	printf '%s\n%s\n' "$a" "$b" | awk '{
		t = 0; for (i = 2; i <= NF; i++) t += $i
		if (NR == 1) { t1 = t; i1 = $5 + $6 }
		else printf "%.0f\n", 100 * ($5 + $6 - i1) / (t - t1) }'
}

result() { # FILE KEY: the value of KEY= on the file's RESULT line
	sed -n "s/^RESULT .*[ ]$2=\([^ ]*\).*/\1/p" "$1" | tail -n 1
}

ok=1
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "== machine: $(nproc) CPUs, $cpu; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "== load average at start: $(cut -d' ' -f1-3 /proc/loadavg);" \
    "CPU idle over 1 s: $(cpu_idle)%"
echo "== build: $build"

# ---- iperf3: the loopback bandwidth the 16 KiB fetch is compared to ----
iport=$(free_port)
isecs=${IPERF_SECONDS:-5}
note "iperf3 -s -1 -B 127.0.0.1 -p $iport"
note "iperf3 -c 127.0.0.1 -p $iport -t $isecs -J"
iperf3 -s -1 -B 127.0.0.1 -p "$iport" >"$tmp/iperf-server.log" 2>&1 &
ipid=$!
pids="$pids $ipid"
# Wait for the listening socket without connecting to it: a probe
# connection would count as the one client of -s -1.
i=0
while [ $i -lt 100 ] && ! ss -Hltn "sport = :$iport" | grep -q .; do
	sleep 0.1
	i=$((i + 1))
done
iperf_bps=
if timeout $((isecs + 30)) iperf3 -c 127.0.0.1 -p "$iport" -t "$isecs" -J \
    >"$tmp/iperf.json" 2>&1; then
	iperf_bps=$(perl -MJSON::PP -e '
		local $/; my $j = decode_json(<STDIN>);
		printf "%.0f\n", $j->{end}{sum_received}{bits_per_second};
	' <"$tmp/iperf.json")
fi
kill "$ipid" 2>/dev/null
wait "$ipid" 2>/dev/null
pids=$(echo "$pids" | sed "s/ $ipid\b//")
if [ -z "$iperf_bps" ]; then
	echo "iperf3 failed:" >&2
	cat "$tmp/iperf.json" >&2
	ok=0
	iperf_mbs=0
else
	iperf_mbs=$(echo "$iperf_bps" | awk '{ printf "%.1f", $1 / 8 / 1e6 }')
	echo "iperf3: $iperf_mbs MB/s ($(echo "$iperf_bps" |
	    awk '{ printf "%.2f", $1 / 1e9 }') Gbit/s)"
fi

# ---- Fetch throughput: one daemon, two plain topics --------------------
kport=$(free_port)
hport=$(free_port)
# --feed sim at 1 trade/s keeps the feed side quiet; retention is far
# above what the preloads hold (the default is 256 MiB per partition).
start_daemon fetch --feed sim --sim_rate 1 \
    --kafka_listen "127.0.0.1:$kport" --http_listen "127.0.0.1:$hport" \
    --data_dir "$tmp/fetch-data" --log_retention_bytes 4g \
    --log_retention_ms 1h --log_level warn
if ! wait_port "$kport" "$dpid"; then
	echo "finnstreamd did not start:" >&2
	cat "$tmp/fetch.log" >&2
	exit 1
fi
for w in 16k trade; do
	if [ $w = 16k ]; then extra=${FETCH_16K_ARGS:-}; else
		extra=${FETCH_TRADE_ARGS:-}; fi
	note "$pin_bench bench_fetch -b 127.0.0.1:$kport -w $w $extra"
	echo "== bench_fetch -w $w $extra"
	# shellcheck disable=SC2086
	$pin_bench "$fetch" -b "127.0.0.1:$kport" -w $w $extra \
	    2>&1 | tee "$tmp/fetch-$w.out"
	grep -q '^RESULT' "$tmp/fetch-$w.out" || ok=0
done
echo "== daemon RSS after the preloads: $(awk '/VmRSS/ { print $2 " kB" }' \
    "/proc/$dpid/status" 2>/dev/null)"
stop_daemon "$dpid"

# ---- Latency: bench_latency is the daemon's upstream -------------------
wport=$(free_port)
kport=$(free_port)
hport=$(free_port)
FINNHUB_TOKEN=x
export FINNHUB_TOKEN
note "(with FINNHUB_TOKEN=x in the environment)"
# The daemon first: its feed retries the websocket every 200 ms at most,
# while the bench's consumer needs the Kafka listener up.
start_daemon latency --feed finnhub --feed_url "ws://127.0.0.1:$wport" \
    --symbols BENCH --kafka_listen "127.0.0.1:$kport" \
    --http_listen "127.0.0.1:$hport" --data_dir "$tmp/latency-data" \
    --feed_backoff_max_ms 200 --log_level warn
if ! wait_port "$kport" "$dpid"; then
	echo "finnstreamd did not start:" >&2
	cat "$tmp/latency.log" >&2
	exit 1
fi
note "$pin_bench bench_latency -l 127.0.0.1:$wport" \
    "-b 127.0.0.1:$kport ${LATENCY_ARGS:-}"
echo "== bench_latency ${LATENCY_ARGS:-}"
# shellcheck disable=SC2086
$pin_bench "$latency" -l "127.0.0.1:$wport" -b "127.0.0.1:$kport" \
    ${LATENCY_ARGS:-} >"$tmp/latency.out" 2>&1 &
lpid=$!
pids="$pids $lpid"
wait "$lpid"
pids=$(echo "$pids" | sed "s/ $lpid\b//")
cat "$tmp/latency.out"
grep -q '^RESULT' "$tmp/latency.out" || {
	ok=0
	echo "-- daemon log:"
	tail -n 20 "$tmp/latency.log"
}
stop_daemon "$dpid"

# ---- Summary -------------------------------------------------------------
# The median of bench_fetch's 3 consumers, never the fastest.
f16_mbs=$(result "$tmp/fetch-16k.out" median_MB_per_s)
f16_rps=$(result "$tmp/fetch-16k.out" median_records_per_s)
ftr_rps=$(result "$tmp/fetch-trade.out" median_records_per_s)
ftr_mbs=$(result "$tmp/fetch-trade.out" median_MB_per_s)
l50=$(result "$tmp/latency.out" p50_us)
l99=$(result "$tmp/latency.out" p99_us)
lmax=$(result "$tmp/latency.out" max_us)

verdict() { # VALUE OP LIMIT
	if [ -z "$1" ]; then echo "not run"; return; fi
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		pass = (op == ">=") ? (v >= l) : (v <= l)
		print pass ? "meets" : "MISSES" }'
}
pct=
if [ -n "$f16_mbs" ] && [ "$iperf_mbs" != 0 ]; then
	pct=$(awk -v a="$f16_mbs" -v b="$iperf_mbs" \
	    'BEGIN { printf "%.0f", 100 * a / b }')
fi

echo
echo "== Summary ($(nproc) CPUs, $cpu)"
printf '%-32s %-46s %-20s %s\n' path figure target verdict
printf '%-32s %-46s %-20s %s\n' "iperf3 loopback (1 stream)" \
    "${iperf_mbs} MB/s" "-" "-"
printf '%-32s %-46s %-20s %s\n' "Fetch, 16 KiB records" \
    "${f16_mbs:-?} MB/s (${pct:-?}%), ${f16_rps:-?} rec/s" \
    ">= 90% of iperf3" "$(verdict "$pct" ">=" 90)"
printf '%-32s %-46s %-20s %s\n' "Fetch, trade-sized records" \
    "${ftr_rps:-?} rec/s (${ftr_mbs:-?} MB/s)" ">= 2,000,000 rec/s" \
    "$(verdict "$ftr_rps" ">=" 2000000)"
printf '%-32s %-46s %-20s %s\n' "frame -> long-polling consumer" \
    "p50 ${l50:-?} us, p99 ${l99:-?} us, max ${lmax:-?} us" \
    "p99 <= 1000 us" "$(verdict "$l99" "<=" 1000)"
echo
echo "== Commands (ports were free loopback ports; data_dir in a temp dir)"
cat "$commands"
echo "== load average at end: $(cut -d' ' -f1-3 /proc/loadavg);" \
    "CPU idle over 1 s: $(cpu_idle)%"
# One line for bench/repeat.sh: the same-run ratio is its own figure.
echo "RESULT kafka iperf3_MBps=${iperf_mbs:-0}" \
    "fetch16k_MBps=${f16_mbs:-0} fetch16k_pct_of_iperf3=${pct:-0}" \
    "fetch_trade_rps=${ftr_rps:-0} latency_p50_us=${l50:-0}" \
    "latency_p99_us=${l99:-0} latency_max_us=${lmax:-0}"
[ $ok = 1 ]
