#!/usr/bin/env bats
# sqs-read.bats - stream-read sqs+http://...: the envelope, delete after
# checkpoint, --ack=receive, what a stop releases, the visibility kept
# while a message is held, FIFO queues, errors. The server is local-aws-sqs
# (helpers/sqs.bash); @aws-sdk/client-sqs sends and checks.

load helpers/common
load helpers/sqs

bats_require_minimum_version 1.5.0

setup_file() {
	sqs_start
}

teardown_file() {
	sqs_stop
}

teardown() {
	# a test that failed leaves its background reader: stop it
	[ -z "${reader:-}" ] || { pkill -KILL -P "$reader" 2>/dev/null; kill -KILL "$reader" 2>/dev/null; } || true
}

setup() {
	reader=
	setup_scratch
	sqs_need
	sqs_credentials
	Q=$(sqs_create "q$BATS_TEST_NUMBER-$RANDOM")
}

# send_bodies URL BODY...: one message per body (text, sent as it is).
send_bodies() {
	local url=$1 b
	shift
	for b in "$@"; do
		jq -cn --arg b "$b" '{body: $b}'
	done | sqs_client "$url" send >/dev/null
}

# visible_now URL N: the client receives N messages at once (then they are
# in flight for it, for 30 s).
visible_now() {
	local got
	got=$(sqs_client "$1" receive 10 1 30 | wc -l)
	[ "$got" -eq "$2" ] || { echo "visible_now: $got messages, not $2" >&2; return 1; }
}

lines_in() {
	[ "$(wc -l <"$1")" -ge "$2" ]
}

# in_flight URL N: N messages of the queue are in flight (received, not
# deleted).
in_flight() {
	[ "$(sqs_client "$1" attributes | jq -r .ApproximateNumberOfMessagesNotVisible)" = "$2" ]
}

@test "sqs: messages as envelopes: id, value, attributes, message attributes, cursor" {
	jq -cn '{body: "Zürich \"quoted\"\n\ttab \\ back", attributes: {
		s: {type: "String", value: "ünï"}, n: {type: "Number", value: "12.5"},
		b: {type: "Binary", value: "AAEC/w=="}}}' | sqs_client "$Q" send > sent.json
	run stream-read -e --count 1 --wait-time 0 "sqs+$Q"
	assert_status 0
	echo "$output" > out.json
	assert_equal "$(jq -r .id out.json)" "$(jq -r .id sent.json)"
	assert_equal "$(jq -r .value out.json)" "$(printf 'Zürich "quoted"\n\ttab \\ back')"
	assert_equal "$(jq -c '.message_attributes' out.json)" \
		'{"s":{"type":"String","value":"ünï"},"n":{"type":"Number","value":"12.5"},"b":{"type":"Binary","value":"AAEC/w=="}}'
	assert_equal "$(jq -r '.receive_count' out.json)" 1
	assert_equal "$(jq -r '.sent_timestamp == (.attributes.SentTimestamp | tonumber)' out.json)" true
	assert_equal "$(jq -r '.attributes.ApproximateReceiveCount' out.json)" 1
	[[ $(jq -r ._cursor out.json) =~ ^sqs:${Q}:0:[0-9a-f]{16}\.1$ ]]
}

@test "sqs: --json embeds bodies that are JSON" {
	send_bodies "$Q" '{"title":"Zürich","n":3}'
	run stream-read -e --count 1 --json --wait-time 0 "sqs+$Q"
	assert_status 0
	assert_equal "$(jq -c .value <<<"$output")" '{"title":"Zürich","n":3}'
}

@test "sqs: --json --filter: jq gets what a pipe into jq gets, from realistic events and bodies that are not JSON" {
	mapfile -t bodies < <("$SK_SRCDIR/scripts/wiki-events" 30)
	send_bodies "$Q" "${bodies[@]}" 'not json' '[1,{"a":"\u00e9"}]' '"s"'
	filter_as_pipe '{id, v: .value, t: ((.value | objects | .title) // null)}' -e --count 33 --wait-time 0 "sqs+$Q"
	[ "$(wc -l <filtered)" -eq 33 ]
}

@test "sqs: without --name nothing is deleted: what was read is visible again at once" {
	send_bodies "$Q" a b c
	run stream-read -e --count 3 --wait-time 0 "sqs+$Q"
	assert_status 0
	assert_equal "$(jq -r .value <<<"$output" | sort | tr -d '\n')" abc
	visible_now "$Q" 3
}

@test "sqs: --ack=receive deletes on receipt" {
	send_bodies "$Q" a b c
	run stream-read -e --count 3 --ack=receive --wait-time 0 "sqs+$Q"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 3
	sqs_queue_empty "$Q"
}

@test "sqs: --count N into stream-write deletes exactly the N messages it delivered" {
	send_bodies "$Q" 1 2 3 4 5 6 7 8
	stream-read --name r --count 5 --wait-time 0 "sqs+$Q" | stream-write --name r dataset:out
	assert_equal "$(dataset_rows out | wc -l)" 5
	# the 3 received and not printed were released: visible again at once
	visible_now "$Q" 3
	# and the 5 delivered are gone
	sqs_client "$Q" attributes > attrs.json
	assert_equal "$(jq -r '.ApproximateNumberOfMessages' attrs.json)" 3
}

@test "sqs: stream-checkpoint commit behind a script: the lines it wrote are deleted" {
	send_bodies "$Q" a b c d
	stream-read --name r --count 4 --wait-time 0 "sqs+$Q" | stream-checkpoint commit r > done.log
	assert_equal "$(wc -l < done.log)" 4
	sqs_queue_empty "$Q"
}

@test "sqs: what no checkpoint covers within --drain-timeout is released, not deleted" {
	send_bodies "$Q" a b
	run stream-read --name r --count 2 --wait-time 0 --drain-timeout 200ms "sqs+$Q"
	assert_status 0
	assert_output_contains "released, they will come again"
	visible_now "$Q" 2
}

@test "sqs: a FIFO queue: group and deduplication ids, sequence number, order kept per group" {
	Q=$(sqs_create "f$RANDOM.fifo" FifoQueue=true)
	for i in 1 2 3 4 5 6; do
		jq -cn --arg i "$i" '{body: $i, group_id: (if ($i | tonumber) % 2 == 0 then "even" else "odd" end),
			deduplication_id: ("d" + $i)}'
	done | sqs_client "$Q" send > /dev/null
	run stream-read -e --count 6 --wait-time 0 --ack=receive "sqs+$Q"
	assert_status 0
	echo "$output" > out.json
	assert_equal "$(jq -r 'select(.group_id == "odd") | .value' out.json | tr -d '\n')" 135
	assert_equal "$(jq -r 'select(.group_id == "even") | .value' out.json | tr -d '\n')" 246
	assert_equal "$(jq -r 'select(.value == "4") | .deduplication_id' out.json)" d4
	[ -n "$(jq -r 'select(.value == "4") | .sequence_number' out.json)" ]
}

@test "sqs: a queue that does not exist: exit 69, named" {
	run stream-read -e --count 1 --wait-time 1s "sqs+${SQS_ENDPOINT}/000000000000/nosuchqueue"
	assert_status 69
	assert_output_contains "QueueDoesNotExist"
}

@test "sqs: no credentials: exit 78, and no secret in any message" {
	unset AWS_ACCESS_KEY_ID
	run stream-read -e --count 1 --wait-time 1s "sqs+$Q"
	assert_status 78
	assert_output_contains "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"
	[[ $output != *sEcReT* ]]
}

@test "sqs: stream-checkpoint show describes the stored position" {
	send_bodies "$Q" a b
	stream-read --name r --count 2 --wait-time 0 "sqs+$Q" | stream-write --name r dataset:out
	run stream-checkpoint show r
	assert_status 0
	assert_output_contains "message 2 of reader session"
}

@test "sqs: options of the kind are checked" {
	run stream-read --ack=later "sqs+$Q"
	assert_status 64
	assert_output_contains "invalid --ack 'later'"
	run stream-read --wait-time 30s "sqs+$Q"
	assert_status 64
	run stream-read --from earliest "sqs+$Q"
	assert_status 64
}

@test "sqs: no server at the URL: exit 69 at the start, naming the call and the address" {
	run stream-read -e "sqs+http://127.0.0.1:1/000000000000/q"
	assert_status 69
	assert_output_contains "stream-read: sqs+http://127.0.0.1:1/000000000000/q: GetQueueAttributes: http://127.0.0.1:1/: Failed to connect to 127.0.0.1 port 1"
}

@test "sqs: visibility is renewed while stream-read waits on an output nobody reads" {
	Q=$(sqs_create "blocked$RANDOM" VisibilityTimeout=2)
	# 300 KB of envelopes: more than a pipe holds, so the writes block
	local big
	big=$(head -c 100000 /dev/zero | tr '\0' x)
	send_bodies "$Q" "$big" "$big" "$big"
	mkfifo out
	stream-read --name r --wait-time 1s --drain-timeout 1s "sqs+$Q" >out 2>err 3>&- &
	reader=$!
	exec 4<out
	wait_for 20 in_flight "$Q" 3
	local until=$((SECONDS + 6)) got=0
	while ((SECONDS < until)); do
		got=$((got + $(sqs_client "$Q" receive 10 1 30 | wc -l)))
	done
	exec 4<&-
	wait "$reader" || true
	assert_equal "$got" 0
}

@test "sqs: the server gone and back mid-run: retried with a warning, nothing lost, everything deleted" {
	# What the long polls cut off took comes again after the visibility timeout.
	Q=$(sqs_create "gone$RANDOM" VisibilityTimeout=2)
	send_bodies "$Q" $(seq 1 20)
	local dir
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/proxy.XXXXXX")
	server_start "$dir" python3 "$SK_SRCDIR/tests/helpers/tcp-proxy.py" "${SQS_ENDPOINT##*:}"
	local proxy=$server_pid url="sqs+http://127.0.0.1:$(head -n 1 "$dir/out")/000000000000/${Q##*/}"
	(stream-read --name r --wait-time 1s "$url" 2>err | stream-checkpoint commit r >out) 3>&- &
	reader=$!
	wait_for 20 lines_in out 20
	kill -USR1 "$proxy"
	send_bodies "$Q" $(seq 21 40)
	wait_for 20 grep -q 'retrying' err
	kill -USR2 "$proxy"
	wait_for 30 lines_in out 40
	wait_for 20 sqs_queue_empty "$Q"
	pkill -TERM -P "$reader" -x stream-read || true
	wait "$reader" || true
	reader=
	server_stop "$proxy" "$dir"
	assert_equal "$(jq -r .value out | sort -n | uniq | wc -l)" 40
	grep -q 'SQS answers again' err || grep -q 'retrying' err
}

# faults_start QUEUE-URL RULE...: tests/helpers/sqs-faults.py in front of
# the server with RULEs (see there); the queue through it in $url, the
# proxy's pid in $proxy, its log of calls in ./faults.log.
faults_start() {
	local q=$1 dir
	shift
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/faults.XXXXXX")
	server_start "$dir" python3 "$SK_SRCDIR/tests/helpers/sqs-faults.py" "${SQS_ENDPOINT##*:}" "$@"
	proxy=$server_pid proxy_dir=$dir
	url="sqs+http://127.0.0.1:$(head -n 1 "$dir/out")/000000000000/${q##*/}"
}

@test "sqs: 5xx, throttling and OverLimit answers are retried with backoff: nothing lost, nothing twice, all deleted" {
	send_bodies "$Q" $(seq 1 30)
	faults_start "$Q" ReceiveMessage:500:2 ReceiveMessage:throttle:1 ReceiveMessage:over-limit:1 \
		DeleteMessageBatch:500:1 DeleteMessageBatch:throttle:1
	stream-read --name r --count 30 --wait-time 1s --concurrency 2 "$url" 2>err |
		stream-checkpoint commit r >out
	server_stop "$proxy" "$proxy_dir"
	# every fault was met, and every message came once and was deleted
	assert_equal "$(grep -c -e ' 500$' -e ' throttle$' -e ' over-limit$' faults.log)" 6
	assert_equal "$(jq -r .value out | sort -n | tr '\n' ' ')" "$(seq 1 30 | tr '\n' ' ')"
	sqs_queue_empty "$Q"
	grep -q "retrying" err
}

@test "sqs: a late delete answered ReceiptHandleIsInvalid is logged and counted; the message comes again" {
	Q=$(sqs_create "late$RANDOM" VisibilityTimeout=2)
	send_bodies "$Q" a b c d e
	faults_start "$Q" DeleteMessageBatch:bad-receipt:1
	(stream-read -v --name r --wait-time 1s "$url" 2>err | stream-checkpoint commit r >out) 3>&- &
	reader=$!
	# the first delete is refused: its messages come again after their 2 s
	wait_for 30 grep -q 'DeleteMessageBatch bad-receipt' faults.log
	wait_for 30 grep -q 'DeleteMessageBatch forwarded' faults.log
	wait_for 30 sqs_queue_empty "$Q"
	pkill -TERM -P "$reader" -x stream-read || true
	wait "$reader" || true
	reader=
	server_stop "$proxy" "$proxy_dir"
	grep -F "a delete of a message failed (ReceiptHandleIsInvalid): it will come again" err
	local late
	late=$(sed -n 's/.* released, \([0-9]*\) late (a receipt SQS no longer took.*/\1/p' err)
	[ "$late" -ge 1 ]
	# at least once: each of the five, and each refused one twice
	assert_equal "$(jq -r .value out | sort -u | tr -d '\n')" abcde
	assert_equal "$(wc -l <out)" $((5 + late))
}

@test "sqs: a FIFO receive that failed is asked again with its ReceiveRequestAttemptId" {
	Q=$(sqs_create "fa$RANDOM.fifo" FifoQueue=true)
	jq -cn '{body: "1", group_id: "g", deduplication_id: "d1"}' | sqs_client "$Q" send >/dev/null
	faults_start "$Q" ReceiveMessage:500:1
	run --separate-stderr stream-read -e --count 1 --wait-time 1s --concurrency 1 --ack=receive "$url"
	server_stop "$proxy" "$proxy_dir"
	assert_status 0
	[[ $stderr == *"InternalError"*"retrying"* ]]
	assert_equal "$(jq -r .value <<<"$output")" 1
	# the first receive failed; the next one carries the same attempt id
	local failed
	failed=$(awk '$1 == "ReceiveMessage" && $2 == "500" { print $3 }' faults.log)
	[ -n "$failed" ]
	assert_equal "$(awk '$1 == "ReceiveMessage" && $2 == "forwarded" { print $3; exit }' faults.log)" "$failed"
}
