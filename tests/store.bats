#!/usr/bin/env bats
# store.bats - the state store as the programs open it: the commands that
# only read open it read-only (a store they cannot write, no store at all,
# an older schema), every program refuses an SQLite file that is not a
# store and leaves it as it was, stores are marked with an application id,
# and a store that others may open gets a warning.

bats_require_minimum_version 1.5.0

load helpers/common

APPLICATION_ID=1397453684      # 0x534b7374, "SKst"

setup() {
	setup_scratch
	sr=
}

teardown() {
	if [ -n "$sr" ]; then
		kill -TERM "$sr" 2>/dev/null || true
		wait "$sr" || true
	fi
	chmod -R u+w "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

# as_reader COMMAND...: run COMMAND unable to write what its mode or a
# read-only directory forbids, as a user's command is: root keeps its uid
# but loses every capability (CAP_DAC_OVERRIDE among them).
as_reader() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --inh-caps=-all --bounding-set=-all -- "$@"
	else
		"$@"
	fi
}

# Skip unless as_reader is really refused a write in a read-only directory.
need_reader() {
	if [ "$(id -u)" -eq 0 ] && ! command -v setpriv >/dev/null; then
		skip "root, and no setpriv to run a command without CAP_DAC_OVERRIDE"
	fi
	mkdir probe
	chmod 555 probe
	if as_reader sh -c ': >probe/x' 2>/dev/null; then
		skip "cannot take away the right to write in a read-only directory here"
	fi
}

# A store with positions and history for r: two lines read and committed.
make_store() {
	printf 'one\ntwo\n' >in.log
	stream-read --name r --exit-at-end in.log | stream-checkpoint commit r >/dev/null
}

# What a directory holds, one name a line.
listing() {
	ls -A "$1"
}

position_is() {
	[ "$(state_sql "SELECT position FROM positions WHERE name = '$1'")" = "$2" ]
}

app_id() {
	sqlite3 -batch -noheader "$1" 'PRAGMA application_id'
}

user_version() {
	sqlite3 -batch -noheader "$1" 'PRAGMA user_version'
}

# The four read-only subcommands of stream-checkpoint and --status, each
# asserted to read the store at $STREAMKIT_STATE as it holds r.
reads_everything() {
	local src="file:$BATS_TEST_TMPDIR/in.log"
	run --separate-stderr as_reader stream-checkpoint show r
	assert_status 0
	assert_output_contains "$src"
	run --separate-stderr as_reader stream-checkpoint list
	assert_status 0
	assert_output_contains "r"
	run --separate-stderr as_reader stream-checkpoint history r
	assert_status 0
	assert_output_contains "$src:0:8"
	run --separate-stderr as_reader stream-checkpoint --json lag r
	assert_status 0
	assert_equal "$(jq -r '[(.position | split("@")[0]), .lag] | join(" ")' <<<"$output")" "8 0"
	run --separate-stderr as_reader stream-run --status job
	assert_status 0
	assert_output_contains "state:       exited"
}

# --- read-only commands ---

@test "show, list, history, lag and stream-run --status read a store in a directory they cannot write" {
	need_reader
	mkdir ro
	export STREAMKIT_STATE="$BATS_TEST_TMPDIR/ro/state.db"
	make_store
	stream-run --name job --restart=no -- true
	chmod 555 ro
	before=$(listing ro)
	reads_everything
	assert_equal "$(listing ro)" "$before"
}

@test "show, list, history, lag and stream-run --status read a store mode 0400, creating nothing beside it" {
	need_reader
	mkdir st
	export STREAMKIT_STATE="$BATS_TEST_TMPDIR/st/state.db"
	make_store
	stream-run --name job --restart=no -- true
	chmod 400 st/state.db
	before=$(listing st)
	reads_everything
	assert_equal "$(listing st)" "$before"
}

@test "a read-only command reads what a writer that has the store open has committed" {
	make_store
	stream-run --name job -- sh -c 'stream-checkpoint set w t:0:5; exec sleep 1000' >/dev/null 2>&1 3>&- &
	sr=$!
	wait_for 10 position_is w 5
	[ -e state.db-wal ]
	run --separate-stderr stream-checkpoint --json show w
	assert_status 0
	assert_equal "$(jq -r .position <<<"$output")" 5
	run --separate-stderr stream-run --status job
	assert_status 0
	assert_output_contains "state:       running"
}

@test "read-only commands read an older store as it is, without migrating it" {
	make_store
	sqlite3 state.db "DROP TABLE supervisors; DROP TABLE reads;
		ALTER TABLE attempts DROP COLUMN run_id; ALTER TABLE attempts DROP COLUMN attempt;
		ALTER TABLE attempts DROP COLUMN pid; ALTER TABLE attempts DROP COLUMN error;
		PRAGMA user_version = 1; PRAGMA application_id = 0"
	run --separate-stderr stream-checkpoint show r
	assert_status 0
	assert_output_contains "file:$BATS_TEST_TMPDIR/in.log"
	run --separate-stderr stream-checkpoint list
	assert_status 0
	run --separate-stderr stream-checkpoint history r
	assert_status 0
	run --separate-stderr stream-run --status r
	assert_status 0
	assert_equal "$stderr" "stream-run: r: no supervisor has recorded it"
	assert_equal "$(user_version state.db)" 1
	assert_equal "$(app_id state.db)" 0
	# A writer migrates it.
	stream-checkpoint set r t:0:1
	assert_equal "$(user_version state.db)" 2
}

# --- no store ---

@test "a read-only command given a path with no store says so, exits 69 and creates nothing" {
	local path="$BATS_TEST_TMPDIR/typo/state.db" cmd
	for cmd in "show" "show r" "list" "history r" "lag r"; do
		# shellcheck disable=SC2086
		run --separate-stderr stream-checkpoint --state "$path" $cmd
		assert_status 69
		assert_equal "$stderr" "stream-checkpoint: $path: no state store here"
	done
	run --separate-stderr stream-run --state "$path" --status r
	assert_status 69
	assert_equal "$stderr" "stream-run: $path: no state store here"
	# The default path too.
	run --separate-stderr stream-checkpoint list
	assert_status 69
	assert_equal "$stderr" "stream-checkpoint: $STREAMKIT_STATE: no state store here"
	[ ! -e typo ]
	[ ! -e "$STREAMKIT_STATE" ]
}

@test "an empty file is no store to a read-only command" {
	: >state.db
	run --separate-stderr stream-checkpoint list
	assert_status 69
	assert_equal "$stderr" "stream-checkpoint: $STREAMKIT_STATE: no state store here (an empty file)"
	[ ! -s state.db ]
}

@test "the programs that write create the store, mode 0600 and marked" {
	local n=0 db
	printf 'x\n' >in.log
	stream-read --name r --exit-at-end --state s1.db in.log >/dev/null
	echo '{"a":1}' | stream-write --name w --state s2.db out.ndjson
	stream-checkpoint --state s3.db set r t:0:1
	stream-checkpoint --state s4.db reset r
	echo '{"_cursor":"t:0:1"}' | stream-checkpoint --state s5.db commit c >/dev/null
	stream-run --state s6.db --name job -- true
	for db in s1.db s2.db s3.db s4.db s5.db s6.db; do
		assert_equal "$db $(stat -c %a "$db") $(app_id "$db")" "$db 600 $APPLICATION_ID"
		n=$((n + 1))
	done
	assert_equal "$n" 6
}

@test "a new store's -wal and -shm files are 0600 too, whatever the umask" {
	umask 000
	stream-run --name hold -- sleep 1000 >/dev/null 2>&1 3>&- &
	sr=$!
	wait_for 10 test -e state.db-wal
	wait_for 10 test -e state.db-shm
	assert_equal "$(stat -c %a state.db state.db-wal state.db-shm | tr '\n' ' ')" "600 600 600 "
}

# --- not a store ---

# The store in a directory of its own, where bats puts nothing.
use_st() {
	mkdir st
	export STREAMKIT_STATE="$BATS_TEST_TMPDIR/st/state.db"
}

# refused_by_all FILE: every program refuses FILE (78, naming it) and leaves
# it byte for byte as it was, with nothing beside it.
refused_by_all() {
	local db=$1 sum before
	sum=$(sha256sum "$db")
	before=$(listing "$(dirname "$db")")
	printf 'x\n' >in.log
	for cmd in "stream-checkpoint show" "stream-checkpoint list" "stream-checkpoint history r" \
		"stream-checkpoint lag r" "stream-checkpoint set r t:0:1" "stream-checkpoint reset r" \
		"stream-checkpoint commit r" "stream-read --name r --exit-at-end in.log" \
		"stream-write --name r out.ndjson" "stream-run --name r -- true" "stream-run --status r"; do
		# shellcheck disable=SC2086
		run --separate-stderr $cmd </dev/null
		if [ "$status" -ne 78 ] || [[ "$stderr" != *"$STREAMKIT_STATE: not a streamkit state store"* ]]; then
			echo "$cmd: status $status: $stderr" >&2
			return 1
		fi
	done
	assert_equal "$(sha256sum "$db")" "$sum"
	assert_equal "$(listing "$(dirname "$db")")" "$before"
}

@test "an SQLite file with other tables is refused by every program and left untouched" {
	use_st
	sqlite3 "$STREAMKIT_STATE" "CREATE TABLE notes(x); INSERT INTO notes VALUES ('keep me')"
	refused_by_all "$STREAMKIT_STATE"
	run stream-checkpoint show
	assert_output_contains "$STREAMKIT_STATE: not a streamkit state store (an SQLite database with other tables); left untouched"
}

@test "an SQLite file in WAL mode with other tables is left untouched too" {
	use_st
	sqlite3 "$STREAMKIT_STATE" "PRAGMA journal_mode = WAL; CREATE TABLE notes(x); INSERT INTO notes VALUES (1)" >/dev/null
	refused_by_all "$STREAMKIT_STATE"
}

@test "an SQLite file of another application (application_id) is refused, even with our tables" {
	use_st
	stream-checkpoint set r t:0:1
	sqlite3 "$STREAMKIT_STATE" "PRAGMA application_id = 1234"
	refused_by_all "$STREAMKIT_STATE"
	run stream-checkpoint list
	assert_status 78
	assert_output_contains "(an SQLite database of application id 0x000004d2)"
}

@test "a store from before the application id is read as it is and marked by the next writer" {
	stream-checkpoint set r t:0:1
	sqlite3 state.db "PRAGMA application_id = 0"
	run --separate-stderr stream-checkpoint show r
	assert_status 0
	assert_output_contains "t"
	assert_equal "$(app_id state.db)" 0
	stream-checkpoint set r t:0:2
	assert_equal "$(app_id state.db)" "$APPLICATION_ID"
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" 2
}

# --- permissions ---

@test "a store that the group or others may open gets a warning naming it and its mode, and still works" {
	stream-checkpoint set r t:0:1
	chmod 644 state.db
	run --separate-stderr stream-checkpoint show r
	assert_status 0
	assert_output_contains "t"
	assert_equal "$stderr" "stream-checkpoint: $STREAMKIT_STATE: mode 0644 lets users other than its owner open the state store (positions, endpoints, error output): chmod 600 it"
	chmod 640 state.db
	run --separate-stderr stream-checkpoint set r t:0:2
	assert_status 0
	[[ "$stderr" == *"$STREAMKIT_STATE: mode 0640 lets users other than its owner"* ]]
	run --separate-stderr stream-run --name r --restart=no -- true
	assert_status 0
	[[ "$stderr" == *"$STREAMKIT_STATE: mode 0640 lets users other than its owner"* ]]
	chmod 600 state.db
	run --separate-stderr stream-checkpoint show r
	assert_equal "$stderr" ""
}

@test "an empty file a writer makes a store of becomes 0600, without a warning" {
	# What `sqlite3 state.db 'SELECT ...'` leaves behind before any writer ran.
	: >state.db
	chmod 644 state.db
	run --separate-stderr stream-checkpoint set r t:0:1
	assert_status 0
	assert_equal "$stderr" ""
	assert_equal "$(stat -c %a state.db)" 600
	assert_equal "$(state_sql 'PRAGMA application_id')" 1397453684
}
