#!/usr/bin/env bats
# sse.bats - stream-read sse+http://...: the envelope, the event stream's
# rules over real connections cut anywhere, resuming with Last-Event-ID
# across drops and restarts, what each answer of the server means, dead
# connections, headers, limits and TLS. The server is
# tests/helpers/sse-server.py (helpers/sse.bash).

load helpers/common
load helpers/sse

setup() {
	setup_scratch
}

teardown() {
	sse_stop
}

# A stream with ids, types, multi-line data, comments and retry:.
mixed_events() {
	cat <<'EOF'
{"comment":"hello"}
{"id":"1","data":"one"}
{"id":"2","event":"edit","data":"two\nlines"}
{"retry":250,"data":"{\"title\":\"Zürich\",\"n\":3}"}
{"id":"a:b%c","data":"\u2028 is data, \ttab"}
EOF
}

EXPECTED='{"id":"1","event":"message","data":"one","_cursor":"sse:URL:0:1"}
{"id":"2","event":"edit","data":"two\nlines","_cursor":"sse:URL:0:2"}
{"id":"2","event":"message","data":"{\"title\":\"Zürich\",\"n\":3}","_cursor":"sse:URL:0:2"}
{"id":"a:b%c","event":"message","data":"\u2028 is data, \ttab","_cursor":"sse:URL:0:a%3Ab%25c"}'

expected() {
	printf '%s\n' "${EXPECTED//URL/$SSE_URL\/s}" | jq -c .
}

@test "sse: events as envelopes: id, event, data, the cursor with the last id" {
	mixed_events > ev.ndjson
	sse_start --events ev.ndjson --connections all-close
	run stream-read -e "sse+$SSE_URL/s"
	assert_status 0
	# jq -c writes U+2028 as itself, as stream-read does
	assert_equal "$(printf '%s\n' "$output" | jq -c .)" "$(expected)"
	assert_equal "$output" "$(expected)"
}

@test "sse: --json embeds data that is JSON" {
	mixed_events > ev.ndjson
	sse_start --events ev.ndjson --connections all-close
	run stream-read -e --json "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | sed -n 3p | jq -c .data)" '{"title":"Zürich","n":3}'
	assert_equal "$(printf '%s\n' "$output" | sed -n 1p | jq -c .data)" '"one"'
}

@test "sse: --json --filter: jq gets what a pipe into jq gets, from realistic events and data that is not JSON" {
	{
		"$SK_SRCDIR/scripts/wiki-events" --sse 300
		printf '%s\n' '{"id":"x1","data":"not json"}' '{"id":"x2","data":"[1,{\"a\":\"\\u00e9\"}]"}'
	} > ev.ndjson
	sse_start --events ev.ndjson --connections all-close
	filter_as_pipe '{id, v: .data, t: ((.data | objects | .title) // null)}' -e "sse+$SSE_URL/s"
	[ "$(wc -l <filtered)" -eq 302 ]
}

@test "sse: CR, CRLF and mixed line endings, a BOM, and writes of one byte give the same events" {
	mixed_events > ev.ndjson
	local eol
	for eol in lf crlf cr mixed; do
		sse_start --events ev.ndjson --connections all-close --eol "$eol" --bom --chunk byte
		run stream-read -e "sse+$SSE_URL/s"
		assert_status 0
		assert_equal "$output" "$(expected)"
		sse_stop
	done
}

@test "sse: UTF-8 split across writes arrives whole" {
	printf '{"id":"1","data":"%s"}\n' "Zürich – 東京 – 🎉" "ça" > ev.ndjson
	sse_start --events ev.ndjson --connections all-close --chunk split-utf8
	run stream-read -e "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .data)" "$(printf 'Zürich – 東京 – 🎉\nça')"
}

@test "sse: gzip responses are accepted" {
	sse_events 50 > ev.ndjson
	sse_start --events ev.ndjson --connections all-close --gzip --log log
	run stream-read -e "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 50
	grep -qi '^Accept-Encoding: .*gzip' log
}

@test "sse: drops mid-event and resets resume after the last id, each event once, in order" {
	sse_events 30 > ev.ndjson
	sse_start --events ev.ndjson --connections 5-mid,7-reset,4,all --log log
	run timeout 30 stream-read --retry-delay 100ms -c 30 "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .id | tr '\n' ' ')" "$(seq 1 30 | tr '\n' ' ')"
	assert_equal "$(grep '^Last-Event-ID' log | tr -d '\r' | tr '\n' ' ')" \
		"Last-Event-ID: 5 Last-Event-ID: 12 Last-Event-ID: 16 "
}

@test "sse: --exit-at-end stops at the first drop" {
	sse_events 10 > ev.ndjson
	sse_start --events ev.ndjson --connections 4,all --log log
	run timeout 30 stream-read -e "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 4
	assert_equal "$(sse_requests)" 1
}

@test "sse: --name resumes across runs from the stored id, through stream-write" {
	sse_events 10 > ev.ndjson
	sse_start --events ev.ndjson --connections all-close --log log
	stream-read --name r -e "sse+$SSE_URL/s" | stream-write --name r dataset:out
	sse_events 5 11 >> ev.ndjson
	stream-read --name r -e --json "sse+$SSE_URL/s" | jq -c '.data + {_cursor}' |
		stream-write --name r dataset:out2
	assert_equal "$(dataset_rows out2 | jq -r .n | tr '\n' ' ')" "11 12 13 14 15 "
	grep -q '^Last-Event-ID: 10' log
	run stream-checkpoint show r
	assert_status 0
	assert_output_contains "sse:$SSE_URL/s"
	assert_output_contains "15"
	run stream-checkpoint lag r
	assert_status 0
	assert_output_contains "-"
}

@test "sse: an id with ':' and quotes is stored byte for byte, and resumed from" {
	printf '%s\n' '{"id":"[{\"topic\":\"rc\",\"partition\":0,\"offset\":7}]","data":"x"}' \
		'{"id":"after","data":"y"}' > ev.ndjson
	sse_start --events ev.ndjson --connections 1,all-close --log log
	stream-read --name r -e "sse+$SSE_URL/s" | stream-checkpoint commit r >/dev/null
	run stream-checkpoint --json show r
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r '.event_id')" '[{"topic":"rc","partition":0,"offset":7}]'
	run stream-read --name r -e "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .data)" y
	grep -qF 'Last-Event-ID: [{"topic":"rc","partition":0,"offset":7}]' log
}


@test "sse: each byte an id may hold comes out as itself in the envelope, and percent-encoded in the cursor where it must be" {
	# One event per kind of byte: those an id is copied with, and each that
	# needs a JSON escape, a percent-encoding or both.
	printf '%s\n' '{"id":"plain-1_~!$&()*+,./;<=>?@[]^`{|}","data":"a"}' '{"id":"q\"uote","data":"b"}' \
		'{"id":"back\\slash","data":"c"}' '{"id":"tab\there","data":"d"}' '{"id":"Zürich","data":"e"}' \
		'{"id":"50%","data":"f"}' '{"id":"a:b","data":"g"}' '{"id":"del\u007f","data":"h"}' > ev.ndjson
	sse_start --events ev.ndjson --connections all-close
	run stream-read -e "sse+$SSE_URL/s"
	assert_status 0
	# Each envelope is JSON, and its id the event's, byte for byte.
	assert_equal "$(printf '%s\n' "$output" | jq -c .id)" "$(jq -c .id ev.ndjson)"
	assert_equal "$(printf '%s\n' "$output" | jq -r '._cursor | sub("^sse:.*/s:0:"; "")')" \
		'plain-1_~!$&()*+,./;<=>?@[]^`{|}
q"uote
back\slash
tab%09here
Zürich
50%25
a%3Ab
del%7F'
}
@test "sse: -H 'Last-Event-ID: ID' starts after ID" {
	sse_events 6 > ev.ndjson
	sse_start --events ev.ndjson --connections all-close
	run stream-read -e -H 'Last-Event-ID: 4' "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .id | tr '\n' ' ')" "5 6 "
}

@test "sse: HTTP 204 ends the stream with status 0, without reconnecting" {
	sse_events 3 > ev.ndjson
	sse_start --events ev.ndjson --connections 3,status:204 --log log
	run timeout 30 stream-read --retry-delay 100ms "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | grep -c _cursor)" 3
	assert_equal "$(sse_requests)" 2
}

@test "sse: 5xx are retried; --retry-max gives up with status 69" {
	sse_events 3 > ev.ndjson
	sse_start --events ev.ndjson --connections status:500,status:503,all-close --log log
	run timeout 30 stream-read -e --retry-delay 100ms "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | grep -c _cursor)" 3
	assert_equal "$(sse_requests)" 3
	sse_stop

	sse_start --events ev.ndjson --connections status:500 --log log2
	run timeout 30 stream-read --retry-delay 100ms --retry-max 3 "sse+$SSE_URL/s"
	assert_status 69
	assert_output_contains "HTTP 500"
	assert_output_contains "gave up after 3 attempts"
	assert_equal "$(sse_requests log2)" 3
	sse_stop

	sse_start --events ev.ndjson --connections status:503 --log log3
	local t0=$SECONDS
	run timeout 30 stream-read --retry-delay 100ms --retry-max-time 1s "sse+$SSE_URL/s"
	assert_status 69
	assert_output_contains "HTTP 503"
	assert_output_contains "gave up after"
	[ $((SECONDS - t0)) -ge 1 ]
	[ "$(sse_requests log3)" -ge 2 ]
}

@test "sse: 401, 404 and a page that is not an event stream fail at once" {
	sse_events 3 > ev.ndjson
	sse_start --events ev.ndjson --connections status:401 --log log
	run timeout 30 stream-read "sse+$SSE_URL/s"
	assert_status 78
	assert_output_contains "HTTP 401"
	assert_equal "$(sse_requests)" 1
	sse_stop

	sse_start --events ev.ndjson --connections status:404 --log log
	run timeout 30 stream-read "sse+$SSE_URL/s"
	assert_status 69
	assert_output_contains "HTTP 404"
	sse_stop

	sse_start --events ev.ndjson --connections ctype:text/html --log log
	run timeout 30 stream-read "sse+$SSE_URL/s"
	assert_status 69
	assert_output_contains "not an event stream"
	assert_output_contains "text/html"
}

@test "sse: 429 waits at least its Retry-After" {
	sse_events 2 > ev.ndjson
	sse_start --events ev.ndjson --connections status:429,all-close --retry-after 2
	local t0=$SECONDS
	run timeout 30 stream-read -e --retry-delay 100ms "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | grep -c _cursor)" 2
	# a lower bound: load can only make it longer
	[ $((SECONDS - t0)) -ge 2 ]
}

@test "sse: retry: 0 cannot make a reconnection storm" {
	printf '%s\n' '{"retry":0,"id":"1","data":"a"}' > ev.ndjson
	sse_start --events ev.ndjson --connections 1 --ignore-last-event-id --log log
	local t0
	t0=$(date +%s%N)
	run timeout 30 stream-read -c 6 "sse+$SSE_URL/s"
	assert_status 0
	# five waits of at least 100 ms each: a lower bound
	[ $((($(date +%s%N) - t0) / 1000000)) -ge 500 ]
}

@test "sse: a connection on which nothing comes is dropped after --read-timeout and resumed" {
	sse_events 8 > ev.ndjson
	sse_start --events ev.ndjson --connections 3-silent,all-close --log log
	run timeout 30 stream-read --read-timeout 300ms --retry-delay 100ms -c 8 "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .id | tr '\n' ' ')" "1 2 3 4 5 6 7 8 "
	grep -q '^Last-Event-ID: 3' log
}

@test "sse: heartbeats keep a quiet connection open; --idle-timeout ends the run" {
	sse_events 2 > ev.ndjson
	sse_start --events ev.ndjson --connections all --heartbeat 0.1 --log log
	run timeout 30 stream-read --read-timeout 400ms --idle-timeout 1500ms "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | grep -c _cursor)" 2
	assert_equal "$(sse_requests)" 1
}

@test "sse: headers from -H, -H @FILE and the endpoints file; ours by default; values never printed" {
	sse_events 1 > ev.ndjson
	sse_start --events ev.ndjson --connections all-close --log log
	printf 'Authorization: Bearer file-s3cret\r\n\n# a comment\nX-Two: 2\n' > headers
	printf '[wiki]\nurl = sse+%s/s\nheader.X-Ini = from-ini\n' "$SSE_URL" > "$STREAMKIT_ENDPOINTS"
	run stream-read -e -v -H 'X-One: arg-value' -H @headers wiki
	assert_status 0
	grep -qx $'Accept: text/event-stream\r\\?' log || grep -q '^Accept: text/event-stream' log
	grep -q '^Cache-Control: no-cache' log
	grep -q '^X-One: arg-value' log
	grep -q '^Authorization: Bearer file-s3cret' log
	grep -q '^X-Two: 2' log
	grep -q '^X-Ini: from-ini' log
	grep -q '^User-Agent: stream-read (streamkit' log
	[[ "$output" != *s3cret* && "$output" != *arg-value* ]]
	run stream-read -e -H 'Bad header' "sse+$SSE_URL/s"
	assert_status 64
	assert_output_contains "expected a header 'Name: value'"
	printf 'X-Ok: 1\nno colon s3cret\n' > bad
	run stream-read -e -H @bad "sse+$SSE_URL/s"
	assert_status 64
	assert_output_contains "bad:2"
	[[ "$output" != *s3cret* ]]
}

@test "sse: the proxy of http_proxy is used" {
	sse_events 2 > ev.ndjson
	sse_start --events ev.ndjson --connections all-close --log log
	run env -u no_proxy -u NO_PROXY http_proxy="$SSE_URL" stream-read -e sse+http://stream.example.invalid/v2/s
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | grep -c _cursor)" 2
	grep -q '^REQUEST GET http://stream.example.invalid/v2/s' log
}

@test "sse: an event of 1 MiB, written in pieces, arrives whole" {
	python3 -c 'import json; print(json.dumps({"id": "big", "data": "é" * (1 << 19)}))' > ev.ndjson
	sse_start --events ev.ndjson --connections all-close --chunk 4093
	run stream-read -e "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r '.data | length')" $((1 << 19))
	assert_equal "$(printf '%s\n' "$output" | jq -r '.data | utf8bytelength')" $((1 << 20))
}

@test "sse: an event over --max-line fails, or is skipped and counted with --on-error=skip" {
	{
		echo '{"id":"1","data":"small"}'
		printf '{"id":"2","data":"%s"}\n' "$(head -c 300 /dev/zero | tr '\0' x)"
		echo '{"id":"3","data":"small again"}'
	} > ev.ndjson
	sse_start --events ev.ndjson --connections all-close
	run stream-read -e --max-line 100 "sse+$SSE_URL/s"
	assert_status 65
	assert_output_contains "longer than 100 bytes"
	run stream-read -e --max-line 100 --on-error=skip "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | grep _cursor | jq -r .id | tr '\n' ' ')" "1 3 "
	assert_output_contains "skipped"
	run stream-read -e --max-line 100 --on-error=dead-letter:dl.ndjson "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(jq -r .event_line dl.ndjson)" "$(jq -r .event_line dl.ndjson | grep -E '^[0-9]+$')"
}

@test "sse: options that are not a stream's are refused" {
	run stream-read --from earliest sse+http://127.0.0.1:9/s
	assert_status 64
	assert_output_contains "--from is not for sse endpoints"
	run stream-read --retry-max 0 sse+http://127.0.0.1:9/s
	assert_status 64
	run stream-read --read-timeout soon sse+http://127.0.0.1:9/s
	assert_status 64
	run stream-read --group g sse+http://127.0.0.1:9/s
	assert_status 64
	assert_output_contains "--group is an option of kafka endpoints"
}

@test "sse: a server that cannot be reached is retried, then status 69" {
	# a port nothing listens on: bind one, then close it
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	run timeout 30 stream-read --retry-delay 100ms --retry-max 2 "sse+http://127.0.0.1:$port/s"
	assert_status 69
	assert_output_contains "gave up after 2 attempts"
}

@test "sse: a self-signed certificate is refused; --insecure accepts it and warns once" {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	sse_events 3 > ev.ndjson
	sse_start --tls cert.pem key.pem --events ev.ndjson --connections all-close
	[[ "$SSE_URL" == https://* ]]
	run timeout 30 stream-read -e "sse+$SSE_URL/s"
	assert_status 69
	assert_output_contains "certificate"
	run timeout 30 stream-read -e --insecure "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | grep -c _cursor)" 3
	assert_equal "$(printf '%s\n' "$output" | grep -c 'not verified')" 1
	run timeout 30 stream-read -e --cacert cert.pem "sse+$SSE_URL/s"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | grep -c _cursor)" 3
	run timeout 30 stream-read -e --cacert missing.pem "sse+$SSE_URL/s"
	assert_status 69
}
