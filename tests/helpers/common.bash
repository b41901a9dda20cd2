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
