#!/usr/bin/env bats
# sqs-write.bats - stream-write sqs+…: rows become SQS messages, read back
# with the AWS SDK (tests/helpers/sqs-client.js) field by field: bodies,
# message attributes of each type, FIFO group and deduplication ids, delays;
# bad rows (over the queue's MaximumMessageSize, a FIFO row without a
# group); batches; cursors committed only after the sends succeeded; a
# server that is not there.

load helpers/common
load helpers/sqs

setup_file() {
	sqs_start
}

teardown_file() {
	sqs_stop
}

setup() {
	setup_scratch
	sqs_need
	export AWS_ACCESS_KEY_ID=AKIDSQSWRITETEST AWS_SECRET_ACCESS_KEY=sqs-write-test-secret AWS_REGION=us-east-1
	export AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_REGION
}

# bodies FILE: the bodies received (FILE of sqs-client receive), parsed
# and written again by jq, sorted.
bodies() {
	jq -c '.body | fromjson' "$1" | sort
}

# rows FILE: the rows of FILE without _cursor, as jq writes them, sorted.
rows() {
	jq -c 'del(._cursor)' "$1" | sort
}

@test "each row is one message: the row without _cursor as JSON text, unicode and every JSON escape kept" {
	local url
	url=$(sqs_create w-plain)
	{
		printf '%s\n' '{"a":1,"s":"\"q\" \\ \/ \b\f\n\r\t \u0001\u001f é € 😀 \u2028 end","_cursor":"f:0:1"}'
		printf '%s\n' '{"nested":{"x":[1,2.5,null,true]},"big":12345678901234567890,"_cursor":"f:0:2"}'
		printf '%s\n' '[{"b":"one"},{"b":"two"}]'
	} >in
	run stream-write "sqs+$url" <in
	assert_status 0
	sqs_receive_n "$url" 4 got
	{ head -n 2 in; jq -c '.[]' <(tail -n 1 in); } >want
	assert_equal "$(bodies got)" "$(rows want)"
	# the body is compact JSON text, with no _cursor
	assert_equal "$(jq -r .body got | grep -c '_cursor')" 0
	assert_equal "$(jq -r .body got | grep -c ': ')" 0
}

@test "bodies of 200 KiB and of 1 MiB arrive whole" {
	local url
	url=$(sqs_create w-big MaximumMessageSize=1048576)
	# 270,008 and 1,026,008 bytes of JSON text: each a batch of its own
	python3 -c 'import json
for n, c in ((15000, "f:0:1"), (57000, "f:0:2")):
    print(json.dumps({"s": "é😀\"\\\n\t abc" * n, "_cursor": c}, ensure_ascii=False))' >in
	run stream-write "sqs+$url" <in
	assert_status 0
	sqs_receive_n "$url" 2 got
	assert_equal "$(jq -r '.body | utf8bytelength' got | sort -n | tr '\n' ' ')" "270008 1026008 "
	assert_equal "$(bodies got)" "$(rows in)"
}

@test "--value: a string is the body as it is, anything else its JSON text" {
	local url
	url=$(sqs_create w-value)
	printf '%s\n' '{"v":"plain text é"}' '{"v":{"x":1}}' '{"v":3}' >in
	run stream-write --value .v "sqs+$url" <in
	assert_status 0
	sqs_receive_n "$url" 3 got
	assert_equal "$(jq -r .body got | sort)" "$(printf '%s\n' '3' 'plain text é' '{"x":1}' | sort)"
}

@test "--attributes: String, Number and Binary attributes, custom types included, arrive as the SDK reads them" {
	local url
	url=$(sqs_create w-attrs)
	printf '%s\n' '{"n":1,"who":"ann é"}' '{"n":2.5,"who":"bob\n"}' >in
	run stream-write --attributes '{who, n, raw: {type: "Binary", value: "AAEC/f7/"},
		kind: {type: "String.custom", value: "k"}, id: {type: "Number.int", value: "42"}, none: null}' \
		"sqs+$url" <in
	assert_status 0
	sqs_receive_n "$url" 2 got
	jq -S -c '[(.body | fromjson | .n), .message_attributes]' got | sort >got.attrs
	jq -S -c '[.n, {who: {type: "String", value: .who}, n: {type: "Number", value: (.n | tostring)},
		raw: {type: "Binary", value: "AAEC/f7/"}, kind: {type: "String.custom", value: "k"},
		id: {type: "Number.int", value: "42"}}]' in | sort >want.attrs
	assert_equal "$(cat got.attrs)" "$(cat want.attrs)"
}

@test "attributes SQS would refuse make bad rows, named, before anything is sent" {
	local url
	url=$(sqs_create w-bad-attrs)
	printf '%s\n' '{"a":{"ok":"x"}}' '{"a":{"bad name":"x"}}' '{"a":{"e":""}}' '{"a":{"b":{"type":"Binary","value":"%%"}}}' \
		'{"a":[1]}' '{"a":{"t":{"type":"Text","value":"x"}}}' >in
	run --separate-stderr stream-write --on-error=skip --attributes .a "sqs+$url" <in
	assert_status 0
	[[ "$stderr" == *"<stdin>:2: --attributes: the name \"bad name\" holds a character SQS does not take"* ]]
	[[ "$stderr" == *"<stdin>:3: --attributes: e: an empty value"* ]]
	[[ "$stderr" == *"<stdin>:4: --attributes: b: a Binary value is its bytes in base64"* ]]
	[[ "$stderr" == *"<stdin>:5: --attributes: expected an object"* ]]
	[[ "$stderr" == *"<stdin>:6: --attributes: t: the type \"Text\" is none of String, Number and Binary"* ]]
	[[ "$stderr" == *"skipped 5 bad rows"* ]]
	sqs_receive_n "$url" 1 got
	assert_equal "$(jq -c .message_attributes got)" '{"ok":{"type":"String","value":"x"}}'
}

@test "FIFO: group and deduplication ids from expressions, each group's order kept" {
	local url
	url=$(sqs_create w-order.fifo FifoQueue=true)
	awk 'BEGIN { for (i = 1; i <= 30; i++) printf "{\"g\":\"g%d\",\"n\":%d}\n", i % 3, i }' >in
	# a row sent again with the same deduplication id is not a second message
	head -n 1 in >>in
	run stream-write --group-id .g --deduplication-id '"d-\(.n)"' "sqs+$url" <in
	assert_status 0
	sqs_drain "$url" 30 got
	assert_equal "$(wc -l <got)" 30
	local g
	for g in g0 g1 g2; do
		assert_equal "$(jq -c --arg g "$g" 'select(.attributes.MessageGroupId == $g) | .body | fromjson | .n' got | tr '\n' ' ')" \
			"$(jq -c --arg g "$g" 'select(.g == $g) | .n' <(head -n 30 in) | tr '\n' ' ')"
	done
	assert_equal "$(jq -r '.attributes.MessageDeduplicationId' got | sort -u | wc -l)" 30
	sqs_queue_empty "$url"
}

@test "FIFO: a row without a group id is a bad row; so is a delay; content-based deduplication needs no id" {
	local url
	url=$(sqs_create w-nogroup.fifo FifoQueue=true ContentBasedDeduplication=true)
	printf '%s\n' '{"g":"a","n":1}' '{"n":2}' '{"g":"a","n":3,"d":5}' '{"g":"a","n":4}' >in
	run --separate-stderr stream-write --on-error=skip --group-id .g --delay .d "sqs+$url" <in
	assert_status 0
	[[ "$stderr" == *"<stdin>:2: a message to a FIFO queue needs a group id (--group-id): the expression gave none"* ]]
	[[ "$stderr" == *"<stdin>:3: --delay: FIFO queues take no delay per message"* ]]
	[[ "$stderr" == *"skipped 2 bad rows"* ]]
	sqs_drain "$url" 2 got
	assert_equal "$(jq -c '.body | fromjson | .n' got | tr '\n' ' ')" '1 4 '
	# without --group-id at all, the first row fails the run (65), naming its line
	run --separate-stderr stream-write "sqs+$url" <in
	assert_status 65
	[[ "$stderr" == *"<stdin>:1: a message to a FIFO queue needs a group id (--group-id)"* ]]
}

@test "--delay: a message is not received before its delay" {
	local url
	url=$(sqs_create w-delay)
	printf '%s\n' '{"n":1,"d":3}' '{"n":2}' >in
	run stream-write --delay .d "sqs+$url" <in
	assert_status 0
	# the one without a delay is there at once, the other is delayed
	sqs_client "$url" attributes >attrs
	assert_equal "$(jq -r .ApproximateNumberOfMessagesDelayed attrs)" 1
	sqs_receive_n "$url" 1 first
	assert_equal "$(jq -c '.body | fromjson | .n' first)" 2
	sqs_receive_n "$url" 2 first
	assert_equal "$(jq -c '.body | fromjson | .n' first | sort | tr '\n' ' ')" '1 2 '
}

@test "a delay out of 0 to 900 seconds and a deduplication id on a standard queue are bad rows" {
	local url
	url=$(sqs_create w-bad-delay)
	printf '%s\n' '{"d":901}' '{"d":"x"}' '{"d":null,"id":"i"}' '{"d":0}' >in
	run --separate-stderr stream-write --on-error=skip --delay .d --deduplication-id .id "sqs+$url" <in
	assert_status 0
	[[ "$stderr" == *"<stdin>:1: --delay: 901 s is not a delay (SQS takes 0 to 900 s)"* ]]
	[[ "$stderr" == *"<stdin>:2: --delay: "* ]]
	[[ "$stderr" == *"<stdin>:3: --deduplication-id: only FIFO queues take one"* ]]
	[[ "$stderr" == *"skipped 3 bad rows"* ]]
	sqs_receive_n "$url" 1 got
	assert_equal "$(jq -c '.body | fromjson' got)" '{"d":0}'
}

@test "a message over the queue's MaximumMessageSize is a bad row, never truncated: 65 naming the line, or skipped" {
	local url
	url=$(sqs_create w-small MaximumMessageSize=1024)
	python3 -c 'import json; print(json.dumps({"n": 1})); print(json.dumps({"n": 2, "s": "x" * 2000})); print(json.dumps({"n": 3}))' >in
	run --separate-stderr stream-write "sqs+$url" <in
	assert_status 65
	assert_equal "$stderr" "stream-write: <stdin>:2: a message of 2014 bytes (body) is over the queue's MaximumMessageSize of 1024 bytes: not sent"
	# the row before was sent, the one after was not read
	sqs_receive_n "$url" 1 got
	assert_equal "$(jq -c '.body | fromjson | .n' got)" 1
	run --separate-stderr stream-write --on-error=skip "sqs+$url" <in
	assert_status 0
	[[ "$stderr" == *"<stdin>:2: a message of 2014 bytes (body) is over"* ]]
	[[ "$stderr" == *"skipped 1 bad rows"* ]]
	# attributes count toward the size
	run --separate-stderr stream-write --attributes '{a: ([range(1100)] | map("y") | add)}' "sqs+$url" <<<'{"n":4}'
	assert_status 65
	[[ "$stderr" == *"<stdin>:1: a message of 1114 bytes (body and attributes) is over"* ]]
}

@test "rows go in batches of ten, several at once, and all arrive" {
	local url
	url=$(sqs_create w-batches)
	seq_ndjson 25 >in
	run stream-write "sqs+$url" <in
	assert_status 0
	sqs_receive_n "$url" 25 got
	assert_equal "$(bodies got)" "$(rows in)"
	# a thousand, four requests in flight: counted by the server
	url=$(sqs_create w-many)
	seq_ndjson 1000 >more
	run stream-write --concurrency 4 "sqs+$url" <more
	assert_status 0
	assert_equal "$(sqs_client "$url" attributes | jq -r .ApproximateNumberOfMessages)" 1000
	sqs_receive_n "$url" 10 some
	assert_equal "$(jq -r '.body | fromjson | .n' some | sort -n | head -n 1)" 1
}

@test "big rows are batched within 1 MiB a request" {
	local url
	url=$(sqs_create w-big-batches)
	python3 -c '
import json
for i in range(12):
    print(json.dumps({"n": i, "s": "z" * 300000}))' >in
	run stream-write "sqs+$url" <in
	assert_status 0
	sqs_receive_n "$url" 12 got
	assert_equal "$(jq -c '.body | fromjson | .n' got | sort -n | tr '\n' ' ')" '0 1 2 3 4 5 6 7 8 9 10 11 '
}

@test "the cursors of the rows are committed once their messages are sent" {
	local url
	url=$(sqs_create w-cursors)
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		printf '{"n":%d,"_cursor":"file:/in:0:%d"}\n' "$i" "$((i * 10))"
	done >in
	run stream-write --name w "sqs+$url" <in
	assert_status 0
	run stream-checkpoint show w --json
	assert_status 0
	assert_equal "$(jq -r .position <<<"$output")" 120
	sqs_receive_n "$url" 12 got
	assert_equal "$(bodies got)" "$(rows in)"
}

@test "a server that is not there: a clear error after retries, exit 69, nothing committed" {
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	printf '%s\n' '{"n":1,"_cursor":"file:/in:0:10"}' >in
	run --separate-stderr stream-write --name w "sqs+http://127.0.0.1:$port/123456789012/gone" <in
	assert_status 69
	[[ "$stderr" == "stream-write: sqs+http://127.0.0.1:$port/123456789012/gone: after 6 attempts: GetQueueAttributes: "*"onnect"* ]]
	[[ "$stderr" != *"$AWS_SECRET_ACCESS_KEY"* && "$stderr" != *"$AWS_ACCESS_KEY_ID"* ]]
	assert_equal "$(state_sql "SELECT count(*) FROM positions" 2>/dev/null || echo 0)" 0
}

@test "a queue that does not exist: exit 69, saying so" {
	run --separate-stderr stream-write "sqs+$SQS_ENDPOINT/123456789012/no-such-queue" <<<'{"n":1}'
	assert_status 69
	[[ "$stderr" == *"QueueDoesNotExist"* ]]
}

@test "the options of sqs endpoints are refused with others; bad expressions are usage errors" {
	run --separate-stderr stream-write --group-id .g dataset:out <<<'{"g":1}'
	assert_status 64
	assert_equal "$stderr" "stream-write: --group-id is an option of sqs endpoints"
	local url
	url=$(sqs_create w-usage)
	run --separate-stderr stream-write --attributes '{' "sqs+$url" <<<'{"g":1}'
	assert_status 64
	[[ "$stderr" == *"--attributes"* ]]
	run --separate-stderr stream-write --concurrency 0 "sqs+$url" <<<'{"g":1}'
	assert_status 64
	[[ "$stderr" == *"invalid --concurrency '0'"* ]]
}

# fake_sqs STATUS TYPE [QUERY-ERROR]: tests/helpers/sqs-fake.py answering
# every request so; its queue URL in fake_url, its log in ./fake.log.
fake_sqs() {
	mkdir -p fake
	server_start "$PWD/fake" python3 "$SK_SRCDIR/tests/helpers/sqs-fake.py" "$@"
	fake_pid=$server_pid
	fake_url="http://127.0.0.1:$(head -n 1 fake/out)/123456789012/q"
}

@test "5xx answers are retried with growing delays, six attempts, then exit 75" {
	fake_sqs 503 com.amazon.coral.service#ServiceUnavailable
	run --separate-stderr stream-write "sqs+$fake_url" <<<'{"n":1}'
	server_stop "$fake_pid" "$PWD/fake"
	assert_status 75
	[[ "$stderr" == "stream-write: sqs+$fake_url: after 6 attempts: GetQueueAttributes: ServiceUnavailable: "* ]]
	assert_equal "$(grep -c '^PATH /' fake.log)" 6
}

@test "credentials SQS refuses: exit 78 at once, and no credential in the message" {
	fake_sqs 403 com.amazon.coral.service#InvalidClientTokenId "InvalidClientTokenId;Sender"
	run --separate-stderr stream-write "sqs+$fake_url" <<<'{"n":1}'
	server_stop "$fake_pid" "$PWD/fake"
	assert_status 78
	assert_equal "$(grep -c '^PATH /' fake.log)" 1
	[[ "$stderr" == *"InvalidClientTokenId"* ]]
	[[ "$stderr" != *"$AWS_SECRET_ACCESS_KEY"* && "$stderr" != *"$AWS_ACCESS_KEY_ID"* ]]
}

# committed_to NAME POSITION: NAME's only position is POSITION.
committed_to() {
	[ "$(state_sql "SELECT position FROM positions WHERE name = '$1'" 2>/dev/null)" = "$2" ]
}

@test "a server that goes away mid-run: the rows sent before stay committed, the others are not, exit 69" {
	mkdir -p own
	server_start "$PWD/own" node "$SK_SRCDIR/tests/helpers/sqs-server.js"
	local pid=$server_pid url
	url=$(sqs_client "http://127.0.0.1:$(head -n 1 own/out)" create w-gone | jq -er .url)
	mkfifo in
	stream-write --name w "sqs+$url" <in >out 2>err 3>&- &
	local writer=$!
	exec 4>in
	for i in 1 2 3 4 5; do printf '{"n":%d,"_cursor":"file:/in:0:%d"}\n' "$i" "$((i * 10))" >&4; done
	# the input idle, the rows are sent and, at the next checkpoint, committed
	wait_for 20 committed_to w 50
	assert_equal "$(sqs_client "$url" receive 10 0 | wc -l)" 5
	server_stop "$pid" "$PWD/own" || true
	for i in 6 7 8; do printf '{"n":%d,"_cursor":"file:/in:0:%d"}\n' "$i" "$((i * 10))" >&4; done
	exec 4>&-
	local status=0
	wait "$writer" || status=$?
	assert_equal "$status" 69
	grep -q "SendMessageBatch: " err
	committed_to w 50
}

@test "a message SQS refuses when its batch is answered is a bad row: --on-error decides, cursors wait for it" {
	local url b64
	# local-aws-sqs counts a Binary attribute by its base64 text, SQS and
	# stream-write by its bytes: 900 bytes pass the check here, not there
	url=$(sqs_create w-refused MaximumMessageSize=1024)
	b64=$(python3 -c 'import base64; print(base64.b64encode(bytes(900)).decode())')
	printf '{"n":1,"_cursor":"file:/in:0:10"}\n{"n":2,"b":"%s","_cursor":"file:/in:0:20"}\n{"n":3,"_cursor":"file:/in:0:30"}\n' \
		"$b64" >in
	local opts=(--value .n --attributes 'if .b then {b: {type: "Binary", value: .b}} else null end')
	run --separate-stderr stream-write --name f "${opts[@]}" "sqs+$url" <in
	assert_status 65
	[[ "$stderr" == "stream-write: <stdin>: a row at or before line 3: SQS refused its message: InvalidParameterValue: "*"shorter than 1024 bytes"* ]]
	assert_equal "$(state_sql "SELECT count(*) FROM positions WHERE name = 'f'")" 0
	run --separate-stderr stream-write --name s --on-error=skip "${opts[@]}" "sqs+$url" <in
	assert_status 0
	[[ "$stderr" == *"SQS refused its message: InvalidParameterValue"* ]]
	[[ "$stderr" == *"skipped 1 bad rows"* ]]
	committed_to s 30
	run --separate-stderr stream-write --on-error=dead-letter:dl.ndjson "${opts[@]}" "sqs+$url" <in
	assert_status 0
	assert_equal "$(cat dl.ndjson)" 2
	# each run sent the two other rows
	sqs_receive_n "$url" 6 got
	assert_equal "$(jq -r .body got | sort | uniq -c | awk '{print $1 "x" $2}' | tr '\n' ' ')" '3x1 3x3 '
}

@test "a stop signal while a request waits for an answer ends the wait: exit 75, saying so" {
	mkdir -p mute
	# a server that takes connections and never answers; a line for each
	server_start "$PWD/mute" python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    print("accepted", flush=True)'
	local mute=$server_pid port
	port=$(head -n 1 mute/out)
	mkfifo in
	stream-write "sqs+http://127.0.0.1:$port/123456789012/q" <in 2>err 3>&- &
	local writer=$! status=0
	exec 4>in
	wait_for 10 grep -q accepted mute/out
	kill -TERM "$writer"
	wait "$writer" || status=$?
	exec 4>&-
	server_stop "$mute" "$PWD/mute" || true
	assert_equal "$status" 75
	assert_equal "$(cat err)" "stream-write: sqs+http://127.0.0.1:$port/123456789012/q: stopped while waiting for GetQueueAttributes"
}
