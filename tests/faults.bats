#!/usr/bin/env bats
# faults.bats - I/O errors injected with strace at the places where a
# checkpoint can fail: the program stops with a clear error and exit 74,
# and nothing that was committed before is lost or published twice.

load helpers/common
bats_require_minimum_version 1.5.0

setup() {
	setup_scratch
	need_strace
}

# rows FROM TO: rows {"n":i} with the cursors a file source would give them.
rows() {
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++) printf "{\"n\":%d,\"_cursor\":\"file:/in:0:%d\"}\n", i, i * 10 }'
}

# inject SYSCALL ERRNO COMMAND...: run COMMAND with every SYSCALL failing.
inject() {
	local call=$1 err=$2; shift 2
	traced -o /dev/null -e trace="$call" -e inject="$call:error=$err" "$@"
}

@test "a state store that cannot be written stops stream-write with 74, naming it; nothing committed is lost" {
	rows 1 3 | stream-write --name r dataset:out
	rows 4 6 > more.ndjson
	run --separate-stderr inject pwrite64 EIO stream-write --name r dataset:out < more.ndjson
	assert_status 74
	assert_equal "$stderr" "stream-write: $STREAMKIT_STATE: disk I/O error"
	assert_equal "$(dataset_rows out)" "$(rows 1 3 | sed 's/,"_cursor":"[^"]*"//')"
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 30
	assert_equal "$(state_sql 'SELECT count(*) FROM staged_parts')" 0
	# The rerun commits the rows that failed, once.
	stream-write --name r dataset:out < more.ndjson
	assert_equal "$(dataset_rows out | wc -l)" 6
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 60
}

@test "a staged part that cannot be fsynced is never published and its cursors never committed" {
	rows 1 3 | stream-write --name r dataset:out
	run --separate-stderr inject fsync EIO stream-write --name r dataset:out < <(rows 4 6)
	assert_status 74
	[[ "$stderr" == "stream-write: "*"fsync"* ]] || { echo "stderr: $stderr" >&2; return 1; }
	assert_equal "$(dataset_rows out | wc -l)" 3
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 30
}

@test "stream-checkpoint commit stops with 74 when the state store cannot be written, after passing the lines on" {
	stream-checkpoint reset r  # create the store: opening it then writes nothing
	# SQLite syncs its log with fdatasync at each commit (synchronous=FULL);
	# nothing else in commit calls it while the output is a pipe.
	run --separate-stderr inject fdatasync EIO stream-checkpoint commit r < <(rows 1 3)
	assert_status 74
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 3
	assert_equal "$(state_sql "SELECT count(*) FROM positions")" 0
}
