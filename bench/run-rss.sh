#!/bin/sh
# run-rss.sh: the daemon's resident memory per byte its log retains.
#
#	bench/run-rss.sh [BUILD_DIR]
#
# BUILD_DIR (or $BUILD; default ../build beside this script) holds a
# build after `make && make bench` (for bench/finnhub-sim).  Two parts,
# each with its own finnstreamd, a fresh data_dir in a temporary
# directory, a generous max_memory and retention that keeps everything
# (log_retention_bytes 0, log_retention_ms 0: no limit):
#
#   large   the feed quiet (--feed sim --sim_rate 1); kcat -P produces
#           LARGE_MB MB of RECORD_KB KiB records into a plain topic.
#   trades  the feed is bench/finnhub-sim over ws:// (--rate TRADE_RATE,
#           --trades-per-frame TRADES_PER_FRAME, --max-trades TRADES),
#           so the log holds the feed's trade records, and the
#           aggregator and the store run as in production.
#
# Each part reads VmRSS and VmHWM (/proc/PID/status) once at start-up
# (before anything is loaded: "base") and again once everything has
# arrived and the aggregator has caught up (the log's size and the
# aggregator's lag unchanged over 2 s), with finnstream_log_bytes,
# finnstream_memory_bytes and finnstream_store_chunks from GET /metrics,
# and where the resident pages are (/proc/PID/smaps: the heap, other
# anonymous mappings, files).  It prints RSS / log bytes, RSS - log
# bytes, and (RSS - base) / log bytes: what each retained byte costs
# beyond the fixed start-up memory.  RESULT lines suit bench/repeat.sh:
#
#	bench/repeat.sh 3 bench/run-rss.sh build-opt
#
# Environment:
#	PARTS            "large trades" (both, the default), or one of them
#	LARGE_MB         MB of record values produced by kcat [300]
#	RECORD_KB        size of a large record's value, KiB [16]
#	TRADES           trades the sim sends [3000000]
#	TRADE_RATE       trades/s the sim sends [500000]
#	TRADES_PER_FRAME trades per Finnhub message [10]
#	MAX_MEMORY       the daemon's max_memory [8g]
#	KCAT             kcat [kcat]
#	DAEMON_PREFIX    command put before the daemon (e.g. a profiler)
#	KEEP=DIR         keep the daemons' logs and smaps in DIR
# Exit status: 0 when every part ran, 1 otherwise.
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
build=${1:-${BUILD:-$here/../build}}
build=$(cd "$build" 2>/dev/null && pwd) || {
	echo "run-rss.sh: no build directory ${1:-${BUILD:-$here/../build}}" >&2
	exit 1
}
daemon=$build/finnstreamd
sim=$build/bench/finnhub-sim
kcat=${KCAT:-kcat}
parts=${PARTS:-large trades}
large_mb=${LARGE_MB:-300}
record_kb=${RECORD_KB:-16}
trades=${TRADES:-3000000}
trade_rate=${TRADE_RATE:-500000}
per_frame=${TRADES_PER_FRAME:-10}
max_memory=${MAX_MEMORY:-8g}
for f in "$daemon" "$sim"; do
	[ -x "$f" ] || { echo "run-rss.sh: $f missing: make && make bench" >&2; exit 1; }
done
for c in "$kcat" curl perl; do
	command -v "$c" >/dev/null 2>&1 || { echo "run-rss.sh: $c not found" >&2; exit 1; }
done

if [ -n "${KEEP:-}" ]; then
	mkdir -p "$KEEP" && tmp=$(cd "$KEEP" && pwd) || exit 1
else
	tmp=$(mktemp -d -t run-rss.XXXXXX) || exit 1
fi
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# listening FILE WHAT: the port of the daemon's "WHAT: listening on" line.
listening() {
	sed -n "s/.*$2: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p" "$1" |
	    head -n 1
}
status_kb() { # PID FIELD
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}
metric() { # FILE NAME
	awk -v n="$2" '$1 == n { print $2 }' "$1"
}
metrics() { # PORT FILE
	curl -sf --max-time 5 "http://127.0.0.1:$1/metrics" >"$2"
}
# smaps PID: resident kB in the heap, other anonymous mappings, files.
smaps() {
	awk '
	    /^[0-9a-f]+-[0-9a-f]+ / {
		if ($6 == "[heap]") kind = "heap"
		else if ($6 == "") kind = "anon"
		else if ($6 ~ /^\[/) kind = "other"
		else kind = "file"
	    }
	    $1 == "Rss:" { kb[kind] += $2; if (kind == "anon" && $2 > 0) n++ }
	    END { printf "heap=%d anon=%d anon_maps=%d file=%d other=%d\n",
		kb["heap"], kb["anon"], n, kb["file"], kb["other"] }' \
	    "/proc/$1/smaps" 2>/dev/null
}

# start PART ARGS...: the daemon, waits for its HTTP port; sets dpid, hport.
start() {
	part=$1
	shift
	echo "  finnstreamd $*" | sed "s|$tmp|\$TMP|g"
	# shellcheck disable=SC2086
	${DAEMON_PREFIX:-} "$daemon" "$@" 2>"$tmp/$part.log" &
	dpid=$!
	pids="$pids $dpid"
	i=0
	hport=
	while [ $i -lt 100 ] && [ -z "$hport" ]; do
		kill -0 "$dpid" 2>/dev/null || break
		hport=$(listening "$tmp/$part.log" http)
		[ -n "$hport" ] || sleep 0.1
		i=$((i + 1))
	done
	if [ -z "$hport" ]; then
		echo "run-rss.sh: finnstreamd did not start:" >&2
		cat "$tmp/$part.log" >&2
		return 1
	fi
}
stop() { # PID
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	pids=$(echo "$pids" | sed "s/ $1\b//")
}

# settle PORT: until finnstream_log_bytes grew by less than 64 KiB over
# 2 s (a quiet feed still appends a trade a second) and the aggregator's
# lag is 0, up to 300 s.
settle() {
	prev=-1
	i=0
	while [ $i -lt 300 ]; do
		metrics "$1" "$tmp/m" || return 1
		cur=$(metric "$tmp/m" finnstream_log_bytes)
		lag=$(metric "$tmp/m" finnstream_agg_lag_records)
		if [ "$prev" -ge 0 ] && [ $((cur - prev)) -lt 65536 ] &&
		    [ "${lag:-1}" = 0 ]; then
			return 0
		fi
		prev=$cur
		sleep 2
		i=$((i + 2))
	done
	return 1
}

# report PART PID PORT BASE_KB
report() {
	part=$1 pid=$2 port=$3 base=$4
	metrics "$port" "$tmp/m.$part" || { echo "run-rss.sh: no /metrics" >&2; return 1; }
	rss=$(status_kb "$pid" VmRSS)
	hwm=$(status_kb "$pid" VmHWM)
	anon=$(status_kb "$pid" RssAnon)
	log=$(metric "$tmp/m.$part" finnstream_log_bytes)
	mem=$(metric "$tmp/m.$part" finnstream_memory_bytes)
	chunks=$(metric "$tmp/m.$part" finnstream_store_chunks)
	sm=$(smaps "$pid")
	[ -n "${KEEP:-}" ] && cp "/proc/$pid/smaps" "$tmp/$part.smaps"
	awk -v part="$part" -v rss="$rss" -v hwm="$hwm" -v anon="$anon" \
	    -v logb="$log" -v mem="$mem" -v base="$base" -v chunks="$chunks" \
	    -v sm="$sm" 'BEGIN {
		MB = 1e6; r = rss * 1024; h = hwm * 1024; b = base * 1024
		printf "  log bytes (finnstream_log_bytes)   %10.1f MB\n", logb / MB
		printf "  charged to max_memory              %10.1f MB\n", mem / MB
		printf "  VmRSS at start (base)              %10.1f MB\n", b / MB
		printf "  VmRSS now / VmHWM                  %10.1f MB / %.1f MB (RssAnon %.1f MB)\n", \
		    r / MB, h / MB, anon * 1024 / MB
		printf "  resident kB by mapping: %s\n", sm
		printf "  store chunks in memory             %10d\n", chunks
		printf "  RSS / log bytes                    %10.3f\n", r / logb
		printf "  RSS - log bytes                    %10.1f MB\n", (r - logb) / MB
		printf "  (RSS - base) / log bytes           %10.3f\n", (r - b) / logb
		printf "  VmHWM / log bytes                  %10.3f\n", h / logb
		printf "RESULT rss_%s log_MB=%.1f rss_MB=%.1f hwm_MB=%.1f " \
		    "base_MB=%.1f rss_per_log_byte=%.4f rss_minus_log_MB=%.1f " \
		    "over_base_per_log_byte=%.4f hwm_per_log_byte=%.4f " \
		    "charged_MB=%.1f\n", part, logb / MB, r / MB, h / MB, b / MB,
		    r / logb, (r - logb) / MB, (r - b) / logb, h / logb, mem / MB
	}'
}

ok=1
echo "== run-rss: $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC');" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg); build $build"

for part in $parts; do
	case $part in
	large)
		nrec=$((large_mb * 1000000 / (record_kb * 1024)))
		echo "== large: $nrec records of $record_kb KiB ($large_mb MB) by kcat -P"
		start large --feed sim --sim_rate 1 --kafka_listen 127.0.0.1:0 \
		    --http_listen 127.0.0.1:0 --data_dir "$tmp/large-data" \
		    --max_memory "$max_memory" --log_retention_bytes 0 \
		    --log_retention_ms 0 --log_level info || { ok=0; continue; }
		kport=$(listening "$tmp/large.log" kafka)
		sleep 1
		base=$(status_kb "$dpid" VmRSS)
		echo "  $kcat -b 127.0.0.1:$kport -t rss-large -P" \
		    "(records of $((record_kb * 1024 - 1)) bytes of x, one a line)"
		perl -e '$r = "x" x ($ARGV[0] * 1024 - 1) . "\n";
		    print $r for 1 .. $ARGV[1]' "$record_kb" "$nrec" |
		    "$kcat" -b "127.0.0.1:$kport" -t rss-large -P \
		    -X message.max.bytes=16777216 || ok=0
		;;
	trades)
		wport=$(free_port)
		echo "== trades: $trades trades from finnhub-sim at $trade_rate/s," \
		    "$per_frame per message"
		FINNHUB_TOKEN=x
		export FINNHUB_TOKEN
		start trades --feed finnhub --feed_url "ws://127.0.0.1:$wport" \
		    --kafka_listen 127.0.0.1:0 --http_listen 127.0.0.1:0 \
		    --data_dir "$tmp/trades-data" --max_memory "$max_memory" \
		    --log_retention_bytes 0 --log_retention_ms 0 \
		    --feed_backoff_max_ms 200 --log_level info ||
		    { ok=0; continue; }
		sleep 1
		base=$(status_kb "$dpid" VmRSS)
		echo "  finnhub-sim --listen 127.0.0.1:$wport --rate $trade_rate" \
		    "--trades-per-frame $per_frame --max-trades $trades"
		"$sim" --listen "127.0.0.1:$wport" --rate "$trade_rate" \
		    --trades-per-frame "$per_frame" --max-trades "$trades" \
		    >"$tmp/sim.out" 2>"$tmp/sim.log" &
		spid=$!
		pids="$pids $spid"
		# Until the daemon has every trade the sim sends.
		i=0
		while [ $i -lt 600 ]; do
			metrics "$hport" "$tmp/m" || break
			got=$(metric "$tmp/m" finnstream_feed_trades_total)
			[ "${got:-0}" -ge "$trades" ] && break
			sleep 0.5
			i=$((i + 1))
		done
		[ "${got:-0}" -ge "$trades" ] || {
			echo "run-rss.sh: the daemon got ${got:-0} of $trades trades" >&2
			ok=0
		}
		;;
	*)
		echo "run-rss.sh: unknown part $part" >&2
		ok=0
		continue
		;;
	esac
	settle "$hport" || { echo "run-rss.sh: did not settle" >&2; ok=0; }
	report "$part" "$dpid" "$hport" "$base" || ok=0
	stop "$dpid"
	grep -E 'loop:|error|warn' "$tmp/$part.log" | sed 's/^/  | /' | head -n 20
	if [ "$part" = trades ]; then
		kill "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
		pids=$(echo "$pids" | sed "s/ $spid\b//")
	fi
done
echo "== load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ $ok = 1 ]
