#!/usr/bin/env bats
# stream-write: rows, tuples and batches into datasets, files and stdout;
# schemas and coercion; checkpoints; bad input; recovery of staged parts.

bats_require_minimum_version 1.5.0
load helpers/common

setup() { setup_scratch; }

teardown() {
	exec 7>&- 2>/dev/null || true
	if [ -n "${WRITER:-}" ]; then
		kill "$WRITER" 2>/dev/null || true
		wait "$WRITER" 2>/dev/null || true
	fi
}

# start_writer ARGS...: stream-write in the background reading the FIFO
# "in", held open for writing on fd 7; stdout to out.log, stderr to err.log;
# its pid in WRITER.
start_writer() {
	mkfifo in
	stream-write "$@" <in >out.log 2>err.log 3>&- &
	WRITER=$!
	exec 7>in
}

# stop_writer: close its input and wait for it; its exit status in $status.
stop_writer() {
	exec 7>&-
	status=0
	wait "$WRITER" || status=$?
	WRITER=
}

# The writer has exited (it is a zombie until stop_writer waits for it).
writer_exited() {
	local st
	st=$(ps -o stat= -p "$WRITER" 2>/dev/null)
	[ -z "$st" ] || [[ $st == Z* ]]
}

parts() { find "$1" -maxdepth 1 -name 'part-*' | wc -l; }
has_parts() { [ "$(parts "$1")" -ge "$2" ]; }
staged() { [ -n "$(find "$1/.staging" -name 'part-*' 2>/dev/null)" ]; }
position() { state_sql "SELECT position FROM positions WHERE name = '$1'" 2>/dev/null; }
position_is() { [ "$(position "$1")" = "$2" ]; }
file_contains() { grep -qF -- "$2" "$1"; }

@test "writes an object row, a tuple and a batch to a dataset, in order" {
	run --separate-stderr stream-write --schema '[{"name":"id","type":"bigint"},{"name":"s","type":"string"}]' \
		dataset:out <<-'EOF'
	{"id":1,"s":"one"}
	[2,"two"]
	[{"id":3,"s":"three"},{"s":"four","id":4}]
	EOF
	assert_status 0
	assert_equal "$(dataset_rows out)" '{"id":1,"s":"one"}
{"id":2,"s":"two"}
{"id":3,"s":"three"}
{"id":4,"s":"four"}'
	assert_equal "$(ls out/.staging | wc -l)" 0
}

@test "strips _cursor from rows and commits the last cursor of each partition" {
	run --separate-stderr stream-write --name r dataset:out <<-'EOF'
	{"n":1,"_cursor":"file:/in:0:10"}
	{"n":2,"_cursor":"kafka:t:3:41"}
	[{"n":3,"_cursor":"file:/in:0:20"},{"n":4,"_cursor":"kafka:t:3:42"}]
	EOF
	assert_status 0
	assert_equal "$(dataset_rows out)" '{"n":1}
{"n":2}
{"n":3}
{"n":4}'
	assert_equal "$(state_sql "SELECT source, partition, position FROM positions WHERE name = 'r' ORDER BY source")" \
		'file:/in|0|20
kafka:t|3|42'
	assert_equal "$(state_sql "SELECT rows FROM checkpoints WHERE name = 'r'")" 4
}

@test "infers the schema from the first row and stores it with the first part" {
	printf '%s\n' '{"id":1,"x":1.5,"s":"a","b":true,"n":null,"a":[1],"o":{"k":1},"_cursor":"f:0:1"}' |
		stream-write dataset:out
	assert_equal "$(jq -c . out/schema.json)" \
		'[{"name":"id","type":"bigint"},{"name":"x","type":"double"},{"name":"s","type":"string"},{"name":"b","type":"boolean"},{"name":"n","type":"string"},{"name":"a","type":"array"},{"name":"o","type":"object"}]'
	run --separate-stderr stream-write dataset:out <<<'{"id":"2","x":3,"s":4,"b":"false"}'
	assert_status 0
	assert_equal "$(tail -n 1 out/part-00000002.ndjson)" '{"id":2,"x":3,"s":"4","b":false,"n":null,"a":null,"o":null}'
}

@test "--schema is stored at open, inline or from a file, and must match an existing schema (exit 78)" {
	echo '[{"name":"id","type":"int"}]' >schema.json
	run --separate-stderr stream-write --schema schema.json dataset:out </dev/null
	assert_status 0
	assert_equal "$(jq -c . out/schema.json)" '[{"name":"id","type":"int"}]'
	run --separate-stderr stream-write --schema '[{"name":"id","type":"int"}]' dataset:out <<<'{"id":"5"}'
	assert_status 0
	assert_equal "$(dataset_rows out)" '{"id":5}'
	run --separate-stderr stream-write --schema '[{"name":"id","type":"bigint"}]' dataset:out <<<'{"id":6}'
	assert_status 78
	assert_equal "$stderr" "stream-write: dataset:out: --schema does not match $PWD/out/schema.json: column 1 is \"id\" bigint in --schema, \"id\" int in the dataset"
	assert_equal "$(dataset_rows out)" '{"id":5}'
}

@test "a bad --schema names the offending entry (exit 78)" {
	run --separate-stderr stream-write --schema '[{"name":"a","type":"text"}]' dataset:out </dev/null
	assert_status 78
	assert_equal "$stderr" 'stream-write: --schema: schema entry 1 ("a"): unknown type "text" (expected string, int, bigint, float, double, boolean, date, array or object)'
	run --separate-stderr stream-write --schema missing.json dataset:out </dev/null
	assert_status 78
	assert_output_contains ''
	[[ "$stderr" == *"missing.json: no such file"* ]]
}

@test "rows become visible only at a checkpoint" {
	start_writer --name r --checkpoint-rows 2 --checkpoint-interval 0 dataset:out
	printf '%s\n' '{"n":1,"_cursor":"f:0:1"}' '{"n":2,"_cursor":"f:0:2"}' '{"n":3,"_cursor":"f:0:3"}' >&7
	wait_for 20 has_parts out 1
	wait_for 20 staged out
	# Row 3 is staged and its checkpoint has not come: not in the dataset.
	assert_equal "$(parts out)" 1
	assert_equal "$(dataset_rows out)" $'{"n":1}\n{"n":2}'
	assert_equal "$(position r)" 2
	stop_writer
	assert_status 0
	assert_equal "$(dataset_rows out)" $'{"n":1}\n{"n":2}\n{"n":3}'
	assert_equal "$(position r)" 3
}

@test "checkpoints when the input is idle, every --checkpoint-interval" {
	start_writer --name r --checkpoint-interval 100ms dataset:out
	echo '{"n":1,"_cursor":"f:0:1"}' >&7
	wait_for 20 has_parts out 1
	wait_for 20 position_is r 1
	echo '{"n":2,"_cursor":"f:0:2"}' >&7
	wait_for 20 has_parts out 2
	kill -0 "$WRITER"
	stop_writer
	assert_status 0
}

@test "--checkpoint-rows N cuts a part every N rows" {
	seq_ndjson 25 | stream-write --checkpoint-rows 10 dataset:out
	assert_equal "$(wc -l out/part-0000000{1,2,3}.ndjson | head -n 3 | awk '{print $1}' | paste -sd,)" "10,10,5"
	assert_equal "$(dataset_rows out)" "$(seq_ndjson 25)"
}

@test "parts keep their numbers growing across runs" {
	seq_ndjson 2 | stream-write dataset:out
	seq_ndjson 2 3 | stream-write dataset:out
	assert_equal "$(ls out | grep part- | paste -sd,)" "part-00000001.ndjson,part-00000002.ndjson"
	assert_equal "$(dataset_rows out)" "$(seq_ndjson 4)"
}

@test "SIGTERM finishes the line, checkpoints and exits 0" {
	start_writer --name r --checkpoint-rows 1000 --checkpoint-interval 1h dataset:out
	echo '{"n":1,"_cursor":"f:0:1"}' >&7
	wait_for 20 staged out
	assert_equal "$(parts out)" 0
	kill -TERM "$WRITER"
	# It stops with its input still open.
	wait_for 20 writer_exited
	assert_equal "$(position r)" 1
	stop_writer
	assert_status 0
	assert_equal "$(dataset_rows out)" '{"n":1}'
}

@test "--format csv writes RFC 4180 parts that a CSV parser reads back as the rows" {
	cat >rows.ndjson <<-'EOF'
	{"id":1,"s":"plain","x":1.5,"b":true}
	{"id":2,"s":"a, comma","x":-2,"b":false}
	{"id":3,"s":"a \"quote\"","x":null,"b":null}
	{"id":4,"s":"two\nlines\r\nand CRLF","x":0.1,"b":true}
	{"id":5,"s":"","x":1e3,"b":false}
	{"id":6,"s":"ünïcödé, \"both\"\n","x":3,"b":true}
	EOF
	stream-write --format csv --checkpoint-rows 4 dataset:out <rows.ndjson
	assert_equal "$(ls out | grep part- | paste -sd,)" "part-00000001.csv,part-00000002.csv"
	run python3 - <<-'EOF'
	import csv, glob, json
	want = [json.loads(l) for l in open("rows.ndjson")]
	got = []
	for p in sorted(glob.glob("out/part-*.csv")):
	    with open(p, newline="", encoding="utf-8") as f:
	        r = list(csv.reader(f))
	        assert r[0] == ["id", "s", "x", "b"], r[0]
	        got += r[1:]
	def text(v):
	    if v is None: return ""
	    if v is True: return "true"
	    if v is False: return "false"
	    return str(v)
	exp = [[text(w["id"]), w["s"], text(w["x"]), text(w["b"])] for w in want]
	exp[4][2] = "1e3"      # numbers keep the text they were written with
	if got != exp:
	    print("got:", got); print("expected:", exp); raise SystemExit(1)
	print("ok", len(got))
	EOF
	assert_status 0
	assert_equal "$output" "ok 6"
}

# tree DIR: every file of a dataset with a checksum of its bytes.
tree() { (cd "$1" && find . -type f | sort | xargs md5sum); }

@test "a dataset keeps the format it was created with: no --format is needed to append to a CSV dataset" {
	stream-write --format csv dataset:out <<<'{"n":1}'
	assert_equal "$(cat out/dataset.json)" '{"format":"csv"}'
	run --separate-stderr stream-write dataset:out <<<'{"n":2}'
	assert_status 0
	assert_equal "$(ls out | grep part- | paste -sd,)" "part-00000001.csv,part-00000002.csv"
	assert_equal "$(cat out/part-00000002.csv)" $'n\r\n2\r'
	# Recorded at creation: a dataset that has a schema and no parts yet.
	stream-write --format csv --schema '[{"name":"n","type":"int"}]' dataset:empty </dev/null
	run --separate-stderr stream-write dataset:empty <<<'{"n":3}'
	assert_status 0
	assert_equal "$(ls empty | grep part-)" "part-00000001.csv"
	# A new dataset without --format is ndjson, and says so.
	stream-write dataset:plain <<<'{"n":4}'
	assert_equal "$(cat plain/dataset.json)" '{"format":"ndjson"}'
	run --separate-stderr stream-write --format ndjson dataset:plain <<<'{"n":5}'
	assert_status 0
	assert_equal "$(dataset_rows plain)" $'{"n":4}\n{"n":5}'
}

@test "a dataset written before formats were recorded takes the format of its parts, and records it" {
	stream-write --format csv dataset:out <<<'{"n":1}'
	rm out/dataset.json
	run --separate-stderr stream-write dataset:out <<<'{"n":2}'
	assert_status 0
	assert_equal "$(ls out | grep part- | paste -sd,)" "part-00000001.csv,part-00000002.csv"
	assert_equal "$(cat out/dataset.json)" '{"format":"csv"}'
	# Parts of both formats: nothing to go on.
	rm out/dataset.json
	cp out/part-00000001.csv out/part-00000003.ndjson
	run --separate-stderr stream-write dataset:out <<<'{"n":3}'
	assert_status 78
	assert_equal "$stderr" "stream-write: dataset:out: the dataset has both csv and ndjson parts"
}

@test "a --format other than the dataset's is refused (exit 78), naming the dataset's format, the dataset unchanged" {
	stream-write --name r --format csv dataset:out <<<'{"n":1,"_cursor":"f:0:1"}'
	stream-write dataset:ndjson <<<'{"n":1}'
	tree out >before
	run --separate-stderr stream-write --name r --format ndjson dataset:out <<<'{"n":2,"_cursor":"f:0:2"}'
	assert_status 78
	assert_equal "$stderr" "stream-write: dataset:out: --format ndjson does not match the dataset's format, csv"
	tree out | diff before -
	assert_equal "$(position r)" 1
	run --separate-stderr stream-write --format csv dataset:ndjson <<<'{"n":2}'
	assert_status 78
	assert_equal "$stderr" "stream-write: dataset:ndjson: --format csv does not match the dataset's format, ndjson"
	assert_equal "$(dataset_rows ndjson)" '{"n":1}'
	# A record that says otherwise than the parts is not believed.
	echo '{"format":"ndjson"}' >out/dataset.json
	run --separate-stderr stream-write dataset:out <<<'{"n":3}'
	assert_status 78
	assert_equal "$stderr" "stream-write: dataset:out: $PWD/out/dataset.json says the parts are ndjson, but there are csv parts"
	echo '{"format":"xml"}' >out/dataset.json
	run --separate-stderr stream-write dataset:out <<<'{"n":3}'
	assert_status 78
	assert_equal "$stderr" "stream-write: $PWD/out/dataset.json: expected {\"format\":\"ndjson\"} or {\"format\":\"csv\"}"
}

# bad_input KIND: a good row, a bad line of KIND, a good row.
bad_input() {
	printf '%s\n' '{"n":1,"_cursor":"f:0:1"}'
	case $1 in
	json) printf '%s\n' '{"n":2,' ;;
	utf8) printf '{"n":2,"s":"a\xffb","_cursor":"f:0:2"}\n' ;;
	schema) printf '%s\n' '{"n":"two","_cursor":"f:0:2"}' ;;
	esac
	printf '%s\n' '{"n":3,"s":"x","_cursor":"f:0:3"}'
}

bad_message() {
	case $1 in
	json) echo 'stream-write: <stdin>:2: invalid JSON at byte 8' ;;
	utf8) echo 'stream-write: <stdin>:2: invalid JSON at byte 14: invalid utf-8' ;;
	schema) echo 'stream-write: <stdin>:2: column "n": expected bigint, got string "two"' ;;
	esac
}

@test "--on-error=fail: checkpoints the rows before a bad line, names the line, exits 65" {
	local kind
	for kind in json utf8 schema; do
		rm -rf out "$STREAMKIT_STATE"
		bad_input $kind >input
		run --separate-stderr stream-write --name r --schema '[{"name":"n","type":"bigint"},{"name":"s","type":"string"}]' \
			dataset:out <input
		assert_status 65
		[[ "$stderr" == "$(bad_message $kind)"* ]] || { echo "$kind: $stderr" >&2; return 1; }
		assert_equal "$(dataset_rows out)" '{"n":1,"s":null}'
		assert_equal "$(position r)" 1
		# The same input again fails again, and loses nothing.
		run --separate-stderr stream-write --name r dataset:out <input
		assert_status 65
		assert_equal "$(dataset_rows out)" $'{"n":1,"s":null}\n{"n":1,"s":null}'
	done
}

@test "--on-error=skip: counts bad lines, names them, commits their cursors" {
	local kind
	for kind in json utf8 schema; do
		rm -rf out "$STREAMKIT_STATE"
		{ bad_input $kind; printf '%s\n' '{"n":"bad","_cursor":"f:0:4"}'; } >input
		run --separate-stderr stream-write --name r --on-error=skip \
			--schema '[{"name":"n","type":"bigint"},{"name":"s","type":"string"}]' dataset:out <input
		assert_status 0
		[[ "$stderr" == "$(bad_message $kind)"* ]] || { echo "$kind: $stderr" >&2; return 1; }
		assert_equal "$(printf '%s\n' "$stderr" | tail -n 1)" "stream-write: skipped 2 bad rows"
		assert_equal "$(dataset_rows out)" $'{"n":1,"s":null}\n{"n":3,"s":"x"}'
		assert_equal "$(position r)" 4
	done
}

@test "--on-error=dead-letter:PATH appends each bad line as it came" {
	local kind
	for kind in json utf8 schema; do
		rm -rf out "$STREAMKIT_STATE" dead.ndjson
		bad_input $kind >input
		run --separate-stderr stream-write --name r --on-error=dead-letter:dead.ndjson \
			--schema '[{"name":"n","type":"bigint"},{"name":"s","type":"string"}]' dataset:out <input
		assert_status 0
		[[ "$stderr" == "$(bad_message $kind)"* ]] || { echo "$kind: $stderr" >&2; return 1; }
		assert_equal "$(printf '%s\n' "$stderr" | tail -n 1)" "stream-write: dead-lettered 1 bad rows to dead.ndjson"
		sed -n 2p input | cmp - dead.ndjson
		assert_equal "$(dataset_rows out)" $'{"n":1,"s":null}\n{"n":3,"s":"x"}'
		assert_equal "$(position r)" 3
	done
}

# blank_lines: rows with blank and white-space-only lines before, between
# and after them (spaces, tabs, CRLF, a lone CR), as jq reads them.
blank_lines() {
	printf '\n \t\n'
	printf '%s\n' '{"n":1,"_cursor":"f:0:1"}'
	printf '\r\n\n\n\n  \r\n\t\t\n'
	printf '%s\r\n' '{"n":2,"_cursor":"f:0:2"}'
	printf '%s\n' '[{"n":3,"_cursor":"f:0:3"}]' '' '{"n":4,"_cursor":"f:0:4"}'
	printf '\n \n\r'
}

@test "skips blank and white-space-only lines between rows, as jq does, on every path of every sink" {
	blank_lines >input
	jq -c 'if type == "array" then .[] else . end | del(._cursor)' input >expected
	assert_equal "$(wc -l <expected)" 4
	# Rows that need no change (the text path), rows with a schema (the
	# parsed path), CSV parts, --map, and standard output.
	run --separate-stderr stream-write --name a dataset:a <input
	assert_status 0
	assert_equal "$stderr" ''
	dataset_rows a | diff expected -
	assert_equal "$(position a)" 4
	run --separate-stderr stream-write --name b --schema '[{"name":"n","type":"bigint"}]' dataset:b <input
	assert_status 0
	dataset_rows b | diff expected -
	run --separate-stderr stream-write --name c --format csv dataset:c <input
	assert_status 0
	assert_equal "$(dataset_rows c | tr -d '\r' | grep -v n | paste -sd,)" "1,2,3,4"
	assert_equal "$(position c)" 4
	run --separate-stderr stream-write --name d --map '.' dataset:d <input
	assert_status 0
	dataset_rows d | diff expected -
	run --separate-stderr stream-write -v - <input
	assert_status 0
	diff expected - <<<"$output"
	assert_equal "$(printf '%s\n' "$stderr" | tail -n 1)" "stream-write: wrote 4 rows from 16 lines in 1 checkpoints"
}

@test "a bad line after blank lines is named by its true line number" {
	printf '\n\n%s\n \t\n\r\n%s\n\n%s\n' '{"n":1,"_cursor":"f:0:1"}' '{"n":' '{"n":3,"_cursor":"f:0:3"}' >input
	run --separate-stderr stream-write --name r dataset:out <input
	assert_status 65
	[[ "$stderr" == 'stream-write: <stdin>:6: invalid JSON at byte 6'* ]] || { echo "$stderr" >&2; return 1; }
	assert_equal "$(dataset_rows out)" '{"n":1}'
	assert_equal "$(position r)" 1
	run --separate-stderr stream-write --on-error=skip - <input
	assert_status 0
	assert_equal "$output" $'{"n":1}\n{"n":3}'
	[[ "$stderr" == 'stream-write: <stdin>:6: '* ]]
}

@test "a batch with one bad row is rejected whole" {
	run --separate-stderr stream-write --on-error=skip --schema '[{"name":"n","type":"int"}]' dataset:out <<-'EOF'
	[{"n":1},{"n":2.5},{"n":3}]
	{"n":4}
	EOF
	assert_status 0
	assert_equal "$(dataset_rows out)" '{"n":4}'
	assert_equal "$stderr" $'stream-write: <stdin>:1: row 2: column "n": expected int, got number 2.5\nstream-write: skipped 3 bad rows'
}

@test "a tuple of the wrong arity, a tuple without a schema, a line that is not a row" {
	run --separate-stderr stream-write --schema '[{"name":"a","type":"int"},{"name":"b","type":"int"}]' \
		dataset:out <<<'[1,2,3]'
	assert_status 65
	assert_equal "$stderr" 'stream-write: <stdin>:1: tuple has 3 values, the schema has 2 columns'
	run --separate-stderr stream-write dataset:new <<<'[1,2]'
	assert_status 65
	assert_equal "$stderr" 'stream-write: <stdin>:1: a tuple (an array of values) needs a schema: give --schema, or write an object row first'
	run --separate-stderr stream-write dataset:new <<<'"text"'
	assert_status 65
	assert_equal "$stderr" 'stream-write: <stdin>:1: expected a JSON object (a row), an array of objects (a batch) or an array of values (a tuple), got string'
	run --separate-stderr stream-write - <<<'null'
	assert_status 65
	assert_equal "$stderr" 'stream-write: <stdin>:1: expected a JSON object (a row), an array of objects (a batch) or an array of values (a tuple), got null'
}

@test "a line longer than --max-line is a bad line" {
	{ echo '{"n":1}'; printf '{"n":2,"s":"%s"}\n' "$(head -c 300 /dev/zero | tr '\0' x)"; echo '{"n":3}'; } >input
	run --separate-stderr stream-write --max-line 100 --on-error=skip dataset:out <input
	assert_status 0
	assert_equal "$stderr" $'stream-write: <stdin>:2: line longer than 100 bytes (--max-line)\nstream-write: skipped 1 bad rows'
	assert_equal "$(dataset_rows out)" $'{"n":1}\n{"n":3}'
	run --separate-stderr stream-write --max-line 100 dataset:out2 <input
	assert_status 65
}

@test "recovery: a recorded staged part is published on the next open, an unrecorded one removed" {
	seq_ndjson 1 | stream-write --name r dataset:out
	# A writer killed after its transaction, before the rename.
	echo '{"n":2}' >out/.staging/part-00000002.ndjson
	state_sql "INSERT INTO staged_parts(name, dataset, tmp_path, final_path, created_ms)
		VALUES ('r', '$PWD/out', '$PWD/out/.staging/part-00000002.ndjson', '$PWD/out/part-00000002.ndjson', 0)"
	# A writer killed before its transaction.
	echo '{"n":99}' >out/.staging/part-00000003.ndjson
	run --separate-stderr stream-write --name r dataset:out </dev/null
	assert_status 0
	assert_equal "$(dataset_rows out)" $'{"n":1}\n{"n":2}'
	assert_equal "$(ls -A out/.staging)" ""
	assert_equal "$(state_sql 'SELECT count(*) FROM staged_parts')" 0
	seq_ndjson 1 3 | stream-write --name r dataset:out
	assert_equal "$(ls out | grep part- | paste -sd,)" \
		"part-00000001.ndjson,part-00000002.ndjson,part-00000003.ndjson"
	assert_equal "$(dataset_rows out)" "$(seq_ndjson 3)"
}

@test "recovery: a recorded part already renamed is only forgotten" {
	seq_ndjson 2 | stream-write --name r --checkpoint-rows 1 dataset:out
	state_sql "INSERT INTO staged_parts(name, dataset, tmp_path, final_path, created_ms)
		VALUES ('r', '$PWD/out', '$PWD/out/.staging/part-00000002.ndjson', '$PWD/out/part-00000002.ndjson', 0)"
	run --separate-stderr stream-write --name r dataset:out </dev/null
	assert_status 0
	assert_equal "$(dataset_rows out)" "$(seq_ndjson 2)"
	assert_equal "$(state_sql 'SELECT count(*) FROM staged_parts')" 0
}

@test "- writes rows to stdout, flushed while the input is idle" {
	start_writer --name r --checkpoint-interval 0 -
	echo '{"n":1,"_cursor":"f:0:1"}' >&7
	wait_for 20 file_contains out.log '{"n":1}'
	stop_writer
	assert_status 0
	assert_equal "$(cat out.log)" '{"n":1}'
	assert_equal "$(position r)" 1
}

@test "file:PATH appends rows and commits their cursors after the write" {
	printf '{"old":true}' >out.ndjson       # no final newline: a killed writer's last line
	stream-write --name r file:out.ndjson <<<'{"n":1,"_cursor":"f:0:1"}'
	stream-write --name r "file:$PWD/out.ndjson" <<<'[{"n":2,"_cursor":"f:0:2"}]'
	assert_equal "$(cat out.ndjson)" $'{"old":true}\n{"n":1}\n{"n":2}'
	assert_equal "$(position r)" 2
}

@test "a reader that goes away stops stream-write cleanly" {
	run bash -c 'seq_ndjson() { awk -v n=$1 "BEGIN { for (i = 1; i <= n; i++) printf \"{\\\"n\\\":%d}\\n\", i }"; }
		seq_ndjson 200000 | stream-write - | head -n 1; echo "status ${PIPESTATUS[1]}"'
	assert_equal "$output" $'{"n":1}\nstatus 0'
}

@test "endpoint kinds that can only be read fail clearly" {
	run --separate-stderr stream-write sse+http://127.0.0.1:1/s </dev/null
	assert_status 64
	assert_equal "$stderr" "stream-write: sse+http://127.0.0.1:1/s: sse endpoints can only be read"
}

@test "usage errors exit 64; --help and --version exit 0" {
	run --separate-stderr stream-write --on-error=drop dataset:out
	assert_status 64
	assert_output_contains ''
	[[ "$stderr" == "stream-write: invalid --on-error 'drop' (expected fail, skip or dead-letter:PATH)"* ]]
	run --separate-stderr stream-write
	assert_status 64
	run --separate-stderr stream-write --format xml dataset:out
	assert_status 64
	run --separate-stderr stream-write --format csv -
	assert_status 64
	assert_equal "$stderr" "stream-write: --format is an option of dataset endpoints"
	run stream-write --help
	assert_status 0
	assert_output_contains "--on-error fail|skip|dead-letter:PATH"
	run stream-write --version
	assert_status 0
	[[ "$output" == "stream-write (streamkit) "* ]]
}
