#!/usr/bin/env bats
# sqs-api.bats - lib/sqs_api.c against local-aws-sqs, through the test
# program sqs-api-run (tests/helpers/sqs-api-run.c: each command's calls
# run at once on one curl multi handle), with @aws-sdk/client-sqs as the
# other side: what one sends the other reads, byte for byte. The SDK checks
# MD5OfBody on every message it receives. The tests of what is sent and of
# errors use tests/helpers/sqs-fake.py and need no node. The unit test
# (test-sqs-api) covers bodies and answers without a server.

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
	export AWS_ACCESS_KEY_ID=AKIDSQSAPITEST AWS_SECRET_ACCESS_KEY=sqs-api-test-secret
	export AWS_SESSION_TOKEN=sqs-api-test-session-token
	unset AWS_REGION AWS_DEFAULT_REGION
}

# Ten messages: every JSON escape, controls, unicode, and each attribute type.
ten_messages() {
	local i
	for i in 0 1 2 3 4 5 6 7 8 9; do
		printf '{"body":"%d \\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u0001\\u001f é € 😀 \\u2028 end","attributes":{"s":{"type":"String","value":"v%d é\\n"},"n":{"type":"Number","value":"-%d.5"},"b":{"type":"Binary","value":"AAEC/f7/"},"c":{"type":"String.custom","value":"x"}}}\n' "$i" "$i" "$i"
	done
}

# A body of about 200 KiB with multi-byte characters and escapes, and one
# just under SQS's 1 MiB (1,036,000 bytes of UTF-8).
big_message() {
	python3 -c 'import json; print(json.dumps({"body": "é😀\"\\\n\t abc" * 15000}))'
	python3 -c 'import json; print(json.dumps({"body": "é😀\"\\\n\t abc" * 74000}))'
}

# The messages sent (FILE of send's input) or received (FILE of receive's
# output) as [body, message attributes], sorted: equal when they are.
sent() {
	jq -sc 'map([.body, .attributes // {}]) | sort' "$1"
}

received() {
	jq -sc 'map([.body, .message_attributes]) | sort' "$1"
}

# fake_attributes STATUS TYPE [QUERY-ERROR]: `run sqs-api-run attributes`
# against tests/helpers/sqs-fake.py answering so; its port in fake_port,
# its log in ./fake.log.
fake_attributes() {
	server_start "$BATS_TEST_TMPDIR" python3 "$SK_SRCDIR/tests/helpers/sqs-fake.py" "$@"
	fake_port=$(head -n 1 "$BATS_TEST_TMPDIR/out")
	run sqs-api-run attributes "http://127.0.0.1:$fake_port/123456789012/q"
	server_stop "$server_pid" "$BATS_TEST_TMPDIR"
}

@test "ten messages sent in five SendMessageBatch calls at once reach the AWS SDK as they were" {
	sqs_need
	local url
	url=$(sqs_create api-send)
	ten_messages >in
	run sqs-api-run --batch 2 send "$url" <in
	assert_status 0
	printf '%s\n' "$output" >answers
	assert_equal "$(jq -s 'map(select(.message_id)) | length' answers)" 10
	sqs_receive_n "$url" 10 got
	assert_equal "$(received got)" "$(sent in)"
	# the MD5 SQS computed of each body is the one the SDK checked
	assert_equal "$(jq -sc 'map(.md5) | sort' got)" "$(jq -sc 'map(.md5) | sort' answers)"
}

@test "messages the AWS SDK sent are received through sk_sqs as they were, bodies of 200 KiB and 1 MiB included" {
	sqs_need
	local url
	url=$(sqs_create api-receive MaximumMessageSize=1048576)
	{ ten_messages; big_message; } >in
	sqs_client "$url" send <in >answers
	run sqs-api-run receive "$url" 12
	assert_status 0
	printf '%s\n' "$output" >got
	assert_equal "$(wc -l <got)" 12
	assert_equal "$(received got)" "$(sent in)"
	assert_equal "$(jq -sc 'map(.md5) | sort' got)" "$(jq -sc 'map(.md5) | sort' answers)"
	assert_equal "$(jq -s 'map(select(.body | utf8bytelength > 200000)) | length' got)" 2
	assert_equal "$(jq -s 'map(select(.body | utf8bytelength > 1030000)) | length' got)" 1
	assert_equal "$(jq -r '.attributes.ApproximateReceiveCount' got | sort -u)" 1
	jq -e '.attributes.SentTimestamp | test("^[0-9]+$")' got >/dev/null
}

@test "ChangeMessageVisibilityBatch releases messages at once and DeleteMessageBatch removes them" {
	sqs_need
	local url
	url=$(sqs_create api-visibility VisibilityTimeout=600)
	ten_messages | sqs_client "$url" send >/dev/null
	run sqs-api-run receive "$url" 10
	assert_status 0
	printf '%s\n' "$output" >first
	jq -r .receipt_handle first >handles
	# in flight for 600 s, unless released
	run sqs-api-run change-visibility "$url" 0 <handles
	assert_status 0
	assert_equal "$(jq -s 'map(select(.ok)) | length' <<<"$output")" 10
	run sqs-api-run receive "$url" 10
	assert_status 0
	printf '%s\n' "$output" >again
	assert_equal "$(jq -r .id again | sort)" "$(jq -r .id first | sort)"
	run sqs-api-run delete "$url" < <(jq -r .receipt_handle again)
	assert_status 0
	assert_equal "$(jq -s 'map(select(.ok)) | length' <<<"$output")" 10
	sqs_queue_empty "$url"
	run sqs_client "$url" receive 10 0
	assert_status 0
	assert_equal "$output" ""
}

@test "a receipt handle that is not one fails its entry as a bad receipt, not the call" {
	sqs_need
	local url
	url=$(sqs_create api-bad-handle)
	run sqs-api-run delete "$url" <<<"not-a-handle"
	assert_status 0
	assert_equal "$output" '{"id":"0","failed":"ReceiptHandleIsInvalid","kind":"bad_receipt"}'
}

@test "a queue that does not exist is an error of its own kind (exit 69)" {
	sqs_need
	run sqs-api-run attributes "$SQS_ENDPOINT/123456789012/no-such-queue"
	assert_status 69
	assert_equal "$(jq -c '[.kind, .code, .status]' <<<"$output")" '["no_queue","QueueDoesNotExist",400]'
	assert_output_contains "The specified queue does not exist"
}

@test "requests are POSTs to the endpoint's root, signed with SigV4 for the region, with the session token" {
	export AWS_REGION=eu-west-3
	fake_attributes 403 com.amazon.coral.service#InvalidClientTokenId "InvalidClientTokenId;Sender"
	assert_status 78
	assert_equal "$(jq -r .kind <<<"$output")" auth
	grep -qx 'PATH /' fake.log
	grep -qx 'Content-Type: application/x-amz-json-1.0' fake.log
	grep -qx 'X-Amz-Target: AmazonSQS.GetQueueAttributes' fake.log
	grep -qx 'X-Amz-Security-Token: sqs-api-test-session-token' fake.log
	grep -qE '^X-Amz-Date: [0-9]{8}T[0-9]{6}Z$' fake.log
	grep -qE '^Authorization: AWS4-HMAC-SHA256 Credential=AKIDSQSAPITEST/[0-9]{8}/eu-west-3/sqs/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-date[a-z0-9;-]*, Signature=[0-9a-f]{64}$' fake.log
	grep -q "^BODY {\"QueueUrl\":\"http://127.0.0.1:$fake_port/123456789012/q\"" fake.log
	# every signed header is sent (a signed header left out fails the signature)
	local h
	for h in $(sed -n 's/^Authorization: .*SignedHeaders=\([^,]*\),.*/\1/p' fake.log | tr ';' ' '); do
		grep -qi "^$h: " fake.log || { echo "signed but not sent: $h"; false; }
	done
}

@test "a server that echoes the credentials gets them scrubbed from the error" {
	fake_attributes 403 com.amazon.coral.service#UnrecognizedClientException
	assert_status 78
	assert_output_contains "refused: AWS4-HMAC-SHA256"
	[[ $output != *AKIDSQSAPITEST* && $output != *sqs-api-test-session-token* && $output != *sqs-api-test-secret* ]]
}

@test "a 503 and a refused connection are errors to retry (exit 75)" {
	fake_attributes 503 com.amazon.coral.service#ServiceUnavailable
	assert_status 75
	assert_equal "$(jq -c '[.kind, .status]' <<<"$output")" '["retry",503]'
	# the port is free again: nothing listens there now
	run sqs-api-run attributes "http://127.0.0.1:$fake_port/123456789012/q"
	assert_status 75
	assert_equal "$(jq -c '[.kind, .status]' <<<"$output")" '["retry",0]'
}

@test "no credentials is a configuration error that sends nothing" {
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
	run sqs-api-run attributes "http://127.0.0.1:9/123456789012/q"
	assert_status 78
	assert_output_contains "no AWS credentials"
}
