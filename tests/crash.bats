#!/usr/bin/env bats
# crash.bats - exactly once under kill -9: a file -> jq -> dataset pipeline,
# its whole process group killed with SIGKILL at random instants and
# restarted each time, ends with every input row in the dataset once, in order.

load helpers/common
load helpers/pipeline

ROWS=200000
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

committed_rows() {
	dataset_rows out | wc -l
}

# committed_parts: how many parts the dataset has (no fork: polled often).
committed_parts() {
	local parts=(out/part-*)
	if [ -e "${parts[0]}" ]; then echo "${#parts[@]}"; else echo 0; fi
}

# The dataset has more than $1 parts, or the pipeline is no longer running.
progressed() {
	local parts=(out/part-*)
	{ [ -e "${parts[0]}" ] && [ "${#parts[@]}" -gt "$1" ]; } || ! pipeline_running
}

# The committed rows are the first rows of the input, each once, in order.
dataset_is_prefix() {
	local n
	n=$(committed_rows)
	if ! dataset_rows out | cmp -s - <(head -n "$n" in.ndjson); then
		echo "after kill $kill: the $n committed rows are not the first $n input rows" >&2
		return 1
	fi
}

# Half the kills come at a random instant after the pipeline has committed
# something in this run (during a later checkpoint); the other half at a
# random instant from its start (during recovery, before or during its first
# checkpoint). The first kind guarantees progress; both kinds are cheap
# enough in rows that 20 kills fit in the 40 checkpoints of the input.
@test "a pipeline killed with SIGKILL at $KILLS random instants ends with every row exactly once" {
	seq_ndjson "$ROWS" > in.ndjson
	local kill rows=0 parts=0 delay when

	for ((kill = 1; kill <= KILLS; kill++)); do
		start_pipeline
		if ((kill % 2)); then
			when="after a checkpoint"
			wait_for 60 progressed "$parts"
			delay=$(printf '0.%03d' $((RANDOM % 20)))
		else
			when="after the start"
			delay=$(printf '0.%03d' $((RANDOM % 40)))
		fi
		sleep "$delay"
		if ! pipeline_running; then
			echo "the pipeline finished after only $((kill - 1)) kills; see pipeline.log:" >&2
			cat pipeline.log >&2
			return 1
		fi
		stop_pipeline
		dataset_is_prefix
		rows=$(committed_rows) parts=$(committed_parts)
		echo "# kill $kill, ${delay}s $when: $rows rows committed" >&3
	done
	[ "$rows" -lt "$ROWS" ]

	run timeout 120 sh -c "$PIPELINE"
	assert_status 0
	dataset_rows out | cmp - in.ndjson

	assert_equal "$(state_sql 'PRAGMA integrity_check')" ok
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" \
		"$(wc -c < in.ndjson)"
	assert_equal "$(state_sql 'SELECT count(*) FROM staged_parts')" 0
}
