# sqs.bash - an SQS server for the suites that need one (local-aws-sqs,
# started by tests/helpers/sqs-server.js on 127.0.0.1) and the independent
# client (tests/helpers/sqs-client.js, @aws-sdk/client-sqs). Load after
# helpers/common.
#
# sqs_start (in setup_file) exports SQS_ENDPOINT (http://127.0.0.1:PORT),
# SQS_PID and SQS_DIR; sqs_stop (in teardown_file) stops it by pid. Both
# need tests/node_modules (scripts/setup runs npm ci): sqs_need skips the
# test, saying why, when it is absent.

sqs_need() {
	[ -d "$SK_SRCDIR/tests/node_modules/local-aws-sqs" ] ||
		skip "tests/node_modules is absent (scripts/setup installs local-aws-sqs with npm ci)"
	command -v node >/dev/null || skip "node is not installed (scripts/setup installs it)"
}

sqs_start() {
	[ -d "$SK_SRCDIR/tests/node_modules/local-aws-sqs" ] && command -v node >/dev/null || return 0
	local dir
	dir=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/sqs.XXXXXX") || return 1
	server_start "$dir" node "$SK_SRCDIR/tests/helpers/sqs-server.js" || return 1
	SQS_PID=$server_pid SQS_DIR=$dir SQS_ENDPOINT=http://127.0.0.1:$(head -n 1 "$dir/out")
	export SQS_PID SQS_DIR SQS_ENDPOINT
}

# sqs_stop: SIGTERM, then wait (10 s at most); its exit status (0 when the
# server stopped as asked).
sqs_stop() {
	local pid=${SQS_PID:-}
	[ -n "$pid" ] || return 0
	unset SQS_PID SQS_ENDPOINT
	server_stop "$pid" "$SQS_DIR"
}

# sqs_client TARGET COMMAND ARGS...: tests/helpers/sqs-client.js (see there).
sqs_client() {
	node "$SK_SRCDIR/tests/helpers/sqs-client.js" "$@"
}

# sqs_create NAME [ATTRIBUTE=VALUE...]: create a queue; prints its URL.
sqs_create() {
	sqs_client "$SQS_ENDPOINT" create "$@" | jq -er .url
}

# sqs_queue_empty URL: no message in the queue, visible or in flight.
sqs_queue_empty() {
	sqs_client "$1" attributes |
		jq -e '.ApproximateNumberOfMessages == "0" and .ApproximateNumberOfMessagesNotVisible == "0"
			and .ApproximateNumberOfMessagesDelayed == "0"' >/dev/null
}

# sqs_receive_n URL N FILE: receive with the client into FILE (appending)
# until it holds N messages; fails after 20 s.
sqs_receive_n() {
	wait_for 20 _sqs_received "$@"
}

_sqs_received() {
	sqs_client "$1" receive 10 0 >>"$3" || return 1
	[ "$(wc -l <"$3")" -ge "$2" ]
}

# sqs_credentials: keys in the environment for stream-read and stream-write
# (the server ignores signatures), and no other source of the credential
# chain looked at.
sqs_credentials() {
	export AWS_ACCESS_KEY_ID=AKIDTESTSTREAMKIT AWS_SECRET_ACCESS_KEY=sEcReT/ValueNeverShown AWS_REGION=us-east-1
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
	export AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent
}

# sqs_drain URL N FILE: receive and delete with the client, appending to
# FILE, until it holds N messages; fails after 20 s. For FIFO queues, whose
# groups give their next messages once the ones before are deleted.
sqs_drain() {
	wait_for 20 _sqs_drained "$@"
}

_sqs_drained() {
	local got
	got=$(sqs_client "$1" receive 10 0) || return 1
	if [ -n "$got" ]; then
		printf '%s\n' "$got" >>"$3"
		printf '%s\n' "$got" | jq -r .receipt_handle | sqs_client "$1" delete || return 1
	fi
	[ "$(wc -l <"$3")" -ge "$2" ]
}
