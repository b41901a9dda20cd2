#!/usr/bin/env bats
# stream-read: the file source, resuming, following, stopping, bad input.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/files
load helpers/pipeline

setup() { setup_scratch; }

teardown() {
	if [ -n "${READER:-}" ]; then
		kill "$READER" 2>/dev/null || true
		wait "$READER" 2>/dev/null || true
	fi
	stop_pipeline
}

# start_reader OUT ARGS...: stream-read in the background, stdout to OUT,
# stderr to OUT.err; its pid in READER.
start_reader() {
	local out=$1; shift
	stream-read "$@" >"$out" 2>"$out.err" 3>&- &
	READER=$!
}

lines_in() { [ "$(wc -l <"$2")" -ge "$1" ]; }
exited() { ! kill -0 "$1" 2>/dev/null; }

# The value of jq filter $1 over the envelopes in file $2, one per line.
field() { jq -r "$1" "$2"; }

@test "prints one envelope per line: line, offset and _cursor" {
	printf 'alpha\nbe\n\ngamma\n' >in.txt
	run --separate-stderr stream-read in.txt
	assert_status 0
	assert_equal "${#lines[@]}" 4
	printf '%s\n' "$output" >out
	assert_equal "$(field .line out | paste -sd,)" "alpha,be,,gamma"
	assert_equal "$(field .offset out | paste -sd,)" "0,6,9,10"
	assert_equal "$(field ._cursor out | paste -sd,)" \
		"$(cursor_in in.txt 6),$(cursor_in in.txt 9),$(cursor_in in.txt 10),$(cursor_in in.txt 16)"
	assert_equal "$(jq -c 'keys_unsorted' out | sort -u)" '["line","offset","_cursor"]'
}

@test "file:PATH, a plain path and a symbolic link name the same source" {
	printf 'x\n' >in.txt
	ln -s in.txt link.txt
	a=$(stream-read in.txt | jq -r ._cursor)
	b=$(stream-read "file:$PWD/in.txt" | jq -r ._cursor)
	c=$(stream-read file:link.txt | jq -r ._cursor)
	assert_equal "$a" "$(cursor_in in.txt 2)"
	assert_equal "$b" "$a"
	assert_equal "$c" "$a"
}

@test "a final line without a newline is read at the end of the file, as cat does, without --name" {
	printf 'one\ntwo' >in.txt
	run --separate-stderr stream-read in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r '"\(.line) \(.offset) \(._cursor)"' | tail -n 1)" \
		"two 4 $(cursor_in in.txt 7)"
	assert_equal "$stderr" ""
}

@test "CRLF line endings are not part of the line" {
	printf 'a\r\nb\r\n' >in.txt
	run --separate-stderr stream-read in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -c '[.line, .offset]' | paste -sd' ')" '["a",0] ["b",3]'
}

@test "reads standard input when the endpoint is - or absent" {
	run --separate-stderr bash -c "printf 'x\ny\n' | stream-read"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r ._cursor | paste -sd,)" "stdin:0:2,stdin:0:4"
	run --separate-stderr bash -c "printf 'z\n' | stream-read -"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line)" "z"
}

@test "--json embeds lines that are JSON and keeps the others as strings" {
	printf '%s\n' '{"a":1,"big":12345678901234567890}' 'not json' '[1,2]' '"s"' '{"a":' >in.txt
	run --separate-stderr stream-read --json in.txt
	assert_status 0
	assert_equal "${lines[0]}" "{\"line\":{\"a\":1,\"big\":12345678901234567890},\"offset\":0,\"_cursor\":\"$(cursor_in in.txt 35)\"}"
	printf '%s\n' "$output" >out
	# (jq 1.6 rounds big numbers, so the first line is checked as text above.)
	assert_equal "$(tail -n +2 out | jq -c .line | paste -sd' ')" '"not json" [1,2] "s" "{\"a\":"'
}

@test "--json keeps a line with an escape that is not JSON's as a string" {
	# cJSON takes \u with other bytes than hex digits: the output was not JSON.
	printf '%s\n' '{"a":[1,"\u/0e9"]}' '["\uzzzz"]' '["\q"]' '{"b":"\u00e9\/\t"}' >in.txt
	run --separate-stderr stream-read --json in.txt
	assert_status 0
	printf '%s\n' "$output" >out
	assert_equal "$(jq -c .line out | paste -sd' ')" \
		'"{\"a\":[1,\"\\u/0e9\"]}" "[\"\\uzzzz\"]" "[\"\\q\"]" {"b":"é/\t"}'
}

@test "a json setting of a named endpoint embeds like --json" {
	printf '{"a":1}\n' >in.txt
	printf '[events]\nurl = file:%s/in.txt\njson = true\n' "$PWD" >"$STREAMKIT_ENDPOINTS"
	run --separate-stderr stream-read events
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -c .line)" '{"a":1}'
}

@test "invalid UTF-8 and control bytes still give valid JSON" {
	printf 'ok\xff\xfe \xc3\x28 tab\there bell\x07\n\xe2\x82\xac\n' >in.txt
	run --separate-stderr stream-read in.txt
	assert_status 0
	printf '%s\n' "$output" >out
	jq -e . out >/dev/null
	assert_equal "$(jq -r .line out | head -n 1)" "$(printf 'ok\xc3\xbf\xc3\xbe \xc3\x83( tab\there bell\x07')"
	assert_equal "$(jq -r .line out | tail -n 1)" "$(printf '\xe2\x82\xac')"
}

@test "--binary=base64 values decode to the exact bytes of each line" {
	printf 'a\x00b\xff\xfe\n\nplain text\n' >in.txt
	run --separate-stderr stream-read --binary=base64 in.txt
	assert_status 0
	printf '%s\n' "$output" >out
	jq -r '.line' out | sed -n 1p | base64 -d >got1
	printf 'a\x00b\xff\xfe' >want1
	cmp got1 want1
	assert_equal "$(jq -r .line out | sed -n 2p)" ""
	assert_equal "$(jq -r .line out | sed -n 3p | base64 -d)" "plain text"
	assert_equal "$(jq -r .offset out | paste -sd,)" "0,6,7"
}

@test "resumes right after the position committed for its name" {
	seq 1 5 >in.txt
	cursor=$(stream-read in.txt | sed -n 2p | jq -r ._cursor)
	stream-checkpoint set r "$cursor"
	run --separate-stderr stream-read --name r in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "3,4,5"
	# The name may come from the environment, and file: URLs are the same source.
	run --separate-stderr env STREAMKIT_NAME=r stream-read "file:$PWD/in.txt"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "3,4,5"
}

@test "resumes after a clean stop at the last line it printed" {
	seq 1 10 >in.txt
	run --separate-stderr stream-read --name r --count 4 in.txt
	assert_status 0
	stream-checkpoint set r "$(printf '%s\n' "$output" | tail -n 1 | jq -r ._cursor)"
	run --separate-stderr stream-read --name r in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "5,6,7,8,9,10"
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" "$(position_in in.txt 8)"
}

@test "a stored position beyond the end of a shorter file restarts it from 0 with a warning" {
	seq 1 100 >in.txt
	stream-checkpoint set r "file:$PWD/in.txt:0:200"
	seq 1 3 >in.txt
	run --separate-stderr stream-read --name r in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "1,2,3"
	[[ "$stderr" == *"in.txt: file is shorter than the stored position 200"* ]]
}

@test "-q silences warnings" {
	seq 1 100 >in.txt
	stream-checkpoint set r "file:$PWD/in.txt:0:200"
	seq 1 3 >in.txt
	run --separate-stderr stream-read -q --name r in.txt
	assert_status 0
	assert_equal "$stderr" ""
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "1,2,3"
}

@test "--from latest starts at the end; a stored position wins over it" {
	printf 'old1\nold2\n' >in.txt
	run --separate-stderr stream-read --from latest in.txt
	assert_status 0
	assert_equal "$output" ""
	stream-checkpoint set r "file:$PWD/in.txt:0:5"
	run --separate-stderr stream-read --name r --from latest in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line)" "old2"
}

@test "--from latest with -f (--follow) prints only lines written after it started" {
	printf 'old1\nold2\n' >in.txt
	start_reader out -v -f --from latest in.txt
	wait_for 10 grep -q 'starting at offset 10' out.err
	printf 'new\n' >>in.txt
	wait_for 10 lines_in 1 out
	assert_equal "$(field .line out)" "new"
	assert_equal "$(field .offset out)" "10"
}

@test "--count N stops after N messages, with or without --follow" {
	seq 1 10 >in.txt
	run --separate-stderr stream-read --count 3 in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "1,2,3"
	run --separate-stderr timeout 20 stream-read --follow --count 2 in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "1,2"
}

@test "--exit-at-end stops a follower once it has caught up" {
	seq 1 3 >in.txt
	run --separate-stderr timeout 20 stream-read --follow --exit-at-end in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "1,2,3"
}

@test "a follower holds back a final line until its newline is written" {
	printf 'a\nb' >in.txt
	run --separate-stderr timeout 20 stream-read --follow --exit-at-end in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "a"
	start_reader out --follow in.txt
	wait_for 10 lines_in 1 out
	printf 'c\n' >>in.txt
	wait_for 10 lines_in 2 out
	assert_equal "$(field '"\(.line) \(.offset)"' out | paste -sd,)" "a 0,bc 2"
}

@test "--idle-timeout stops a follower after that much silence" {
	printf 'a\n' >in.txt
	start=$(date +%s%N)
	run --separate-stderr timeout 20 stream-read --follow --idle-timeout 300ms in.txt
	elapsed_ms=$((($(date +%s%N) - start) / 1000000))
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line)" "a"
	[ "$elapsed_ms" -ge 300 ]
}

@test "a line appended while it follows is printed at once, not held back" {
	printf 'first\n' >in.txt
	start_reader out --follow in.txt
	wait_for 10 lines_in 1 out
	printf 'second\n' >>in.txt
	wait_for 10 lines_in 2 out
	kill -0 "$READER"
	assert_equal "$(field .line out | paste -sd,)" "first,second"
}

@test "lines from a pipe are printed as they come, and its end stops the reader" {
	mkfifo pipe
	start_reader out file:pipe
	# Opened after the reader started, so that the reader holds no write end.
	exec 4<>pipe
	echo a >&4
	wait_for 10 lines_in 1 out
	echo b >&4
	wait_for 10 lines_in 2 out
	exec 4>&-
	wait_for 10 exited "$READER"
	status=0
	wait "$READER" || status=$?
	READER=
	assert_status 0
	assert_equal "$(field '"\(.line) \(.offset)"' out | paste -sd,)" "a 0,b 2"
}

@test "--follow continues across rotation: old file finished, new file from 0" {
	printf '1\n2\n' >log
	start_reader out --follow log
	wait_for 10 lines_in 2 out
	mv log log.1
	printf '3\nlast' >>log.1
	printf '4\n' >log
	wait_for 10 lines_in 5 out
	assert_equal "$(field .line out | paste -sd,)" "1,2,3,last,4"
	assert_equal "$(field ._cursor out | tail -n 1)" "$(cursor_in log 2)"
}

@test "--follow waits for a removed file to come back" {
	printf '1\n' >log
	start_reader out --follow log
	wait_for 10 lines_in 1 out
	rm log
	printf '2\n' >log.new
	mv log.new log
	wait_for 10 lines_in 2 out
	assert_equal "$(field .line out | paste -sd,)" "1,2"
}

@test "--follow waits for a file that does not exist yet" {
	start_reader out --follow later.txt
	wait_for 10 grep -q 'later.txt: No such file or directory; waiting for it to appear' out.err
	printf 'here\n' >later.txt
	wait_for 10 lines_in 1 out
	assert_equal "$(field ._cursor out)" "$(cursor_in later.txt 5)"
}

@test "--follow starts over from 0 when the file is truncated" {
	printf 'aaaa\nbbbb\n' >log
	start_reader out --follow log
	wait_for 10 lines_in 2 out
	: >log
	wait_for 10 grep -q 'log: file truncated; reading from the start' out.err
	printf 'c\n' >>log
	wait_for 10 lines_in 3 out
	assert_equal "$(field '"\(.line) \(.offset)"' out | paste -sd,)" "aaaa 0,bbbb 5,c 0"
}

@test "SIGTERM flushes what was read and exits 0" {
	seq 1 3 >in.txt
	start_reader out --follow in.txt
	wait_for 10 lines_in 3 out
	kill -TERM "$READER"
	wait_for 10 exited "$READER"
	status=0
	wait "$READER" || status=$?
	READER=
	assert_status 0
	assert_equal "$(field .line out | paste -sd,)" "1,2,3"
}

@test "a reader that goes away (EPIPE) is a clean stop" {
	seq 1 200000 >in.txt
	run bash -c 'stream-read in.txt | head -n 1 >/dev/null; echo "${PIPESTATUS[0]}"'
	assert_equal "$output" "0"
}

@test "a full disk on standard output is an I/O error (exit 74)" {
	seq 1 1000 >in.txt
	run bash -c 'stream-read in.txt >/dev/full'
	assert_status 74
	assert_output_contains "stream-read: standard output: No space left on device"
}

@test "an oversize line fails with the input and line number (exit 65)" {
	{ echo short; head -c 100 /dev/zero | tr '\0' x; echo; echo ok; } >in.txt
	run --separate-stderr stream-read --max-line 16 in.txt
	assert_status 65
	assert_equal "$stderr" "stream-read: in.txt: line 2: longer than 16 bytes"
	assert_equal "$(printf '%s\n' "$output" | jq -r .line)" "short"
}

@test "line numbers count from the start of the file when resuming" {
	{ seq 1 3; head -c 100 /dev/zero | tr '\0' x; echo; } >in.txt
	stream-checkpoint set r "file:$PWD/in.txt:0:4"
	run --separate-stderr stream-read --name r --max-line 16 in.txt
	assert_status 65
	assert_equal "$stderr" "stream-read: in.txt: line 4: longer than 16 bytes"
}

@test "--on-error=skip counts and warns about an oversize line and goes on" {
	{ echo short; head -c 100 /dev/zero | tr '\0' x; echo; echo ok; } >in.txt
	run --separate-stderr stream-read --max-line 16 --on-error=skip in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "short,ok"
	assert_equal "$(printf '%s\n' "$output" | jq -r .offset | paste -sd,)" "0,107"
	[[ "$stderr" == *"in.txt: line 2: longer than 16 bytes; skipped"* ]]
	[[ "$stderr" == *"in.txt: 1 bad message skipped"* ]]
}

@test "--on-error=dead-letter:PATH records where an oversize line was and goes on" {
	{ echo short; head -c 100 /dev/zero | tr '\0' x; echo; echo ok; head -c 40 /dev/zero | tr '\0' y; } >in.txt
	run --separate-stderr stream-read --max-line 16 --on-error=dead-letter:bad.ndjson in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "short,ok"
	assert_equal "$(wc -l <bad.ndjson)" 2
	jq -e -s '.[0] == {"input":"in.txt","error":"line 2: longer than 16 bytes","line_number":2,"offset":6}' bad.ndjson
	jq -e -s '.[1].line_number == 4 and .[1].offset == 110' bad.ndjson
	[[ "$stderr" == *"in.txt: 2 bad messages written to bad.ndjson"* ]]
}

# The message after a bad one carries a cursor that covers it: a
# downstream checkpoint may commit it as soon as it is out, so the record
# must reach the disk first.
@test "a dead letter is fsynced before the message after it is written out" {
	need_strace
	{ echo short; head -c 100 /dev/zero | tr '\0' x; echo; echo ok; } >in.txt
	traced -s 4096 -o trace -e trace=fsync,write \
		stream-read --max-line 16 --on-error=dead-letter:bad.ndjson in.txt >out 2>err
	assert_equal "$(jq -r .line out | paste -sd,)" "short,ok"
	local synced written
	synced=$(grep -n 'fsync(' trace | head -n 1 | cut -d: -f1)
	written=$(grep -nF 'write(1, ' trace | grep -F '\"line\":\"ok\"' | head -n 1 | cut -d: -f1)
	[ -n "$synced" ] && [ -n "$written" ]
	[ "$synced" -lt "$written" ] || { echo "fsync at line $synced of the trace, ok written at $written" >&2; false; }
}

committed_at() {
	[ "$(state_sql "SELECT position FROM positions WHERE name = 'r'" 2>/dev/null)" = "$1" ]
}

@test "stream-read's dead letters survive a kill -9 right after the cursor commit" {
	{ echo short; head -c 100 /dev/zero | tr '\0' x; echo; echo ok; } >in.txt
	start_pipeline 'stream-read --name r --follow --max-line 16 --on-error=dead-letter:bad.ndjson in.txt |
		stream-checkpoint commit r --checkpoint-rows 1 >out.ndjson'
	wait_for 30 lines_in 2 out.ndjson
	# The line after the bad one is out: its record is there already.
	jq -e -s 'length == 1 and .[0].line_number == 2' bad.ndjson
	wait_for 30 committed_at "$(position_in in.txt 110)"
	stop_pipeline
	jq -e -s '. == [{"input":"in.txt","error":"line 2: longer than 16 bytes","line_number":2,"offset":6}]' bad.ndjson
	assert_equal "$(jq -r .line out.ndjson | paste -sd,)" "short,ok"
}

@test "an unknown endpoint name is a configuration error (exit 78)" {
	printf '[other]\nurl = file:x\n' >"$STREAMKIT_ENDPOINTS"
	run --separate-stderr stream-read nosuch
	assert_status 78
	[[ "$stderr" == "stream-read: unknown endpoint 'nosuch'"* ]]
}

@test "a missing file is an error naming it" {
	run --separate-stderr stream-read file:missing.txt
	assert_status 69
	assert_equal "$stderr" "stream-read: file:missing.txt: No such file or directory"
}

@test "a state file that is not SQLite is an error naming the file" {
	printf 'x\n' >in.txt
	head -c 4096 /dev/urandom >bad.db
	run --separate-stderr stream-read --name r --state bad.db in.txt
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"bad.db"* ]]
	assert_equal "$output" ""
}

@test "--name with standard input is a usage error (exit 64)" {
	run --separate-stderr stream-read --name r -
	assert_status 64
	assert_equal "$stderr" "stream-read: -: cannot resume standard input"
	# STREAMKIT_NAME, as stream-run exports it, does not stop a pipe being read.
	run --separate-stderr bash -c "printf 'x\n' | STREAMKIT_NAME=r stream-read"
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line)" "x"
}

@test "endpoint kinds without a source here say so (exit 64)" {
	run --separate-stderr stream-read dataset:out
	assert_status 64
	assert_equal "$stderr" "stream-read: dataset:out: dataset endpoints can be written, not read"
}

@test "bad option values are usage errors (exit 64)" {
	for args in "--from yesterday" "--count x" "--idle-timeout 5y" "--binary=hex" \
		"--max-line 0" "--on-error=retry" "--on-error=dead-letter:" "--nosuch" "a b" \
		"-o yesterday" "-c x" "--partial-line=sometimes"; do
		run --separate-stderr stream-read $args
		assert_status 64
	done
	run --separate-stderr stream-read --from yesterday
	[[ "$stderr" == *"invalid --from 'yesterday' (expected earliest or beginning, latest or end, an offset, -N, @MS or s@MS)"* ]]
}

@test "--help prints the usage and --version the version" {
	run --separate-stderr stream-read --help
	assert_status 0
	assert_output_contains "usage: stream-read [options] [ENDPOINT]"
	run --separate-stderr stream-read --version
	assert_status 0
	[[ "$output" =~ ^stream-read\ \(streamkit\)\ [0-9] ]]
}

@test "every option of --help is described in the manual page" {
	man="$SK_SRCDIR/man/stream-read.1"
	mandoc -Tlint -Wwarning "$man"
	for opt in $(stream-read --help | grep -o -- '--[a-z-]*' | sort -u); do
		grep -q -- "^\.It .*Fl -${opt#--}\( \|$\)" "$man" || {
			echo "stream-read.1 does not describe $opt" >&2
			return 1
		}
	done
}
