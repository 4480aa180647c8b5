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
