#!/usr/bin/env bats
# kafka-crash.bats - exactly once under kill -9 from Kafka into a dataset:
# stream-read kafka://… | stream-write dataset:, its whole process group
# killed with SIGKILL at random instants and restarted each time, ends with
# every message of the topic in the dataset once, each partition in offset
# order. The Kafka counterpart of tests/crash.bats.

load helpers/common
load helpers/kafka
load helpers/pipeline

MESSAGES=200000
KILLS=20
PARTITIONS=8      # the test broker keeps a few MB per partition

setup_file() {
	kafka_start --topic "crash:$PARTITIONS"
}

teardown_file() {
	kafka_stop
}

setup() {
	setup_scratch
}

teardown() {
	stop_pipeline
}

# The pipeline of the issue; --exit-at-end makes the last run stop once
# every partition is at its end.
PIPELINE='stream-read --name r --exit-at-end "kafka://$KAFKA_BOOTSTRAP/crash" |
	stream-write --name r --checkpoint-rows 5000 dataset:out'

# committed_offsets: "PARTITION OFFSET" of each committed row, in dataset order.
committed_offsets() {
	dataset_rows out | sed -E 's/^.*"partition":([0-9]+),"offset":([0-9]+),.*$/\1 \2/'
}

# Each partition's committed rows are its first messages, offsets 0, 1, 2…
# in order: none lost, none twice.
dataset_is_exact() {
	if ! committed_offsets | awk '
		$2 != next_of[$1] + 0 {
			printf "partition %s: offset %s where %d was due\n", $1, $2, next_of[$1]
			bad = 1
			exit
		}
		{ next_of[$1] = $2 + 1 }
		END { exit bad }' >&2; then
		echo "${kill:+after kill $kill: }the committed rows are not each partition's first messages once" >&2
		return 1
	fi
}

# more_input: messages after the last, for a pipeline that read them all
# before its kills (helpers/pipeline.bash).
more_input() {
	seq $((MESSAGES + 1)) $((MESSAGES + 50000)) | kafka_produce crash
	MESSAGES=$((MESSAGES + 50000))
}

# As in tests/crash.bats: odd kills at a random instant after the pipeline
# has committed something in this run, even kills at a random instant from
# its start (while the consumer starts, or before its first checkpoint):
# helpers/pipeline.bash.
@test "Kafka to a dataset, killed with SIGKILL at $KILLS random instants: every message exactly once" {
	seq 1 "$MESSAGES" | kafka_produce crash
	assert_equal "$(kafka_count crash)" "$MESSAGES"
	kill_at_random_instants "$KILLS" committed_parts dataset_is_exact
	# The last run has messages to read.
	[ "$(dataset_rows out | wc -l)" -lt "$MESSAGES" ] || more_input

	run timeout 120 sh -c "$PIPELINE"
	assert_status 0
	dataset_is_exact
	# The same messages as kcat reads, values included.
	committed_offsets | sort >got
	kafka_consume crash -f '%p %o\n' | sort >want
	cmp got want
	dataset_rows out | sed -E 's/^.*"value":"([0-9]+)".*$/\1/' | sort -n >values
	seq 1 "$MESSAGES" | cmp - values

	assert_equal "$(state_sql 'PRAGMA integrity_check')" ok
	assert_equal "$(state_sql 'SELECT count(*) FROM staged_parts')" 0
	# Each partition's position is its last offset: nothing left to read.
	assert_equal "$(state_sql "SELECT partition || ' ' || position FROM positions WHERE name = 'r' ORDER BY 0 + partition")" \
		"$(awk '!($1 in last) || $2 + 0 > last[$1] { last[$1] = $2 + 0 }
			END { for (p in last) print p, last[p] }' want | sort -n)"
	assert_equal "$(stream-checkpoint --json lag r | jq -s -c 'map(.lag) | unique')" "[0]"
}
