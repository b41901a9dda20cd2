#!/usr/bin/env bats
# sqs-server.bats - the SQS test server (local-aws-sqs, tests/helpers/
# sqs-server.js) and the independent client (@aws-sdk/client-sqs) that the
# SQS suites rely on.

load helpers/common
load helpers/sqs

setup_file() {
	sqs_start
}

teardown_file() {
	sqs_stop
}

setup() {
	sqs_need
	setup_scratch
}

@test "the test server listens on loopback and names queues by its own address" {
	[[ $SQS_ENDPOINT =~ ^http://127\.0\.0\.1:[0-9]+$ ]]
	run sqs_create server-names
	assert_status 0
	assert_equal "$output" "$SQS_ENDPOINT/123456789012/server-names"
}

@test "a message sent by the client is received with its body and attributes, and deleted" {
	local url
	url=$(sqs_create server-roundtrip)
	printf '%s\n' '{"body":"h\u00e9 \"q\" \\ \n","attributes":{"s":{"type":"String","value":"v"},"b":{"type":"Binary","value":"AP8="}}}' |
		sqs_client "$url" send >sent
	run sqs_client "$url" receive 10 0
	assert_status 0
	assert_equal "$(jq -c '[.body, .message_attributes, .attributes.ApproximateReceiveCount]' <<<"$output")" \
		'["hé \"q\" \\ \n",{"s":{"type":"String","value":"v"},"b":{"type":"Binary","value":"AP8="}},"1"]'
	assert_equal "$(jq -r .id <<<"$output")" "$(jq -r .id sent)"
	jq -r .receipt_handle <<<"$output" | sqs_client "$url" delete
	sqs_queue_empty "$url"
}

@test "a missing queue is the client's QueueDoesNotExist" {
	run sqs_client "$SQS_ENDPOINT/123456789012/no-such-queue" attributes
	assert_status 1
	assert_output_contains "QueueDoesNotExist"
}

@test "the test server stops on SIGTERM with status 0" {
	local saved_pid=$SQS_PID saved_dir=$SQS_DIR saved_endpoint=$SQS_ENDPOINT pid
	sqs_start
	pid=$SQS_PID
	# Not `run`: the server is this shell's child, and wait needs it so.
	status=0
	sqs_stop || status=$?
	SQS_PID=$saved_pid SQS_DIR=$saved_dir SQS_ENDPOINT=$saved_endpoint
	assert_status 0
	server_exited "$pid"
}
