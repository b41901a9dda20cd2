# examples.bash - the manual's EXAMPLES, taken from the pages themselves so
# that tests/man-examples.bats runs what a reader of the manual reads.
#
# An example is one display of a page's EXAMPLES section: a .Bd -literal
# block or a .Dl line, numbered from 1 in the order of the page. README's
# indented blocks count as examples of the page "README".

# example_blocks FILE: every example of FILE, each followed by a line "\f"
# (a form feed), with the mdoc escapes a reader never sees undone.
example_blocks() {
	case $1 in
	*README)
		awk '
			/^    / { block = block substr($0, 5) "\n"; next }
			/^$/ && block != "" { pending = pending "\n"; next }
			{ if (block != "") { printf "%s\f\n", block; block = "" } pending = "" }
			END { if (block != "") printf "%s\f\n", block }
		' "$1" | sed 's/\n*\f/\f/'
		;;
	*)
		awk '
			/^\.Sh / { in_ex = ($0 == ".Sh EXAMPLES"); next }
			!in_ex { next }
			/^\.Bd -literal/ { lit = 1; next }
			/^\.Ed/ && lit { lit = 0; printf "\f\n"; next }
			lit { print; next }
			/^\.Dl / { sub(/^\.Dl /, ""); print; printf "\f\n" }
		' "$1" | sed -e 's/\\e/\\/g' -e 's/\\&//g' -e 's/\\-/-/g'
		;;
	esac
}

# example_count PAGE: how many examples the page has.
example_count() {
	example_blocks "$(page_path "$1")" | grep -c $'^\f$'
}

page_path() {
	if [ "$1" = README ]; then
		echo "$SK_SRCDIR/README"
	else
		echo "$SK_SRCDIR/man/$1"
	fi
}

# example PAGE N WORDS: the Nth example of PAGE, which must contain WORDS
# (so that a test runs the example it was written for, and fails when the
# page is reordered or the example rewritten beyond recognition).
example() {
	local text
	text=$(example_blocks "$(page_path "$1")" | awk -v n="$2" '
		BEGIN { RS = "\f\n"; ORS = "" }
		NR == n { print; found = 1 }
		END { exit !found }
	') || { echo "example: $1 has no example $2" >&2; return 1; }
	if [[ "$text" != *"$3"* ]]; then
		echo "example: $1 example $2 no longer contains: $3" >&2
		printf '%s\n' "$text" >&2
		return 1
	fi
	printf '%s\n' "$text"
}

# localize: the example with local stand-ins for the hosts and paths of the
# manual: every Kafka broker list becomes the test broker's, and absolute
# paths under the manual's usual roots move under the test's directory.
# More sed expressions may be given as arguments: they apply first, to the
# manual's own text.
localize() {
	local args=() a
	for a in "$@"; do
		args+=(-e "$a")
	done
	sed -E "${args[@]}" \
		-e "s#kafka://[A-Za-z0-9.:,-]+/#kafka://${KAFKA_BOOTSTRAP:-127.0.0.1:9}/#g" \
		-e 's#/usr/local/bin/##g' \
		-e "s#(^|[ =:@'\"])/(var|srv|data|etc)/#\\1$PWD/\\2/#g" \
		-e "s#/home/me/#$PWD/#g"
}

# session_script: a terminal session ("$ command" lines, indented lines that
# continue a command, anything else its output) as a script that runs each
# command and keeps its output in out.1, out.2, ...; with expected.N holding
# what the manual shows it printing. Prompts such as "host1$ " count too.
# Text without prompts is a script already, and is kept as it is. After
# command N the script runs "./pause N" when the test made one: a wait for
# what the manual's reader would have waited for before typing the next.
session_script() {
	awk -v bg="${SESSION_BACKGROUND:-0}" '
		function flush() {
			if (cmd != "") {
				n++
				printf "{\n%s\n} > out.%d%s\n", cmd, n, bg ? " &" : ""
				printf "[ ! -x ./pause ] || ./pause %d\n", n
				printf "%s", expected > ("expected." n)
				close("expected." n)
			}
			cmd = ""; expected = ""
		}
		/^[A-Za-z0-9]*\$ / { flush(); sub(/^[A-Za-z0-9]*\$ /, ""); cmd = $0; next }
		/^[ \t]/ && cmd != "" && expected == "" { cmd = cmd "\n" $0; next }
		cmd != "" { expected = expected $0 "\n"; next }
		{ plain = plain $0 "\n" }
		END { flush(); if (n == 0) printf "%s", plain; else if (bg) print "wait" }
	'
}

# example_script PAGE N WORDS [SED...]: example N of PAGE, localized, as the
# script ex.sh in the current directory (and expected.N files for what it
# shows a session printing).
example_script() {
	local page=$1 n=$2 words=$3 text
	shift 3
	text=$(example "$page" "$n" "$words") || return 1
	printf '%s\n' "$text" | localize "$@" | session_script >ex.sh
}

# same_output FILE EXPECTED: FILE holds what the manual shows, but for what
# differs from one machine or run to the next: times, file identities in
# cursors, and runs of spaces in tables.
same_output() {
	local norm='s/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/TIME/g; s/@[0-9]+\.[0-9]+\.[0-9a-f]+/@FILE/g; s/ +/ /g'
	assert_equal "$(sed -E "$norm" "$1")" "$(sed -E "$norm" "$2")"
}

# stop_example [PROGRAM]: stop the example started with start_pipeline:
# SIGTERM to PROGRAM of its process group (default: all of the group), then
# wait for the whole group to end, as a user stopping it would.
stop_example() {
	local pids
	[ -n "$pgid" ] || return 0
	if [ -n "${1:-}" ]; then
		pids=$(pgrep -g "$pgid" -x "$1") || true
		[ -z "$pids" ] || kill -TERM $pids 2>/dev/null || true
	else
		kill -TERM -- "-$pgid" 2>/dev/null || true
	fi
	if ! wait_for 30 group_gone; then
		stop_pipeline
		return 1
	fi
	example_status=0
	wait "$reaper" || example_status=$?
	pgid= reaper=
}

group_gone() {
	! kill -0 -- "-$pgid" 2>/dev/null
}

# stop_everything: SIGKILL what is left of an example started with
# start_pipeline, process groups of its own included (stream-run makes one
# for its command): the reaper adopts every orphan, so its children are
# what is left.
stop_everything() {
	local left
	[ -n "$reaper" ] || return 0
	[ -z "$pgid" ] || kill -KILL -- "-$pgid" 2>/dev/null || true
	wait_for 20 reaper_done_after_kill || true
	wait "$reaper" 2>/dev/null || true
	pgid= reaper=
}

reaper_done_after_kill() {
	local p
	kill -0 "$reaper" 2>/dev/null || return 0
	for p in $(pgrep -P "$reaper"); do
		kill -KILL -- "-$(ps -o pgid= -p "$p" | tr -d ' ')" "$p" 2>/dev/null || true
	done
	! kill -0 "$reaper" 2>/dev/null || [[ $(ps -o stat= -p "$reaper") == Z* ]]
}
