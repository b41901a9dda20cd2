# sse.bash - an SSE server for the suites that need one
# (tests/helpers/sse-server.py, on 127.0.0.1). Load after helpers/common.
#
# sse_start ARGS... starts it in the background with the test's own
# arguments (--events FILE, --connections SPEC, ...) and exports SSE_URL
# (http://127.0.0.1:PORT), SSE_PID and SSE_DIR; sse_stop stops it by pid.
# Start and stop it from the same shell; several servers: call sse_start
# again after saving the variables.

sse_start() {
	local dir
	dir=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/sse.XXXXXX") || return 1
	server_start "$dir" python3 "$SK_SRCDIR/tests/helpers/sse-server.py" "$@" || return 1
	SSE_PID=$server_pid SSE_DIR=$dir SSE_URL=$(head -n 1 "$dir/out")
	export SSE_PID SSE_DIR SSE_URL
}

# sse_stop: SIGTERM, then wait (10 s at most) for the server to exit; its
# exit status (0 when it stopped as asked).
sse_stop() {
	local pid=${SSE_PID:-}
	[ -n "$pid" ] || return 0
	unset SSE_PID SSE_URL
	server_stop "$pid" "$SSE_DIR"
}

# sse_events N [START]: N events {"id":"I","data":"{\"n\":I}"} for the server's --events.
sse_events() {
	local n=$1 start=${2:-1}
	awk -v n="$n" -v s="$start" 'BEGIN { for (i = s; i < s + n; i++) printf "{\"id\":\"%d\",\"data\":\"{\\\"n\\\":%d}\"}\n", i, i }'
}

# sse_requests [LOG]: how many requests the server's --log file (default
# log) holds.
sse_requests() {
	grep -c '^REQUEST ' "${1:-log}" 2>/dev/null || echo 0
}
