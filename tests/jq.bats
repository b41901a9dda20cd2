#!/usr/bin/env bats
# jq.bats - in-process jq: stream-read --filter and stream-write --map give
# what the jq program gives, keep cursors, and handle errors by --on-error.

load helpers/common
load helpers/files

setup() {
	setup_scratch
	export SK_JQ_TEST="from the environment"
	cat > in.ndjson <<'EOF'
{"id":1,"title":"Page One","user":"Ada","bot":false,"delta":-12,"tags":["a","b"],"meta":{"lang":"en","size":1.5},"b64":"aGVsbG8gd29ybGQ=","csv":"x,y,z","text":"{\"inner\":[1,2,{\"k\":\"v\"}]}"}
{"id":2,"title":"page two","user":"BOB","bot":true,"delta":7,"tags":[],"meta":{"lang":"fr","size":null},"b64":"Ym90","csv":"p","text":"[]"}
{"id":3,"title":"Ünïcödé ✓ \"quoted\"\ttab","user":"Cy","bot":false,"delta":0.25,"tags":["c","a","c"],"meta":{"lang":"de"},"b64":"","csv":"","text":"{\"inner\":null}"}
{"id":4,"title":"Page 4","user":"dee","bot":false,"delta":1e3,"tags":["b"],"meta":{},"b64":"4pyT","csv":"1,2","text":"17"}
EOF
}

# The cursor of the message at line N of in.ndjson.
cursor_of() {
	cursor_in in.ndjson "$(head -n "$1" in.ndjson | wc -c)"
}

# same_as_jq [OPTIONS --] PROGRAM: stream-read --filter PROGRAM prints, less
# the _cursor of each line, what `stream-read | jq -c PROGRAM` prints, each
# result that is not an object wrapped as {"value": ...}. OPTIONS go to
# both (--arg, --argjson) or to stream-read only (--json, given in $SR).
same_as_jq() {
	local prog=${*: -1} opts=("${@:1:$#-1}") want got
	want=$(stream-read --exit-at-end $SR in.ndjson |
		jq -c "${opts[@]}" "($prog) | if type == \"object\" then del(._cursor) else {value: .} end") || return 1
	got=$(stream-read --exit-at-end $SR "${opts[@]}" --filter "$prog" in.ndjson |
		sed -E 's/,?"_cursor":"[^"]*"\}$/}/') || return 1
	if [ "$got" != "$want" ]; then
		printf 'program: %s\n  jq:          %s\n  stream-read: %s\n' "$prog" "$want" "$got" >&2
		return 1
	fi
}

# map_same_as_jq PROGRAM: stream-write --map PROGRAM - writes the rows jq
# prints for the same rows.
map_same_as_jq() {
	local prog=$1 want got
	want=$(jq -c "$prog" rows.ndjson) || return 1
	got=$(stream-write --map "$prog" - < rows.ndjson) || return 1
	if [ "$got" != "$want" ]; then
		printf 'program: %s\n  jq:           %s\n  stream-write: %s\n' "$prog" "$want" "$got" >&2
		return 1
	fi
}

# Run each program of a table (one a line on stdin) through CHECK; fail
# after trying them all, naming those that differ.
each_program() {
	local check=$1 prog failed=0 n=0
	while IFS= read -r prog; do
		[ -n "$prog" ] || continue
		n=$((n + 1))
		"$check" "$prog" || failed=$((failed + 1))
	done
	echo "# $n programs, $failed differ" >&3
	[ "$failed" -eq 0 ] && [ "$n" -gt 0 ]
}

@test "--filter gives jq's results over each envelope: a table of programs" {
	SR=--json
	each_program same_as_jq <<'EOF'
.
select(.line.bot == false) | .line | {title, user}
select(.line.id > 100)
empty
.line.tags[]
.line.id, .line.user, .offset
.line.tags | map(ascii_upcase)
reduce .line.tags[] as $t ({}; .[$t] += 1)
[paths]
[paths(type == "number")]
path(.line.meta.lang)
[.line | .. | numbers]
getpath(["line", "meta", "lang"])
.line | del(.tags, .meta, .text)
.line | has("text"), has("nope")
if .line.bot then "bot" elif .line.delta < 0 then "shrink" else "grow" end
.line.meta.size // "none"
[limit(2; .line.tags[], "z")]
first(.line.tags[], "none")
.line.meta | tostring
.line.delta | tostring | tonumber
.line.user | ascii_downcase
.line.csv | split(",")
.line.tags | join("-")
.line.title | test("^page"; "i")
.line.title | gsub("[aeiou]"; "_")
[.line.id, .line.user, .line.delta, .line.bot] | @csv
[.line.id, .line.title] | @tsv
.line.b64 | @base64d
.line.title | @base64, @uri, @html, @sh, @json
.line.text | fromjson
.line.text | fromjson | .inner?
.line | length, (.title | length), (.tags | length)
.line | keys, keys_unsorted
.line.tags | add
[.line.tags[] | {t: .}] | group_by(.t)
.line.tags + ["a"] | unique
.line.meta | to_entries
.line | to_entries | sort_by(.key) | map(.key)
.line | to_entries | min_by(.key | length), max_by(.value | tostring | length)
.line | with_entries(.value |= tostring) | .delta
"\(.line.user) edited \(.line.title) (\(.line.delta))"
try (.line.title | tonumber) catch "not a number"
.line.title | tonumber? // "bad"
.line.delta * 3, .line.delta / 3, .line.delta % 5
env.SK_JQ_TEST, $ENV.SK_JQ_TEST
[.line.tags[] | select(. != "a")] | length
.line | [.id, .bot] | tojson
$__loc__
.line.tags | index("b"), indices("c")
[splits(", *"; null)]?
.line | {(.user): .id}
.line.tags as [$first] | $first
[range(.line.id)] | map(. * .) | add
EOF
}

@test "--filter over text lines: fromjson and friends give jq's results" {
	SR=
	each_program same_as_jq <<'EOF'
.line | fromjson | .title
select(.line | fromjson | .bot == false)
.line | fromjson | .text | fromjson
.line | length
.line | test("Page")
.line | capture("\"user\":\"(?<u>[^\"]*)\"")
.line | split(",")[0]
(.line | fromjson) + {offset}
.line | fromjson | .meta | tojson | fromjson
EOF
}

@test "--arg and --argjson bind variables as jq does" {
	SR=--json
	same_as_jq --arg who me '$who + ":" + .line.user'
	same_as_jq --argjson n '{"k":10}' '.line.id * $n.k'
	same_as_jq --arg a 1 --argjson b 2 '$ARGS.named'
	same_as_jq --arg a first --arg a second '$a'
}

@test "--map gives jq's results over each row: a table of programs" {
	jq -c '.line' < <(stream-read --json --exit-at-end in.ndjson) > rows.ndjson
	each_program map_same_as_jq <<'EOF'
.
{title, user}
select(.bot)
select(.id > 100)
del(.text, .b64)
{id, tags: (.tags | join(","))}
.tags[] as $t | {id, tag: $t}
{id, n: (.tags | length), first: (.tags | first // null)}
{id, d: (.delta * 2), s: (.meta.size // 0)}
.meta + {id}
with_entries(select(.value | type == "string"))
{text: (.text | fromjson)}
{id, up: (.user | ascii_upcase), csv: (.csv | split(","))}
{id, bytes: (.b64 | @base64d)}
reduce .tags[] as $t ({id}; .[$t] = true)
EOF
}

@test "--filter keeps the message's cursor on object results, last" {
	run stream-read --exit-at-end --json --filter '.line | {id, _cursor: "mine"}' in.ndjson
	assert_status 0
	assert_equal "${lines[0]}" "{\"id\":1,\"_cursor\":\"$(cursor_of 1)\"}"
	assert_equal "${lines[3]}" "{\"id\":4,\"_cursor\":\"$(cursor_of 4)\"}"
	run stream-read --count 3 --json --filter '.' in.ndjson
	assert_equal "$output" "$(stream-read --count 3 --json in.ndjson)"
}

@test "--filter wraps other results as {\"value\": ..., \"_cursor\": ...}" {
	run stream-read --exit-at-end --json --filter '.line.id, .line.tags, null, "s"' in.ndjson
	assert_status 0
	assert_equal "${lines[0]}" "{\"value\":1,\"_cursor\":\"$(cursor_of 1)\"}"
	assert_equal "${lines[1]}" "{\"value\":[\"a\",\"b\"],\"_cursor\":\"$(cursor_of 1)\"}"
	assert_equal "${lines[2]}" "{\"value\":null,\"_cursor\":\"$(cursor_of 1)\"}"
	assert_equal "${lines[3]}" "{\"value\":\"s\",\"_cursor\":\"$(cursor_of 1)\"}"
	assert_equal "${#lines[@]}" 16
}

@test "--filter prints nothing for a message without results, several lines for several" {
	run stream-read --exit-at-end --json --filter '.line.tags[]' in.ndjson
	assert_status 0
	assert_equal "${#lines[@]}" 6
	assert_equal "${lines[2]}" "{\"value\":\"c\",\"_cursor\":\"$(cursor_of 3)\"}"
}

@test "a compile error prints jq's message and exits 64" {
	run stream-read --filter '.line | {' in.ndjson
	assert_status 64
	assert_output_contains "stream-read: --filter: jq: error: syntax error"
	run stream-read --filter '$nope' in.ndjson
	assert_status 64
	assert_output_contains 'stream-read: --filter: jq: error: $nope is not defined'
	run stream-write --map 'foo(1)' -
	assert_status 64
	assert_output_contains "stream-write: --map: jq: error: foo/1 is not defined"
}

@test "--arg without --filter, or without its value, is a usage error" {
	run stream-read --arg a b in.ndjson
	assert_status 64
	assert_output_contains "need --filter"
	run stream-read --filter . --arg a
	assert_status 64
	assert_output_contains "--arg a: missing value"
	run stream-read --filter . --argjson a '{' in.ndjson
	assert_status 64
	assert_output_contains "invalid JSON text"
	run stream-write --map . --arg 9x v -
	assert_status 64
	assert_output_contains "invalid variable name '9x'"
}

@test "a runtime error fails with the input and the message's position (exit 65)" {
	run stream-read --exit-at-end --json --filter '.line.id, (.line.meta.size | tostring | . + 1)' in.ndjson
	assert_status 65
	assert_equal "${#lines[@]}" 1
	assert_output_contains "stream-read: in.ndjson: message $(cursor_of 1): --filter: jq: error: string (\"1.5\") and number (1) cannot be added"
	# What came before the failing message is delivered; none of its own results are.
	run stream-read --exit-at-end --json --filter '.line.id, (.line | select(.id == 2) | error("boom"))' in.ndjson
	assert_status 65
	assert_equal "${lines[0]}" "{\"value\":1,\"_cursor\":\"$(cursor_of 1)\"}"
	assert_equal "${lines[1]}" "stream-read: in.ndjson: message $(cursor_of 2): --filter: jq: error: boom"
	assert_equal "${#lines[@]}" 2
}

@test "a runtime error with --on-error skip drops that message and goes on" {
	run stream-read --exit-at-end --json --on-error skip --filter '.line | {id, n: (.title | tonumber)}' in.ndjson
	assert_status 0
	assert_output_contains "message $(cursor_of 2): --filter: jq: error: Invalid numeric literal at line 1, column 5 (while parsing 'page two'); skipped"
	assert_output_contains "in.ndjson: 4 bad messages skipped"
	run stream-read --exit-at-end --json --on-error skip --filter '.line | select(.id != 2) | .id + (.title | length)' in.ndjson
	assert_status 0
	assert_equal "${#lines[@]}" 3
}

@test "a runtime error with --on-error dead-letter:PATH records the message and goes on" {
	stream-read --exit-at-end --json --on-error dead-letter:dead.ndjson \
		--filter '.line | if .bot then error("bots are not welcome") else {id} end' in.ndjson > out 2> err
	assert_equal "$(jq -c .id out)" "$(printf '%s\n' 1 3 4)"
	assert_equal "$(cat err)" "stream-read: in.ndjson: 1 bad message written to dead.ndjson"
	assert_equal "$(wc -l < dead.ndjson)" 1
	assert_equal "$(jq -r .error dead.ndjson)" \
		"message $(cursor_of 2): --filter: jq: error: bots are not welcome"
	# The message read whole is in "message", as its envelope.
	assert_equal "$(jq -c 'keys_unsorted' dead.ndjson)" '["input","error","message"]'
	assert_equal "$(jq -c '[.input, .message.line.id, .message._cursor]' dead.ndjson)" "[\"in.ndjson\",2,\"$(cursor_of 2)\"]"
}

@test "--filter dropping messages loses nothing: the pipeline commits past them" {
	stream-read --name r --exit-at-end --json --filter 'select(.line.bot) | .line' in.ndjson |
		stream-write --name r dataset:out
	assert_equal "$(dataset_rows out | jq -c '[.id, .user]')" '[2,"BOB"]'
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" "$(position_in in.ndjson "$(head -n 2 in.ndjson | wc -c)")"
	run stream-read --name r --exit-at-end --json --filter '.line.id' in.ndjson
	assert_equal "$output" "{\"value\":3,\"_cursor\":\"$(cursor_of 3)\"}"$'\n'"{\"value\":4,\"_cursor\":\"$(cursor_of 4)\"}"
}

@test "--count counts messages read, whether the filter keeps them or not" {
	run stream-read --count 3 --json --filter 'select(.line.bot | not) | .line.id' in.ndjson
	assert_status 0
	assert_equal "$output" "{\"value\":1,\"_cursor\":\"$(cursor_of 1)\"}"$'\n'"{\"value\":3,\"_cursor\":\"$(cursor_of 3)\"}"
}

@test "--filter results are flushed as messages come, not held back" {
	mkfifo feed
	stream-read --filter '.line | ascii_upcase' feed > out.ndjson &
	local pid=$!
	exec 4<> feed
	echo hello >&4
	wait_for 10 grep -q HELLO out.ndjson
	exec 4>&-
	wait "$pid"
	assert_equal "$(jq -c .value out.ndjson)" '"HELLO"'
}

@test "--map keeps each row's cursor on its results and commits it" {
	stream-read --name r --exit-at-end --json in.ndjson |
		stream-write --name r --map '.line | {id, user}' dataset:out
	assert_equal "$(dataset_rows out | jq -c .)" \
		"$(printf '{"id":%s,"user":"%s"}\n' 1 Ada 2 BOB 3 Cy 4 dee)"
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" "$(position_in in.ndjson "$(wc -c < in.ndjson)")"
}

@test "--map commits the cursor of a row the program drops" {
	stream-read --name r --exit-at-end --json in.ndjson |
		stream-write --name r --map 'select(.line.id < 3) | .line | {id}' dataset:out
	assert_equal "$(dataset_rows out | jq -c .)" "$(printf '{"id":%s}\n' 1 2)"
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" "$(position_in in.ndjson "$(wc -c < in.ndjson)")"
	stream-read --name r --exit-at-end --json in.ndjson | stream-write --name r --map '{x: 1}' dataset:out
	assert_equal "$(dataset_rows out | wc -l)" 2
}

@test "--map runs over each row of a batch and over a tuple" {
	run stream-write --map 'if type == "array" then {n: .[0], m: 1} else {n, m: 1} end' - <<'EOF'
[{"n":1},{"n":2}]
[3,"x"]
EOF
	assert_status 0
	assert_equal "$output" "$(printf '{"n":%s,"m":1}\n' 1 2 3)"
}

@test "--map: a result that is not an object is a bad row" {
	printf '{"n":1}\n{"n":2}\n{"n":3}\n' > rows.ndjson
	run stream-write --map 'if .n == 2 then .n else . end' - < rows.ndjson
	assert_status 65
	assert_equal "${lines[0]}" '{"n":1}'
	assert_output_contains "stream-write: <stdin>:2: --map: result 1: expected an object (a row), got number"
	run stream-write --on-error skip --map 'if .n == 2 then .n else . end' - < rows.ndjson
	assert_status 0
	assert_equal "$(printf '%s\n' "${lines[@]}" | grep -c '^{')" 2
	assert_output_contains "skipped 1 bad rows"
}

@test "--map: a runtime error follows --on-error, and the row's cursor still commits" {
	printf '{"n":%s,"_cursor":"file:/src:0:%s"}\n' 1 10 '"x"' 20 3 30 > rows.ndjson
	run stream-write --name r --map '{m: (.n + 1)}' dataset:out < rows.ndjson
	assert_status 65
	assert_output_contains "<stdin>:2: --map: jq: error: string (\"x\") and number (1) cannot be added"
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 10
	run stream-write --name r --on-error dead-letter:dead.ndjson --map '{m: (.n + 1)}' dataset:out < rows.ndjson
	assert_status 0
	assert_equal "$(cat dead.ndjson)" '{"n":"x","_cursor":"file:/src:0:20"}'
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 30
}

@test "an integer beyond 2^53 passed through unchanged keeps its digits" {
	printf '{"big":9007199254740993,"neg":-9223372036854775807}\n' > big.ndjson
	run stream-read --exit-at-end --json --filter '.line' big.ndjson
	assert_output_contains '{"big":9007199254740993,"neg":-9223372036854775807,'
	run stream-write --map '{big, neg, sum: (.big + 2)}' - < big.ndjson
	assert_equal "$output" '{"big":9007199254740993,"neg":-9223372036854775807,"sum":9007199254740994}'
}

@test "jq's debug and stderr write to standard error, results to standard output" {
	run stream-read --exit-at-end --json --filter '.line.id | debug | . * 2' in.ndjson
	assert_status 0
	assert_output_contains '["DEBUG:",1]'
	assert_output_contains "{\"value\":2,\"_cursor\":\"$(cursor_of 1)\"}"
	assert_equal "$(stream-read --exit-at-end --json --filter '.line.id | debug' in.ndjson 2>/dev/null | wc -l)" 4
}
