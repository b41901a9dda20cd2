#!/usr/bin/env bats
# crash.bats - exactly once under kill -9: a file -> jq -> dataset pipeline,
# its whole process group killed with SIGKILL at random instants and
# restarted each time, ends with every input row in the dataset once, in order.

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

# The pipeline of the issue. --exit-at-end makes the last run stop at the
# end of the file.
PIPELINE='stream-read --name r --exit-at-end file:in.ndjson |
	jq -c "(.line|fromjson) + {_cursor}" |
	stream-write --name r --checkpoint-rows 5000 dataset:out'


# more_input: rows after the last, for a pipeline that read them all
# before its kills (helpers/pipeline.bash).
more_input() {
	more_seq_rows
}

# Half the kills come at a random instant after the pipeline has committed
# something in this run (during a later checkpoint); the other half at a
# random instant from its start (during recovery, before or during its first
# checkpoint). The first kind guarantees progress; both kinds are cheap
# enough in rows that 20 kills fit in the 40 checkpoints of the input.
@test "a pipeline killed with SIGKILL at $KILLS random instants ends with every row exactly once" {
	seq_ndjson "$ROWS" > in.ndjson
	kill_at_random_instants "$KILLS" committed_parts dataset_is_prefix
	# The last run has rows to read.
	[ "$(committed_rows)" -lt "$ROWS" ] || more_input

	run timeout 120 sh -c "$PIPELINE"
	assert_status 0
	dataset_rows out | cmp - in.ndjson

	assert_equal "$(state_sql 'PRAGMA integrity_check')" ok
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" \
		"$(position_in in.ndjson "$(wc -c < in.ndjson)")"
	assert_equal "$(state_sql 'SELECT count(*) FROM staged_parts')" 0
}
