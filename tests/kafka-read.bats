#!/usr/bin/env bats
# kafka-read.bats - stream-read kafka://… in assign mode: every field as kcat
# sees it, resuming after committed positions, each --from form, the end of
# the data, librdkafka settings passed through, and the errors.

load helpers/common
load helpers/kafka

bats_require_minimum_version 1.5.0

# keyed_lines FROM TO: KEY:VALUE lines for kcat -K:, values with spaces,
# quotes, UTF-8 and JSON text.
keyed_lines() {
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++) printf "key-%d:value \"%d\" é {\"n\":%d}\n", i, i, i }'
}

# kcat's -J envelope in ours, without _cursor: headers ["n","v",...] become
# {"n":"v"}, a repeated name the array of its values.
KCAT_AS_OURS='{topic, partition, offset, timestamp: .ts, timestamp_type: .tstype, key, value: .payload,
	headers: ((.headers // []) as $h | reduce range(0; $h | length; 2) as $i ({};
		$h[$i] as $k | $h[$i + 1] as $v |
		if has($k) then .[$k] |= (if type == "array" then . + [$v] else [., $v] end) else .[$k] = $v end))}'

# new_topic NAME PARTITIONS: a topic of its own for one test.
new_topic() {
	kafka_cmd topic "$1" "$2"
}

# topic_of_tens NAME: a topic of two partitions holding 0 to 9 each.
topic_of_tens() {
	new_topic "$1" 2
	for p in 0 1; do
		seq 0 9 | kafka_produce "$1" -p "$p"
	done
}

@test "every field equals what kcat reads: keys, headers, repeated headers, null keys and values" {
	new_topic interop 4
	keyed_lines 1 100 | kafka_produce interop -K: -H run=1 -H dup=a -H dup=b
	keyed_lines 101 200 | kafka_produce interop -K: -H run=2 -H empty=
	keyed_lines 201 300 | kafka_produce interop
	printf 'tomb-%d:\n' 1 2 3 | kafka_produce interop -K: -Z
	printf ':no key %d\n' 1 2 3 | kafka_produce interop -K: -Z

	run --separate-stderr stream-read --exit-at-end "kafka://$KAFKA_BOOTSTRAP/interop"
	assert_status 0
	printf '%s\n' "$output" >got.json
	assert_equal "$(wc -l <got.json)" 306
	jq -S -c 'del(._cursor)' got.json | sort >got
	kafka_consume interop -J | jq -S -c "$KCAT_AS_OURS" | sort >want
	run diff want got
	assert_status 0
	# Every message's cursor names its topic, partition and offset.
	run jq -r 'select(._cursor != "kafka:interop:\(.partition):\(.offset)")' got.json
	assert_equal "$output" ""
	run jq -s -c '[.[].partition] | unique' got.json
	assert_equal "$output" "[0,1,2,3]"
	run jq -c 'select(.key == "tomb-1") | [.value, .headers]' got.json
	assert_equal "$output" '[null,{}]'
	run jq -c 'select(.key == "key-1") | .headers' got.json
	assert_equal "$output" '{"run":"1","dup":["a","b"]}'
}

@test "binary keys and values: escaped so the line is JSON, or base64 with --binary=base64" {
	new_topic binary 1
	printf 'k\xff\x01:v\xfe\xc3\x28ok\n' | kafka_produce binary -K:
	run --separate-stderr stream-read --exit-at-end "kafka://$KAFKA_BOOTSTRAP/binary"
	assert_status 0
	assert_equal "$(jq -c '[.key, .value]' <<<"$output")" '["kÿ\u0001","vþÃ(ok"]'
	run --separate-stderr stream-read --exit-at-end --binary=base64 "kafka://$KAFKA_BOOTSTRAP/binary"
	assert_status 0
	assert_equal "$(jq -r .key <<<"$output" | base64 -d | od -An -tx1 | tr -d ' ')" "6bff01"
	assert_equal "$(jq -r .value <<<"$output" | base64 -d | od -An -tx1 | tr -d ' ')" "76fec3286f6b"
	# kcat reads the same bytes.
	assert_equal "$(kafka_consume binary -f '%s' | od -An -tx1 | tr -d ' ')" "76fec3286f6b"
}

@test "--json embeds a value that is JSON text and leaves the others strings" {
	new_topic jsonvals 1
	printf '{"title":"a","n":1}\nnot json\n[1,2]\n' | kafka_produce jsonvals
	run --separate-stderr stream-read --exit-at-end --json "kafka://$KAFKA_BOOTSTRAP/jsonvals"
	assert_status 0
	assert_equal "$(jq -c .value <<<"$output")" '{"title":"a","n":1}
"not json"
[1,2]'
}

@test "--json --filter: jq gets what a pipe into jq gets, from realistic events and values that are not JSON" {
	new_topic wikif 3
	{
		"$SK_SRCDIR/scripts/wiki-events" 300
		printf 'not json\n[1,{"a":"\\u00e9"}]\n"s"\n{"big":12345678901234}\n'
	} | kafka_produce wikif
	filter_as_pipe '{partition, offset, v: .value, t: ((.value | objects | .title) // null)}' \
		--exit-at-end "kafka://$KAFKA_BOOTSTRAP/wikif"
	[ "$(wc -l <filtered)" -eq 304 ]
}

@test "--exit-at-end stops once every partition is at its end, empty ones included" {
	new_topic ending 4
	echo one | kafka_produce ending -p 2
	run --separate-stderr timeout 20 stream-read --exit-at-end "kafka://$KAFKA_BOOTSTRAP/ending"
	assert_status 0
	assert_equal "$(jq -r .value <<<"$output")" one
	new_topic empty 3
	run --separate-stderr timeout 20 stream-read --exit-at-end "kafka://$KAFKA_BOOTSTRAP/empty"
	assert_status 0
	assert_equal "$output" ""
}

@test "partition=P reads that partition only" {
	new_topic parts 4
	keyed_lines 1 100 | kafka_produce parts -K:
	run --separate-stderr stream-read --exit-at-end "kafka://$KAFKA_BOOTSTRAP/parts?partition=2"
	assert_status 0
	assert_equal "$(jq -s -c '[.[].partition] | unique' <<<"$output")" "[2]"
	assert_equal "$(jq -c '[.key, .value]' <<<"$output")" \
		"$(kafka_consume parts -p 2 -J | jq -c '[.key, .payload]')"
	run stream-read --exit-at-end "kafka://$KAFKA_BOOTSTRAP/parts?partition=4"
	assert_status 64
	assert_output_contains "partition=4"
}

@test "--from earliest, latest, an offset and -N per partition" {
	topic_of_tens from
	url="kafka://$KAFKA_BOOTSTRAP/from"
	values() { jq -r '"\(.partition):\(.value)"' | sort -t: -k1,1n -k2,2n | paste -sd' '; }

	run --separate-stderr stream-read --exit-at-end --from earliest "$url"
	assert_equal "$(values <<<"$output" | wc -w)" 20
	run --separate-stderr stream-read --exit-at-end --from latest "$url"
	assert_status 0
	assert_equal "$output" ""
	run --separate-stderr stream-read --exit-at-end --from 7 "$url"
	assert_equal "$(values <<<"$output")" "0:7 0:8 0:9 1:7 1:8 1:9"
	run --separate-stderr stream-read --exit-at-end --from -2 "$url"
	assert_equal "$(values <<<"$output")" "0:8 0:9 1:8 1:9"
	# The URL's offset= says the same when --from does not.
	run --separate-stderr stream-read --exit-at-end "$url?offset=-1"
	assert_equal "$(values <<<"$output")" "0:9 1:9"
}

@test "--from @MS asks for offsets for times (the test broker answers -1: the end)" {
	new_topic times 2
	seq 1 5 | kafka_produce times
	run --separate-stderr stream-read --exit-at-end --from @0 "kafka://$KAFKA_BOOTSTRAP/times"
	assert_status 0
	assert_equal "$output" ""
	# Started at the end, it reads what comes next.
	stream-read --count 1 --from @0 "kafka://$KAFKA_BOOTSTRAP/times" >next.out 2>next.err &
	reader=$!
	# Until it has found the end, what is produced is before its start:
	# produce until it has read one.
	wait_for 20 sh -c 'echo later | kcat -P -b "$KAFKA_BOOTSTRAP" -t times -p 0 && test -s next.out'
	wait "$reader"
	assert_equal "$(jq -r .value next.out)" later
}

@test "--from is refused when it makes no sense" {
	run stream-read --from soon "kafka://$KAFKA_BOOTSTRAP/events"
	assert_status 64
	assert_output_contains "invalid --from 'soon'"
	printf 'x\n' >in.txt
	run stream-read --exit-at-end --from 3 in.txt
	assert_status 64
	assert_output_contains "for kafka endpoints"
}

@test "resumes after the positions committed by stream-checkpoint commit" {
	new_topic resume 4
	keyed_lines 1 200 | kafka_produce resume -K:
	url="kafka://$KAFKA_BOOTSTRAP/resume"
	stream-read --name r --count 50 "$url" | stream-checkpoint commit r >first
	assert_equal "$(wc -l <first)" 50
	stream-read --name r --exit-at-end "$url" | stream-checkpoint commit r >second
	assert_equal "$(wc -l <second)" 150
	# Together, each message exactly once.
	assert_equal "$(cat first second | jq -r .key | sort)" "$(keyed_lines 1 200 | cut -d: -f1 | sort)"
	# Stored positions are the offsets of the last messages read.
	run stream-checkpoint show r
	assert_output_contains "kafka:resume"
	keyed_lines 201 210 | kafka_produce resume -K:
	run --separate-stderr stream-read --name r --exit-at-end "$url"
	assert_equal "$(jq -r .key <<<"$output" | sort)" "$(keyed_lines 201 210 | cut -d: -f1 | sort)"
	# A stored position wins over --from.
	run --separate-stderr stream-read --name r --exit-at-end --from earliest "$url"
	assert_equal "$(jq -r .key <<<"$output" | sort)" "$(keyed_lines 201 210 | cut -d: -f1 | sort)"
}

@test "-X, kafka.KEY settings and --kafka-config reach librdkafka; a bad one exits 78" {
	url="kafka://$KAFKA_BOOTSTRAP/events"
	run --separate-stderr stream-read --exit-at-end -X no.such.setting=1 "$url"
	assert_status 78
	assert_equal "$stderr" "stream-read: $url: -X no.such.setting: unknown property"
	run --separate-stderr stream-read --exit-at-end -X fetch.wait.max.ms=abc "$url"
	assert_status 78
	run stream-read --exit-at-end -X noequals "$url"
	assert_status 78
	assert_output_contains "expected KEY=VALUE"
	# A good one is taken: debug output is librdkafka's own, on stderr.
	run --separate-stderr stream-read --exit-at-end -X debug=metadata "$url"
	assert_status 0
	[[ $stderr == *METADATA* ]]

	printf '# librdkafka settings\n\nsasl.password = s3cret\nno.such.key=1\n' >client.properties
	run stream-read --exit-at-end -F client.properties "$url"
	assert_status 78
	assert_output_contains "client.properties:4: no.such.key: unknown property"
	[[ $output != *s3cret* ]]
	run --separate-stderr stream-read --exit-at-end --kafka-config nosuch.properties "$url"
	assert_status 78

	printf '[ev]\nurl = %s\nkafka.no.such.thing = 1\n' "$url" >"$STREAMKIT_ENDPOINTS"
	run stream-read --exit-at-end ev
	assert_status 78
	assert_output_contains "kafka.no.such.thing"
	printf '[ev]\nurl = %s\nkafka.client.id = mine\n' "$url" >"$STREAMKIT_ENDPOINTS"
	run --separate-stderr stream-read --exit-at-end ev
	assert_status 0
}

@test "a topic the brokers do not know exits 69 naming it" {
	# The test broker creates any topic a client asks about, unless told
	# to answer that it does not exist.
	kafka_cmd topic-error missing UNKNOWN_TOPIC_OR_PART
	url="kafka://$KAFKA_BOOTSTRAP/missing"
	run --separate-stderr timeout 30 stream-read --exit-at-end "$url"
	assert_status 69
	assert_equal "$output" ""
	assert_equal "$stderr" "stream-read: $url: topic missing does not exist"
	# Any other broker error on the topic is named too.
	kafka_cmd topic-error missing TOPIC_AUTHORIZATION_FAILED
	run --separate-stderr timeout 30 stream-read --exit-at-end "$url"
	assert_status 69
	assert_equal "$stderr" "stream-read: $url: topic missing: Broker: Topic authorization failed"
	# Once the broker knows it, the same command reads it.
	kafka_cmd topic-error missing none
	run --separate-stderr timeout 30 stream-read --exit-at-end "$url"
	assert_status 0
	assert_equal "$output" ""
}

# --- more of --from and --exit-at-end in assign mode ---

# values: "PARTITION:VALUE" of each envelope on stdin, sorted, on one line.
values() {
	jq -r '"\(.partition):\(.value)"' | sort -t: -k1,1n -k2,2n | paste -sd' '
}

@test "--from latest reads only what is produced after the start" {
	new_topic fromlatest 2
	seq 1 5 | kafka_produce fromlatest -p 0
	stream-read --count 1 --from latest "kafka://$KAFKA_BOOTSTRAP/fromlatest" >next.out 2>next.err 3>&- &
	reader=$!
	# Until it has found the end, what is produced is before its start:
	# produce until it has read one.
	wait_for 20 sh -c 'echo later | kcat -P -b "$KAFKA_BOOTSTRAP" -t fromlatest -p 1 && test -s next.out'
	wait "$reader"
	assert_equal "$(jq -r .value next.out)" later
}

@test "--from on the command line wins over the URL's offset=; a bad offset= is a usage error" {
	topic_of_tens fromboth
	url="kafka://$KAFKA_BOOTSTRAP/fromboth"
	run --separate-stderr stream-read --exit-at-end --from 8 "$url?offset=-1"
	assert_status 0
	assert_equal "$(values <<<"$output")" "0:8 0:9 1:8 1:9"
	run --separate-stderr stream-read --exit-at-end "$url?offset=soon"
	assert_status 64
	assert_equal "$stderr" "stream-read: $url?offset=soon: offset=soon: invalid --from 'soon' (expected earliest or beginning, latest or end, an offset, -N, @MS or s@MS)"
}

@test "--from -N with more than a partition holds starts at its beginning; with partition=P, that partition only" {
	new_topic fromtail 2
	seq 0 4 | kafka_produce fromtail -p 0
	seq 0 9 | kafka_produce fromtail -p 1
	url="kafka://$KAFKA_BOOTSTRAP/fromtail"
	run --separate-stderr stream-read --exit-at-end --from -7 "$url"
	assert_status 0
	assert_equal "$(values <<<"$output")" "0:0 0:1 0:2 0:3 0:4 1:3 1:4 1:5 1:6 1:7 1:8 1:9"
	run --separate-stderr stream-read --exit-at-end --from -2 "$url?partition=1"
	assert_status 0
	assert_equal "$(values <<<"$output")" "1:8 1:9"
	run --separate-stderr stream-read --exit-at-end --from 3 "$url?partition=0"
	assert_status 0
	assert_equal "$(values <<<"$output")" "0:3 0:4"
}

@test "a stored position wins over --from @MS, -N and an offset" {
	new_topic fromstored 1
	seq 0 9 | kafka_produce fromstored
	url="kafka://$KAFKA_BOOTSTRAP/fromstored"
	stream-checkpoint set r kafka:fromstored:0:6
	# The test broker answers offsets for times with the end: without the
	# stored position this would read nothing.
	for from in @0 -1 2 latest; do
		run --separate-stderr stream-read --name r --exit-at-end --from "$from" "$url"
		assert_status 0
		assert_equal "$(values <<<"$output")" "0:7 0:8 0:9"
	done
	# Only the partitions without one start where --from says.
	new_topic fromsome 2
	for p in 0 1; do
		seq 0 4 | kafka_produce fromsome -p "$p"
	done
	stream-checkpoint set r kafka:fromsome:1:1
	run --separate-stderr stream-read --name r --exit-at-end --from -1 "kafka://$KAFKA_BOOTSTRAP/fromsome"
	assert_status 0
	assert_equal "$(values <<<"$output")" "0:4 1:2 1:3 1:4"
}

@test "--exit-at-end with every partition read to its end: stops at once, printing nothing" {
	new_topic caughtup 3
	for p in 0 1 2; do
		seq 1 3 | kafka_produce caughtup -p "$p"
	done
	url="kafka://$KAFKA_BOOTSTRAP/caughtup"
	stream-read --name r --exit-at-end "$url" | stream-checkpoint commit r >first
	assert_equal "$(wc -l <first)" 9
	run --separate-stderr timeout 20 stream-read --name r --exit-at-end "$url"
	assert_status 0
	assert_equal "$output" ""
	# Messages that came since are read, then it stops again.
	echo more | kafka_produce caughtup -p 1
	run --separate-stderr timeout 20 stream-read --name r --exit-at-end "$url"
	assert_status 0
	assert_equal "$(values <<<"$output")" "1:more"
}

@test "an offset past a partition's end reads it from its start; with -X auto.offset.reset=latest, from its end" {
	topic_of_tens frompast
	url="kafka://$KAFKA_BOOTSTRAP/frompast"
	run --separate-stderr stream-read --exit-at-end --from 50 "$url"
	assert_status 0
	assert_equal "$(values <<<"$output" | wc -w)" 20
	run --separate-stderr stream-read --exit-at-end --from 50 -X auto.offset.reset=latest "$url"
	assert_status 0
	assert_equal "$output" ""
}

@test "brokers that do not answer: stream-read says at once, once, which it waits for and how long, then fails as before" {
	# Port 1 on loopback: nothing listens, every connection is refused.
	stream-read --exit-at-end kafka://127.0.0.1:1/events >read.out 2>read.err 3>&- &
	local reader=$! start=$SECONDS
	wait_for 5 grep -q . read.err
	assert_equal "$(cat read.err)" "stream-read: waiting for brokers 127.0.0.1:1 (topic events) to answer, for up to 30 s"
	kill -0 "$reader"
	status=0
	wait "$reader" || status=$?
	assert_status 69
	((SECONDS - start >= 29))
	assert_equal "$(cat read.err)" "stream-read: waiting for brokers 127.0.0.1:1 (topic events) to answer, for up to 30 s
stream-read: kafka://127.0.0.1:1/events: brokers 127.0.0.1:1 not reachable for 30 s: Local: Broker transport failure"
	assert_equal "$(cat read.out)" ""
}

@test "brokers that answer: no word of waiting, even with -v" {
	run --separate-stderr stream-read -v --exit-at-end --count 1 "kafka://$KAFKA_BOOTSTRAP/events"
	assert_status 0
	[[ $stderr != *"waiting for brokers"* ]]
}
