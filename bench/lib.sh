# lib.sh: what the benchmark scripts share; sourced (POSIX sh).

# listening_port LOG STAGE [TENTHS]: the port in the daemon's
# "STAGE: listening on 127.0.0.1:PORT" line of LOG, waiting for it up to
# TENTHS tenths of a second (100).  Prints it; exit status 1 (nothing
# printed) when the line never came.
listening_port() {
	_lp_n=0
	while [ "$_lp_n" -lt "${3:-100}" ]; do
		_lp_port=$(sed -n \
		    "s/.*$2: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p" \
		    "$1" | head -n 1)
		if [ -n "$_lp_port" ]; then
			echo "$_lp_port"
			return 0
		fi
		sleep 0.1
		_lp_n=$((_lp_n + 1))
	done
	return 1
}

# free_port: a loopback TCP port free at the time of asking.
free_port() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(Listen => 1,
		    LocalAddr => "127.0.0.1", LocalPort => 0, ReuseAddr => 1)
		    or die "no free port: $!\n";
		print $s->sockport, "\n";'
}

# wait_port PORT PID: until 127.0.0.1:PORT accepts (status 0), for up to
# 10 s, or until PID died (status 1).
wait_port() {
	_wp_n=0
	while [ "$_wp_n" -lt 100 ]; do
		kill -0 "$2" 2>/dev/null || return 1
		perl -MIO::Socket::INET -e '
			exit(IO::Socket::INET->new(PeerAddr => "127.0.0.1",
			    PeerPort => $ARGV[0]) ? 0 : 1)' "$1" && return 0
		sleep 0.1
		_wp_n=$((_wp_n + 1))
	done
	return 1
}

# run_daemon NAME DAEMON ARGS...: DAEMON (a finnstreamd) in the
# background with ARGS and --data_dir in a new temporary directory, its
# log in $tmp/log; sets tmp and pid.  On exit the daemon is stopped and
# $tmp removed (a caller that stops the daemon itself clears pid).
run_daemon() {
	_rd_name=$1
	_rd_daemon=$2
	shift 2
	tmp=$(mktemp -d -t "$_rd_name.XXXXXX") || exit 1
	pid=
	trap _run_daemon_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	"$_rd_daemon" --data_dir "$tmp/data" "$@" >"$tmp/log" 2>&1 &
	pid=$!
}

_run_daemon_cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
