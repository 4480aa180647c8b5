#!/bin/sh
# run-commits.sh: what synchronous OffsetCommits cost the clients and the
# daemon's event loop.
#
#	bench/run-commits.sh [BUILD_DIR] [-- bench_commits.py options]
#
# Starts finnstreamd from BUILD_DIR (default ../build beside this script)
# with a temporary data_dir (so commits are fsync()ed to a real file),
# runs bench_commits.py against it, stops it with SIGTERM and prints the
# daemon's own loop timings of the Kafka and store stages ("loop: ..." at
# shutdown) as a RESULT line: how many of their callbacks held the loop
# over 1 ms, and the longest.
# Suits bench/repeat.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
build=${1:-$here/../build}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
daemon=$build/finnstreamd
[ -x "$daemon" ] || { echo "run-commits.sh: $daemon missing" >&2; exit 1; }

run_daemon run-commits "$daemon" --feed sim --sim_rate 1 \
    --kafka_listen 127.0.0.1:0 --http_listen 127.0.0.1:0 --log_level info \
    --group_initial_rebalance_delay_ms 0
port=$(listening_port "$tmp/log" kafka 50) || { cat "$tmp/log" >&2; exit 1; }

echo "commands:"
echo "  finnstreamd --feed sim --sim_rate 1 --kafka_listen 127.0.0.1:$port" \
    "--data_dir \$TMP/data --log_level info" \
    "--group_initial_rebalance_delay_ms 0"
echo "  bench_commits.py 127.0.0.1:$port $*"
/usr/bin/python3 "$here/bench_commits.py" "127.0.0.1:$port" "$@" || exit 1
kill -TERM "$pid"
wait "$pid"
pid=
# The answers of commits that waited for their write are sent from the
# store's writer callback (stage "store"): both stages count.
grep 'loop: \(kafka\|store\):' "$tmp/log" | sed 's/.*loop: /daemon: /'
grep 'loop: \(kafka\|store\):' "$tmp/log" | awk '{
	for (i = 1; i <= NF; i++) {
		if ($i == "callbacks,") calls += $(i - 1)
		if ($i == "over" && $(i + 1) == "1") over += $(i - 1)
		if ($i == "longest" && $(i + 1) + 0 > longest) longest = $(i + 1)
	}
    }
    END { printf "RESULT loop_kafka_store callbacks=%d over_1ms=%d " \
	"longest_us=%s\n", calls, over, longest }'
