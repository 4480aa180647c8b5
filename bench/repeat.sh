#!/bin/sh
# repeat.sh: run a benchmark several times and report each figure as the
# median of the runs with its spread, never the best run.
#
#	bench/repeat.sh N COMMAND [ARG...]
#
# COMMAND prints lines "RESULT NAME key=value key=value ..."; for every
# NAME.key seen, the summary gives the median over the N runs and the
# lowest and highest value.  Ratios meant to be taken inside one run (a
# fetch rate over the same run's iperf3 figure) must be printed as their
# own key by COMMAND, so that each run's ratio is what gets summarized.
# Exit status: 0 when every run exited 0.
set -u
if [ $# -lt 2 ]; then
	echo "usage: bench/repeat.sh N COMMAND [ARG...]" >&2
	exit 2
fi
n=$1
shift
tmp=$(mktemp -d -t repeat.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0
i=1
while [ "$i" -le "$n" ]; do
	echo "== run $i of $n: $*"
	"$@" >"$tmp/out" 2>&1 || status=1
	cat "$tmp/out"
	grep '^RESULT ' "$tmp/out" | awk -v run="$i" '{
		for (f = 3; f <= NF; f++) {
			eq = index($f, "=")
			if (eq > 1)
				print $2 "." substr($f, 1, eq - 1), \
				    substr($f, eq + 1), run
		}
	}' >>"$tmp/values"
	i=$((i + 1))
done
echo
echo "== median of $n runs (lowest .. highest), $(date -u '+%Y-%m-%d %H:%M UTC')"
[ -s "$tmp/values" ] || { echo "no RESULT lines"; exit 1; }
sort -k1,1 -k2,2g "$tmp/values" | awk '
	function flush() {
		if (cnt == 0) return
		med = cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
		printf "%-40s %14.6g   (%.6g .. %.6g, %d runs)\n", key, med, v[1], v[cnt], cnt
	}
	$1 != key { flush(); key = $1; cnt = 0 }
	{ v[++cnt] = $2 + 0 }
	END { flush() }'
exit $status
