#!/bin/sh
# run-page.sh: what the built-in chart page costs (bench/bench_page.py):
#
#   bench/run-page.sh [BUILD_DIR] [ROUNDS]
#
# Needs Debian's chromium, python3-websockets and uPlot in .npm-deps/
# (./setup.sh deps installs all three).  Prints RESULT lines.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
rounds=${2:-3}
[ -x "$build/finnstreamd" ] || { echo "no $build/finnstreamd: build first" >&2; exit 1; }
[ -f "$top/.npm-deps/node_modules/uplot/dist/uPlot.iife.min.js" ] ||
    { echo "uPlot is not installed: ./setup.sh deps" >&2; exit 1; }
exec /usr/bin/python3 "$top/bench/bench_page.py" "$top" "$build" "$rounds"
