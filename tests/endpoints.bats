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
	assert_equal "$output" "file:$(realpath in.ndjson):0:8"
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
	run stream-read --exit-at-end myfile
	assert_status 78
	assert_output_contains "$STREAMKIT_ENDPOINTS"
	assert_output_contains "line 3"
}

@test "a named endpoint with a bad url exits 78" {
	printf '[broken]\nurl = kafka://no-port/topic\n' > "$STREAMKIT_ENDPOINTS"
	run stream-read --exit-at-end broken
	assert_status 78
	assert_output_contains "broken"
	assert_output_contains "no-port"
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

@test "an endpoint kind that does not exist yet fails with a clear error" {
	run stream-read --exit-at-end 'sse+http://127.0.0.1:9/events'
	[ "$status" -eq 69 ]
	assert_output_contains "sse"
	assert_output_contains "not available"
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
