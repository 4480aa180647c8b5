#!/bin/sh
# run-http.sh: the HTTP stage's benchmarks, one command:
#
#   bench/run-http.sh [BUILD_DIR] [ROUNDS]
#
# 1. A stored day of 20,000,000 trades over 10 symbols (bench/bench_store
#    writes it once into $HTTP_BENCH_DIR, default BUILD_DIR/bench-http),
#    dumped with --dump-store for DuckDB and SQLite (loaded once, cached).
# 2. ROUNDS (3) rounds of bench/bench_http.mjs against finnstreamd serving
#    that store: /grafana/query for the three seed panels x 10 symbols over
#    the day at 1000 points, the day's last 5 minutes at 1 s, one symbol's
#    hour at 1000 points, each checked equal to DuckDB's and SQLite's
#    answers and timed against them in the same run.
# 3. ROUNDS rounds of the same while the feed ingests 100,000 trades/s
#    from finnhub-sim (and a live panel of those symbols).
# 4. ROUNDS rounds of bench_http_latency: a trade frame sent to the feed
#    until /grafana/query and /api/v1/series show it.
#
# Needs node (20+) and, from npm, @duckdb/node-api and better-sqlite3@12,
# installed into .npm-deps/bench/ if missing (never committed).  PIN=1 runs the
# daemon on CPU 0 and the clients on CPU 1 (taskset).  Prints RESULT
# lines; bench/RESULTS.md records them.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
rounds=${2:-3}
work=${HTTP_BENCH_DIR:-$build/bench-http}
npm_dir=$top/.npm-deps/bench
daemon=$build/finnstreamd
sim=$build/bench/finnhub-sim
syms=AAPL,MSFT,NVDA,TSLA,AMZN,META,BINANCE:BTCUSDT,BINANCE:ETHUSDT,BINANCE:SOLUSDT,BINANCE:XRPUSDT
live=L0,L1,L2,L3,L4,L5,L6,L7,L8,L9
day0=$((19900 * 86400000))

note() { echo "# $*"; }

pin_daemon=
pin_bench=
if [ "${PIN:-0}" = 1 ]; then
	pin_daemon="taskset -c 0"
	pin_bench="taskset -c 1"
fi

[ -x "$daemon" ] || { echo "no $daemon: build first" >&2; exit 1; }
(cd "$build" && make -s bench/bench_store bench/bench_http_latency \
    bench/finnhub-sim)
if [ ! -f "$npm_dir/node_modules/@duckdb/node-api/package.json" ] ||
    [ ! -f "$npm_dir/node_modules/better-sqlite3/package.json" ]; then
	note "installing @duckdb/node-api and better-sqlite3@12 into $npm_dir"
	mkdir -p "$npm_dir"
	npm install --prefix "$npm_dir" --no-save --no-package-lock \
	    --no-audit --no-fund --loglevel=error @duckdb/node-api \
	    better-sqlite3@12
fi

mkdir -p "$work"
if [ ! -f "$work/data/store/commit.0" ] && [ ! -f "$work/data/store/commit.1" ]; then
	note "writing the stored day: bench_store -n 20000000 -s 10 -f never"
	"$build/bench/bench_store" -n 20000000 -s 10 -f never -r 3 \
	    -d "$work/data" >"$work/bench_store.out"
fi
if [ ! -s "$work/trades.tsv" ]; then
	note "dumping trades and bars for DuckDB and SQLite"
	"$daemon" --data_dir "$work/data" --dump-store trades >"$work/trades.tsv"
	"$daemon" --data_dir "$work/data" --dump-store bars >"$work/bars.tsv"
fi
note "$(grep -vc '^#' "$work/trades.tsv") trades, $(grep -vc '^#' \
    "$work/bars.tsv") 1 s bars"

tmp=$(mktemp -d)
dpid=
spid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The daemon on the stored day; its feed writes topic "live", so the
# aggregator does not wait for the stored day's offsets of "trades".
start_daemon() {
	log=$tmp/daemon.log
	: >"$log"
	$pin_daemon "$daemon" --data_dir "$work/data" --topic live \
	    --kafka_listen 127.0.0.1:0 --http_listen 127.0.0.1:0 \
	    --log_level info "$@" 2>"$log" &
	dpid=$!
	hport=
	for _ in $(seq 100); do
		hport=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
		    "$log" | head -1)
		[ -n "$hport" ] && break
		sleep 0.1
	done
	[ -n "$hport" ] || { cat "$log" >&2; exit 1; }
}

stop_daemon() {
	kill "$dpid"
	wait "$dpid" || true
	dpid=
}

bench() {
	$pin_bench node "$top/bench/bench_http.mjs" --http "127.0.0.1:$hport" \
	    --trades "$work/trades.tsv" --bars "$work/bars.tsv" \
	    --cache "$work" --npm "$npm_dir" --day0 "$day0" --symbols "$syms" \
	    "$@"
}

metric() {
	python3 -c "import re, urllib.request as u
t = u.urlopen('http://127.0.0.1:$hport/metrics').read().decode()
m = re.search(r'^$1 (\S+)$', t, re.M)
print(m.group(1) if m else 0)"
}

for r in $(seq "$rounds"); do
	note "round $r: the stored day, nothing ingesting"
	start_daemon --feed sim --sim_rate 1 --symbols ZZZZ
	bench --label "idle/" --runs 200 --db-runs 5
	stop_daemon
done

for r in $(seq "$rounds"); do
	note "round $r: the stored day while the feed ingests 100,000 trades/s"
	$pin_bench "$sim" --listen 127.0.0.1:0 --rate 100000 --trades-per-frame 10 \
	    --ping-ms 0 >"$tmp/sim.out" 2>"$tmp/sim.err" &
	spid=$!
	wport=
	for _ in $(seq 100); do
		wport=$(sed -n 's/listening on 127\.0\.0\.1:\([0-9]*\)/\1/p' \
		    "$tmp/sim.out")
		[ -n "$wport" ] && break
		sleep 0.1
	done
	FINNHUB_TOKEN=x start_daemon --feed finnhub \
	    --feed_url "ws://127.0.0.1:$wport" --symbols "$live" \
	    --log_retention_bytes 64m
	sleep 8 # the live panel's symbols have a few seconds of bars
	t0=$(date +%s.%N)
	n0=$(metric finnstream_store_trades_total)
	f0=$(metric finnstream_feed_trades_total)
	bench --label "ingest/" --runs 200 --only-daemon --live-symbols "$live"
	t1=$(date +%s.%N)
	n1=$(metric finnstream_store_trades_total)
	f1=$(metric finnstream_feed_trades_total)
	echo "RESULT ingest/rate feed $(echo "$f0 $f1 $t0 $t1" |
	    awk '{ printf "%.0f", ($2 - $1) / ($4 - $3) }') trades/s," \
	    "stored $(echo "$n0 $n1 $t0 $t1" |
	    awk '{ printf "%.0f", ($2 - $1) / ($4 - $3) }') trades/s" \
	    "during the queries"
	stop_daemon
	kill "$spid"
	wait "$spid" 2>/dev/null || true
	spid=
done

for r in $(seq "$rounds"); do
	note "round $r: frame arrival -> visible over HTTP"
	wport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	lport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	$pin_bench "$build/bench/bench_http_latency" -l "127.0.0.1:$wport" \
	    -H "127.0.0.1:$lport" -s LATENCY -n 1000 -W 100 -i 2000 \
	    >"$tmp/lat.out" 2>"$tmp/lat.err" &
	lpid=$!
	ldir=$tmp/lat-data
	rm -rf "$ldir"
	FINNHUB_TOKEN=x $pin_daemon "$daemon" --feed finnhub \
	    --feed_url "ws://127.0.0.1:$wport" --symbols LATENCY \
	    --kafka_listen 127.0.0.1:0 --http_listen "127.0.0.1:$lport" \
	    --data_dir "$ldir" --feed_backoff_max_ms 200 --log_level warn \
	    2>"$tmp/lat-daemon.log" &
	dpid=$!
	wait "$lpid" || { cat "$tmp/lat.err" >&2; exit 1; }
	sed "s/^RESULT /RESULT latency\//" "$tmp/lat.out" | grep RESULT
	stop_daemon
done
