#!/usr/bin/env bats
# sqs-credentials.bats - every source of the AWS credential chain signs the
# requests of stream-read sqs+...: the environment, a profile, a profile's
# credential_process, the container endpoint and EC2 instance metadata
# (tests/helpers/aws-metadata-fake.py). tests/helpers/sqs-fake.py refuses
# each request with 403 and logs its headers, so that the key each source
# gave is seen in the signature; no secret reaches a message, the state
# store or a child's argv.

load helpers/common

setup() {
	setup_scratch
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION
	unset AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_AUTHORIZATION_TOKEN
	export AWS_EC2_METADATA_DISABLED=true AWS_REGION=eu-west-1
	export AWS_SHARED_CREDENTIALS_FILE=$BATS_TEST_TMPDIR/credentials AWS_CONFIG_FILE=$BATS_TEST_TMPDIR/config
	fake_dir=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	(cd "$fake_dir" && exec python3 "$SK_SRCDIR/tests/helpers/sqs-fake.py" 403 \
		com.amazonaws.sqs#InvalidClientTokenId "InvalidClientTokenId;Sender") \
		</dev/null >"$fake_dir/out" 2>"$fake_dir/err" 3>&- &
	fake_pid=$!
	wait_for 15 test -s "$fake_dir/out"
	URL=sqs+http://127.0.0.1:$(head -n 1 "$fake_dir/out")/000000000000/q
	meta_pid=
}

teardown() {
	[ -z "${fake_pid:-}" ] || server_stop "$fake_pid" "$fake_dir"
	[ -z "${meta_pid:-}" ] || server_stop "$meta_pid" "$meta_dir"
}

meta_start() {
	meta_dir=$(mktemp -d "$BATS_TEST_TMPDIR/meta.XXXXXX")
	server_start "$meta_dir" python3 "$SK_SRCDIR/tests/helpers/aws-metadata-fake.py" "$@"
	meta_pid=$server_pid
	META=http://127.0.0.1:$(head -n 1 "$meta_dir/out")
}

# signed_by KEY SECRET: stream-read was refused (78), its request was
# signed with KEY for eu-west-1, and SECRET is in no message and not in
# the state store.
signed_by() {
	run stream-read --name r -e --wait-time 1s "$URL"
	assert_status 78
	assert_output_contains "InvalidClientTokenId"
	grep -q "^Authorization: AWS4-HMAC-SHA256 Credential=$1/[0-9]*/eu-west-1/sqs/aws4_request" "$fake_dir/fake.log"
	[[ $output != *"$2"* ]]
	[[ $output != *"$1"* ]]
	if [ -e "$STREAMKIT_STATE" ]; then
		! grep -a -q -e "$2" -e "$1" "$STREAMKIT_STATE"
	fi
}

@test "sqs credentials: from the environment, the session token sent" {
	export AWS_ACCESS_KEY_ID=AKIDFROMENV AWS_SECRET_ACCESS_KEY=env-secret-value AWS_SESSION_TOKEN=env-token
	signed_by AKIDFROMENV env-secret-value
	grep -q '^X-Amz-Security-Token: env-token' "$fake_dir/fake.log"
	[[ $output != *env-token* ]]
}

@test "sqs credentials: from a named profile of the credentials file" {
	printf '[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = work-secret-value\n' > credentials
	AWS_PROFILE=work signed_by AKIDWORK work-secret-value
}

@test "sqs credentials: from a profile's credential_process" {
	printf '#!/bin/sh\necho '"'"'{"Version":1,"AccessKeyId":"AKIDPROCESS","SecretAccessKey":"process-secret-value","SessionToken":"process-token"}'"'"'\n' > creds.sh
	chmod +x creds.sh
	printf '[profile proc]\ncredential_process = %s/creds.sh\n' "$BATS_TEST_TMPDIR" > config
	AWS_PROFILE=proc signed_by AKIDPROCESS process-secret-value
	grep -q '^X-Amz-Security-Token: process-token' "$fake_dir/fake.log"
}

@test "sqs credentials: from the container endpoint, with its token" {
	meta_start --container-token tok-123
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=$META/container/creds AWS_CONTAINER_AUTHORIZATION_TOKEN=tok-123
	signed_by ASIACONTAINERKEY container-secret-value
	[[ $output != *tok-123* ]]
}

@test "sqs credentials: from EC2 instance metadata (IMDSv2)" {
	meta_start --role reader
	export AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=$META
	signed_by ASIAIMDSKEY imds-secret-value
	grep -q '^X-Amz-Security-Token: imds-session-token' "$fake_dir/fake.log"
}

@test "sqs credentials: none at all: exit 78 naming the sources tried" {
	run stream-read -e "$URL"
	assert_status 78
	assert_output_contains "no AWS credentials: tried"
	[ ! -s "$fake_dir/fake.log" ]
}

@test "sqs credentials: stream-run's record of a refused attempt (its stderr tail) holds no credential" {
	export AWS_ACCESS_KEY_ID=AKIDFROMENV AWS_SECRET_ACCESS_KEY=env-secret-value
	stream-run --name r --restart no -- stream-read -e --wait-time 1s "$URL" 2> run.err || true
	run stream-run --status r
	assert_output_contains "InvalidClientTokenId"
	[[ $output != *env-secret-value* ]]
	[[ $output != *AKIDFROMENV* ]]
	! grep -a -q -e env-secret-value -e AKIDFROMENV "$STREAMKIT_STATE"
}
