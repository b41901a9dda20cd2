#!/usr/bin/env bats
# Options belong to their kind: an option of one kind of endpoint given for
# another is refused with one generated message, exit 64, before anything
# is read, written or created.

bats_require_minimum_version 1.5.0
load helpers/common

setup() {
	setup_scratch
	printf 'a\n' >in.txt
}

# refused TOOL ARGS... -- MESSAGE: TOOL ARGS exits 64 with MESSAGE alone on
# stderr and nothing on stdout.
refused() {
	local args=() want
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	want=$2
	run --separate-stderr "${args[@]}" </dev/null
	assert_status 64
	assert_equal "$stderr" "$want"
	assert_equal "$output" ""
}

@test "reading: a file option on a kafka endpoint" {
	refused stream-read --follow kafka://127.0.0.1:1/t -- "stream-read: --follow is an option of file endpoints"
	refused stream-read -f kafka://127.0.0.1:1/t -- "stream-read: --follow is an option of file endpoints"
	refused stream-read --partial-line=hold kafka://127.0.0.1:1/t -- \
		"stream-read: --partial-line is an option of file endpoints"
}

@test "reading: a kafka option on a file, standard input and a file: URL" {
	refused stream-read --group g in.txt -- "stream-read: --group is an option of kafka endpoints"
	refused stream-read --drain-timeout 1s file:in.txt -- "stream-read: --drain-timeout is an option of kafka and sqs endpoints"
	refused stream-read -X fetch.wait.max.ms=5 - -- "stream-read: -X is an option of kafka endpoints"
	refused stream-read -F kafka.conf in.txt -- "stream-read: --kafka-config is an option of kafka endpoints"
}

@test "reading: an sse option on a file and a kafka endpoint; theirs on a stream" {
	refused stream-read -H 'X-A: 1' in.txt -- "stream-read: --header is an option of sse endpoints"
	refused stream-read --read-timeout 1s kafka://127.0.0.1:1/t -- \
		"stream-read: --read-timeout is an option of sse endpoints"
	refused stream-read -k - -- "stream-read: --insecure is an option of sse endpoints"
	refused stream-read --follow sse+http://127.0.0.1:1/s -- "stream-read: --follow is an option of file endpoints"
	refused stream-read --group g sse+http://127.0.0.1:1/s -- "stream-read: --group is an option of kafka endpoints"
}

@test "writing: a dataset option on a file, standard output, sqlite and kafka" {
	refused stream-write --format csv out.ndjson -- "stream-write: --format is an option of dataset endpoints"
	refused stream-write --format ndjson - -- "stream-write: --format is an option of dataset endpoints"
	refused stream-write --format csv 'sqlite:db.sqlite?table=t' -- \
		"stream-write: --format is an option of dataset endpoints"
	refused stream-write --format csv kafka://127.0.0.1:1/t -- \
		"stream-write: --format is an option of dataset endpoints"
	[ ! -e out.ndjson ] && [ ! -e db.sqlite ]
}

@test "writing: a kafka option on a dataset, sqlite, a file and standard output" {
	refused stream-write --key .a dataset:out -- "stream-write: --key is an option of kafka endpoints"
	refused stream-write --sync 'sqlite:db.sqlite?table=t' -- "stream-write: --sync is an option of kafka endpoints"
	refused stream-write --header h=.a out.ndjson -- "stream-write: --header is an option of kafka endpoints"
	refused stream-write -X linger.ms=1 - -- "stream-write: -X is an option of kafka endpoints"
	[ ! -e out ] && [ ! -e db.sqlite ] && [ ! -e out.ndjson ]
}

@test "the first option that does not belong is the one named" {
	refused stream-write --compression gzip --format csv dataset:out -- \
		"stream-write: --compression is an option of kafka endpoints"
}

@test "--help lists each kind's options under its kind" {
	run stream-read --help
	assert_status 0
	assert_output_contains "file endpoints:"
	assert_output_contains "kafka endpoints:"
	run stream-write --help
	assert_output_contains "dataset endpoints:"
	assert_output_contains "kafka endpoints:"
}
