#!/bin/sh
# setup.sh: set up a fresh Debian 12 machine and build finnstream.
#
#   ./setup.sh run     install what is missing, build, start finnstreamd
#                      on its built-in sim feed (no token needed)
#   ./setup.sh check   install what is missing, build, run make check
#   ./setup.sh deps    only install the Debian packages
#
# Extra arguments after `run` go to finnstreamd (e.g. --sim_rate 2000).
set -eu

cd "$(dirname "$0")"

PACKAGES="build-essential autoconf automake autoconf-archive pkgconf
libevent-dev libssl-dev libwslay-dev libcjson-dev perl openssl
kcat python3 python3-websockets python3-kafka python3-confluent-kafka
clang libclang-rt-14-dev clang-format librdkafka-dev iperf3"

deps() {
	missing=
	for p in $PACKAGES; do
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
	deps
	;;
run)
	deps
	(build)
	echo
	echo "finnstreamd is starting on its sim feed."
	echo "Watch the trades in another terminal:"
	echo "    kcat -b 127.0.0.1:9092 -t trades -C"
	echo "Stop it with Ctrl-C."
	echo
	exec build/finnstreamd "$@"
	;;
check)
	deps
	(build && make -j"$(nproc)" check)
	;;
*)
	echo "usage: ./setup.sh run|check|deps" >&2
	exit 2
	;;
esac
