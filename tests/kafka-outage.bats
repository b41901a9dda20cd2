#!/usr/bin/env bats
# kafka-outage.bats - brokers going down and coming back: stream-read keeps
# running in assign mode and reads every message once, each partition in
# order; stream-write keeps running through a short outage and delivers
# every row once; an outage longer than message.timeout.ms ends stream-write
# with 75 and its cursor where delivery stopped, and a rerun delivers the
# rest; stream-checkpoint lag gives what the brokers still up know. (An
# outage from the start of stream-write is in tests/kafka-write.bats.)

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/kafka

setup_file() {
	kafka_start --brokers 3
}

teardown_file() {
	kafka_stop
}

setup() {
	setup_scratch
	READER= WRITER=
}

teardown() {
	exec 7>&- 2>/dev/null || true
	local pid
	for pid in $READER $WRITER; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	kafka_cmd up all
}

# produce_to TOPIC PARTITION FROM TO: values TOPIC-PARTITION-N, N in FROM..TO.
produce_to() {
	seq "$3" "$4" | sed "s/^/$1-$2-/" | kafka_produce "$1" -p "$2"
}

lines_read() {
	[ "$(wc -l <read.out)" -ge "$1" ]
}

# Each partition's messages were read once, in offset order from 0, and
# there are $1 of them in all.
read_once_in_order() {
	assert_equal "$(wc -l <read.out)" "$1"
	run jq -r '"\(.partition) \(.offset)"' read.out
	assert_status 0
	run awk '$2 != next_of[$1] + 0 { print "partition " $1 ": offset " $2 " where " next_of[$1] + 0 " was due" }
		{ next_of[$1] = $2 + 1 }' <<<"$output"
	assert_equal "$output" ""
	assert_equal "$(jq -r .value read.out | sort | uniq -d)" ""
}

@test "a broker down during consume: the other partitions go on, and after it is back every message once, in order" {
	kafka_cmd topic down1 3
	for p in 0 1 2; do
		kafka_cmd leader down1 "$p" $((p + 1))
	done
	stream-read "kafka://$KAFKA_BOOTSTRAP/down1" >read.out 2>read.err 3>&- &
	READER=$!
	for p in 0 1 2; do
		produce_to down1 "$p" 1 100
	done
	wait_for 20 lines_read 300

	# Broker 2 leads partition 1: messages for the others are still produced
	# and read; those for partition 1 wait in the producer until it is back.
	kafka_cmd down 2
	produce_to down1 0 101 200
	produce_to down1 2 101 200
	produce_to down1 1 101 200 3>&- &
	producer=$!
	wait_for 20 lines_read 500
	assert_equal "$(jq -r 'select(.partition == 1) | .value' read.out | wc -l)" 100
	kill -0 "$READER"

	kafka_cmd up 2
	wait "$producer"
	wait_for 20 lines_read 600
	kill -0 "$READER"
	read_once_in_order 600
	assert_equal "$(jq -r .value read.out | sort)" "$(for p in 0 1 2; do seq 1 200 | sed "s/^/down1-$p-/"; done | sort)"
}

@test "every broker down during consume: stream-read keeps running and reads what comes after they are back" {
	kafka_cmd topic down3 2
	# librdkafka's broker log says when the reader has lost its brokers and
	# failed to reconnect.
	stream-read --name r -X debug=broker "kafka://$KAFKA_BOOTSTRAP/down3" >read.out 2>read.err 3>&- &
	READER=$!
	produce_to down3 0 1 50
	produce_to down3 1 1 50
	wait_for 20 lines_read 100
	kafka_cmd down all
	wait_for 20 grep -q 'CONNECT -> DOWN' read.err
	kill -0 "$READER"
	kafka_cmd up all
	produce_to down3 0 51 100
	produce_to down3 1 51 100
	wait_for 30 lines_read 200
	kill -0 "$READER"
	read_once_in_order 200
	# A clean stop after the outage.
	kill -TERM "$READER"
	wait "$READER"
	READER=
}

# rows FROM TO: {"n":N,"_cursor":"src:0:N"} for N in FROM..TO.
rows() {
	seq "$1" "$2" | awk '{ printf "{\"n\":%d,\"_cursor\":\"src:0:%d\"}\n", $1, $1 }'
}

position_is() {
	[ "$(state_sql "SELECT position FROM positions WHERE name = 'w'" 2>/dev/null)" = "$1" ]
}

# writing TOPIC [ARGS]: stream-write --name w ARGS to TOPIC in the
# background (stderr in write.err), fed on fd 7: rows 1 to 300 delivered
# and their cursor committed, then every broker taken down.
writing() {
	local topic=$1
	shift
	kafka_cmd topic "$topic" 2
	mkfifo in
	stream-write --name w --checkpoint-rows 100 "$@" "kafka://$KAFKA_BOOTSTRAP/$topic" <in 2>write.err 3>&- &
	WRITER=$!
	exec 7>in
	rows 1 300 >&7
	wait_for 20 position_is 300
	kafka_cmd down all
}

# The topic holds each n of FROM..TO once (and nothing else).
topic_holds_once() {
	assert_equal "$(kafka_consume "$1" | jq .n | sort -n | paste -sd' ')" "$(seq "$2" "$3" | paste -sd' ')"
}

@test "every broker down during produce: stream-write keeps running and delivers every row once they are back" {
	# librdkafka's broker log says when the producer has lost its brokers
	# and failed to reconnect.
	writing wdown --checkpoint-interval 100ms -X debug=broker
	rows 301 500 >&7
	wait_for 20 grep -q 'CONNECT -> DOWN' write.err
	# Nothing can be delivered: the cursor stays, stream-write waits.
	position_is 300
	kill -0 "$WRITER"
	kafka_cmd up all
	wait_for 30 position_is 500
	kill -0 "$WRITER"
	exec 7>&-
	wait "$WRITER"
	WRITER=
	assert_equal "$(grep '^stream-write:' write.err)" ""
	topic_holds_once wdown 1 500
}

@test "an outage longer than message.timeout.ms: exit 75, the cursor where delivery stopped, a rerun delivers the rest" {
	writing wlong -X message.timeout.ms=1500
	# The input stays open: only the failed deliveries can end the run.
	rows 301 500 >&7
	status=0
	wait "$WRITER" || status=$?
	WRITER=
	exec 7>&-
	assert_status 75
	assert_equal "$(cat write.err)" "stream-write: topic wlong: delivery failed: Local: Message timed out"
	position_is 300
	kafka_cmd up all
	# What a restarted pipeline would send: the rows after the cursor.
	run --separate-stderr stream-write --name w "kafka://$KAFKA_BOOTSTRAP/wlong" < <(rows 301 500)
	assert_status 0
	position_is 500
	topic_holds_once wlong 1 500
}

@test "a broker down: stream-checkpoint lag gives the ends the other brokers know, and exits 69" {
	kafka_cmd topic lagdown 3
	for p in 0 1 2; do
		kafka_cmd leader lagdown "$p" $((p + 1))
		produce_to lagdown "$p" 1 $((10 * (p + 1)))
	done
	stream-read --name r --exit-at-end "kafka://$KAFKA_BOOTSTRAP/lagdown" | stream-checkpoint commit r >/dev/null
	produce_to lagdown 0 11 15
	kafka_cmd down 2
	start=$SECONDS
	run --separate-stderr timeout 30 stream-checkpoint lag --timeout 20s r
	assert_status 69
	# Broker 2 costs one second, not the whole --timeout.
	((SECONDS - start < 10))
	assert_equal "$(tr -s ' ' <<<"$output")" "SOURCE PARTITION POSITION END LAG
kafka:lagdown 0 9 15 5
kafka:lagdown 1 19 - -
kafka:lagdown 2 29 30 0"
	[[ $stderr == "stream-checkpoint: kafka://$KAFKA_BOOTSTRAP/lagdown: topic lagdown: 1 of 3 partitions without an end: broker 2 (partition 1) did not answer: "* ]]
}
