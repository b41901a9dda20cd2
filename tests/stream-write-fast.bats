#!/usr/bin/env bats
# stream-write's fast path: a line that is one plain object whose values need
# no coercion is staged as its own text, less _cursor. Every test here writes
# the same rows twice, once as they are and once with a space after the
# opening brace (which takes the slow path: parse, coerce, serialise), and
# wants the same parts and the same committed positions.

bats_require_minimum_version 1.5.0
load helpers/common

setup() { setup_scratch; }

SCHEMA='[{"name":"id","type":"bigint"},{"name":"i","type":"int"},{"name":"f","type":"double"},
{"name":"s","type":"string"},{"name":"b","type":"boolean"},{"name":"d","type":"date"}]'

position() { state_sql "SELECT position FROM positions WHERE name = '$1'" 2>/dev/null; }

# both_ways FILE [OPTIONS...]: write FILE to dataset:fast under the name fast,
# and FILE with a space after each line's '{' to dataset:slow under slow.
both_ways() {
	local in=$1
	shift
	sed 's/^{/{ /' "$in" >slow.ndjson
	stream-write --name fast "$@" dataset:fast <"$in"
	stream-write --name slow "$@" dataset:slow <slow.ndjson
}

# same_parts: the two datasets hold the same bytes, part by part.
same_parts() {
	local f
	[ "$(cd fast && ls part-*)" = "$(cd slow && ls part-*)" ]
	for f in fast/part-*; do
		cmp "$f" "slow/${f#fast/}"
	done
	cmp fast/schema.json slow/schema.json
}

@test "rows that need no change are written as they came, less _cursor, as the slow path writes them" {
	cat >in.ndjson <<-'EOF'
	{"id":1,"i":2,"f":1.50,"s":"café","b":true,"d":"2024-02-29","_cursor":"f:0:1"}
	{"_cursor":"f:0:2","id":2,"i":-7,"f":1E2,"s":"x/y","b":false,"d":"2024-01-01T00:00:00Z"}
	{"id":3,"_cursor":"f:0:3","i":null,"f":-0.0,"s":"","b":null,"d":null}
	{"id":9223372036854775807,"i":2147483647,"f":18446744073709551615,"s":"a","b":true,"d":"2024-01-01"}
	{"id":-9223372036854775808,"i":-2147483648,"f":0.1e-5,"s":"\u00e9","b":false,"d":"2024-01-01"}
	EOF
	both_ways in.ndjson --schema "$SCHEMA"
	same_parts
	assert_equal "$(dataset_rows fast)" '{"id":1,"i":2,"f":1.50,"s":"café","b":true,"d":"2024-02-29"}
{"id":2,"i":-7,"f":1E2,"s":"x/y","b":false,"d":"2024-01-01T00:00:00Z"}
{"id":3,"i":null,"f":-0.0,"s":"","b":null,"d":null}
{"id":9223372036854775807,"i":2147483647,"f":18446744073709551615,"s":"a","b":true,"d":"2024-01-01"}
{"id":-9223372036854775808,"i":-2147483648,"f":0.1e-5,"s":"é","b":false,"d":"2024-01-01"}'
	assert_equal "$(position fast)" 3
	assert_equal "$(position slow)" 3
}

@test "rows that need a change take the slow path and are written the same" {
	cat >in.ndjson <<-'EOF'
	{"id":1,"i":-0,"f":1,"s":"x","b":true,"d":"2024-01-01","_cursor":"f:0:1"}
	{"i":5,"id":2,"f":1.5,"s":"x","b":true,"d":"2024-01-01","_cursor":"f:0:2"}
	{"id":3,"i":"6","f":"2.50","s":7,"b":"true","d":1700000000000,"_cursor":"f:0:3"}
	{"id":4,"i":1,"f":1.5,"s":"x","b":true,"_cursor":"f:0:4"}
	{"id":5,"i":1,"f":1.5,"s":"x","b":true,"d":"2024-01-01","id":6,"_cursor":"f:0:5"}
	{"id":7,"i":1,"f":1.5,"s":"x","b":true,"d":"2024-01-01","_cursor":"f:0:6","_cursor":"f:0:7"}
	{"id":8,"i":1.0,"f":1.5,"s":"x","b":true,"d":"2024-01-01"}
	[9,1,1.5,"x",true,"2024-01-01"]
	[{"id":10,"i":1,"f":1.5,"s":"x","b":true,"d":"2024-01-01","_cursor":"f:0:8"}]
	EOF
	both_ways in.ndjson --schema "$SCHEMA"
	same_parts
	assert_equal "$(dataset_rows fast)" '{"id":1,"i":0,"f":1,"s":"x","b":true,"d":"2024-01-01"}
{"id":2,"i":5,"f":1.5,"s":"x","b":true,"d":"2024-01-01"}
{"id":3,"i":6,"f":2.50,"s":"7","b":true,"d":"2023-11-14T22:13:20.000Z"}
{"id":4,"i":1,"f":1.5,"s":"x","b":true,"d":null}
{"id":6,"i":1,"f":1.5,"s":"x","b":true,"d":"2024-01-01"}
{"id":7,"i":1,"f":1.5,"s":"x","b":true,"d":"2024-01-01"}
{"id":8,"i":1,"f":1.5,"s":"x","b":true,"d":"2024-01-01"}
{"id":9,"i":1,"f":1.5,"s":"x","b":true,"d":"2024-01-01"}
{"id":10,"i":1,"f":1.5,"s":"x","b":true,"d":"2024-01-01"}'
	assert_equal "$(position fast)" 8
	assert_equal "$(position slow)" 8
}

@test "a schema inferred from the first row gives the same parts both ways" {
	awk 'BEGIN { for (i = 1; i <= 20000; i++)
		printf "{\"id\":%d,\"title\":\"Page %d\",\"bot\":%s,\"delta\":%d,\"ratio\":%d.25,\"_cursor\":\"f:0:%d\"}\n",
		       i, i % 1000, i % 4 ? "false" : "true", (i * 37) % 2001 - 1000, i % 7, i }' >in.ndjson
	both_ways in.ndjson --checkpoint-rows 3000 --checkpoint-interval 0
	same_parts
	assert_equal "$(ls fast/part-* | wc -l)" 7
	assert_equal "$(dataset_rows fast | wc -l)" 20000
	assert_equal "$(dataset_rows fast | sed -n 4p)" '{"id":4,"title":"Page 4","bot":true,"delta":-852,"ratio":4.25}'
	assert_equal "$(position fast)" 20000
}

@test "an integer beyond 64 bits makes its line bad instead of being clamped (exit 65)" {
	printf '%s\n' '{"id":1,"_cursor":"f:0:1"}' '{"id":18446744073709551616,"_cursor":"f:0:2"}' >in.ndjson
	run --separate-stderr stream-write --name r dataset:out <in.ndjson
	assert_status 65
	assert_equal "$stderr" "stream-write: <stdin>:2: number at byte 7: integer out of the 64-bit range (write it as a string)"
	assert_equal "$(dataset_rows out)" '{"id":1}'
	printf '%s\n' '{"id":-9223372036854775809}' '{"id":2}' >in2.ndjson
	run --separate-stderr stream-write --on-error=skip dataset:out <in2.ndjson
	assert_status 0
	assert_equal "$(dataset_rows out)" $'{"id":1}\n{"id":2}'
}

@test "UTF-8 that json-c would let through is refused: surrogates, overlong forms, beyond U+10FFFF" {
	local bad
	for bad in '\xed\xa0\x80' '\xc0\xaf' '\xf4\x90\x80\x80'; do
		printf "{\"s\":\"a${bad}\"}\n" >in.ndjson
		run --separate-stderr stream-write dataset:out <in.ndjson
		assert_status 65
		assert_equal "$stderr" "stream-write: <stdin>:1: invalid JSON at byte 8: invalid utf-8 string"
	done
	printf '{"s":"caf\xc3\xa9 \xf0\x9f\x98\x80"}\n' >in.ndjson
	run --separate-stderr stream-write dataset:out <in.ndjson
	assert_status 0
	assert_equal "$(dataset_rows out)" "$(cat in.ndjson)"
}

@test "CSV parts take the slow path and are unchanged" {
	printf '%s\n' '{"id":1,"s":"a,b","_cursor":"f:0:1"}' '{"id":2,"s":"c","_cursor":"f:0:2"}' >in.ndjson
	run --separate-stderr stream-write --name r --format csv dataset:out <in.ndjson
	assert_status 0
	assert_equal "$(dataset_rows out)" $'id,s\r\n1,"a,b"\r\n2,c\r'
	assert_equal "$(position r)" 2
}

# The fast path decides with cJSON and the lexical pass; json-c, the slow
# path, is the reference for every line that is not plainly a row that
# needs no change.
@test "rows cJSON reads otherwise than json-c, or that need a change, fall back to the slow path" {
	local schema='[{"name":"id","type":"bigint"},{"name":"i","type":"int"},{"name":"f","type":"double"},
{"name":"g","type":"float"},{"name":"s","type":"string"},{"name":"d","type":"date"}]'
	cat >in.ndjson <<-'EOF'
	{"id":1,"i":1,"f":1.5,"g":1.5,"s":"x","d":"2024-01-01","_cursor":"f:0:1"}
	{"id":1234567890123456789,"i":1,"f":1.5,"g":1.5,"s":"x","d":"2024-01-01","_cursor":"f:0:2"}
	{"id":123456789012345678,"i":2147483647,"f":1e-400,"g":-2147483648,"s":"x","d":"2024-01-01","_cursor":"f:0:3"}
	{"id":4,"i":2147483648,"f":1.5,"g":1.5,"s":"x","d":"2024-01-01","_cursor":"f:0:4"}
	{"id":5,"i":1,"f":1e999,"g":1.5,"s":"x","d":"2024-01-01","_cursor":"f:0:5"}
	{"id":6,"i":1,"f":1.5,"g":1e39,"s":"x","d":"2024-01-01","_cursor":"f:0:6"}
	{"id":7,"i":1,"f":1.5,"g":1.5,"s":"x","d":"2024-02-30","_cursor":"f:0:7"}
	{"id":8,"i":1,"f":1.5,"g":1.5,"s":"a\u0000b","d":null,"_cursor":"f:0:8"}
	{"id":9,"i":1,"f":1.5,"g":1.5,"s":{"a":1},"d":null,"_cursor":"f:0:9"}
	{"id":10,"i":1,"f":1.5,"g":1.5,"s":"x","d":null,"_cursor":"f:0:10"true}
	{"id":11,"i":1,"f":1.5,"g":1.5,"s":"x","d":null,"_cursor":"f:0:11"}}
	{"id":12,"i":1,"f":1.5,"g":1.5,"s":"x","d":null,"_cursor":"f:0:12",}
	{"id":13,"i":1,"f":1.5,"g":1.5,"s":"x""d":null,"_cursor":"f:0:13"}
	{"id":14,"i":1,"f":1.5,"g":1.5,"s":"x","d":null,"_cursor":7}
	{"id":15,"i":1,"f":1.5,"g":1.5,"s":"x","d":null,"_cursor":"no-colons"}
	{"id":16,"i":1,"f":1.5,"g":1.5,"s":"x","d":null,"s":"y","_cursor":"f:0:16"}
	{"id":17,"i":1,"f":1.5,"g":1.5,"s":"x","d":"2024-01-01T10:00:00.5+01:00","_cursor":"f:0:17"}
	{"id":18,"i":1,"f":1.5,"g":1.5,"s":"x","d":"2024-01-01","_cursor":"f:0:18","id":19}
	{"id":20,"i":1,"f":1.5,"g":1.5,"s":"x","d":1700000000000,"_cursor":"f:0:20"}
	{"id":-0,"i":-0,"f":-0,"g":1E+2,"s":"x","d":"2024-01-01","_cursor":"f:0:21"}
	{"id":22,"i":"2","f":2,"g":1.5,"s":true,"d":"2024-01-01","_cursor":"f:0:22"}tru
	{"id":23,"i":1,"f":1.5,"g":1.5,"s":"x","d":"2024-01-01","_cursor":"f:0:23"
	EOF
	sed 's/^{/{ /' in.ndjson >slow.ndjson
	stream-write -v --on-error=skip --schema "$schema" --name fast dataset:fast <in.ndjson 2>fast.err
	stream-write -v --on-error=skip --schema "$schema" --name slow dataset:slow <slow.ndjson 2>slow.err
	same_parts
	assert_equal "$(dataset_rows fast)" '{"id":1,"i":1,"f":1.5,"g":1.5,"s":"x","d":"2024-01-01"}
{"id":1234567890123456789,"i":1,"f":1.5,"g":1.5,"s":"x","d":"2024-01-01"}
{"id":123456789012345678,"i":2147483647,"f":1e-400,"g":-2147483648,"s":"x","d":"2024-01-01"}
{"id":8,"i":1,"f":1.5,"g":1.5,"s":"a\u0000b","d":null}
{"id":16,"i":1,"f":1.5,"g":1.5,"s":"y","d":null}
{"id":17,"i":1,"f":1.5,"g":1.5,"s":"x","d":"2024-01-01T10:00:00.5+01:00"}
{"id":19,"i":1,"f":1.5,"g":1.5,"s":"x","d":"2024-01-01"}
{"id":20,"i":1,"f":1.5,"g":1.5,"s":"x","d":"2023-11-14T22:13:20.000Z"}
{"id":0,"i":0,"f":0,"g":1E+2,"s":"x","d":"2024-01-01"}'
	# The same messages, but for byte offsets: the slow lines have one more byte.
	assert_equal "$(sed 's/at byte [0-9]*/at byte N/' fast.err)" "$(sed 's/at byte [0-9]*/at byte N/' slow.err)"
	assert_equal "$(grep -c '^stream-write: <stdin>:' fast.err)" 13
	assert_equal "$(sed -n 1p fast.err)" 'stream-write: <stdin>:4: column "i": 2147483648 is out of range for int'
	assert_equal "$(grep -c ':1[0-3]: invalid JSON' fast.err)" 4
	assert_equal "$(position fast)" 21
	assert_equal "$(position slow)" 21
}

@test "a bad line after thousands of rows read ahead is named by its number, and the rows before it are committed" {
	awk 'BEGIN { for (i = 1; i <= 5000; i++)
		if (i == 3001) print "{\"id\":3001,\"title\":\"x\",\"_cursor\":\"f:0:3001\""
		else printf "{\"id\":%d,\"title\":\"Page %d\",\"_cursor\":\"f:0:%d\"}\n", i, i, i }' >in.ndjson
	run --separate-stderr stream-write --name r --checkpoint-rows 1000 dataset:out <in.ndjson
	assert_status 65
	assert_equal "$stderr" "stream-write: <stdin>:3001: invalid JSON at byte 44: unexpected end of data"
	assert_equal "$(dataset_rows out | wc -l)" 3000
	assert_equal "$(dataset_rows out | tail -n 1)" '{"id":3000,"title":"Page 3000"}'
	assert_equal "$(position r)" 3000
}

@test "bad lines among many good ones are skipped by number, in order, across the batches read ahead" {
	awk 'BEGIN { for (i = 1; i <= 20000; i++)
		if (i % 997 == 0) printf "{\"id\":\"not a number\",\"title\":\"Page %d\",\"_cursor\":\"f:0:%d\"}\n", i, i
		else printf "{\"id\":%d,\"title\":\"Page %d\",\"_cursor\":\"f:0:%d\"}\n", i, i, i }' >in.ndjson
	run --separate-stderr stream-write -v --on-error=skip --name r --checkpoint-rows 3000 dataset:out <in.ndjson
	assert_status 0
	assert_equal "$(grep -o '<stdin>:[0-9]*' <<<"$stderr" | cut -d: -f2 | tr '\n' ' ')" \
		"$(seq 997 997 20000 | tr '\n' ' ')"
	assert_equal "$(dataset_rows out | wc -l)" $((20000 - 20))
	assert_equal "$(dataset_rows out | sed -n 997p)" '{"id":998,"title":"Page 998"}'
	assert_equal "$(position r)" 20000
}

# recentchange N: N Wikipedia-recentchange-shaped rows (nested objects,
# unicode, escapes: scripts/wiki-events), each with a _cursor.
recentchange() {
	"$SK_SRCDIR/scripts/wiki-events" "$1" |
		awk '{ printf "%s,\"_cursor\":\"f:0:%d\"}\n", substr($0, 1, length($0) - 1), NR }'
}

@test "rows shaped like real events (nesting, unicode, escapes) are written as the slow path writes them" {
	recentchange 2000 >in.ndjson
	both_ways in.ndjson --checkpoint-rows 500
	same_parts
	assert_equal "$(position fast)" "$(position slow)"
	# each row as its event was, _cursor aside
	assert_equal "$(cat fast/part-* | jq -c . | md5sum)" "$(jq -c 'del(._cursor)' in.ndjson | md5sum)"
	mkdir csv && cd csv
	both_ways ../in.ndjson --checkpoint-rows 500 --format csv
	same_parts
	cd ..
	sed 's/^{/{ /' in.ndjson >slow.ndjson
	stream-write --name fastdb 'sqlite:fast.db?table=t' <in.ndjson
	stream-write --name slowdb 'sqlite:slow.db?table=t' <slow.ndjson
	assert_equal "$(sqlite3 fast.db 'SELECT * FROM t' | md5sum)" "$(sqlite3 slow.db 'SELECT * FROM t' | md5sum)"
	assert_equal "$(sqlite3 fast.db 'SELECT count(*) FROM t')" 2000
}
