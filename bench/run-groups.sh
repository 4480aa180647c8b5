#!/bin/sh
# run-groups.sh: the consumer-group benchmarks in one command.
#
#	bench/run-groups.sh [BUILD_DIR] [-- bench_groups.py options]
#
# Starts finnstreamd from BUILD_DIR (default ../build beside this script;
# an optimised build) on a free loopback port with a temporary data_dir
# and group_initial_rebalance_delay_ms 0, runs bench_groups.py against it
# (confluent-kafka and kcat, assign and group consumption, takeover times),
# stops it, and prints the exact commands.
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
build=${1:-$here/../build}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
daemon=$build/finnstreamd
[ -x "$daemon" ] || { echo "run-groups.sh: $daemon missing" >&2; exit 1; }

run_daemon run-groups "$daemon" --feed sim --sim_rate 1 \
    --kafka_listen 127.0.0.1:0 --http_listen 127.0.0.1:0 \
    --log_retention_bytes 4g --log_level info \
    --group_initial_rebalance_delay_ms 0
port=$(listening_port "$tmp/log" kafka 50) || { cat "$tmp/log" >&2; exit 1; }

echo "commands:"
echo "  finnstreamd --feed sim --sim_rate 1 --kafka_listen 127.0.0.1:$port" \
    "--data_dir \$TMP/data --log_retention_bytes 4g --log_level info" \
    "--group_initial_rebalance_delay_ms 0"
echo "  bench_groups.py 127.0.0.1:$port $*"
/usr/bin/python3 "$here/bench_groups.py" "127.0.0.1:$port" "$@"
