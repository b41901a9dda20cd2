#!/usr/bin/env bats
# kafka-mock.bats - the test broker is a real Kafka cluster: kcat, an
# independent client, lists, produces, consumes and joins groups through it;
# its brokers go down and up on command; it stops cleanly on SIGTERM.

load helpers/common
load helpers/kafka

setup_file() {
	kafka_start --brokers 3 --topic events:4 --topic single:1
}

teardown_file() {
	kafka_stop
}

setup() {
	setup_scratch
	producer= own=
}

teardown() {
	local pid
	for pid in $producer $own; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# keyed_lines FROM TO: KEY:VALUE lines for kcat -K:, values with spaces,
# quotes and UTF-8.
keyed_lines() {
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++) printf "key-%d:value \"%d\" é\n", i, i }'
}

@test "lists its brokers and the topics it was started with, with their partition counts" {
	run kafka_topics
	assert_status 0
	assert_equal "$output" "events 4
single 1"
	run sh -c 'kcat -L -b "$KAFKA_BOOTSTRAP" -J | jq -c "[.brokers[].id] | sort"'
	assert_equal "$output" "[1,2,3]"
	# Every broker is on loopback, on the port the bootstrap line names.
	run sh -c 'kcat -L -b "$KAFKA_BOOTSTRAP" -J | jq -r ".brokers | sort_by(.id)[].name" | paste -sd,'
	assert_equal "$output" "$KAFKA_BOOTSTRAP"
}

@test "kcat round-trips 1000 messages with keys and headers, every field equal" {
	kafka_cmd topic roundtrip 4
	# kcat gives one run's messages the same headers: four runs, four sets,
	# with a repeated header name.
	keyed_lines 1 250 | kafka_produce roundtrip -K: -H run=1 -H dup=a -H dup=b
	keyed_lines 251 500 | kafka_produce roundtrip -K: -H run=2
	keyed_lines 501 750 | kafka_produce roundtrip -K: -H run=3 -H empty=
	keyed_lines 751 1000 | kafka_produce roundtrip -K:

	kafka_consume roundtrip -J >got.json
	jq -c '{key, payload, headers}' got.json | sort >got
	{
		keyed_lines 1 250 | jq -Rc 'split(":") | {key: .[0], payload: .[1], headers: ["run","1","dup","a","dup","b"]}'
		keyed_lines 251 500 | jq -Rc 'split(":") | {key: .[0], payload: .[1], headers: ["run","2"]}'
		keyed_lines 501 750 | jq -Rc 'split(":") | {key: .[0], payload: .[1], headers: ["run","3","empty",""]}'
		keyed_lines 751 1000 | jq -Rc 'split(":") | {key: .[0], payload: .[1], headers: null}'
	} | sort >want
	run diff want got
	assert_status 0
	assert_equal "$(wc -l <got)" 1000

	# Keys spread over all four partitions, each with offsets 0, 1, 2 ... in
	# order, and one key always in one partition.
	run jq -s -c '[group_by(.partition)[] | [.[].offset] == [range(length)]] | length, all' got.json
	assert_equal "$output" "4
true"
	run jq -s '[.[] | select(.topic != "roundtrip" or .tstype != "create")] | length' got.json
	assert_equal "$output" 0
}

@test "a consumer group (session.timeout.ms=6000) receives every message" {
	kafka_cmd topic grouped 4
	keyed_lines 1 1000 | kafka_produce grouped -K:
	run timeout 30 kcat -b "$KAFKA_BOOTSTRAP" -G streamkit-test grouped \
		-X session.timeout.ms=6000 -X auto.offset.reset=earliest -e -q -f '%k:%s\n'
	assert_status 0
	assert_equal "$(sort <<<"$output")" "$(keyed_lines 1 1000 | sort)"
	# The group committed its offsets: a second member finds nothing left.
	run timeout 30 kcat -b "$KAFKA_BOOTSTRAP" -G streamkit-test grouped \
		-X session.timeout.ms=6000 -X auto.offset.reset=earliest -e -q -f '%k:%s\n'
	assert_status 0
	assert_equal "$output" ""
}

@test "creates topics and moves partition leaders on command" {
	kafka_cmd topic made 3
	run kafka_topics
	assert_output_contains "made 3"
	kafka_cmd leader made 0 2
	assert_equal "$(kafka_leader made 0)" 2
	kafka_cmd leader made 0 3
	assert_equal "$(kafka_leader made 0)" 3
	# Clients follow the leader: a message produced now is read back.
	echo moved | kafka_produce made -p 0
	assert_equal "$(kafka_consume made -p 0)" moved
	kafka_cmd rtt all 0
}

@test "answers a bad command with an error line and keeps serving" {
	run kafka_cmd frob 1
	assert_status 1
	assert_output_contains "error frob 1: unknown command"
	run kafka_cmd down 9
	assert_status 1
	assert_output_contains "error down 9: no broker 9 (brokers are 1..3 or all)"
	run kafka_cmd leader nosuch 0 1
	assert_status 1
	assert_output_contains "no topic nosuch"
	run kafka_cmd leader single 1 1
	assert_status 1
	assert_output_contains "no partition 1 (topic single has 0..0)"
	run kafka_cmd topic events 2
	assert_status 1
	assert_output_contains "topic events exists"
	run kafka_cmd rtt 1
	assert_status 1
	assert_output_contains "error rtt 1: usage: rtt BROKER|all MS"
	# Still alive and obeying.
	kafka_cmd up all
	run kafka_topics
	assert_output_contains "events 4"
	run kafka_topics
	[[ "$output" != *nosuch* ]]
}

@test "topic-error makes metadata answer a broker error for a topic, and none clears it" {
	kafka_cmd topic-error vanished UNKNOWN_TOPIC_OR_PART
	assert_equal "$(topic_meta vanished)" '["Broker: Unknown topic or partition",0]'
	# kcat, as a consumer, is told the same.
	run timeout 20 kcat -C -b "$KAFKA_BOOTSTRAP" -t vanished -o beginning -e
	[ "$status" -ne 0 ]
	assert_output_contains "Unknown topic or partition"
	# A topic that exists can be given an error, which the others do not see.
	kafka_cmd topic-error single LEADER_NOT_AVAILABLE
	assert_equal "$(topic_meta single)" '["Broker: Leader not available",1]'
	assert_equal "$(topic_meta events)" '[null,4]'

	kafka_cmd topic-error single none
	kafka_cmd topic-error vanished none
	assert_equal "$(topic_meta single)" '[null,1]'
	# The mock made vanished (with its default 4 partitions) to hold the
	# error: it now reads as an empty topic, and cannot be created again.
	assert_equal "$(topic_meta vanished)" '[null,4]'
	run kafka_consume vanished
	assert_status 0
	assert_equal "$output" ""
	run kafka_cmd topic vanished 2
	assert_status 1
	assert_output_contains "error topic vanished 2: Broker: Topic already exists"

	run kafka_cmd topic-error vanished NO_SUCH_ERROR
	assert_status 1
	assert_output_contains "error topic-error vanished NO_SUCH_ERROR: no broker error NO_SUCH_ERROR"
	# Local errors never come from a broker.
	run kafka_cmd topic-error vanished _UNKNOWN_TOPIC
	assert_status 1
	assert_output_contains "no broker error _UNKNOWN_TOPIC"
	run kafka_cmd topic-error vanished
	assert_status 1
	assert_output_contains "error topic-error vanished: usage: topic-error TOPIC ERROR|none"
}

@test "a producer stalls while its partition leader is down and delivers everything, once, when it is up" {
	kafka_cmd topic stall 1
	kafka_cmd leader stall 0 2
	keyed_lines 1 500 | kafka_produce stall -K:
	kafka_cmd down 2

	keyed_lines 501 1000 >more
	kcat -P -b "$KAFKA_BOOTSTRAP" -t stall -K: -X enable.idempotence=true \
		-X reconnect.backoff.max.ms=500 <more >producer.out 2>producer.err 3>&- &
	producer=$!
	# It learns the leader from the brokers still up, cannot reach it, and
	# cannot finish: kcat exits only once every message is delivered.
	addr=$(kafka_broker_address 2)
	wait_for 15 grep -q "FAIL.*$addr/2: Connect to .* failed" producer.err
	kill -0 "$producer"

	kafka_cmd up 2
	wait_for 20 server_exited "$producer"
	status=0
	wait "$producer" || status=$?
	producer=
	assert_status 0
	assert_equal "$(kafka_consume stall -f '%k:%s\n' | sort)" "$(keyed_lines 1 1000 | sort)"
}

@test "reads commands from stdin without --control, and SIGINT stops it with status 0" {
	printf 'topic fromstdin 2\nrtt 1 5\n' >commands
	kafka-mock <commands >own.out 2>own.err 3>&- &
	own=$!
	wait_for 10 _has_lines own.out 3
	run sed -n '2,3p' own.out
	assert_equal "$output" "ok topic fromstdin 2
ok rtt 1 5"
	# End of stdin stops the commands, not the cluster.
	run kcat -L -b "$(head -n 1 own.out)" -t fromstdin -J
	assert_status 0
	assert_equal "$(jq '.topics[0].partitions | length' <<<"$output")" 2
	kill -INT "$own"
	wait_for 10 server_exited "$own"
	status=0
	wait "$own" || status=$?
	own=
	assert_status 0
	assert_equal "$(cat own.err)" ""
}

@test "exits 0 on SIGTERM, closes its ports and leaves no process behind" {
	kafka-mock --brokers 2 </dev/null >own.out 2>own.err 3>&- &
	own=$!
	wait_for 10 _has_lines own.out 1
	bootstrap=$(head -n 1 own.out)
	run kcat -L -b "$bootstrap" -J
	assert_status 0
	# Threads only: no child process to outlive it.
	assert_equal "$(ps -o pid= --ppid "$own")" ""
	kill -TERM "$own"
	wait_for 10 server_exited "$own"
	status=0
	wait "$own" || status=$?
	pid=$own own=
	assert_status 0
	assert_equal "$(cat own.err)" ""
	run kill -0 "$pid"
	assert_status 1
	for port in $(tr , '\n' <<<"$bootstrap" | cut -d: -f2); do
		run bash -c "exec 4<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
		[ "$status" -ne 0 ]
	done
}

@test "refuses bad options with status 64" {
	run kafka-mock --brokers 0
	assert_status 64
	assert_output_contains "kafka-mock: --brokers 0: expected 1..64"
	run kafka-mock --topic events
	assert_status 64
	assert_output_contains "--topic events: expected NAME:PARTITIONS"
	run kafka-mock --topic t:1 --topic t:2
	assert_status 64
	assert_output_contains "topic t exists"
	touch plain
	run kafka-mock --control plain
	assert_status 64
	assert_output_contains "plain: not a FIFO"
	run kafka-mock --help
	assert_status 0
	assert_output_contains "usage: kafka-mock"
}

# topic_meta TOPIC: [ERROR, PARTITIONS] of the topic's metadata, ERROR null
# when there is none. kcat's complaints about the partitions of a topic in
# error go to stderr, left out.
topic_meta() {
	kcat -L -b "$KAFKA_BOOTSTRAP" -t "$1" -J 2>/dev/null | jq -c '.topics[0] | [.error, (.partitions | length)]'
}

# _has_lines FILE N: FILE has at least N complete lines.
_has_lines() {
	[ "$(wc -l <"$1")" -ge "$2" ]
}
