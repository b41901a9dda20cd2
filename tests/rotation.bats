#!/usr/bin/env bats
# rotation.bats - a file position names its file: rotation, truncation,
# copytruncate and inode reuse, while the recipe is stopped and while it
# follows; lines still being written; what stream-checkpoint says about
# file positions; kcat's options on stream-read.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/files
load helpers/pipeline

setup() { setup_scratch; }

teardown() { stop_pipeline; }

# run_once NAME FILE [OPTIONS]: one resumable run to the end of FILE, its
# lines committed for NAME; the lines printed in $output, one per line, the
# warnings in $stderr, and the status of the first program that failed.
run_once() {
	local name=$1 file=$2; shift 2
	run --separate-stderr bash -o pipefail -c \
		'n=$1; shift; stream-read --name "$n" --exit-at-end "$@" | stream-checkpoint commit "$n" | jq -r .line' \
		bash "$name" "$@" "$file"
	if [ "$status" -ne 0 ]; then
		printf '%s\n' "$stderr" >&2
	fi
}

position() { state_sql "SELECT position FROM positions WHERE name = '$1'"; }
position_is() { [ "$(position "$1")" = "$2" ]; }
lines_in() { [ "$(wc -l <"$2")" -ge "$1" ]; }

# --- rotation while stopped ---

@test "resumes a file rotated while the recipe was stopped: the rest of the old file, then the new one" {
	printf 'old1\nold2\n' >a.log
	run_once r a.log
	assert_equal "$output" "$(printf 'old1\nold2')"
	mv a.log a.log.1
	printf 'new1\nnew2\nnew3\n' >a.log
	run_once r a.log
	assert_status 0
	assert_equal "$output" "$(printf 'new1\nnew2\nnew3')"
	assert_equal "$stderr" ""
	assert_equal "$(position r)" "$(position_in a.log 15)"
}

@test "lines written to the old file before it was rotated come first, a last one without a newline too" {
	printf 'old1\nold2\n' >a.log
	run_once r a.log
	printf 'old3\nold4' >>a.log
	mv a.log a.log.1
	printf 'new1\n' >a.log
	run --separate-stderr sh -c 'stream-read --name r --exit-at-end a.log | stream-checkpoint commit r'
	assert_status 0
	printf '%s\n' "$output" >out
	assert_equal "$(jq -r .line out | paste -sd,)" "old3,old4,new1"
	# Cursors of the old file's lines name the old file, under the source's name.
	assert_equal "$(jq -r ._cursor out | paste -sd' ')" \
		"file:$PWD/a.log:0:$(position_in a.log.1 15) file:$PWD/a.log:0:$(position_in a.log.1 19) $(cursor_in a.log 5)"
}

@test "a run that stops inside the old file goes on in it the next time" {
	printf 'old1\n' >a.log
	run_once r a.log
	printf 'old2\nold3\n' >>a.log
	mv a.log a.log.1
	printf 'new1\n' >a.log
	run --separate-stderr sh -c 'stream-read --name r --count 1 a.log | stream-checkpoint commit r | jq -r .line'
	assert_equal "$output" "old2"
	assert_equal "$(position r)" "$(position_in a.log.1 10)"
	# Rotated again meanwhile: found by its inode under its new name.
	mv a.log.1 a.log.2
	run_once r a.log
	assert_equal "$output" "$(printf 'old3\nnew1')"
}

@test "a stored position in a file that is gone says how many bytes of it were never read" {
	printf 'old1\nold2\nold3\n' >a.log
	run --separate-stderr sh -c 'stream-read --name r --count 1 a.log | stream-checkpoint commit r >/dev/null'
	rm a.log
	printf 'new1\n' >other
	mv other a.log
	run_once r a.log
	assert_status 0
	assert_equal "$output" "new1"
	[[ "$stderr" == *"stream-read: a.log: the file of the stored position (inode "*") "*": 10 bytes after the position when last seen were never read; reading a.log from its start"* ]] || {
		echo "$stderr" >&2; return 1; }
}

@test "a stored position in a file that is gone, with nothing noted about it, says the count is unknown" {
	printf 'old1\nold2\n' >a.log
	stream-checkpoint set r "$(stream-read --count 1 a.log | jq -r ._cursor)"
	rm a.log
	printf 'new1\n' >other
	mv other a.log
	run_once r a.log
	assert_status 0
	assert_equal "$output" "new1"
	[[ "$stderr" == *"a.log: the file of the stored position (inode "*"how many bytes of it were never read is not known; reading a.log from its start"* ]] || {
		echo "$stderr" >&2; return 1; }
}

@test "a position given as a bare offset applies to the file at the path" {
	printf 'a\nb\nc\n' >a.log
	stream-checkpoint set r "file:$PWD/a.log:0:2"
	run_once r a.log
	assert_equal "$output" "$(printf 'b\nc')"
	assert_equal "$(position r)" "$(position_in a.log 6)"
}

# --- truncation, copytruncate, inode reuse ---

@test "a file truncated while the recipe was stopped is read from its start, with a warning" {
	printf 'aaaa\nbbbb\n' >a.log
	run_once r a.log
	printf 'c\n' >a.log
	run_once r a.log
	assert_status 0
	assert_equal "$output" "c"
	[[ "$stderr" == *"a.log: the file of the stored position (inode $(stat -c %i a.log)) was truncated: 0 bytes after the position when last seen were never read; reading a.log from its start"* ]] || {
		echo "$stderr" >&2; return 1; }
}

@test "copytruncate while stopped: the rest is read from the copy, then the file from its start" {
	printf 'l1\nl2\n' >a.log
	run_once r a.log
	printf 'l3\nl4\n' >>a.log
	cp a.log a.log.1
	: >a.log
	printf 'l5\n' >>a.log
	# An older copy, of other lines, is not taken for it.
	printf 'x1\nx2\nx3\nx4\n' >a.log.2
	run_once r a.log
	assert_status 0
	assert_equal "$output" "$(printf 'l3\nl4\nl5')"
	assert_equal "$stderr" ""
}

@test "copytruncate while following: the rest is read from the copy, nothing lost or repeated" {
	printf 'l1\nl2\n' >a.log
	start_pipeline 'stream-read -v --name r --follow a.log 2>err | stream-checkpoint commit r --checkpoint-rows 1 >out'
	wait_for 10 lines_in 2 out
	printf 'l3\n' >>a.log
	cp a.log a.log.1
	: >a.log
	wait_for 10 grep -q 'a.log: file truncated; finishing its copy a.log.1 from offset' err
	printf 'l4\n' >>a.log
	wait_for 10 lines_in 4 out
	wait_for 10 position_is r "$(position_in a.log 3)"
	stop_pipeline
	assert_equal "$(jq -r .line out | paste -sd,)" "l1,l2,l3,l4"
}

# take_inode INO: a.log made anew; true when it got inode INO. A lower inode
# it gets is kept (spare.*), so that the next new file gets the next free
# one (filesystems such as ext4 give the lowest free inode of a group); a
# higher one is freed again.
take_inode() {
	local got
	printf 'cccc\ndddd\neeee\n' >a.log
	got=$(stat -c %i a.log)
	[ "$got" = "$1" ] && return 0
	if [ "$got" -lt "$1" ]; then mv a.log "spare.$got"; else rm a.log; fi
	return 1
}

@test "a file deleted and created again with the same inode is told apart by its first bytes" {
	printf 'aaaa\nbbbb\n' >a.log
	ino=$(stat -c %i a.log)
	run_once r a.log
	rm a.log
	wait_for 20 take_inode "$ino" 2>/dev/null ||
		skip "this filesystem did not give inode $ino to a new file, so inode reuse cannot be shown here"
	run_once r a.log
	assert_status 0
	assert_equal "$output" "$(printf 'cccc\ndddd\neeee')"
	[[ "$stderr" == *"a.log: the file of the stored position (inode $ino) was replaced or rewritten: 0 bytes after the position when last seen were never read; reading a.log from its start"* ]] || {
		echo "$stderr" >&2; return 1; }
}

@test "a file written anew in place, longer than the position, is told apart by its first bytes" {
	printf 'aaaa\nbbbb\n' >a.log
	ino=$(stat -c %i a.log)
	run_once r a.log
	printf 'cccc\ndddd\neeee\n' >a.log
	assert_equal "$(stat -c %i a.log)" "$ino"
	run_once r a.log
	assert_status 0
	assert_equal "$output" "$(printf 'cccc\ndddd\neeee')"
	[[ "$stderr" == *"a.log: the file of the stored position (inode $ino) was replaced or rewritten: 0 bytes after the position when last seen were never read; reading a.log from its start"* ]] || {
		echo "$stderr" >&2; return 1; }
}

# --- rotation while running ---

@test "rotation while following: the cursors of the old file's last lines name the old file" {
	printf '1\n2\n' >log
	start_pipeline 'stream-read --name r --follow log 2>err | stream-checkpoint commit r --checkpoint-rows 1 >out'
	wait_for 10 lines_in 2 out
	mv log log.1
	printf '3\n' >>log.1
	printf '4\n' >log
	wait_for 10 lines_in 4 out
	wait_for 10 position_is r "$(position_in log 2)"
	stop_pipeline
	assert_equal "$(jq -r .line out | paste -sd,)" "1,2,3,4"
	assert_equal "$(jq -r ._cursor out | sed -n 3p)" "file:$PWD/log:0:$(position_in log.1 6)"
	# The size of the file left is noted, for a warning if it ever goes missing.
	assert_equal "$(state_sql "SELECT value FROM settings WHERE key LIKE 'note %'")" "$(position_in log.1 6)"
}

# --- lines still being written ---

@test "a resumable read holds a last line without a newline, says so, and commits nothing of it" {
	printf '{"a":1}\n{"to":"b' >p.ndjson
	run --separate-stderr sh -c 'stream-read --name p --exit-at-end p.ndjson | stream-checkpoint commit p'
	assert_status 0
	assert_equal "$output" "{\"line\":\"{\\\"a\\\":1}\",\"offset\":0,\"_cursor\":\"$(cursor_in p.ndjson 8)\"}"
	assert_equal "$stderr" "stream-read: p.ndjson: a last line without a newline, at offset 8, was held back, not read"
	assert_equal "$(position p)" "$(position_in p.ndjson 8)"
	printf '"}\n' >>p.ndjson
	run --separate-stderr sh -c 'stream-read --name p --exit-at-end p.ndjson | stream-checkpoint commit p | jq -c .line'
	assert_equal "$output" '"{\"to\":\"b\"}"'
	assert_equal "$stderr" ""
	assert_equal "$(position p)" "$(position_in p.ndjson 19)"
}

@test "--partial-line chooses: emit without --name, hold without it, and emit with --name is refused" {
	printf 'a\nb' >in.txt
	run --separate-stderr stream-read --partial-line=emit in.txt
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "a,b"
	run --separate-stderr stream-read --partial-line=hold in.txt
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "a"
	assert_equal "$stderr" "stream-read: in.txt: a last line without a newline, at offset 2, was held back, not read"
	run --separate-stderr bash -c "printf 'x\ny' | stream-read --partial-line=hold"
	assert_equal "$(printf '%s\n' "$output" | jq -r .line)" "x"
	run --separate-stderr stream-read --name r --partial-line=emit in.txt
	assert_status 64
	assert_equal "$stderr" "stream-read: in.txt: --partial-line=emit cannot be used with --name: a line emitted before its newline would be committed, and its rest read later as a line of its own"
	run --separate-stderr stream-read --partial-line=hold kafka://127.0.0.1:1/t
	assert_status 64
	assert_equal "$stderr" "stream-read: --partial-line is an option of file endpoints"
}

@test "with --follow and --name, a line completed later is emitted whole, once, and not committed before" {
	printf '{"a":1}\n{"to":"b' >p.ndjson
	start_pipeline 'stream-read --name p --follow p.ndjson 2>err | stream-checkpoint commit p --checkpoint-rows 1 >out'
	wait_for 10 position_is p "$(position_in p.ndjson 8)"
	assert_equal "$(wc -l <out)" 1
	printf '"}\n' >>p.ndjson
	wait_for 10 position_is p "$(position_in p.ndjson 19)"
	stop_pipeline
	assert_equal "$(jq -c .line out | paste -sd' ')" '"{\"a\":1}" "{\"to\":\"b\"}"'
	assert_equal "$(jq -r .offset out | paste -sd,)" "0,8"
}

# --- stream-checkpoint and file positions ---

@test "show says which file (inode) a position belongs to, and --json keeps the position to give back to set" {
	printf 'x\nyy\n' >a.log
	run_once r a.log
	ino=$(stat -c %i a.log)
	run --separate-stderr stream-checkpoint show r
	assert_status 0
	[[ "${lines[1]}" =~ ^r\ +file:$PWD/a.log\ +0\ +5\ \(inode\ $ino\)\ +[0-9-]+\ [0-9:]+$ ]] || {
		echo "$output" >&2; return 1; }
	run --separate-stderr stream-checkpoint --json show r
	assert_equal "$(jq -c '[.position, .file]' <<<"$output")" \
		"[\"$(position_in a.log 5)\",{\"device\":$(stat -c %d a.log),\"inode\":$ino,\"fingerprint\":\"$(fingerprint a.log 5)\"}]"
	stream-checkpoint set r "file:$PWD/a.log:0:$(jq -r .position <<<"$output")"
	assert_equal "$(position r)" "$(position_in a.log 5)"
}

@test "set refuses partition 1 of a file, and a position that is neither an offset nor a file position (exit 64)" {
	printf 'x\n' >p
	run --separate-stderr stream-checkpoint set r "file:$PWD/p:1:5"
	assert_status 64
	assert_equal "$stderr" "stream-checkpoint: set: invalid partition '1' for file:$PWD/p (a file has one partition, 0) (see --help)"
	run --separate-stderr stream-checkpoint set r --source file:p --partition 0 --position 5@1.2
	assert_status 64
	[[ "$stderr" == *"invalid position '5@1.2' for file:$PWD/p (expected a byte offset, or OFFSET@DEV.INO.FINGERPRINT as in a cursor)"* ]]
	assert_equal "$(state_sql 'SELECT count(*) FROM positions' 2>/dev/null || echo 0)" 0
}

@test "lag of a position in a rotated file counts its rest and the new file, and says so" {
	printf 'a\nb\n' >a.log
	stream-read --name r --count 1 a.log | stream-checkpoint commit r >/dev/null
	mv a.log a.log.1
	printf 'ccc\n' >a.log
	run --separate-stderr stream-checkpoint lag r
	assert_status 0
	[[ "${lines[1]}" =~ \ 4\ +6$ ]] || { echo "$output" >&2; return 1; }
	[[ "$stderr" == *"file:$PWD/a.log: the position belongs to inode $(stat -c %i a.log.1), now a.log.1, not to the file at the path (inode $(stat -c %i a.log))"* ]]
	rm a.log.1
	run --separate-stderr stream-checkpoint --json lag r
	assert_equal "$(jq -c '[.end, .lag]' <<<"$output")" '[4,null]'
	[[ "$stderr" == *"and that file is gone: the lag is not known"* ]]
}

# --- kcat's habits ---

@test "-o beginning|end|stored, -e and -c work as kcat's, and --from takes beginning and end" {
	printf '1\n2\n3\n' >in.txt
	run --separate-stderr stream-read -o beginning -c 2 in.txt
	assert_equal "$(printf '%s\n' "$output" | jq -r .line | paste -sd,)" "1,2"
	run --separate-stderr stream-read -o end -e -f in.txt
	assert_status 0
	assert_equal "$output" ""
	run --separate-stderr stream-read --from end in.txt
	assert_equal "$output" ""
	run --separate-stderr stream-read --from beginning -c 1 in.txt
	assert_equal "$(printf '%s\n' "$output" | jq -r .line)" "1"
	# stored: the stored position, else the start; it needs a name.
	run --separate-stderr sh -c 'stream-read --name r -o stored -c 1 in.txt | stream-checkpoint commit r | jq -r .line'
	assert_equal "$output" "1"
	run --separate-stderr sh -c 'stream-read --name r -o stored -e in.txt | jq -r .line'
	assert_equal "$output" "$(printf '2\n3')"
	run --separate-stderr stream-read -o stored in.txt
	assert_status 64
	assert_equal "$stderr" "stream-read: --from stored (-o stored) needs --name: positions are stored for a name"
	run --separate-stderr stream-read -o s@1700000000000 in.txt
	assert_status 64
	assert_equal "$stderr" "stream-read: in.txt: --from OFFSET, -N and @MS are for kafka endpoints"
}
