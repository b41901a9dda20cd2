#!/usr/bin/env bats
# kafka-lag.bats - stream-checkpoint lag for Kafka sources: each partition's
# committed offset next to the topic's high watermark, asked of the brokers
# stream-read recorded for the name; partitions without a position; named
# endpoints and librdkafka settings; brokers down (a bounded wait, exit 69,
# the other sources listed all the same).

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/kafka

teardown() {
	# A test that took the brokers down gives them back to the next one.
	kafka_cmd up all
}

# produce_to TOPIC PARTITION N: N messages into one partition.
produce_to() {
	seq 1 "$3" | kafka_produce "$1" -p "$2"
}

# consume NAME URL [ARGS]: read with stream-read and commit what was read.
consume() {
	local name=$1 url=$2
	shift 2
	stream-read --name "$name" "$@" "$url" | stream-checkpoint commit "$name" >/dev/null
}

# lag_table NAME [ARGS]: lag's table without its header, columns one space apart.
lag_table() {
	stream-checkpoint lag "$@" | tail -n +2 | tr -s ' '
}

@test "lag of a Kafka source: each partition's offset, the high watermark and the messages still to read" {
	kafka_cmd topic lagged 4
	produce_to lagged 0 10
	produce_to lagged 1 20
	produce_to lagged 2 5
	url="kafka://$KAFKA_BOOTSTRAP/lagged"
	consume r "$url?partition=0" --exit-at-end
	consume r "$url?partition=1" --count 5
	run stream-checkpoint lag r
	assert_status 0
	[[ "${lines[0]}" =~ ^SOURCE\ +PARTITION\ +POSITION\ +END\ +LAG$ ]]
	# Partitions 2 and 3 have no position: a reader would start at their
	# beginning.
	assert_equal "$(lag_table r)" "kafka:lagged 0 9 10 0
kafka:lagged 1 4 20 15
kafka:lagged 2 - 5 5
kafka:lagged 3 - 0 0"
	run --separate-stderr stream-checkpoint --json lag r
	assert_status 0
	assert_equal "${lines[1]}" '{"name":"r","source":"kafka:lagged","partition":"1","position":"4","end":20,"lag":15}'
	assert_equal "${lines[2]}" '{"name":"r","source":"kafka:lagged","partition":"2","position":null,"end":5,"lag":5}'

	# It follows the topic and the reader.
	produce_to lagged 0 3
	consume r "$url" --exit-at-end
	produce_to lagged 3 2
	assert_equal "$(lag_table r)" "kafka:lagged 0 12 13 0
kafka:lagged 1 19 20 0
kafka:lagged 2 4 5 0
kafka:lagged 3 - 2 2"
}

@test "every source of the name is listed in order: files, and each Kafka topic with its own end" {
	kafka_cmd topic first 2
	kafka_cmd topic second 1
	produce_to first 1 4
	produce_to second 0 6
	seq_ndjson 10 >in.ndjson
	consume r "kafka://$KAFKA_BOOTSTRAP/first" --exit-at-end
	consume r "kafka://$KAFKA_BOOTSTRAP/second" --count 2
	consume r file:in.ndjson --count 3
	size=$(wc -c <in.ndjson)
	pos=$(state_sql "SELECT position FROM positions WHERE source LIKE 'file:%'")
	pos=${pos%%@*}
	assert_equal "$(lag_table r)" "file:$PWD/in.ndjson 0 $pos (inode $(stat -c %i in.ndjson)) $size $((size - pos))
kafka:first 0 - 0 0
kafka:first 1 3 4 0
kafka:second 0 1 6 4"
}

@test "stream-read records the endpoint as written, never the -X settings" {
	kafka_cmd topic recorded 1
	produce_to recorded 0 3
	url="kafka://$KAFKA_BOOTSTRAP/recorded"
	consume r "$url" --exit-at-end -X sasl.password=s3cret -X client.id=mine
	assert_equal "$(state_sql "SELECT value FROM settings WHERE key LIKE 'endpoint %'")" "$url"
	run sh -c 'cat "$STREAMKIT_STATE"* | grep -c s3cret'
	assert_equal "$output" 0
	# Reading it through another endpoint records that one instead.
	printf '[rec]\nurl = %s\n' "$url" >"$STREAMKIT_ENDPOINTS"
	consume r rec --exit-at-end
	assert_equal "$(state_sql "SELECT value FROM settings WHERE key LIKE 'endpoint %'")" rec
}

@test "a named endpoint is looked up in the endpoints file, --endpoints FILE or \$STREAMKIT_ENDPOINTS, with its kafka settings" {
	kafka_cmd topic named 2
	produce_to named 1 7
	printf '[src]\nurl = kafka://%s/named\nkafka.client.id = lag-test\n' "$KAFKA_BOOTSTRAP" >ep.conf
	consume r src --endpoints ep.conf --count 3
	run --separate-stderr stream-checkpoint lag r
	assert_status 78
	assert_equal "$(tr -s ' ' <<<"$output" | tail -n +2)" "kafka:named 1 2 - -"
	[[ $stderr == "stream-checkpoint: unknown endpoint 'src': no endpoints file $STREAMKIT_ENDPOINTS"* ]]
	run --separate-stderr stream-checkpoint lag --endpoints ep.conf r
	assert_status 0
	assert_equal "$(tr -s ' ' <<<"$output" | tail -n +2)" "kafka:named 0 - 0 0
kafka:named 1 2 7 4"
	STREAMKIT_ENDPOINTS=ep.conf run --separate-stderr stream-checkpoint --json lag r
	assert_status 0
	assert_equal "$(jq -c '[.partition, .lag]' <<<"$output")" '["0",0]
["1",4]'
	# The endpoint's kafka.* settings reach librdkafka: a bad one is named.
	printf '[src]\nurl = kafka://%s/named\nkafka.no.such.thing = 1\n' "$KAFKA_BOOTSTRAP" >ep.conf
	run --separate-stderr stream-checkpoint lag --endpoints ep.conf r
	assert_status 78
	assert_equal "$stderr" "stream-checkpoint: ep.conf:3: [src] kafka.no.such.thing: unknown property"
	# A name that now stands for something else than Kafka.
	printf '[src]\nurl = file:/var/log/x\n' >ep.conf
	run --separate-stderr stream-checkpoint lag --endpoints ep.conf r
	assert_status 78
	assert_equal "$stderr" "stream-checkpoint: src: a file endpoint now, not kafka"
}

@test "-X and --kafka-config settings reach librdkafka; a bad one exits 78 without quoting values" {
	kafka_cmd topic settings 1
	produce_to settings 0 2
	consume r "kafka://$KAFKA_BOOTSTRAP/settings" --exit-at-end
	run --separate-stderr stream-checkpoint lag -X no.such.setting=1 r
	assert_status 78
	assert_equal "$stderr" "stream-checkpoint: -X no.such.setting: unknown property"
	assert_equal "$(tr -s ' ' <<<"${lines[1]}")" "kafka:settings 0 1 - -"
	# A good one is taken: librdkafka's own debug log is on stderr.
	run --separate-stderr stream-checkpoint lag -X debug=metadata r
	assert_status 0
	[[ $stderr == *METADATA* ]]
	assert_equal "$(tr -s ' ' <<<"${lines[1]}")" "kafka:settings 0 1 2 0"
	printf '# secrets here\nsasl.password = s3cret\nno.such.key = 1\n' >client.properties
	run --separate-stderr stream-checkpoint lag -F client.properties r
	assert_status 78
	assert_equal "$stderr" "stream-checkpoint: client.properties:3: no.such.key: unknown property"
	printf 'sasl.password = s3cret\n' >client.properties
	run --separate-stderr stream-checkpoint lag --kafka-config client.properties r
	assert_status 0
	assert_equal "$(tr -s ' ' <<<"${lines[1]}")" "kafka:settings 0 1 2 0"
}

@test "brokers down: lag answers within --timeout, lists the other sources and the stored offsets, exits 69" {
	kafka_cmd topic outage 2
	produce_to outage 0 5
	seq_ndjson 4 >in.ndjson
	consume r "kafka://$KAFKA_BOOTSTRAP/outage" --exit-at-end
	consume r file:in.ndjson --exit-at-end
	kafka_cmd down all
	start=$SECONDS
	run --separate-stderr timeout 30 stream-checkpoint lag --timeout 1.5 r
	assert_status 69
	((SECONDS - start <= 10))
	assert_equal "$(tr -s ' ' <<<"$output" | tail -n +2)" "file:$PWD/in.ndjson 0 $(wc -c <in.ndjson) (inode $(stat -c %i in.ndjson)) $(wc -c <in.ndjson) 0
kafka:outage 0 4 - -"
	[[ $stderr == "stream-checkpoint: kafka://$KAFKA_BOOTSTRAP/outage: brokers not reachable within 1500 ms: "* ]]
	run --separate-stderr timeout 30 stream-checkpoint --json lag --timeout 1s r
	assert_status 69
	assert_equal "${lines[1]}" '{"name":"r","source":"kafka:outage","partition":"0","position":"4","end":null,"lag":null}'
	[[ $stderr == *"brokers not reachable within 1 s: "* ]]
	kafka_cmd up all
	run --separate-stderr stream-checkpoint lag r
	assert_status 0
	assert_equal "$(tr -s ' ' <<<"${lines[2]}")" "kafka:outage 0 4 5 0"
}

@test "a topic the brokers no longer have: exit 69 naming it, the offsets listed" {
	kafka_cmd topic vanishing 1
	produce_to vanishing 0 3
	consume r "kafka://$KAFKA_BOOTSTRAP/vanishing" --exit-at-end
	kafka_cmd topic-error vanishing UNKNOWN_TOPIC_OR_PART
	run --separate-stderr timeout 30 stream-checkpoint lag r
	kafka_cmd topic-error vanishing none
	assert_status 69
	assert_equal "$stderr" "stream-checkpoint: kafka://$KAFKA_BOOTSTRAP/vanishing: topic vanishing does not exist"
	assert_equal "$(tr -s ' ' <<<"${lines[1]}")" "kafka:vanishing 0 2 - -"
}

@test "a Kafka position with no endpoint recorded is listed without its end; -v says why" {
	stream-checkpoint set r kafka:unrecorded:0:5
	run --separate-stderr stream-checkpoint lag r
	assert_status 0
	assert_equal "$stderr" ""
	assert_equal "$(tr -s ' ' <<<"${lines[1]}")" "kafka:unrecorded 0 5 - -"
	run --separate-stderr stream-checkpoint -v lag r
	assert_status 0
	assert_equal "$stderr" "stream-checkpoint: kafka:unrecorded: no endpoint recorded for r (stream-read --name r records it): its end is not known"
}

@test "a topic read through a pattern is asked through the pattern's endpoint" {
	kafka_cmd topic patterned 1
	produce_to patterned 0 4
	# What a group reading ^pat.* records; the positions name each topic.
	stream-checkpoint set g kafka:patterned:0:1
	state_sql "INSERT INTO settings VALUES ('endpoint [\"g\",\"kafka:^pat.*\"]', 'kafka://$KAFKA_BOOTSTRAP/^pat.*')"
	run --separate-stderr stream-checkpoint lag g
	assert_status 0
	assert_equal "$(tr -s ' ' <<<"${lines[1]}")" "kafka:patterned 0 1 4 2"
}

@test "lag's options belong to lag; a bad --timeout is a usage error" {
	for opt in "-X a=b:-X" "-F f:--kafka-config" "--kafka-config=f:--kafka-config" \
		"--endpoints=f:--endpoints" "--timeout=1:--timeout"; do
		run stream-checkpoint ${opt%%:*} show
		assert_status 64
		assert_output_contains "${opt##*:}: not an option of show"
	done
	for t in 0 -1 soon; do
		run stream-checkpoint lag --timeout "$t" r
		assert_status 64
		assert_output_contains "--timeout: invalid duration '$t'"
	done
}
