#!/usr/bin/env bats
# sse-crash.bats - exactly once under kill -9 from a stream with ids: an
# SSE -> jq -> dataset pipeline, its whole process group killed with
# SIGKILL at random instants and restarted each time, resumes each time
# with Last-Event-ID from the committed position, and ends with every
# event in the dataset once, in order.

load helpers/common
load helpers/sse
load helpers/pipeline

EVENTS=300000
KILLS=20

setup() {
	setup_scratch
	sse_events "$EVENTS" > ev.ndjson
	sse_start --events ev.ndjson --connections all-close
	seq_ndjson "$EVENTS" > expected.ndjson
	PIPELINE="stream-read --name r --exit-at-end --json --retry-delay 100ms sse+$SSE_URL/s |
		jq -c '.data + {_cursor}' |
		stream-write --name r --checkpoint-rows 5000 dataset:out"
}

teardown() {
	stop_pipeline
	sse_stop
}

# more_input: events after the last (the server reads its file again for
# each connection), for a pipeline that read them all before its kills
# (helpers/pipeline.bash).
more_input() {
	sse_events 100000 $((EVENTS + 1)) >> ev.ndjson
	seq_ndjson 100000 $((EVENTS + 1)) >> expected.ndjson
	EVENTS=$((EVENTS + 100000))
}

# The committed rows are the first events of the stream, each once, in order.
EXPECTED=expected.ndjson

@test "sse: a pipeline killed with SIGKILL at $KILLS random instants ends with every event exactly once" {
	kill_at_random_instants "$KILLS" committed_parts dataset_is_prefix
	# The last run has events to read.
	[ "$(committed_rows)" -lt "$EVENTS" ] || more_input

	run timeout 120 sh -c "$PIPELINE"
	assert_status 0
	dataset_rows out | cmp - expected.ndjson
	assert_equal "$(state_sql 'PRAGMA integrity_check')" ok
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" "$EVENTS"
	assert_equal "$(state_sql 'SELECT count(*) FROM staged_parts')" 0
}
