#!/usr/bin/env bats
# endpoints.bats - endpoint arguments through the tools: named endpoints from
# the endpoints file, errors for unknown names and malformed URLs, and the
# options every tool has.

load helpers/common

setup() {
	setup_scratch
	printf '{"n":1}\n{"n":2}\n{"n":3}\n' > in.ndjson
	printf 'other\n' > other.txt
}

@test "a named endpoint from \$STREAMKIT_ENDPOINTS is read" {
	printf '# test endpoints\n[myfile]\nurl = file:%s/in.ndjson\n' "$PWD" > "$STREAMKIT_ENDPOINTS"
	run sh -c 'stream-read --exit-at-end myfile | jq -r .line'
	assert_status 0
	assert_equal "$output" "$(cat in.ndjson)"
}

@test "a named endpoint's cursor names the file it stands for" {
	printf '[myfile]\nurl = file:in.ndjson\n' > "$STREAMKIT_ENDPOINTS"
	run sh -c 'stream-read --exit-at-end --count 1 myfile | jq -r ._cursor'
	assert_status 0
	assert_equal "${output%%@*}" "file:$(realpath in.ndjson):0:8"
}

@test "--endpoints FILE is used, and wins over \$STREAMKIT_ENDPOINTS" {
	printf '[myfile]\nurl = file:%s/other.txt\n' "$PWD" > "$STREAMKIT_ENDPOINTS"
	printf '[myfile]\nurl = file:%s/in.ndjson\n' "$PWD" > mine.conf
	run sh -c 'stream-read --endpoints mine.conf --exit-at-end myfile | jq -r .line'
	assert_status 0
	assert_equal "$output" "$(cat in.ndjson)"
	run sh -c 'stream-read --endpoints=mine.conf --exit-at-end myfile | jq -r .line'
	assert_status 0
	assert_equal "$output" "$(cat in.ndjson)"
}

@test "without \$STREAMKIT_ENDPOINTS, \$XDG_CONFIG_HOME/streamkit/endpoints.conf is used" {
	unset STREAMKIT_ENDPOINTS
	mkdir -p "$XDG_CONFIG_HOME/streamkit"
	printf '[myfile]\nurl = file:%s/in.ndjson\n' "$PWD" > "$XDG_CONFIG_HOME/streamkit/endpoints.conf"
	run sh -c 'stream-read --exit-at-end myfile | jq -r .line'
	assert_status 0
	assert_equal "$output" "$(cat in.ndjson)"
}

@test "a named endpoint's json setting embeds JSON lines" {
	printf '[events]\nurl = file:%s/in.ndjson\njson = true\n' "$PWD" > "$STREAMKIT_ENDPOINTS"
	run sh -c 'stream-read --exit-at-end events | jq -c .line'
	assert_status 0
	assert_equal "$output" "$(cat in.ndjson)"
}

@test "stream-write writes to a named dataset endpoint" {
	printf '[mydata]\nurl = dataset:%s/out\n' "$PWD" > "$STREAMKIT_ENDPOINTS"
	run sh -c 'stream-write mydata < in.ndjson'
	assert_status 0
	run dataset_rows out
	assert_equal "$output" "$(cat in.ndjson)"
}

@test "a named pipeline resumes through named endpoints" {
	printf '[src]\nurl = file:%s/in.ndjson\n[dst]\nurl = dataset:%s/out\n' "$PWD" "$PWD" \
		> "$STREAMKIT_ENDPOINTS"
	pipeline='stream-read --name p --exit-at-end src | jq -c "(.line|fromjson) + {_cursor}" |
		stream-write --name p dst'
	run sh -c "$pipeline"
	assert_status 0
	printf '{"n":4}\n' >> in.ndjson
	run sh -c "$pipeline"
	assert_status 0
	run dataset_rows out
	assert_equal "$output" "$(cat in.ndjson)"
}

@test "an existing file named like an endpoint is read as a file" {
	printf '[myfile]\nurl = file:%s/other.txt\n' "$PWD" > "$STREAMKIT_ENDPOINTS"
	cp in.ndjson myfile
	run sh -c 'stream-read --exit-at-end myfile | jq -r .line'
	assert_status 0
	assert_equal "$output" "$(cat in.ndjson)"
}

@test "an unknown endpoint name exits 78 naming it and the endpoints file" {
	printf '[myfile]\nurl = file:in.ndjson\n' > "$STREAMKIT_ENDPOINTS"
	run stream-read --exit-at-end nosuch
	assert_status 78
	assert_output_contains "stream-read: "
	assert_output_contains "nosuch"
	assert_output_contains "$STREAMKIT_ENDPOINTS"
	run stream-write nosuch < in.ndjson
	assert_status 78
	assert_output_contains "stream-write: "
	assert_output_contains "nosuch"
}

@test "a name with no endpoints file at all exits 78" {
	rm -f "$STREAMKIT_ENDPOINTS"
	run stream-read --exit-at-end nosuch
	assert_status 78
	assert_output_contains "nosuch"
}

@test "an endpoints file with a syntax error exits 78 naming the file and line" {
	printf '[myfile]\nurl = file:in.ndjson\nthis is not a key\n' > "$STREAMKIT_ENDPOINTS"
	run --separate-stderr stream-read --exit-at-end myfile
	assert_status 78
	assert_equal "$stderr" "stream-read: $STREAMKIT_ENDPOINTS:3: expected key = value"
}

# endpoints_error FILE-TEXT ENDPOINT MESSAGE: stream-read and stream-write
# given ENDPOINT from that endpoints file exit 78 with "PROG: FILE:MESSAGE".
endpoints_error() {
	printf "$1" > "$STREAMKIT_ENDPOINTS"
	run --separate-stderr stream-read --exit-at-end "$2"
	assert_status 78
	assert_equal "$stderr" "stream-read: $STREAMKIT_ENDPOINTS:$3"
	assert_equal "$output" ""
	run --separate-stderr stream-write "$2" < in.ndjson
	assert_status 78
	assert_equal "$stderr" "stream-write: $STREAMKIT_ENDPOINTS:$3"
}

@test "an unknown key in an endpoint's section exits 78 with FILE:LINE, naming the key and what the kind takes" {
	endpoints_error '[out]\nurl = file:out.ndjson\nflush = always\n' out \
		"3: [out] unknown key 'flush' (file endpoints take url and json)"
	endpoints_error '[k]\nurl = kafka://127.0.0.1:9/t\ngroup = g\nkafka.client.id = x\nsasl.password = s3cret\n' k \
		"5: [k] unknown key 'sasl.password' (kafka endpoints take url, json, group, partition, offset and kafka.SETTING)"
	[[ $stderr != *s3cret* ]]
	endpoints_error '[d]\nurl = dataset:out\nkafka.acks = all\n' d \
		"3: [d] unknown key 'kafka.acks' (dataset endpoints take url and json)"
}

@test "a bad boolean in the endpoints file exits 78 with FILE:LINE, without echoing the value" {
	endpoints_error '[ev]\nurl = file:in.ndjson\n\njson = maybe\n' ev \
		"4: [ev] json: expected a boolean (1, true, yes or on; 0, false, no or off)"
	[[ $stderr != *maybe* ]]
	printf '[ev]\nurl = file:in.ndjson\njson = No\n' > "$STREAMKIT_ENDPOINTS"
	run --separate-stderr sh -c 'stream-read --exit-at-end ev | jq -r .line'
	assert_status 0
	assert_equal "$output" "$(cat in.ndjson)"
}

@test "a duplicate section, a duplicate key and a key before any section exit 78 with FILE:LINE" {
	endpoints_error '[a]\nurl = file:in.ndjson\n[b]\nurl = file:x\n[a]\nurl = file:other.txt\n' a \
		"5: section [a] again (first at line 1)"
	endpoints_error '[a]\nurl = file:in.ndjson\njson = true\n# json twice\njson = false\n' a \
		"5: [a] json again (first at line 3)"
	endpoints_error 'url = file:other.txt\n[a]\nurl = file:in.ndjson\n' a \
		"1: a key before any [section]"
	# Anywhere in the file, whichever endpoint is asked for.
	endpoints_error '[a]\nurl = file:in.ndjson\n[b]\nurl = file:x\nurl = file:y\n' a \
		"5: [b] url again (first at line 4)"
}

@test "a section without url exits 78 with FILE:LINE of the section" {
	endpoints_error '# endpoints\n\n[a]\njson = true\n[b]\nurl = file:x\n' a "3: [a] has no url"
	endpoints_error '[a]\n' a "1: [a] has no url"
}

@test "a bad url in the endpoints file exits 78 with FILE:LINE of the url" {
	endpoints_error '[broken]\n\nurl = kafka://no-port/topic\n' broken \
		"3: broken: bad broker 'no-port' (expected HOST:PORT)"
	endpoints_error '[k]\nurl = kafka://127.0.0.1:9/t?sasl.password=s3cret\n' k \
		"2: k: unknown parameter 'sasl.password' (kafka endpoints take group, partition, offset and json)"
	[[ $stderr != *s3cret* ]]
}

@test "only a line that starts with # or ; is a comment: inside a value they are the value's" {
	printf '[x]\n  ; a comment\n\t# another\nurl = file:%s/a#b;c.ndjson\n' "$PWD" > "$STREAMKIT_ENDPOINTS"
	cp in.ndjson 'a#b;c.ndjson'
	run --separate-stderr sh -c 'stream-read --exit-at-end x | jq -r .line'
	assert_status 0
	assert_equal "$output" "$(cat in.ndjson)"
	printf '[x] # a comment\nurl = file:in.ndjson\n' > "$STREAMKIT_ENDPOINTS"
	run --separate-stderr stream-read --exit-at-end x
	assert_status 78
	assert_equal "$stderr" "stream-read: $STREAMKIT_ENDPOINTS:1: expected [name]"
}

@test "a malformed URL exits 64" {
	local url
	for url in 'kafka://h1/events' 'kafka://h1:9092/' 'file:' 'ftp://host/x' \
		'sse+http://' 'kafka://h:1/t?group'; do
		run stream-read --exit-at-end "$url"
		assert_status 64
		assert_output_contains "stream-read: "
		assert_output_contains "$url"
	done
	for url in 'dataset:' 'sqlite:out.db' 'gopher://x/y'; do
		run stream-write "$url" < in.ndjson
		assert_status 64
		assert_output_contains "stream-write: "
		assert_output_contains "$url"
	done
}

@test "a query parameter the endpoint's kind does not take exits 64, naming it but not its value" {
	run --separate-stderr stream-read --exit-at-end 'file:in.ndjson?jsn=1'
	assert_status 64
	assert_equal "$stderr" "stream-read: file:in.ndjson?jsn=[redacted]: unknown parameter 'jsn' (file endpoints take json)"
	run --separate-stderr stream-write 'sqlite:out.db?table=t&password=s3cret' < in.ndjson
	assert_status 64
	assert_equal "$stderr" "stream-write: sqlite:out.db?table=t&password=[redacted]: unknown parameter 'password' (sqlite endpoints take table and json)"
	[ ! -e out.db ]
	run --separate-stderr stream-read --exit-at-end 'file:in.ndjson?json=perhaps'
	assert_status 64
	assert_equal "$stderr" "stream-read: file:in.ndjson?json=perhaps: json: expected a boolean (1, true, yes or on; 0, false, no or off)"
}

@test "--help prints the usage to stdout and exits 0 for every tool" {
	local tool
	for tool in stream-read stream-write stream-checkpoint; do
		run sh -c "$tool --help 2>/dev/null"
		assert_status 0
		assert_output_contains "usage: $tool"
	done
}

@test "--version prints the package version and exits 0 for every tool" {
	local tool version
	version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$SK_BUILDDIR/config.h")
	[ -n "$version" ]
	for tool in stream-read stream-write stream-checkpoint; do
		run sh -c "$tool --version 2>/dev/null"
		assert_status 0
		assert_equal "$output" "$tool (streamkit) $version"
	done
}

@test "an unknown option exits 64 for every tool" {
	local tool
	for tool in stream-read stream-write stream-checkpoint; do
		run "$tool" --no-such-option
		assert_status 64
		assert_output_contains "$tool"
	done
}

@test "libcurl is loaded only for HTTP endpoints; where it cannot be, they fail with status 78 and say why" {
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	# The loader's own list of what it loaded: the SQLite library is, libcurl is not.
	LD_DEBUG=files stream-write dataset:out < in.ndjson 2> loaded.txt
	grep -q 'file=libsqlite3' loaded.txt
	run grep 'file=libcurl' loaded.txt
	assert_status 1
	LD_DEBUG=files stream-read --retry-delay 10ms --retry-max 1 "sse+http://127.0.0.1:$port/s" 2> loaded.txt || true
	grep -q 'file=libcurl' loaded.txt
	# A libcurl that is not a library, found first.
	local soname
	soname=$(grep -ao 'libcurl[-a-z]*\.so\.[0-9]*' "$(command -v stream-read)" | head -n 1)
	[ -n "$soname" ]
	mkdir badlib
	: > "badlib/$soname"
	run env LD_LIBRARY_PATH="$PWD/badlib" stream-read "sse+http://127.0.0.1:$port/s"
	assert_status 78
	assert_output_contains "stream-read: sse+http://127.0.0.1:$port/s: HTTP endpoints need libcurl, which cannot be loaded: $PWD/badlib/$soname"
	run env LD_LIBRARY_PATH="$PWD/badlib" stream-write "sqs+http://127.0.0.1:$port/000000000000/q" < in.ndjson
	assert_status 78
	assert_output_contains "HTTP endpoints need libcurl"
	# Files and datasets do not need it.
	run env LD_LIBRARY_PATH="$PWD/badlib" stream-write dataset:out2 < in.ndjson
	assert_status 0
}
