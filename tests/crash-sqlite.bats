#!/usr/bin/env bats
# crash-sqlite.bats - exactly once under kill -9 into an SQLite table: the
# file -> jq -> sqlite: pipeline, its whole process group killed with SIGKILL
# at random instants and restarted each time, ends with every input row in
# the table once, in order.

load helpers/common
load helpers/files
load helpers/pipeline

ROWS=400000
KILLS=20

setup() {
	setup_scratch
}

teardown() {
	stop_pipeline
}

# The pipeline of tests/crash.bats with a table as its destination; -v makes
# stream-write say when it drops rows the table held already.
PIPELINE='stream-read --name r --exit-at-end file:in.ndjson |
	jq -c "(.line|fromjson) + {_cursor}" |
	stream-write -v --name r --checkpoint-rows 5000 "sqlite:out.db?table=t"'

# slowed [WHEN]: the same pipeline with stream-write's writes to the state
# store's log held back 0.1 s each (all of them, or the WHENth as strace's
# inject says), so that a kill just after the table has grown comes between
# the two commits of a checkpoint, the table's and the state store's; or so
# that the reader reads the state store before stream-write brings it up to
# the table. LeakSanitizer cannot run under ptrace.
slowed() {
	echo 'stream-read --name r --exit-at-end file:in.ndjson |
	jq -c "(.line|fromjson) + {_cursor}" |
	env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -o /dev/null -P "$STREAMKIT_STATE-wal" -e trace=pwrite64 \
		-e inject=pwrite64:delay_enter=100000'"${1:+:when=$1}"' \
	stream-write -v --name r --checkpoint-rows 5000 "sqlite:out.db?table=t"'
}

# sql SQL: query the destination; nothing (not an error) before the table exists.
sql() {
	sqlite3 -batch -noheader out.db "$1" 2>/dev/null
}

committed_rows() {
	local n
	n=$(sql 'SELECT count(*) FROM t')
	echo "${n:-0}"
}

# The destination's committed position is ahead of the state store's.
between_commits() {
	local dest state
	dest=$(sql "SELECT position FROM _streamkit_positions WHERE name = 'r'")
	state=$(state_sql "SELECT position FROM positions WHERE name = 'r'" 2>/dev/null)
	dest=$(offset_of "$dest")
	state=$(offset_of "$state")
	[ -n "$dest" ] && [ "$dest" -gt "${state:-0}" ]
}

# more_input: rows after the last, for a pipeline that read them all
# before its kills (helpers/pipeline.bash).
more_input() {
	more_seq_rows
}

# The table has more than $1 rows, or the pipeline is no longer running.
progressed() {
	[ "$(committed_rows)" -gt "$1" ] || ! pipeline_running
}

# The committed rows are the first rows of the input, each once, in order.
table_is_prefix() {
	local n
	n=$(committed_rows)
	if ! sql 'SELECT n FROM t ORDER BY rowid' | cmp -s - <(seq 1 "$n"); then
		echo "after kill $kill: the $n committed rows are not rows 1 to $n in order" >&2
		return 1
	fi
}

# As in tests/crash.bats: odd kills at a random instant after the pipeline
# has committed something in this run, even kills at a random instant from
# its start; but when strace can slow the state store here, every fourth
# kill (4, 8, ... 20) is of the slowed pipeline as soon as the table has
# grown, between the commits of the table and the state store. When the
# last one lands there, the final run reads the rows again and must drop
# them.
@test "a pipeline into a table killed with SIGKILL at $KILLS random instants ends with every row exactly once" {
	seq_ndjson "$ROWS" > in.ndjson
	local kill rows=0 delay when slowed=0 between=0 rc

	if command -v strace >/dev/null && strace -f -qq -o /dev/null -e trace=none true 2>/dev/null; then
		slowed=1
	fi
	for ((kill = 1; kill <= KILLS; kill++)); do
		rc=0
		if ((slowed && kill % 4 == 0)); then
			start_pipeline "$(slowed)"
			when="as the table grew, with the state store slowed"
			wait_for 60 progressed "$rows"
			delay=0
		elif ((kill % 2)); then
			start_pipeline
			when="after a checkpoint"
			wait_for 60 progressed "$rows"
			delay=$(printf '0.%03d' $((RANDOM % 20)))
		else
			start_pipeline
			when="after the start"
			delay=$(printf '0.%03d' $((RANDOM % 40)))
		fi
		kill_pipeline_after "$delay" "$kill" table_is_prefix || rc=$?
		if ((rc == 2)); then
			kill=$((kill - 1))
			continue
		fi
		((rc == 0))
		table_is_prefix
		rows=$(committed_rows)
		if between_commits; then
			between=$((between + 1))
			when="$when (between the commits)"
		fi
		echo "# kill $kill, ${delay}s $when: $rows rows committed" >&3
	done
	# The last run has rows to read.
	[ "$rows" -lt "$ROWS" ] || more_input
	# The slowed kills land between the commits (0.1 s per write, polled
	# every 0.02 s); one of five is enough to know the path was taken.
	if ((slowed)); then
		echo "# $between kills between the two commits" >&3
		[ "$between" -ge 1 ]
	fi

	if ((slowed)) && between_commits; then
		# Its first commits to the state store (bringing it up to the
		# table) held back: the reader resumes before the table's position.
		run timeout 120 sh -c "$(slowed 1..8)"
		assert_status 0
		assert_output_contains "dropped"
		printf '%s\n' "$output" | grep dropped | sed 's/^/# final run: /' >&3
	else
		run timeout 120 sh -c "$PIPELINE"
		assert_status 0
	fi
	assert_equal "$(sql 'SELECT count(*), count(DISTINCT n), min(n), max(n) FROM t')" "$ROWS|$ROWS|1|$ROWS"
	sql 'SELECT n FROM t ORDER BY rowid' | cmp - <(seq 1 "$ROWS")

	assert_equal "$(sql 'PRAGMA integrity_check')" ok
	assert_equal "$(state_sql 'PRAGMA integrity_check')" ok
	assert_equal "$(sql "SELECT position FROM _streamkit_positions WHERE name = 'r'")" "$(position_in in.ndjson "$(wc -c < in.ndjson)")"
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" "$(position_in in.ndjson "$(wc -c < in.ndjson)")"
}
