#!/usr/bin/env bats
# stream-checkpoint.bats - the state store's command line (show, list,
# history, set, reset, lag) and `commit`, the pass-through filter that
# commits the cursors of the lines it has written out.

load helpers/common
load helpers/files
load helpers/pipeline

bats_require_minimum_version 1.5.0

setup() {
	setup_scratch
	export TZ=UTC
	bg_pids=()
}

teardown() {
	local pid
	exec 7>&- 2>/dev/null || true
	for pid in "${bg_pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	stop_pipeline
}

# envelopes N: N messages as stream-read prints them, from source "t", with
# cursors t:0:10, t:0:20, ...
envelopes() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"n\":%d,\"_cursor\":\"t:0:%d\"}\n", i, 10 * i }'
}

# position NAME SOURCE PARTITION: the committed position, or nothing.
position() {
	state_sql "SELECT position FROM positions WHERE name = '$1' AND source = '$2' AND partition = '$3'"
}

line_count() {
	[ -e "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]
}

position_is() {
	[ "$(position "$1" "$2" "$3")" = "$4" ]
}

# --- the command line ---

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr stream-checkpoint --help
	assert_status 0
	assert_output_contains "usage: stream-checkpoint"
	assert_output_contains "commit NAME"
	assert_equal "$stderr" ""
	# As in the other programs, --help ends the options: what follows it
	# is not read.
	run --separate-stderr stream-checkpoint --help --no-such-option
	assert_status 0
	assert_output_contains "usage: stream-checkpoint"
}

@test "--version prints the package version" {
	run stream-checkpoint --version
	assert_status 0
	[[ "$output" =~ ^stream-checkpoint\ \(streamkit\)\ [0-9]+\.[0-9]+ ]]
}

@test "an unknown command, a missing NAME or a misplaced option is a usage error (64)" {
	run stream-checkpoint frobnicate
	assert_status 64
	assert_output_contains "stream-checkpoint: unknown command 'frobnicate'"
	run stream-checkpoint
	assert_status 64
	assert_output_contains "missing COMMAND"
	for cmd in history reset lag commit; do
		run stream-checkpoint "$cmd" </dev/null
		assert_status 64
		assert_output_contains "$cmd: missing NAME"
	done
	run stream-checkpoint show --limit 3
	assert_status 64
	assert_output_contains "--limit: not an option of show"
	run stream-checkpoint --bogus show
	assert_status 64
}

@test "NAME defaults to --name, then to \$STREAMKIT_NAME" {
	stream-checkpoint set r t:0:5
	STREAMKIT_NAME=r run stream-checkpoint --json show
	assert_status 0
	assert_output_contains '"name":"r"'
	run stream-checkpoint --name=r --json lag
	assert_status 0
	assert_output_contains '"position":"5"'
}

@test "--state PATH chooses the store, over \$STREAMKIT_STATE" {
	stream-checkpoint --state other.db set r t:0:5
	assert_equal "$(sqlite3 other.db 'SELECT position FROM positions')" 5
	run stream-checkpoint --state=other.db --json show r
	assert_output_contains '"position":"5"'
	run --separate-stderr stream-checkpoint --json show r
	assert_equal "$output" ""
}

@test "a state file that is not a database is a configuration error (78) naming the file" {
	printf 'not a database at all, just words, and more words to fill a page\n%.0s' {1..40} > "$STREAMKIT_STATE"
	run stream-checkpoint show
	assert_status 78
	assert_equal "$output" "stream-checkpoint: $STREAMKIT_STATE: file is not a database"
	run stream-checkpoint commit r <<<'{"_cursor":"t:0:1"}'
	assert_status 78
}

@test "a state file that cannot be created is an error naming the place" {
	touch plain
	run stream-checkpoint --state plain/state.db show
	[ "$status" -ne 0 ]
	assert_output_contains "stream-checkpoint: plain"
}

# --- show, list, history ---

@test "show prints nothing for an empty store" {
	stream-checkpoint reset r    # a store with nothing in it
	run --separate-stderr stream-checkpoint show
	assert_status 0
	assert_equal "$output" ""
}

@test "show prints a table of every name's positions" {
	stream-checkpoint set r t:0:10
	stream-checkpoint set r kafka:events:2:77
	stream-checkpoint set a file:/x/in.ndjson:0:5
	run --separate-stderr stream-checkpoint show
	assert_status 0
	[[ "${lines[0]}" =~ ^NAME\ +SOURCE\ +PARTITION\ +POSITION\ +UPDATED$ ]]
	[[ "${lines[1]}" =~ ^a\ +file:/x/in.ndjson\ +0\ +5\ +[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}$ ]]
	[[ "${lines[2]}" =~ ^r\ +kafka:events\ +2\ +77\ + ]]
	[[ "${lines[3]}" =~ ^r\ +t\ +0\ +10\ + ]]
	assert_equal "${#lines[@]}" 4
}

@test "show NAME --json prints one object per position" {
	stream-checkpoint set r t:0:10
	stream-checkpoint set r t:1:20
	stream-checkpoint set other t:0:30
	run --separate-stderr stream-checkpoint show r --json
	assert_status 0
	assert_equal "${#lines[@]}" 2
	assert_equal "$(jq -c 'del(.updated_ms)' <<<"$output")" \
'{"name":"r","source":"t","partition":"0","position":"10"}
{"name":"r","source":"t","partition":"1","position":"20"}'
	now=$(date +%s)
	jq -e --argjson now "$now" '.updated_ms / 1000 | . > $now - 600 and . < $now + 600' <<<"${lines[0]}"
}

@test "show stops quietly when its reader goes away" {
	awk 'BEGIN { for (i = 1; i <= 5000; i++) printf "{\"_cursor\":\"t:%d:1\"}\n", i }' |
		stream-checkpoint commit r > /dev/null
	for json in "" --json; do
		run --separate-stderr bash -c "stream-checkpoint $json show | head -n 1; exit \${PIPESTATUS[0]}"
		assert_status 0
		assert_equal "${#lines[@]}" 1
		assert_equal "$stderr" ""
	done
}

@test "show NAME of a name with nothing stored warns on stderr" {
	stream-checkpoint reset r    # a store with nothing in it
	run --separate-stderr stream-checkpoint show nobody
	assert_status 0
	assert_equal "$output" ""
	assert_equal "$stderr" "stream-checkpoint: nobody: no positions stored"
	run --separate-stderr stream-checkpoint -q show nobody
	assert_equal "$stderr" ""
}

@test "list prints each name with its number of positions and last checkpoint" {
	envelopes 3 | stream-checkpoint commit r > /dev/null
	stream-checkpoint set a t:0:1
	stream-checkpoint set a t:1:1
	run stream-checkpoint list
	assert_status 0
	[[ "${lines[0]}" =~ ^NAME\ +POSITIONS\ +LAST\ CHECKPOINT$ ]]
	[[ "${lines[1]}" =~ ^a\ +2\ +-$ ]]
	[[ "${lines[2]}" =~ ^r\ +1\ +[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:]{8}$ ]]
	run stream-checkpoint list --json
	assert_status 0
	assert_equal "${lines[0]}" '{"name":"a","positions":2,"last_checkpoint_ms":null}'
	jq -e '.name == "r" and .positions == 1 and .last_checkpoint_ms > 0' <<<"${lines[1]}"
}

@test "history NAME --limit N prints the newest checkpoints first" {
	for i in 1 2 3; do
		envelopes "$i" | stream-checkpoint commit r > /dev/null
	done
	run stream-checkpoint history r --limit 2 --json
	assert_status 0
	assert_equal "${#lines[@]}" 2
	jq -e '.name == "r" and .rows == 3' <<<"${lines[0]}"
	jq -e '.rows == 2' <<<"${lines[1]}"
	[ "$(jq .id <<<"${lines[0]}")" -gt "$(jq .id <<<"${lines[1]}")" ]
	assert_output_contains 't:0:30'
	run stream-checkpoint history r
	assert_status 0
	[[ "${lines[0]}" =~ ^ID\ +AT\ +ROWS\ +CURSORS$ ]]
	assert_equal "${#lines[@]}" 4
}

# --- set and reset ---

@test "set NAME CURSOR stores the position a reader resumes after" {
	printf '{"n":1}\n{"n":2}\n{"n":3}\n' > in.ndjson
	cursor=$(stream-read --exit-at-end --count 1 file:in.ndjson | jq -r ._cursor)
	run stream-checkpoint set r "$cursor"
	assert_status 0
	assert_equal "$output" ""
	assert_equal "$(position r "file:$PWD/in.ndjson" 0)" "$(position_in in.ndjson 8)"
	run sh -c 'stream-read --name r --exit-at-end file:in.ndjson | jq -c .line'
	assert_equal "$output" '"{\"n\":2}"
"{\"n\":3}"'
}

@test "set rewinds and skips a partition" {
	printf '{"n":1}\n{"n":2}\n{"n":3}\n' > in.ndjson
	stream-read --exit-at-end file:in.ndjson | stream-checkpoint commit r > /dev/null
	assert_equal "$(position r "file:$PWD/in.ndjson" 0)" "$(position_in in.ndjson 24)"
	stream-checkpoint set r --source "file:$PWD/in.ndjson" --partition 0 --position 0
	run sh -c 'stream-read --name r --exit-at-end file:in.ndjson | jq -r .line'
	assert_equal "$output" "$(cat in.ndjson)"
	stream-checkpoint set r "file:$PWD/in.ndjson:0:16"
	run sh -c 'stream-read --name r --exit-at-end file:in.ndjson | jq -r .line'
	assert_equal "$output" '{"n":3}'
}

@test "set with a relative file source stores the file's real path" {
	printf '{"n":1}\n' > in.ndjson
	stream-checkpoint set r --source file:in.ndjson --partition=0 --position=8
	assert_equal "$(state_sql 'SELECT source FROM positions')" "file:$PWD/in.ndjson"
	stream-checkpoint set r file:./in.ndjson:0:4
	assert_equal "$(position r "file:$PWD/in.ndjson" 0)" 4
}

@test "set refuses what is not a cursor" {
	run stream-checkpoint set r not-a-cursor
	assert_status 64
	assert_output_contains "invalid cursor 'not-a-cursor'"
	run stream-checkpoint set r --source t --partition 0
	assert_status 64
	assert_output_contains "--source, --partition and --position go together"
	run stream-checkpoint set r --source file:/x --partition 0 --position ten
	assert_status 64
	assert_output_contains "expected a byte offset"
	run stream-checkpoint set r --source t --partition a:b --position 1
	assert_status 64
	[ -z "$(state_sql 'SELECT * FROM positions')" ]
}

@test "reset NAME forgets its positions and history, and nothing of other names" {
	envelopes 2 | stream-checkpoint commit r > /dev/null
	stream-checkpoint set r u:0:1
	envelopes 2 | stream-checkpoint commit keep > /dev/null
	run stream-checkpoint reset r
	assert_status 0
	assert_equal "$(state_sql "SELECT count(*) FROM positions WHERE name = 'r'")" 0
	assert_equal "$(state_sql "SELECT count(*) FROM checkpoints WHERE name = 'r'")" 0
	assert_equal "$(position keep t 0)" 20
	assert_equal "$(state_sql "SELECT count(*) FROM checkpoints WHERE name = 'keep'")" 1
}

@test "reset NAME --source S [--partition P] forgets only those positions" {
	stream-checkpoint set r t:0:1
	stream-checkpoint set r t:1:1
	stream-checkpoint set r t:2:1
	stream-checkpoint set r u:0:1
	stream-checkpoint reset r --source t --partition 1
	assert_equal "$(state_sql "SELECT source || ':' || partition FROM positions ORDER BY 1" | tr '\n' ' ')" \
		"t:0 t:2 u:0 "
	stream-checkpoint reset r --source=t
	assert_equal "$(state_sql "SELECT source || ':' || partition FROM positions")" "u:0"
	run stream-checkpoint reset r --partition 0
	assert_status 64
	assert_output_contains "--partition needs --source"
}

# --- lag ---

@test "lag of a file source is the file's size minus the position" {
	seq_ndjson 10 > in.ndjson
	stream-read --exit-at-end --count 4 file:in.ndjson | stream-checkpoint commit r > /dev/null
	size=$(wc -c < in.ndjson)
	off=$(offset_of "$(position r "file:$PWD/in.ndjson" 0)")
	assert_equal "$off" "$(seq_ndjson 4 | wc -c)"
	pos=$(position_in in.ndjson "$off")
	ino=$(stat -c %i in.ndjson)
	run stream-checkpoint lag r
	assert_status 0
	[[ "${lines[0]}" =~ ^SOURCE\ +PARTITION\ +POSITION\ +END\ +LAG$ ]]
	[[ "${lines[1]}" =~ ^file:$PWD/in.ndjson\ +0\ +$off\ \(inode\ $ino\)\ +$size\ +$((size - off))$ ]]
	run stream-checkpoint lag r --json
	assert_equal "$output" "{\"name\":\"r\",\"source\":\"file:$PWD/in.ndjson\",\"partition\":\"0\",\"position\":\"$pos\",\"file\":{\"device\":$(stat -c %d in.ndjson),\"inode\":$ino,\"fingerprint\":\"$(fingerprint in.ndjson "$off")\"},\"end\":$size,\"lag\":$((size - off))}"
	seq_ndjson 5 11 >> in.ndjson
	run stream-checkpoint lag r --json
	jq -e --argjson size "$(wc -c < in.ndjson)" '.end == $size and .lag == $size - (.position | split("@")[0] | tonumber)' <<<"$output"
}

@test "lag of a source whose end is not known here prints -" {
	stream-checkpoint set r kafka:events:0:42
	stream-checkpoint set r stdin:0:9
	run stream-checkpoint lag r
	assert_status 0
	[[ "${lines[1]}" =~ ^kafka:events\ +0\ +42\ +-\ +-$ ]]
	[[ "${lines[2]}" =~ ^stdin\ +0\ +9\ +-\ +-$ ]]
	run stream-checkpoint lag r --json
	jq -e '.end == null and .lag == null' <<<"${lines[0]}"
}

# --- commit ---

@test "commit copies its input to its output unchanged and commits the last cursor" {
	{
		envelopes 3
		printf '{"text":"caf\\u00e9 \xe2\x82\xac","_cursor":"t:0:35","nested":{"_cursor":"x:0:1"}}\n'
		printf '{"no":"cursor"}\n[1,2]\n"a string"\n42\nnull\n'
		printf '{"n":9,"_cursor":"u:7:5"}\n'
	} > in
	run --separate-stderr stream-checkpoint commit r < in
	assert_status 0
	assert_equal "$output" "$(cat in)"
	assert_equal "$stderr" ""
	assert_equal "$(position r t 0)" 35
	assert_equal "$(position r u 7)" 5
	assert_equal "$(state_sql "SELECT count(*) FROM positions WHERE source = 'x'")" 0
	assert_equal "$(state_sql 'SELECT rows FROM checkpoints')" 10
}

@test "commit stores one position per partition: the last one seen" {
	printf '{"_cursor":"t:0:1"}\n{"_cursor":"t:1:1"}\n{"_cursor":"t:0:2"}\n{"_cursor":"t:1:5"}\n{"_cursor":"t:0:3"}\n' |
		stream-checkpoint commit r > /dev/null
	assert_equal "$(position r t 0)" 3
	assert_equal "$(position r t 1)" 5
}

@test "commit checkpoints every --checkpoint-rows lines while input continues" {
	mkfifo in
	stream-checkpoint commit r --checkpoint-rows 2 --checkpoint-interval 1h < in > out 3>&- &
	bg_pids+=($!)
	exec 7> in
	envelopes 3 >&7
	wait_for 30 line_count out 3
	wait_for 30 position_is r t 0 20
	envelopes 5 | tail -n 2 >&7
	wait_for 30 position_is r t 0 40
	exec 7>&-
	wait "${bg_pids[0]}"
	assert_equal "$(position r t 0)" 50
}

@test "commit checkpoints every --checkpoint-interval while its input is idle" {
	mkfifo in
	stream-checkpoint commit r --checkpoint-interval 200ms < in > out 3>&- &
	bg_pids+=($!)
	exec 7> in
	envelopes 2 >&7
	wait_for 30 position_is r t 0 20
	assert_equal "$(wc -l < out)" 2
	exec 7>&-
	wait "${bg_pids[0]}"
}

@test "commit writes each line out at once, never holding it back while input is idle" {
	mkfifo in
	stream-checkpoint commit r --checkpoint-interval 1h < in > out 3>&- &
	bg_pids+=($!)
	exec 7> in
	envelopes 1 >&7
	wait_for 30 line_count out 1
	assert_equal "$(cat out)" '{"n":1,"_cursor":"t:0:10"}'
	exec 7>&-
	wait "${bg_pids[0]}"
}

@test "commit checkpoints at end of input" {
	envelopes 2500 > in
	stream-checkpoint commit r --checkpoint-interval 1h < in > out
	cmp in out
	assert_equal "$(position r t 0)" 25000
	assert_equal "$(state_sql "SELECT group_concat(rows) FROM (SELECT rows FROM checkpoints ORDER BY id)")" \
		"1000,1000,500"
}

@test "commit checkpoints what it has written on SIGTERM and SIGINT, and exits 0" {
	for sig in TERM INT; do
		rm -f in out
		mkfifo in
		stream-checkpoint commit "r$sig" --checkpoint-interval 1h < in > out 3>&- &
		pid=$!
		bg_pids+=($pid)
		exec 7> in
		envelopes 3 >&7
		wait_for 30 line_count out 3
		assert_equal "$(state_sql "SELECT count(*) FROM positions WHERE name = 'r$sig'")" 0
		kill -s "$sig" "$pid"
		status=0
		wait "$pid" || status=$?
		assert_status 0
		assert_equal "$(position "r$sig" t 0)" 30
		exec 7>&-
	done
}

@test "commit does not commit the cursors of lines it could not write (EPIPE)" {
	mkfifo in
	# A reader that takes three lines and goes away, closing the pipe.
	{ stream-checkpoint commit r --checkpoint-interval 1h < in; echo $? > rc; } 3>&- |
		{ head -n 3 > got; exec 0<&-; touch reader-gone; } 3>&- &
	bg_pids+=($!)
	exec 7> in
	envelopes 3 >&7
	wait_for 30 test -e reader-gone
	envelopes 5 | tail -n 2 >&7
	wait_for 30 test -s rc
	exec 7>&-
	assert_equal "$(cat rc)" 0
	assert_equal "$(cat got)" "$(envelopes 3)"
	# Lines 1-3 were written out before the pipe closed; line 4 was not.
	assert_equal "$(position r t 0)" 30
}

@test "commit behind | head -n 3 stops cleanly and commits no cursor beyond what it wrote" {
	envelopes 100000 > in
	run sh -c 'stream-checkpoint commit r --checkpoint-rows 100 < in | head -n 3'
	assert_status 0
	assert_equal "$output" "$(envelopes 3)"
	pos=$(position r t 0)
	[ "${pos:-0}" -lt 1000000 ]
}

@test "commit stops at a line that is not JSON (exit 65) after committing the lines before it" {
	{ envelopes 2; echo 'not json'; envelopes 4 | tail -n 1; } > in
	run --separate-stderr stream-checkpoint commit r < in
	assert_status 65
	assert_equal "$output" "$(envelopes 2)"
	[[ "$stderr" == "stream-checkpoint: stdin:3: invalid JSON"* ]]
	assert_equal "$(position r t 0)" 20
}

@test "commit copies blank and white-space-only lines through, as jq skips them, and commits the cursors around them" {
	{
		printf '\n \t\n'
		envelopes 1
		printf '\r\n\n\n\n  \r\n\t\t\n'
		envelopes 2 | tail -n 1 | tr '\n' '\r'
		printf '\n\n'
		envelopes 3 | tail -n 1
		printf '\n \n\r'
	} > in
	# Lines are copied as they came, but for the CR before each LF (and the
	# LF a last line without one gets).
	{
		printf '\n \t\n'
		envelopes 1
		printf '\n\n\n\n  \n\t\t\n'
		envelopes 2 | tail -n 1
		printf '\n'
		envelopes 3 | tail -n 1
		printf '\n \n\n'
	} > expected
	run --separate-stderr stream-checkpoint commit r < in
	assert_status 0
	assert_equal "$stderr" ""
	assert_equal "$(position r t 0)" 30
	stream-checkpoint commit r2 --checkpoint-rows 2 < in > out
	cmp expected out
	assert_equal "$(position r2 t 0)" 30
}

@test "commit names a bad line after blank lines by its true line number" {
	{ printf '\n\n'; envelopes 1; printf ' \t\n\r\n\n'; echo 'not json'; envelopes 2 | tail -n 1; } > in
	run --separate-stderr stream-checkpoint commit r < in
	assert_status 65
	[[ "$stderr" == "stream-checkpoint: stdin:7: invalid JSON"* ]] || { echo "$stderr" >&2; return 1; }
	assert_equal "$(position r t 0)" 10
}

@test "-v commit prints a line for each checkpoint: the lines it covers and the cursors it committed" {
	envelopes 5 > in
	run --separate-stderr stream-checkpoint -v commit r --checkpoint-rows 2 --checkpoint-interval 1h < in
	assert_status 0
	assert_equal "$stderr" "stream-checkpoint: r: checkpoint: 2 lines, 1 cursor: t:0:20
stream-checkpoint: r: checkpoint: 2 lines, 1 cursor: t:0:40
stream-checkpoint: r: checkpoint: 1 line, 1 cursor: t:0:50"
	# Many partitions: the first four cursors, and how many more.
	for p in 0 1 2 3 4 5; do printf '{"_cursor":"k:%d:%d"}\n' "$p" $((p + 7)); done > in
	run --separate-stderr stream-checkpoint commit r -v < in
	assert_status 0
	assert_equal "$stderr" "stream-checkpoint: r: checkpoint: 6 lines, 6 cursors: k:0:7 k:1:8 k:2:9 k:3:10 and 2 more"
	# Without -v, a checkpoint says nothing.
	run --separate-stderr stream-checkpoint commit r < in
	assert_equal "$stderr" ""
}

@test "commit --on-error=skip passes a bad line through and goes on" {
	{ envelopes 2; echo 'not json'; echo '{"_cursor":17}'; envelopes 4 | tail -n 1; } > in
	run --separate-stderr stream-checkpoint commit r --on-error=skip < in
	assert_status 0
	assert_equal "$output" "$(cat in)"
	assert_output_contains 'not json'
	[[ "$stderr" == *"stdin:3: invalid JSON"* ]]
	[[ "$stderr" == *"stdin:4: _cursor is not a string"* ]]
	[[ "$stderr" == *"2 bad lines skipped"* ]]
	assert_equal "$(position r t 0)" 40
}

@test "commit refuses a _cursor that is not a cursor (exit 65)" {
	{ envelopes 1; echo '{"_cursor":"nonsense"}'; } > in
	run --separate-stderr stream-checkpoint commit r < in
	assert_status 65
	[[ "$stderr" == *"stdin:2: _cursor: invalid cursor 'nonsense'"* ]]
	assert_equal "$(position r t 0)" 10
}

@test "commit refuses a line longer than --max-line (exit 65)" {
	{ envelopes 1; printf '{"pad":"%02000d"}\n' 0; envelopes 2 | tail -n 1; } > in
	run --separate-stderr stream-checkpoint commit r --max-line 1k < in
	assert_status 65
	assert_output_contains '"n":1'
	[[ "$stderr" == *"line 2: longer than 1024 bytes"* ]]
	run --separate-stderr stream-checkpoint commit r2 --max-line 1k --on-error skip < in
	assert_status 0
	assert_equal "$output" "$(envelopes 2)"
	assert_equal "$(position r2 t 0)" 20
}

@test "commit fails with 74 and commits nothing when its output cannot be written" {
	envelopes 10 > in
	run --separate-stderr sh -c 'stream-checkpoint commit r < in > /dev/full'
	assert_status 74
	assert_equal "$stderr" "stream-checkpoint: stdout: No space left on device"
	assert_equal "$(state_sql "SELECT count(*) FROM positions")" 0
}

@test "commit refuses bad option values" {
	run stream-checkpoint commit r --checkpoint-rows 0 </dev/null
	assert_status 64
	run stream-checkpoint commit r --checkpoint-interval soon </dev/null
	assert_status 64
	run stream-checkpoint commit r --on-error=dead-letter:x </dev/null
	assert_status 64
	assert_output_contains "expected fail or skip"
}

# --- the issue's scenario ---

@test "a script that dies halfway behind stream-checkpoint commit loses nothing when restarted" {
	seq_ndjson 100 > in.ndjson
	# The script prints each message it has finished; the first time, it dies
	# while working on message 50.
	cat > work <<-'EOF'
	#!/bin/sh
	while IFS= read -r msg; do
		case $msg in
		*'\"n\":50}'*) [ -e died ] || { touch died; exit 1; } ;;
		esac
		printf '%s\n' "$msg"
	done
	EOF
	chmod +x work
	pipeline='stream-read --name r --exit-at-end file:in.ndjson | ./work | stream-checkpoint commit r >> out'

	run sh -c "$pipeline"
	assert_status 0
	[ -e died ]
	assert_equal "$(jq -r .line out)" "$(seq_ndjson 49)"
	assert_equal "$(position r "file:$PWD/in.ndjson" 0)" "$(position_in in.ndjson "$(seq_ndjson 49 | wc -c)")"

	run sh -c "$pipeline"
	assert_status 0
	# The rerun starts at message 50, the one the script did not finish.
	assert_equal "$(jq -r .line out | sed -n 50p)" '{"n":50}'
	assert_equal "$(jq -r .line out | sort -u | wc -l)" 100
	assert_equal "$(jq -r .line out)" "$(cat in.ndjson)"
	assert_equal "$(position r "file:$PWD/in.ndjson" 0)" "$(position_in in.ndjson "$(wc -c < in.ndjson)")"
}

# --- at least once under kill -9 ---

# The numbers n of the rows {"n":N} found in out, each once, in order. A
# process killed in the middle of a write may leave part of a line, which
# the next run's first line continues: look for the numbers anywhere.
delivered() {
	grep -oE '\\"n\\":[0-9]+' out | tr -dc '0-9\n' | sort -nu
}

# The first rows of the input, up to the committed position, are all in out.
committed_were_delivered() {
	local pos rows
	pos=$(offset_of "$(position r "file:$PWD/in.ndjson" 0)")
	rows=$(head -c "${pos:-0}" in.ndjson | wc -l)
	if [ -n "$(comm -23 <(seq "$rows" | sort) <(delivered | sort))" ]; then
		echo "after kill $kill: rows up to $rows are committed but not all in out" >&2
		return 1
	fi
}

# The committed byte offset into in.ndjson in $committed (0: none yet).
committed_offset() {
	committed=0
	[ -e "$STREAMKIT_STATE" ] || return 0
	committed=$(offset_of "$(position r "file:$PWD/in.ndjson" 0)")
	committed=${committed:-0}
}

@test "commit killed with SIGKILL at random instants delivers every line at least once" {
	# Large enough for ten kills: each run gets further than the last.
	seq_ndjson 500000 > in.ndjson
	PIPELINE='stream-read --name r file:in.ndjson | stream-checkpoint commit r --checkpoint-rows 2000 >> out'
	local pipeline=$PIPELINE

	kill_at_random_instants 10 committed_offset committed_were_delivered

	run sh -c "$pipeline"
	assert_status 0
	assert_equal "$(delivered | wc -l)" 500000
	assert_equal "$(delivered | tail -n 1)" 500000
	assert_equal "$(position r "file:$PWD/in.ndjson" 0)" "$(position_in in.ndjson "$(wc -c < in.ndjson)")"
	assert_equal "$(state_sql 'PRAGMA integrity_check')" ok
}
