#!/usr/bin/env bats
# kafka-write.bats - stream-write kafka://…: rows become messages, read back
# with kcat field by field (values, keys, headers, partitions, timestamps,
# tombstones); cursors committed only after delivery; --sync; settings and
# bad expressions.

load helpers/common
load helpers/kafka

# new_topic NAME PARTITIONS: a topic of its own for one test.
new_topic() {
	kafka_cmd topic "$1" "$2"
}

# read_back TOPIC: kcat's envelopes, as {partition, ts, key, payload, headers}, sorted.
read_back() {
	kafka_consume "$1" -J | jq -S -c '{partition, ts, key, payload, headers}' | sort
}

@test "each row is one message: the row without _cursor as compact JSON text" {
	new_topic plain 4
	printf '%s\n' '{"a": 1, "b": "é x", "_cursor": "f:0:1"}' '{"c":[1, 2], "_cursor":"f:0:2"}' '{"d":null}' >in
	run --separate-stderr stream-write "kafka://$KAFKA_BOOTSTRAP/plain" <in
	assert_status 0
	run kafka_consume plain -J
	printf '%s\n' "$output" | jq -r '.payload' | sort >got
	printf '%s\n' '{"a":1,"b":"é x"}' '{"c":[1,2]}' '{"d":null}' | sort >want
	run diff want got
	assert_status 0
	run kafka_consume plain -J
	printf '%s\n' "$output" | jq -c '[.key, .headers]' | sort -u >got
	assert_equal "$(cat got)" '[null,null]'
}

@test "--key, --header, --partition and --timestamp from jq expressions; every field as kcat reads it" {
	new_topic fields 4
	for i in 1 2 3 4 5 6 7 8; do
		printf '{"id":"k-%d","n":%d,"p":%d,"ts":%d,"who":{"name":"n%d"},"_cursor":"f:0:%d"}\n' \
			"$i" "$i" $((i % 4)) $((1700000000000 + i)) "$i" "$i"
	done >in
	run --separate-stderr stream-write --key .id --partition .p --timestamp .ts \
		--header 'name=.who.name' --header 'n=.n' --header 'missing=.nope' \
		"kafka://$KAFKA_BOOTSTRAP/fields" <in
	assert_status 0
	read_back fields >got
	jq -S -c '{partition: .p, ts, key: .id, payload: (del(._cursor) | tojson),
		headers: ["name", .who.name, "n", (.n | tostring), "missing", null]}' in | sort >want
	run diff want got
	assert_status 0
}

@test "--value: a string as its bytes, anything else as JSON text, null a tombstone" {
	new_topic values 1
	printf '%s\n' '{"k":"s","v":"plain text"}' '{"k":"o","v":{"x":1}}' '{"k":"n","v":3}' \
		'{"k":"t","v":null}' '{"k":"m"}' >in
	run --separate-stderr stream-write --key .k --value .v "kafka://$KAFKA_BOOTSTRAP/values" <in
	assert_status 0
	run kafka_consume values -J
	printf '%s\n' "$output" | jq -c '[.key, .payload]' >got
	printf '%s\n' '["s","plain text"]' '["o","{\"x\":1}"]' '["n","3"]' '["t",null]' '["m",null]' >want
	run diff want got
	assert_status 0
}

@test "--schema coerces rows before they are sent; a string value keeps its bytes, NUL included" {
	new_topic coerced 1
	printf '%s\n' '{"id":"7","v":"a\u0000b","k":"é"}' >in
	run --separate-stderr stream-write --schema '[{"name":"id","type":"bigint"},{"name":"v","type":"string"},{"name":"k","type":"string"}]' \
		"kafka://$KAFKA_BOOTSTRAP/coerced" <in
	assert_status 0
	run --separate-stderr stream-write --key .k --value .v "kafka://$KAFKA_BOOTSTRAP/coerced" <in
	assert_status 0
	run kafka_consume coerced -J
	printf '%s\n' "$output" | jq -c '[.key, .payload]' >got
	printf '%s\n' '[null,"{\"id\":7,\"v\":\"a\\u0000b\",\"k\":\"é\"}"]' '["é","a\u0000b"]' >want
	run diff want got
	assert_status 0
}

@test "cursors are committed once the rows are delivered" {
	new_topic committed 2
	seq_ndjson 500 | jq -c '. + {_cursor: "src:0:\(.n)"}' >in
	run --separate-stderr stream-write --name r --checkpoint-rows 100 "kafka://$KAFKA_BOOTSTRAP/committed" <in
	assert_status 0
	assert_equal "$(state_sql "SELECT source, partition, position FROM positions WHERE name = 'r'")" "src|0|500"
	assert_equal "$(kafka_count committed)" 500
}

@test "a delivery that cannot succeed: non-zero exit, a message naming the topic, the position not advanced" {
	new_topic failing 1
	printf '{"n":1,"_cursor":"src:0:1"}\n' | stream-write --name r "kafka://$KAFKA_BOOTSTRAP/failing"
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 1
	kafka_cmd down all
	run --separate-stderr stream-write --name r -X message.timeout.ms=1000 "kafka://$KAFKA_BOOTSTRAP/failing" \
		< <(printf '{"n":2,"_cursor":"src:0:2"}\n')
	kafka_cmd up all
	assert_status 75
	assert_equal "$stderr" "stream-write: waiting for brokers $KAFKA_BOOTSTRAP (topic failing) to answer, for up to 1 s
stream-write: topic failing: delivery failed: Local: Message timed out"
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 1
	# Once the brokers are back, the same rows go through.
	run --separate-stderr stream-write --name r "kafka://$KAFKA_BOOTSTRAP/failing" \
		< <(printf '{"n":2,"_cursor":"src:0:2"}\n')
	assert_status 0
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 2
}

@test "--sync delivers each row before reading the next: a failure stops at the first row" {
	new_topic synced 1
	seq_ndjson 50 | jq -c '. + {_cursor: "src:0:\(.n)"}' >in
	run --separate-stderr stream-write --sync --name r "kafka://$KAFKA_BOOTSTRAP/synced" <in
	assert_status 0
	assert_equal "$(kafka_count synced)" 50
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 50
	kafka_cmd down all
	# The input never ends: only a delivery failure can end the run.
	run timeout 20 stream-write --sync --name r -X message.timeout.ms=1000 \
		"kafka://$KAFKA_BOOTSTRAP/synced" < <(printf '{"n":51,"_cursor":"src:0:51"}\n'; exec sleep 30)
	kafka_cmd up all
	assert_status 75
	assert_output_contains "topic synced: delivery failed"
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 50
}

@test "a partition the topic does not have: exit 65 naming it" {
	new_topic twoparts 2
	run --separate-stderr stream-write --partition .p "kafka://$KAFKA_BOOTSTRAP/twoparts" < <(echo '{"p":7}')
	assert_status 65
	# Refused at once (the row is bad), or by its delivery report.
	[[ $stderr == "stream-write: <stdin>:1: topic twoparts has no partition 7" ||
	   $stderr == "stream-write: topic twoparts has no partition 7" ]]
	run --separate-stderr stream-write --partition .p "kafka://$KAFKA_BOOTSTRAP/twoparts" < <(echo '{"p":"x"}')
	assert_status 65
	assert_equal "$stderr" "stream-write: <stdin>:1: --partition: expected an integer, got string"
}

@test "a row an expression fails on is a bad row: --on-error skips it, its cursor committed" {
	new_topic badrows 1
	printf '%s\n' '{"k":"a","_cursor":"src:0:1"}' '{"k":{"x":1},"_cursor":"src:0:2"}' '{"k":"c","_cursor":"src:0:3"}' >in
	run --separate-stderr stream-write --name r --on-error skip --key '.k | ascii_downcase' \
		"kafka://$KAFKA_BOOTSTRAP/badrows" <in
	assert_status 0
	assert_equal "$(printf '%s\n' "$stderr" | head -n 1)" \
		"stream-write: <stdin>:2: --key: jq: error: explode input must be a string"
	assert_equal "$(kafka_consume badrows -f '%k\n' | tr '\n' ' ')" "a c "
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 3
}

@test "bad expressions exit 64 with jq's message, before anything is sent" {
	for opt in --key --value --partition --timestamp; do
		run --separate-stderr stream-write "$opt" '.[' "kafka://$KAFKA_BOOTSTRAP/events" </dev/null
		assert_status 64
		[[ $stderr == "stream-write: kafka://$KAFKA_BOOTSTRAP/events: $opt: jq: error: syntax error"* ]]
	done
	run --separate-stderr stream-write --header 'h=.[' "kafka://$KAFKA_BOOTSTRAP/events" </dev/null
	assert_status 64
	[[ $stderr == "stream-write: kafka://$KAFKA_BOOTSTRAP/events: --header h: jq: error: syntax error"* ]]
	run --separate-stderr stream-write --header 'noexpr' "kafka://$KAFKA_BOOTSTRAP/events" </dev/null
	assert_status 64
	assert_equal "$stderr" "stream-write: kafka://$KAFKA_BOOTSTRAP/events: --header 'noexpr': expected NAME=EXPR"
	run stream-write --key .a out.ndjson </dev/null
	assert_status 64
	assert_output_contains "--key is an option of kafka endpoints"
}

@test "--compression, -X, kafka.KEY settings and --kafka-config reach librdkafka; a bad one exits 78" {
	new_topic squeezed 1
	url="kafka://$KAFKA_BOOTSTRAP/squeezed"
	seq_ndjson 20 | stream-write --compression gzip "$url"
	seq_ndjson 20 21 | stream-write --compression zstd -X linger.ms=1 "$url"
	assert_equal "$(kafka_count squeezed)" 40
	run stream-write --compression bogus "$url" </dev/null
	assert_status 78
	assert_output_contains '--compression: compression.codec: invalid value (expected one of none, gzip, snappy, lz4, zstd)'
	[[ $output != *bogus* ]]
	run --separate-stderr stream-write -X no.such.setting=1 "$url" </dev/null
	assert_status 78
	assert_equal "$stderr" "stream-write: $url: -X no.such.setting: unknown property"
	printf 'sasl.password = s3cret\nno.such.key=1\n' >client.properties
	run stream-write -F client.properties "$url" </dev/null
	assert_status 78
	assert_output_contains "client.properties:2: no.such.key: unknown property"
	[[ $output != *s3cret* ]]
	printf '[sq]\nurl = %s\nkafka.no.such.thing = 1\n' "$url" >"$STREAMKIT_ENDPOINTS"
	run stream-write sq </dev/null
	assert_status 78
	assert_output_contains "kafka.no.such.thing"
	printf '[sq]\nurl = %s\nkafka.client.id = mine\n' "$url" >"$STREAMKIT_ENDPOINTS"
	seq_ndjson 5 | stream-write sq
	assert_equal "$(kafka_count squeezed)" 45
}

@test "the producer is idempotent unless a setting says otherwise" {
	new_topic idem 1
	run --separate-stderr stream-write -X debug=eos "kafka://$KAFKA_BOOTSTRAP/idem" < <(echo '{"a":1}')
	assert_status 0
	[[ $stderr == *"Idempotent producer state change"* ]]
	run --separate-stderr stream-write -X enable.idempotence=false -X debug=eos "kafka://$KAFKA_BOOTSTRAP/idem" < <(echo '{"a":1}')
	assert_status 0
	[[ $stderr != *"Idempotent producer"* ]]
	assert_equal "$(kafka_count idem)" 2
}

@test "the endpoint must name one topic to write to" {
	run --separate-stderr stream-write "kafka://$KAFKA_BOOTSTRAP/" </dev/null
	assert_status 64
	run stream-write "kafka://$KAFKA_BOOTSTRAP/events?partition=1" </dev/null
	assert_status 64
	assert_output_contains "partition=, offset= and group= are for reading"
}

@test "--arg and --argjson reach --key, --value, --partition, --timestamp, --header and --headers" {
	new_topic args 4
	printf '%s\n' '{"id":"a","n":1}' '{"id":"b","n":2}' >in
	run --separate-stderr stream-write --arg pre k- --argjson p 3 --argjson t 1700000000000 --arg run r7 \
		--key '$pre + .id' --value '{n, run: $run}' --partition '$p' --timestamp '$t + .n' \
		--header 'run=$run' --headers '{src: $pre}' "kafka://$KAFKA_BOOTSTRAP/args" <in
	assert_status 0
	read_back args >got
	printf '%s\n' \
		'{"headers":["src","k-","run","r7"],"key":"k-a","partition":3,"payload":"{\"n\":1,\"run\":\"r7\"}","ts":1700000000001}' \
		'{"headers":["src","k-","run","r7"],"key":"k-b","partition":3,"payload":"{\"n\":2,\"run\":\"r7\"}","ts":1700000000002}' >want
	run diff want got
	assert_status 0
	run --separate-stderr stream-write --arg x 1 out.ndjson </dev/null
	assert_status 64
	assert_equal "$stderr" "$(printf '%s\n' "stream-write: --arg and --argjson need --map, --key, --value, --partition, --timestamp, --header, --headers, --group-id, --deduplication-id, --delay or --attributes" \
		"usage: stream-write [options] ENDPOINT (see --help)")"
}

@test "--headers: an object of headers, a repeated name as the array of its values, null a null header" {
	new_topic hdrs 1
	printf '%s\n' '{"h":{"a":"1","dup":["x","y",null],"nul":null,"num":5},"_cursor":"f:0:1"}' \
		'{"h":{}}' '{"h":null}' >in
	run --separate-stderr stream-write --headers .h "kafka://$KAFKA_BOOTSTRAP/hdrs" <in
	assert_status 0
	run kafka_consume hdrs -J
	printf '%s\n' "$output" | jq -c '.headers' >got
	printf '%s\n' '["a","1","dup","x","dup","y","dup",null,"nul",null,"num","5"]' null null >want
	run diff want got
	assert_status 0
	run --separate-stderr stream-write --headers .h "kafka://$KAFKA_BOOTSTRAP/hdrs" < <(echo '{"h":[1]}')
	assert_status 65
	assert_equal "$stderr" "stream-write: <stdin>:1: --headers: expected an object (NAME: value or [values]), got array"
}

@test "--binary=base64: key and value strings are sent decoded; bad base64 is a bad row" {
	new_topic b64 1
	# \xff\x00\x80 and "k\xfe"
	printf '%s\n' '{"k":"a/4=","v":"/wCA","_cursor":"f:0:1"}' '{"k":null,"v":{"o":1},"_cursor":"f:0:2"}' >in
	run --separate-stderr stream-write --name r --binary=base64 --key .k --value .v "kafka://$KAFKA_BOOTSTRAP/b64" <in
	assert_status 0
	kafka_consume b64 -f '%k|%s\n' | od -An -c | tr -s ' ' >got
	printf 'k\376|\377\000\200\n|{"o":1}\n' | od -An -c | tr -s ' ' >want
	run diff want got
	assert_status 0
	printf '%s\n' '{"k":"eA==","v":"not base64!","_cursor":"f:0:3"}' '{"k":"eA==","v":"QQ==","_cursor":"f:0:4"}' >bad
	run --separate-stderr stream-write --name r --binary=base64 --key .k --value .v "kafka://$KAFKA_BOOTSTRAP/b64" <bad
	assert_status 65
	assert_equal "$stderr" "stream-write: <stdin>:1: --value: not base64 (--binary=base64)"
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 2
	run --separate-stderr stream-write --name r --on-error skip --binary=base64 --key .k --value .v \
		"kafka://$KAFKA_BOOTSTRAP/b64" <bad
	assert_status 0
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 4
	assert_equal "$(kafka_consume b64 -f '%s\n' | tail -n 1)" A
	run stream-write --binary=hex "kafka://$KAFKA_BOOTSTRAP/b64" </dev/null
	assert_status 64
}

# position_is POSITION: the position committed under the name r.
position_is() {
	[ "$(state_sql "SELECT position FROM positions WHERE name = 'r'" 2>/dev/null)" = "$1" ]
}

@test "a quiet stream's rows are committed once delivered, without more input" {
	new_topic quiet 2
	mkfifo in
	exec 4<>in
	stream-write --name r --checkpoint-rows 2 --checkpoint-interval 0 "kafka://$KAFKA_BOOTSTRAP/quiet" <in 2>err 3>&- 4>&- &
	pid=$!
	seq_ndjson 2 | jq -c '. + {_cursor: "src:0:\(.n)"}' >&4
	wait_for 10 position_is 2
	exec 4>&-
	wait "$pid"
	assert_equal "$(kafka_count quiet)" 2
}

# writer_waits PID: stream-write's input ended (its reading thread is gone)
# and its main thread sleeps: it waits for delivery reports.
writer_waits() {
	local t n=0
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = stream-write ] && n=$((n + 1))
	done
	[ "$n" -eq 1 ] && [ "$(cut -d ' ' -f 3 "/proc/$1/stat")" = S ]
}

@test "a stop signal while waiting for delivery reports: 75 after a bound, at once at a second signal, nothing committed" {
	new_topic stopped 1
	kafka_cmd down all
	seq_ndjson 3 | jq -c '. + {_cursor: "src:0:\(.n)"}' >in
	stream-write --name r -X message.timeout.ms=60000 "kafka://$KAFKA_BOOTSTRAP/stopped" <in 2>err 3>&- &
	pid=$!
	# It says first that it waits for the brokers (after a look at them,
	# asleep as well).
	wait_for 10 grep -q 'waiting for brokers' err
	wait_for 10 writer_waits "$pid"
	kill -TERM "$pid"
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 75
	assert_equal "$(cat err)" "stream-write: waiting for brokers $KAFKA_BOOTSTRAP (topic stopped) to answer, for up to 60 s
stream-write: topic stopped: stopped with 3 messages not confirmed delivered; the cursors of their rows are not committed"
	stream-write --name r -X message.timeout.ms=60000 "kafka://$KAFKA_BOOTSTRAP/stopped" <in 2>err 3>&- &
	pid=$!
	wait_for 10 grep -q 'waiting for brokers' err
	wait_for 10 writer_waits "$pid"
	start=$SECONDS
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	kafka_cmd up all
	assert_equal "$status" 75
	# The bound is 5 s (stream-write(1)).
	((SECONDS - start >= 4 && SECONDS - start <= 8))
	assert_equal "$(state_sql "SELECT count(*) FROM positions WHERE name = 'r'")" 0
}

@test "brokers that do not answer: stream-write says at once, once, which it waits for and how long, then fails as before" {
	# Port 1 on loopback: nothing listens, every connection is refused.
	run --separate-stderr stream-write -X message.timeout.ms=2500 kafka://127.0.0.1:1/events < <(seq_ndjson 3)
	assert_status 75
	assert_equal "$stderr" "stream-write: waiting for brokers 127.0.0.1:1 (topic events) to answer, for up to 3 s
stream-write: topic events: delivery failed: Local: Message timed out"
	# -q silences the warning, not the error.
	run --separate-stderr stream-write -q -X message.timeout.ms=500 kafka://127.0.0.1:1/events < <(seq_ndjson 1)
	assert_status 75
	assert_equal "$stderr" "stream-write: topic events: delivery failed: Local: Message timed out"
	# With no bound, it says so.
	stream-write -X message.timeout.ms=0 kafka://127.0.0.1:1/events < <(seq_ndjson 1) 2>write.err 3>&- &
	local writer=$!
	wait_for 5 grep -q . write.err
	assert_equal "$(cat write.err)" "stream-write: waiting for brokers 127.0.0.1:1 (topic events) to answer, without end (message.timeout.ms=0)"
	kill -TERM "$writer"
	wait "$writer" || true
}

@test "brokers that answer: stream-write says nothing of waiting" {
	run --separate-stderr stream-write "kafka://$KAFKA_BOOTSTRAP/events" < <(seq_ndjson 3)
	assert_status 0
	assert_equal "$stderr" ""
}

@test "rows shaped like real events (nesting, unicode, escapes): each message is the row less _cursor, as the slow path writes it" {
	new_topic rcfast 4
	new_topic rcslow 4
	"$SK_SRCDIR/scripts/wiki-events" 2000 |
		awk '{ printf "%s,\"_cursor\":\"f:0:%d\"}\n", substr($0, 1, length($0) - 1), NR }' >in
	# a space after the brace takes the slow path: parse, serialise
	sed 's/^{/{ /' in >slow
	stream-write "kafka://$KAFKA_BOOTSTRAP/rcfast" <in
	stream-write "kafka://$KAFKA_BOOTSTRAP/rcslow" <slow
	kafka_consume rcfast -f '%s\n' | sort >fast.got
	kafka_consume rcslow -f '%s\n' | sort >slow.got
	assert_equal "$(wc -l <fast.got)" 2000
	cmp fast.got slow.got
	# the events' own text, byte for byte
	"$SK_SRCDIR/scripts/wiki-events" 2000 | sort | cmp - fast.got
}
