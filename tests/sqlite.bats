#!/usr/bin/env bats
# sqlite.bats - the sqlite:PATH?table=T sink: tables made from schemas,
# existing tables checked, values coerced, rows and cursors committed in the
# destination and the state store, re-delivered rows dropped after a crash
# between the two commits, bad rows.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/files

setup() { setup_scratch; }

teardown() {
	exec 7>&- 2>/dev/null || true
	if [ -n "${WRITER:-}" ]; then
		kill "$WRITER" 2>/dev/null || true
		wait "$WRITER" 2>/dev/null || true
	fi
}

DB='sqlite:db.sqlite?table=t'

# sql SQL...: query the destination database.
sql() {
	sqlite3 -batch -noheader db.sqlite "$@"
}

# rows FROM TO: rows {"n":i} with the cursors a file source would give them.
rows() {
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++) printf "{\"n\":%d,\"_cursor\":\"file:/in:0:%d\"}\n", i, i * 10 }'
}

columns() { sql "SELECT name || ' ' || type FROM pragma_table_info('${1:-t}')"; }
position() { state_sql "SELECT position FROM positions WHERE name = '$1'" 2>/dev/null; }
dest_position() { sql "SELECT position FROM _streamkit_positions WHERE name = '$1'" 2>/dev/null; }
position_is() { [ "$(position "$1")" = "$2" ]; }

@test "creates the table from --schema with a typed column per schema type" {
	run --separate-stderr stream-write --schema '[{"name":"s","type":"string"},{"name":"i","type":"int"},
		{"name":"b","type":"bigint"},{"name":"f","type":"float"},{"name":"d","type":"double"},
		{"name":"ok","type":"boolean"},{"name":"day","type":"date"},{"name":"a","type":"array"},
		{"name":"o","type":"object"}]' "$DB" </dev/null
	assert_status 0
	assert_equal "$(columns)" 's TEXT
i INTEGER
b INTEGER
f REAL
d REAL
ok INTEGER
day TEXT
a TEXT
o TEXT'
	assert_equal "$(sql 'SELECT count(*) FROM t')" 0
}

@test "without --schema, creates the table from the first row" {
	run --separate-stderr stream-write "$DB" <<<'{"id":1,"x":1.5,"s":"a","b":true,"n":null,"a":[1],"o":{"k":1},"_cursor":"f:0:1"}'
	assert_status 0
	assert_equal "$(columns | paste -sd,)" 'id INTEGER,x REAL,s TEXT,b INTEGER,n TEXT,a TEXT,o TEXT'
	assert_equal "$(sql 'SELECT * FROM t')" '1|1.5|a|1||[1]|{"k":1}'
}

@test "inserts object rows, tuples and batches, in order" {
	run --separate-stderr stream-write --schema '[{"name":"id","type":"bigint"},{"name":"s","type":"string"}]' \
		"$DB" <<-'EOF'
	{"id":1,"s":"one"}
	[2,"two"]
	[{"id":3,"s":"three"},{"s":"four","id":4}]
	[]
	{"id":5}
	EOF
	assert_status 0
	assert_equal "$(sql 'SELECT id, s FROM t ORDER BY rowid')" '1|one
2|two
3|three
4|four
5|'
}

@test "coerces values: booleans 0/1, arrays and objects as JSON text, bigint exact, dates as text" {
	run --separate-stderr stream-write --schema '[{"name":"big","type":"bigint"},{"name":"ok","type":"boolean"},
		{"name":"o","type":"object"},{"name":"a","type":"array"},{"name":"d","type":"double"},
		{"name":"day","type":"date"},{"name":"s","type":"string"}]' "$DB" <<-'EOF'
	{"big":9223372036854775807,"ok":true,"o":{"k":"v/w","n":[1,2.50]},"a":["x",null],"d":"2.5","day":0,"s":12}
	{"big":"-9007199254740993","ok":"false","o":{},"a":[],"d":3,"day":"2024-02-29","s":"\u00e9\u0000x"}
	{"big":null,"ok":null}
	EOF
	assert_status 0
	assert_equal "$(sql 'SELECT big, ok, o, a, d, day, s, typeof(big), typeof(ok), typeof(d) FROM t ORDER BY rowid')" \
'9223372036854775807|1|{"k":"v/w","n":[1,2.50]}|["x",null]|2.5|1970-01-01T00:00:00.000Z|12|integer|integer|real
-9007199254740993|0|{}|[]|3.0|2024-02-29|é|integer|integer|real
|||||||null|null|null'
	# The string with a NUL keeps all its bytes.
	assert_equal "$(sql "SELECT length(CAST(s AS BLOB)) FROM t WHERE rowid = 2")" 4
	# JSON text that SQLite's JSON functions read.
	assert_equal "$(sql "SELECT json_extract(o, '\$.n[1]') FROM t WHERE rowid = 1")" 2.5
}

@test "quotes table and column names" {
	run --separate-stderr stream-write 'sqlite:db.sqlite?table=my%20"t"' <<<'{"a b":1,"c\"d":"x","select":true}'
	assert_status 0
	assert_equal "$(sql 'SELECT "a b", "c""d", "select" FROM "my ""t"""')" '1|x|1'
}

@test "an existing table is checked against --schema: a mismatch names the column (exit 78)" {
	sql 'CREATE TABLE t(id INTEGER, name VARCHAR(20), score DOUBLE PRECISION, seen DATE, note TEXT NOT NULL DEFAULT "")'
	run --separate-stderr stream-write --schema '[{"name":"id","type":"bigint"},{"name":"name","type":"string"},
		{"name":"score","type":"float"},{"name":"seen","type":"date"}]' "$DB" <<<'{"id":1,"name":"ann","score":2,"seen":"2024-01-02"}'
	assert_status 0
	assert_equal "$(sql 'SELECT * FROM t')" '1|ann|2.0|2024-01-02|'

	run --separate-stderr stream-write --schema '[{"name":"id","type":"string"}]' "$DB" <<<'{"id":"2"}'
	assert_status 78
	assert_equal "$stderr" "stream-write: $DB: column \"id\" is INTEGER in the table (INTEGER affinity); --schema has it as string, which needs TEXT"
	run --separate-stderr stream-write --schema '[{"name":"id","type":"bigint"},{"name":"extra","type":"string"}]' "$DB" <<<'{"id":2}'
	assert_status 78
	assert_equal "$stderr" "stream-write: $DB: column \"extra\" of --schema is not in the table"
	sql 'CREATE TABLE u(id INTEGER, must TEXT NOT NULL)'
	run --separate-stderr stream-write --schema '[{"name":"id","type":"bigint"}]' 'sqlite:db.sqlite?table=u' <<<'{"id":2}'
	assert_status 78
	assert_equal "$stderr" 'stream-write: sqlite:db.sqlite?table=u: column "must" of the table is NOT NULL without a default, and not in --schema'
	assert_equal "$(sql 'SELECT count(*) FROM t')" 1
}

@test "a table streamkit created keeps its schema on later runs; another table is read by its column types" {
	stream-write "$DB" <<<'{"id":1,"o":{"k":1},"day":"2024-01-01"}'
	# The recorded schema says o is an object: an object is accepted, a string is not.
	run --separate-stderr stream-write "$DB" <<<'{"id":2,"o":{"k":2},"day":"2024-01-02"}'
	assert_status 0
	run --separate-stderr stream-write "$DB" <<<'{"id":3,"o":"text"}'
	assert_status 65
	assert_equal "$stderr" 'stream-write: <stdin>:1: column "o": expected object, got string "text"'
	assert_equal "$(sql 'SELECT id, o FROM t ORDER BY rowid')" $'1|{"k":1}\n2|{"k":2}'

	sql 'CREATE TABLE mine(k INTEGER PRIMARY KEY, n BIGINT, x REAL, s TEXT)'
	run --separate-stderr stream-write 'sqlite:db.sqlite?table=mine' <<<'[null,"7","1.5",3]'
	assert_status 0
	assert_equal "$(sql 'SELECT * FROM mine')" '1|7|1.5|3'
	sql 'CREATE TABLE vague(v NUMERIC)'
	run --separate-stderr stream-write 'sqlite:db.sqlite?table=vague' <<<'{"v":1}'
	assert_status 78
	assert_equal "$stderr" 'stream-write: sqlite:db.sqlite?table=vague: column "v" is NUMERIC in the table: give --schema to say what it holds'
}

@test "commits the last cursor of each partition in the destination and in the state store" {
	run --separate-stderr stream-write --name r "$DB" <<-'EOF'
	{"n":1,"_cursor":"file:/in:0:10"}
	{"n":2,"_cursor":"kafka:t:3:41"}
	[{"n":3,"_cursor":"file:/in:0:20"},{"n":4,"_cursor":"kafka:t:3:42"}]
	EOF
	assert_status 0
	assert_equal "$(sql 'SELECT n FROM t ORDER BY rowid' | paste -sd,)" 1,2,3,4
	assert_equal "$(sql "SELECT name, table_name, source, partition, position FROM _streamkit_positions ORDER BY source")" \
		'r|t|file:/in|0|20
r|t|kafka:t|3|42'
	assert_equal "$(state_sql "SELECT source, partition, position FROM positions WHERE name = 'r' ORDER BY source")" \
		'file:/in|0|20
kafka:t|3|42'
	assert_equal "$(state_sql "SELECT rows FROM checkpoints WHERE name = 'r'")" 4
	# Without a name, no cursor is kept anywhere.
	stream-write 'sqlite:db.sqlite?table=plain' <<<'{"n":1,"_cursor":"file:/in:0:10"}'
	assert_equal "$(sql "SELECT count(*) FROM _streamkit_positions WHERE table_name = 'plain'")" 0
}

@test "rows become visible only at a checkpoint" {
	mkfifo in
	stream-write --name r --checkpoint-rows 2 --checkpoint-interval 0 "$DB" <in 2>err.log 3>&- &
	WRITER=$!
	exec 7>in
	rows 1 3 >&7
	# The state store commits after the destination.
	wait_for 20 position_is r 20
	assert_equal "$(sql 'SELECT n FROM t ORDER BY rowid' | paste -sd,)" 1,2
	assert_equal "$(dest_position r)" 20
	exec 7>&-
	wait "$WRITER"
	WRITER=
	assert_equal "$(sql 'SELECT n FROM t ORDER BY rowid' | paste -sd,)" 1,2,3
	assert_equal "$(position r)" 30
}

@test "after a crash between the two commits, the rows read again are dropped, not inserted twice" {
	seq_ndjson 5 >in.ndjson
	read_rows() { stream-read --name r --json --exit-at-end file:in.ndjson | jq -c '.line + {_cursor}'; }
	read_rows | stream-write --name r "$DB"
	assert_equal "$(position r)" "$(position_in in.ndjson 40)"
	# The destination committed rows 1-5, the state store only up to row 2.
	stream-checkpoint set r "file:$(realpath in.ndjson):0:16"
	seq_ndjson 2 6 >>in.ndjson
	# The reader resumes after row 2 (in a pipeline it may also read the
	# state store after stream-write has brought it up to the destination,
	# and then resume after row 5).
	read_rows >again.ndjson
	assert_equal "$(jq -r .n again.ndjson | paste -sd,)" 3,4,5,6,7
	run --separate-stderr stream-write -v --name r "$DB" <again.ndjson
	assert_status 0
	[[ "$stderr" == *"stream-write: $DB: dropped 3 rows the destination held already"* ]] || {
		echo "$stderr" >&2; return 1; }
	assert_equal "$(sql 'SELECT n FROM t ORDER BY rowid' | paste -sd,)" 1,2,3,4,5,6,7
	assert_equal "$(position r)" "$(position_in in.ndjson 56)"
	assert_equal "$(dest_position r)" "$(position_in in.ndjson 56)"
}

@test "a state store that fails after the destination committed: the rerun drops the rows read again" {
	need_strace
	rows 1 3 | stream-write --name r "$DB"
	# Every write to the state store's log fails: the destination commits
	# rows 4-6 and their cursor, the state store stays at row 3.
	run --separate-stderr traced -o /dev/null -P "$STREAMKIT_STATE-wal" -e trace=pwrite64 -e inject=pwrite64:error=EIO stream-write --name r "$DB" < <(rows 4 6)
	assert_status 74
	assert_equal "$stderr" "stream-write: $STREAMKIT_STATE: disk I/O error"
	assert_equal "$(dest_position r)" 60
	assert_equal "$(position r)" 30
	# The reader resumes after row 3.
	run --separate-stderr stream-write -v --name r "$DB" < <(rows 4 8)
	assert_status 0
	[[ "$stderr" == *"stream-write: $DB: dropped 3 rows the destination held already"* ]] || {
		echo "$stderr" >&2; return 1; }
	assert_equal "$(sql 'SELECT n FROM t ORDER BY rowid' | paste -sd,)" 1,2,3,4,5,6,7,8
	assert_equal "$(position r)" 80
	assert_equal "$(dest_position r)" 80
}

@test "on open, a state store behind the destination is brought up to it" {
	rows 1 3 | stream-write --name r "$DB"
	stream-checkpoint set r file:/in:0:10
	stream-checkpoint set r kafka:t:0:5
	run --separate-stderr stream-write --name r "$DB" </dev/null
	assert_status 0
	assert_equal "$(state_sql "SELECT source || ':' || partition || ':' || position FROM positions ORDER BY source")" \
		$'file:/in:0:30\nkafka:t:0:5'
	# A checkpoint of dropped rows only keeps the destination's position.
	stream-checkpoint set r file:/in:0:10
	rows 2 2 | stream-write --name r "$DB"
	assert_equal "$(state_sql "SELECT position FROM positions WHERE source = 'file:/in'")" 30
	assert_equal "$(dest_position r)" 30
	assert_equal "$(sql 'SELECT count(*) FROM t')" 3
}

@test "positions compare as numbers: 9 is before 10, and leading zeros do not count" {
	printf '%s\n' '{"n":1,"_cursor":"k:t:0:10"}' | stream-write --name r "$DB"
	stream-checkpoint set r k:t:0:1
	printf '%s\n' '{"n":2,"_cursor":"k:t:0:9"}' '{"n":3,"_cursor":"k:t:0:0010"}' '{"n":4,"_cursor":"k:t:0:11"}' |
		stream-write --name r "$DB"
	assert_equal "$(sql 'SELECT n FROM t ORDER BY rowid' | paste -sd,)" 1,4
	assert_equal "$(dest_position r)" 11
}

@test "positions that are not numbers: only the row at the committed position is dropped" {
	printf '%s\n' '{"n":1,"_cursor":"web:s:-:abc"}' | stream-write --name r "$DB"
	stream-checkpoint set r web:s:-:aaa
	printf '%s\n' '{"n":1,"_cursor":"web:s:-:abc"}' '{"n":2,"_cursor":"web:s:-:abd"}' | stream-write --name r "$DB"
	assert_equal "$(sql 'SELECT n FROM t ORDER BY rowid' | paste -sd,)" 1,2
}

@test "rows before the state store's position (a file that started again) are kept" {
	rows 1 3 | stream-write --name r "$DB"
	# A source that starts again from its beginning, as a truncated file does.
	rows 1 4 | sed 's/"n":/"n":1/' | stream-write --name r "$DB"
	assert_equal "$(sql 'SELECT n FROM t ORDER BY rowid' | paste -sd,)" 1,2,3,11,12,13,14
	assert_equal "$(position r)" 40
}

@test "--on-error=fail: commits the rows before a row that does not fit, exits 65" {
	{ rows 1 2; echo '{"n":"three","_cursor":"file:/in:0:30"}'; rows 4 4; } >input
	run --separate-stderr stream-write --name r --schema '[{"name":"n","type":"int"}]' "$DB" <input
	assert_status 65
	assert_equal "$stderr" 'stream-write: <stdin>:3: column "n": expected int, got string "three"'
	assert_equal "$(sql 'SELECT n FROM t ORDER BY rowid' | paste -sd,)" 1,2
	assert_equal "$(position r)" 20
	assert_equal "$(dest_position r)" 20
}

@test "--on-error=skip and dead-letter: the row is left out, its cursor committed" {
	{ rows 1 2; echo '{"n":"three","_cursor":"file:/in:0:30"}'; rows 4 4; } >input
	run --separate-stderr stream-write --name r --on-error=skip --schema '[{"name":"n","type":"int"}]' "$DB" <input
	assert_status 0
	assert_equal "$(printf '%s\n' "$stderr" | tail -n 1)" 'stream-write: skipped 1 bad rows'
	assert_equal "$(sql 'SELECT n FROM t ORDER BY rowid' | paste -sd,)" 1,2,4
	assert_equal "$(position r)" 40

	run --separate-stderr stream-write --name d --on-error=dead-letter:dead.ndjson 'sqlite:db.sqlite?table=t2' <input
	assert_status 0
	assert_equal "$(cat dead.ndjson)" '{"n":"three","_cursor":"file:/in:0:30"}'
	assert_equal "$(sql 'SELECT n FROM t2 ORDER BY rowid' | paste -sd,)" 1,2,4
	assert_equal "$(dest_position d)" 40
}

@test "a row a constraint of the table refuses stops stream-write (65); nothing of its checkpoint is committed" {
	sql 'CREATE TABLE t(n INTEGER UNIQUE)'
	rows 1 3 | stream-write --name r "$DB"
	run --separate-stderr stream-write --name r "$DB" < <(rows 4 4; rows 2 2)
	assert_status 65
	assert_equal "$stderr" "stream-write: $DB: UNIQUE constraint failed: t.n"
	assert_equal "$(sql 'SELECT n FROM t ORDER BY rowid' | paste -sd,)" 1,2,3
	assert_equal "$(position r)" 30
	assert_equal "$(dest_position r)" 30
}

@test "a new database is created by the umask in WAL mode; an existing one keeps its journal mode" {
	umask 022
	stream-write "sqlite:sub/dir/new.sqlite?table=t" <<<'{"n":1}'
	assert_equal "$(stat -c %a sub/dir/new.sqlite)" 644
	assert_equal "$(sqlite3 sub/dir/new.sqlite 'PRAGMA journal_mode')" wal
	sql 'CREATE TABLE other(x)'
	stream-write "$DB" <<<'{"n":1}'
	assert_equal "$(sql 'PRAGMA journal_mode')" delete
	# The state store stays private.
	stream-write --name r "$DB" <<<'{"n":2}'
	assert_equal "$(stat -c %a "$STREAMKIT_STATE")" 600
}

@test "bad endpoints: no table, a reserved table name, a file that is not a database" {
	run --separate-stderr stream-write 'sqlite:db.sqlite' </dev/null
	assert_status 64
	assert_equal "$stderr" 'stream-write: sqlite:db.sqlite: expected sqlite:PATH?table=TABLE'
	run --separate-stderr stream-write 'sqlite:db.sqlite?table=_streamkit_positions' </dev/null
	assert_status 64
	assert_equal "$stderr" 'stream-write: sqlite:db.sqlite?table=_streamkit_positions: table names starting with _streamkit_ are reserved'
	echo 'not a database' >text.sqlite
	run --separate-stderr stream-write 'sqlite:text.sqlite?table=t' <<<'{"n":1}'
	assert_status 78
	assert_equal "$stderr" 'stream-write: sqlite:text.sqlite?table=t: file is not a database'
}

@test "a database held by another writer makes stream-write wait, then go on" {
	sql 'CREATE TABLE t(n INTEGER)'
	mkfifo hold
	# A transaction that holds the write lock until its input closes.
	sqlite3 db.sqlite <hold >/dev/null 3>&- &
	local holder=$!
	exec 7>hold
	printf 'BEGIN IMMEDIATE;\nINSERT INTO t VALUES (0);\n' >&7
	wait_for 20 sh -c '! sqlite3 -cmd ".timeout 0" db.sqlite "BEGIN IMMEDIATE; ROLLBACK" 2>/dev/null'
	stream-write --name r "$DB" <<<'{"n":1,"_cursor":"f:0:1"}' 2>err.log 3>&- &
	WRITER=$!
	printf 'COMMIT;\n' >&7
	exec 7>&-
	wait "$holder"
	wait "$WRITER"
	WRITER=
	assert_equal "$(sql 'SELECT n FROM t ORDER BY rowid' | paste -sd,)" 0,1
}
