#!/bin/sh
# The layering rule, checked on every include (prints TAP):
#
#	base <- proto <- storage <- server services <- server stages <- core
#
#   base/               errors, assertions, allocation, checksums, clocks
#   proto/              pure codecs
#   storage/            the log and the store (no event loop)
#   server/{log,config,stats,listen}.[ch]   the services every stage uses
#   server/STAGE/       one folder per pipeline stage
#   server/*            the core: main.c, pipeline.c
#
# A file may include only its own layer or a lower one, and a stage only
# its own folder among the stages: stages meet in pipeline.c.  base/ and
# proto/ also stay free of I/O: no libevent, sockets or TLS.  bench/ and
# tests/ may use anything.
top=${top_srcdir:-.}
n=0
fail=0

layer() {
	case $1 in
	base/*) echo 0 ;;
	proto/*) echo 1 ;;
	storage/*) echo 2 ;;
	server/log.[ch] | server/config.[ch] | server/config_table.c | \
	    server/stats.[ch] | server/listen.[ch]) echo 3 ;;
	server/*/*) echo 4 ;;
	server/*) echo 5 ;;
	*) echo 9 ;;
	esac
}

stage() {
	case $1 in
	server/*/*) echo "$1" | cut -d/ -f2 ;;
	*) echo "" ;;
	esac
}

check() {
	f=$1
	lf=$(layer "$f")
	sf=$(stage "$f")
	bad=
	for inc in $(sed -n 's/^#include[[:space:]]*"\([^"]*\)".*/\1/p' \
	    "$top/$f"); do
		li=$(layer "$inc")
		si=$(stage "$inc")
		if [ "$li" -gt "$lf" ]; then
			bad="$bad $inc (layer $li above $lf)"
		elif [ -n "$sf" ] && [ -n "$si" ] && [ "$sf" != "$si" ]; then
			bad="$bad $inc (another stage)"
		fi
	done
	if [ "$lf" -le 1 ]; then
		io=$(grep -nE '#include[[:space:]]*[<"](event2/|sys/socket\.h|openssl/ssl\.h|server/)' "$top/$f")
		[ -n "$io" ] && bad="$bad I/O: $io"
	elif [ "$lf" -le 2 ]; then
		io=$(grep -nE '#include[[:space:]]*<event2/' "$top/$f")
		[ -n "$io" ] && bad="$bad event loop: $io"
	fi
	n=$((n + 1))
	if [ -n "$bad" ]; then
		echo "not ok $n - $f includes against the layering:$bad"
		fail=1
	else
		echo "ok $n - $f"
	fi
}

cd "$top" || exit 1
for f in $(find base proto storage server -name '*.[ch]' | sort); do
	check "$f"
done
echo "1..$n"
exit $fail
