#!/bin/sh
# run-fetch-ab.sh: Kafka Produce and Fetch of two builds' daemons,
# alternately, in one run.
#
#	bench/run-fetch-ab.sh OLD_BUILD NEW_BUILD [PAIRS]
#
# Starts both builds' finnstreamd side by side, with run-kafka.sh's
# arguments (feed sim at 1 trade/s, retention far above what is loaded),
# each on its own free loopback port, and runs the new build's
# bench_fetch against either.  PAIRS times (default 10), the order
# alternating (old first in odd pairs):
#   produce  bench_fetch -w 16k -n 4096 -r 1 -t produce-P: 64 MiB of
#            16 KiB records produced into a fresh topic (acks=1); its
#            preload time is the figure, in MB/s of values;
#   16k      bench_fetch -w 16k -N -r 1: one consumer reads the 512 MiB
#            topic loaded at the start;
#   trade    bench_fetch -w trade -N -r 1: one consumer reads the
#            4,000,000 trade-sized records loaded at the start.
# A fresh bench_fetch process per figure, so every figure is a first
# consumer in its process (a consumer right after a preload in the same
# process runs slower for both builds; see bench/RESULTS.md).
#
# Prints per pair both figures and new/old, and per figure the median of
# the pairs' ratios with the spread (min-max) and each build's median.
# FIGURE_daemon_cpu_ms is the CPU time the daemon used during that
# figure's bench_fetch run (utime + stime from /proc/PID/stat), a
# measure less disturbed by other load than the rates.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

if [ $# -lt 2 ]; then
	echo "usage: bench/run-fetch-ab.sh OLD_BUILD NEW_BUILD [PAIRS]" >&2
	exit 2
fi
absdir() { (cd "$1" 2>/dev/null && pwd) || { echo "no directory $1" >&2; exit 1; }; }
old=$(absdir "$1") || exit 1
new=$(absdir "$2") || exit 1
pairs=${3:-10}
fetch=$new/bench/bench_fetch
for f in "$old/finnstreamd" "$new/finnstreamd" "$fetch"; do
	[ -x "$f" ] || { echo "run-fetch-ab.sh: $f missing" >&2; exit 1; }
done

tmp=$(mktemp -d -t run-fetch-ab.XXXXXX) || exit 1
pids=
port= # set per daemon by eval below
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP


echo "== run-fetch-ab: $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC');" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
for side in old new; do
	if [ $side = old ]; then b=$old; else b=$new; fi
	kport=$(free_port)
	hport=$(free_port)
	echo "== $side: finnstreamd --feed sim --sim_rate 1" \
	    "--kafka_listen 127.0.0.1:$kport --http_listen 127.0.0.1:$hport" \
	    "--data_dir \$TMP/$side --log_retention_bytes 4g" \
	    "--log_retention_ms 1h --log_level warn   ($b)"
	"$b/finnstreamd" --feed sim --sim_rate 1 \
	    --kafka_listen "127.0.0.1:$kport" --http_listen "127.0.0.1:$hport" \
	    --data_dir "$tmp/$side" --log_retention_bytes 4g \
	    --log_retention_ms 1h --log_level warn 2>"$tmp/$side.log" &
	pid=$!
	pids="$pids $pid"
	wait_port "$kport" "$pid" || {
		echo "finnstreamd ($side) did not start:" >&2
		cat "$tmp/$side.log" >&2
		exit 1
	}
	eval "port_$side=$kport pid_$side=$pid"
done
# The topics the fetches read, loaded once per daemon (old, then new).
for side in old new; do
	eval "port=\$port_$side"
	for w in 16k trade; do
		"$fetch" -b "127.0.0.1:$port" -w $w -r 1 >"$tmp/load-$w-$side" 2>&1 ||
		    { cat "$tmp/load-$w-$side" >&2; exit 1; }
		echo "   $side: $(grep '^preload' "$tmp/load-$w-$side")"
	done
done

: >"$tmp/values" # FIGURE PAIR SIDE VALUE
hz=$(getconf CLK_TCK)
# The daemon's CPU time so far (utime + stime), in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null
}
figure() { # FIGURE SIDE PAIR
	eval "port=\$port_$2 pid=\$pid_$2"
	out=$tmp/$1.$3.$2
	c0=$(cpu_ticks "$pid")
	case $1 in
	produce)
		"$fetch" -b "127.0.0.1:$port" -w 16k -n 4096 -r 1 \
		    -t "produce-$3" >"$out" 2>&1
		v=$(awk '/^preload:/ { for (i = 1; i <= NF; i++)
			if ($i == "in") { printf "%.1f", $2 * 16384 / $(i + 1) / 1e6; exit } }' "$out") ;;
	16k)
		"$fetch" -b "127.0.0.1:$port" -w 16k -N -r 1 >"$out" 2>&1
		v=$(sed -n 's/^RESULT .* MB_per_s=\([^ ]*\).*/\1/p' "$out") ;;
	trade)
		"$fetch" -b "127.0.0.1:$port" -w trade -N -r 1 >"$out" 2>&1
		v=$(sed -n 's/^RESULT .* records_per_s=\([^ ]*\).*/\1/p' "$out") ;;
	esac
	c1=$(cpu_ticks "$pid")
	if [ -n "$c0" ] && [ -n "$c1" ]; then
		echo "$1_daemon_cpu_ms $3 $2 $(( (c1 - c0) * 1000 / hz ))" \
		    >>"$tmp/values"
	fi
	if [ -n "$v" ]; then
		echo "$1 $3 $2 $v" >>"$tmp/values"
	else
		echo "   ($1, $2, pair $3: no figure)"
		sed 's/^/   | /' "$out" | tail -n 5
	fi
}

p=1
while [ "$p" -le "$pairs" ]; do
	if [ $((p % 2)) = 1 ]; then order="old new"; else order="new old"; fi
	echo "-- pair $p (${order%% *} first; load average $(cut -d' ' -f1 /proc/loadavg))"
	for f in produce 16k trade; do
		for side in $order; do
			figure "$f" "$side" "$p"
		done
	done
	awk -v p="$p" '$2 == p { v[$1 " " $3] = $4; f[$1] = 1 }
	    END { for (k in f) if ((k " old") in v && (k " new") in v &&
		    v[k " old"] != 0)
		printf "   %-22s old %-12s new %-12s new/old %.3f\n", k,
		    v[k " old"], v[k " new"], v[k " new"] / v[k " old"] }' \
	    "$tmp/values" | sort
	p=$((p + 1))
done
for side in old new; do
	eval "pid=\$pid_$side"
	echo "== $side daemon: VmRSS $(awk '/VmRSS/ { print $2 " kB" }' \
	    "/proc/$pid/status" 2>/dev/null)"
done

echo
echo "== new/old: median of the pairs (min-max); each build's median;" \
    "$(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   (produce, 16k: MB/s of values; trade: records/s)"
awk '
    { v[$1 " " $2 " " $3] = $4; fig[$1] = 1; if ($2 > np) np = $2 }
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
		for (p = 1; p <= np; p++) {
			o = v[k " " p " old"]; w = v[k " " p " new"]
			if (o != "") ov[++no] = o + 0
			if (w != "") nv[++nn] = w + 0
			if (o != "" && w != "" && o + 0 != 0)
				r[++n] = (w + 0) / (o + 0)
		}
		if (n == 0) continue
		m = median(r, n)
		printf "%-22s new/old %.3f (%.3f-%.3f, %d pairs)   old %s   new %s\n",
		    k, m, r[1], r[n], n, fmt(median(ov, no)), fmt(median(nv, nn))
	}
    }' "$tmp/values" | sort
