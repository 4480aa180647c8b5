#!/bin/sh
# screenshot.sh: the README's picture of the chart page (make screenshot).
#
#   web/screenshot.sh BUILD_DIR OUT.png [SECONDS]
#
# Starts finnstreamd on its sim feed with a fresh data_dir, lets it trade
# for SECONDS (60), and takes headless Chromium's picture of the page
# over all the retained data.  Needs what ./setup.sh deps installs.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
build=$(cd "$1" && pwd)
out=$2
secs=${3:-60}
run_daemon screenshot "$build/finnstreamd" --feed sim --sim_rate 400 \
    --kafka_listen 127.0.0.1:0 --http_listen 127.0.0.1:0 \
    --http_web_dir "$top/web" \
    --http_chart_dir "$top/.npm-deps/node_modules/uplot/dist"
port=$(listening_port "$tmp/log" http) || { cat "$tmp/log" >&2; exit 1; }
echo "screenshot: $secs s of trades first"
sleep "$secs"
/usr/bin/python3 "$top/tests/integration/lib/page_check.py" \
    --url "http://127.0.0.1:$port/?symbols=AAPL,AMZN,MSFT,NVDA&range=all" \
    --seconds 3 --width 1280 --height 900 --screenshot "$out" >/dev/null
echo "screenshot: $out"
