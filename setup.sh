#!/bin/sh
# setup.sh: set up a fresh Debian 12 machine and build finnstream.
#
#   ./setup.sh run     install what is missing, build, start finnstreamd
#                      on its built-in sim feed (no token needed)
#   ./setup.sh check   install what is missing, build, run make check
#   ./setup.sh deps    only install the Debian and npm packages
#
# Extra arguments after `run` go to finnstreamd (e.g. --sim_rate 2000).
#
# From npm, into .npm-deps/ (ignored by git and the build): uPlot, the
# chart page's library, and two Node.js clients for the Kafka client
# tests: kafkajs, and
# @platformatic/kafka, a client that speaks only the flexible versions of
# the protocol.  Without node/npm (or without the registry) those tests
# are skipped, and say why, and the chart page says what to install.
# `check` and `deps` also install Debian's chromium for the chart page's
# test.  The HTTP benchmark (bench/run-http.sh) installs its own npm
# packages (@duckdb/node-api, better-sqlite3) into .npm-deps/bench/ when
# it first runs.
set -eu

cd "$(dirname "$0")"
NPM_DIR=.npm-deps

# prometheus is there for promtool, which the HTTP tests run on /metrics;
# on a host run by systemd the package also starts a Prometheus server on
# port 9090 (harmless; `systemctl disable --now prometheus` stops it).
PACKAGES="build-essential autoconf automake autoconf-archive pkgconf
libevent-dev libssl-dev libwslay-dev libcjson-dev perl openssl
kcat python3 python3-websockets python3-kafka python3-confluent-kafka
clang libclang-rt-14-dev clang-format librdkafka-dev iperf3 prometheus"
# For make check only: the chart page's test drives a headless browser.
TEST_PACKAGES="chromium"

# npm packages, pinned: the chart page's library (uPlot, served by the
# daemon from http_chart_dir) and the Kafka client tests' clients.
NPM_PACKAGES="uplot@1.6.32 kafkajs@2.2.4 @platformatic/kafka@1.35.0"
CHART_DIR=$NPM_DIR/node_modules/uplot/dist

deps() {
	missing=
	for p in $PACKAGES "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "setup: installing:$missing"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
	    --no-install-recommends $missing
}

# Node.js clients for the tests: Debian's nodejs and npm when the machine
# has no node; the npm packages once (a failure only skips those tests).
npm_deps() {
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1
	then
		SUDO=
		[ "$(id -u)" -eq 0 ] || SUDO=sudo
		$SUDO apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		    --no-install-recommends nodejs npm || return 0
	fi
	[ -f "$CHART_DIR/uPlot.iife.min.js" ] &&
	    [ -f "$NPM_DIR/node_modules/kafkajs/package.json" ] &&
	    [ -f "$NPM_DIR/node_modules/@platformatic/kafka/package.json" ] &&
	    return 0
	echo "setup: installing npm packages into $NPM_DIR: $NPM_PACKAGES"
	mkdir -p "$NPM_DIR"
	npm install --prefix "$NPM_DIR" --no-save --no-package-lock \
	    --no-audit --no-fund --loglevel=error $NPM_PACKAGES ||
	    echo "setup: npm install failed; the chart page has no charts" \
	        "and the Node.js client tests will be skipped" >&2
}

build() {
	[ -x configure ] || autoreconf -fi
	mkdir -p build
	cd build
	[ -f Makefile ] || ../configure --enable-werror
	make -j"$(nproc)"
}

cmd=${1:-run}
[ $# -gt 0 ] && shift
case "$cmd" in
deps)
	deps $TEST_PACKAGES
	npm_deps
	;;
run)
	deps
	npm_deps
	(build)
	echo
	echo "finnstreamd is starting on its sim feed."
	echo "Open the live charts:   http://127.0.0.1:8080/"
	echo "Watch the trades in another terminal:"
	echo "    kcat -b 127.0.0.1:9092 -t trades -C"
	echo "Stop it with Ctrl-C."
	echo
	exec build/finnstreamd --http_web_dir web --http_chart_dir "$CHART_DIR" \
	    "$@"
	;;
check)
	deps $TEST_PACKAGES
	npm_deps
	(build && make -j"$(nproc)" check)
	;;
*)
	echo "usage: ./setup.sh run|check|deps" >&2
	exit 2
	;;
esac
