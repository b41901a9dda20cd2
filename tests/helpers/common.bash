# common.bash - loaded by every bats suite: `load helpers/common`.
#
# Each test runs in its own scratch directory with its own state store, so
# tests never see each other's positions.

setup_scratch() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export STREAMKIT_STATE="$BATS_TEST_TMPDIR/state.db"
	export STREAMKIT_ENDPOINTS="$BATS_TEST_TMPDIR/endpoints.conf"
	export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config"
	export XDG_STATE_HOME="$BATS_TEST_TMPDIR/xdgstate"
	unset STREAMKIT_NAME
}

# wait_for SECONDS COMMAND...: run COMMAND until it succeeds, failing the
# test when SECONDS pass first. The only way tests wait.
wait_for() {
	local limit=$1; shift
	local deadline=$((SECONDS + limit))
	until "$@"; do
		if ((SECONDS >= deadline)); then
			echo "wait_for: timed out after ${limit}s: $*" >&2
			return 1
		fi
		sleep 0.02
	done
}

# server_start DIR COMMAND...: start a test server in the background, its
# stdout in DIR/out and stderr in DIR/err, and wait for the first line it
# prints (its address); sets server_pid. Fails, showing its stderr, when it
# exits first.
server_start() {
	local dir=$1; shift
	# fd 3 is bats' own: a background process holding it makes bats wait.
	"$@" </dev/null >"$dir/out" 2>"$dir/err" 3>&- &
	server_pid=$!
	if ! wait_for 15 _server_started "$dir" || ! kill -0 "$server_pid" 2>/dev/null; then
		echo "server_start: $1 did not start; its stderr:" >&2
		cat "$dir/err" >&2
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		return 1
	fi
}

_server_started() {
	[ "$(wc -l <"$1/out")" -ge 1 ] || ! kill -0 "$server_pid" 2>/dev/null
}

# server_exited PID: the process is gone or a zombie waiting to be reaped.
server_exited() {
	! kill -0 "$1" 2>/dev/null || [[ $(ps -o stat= -p "$1") == Z* ]]
}

# server_stop PID DIR: SIGTERM, then wait (10 s at most) for the server to
# exit; returns its exit status, showing DIR/err when it is not 0. SIGKILL
# and failure if it does not exit in time.
server_stop() {
	local pid=$1 dir=$2 status=0
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_for 10 server_exited "$pid"; then
		echo "server_stop: pid $pid ignored SIGTERM; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return 1
	fi
	wait "$pid" || status=$?
	if [ "$status" -ne 0 ]; then
		echo "server_stop: pid $pid exited with status $status; its stderr:" >&2
		cat "$dir/err" >&2
	fi
	return "$status"
}

# need_strace: skip the test, saying why, where strace cannot trace.
need_strace() {
	command -v strace >/dev/null || skip "strace is not installed (scripts/setup installs it)"
	strace -f -qq -o /dev/null -e trace=none true 2>/dev/null || skip "ptrace is not permitted here"
}

# traced STRACE-ARGUMENTS...: strace -f -qq with LeakSanitizer off, which
# stops the world with ptrace and so cannot run in a traced process.
traced() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq "$@"
}

# seq_ndjson N [START]: N rows {"n":START..}, one per line.
seq_ndjson() {
	local n=$1 start=${2:-1}
	awk -v n="$n" -v s="$start" 'BEGIN { for (i = s; i < s + n; i++) printf "{\"n\":%d}\n", i }'
}

# filter_as_pipe PROGRAM ARG...: stream-read --json --filter PROGRAM ARG...
# prints what stream-read --json ARG... | jq -c PROGRAM prints, but for
# the _cursor it adds to objects, in any order; and that is not nothing.
filter_as_pipe() {
	local p=$1
	shift
	stream-read --json --filter "$p" "$@" | jq -c 'del(._cursor)' | sort >filtered || return 1
	stream-read --json "$@" | jq -c "$p" | sort >piped || return 1
	[ -s piped ] || { echo "filter_as_pipe: no output" >&2; return 1; }
	diff piped filtered
}

# dataset_rows DIR: the committed rows of a dataset, part by part, in order.
dataset_rows() {
	local f
	for f in "$1"/part-*; do
		[ -e "$f" ] && cat "$f"
	done
	return 0
}

# state_sql SQL: query the test's state store.
state_sql() {
	sqlite3 -batch -noheader "$STREAMKIT_STATE" "$1"
}

# Assertions that say what went wrong.
assert_status() {
	if [ "$status" -ne "$1" ]; then
		echo "expected exit status $1, got $status; output:" >&2
		printf '%s\n' "$output" >&2
		return 1
	fi
}

assert_output_contains() {
	if [[ "$output" != *"$1"* ]]; then
		echo "expected output to contain: $1" >&2
		echo "output was:" >&2
		printf '%s\n' "$output" >&2
		return 1
	fi
}

assert_equal() {
	if [ "$1" != "$2" ]; then
		echo "expected: $2" >&2
		echo "got:      $1" >&2
		return 1
	fi
}
