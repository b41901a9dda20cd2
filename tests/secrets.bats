#!/usr/bin/env bats
# secrets.bats - a secret planted in every place a setting or an endpoint
# can come from (-X, -F files, the endpoints file's kafka.* keys,
# stream-checkpoint lag's -X and -F, a URL's query, a URL's user
# information) is found nowhere: not on stdout or stderr, not in the state
# store (its SQL and the bytes of its files, the WAL too), not in what
# stream-run --status prints of a failed attempt, not in the argv of any
# process of a running pipeline.

bats_require_minimum_version 1.5.0

load helpers/common
load helpers/kafka

SECRET=SuperSecretABC123

setup_file() {
	kafka_start --topic events:2
	printf '{"n":1}\n{"n":2}\n' | kafka_produce events
}

setup() {
	setup_scratch
	url="kafka://$KAFKA_BOOTSTRAP/events"
	sr=
}

teardown() {
	if [ -n "$sr" ]; then
		kill -TERM "$sr" 2>/dev/null || true
		wait "$sr" || true
	fi
}

# committed NAME: a position of NAME stored for the topic, which lag asks
# the brokers about.
committed() {
	run sh -c "stream-read --name $1 --exit-at-end --count 1 '$url' | stream-checkpoint commit $1 >/dev/null"
	assert_status 0
}

# no_secret WHAT TEXT: TEXT does not hold the secret.
no_secret() {
	if [[ $2 == *"$SECRET"* ]]; then
		echo "the secret is in $1:" >&2
		printf '%s\n' "$2" >&2
		return 1
	fi
}

# store_has_no_secret: neither the state store's SQL nor the bytes of its
# files hold the secret.
store_has_no_secret() {
	local f
	[ -e "$STREAMKIT_STATE" ] || return 0
	no_secret "the state store" "$(sqlite3 "$STREAMKIT_STATE" .dump)"
	for f in "$STREAMKIT_STATE" "$STREAMKIT_STATE-wal"; do
		[ ! -e "$f" ] || no_secret "$f" "$(strings "$f")"
	done
}

# fails_without_secret STATUS MESSAGE COMMAND...: COMMAND exits STATUS
# with stderr MESSAGE and prints nothing else; then the same under
# stream-run: what it records and --status prints hold no secret either.
fails_without_secret() {
	local want=$1 message=$2
	shift 2
	run --separate-stderr "$@"
	assert_status "$want"
	assert_equal "$stderr" "$message"
	no_secret stdout "$output"
	no_secret stderr "$stderr"
	store_has_no_secret
	run --separate-stderr stream-run --name sr --restart no -- "$@"
	assert_status "$want"
	no_secret "stream-run's stderr" "$stderr"
	run --separate-stderr stream-run --status sr
	assert_status 0
	assert_output_contains "${message#*: }"
	no_secret "stream-run --status" "$output"
	run --separate-stderr stream-run --status sr --json
	assert_status 0
	[ "$(jq -r .last_error.stderr_tail <<<"$output")" = "$message" ]
	no_secret "stream-run --status --json" "$output"
	store_has_no_secret
}

@test "a -X value is never quoted: stream-read, stream-write and stream-checkpoint lag name the key and why" {
	fails_without_secret 78 "stream-read: $url: -X security.protocol: invalid value (expected one of plaintext, ssl, sasl_plaintext, sasl_ssl)" \
		stream-read -v --exit-at-end -X "security.protocol=$SECRET" "$url"
	fails_without_secret 78 "stream-write: $url: -X security.protocol: invalid value (expected one of plaintext, ssl, sasl_plaintext, sasl_ssl)" \
		stream-write -X "security.protocol=$SECRET" "$url" </dev/null
	committed r
	fails_without_secret 78 "stream-checkpoint: -X security.protocol: invalid value (expected one of plaintext, ssl, sasl_plaintext, sasl_ssl)" \
		stream-checkpoint -v lag -X "security.protocol=$SECRET" r
}

@test "a -F file's value is never quoted; its place is FILE:LINE" {
	printf '# client settings\nclient.id = me\n\nsecurity.protocol = %s\n' "$SECRET" >client.properties
	fails_without_secret 78 "stream-read: $url: client.properties:4: security.protocol: invalid value (expected one of plaintext, ssl, sasl_plaintext, sasl_ssl)" \
		stream-read --exit-at-end -F client.properties "$url"
	fails_without_secret 78 "stream-write: $url: client.properties:4: security.protocol: invalid value (expected one of plaintext, ssl, sasl_plaintext, sasl_ssl)" \
		stream-write -F client.properties "$url" </dev/null
	committed r
	fails_without_secret 78 "stream-checkpoint: client.properties:4: security.protocol: invalid value (expected one of plaintext, ssl, sasl_plaintext, sasl_ssl)" \
		stream-checkpoint lag -F client.properties r
}

@test "an endpoints file's kafka.* value is never quoted; its place is FILE:LINE and the section" {
	printf '[src]\nurl = %s\nkafka.security.protocol = %s\n' "$url" "$SECRET" >"$STREAMKIT_ENDPOINTS"
	fails_without_secret 78 "stream-read: src: $STREAMKIT_ENDPOINTS:3: [src] kafka.security.protocol: invalid value (expected one of plaintext, ssl, sasl_plaintext, sasl_ssl)" \
		stream-read --exit-at-end src
	fails_without_secret 78 "stream-write: src: $STREAMKIT_ENDPOINTS:3: [src] kafka.security.protocol: invalid value (expected one of plaintext, ssl, sasl_plaintext, sasl_ssl)" \
		stream-write src </dev/null
}

@test "librdkafka's own texts lose the values of secret settings: its errors and its debug log" {
	# librdkafka quotes the keystore's path when it cannot open it.
	printf '[tls]\nurl = %s\nkafka.security.protocol = ssl\nkafka.ssl.keystore.location = /nonexistent/%s.p12\nkafka.ssl.keystore.password = pw-%s\n' \
		"$url" "$SECRET" "$SECRET" >"$STREAMKIT_ENDPOINTS"
	fails_without_secret 78 "stream-read: tls: Failed to open ssl.keystore.location: [redacted]: error:10000080:BIO routines::no such file" \
		stream-read --exit-at-end tls
	# Its configuration dump shows what librdkafka 2.0.2 does not hide
	# itself (sasl.kerberos.keytab); settings from -F and -X alike.
	printf 'sasl.kerberos.keytab = /etc/%s.keytab\n' "$SECRET" >client.properties
	run --separate-stderr stream-read -X debug=conf -X "ssl.key.password=$SECRET" -F client.properties \
		--exit-at-end --count 1 "$url"
	assert_status 0
	[[ $stderr == *"sasl.kerberos.keytab = [redacted]"* ]]
	[[ $stderr == *"ssl.key.password = [redacted]"* ]]
	no_secret stderr "$stderr"
	no_secret stdout "$output"
	run --separate-stderr stream-write -X debug=conf -F client.properties "kafka://$KAFKA_BOOTSTRAP/copy" < <(echo '{"n":1}')
	assert_status 0
	[[ $stderr == *"sasl.kerberos.keytab = [redacted]"* ]]
	no_secret stderr "$stderr"
}

@test "a secret in a URL's query is refused, naming the parameter only, and never stored" {
	fails_without_secret 64 "stream-read: $url?sasl.password=[redacted]: unknown parameter 'sasl.password' (kafka endpoints take group, partition, offset and json)" \
		stream-read --name r --exit-at-end "$url?sasl.password=$SECRET"
	fails_without_secret 64 "stream-write: $url?group=g&token=[redacted]: unknown parameter 'token' (kafka endpoints take group, partition, offset and json)" \
		stream-write --name w "$url?group=g&token=$SECRET" </dev/null
	# From the endpoints file: refused as the file's mistake.
	printf '[src]\nurl = %s?sasl.password=%s\n' "$url" "$SECRET" >"$STREAMKIT_ENDPOINTS"
	fails_without_secret 78 "stream-read: $STREAMKIT_ENDPOINTS:2: src: unknown parameter 'sasl.password' (kafka endpoints take group, partition, offset and json)" \
		stream-read --name r --exit-at-end src
}

@test "a user name or password in a URL is refused, pointing at -F and the endpoints file, never echoed" {
	local msg="a user name or password in the URL is refused, as URLs are printed and stored; give credentials with -F FILE, or kafka.sasl.username and kafka.sasl.password in the endpoints file"
	fails_without_secret 64 "stream-read: $url: $msg" \
		timeout 60 stream-read --name r --exit-at-end "kafka://alice:$SECRET@$KAFKA_BOOTSTRAP/events"
	fails_without_secret 64 "stream-write: $url: $msg" \
		timeout 60 stream-write "kafka://$SECRET@$KAFKA_BOOTSTRAP/events" </dev/null
	printf '[src]\nurl = kafka://alice:%s@%s/events\n' "$SECRET" "$KAFKA_BOOTSTRAP" >"$STREAMKIT_ENDPOINTS"
	fails_without_secret 78 "stream-read: $STREAMKIT_ENDPOINTS:2: src: $msg" \
		timeout 60 stream-read --name r --exit-at-end src
}

# pipeline_pids PGID: the processes of the process group.
pipeline_pids() {
	ps -eo pid=,pgid= | awk -v g="$1" '$2 == g { print $1 }'
}

# attempt_pid: the pid of stream-run's running attempt (its process group).
attempt_pid() {
	state_sql "SELECT pid FROM attempts WHERE name = 'p' AND ended_ms IS NULL ORDER BY attempt DESC LIMIT 1" 2>/dev/null
}

# The pipeline runs (its shell, reader and writer) and has copied the topic.
pipeline_running() {
	local pg
	pg=$(attempt_pid) && [ -n "$pg" ] || return 1
	[ "$(pipeline_pids "$pg" | wc -l)" -ge 3 ] && [ "$(kafka_count copied)" -ge 2 ]
}

@test "secrets given by -F or the endpoints file are in no process's argv, and not in stream-run's records" {
	printf 'sasl.password = %s\n' "$SECRET" >client.properties
	printf '[src]\nurl = %s\nkafka.sasl.username = user-%s\n[dst]\nurl = kafka://%s/copied\nkafka.sasl.password = %s\n' \
		"$url" "$SECRET" "$KAFKA_BOOTSTRAP" "$SECRET" >"$STREAMKIT_ENDPOINTS"
	kafka_cmd topic copied 1
	stream-run --name p -- sh -c 'stream-read --name p -F client.properties src | stream-write --name p -F client.properties dst' \
		>run.out 2>run.err 3>&- &
	sr=$!
	wait_for 20 pipeline_running
	local pg pid n=0
	pg=$(attempt_pid)
	for pid in $sr $(pipeline_pids "$pg"); do
		[ -r "/proc/$pid/cmdline" ] || continue
		no_secret "the argv of $pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline")"
		n=$((n + 1))
	done
	((n >= 4))
	run --separate-stderr stream-run --status p --json
	no_secret "stream-run --status --json" "$output"
	kill -TERM "$sr"
	wait "$sr" || true
	sr=
	run --separate-stderr stream-run --status p
	no_secret "stream-run --status" "$output"
	no_secret "stream-run's stderr" "$(cat run.err run.out)"
	assert_equal "$(kafka_count copied)" 2
	store_has_no_secret
}
