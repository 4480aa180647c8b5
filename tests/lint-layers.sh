#!/bin/sh
# Codecs in proto/ are pure: no event loop, sockets, TLS or logging.
# Prints TAP.
top=${top_srcdir:-.}
n=0
fail=0
for f in "$top"/proto/*.c "$top"/proto/*.h; do
	n=$((n + 1))
	bad=$(grep -nE '#include[[:space:]]*[<"](event2/|sys/socket\.h|openssl/ssl\.h|server/|log\.h)' "$f")
	if [ -n "$bad" ]; then
		echo "not ok $n - $(basename "$f") includes I/O or logging: $bad"
		fail=1
	else
		echo "ok $n - $(basename "$f") is pure"
	fi
done
echo "1..$n"
exit $fail
