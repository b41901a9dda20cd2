#!/usr/bin/env bats
# stream-run.bats - the supervisor: restart policy and delays, giving up,
# exit statuses, stopping the whole process group, reaping, signals, the
# stall watchdog, history in the state store, stream-run inside stream-run.

bats_require_minimum_version 1.5.0

load helpers/common
load helpers/pipeline

setup() {
	setup_scratch
	sr=
}

teardown() {
	stop_run
	stop_pipeline
}

# start_run ARGS...: stream-run in the background, its pid in $sr, output in
# run.out and run.err. SIGINT and SIGQUIT at their default actions: a
# non-interactive shell ignores them in background jobs, and stream-run
# leaves a signal ignored from the start ignored.
start_run() {
	env --default-signal=INT,QUIT stream-run "$@" >run.out 2>run.err 3>&- &
	sr=$!
}

# finish_run: wait for stream-run to exit; its exit status in $status.
finish_run() {
	status=0
	wait "$sr" || status=$?
	sr=
}

# stop_run: SIGTERM (stream-run stops its command first), then reap it.
stop_run() {
	if [ -n "$sr" ]; then
		kill -TERM "$sr" 2>/dev/null || true
		wait "$sr" || true
	fi
	sr=
}

attempts() {
	state_sql "SELECT count(*) FROM attempts WHERE name = '$1'"
}

has_attempts() {
	[ "$(attempts "$1")" -ge "$2" ]
}

# The supervisor row of NAME is in STATE.
in_state() {
	[ "$(state_sql "SELECT state FROM supervisors WHERE name = '$1'")" = "$2" ]
}

position_is() {
	local p
	p=$(state_sql "SELECT position FROM positions WHERE name = '$1'")
	[ "${p%%@*}" = "$2" ]   # a file's offset, without the file it belongs to
}

# The group has N processes.
group_size_is() {
	[ "$(pgrep -g "$1" | wc -l)" -eq "$2" ]
}

# wait_group N: wait for the command to write its pid in leader and for its
# process group to have N processes; the group id in $group.
wait_group() {
	wait_for 10 test -s leader
	group=$(cat leader)
	wait_for 10 group_size_is "$group" "$1"
}

# The process is gone and reaped: not even a zombie is left.
reaped() {
	[ ! -e "/proc/$1" ]
}

# The process group has no process left, zombies included.
group_empty() {
	! pgrep -g "$1" >/dev/null
}

# --- the command line ---

@test "--help and --version" {
	run stream-run --help
	assert_status 0
	assert_output_contains "usage: stream-run [options] [--] COMMAND [ARGS]"
	assert_output_contains "--stall-timeout T"
	run stream-run --version
	assert_status 0
	assert_output_contains "stream-run (streamkit)"
}

@test "every option of --help is described in the manual page" {
	local man="$SK_SRCDIR/man/stream-run.1" opt
	mandoc -Tlint -Wwarning "$man"
	for opt in $(stream-run --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -q -- "^\.It .*Fl -${opt#--}\( \|$\)" "$man" || {
			echo "stream-run.1 does not describe $opt" >&2
			return 1
		}
	done
}

@test "usage errors exit 64" {
	run stream-run
	assert_status 64
	assert_output_contains "missing COMMAND"
	run stream-run --stall-timeout 5s -- true
	assert_status 64
	assert_output_contains "--stall-timeout needs --name"
	run stream-run --restart sometimes -- true
	assert_status 64
	assert_output_contains "invalid restart policy 'sometimes'"
	run stream-run --stop-signal NOPE -- true
	assert_status 64
	run stream-run --window 1m -- true
	assert_status 64
	assert_output_contains "--window needs --max-failures"
	run stream-run --restart-on 75 --no-restart-on 75 -- true
	assert_status 64
	assert_output_contains "both"
	run stream-run --delay soon -- true
	assert_status 64
	run stream-run --json -- true
	assert_status 64
	run stream-run --bogus -- true
	assert_status 64
}

@test "the command is executed directly, with no shell between" {
	run --separate-stderr stream-run --restart=no -- printf '%s|' 'a b' '$HOME' '*'
	assert_status 0
	assert_equal "$output" 'a b|$HOME|*|'
}

@test "standard output is the command's; its stderr passes through line by line, unchanged" {
	run --separate-stderr stream-run --restart=no -- sh -c '
		printf "out 1\nout 2"
		printf "err 1\nerr" >&2
		printf " 2\n  indented\ttab\n" >&2
		printf "no newline" >&2'
	assert_status 0
	assert_equal "$output" "$(printf 'out 1\nout 2')"
	assert_equal "$stderr" "$(printf 'err 1\nerr 2\n  indented\ttab\nno newline')"
}

@test "the command gets STREAMKIT_NAME, STREAMKIT_STATE and STREAMKIT_ATTEMPT" {
	run --separate-stderr stream-run --name env --state other.db --restart=no -- \
		sh -c 'echo "$STREAMKIT_NAME $STREAMKIT_STATE $STREAMKIT_ATTEMPT"'
	assert_status 0
	assert_equal "$output" "env other.db 1"
	STREAMKIT_NAME=fromenv run --separate-stderr stream-run --restart=no -- \
		sh -c 'echo "$STREAMKIT_NAME $STREAMKIT_STATE"'
	assert_equal "$output" "fromenv $STREAMKIT_STATE"
}

@test "the command gets SIGPIPE at its default action, as from a shell" {
	run --separate-stderr stream-run --restart=no -- sh -c 'yes | head -n 1'
	assert_status 0
	assert_equal "$output" y
	assert_equal "$stderr" ""
}

@test "without a name nothing is recorded" {
	run stream-run --restart=no -- sh -c 'exit 3'
	assert_status 3
	[ ! -e "$STREAMKIT_STATE" ]
}

# --- exit statuses ---

@test "the exit status is the command's" {
	run stream-run --restart=no -- sh -c 'exit 3'
	assert_status 3
	run stream-run -- true
	assert_status 0
}

@test "a command killed by a signal gives 128 + N" {
	run stream-run --restart=no -- sh -c 'kill -KILL $$'
	assert_status 137
	run stream-run --restart=no -- sh -c 'kill -TERM $$'
	assert_status 143
}

@test "a command not found gives 127 and is not restarted by on-failure" {
	run -127 stream-run --name nf --delay 0 -- streamkit-no-such-command --flag
	assert_status 127
	assert_output_contains "stream-run: streamkit-no-such-command: command not found"
	assert_equal "$(attempts nf)" 1
	assert_equal "$(state_sql "SELECT exit_code || ' ' || error FROM attempts WHERE name = 'nf'")" \
		"127 could not be executed: command not found"
}

@test "a command that cannot be executed gives 126" {
	printf '#!/bin/sh\n' >not-executable
	chmod 644 not-executable
	run stream-run --delay 0 -- ./not-executable
	assert_status 126
	assert_output_contains "Permission denied"
}

# --- the restart policy ---

@test "restart storm: the delays grow as configured, then it gives up with the last status" {
	run --separate-stderr stream-run --name storm --delay 20ms --delay-factor 2 --max-failures 4 -- \
		sh -c 'echo "boom $STREAMKIT_ATTEMPT" >&2; exit 75'
	assert_status 75
	assert_equal "$(attempts storm)" 4
	output=$stderr
	assert_output_contains "storm: attempt 1 exited with status 75; restarting in 20ms"
	assert_output_contains "storm: attempt 2 exited with status 75; restarting in 40ms"
	assert_output_contains "storm: attempt 3 exited with status 75; restarting in 80ms"
	assert_output_contains "storm: giving up after 4 failures in a row (--restart=on-failure --max-failures 4): attempt 4 exited with status 75"
	# Each attempt started no sooner than its delay after the previous one
	# ended (give or take the clocks' milliseconds).
	run state_sql "SELECT b.started_ms - a.ended_ms >= 20 * (1 << (a.attempt - 1)) - 2
		FROM attempts a JOIN attempts b ON b.run_id = a.run_id AND b.attempt = a.attempt + 1
		WHERE a.name = 'storm' ORDER BY a.attempt"
	assert_equal "$output" "$(printf '1\n1\n1')"
}

@test "--delay-step grows the delay by a step up to --delay-max" {
	run --separate-stderr stream-run --delay 10ms --delay-factor 1 --delay-step 10ms --delay-max 25ms \
		--max-failures 4 -- sh -c 'exit 75'
	assert_status 75
	output=$stderr
	assert_output_contains "attempt 1 exited with status 75; restarting in 10ms"
	assert_output_contains "attempt 2 exited with status 75; restarting in 20ms"
	assert_output_contains "attempt 3 exited with status 75; restarting in 25ms"
}

@test "--max-failures with --window gives up after N failures within the window" {
	run --separate-stderr stream-run --delay 0 --max-failures 3 --window 1m -- sh -c 'exit 69'
	assert_status 69
	output=$stderr
	assert_output_contains "giving up after 3 failures in 1m (--restart=on-failure --max-failures 3 --window 1m): attempt 3 exited with status 69"
}

@test "on-failure restarts after 69, 74 and 75, not after 64, 65 or 78" {
	local code
	for code in 69 74 75; do
		run stream-run --name "c$code" --delay 0 --max-failures 2 -- sh -c "exit $code"
		assert_status "$code"
		assert_equal "$(attempts "c$code")" 2
	done
	for code in 64 65 78; do
		run stream-run --name "c$code" --delay 0 --max-failures 2 -- sh -c "exit $code"
		assert_status "$code"
		assert_equal "$(attempts "c$code")" 1
	done
	assert_output_contains "c78: attempt 1 exited with status 78; not restarted (--restart=on-failure)"
}

@test "on-failure restarts after a signal" {
	run stream-run --name sig --delay 0 --max-failures 2 -- sh -c 'kill -KILL $$'
	assert_status 137
	assert_equal "$(attempts sig)" 2
}

@test "always restarts after exit 0" {
	run stream-run --name al --restart=always --delay 0 --no-restart-on 64 -- \
		sh -c 'echo "$STREAMKIT_ATTEMPT" >>attempts; [ "$STREAMKIT_ATTEMPT" -lt 3 ] || exit 64'
	assert_status 64
	assert_equal "$(cat attempts)" "$(printf '1\n2\n3')"
}

@test "--restart-on and --no-restart-on change what is restarted" {
	run stream-run --name ro --delay 0 --max-failures 2 --restart-on 78 -- sh -c 'exit 78'
	assert_status 78
	assert_equal "$(attempts ro)" 2
	run stream-run --name nro --delay 0 --max-failures 2 --no-restart-on 75 -- sh -c 'exit 75'
	assert_status 75
	assert_equal "$(attempts nro)" 1
	run stream-run --name rno --restart=no --delay 0 --max-failures 2 --restart-on TERM -- \
		sh -c 'kill -TERM $$'
	assert_status 143
	assert_equal "$(attempts rno)" 2
}

@test "--restart=no runs the command once" {
	run stream-run --name once --restart=no -- sh -c 'exit 75'
	assert_status 75
	assert_equal "$(attempts once)" 1
}

# --- stopping, process groups, reaping ---

@test "SIGTERM stops the whole group of sh -c 'sleep 1000 | cat': no process remains" {
	start_run --name g --stop-timeout 2s -- sh -c 'echo $$ >leader; sleep 1000 | cat'
	wait_group 3
	kill -TERM "$sr"
	finish_run
	assert_status 143
	group_empty "$group"
	reaped "$group"
	in_state g stopped
}

@test "what ignores the stop signal is killed with SIGKILL after --stop-timeout" {
	start_run --stop-timeout 200ms -- sh -c 'trap "" TERM; echo $$ >leader; sleep 1000 & wait $!'
	wait_group 2
	kill -TERM "$sr"
	finish_run
	assert_status 137
	group_empty "$group"
}

@test "after the command exits, what is left of its group is stopped before the restart" {
	run stream-run --delay 0 --max-failures 2 --stop-timeout 2s -- sh -c '
		if [ -s left ] && kill -0 "$(cat left)" 2>/dev/null; then echo alive >>seen; fi
		sleep 1000 & echo $! >left
		exit 75'
	assert_status 75
	[ ! -e seen ]
	reaped "$(cat left)"
}

@test "a process that left the group and lost its parent is stopped too" {
	run stream-run --restart=no --stop-timeout 2s -- sh -c 'setsid sleep 1000 & echo $! >daemon; exit 0'
	assert_status 0
	reaped "$(cat daemon)"
}

@test "orphans are reaped: no zombie is left" {
	start_run -- sh -c '(sleep 0.1 & echo $! >short); exec sleep 1000'
	wait_for 10 test -s short
	wait_for 10 reaped "$(cat short)"
	kill -0 "$sr"
}

# --- signals ---

@test "SIGHUP is passed on to the group and stream-run goes on" {
	start_run --name hup -- sh -c 'trap "echo hup >>got" HUP; echo ready >ready; while :; do sleep 1000 & wait $!; done'
	wait_for 10 test -s ready
	kill -HUP "$sr"
	wait_for 10 grep -q hup got
	kill -0 "$sr"
	assert_equal "$(attempts hup)" 1
	in_state hup running
}

@test "a command killed by the SIGHUP it was passed is restarted at once, not as a failure" {
	start_run --name rehup --delay 1h --max-failures 1 -- sh -c 'echo "$STREAMKIT_ATTEMPT" >>attempts; exec sleep 1000'
	wait_for 10 test -s attempts
	kill -HUP "$sr"
	wait_for 10 grep -q 2 attempts
	wait_for 10 in_state rehup running
	kill -HUP "$sr"
	wait_for 10 grep -q 3 attempts
	wait_for 10 in_state rehup running
	kill -0 "$sr"
	# --status and the history agree: two restarts, no failure.
	run --separate-stderr stream-run --status rehup
	assert_status 0
	assert_output_contains "attempts:    3 in this run, 0 failed"
	assert_output_contains "last error:  none"
	assert_output_contains "ended by the SIGHUP passed on to it; restarted"
	run --separate-stderr stream-run --status rehup --json
	assert_equal "$(jq -r '[.failures, (.recent | map(.signal // "-") | join(","))] | join(" ")' <<<"$output")" "0 -,1,1"
	assert_equal "$(state_sql "SELECT count(*) FROM attempts WHERE name = 'rehup' AND error IS NOT NULL")" 0
}

@test "with --restart=no, a command killed by the SIGHUP it was passed ends the run as a failure" {
	start_run --name hupno --restart=no -- sh -c 'echo ready >ready; exec sleep 1000'
	wait_for 10 test -s ready
	kill -HUP "$sr"
	finish_run
	assert_status 129
	run --separate-stderr stream-run --status hupno
	assert_output_contains "attempts:    1 in this run, 1 failed"
	assert_output_contains "killed by signal 1 (HUP)"
}

@test "SIGINT is passed on and stops stream-run, with the command's exit status" {
	start_run --name int --delay 0 -- sh -c 'trap "echo int >>got; exit 0" INT; echo ready >ready; sleep 1000 & wait $!'
	wait_for 10 test -s ready
	kill -INT "$sr"
	finish_run
	assert_status 0
	assert_equal "$(cat got)" int
	assert_equal "$(attempts int)" 1
	in_state int stopped
}

@test "--stop-signal is what SIGTERM sends to the group" {
	start_run --stop-signal INT --stop-timeout 200ms -- sh -c 'trap "echo int >>got; exit 5" INT; echo ready >ready; sleep 1000 & wait $!'
	wait_for 10 test -s ready
	kill -TERM "$sr"
	finish_run
	assert_status 5
	assert_equal "$(cat got)" int
}

@test "SIGTERM during a delay stops at once with the last status" {
	start_run --name wait --delay 1h -- sh -c 'exit 75'
	wait_for 10 in_state wait waiting
	kill -TERM "$sr"
	finish_run
	assert_status 75
	in_state wait stopped
}

# --- the stall watchdog ---

@test "the stall watchdog restarts a pipeline whose checkpoint is stuck; a quiet source is no stall" {
	seq_ndjson 5 >in.ndjson
	start_run --name stall --stall-timeout 1s --delay 0 --stop-timeout 1s -- sh -c '
		stream-read --follow file:in.ndjson |
		if [ "$STREAMKIT_ATTEMPT" = 1 ]; then exec sleep 1000; else exec cat; fi |
		stream-checkpoint commit --checkpoint-rows 1 >/dev/null'
	wait_for 20 position_is stall 40
	assert_equal "$(state_sql "SELECT attempt || ': ' || error FROM attempts WHERE name = 'stall' AND attempt = 1")" \
		"1: stalled, then killed by signal 15 (TERM)"
	run cat run.err
	assert_output_contains "stall: stalled: messages read in attempt 1 are not checkpointed after 1s; stopping it"
	# Everything read is checkpointed now: three stall timeouts go by quietly.
	if wait_for 3 has_attempts stall 3 2>/dev/null; then
		echo "a quiet source was taken for a stall" >&2
		return 1
	fi
	in_state stall running
}

# --- history and status ---

@test "each attempt is recorded: run id, number, pid, start, end, status, stderr tail" {
	run stream-run --name hist --delay 0 --max-failures 2 -- \
		sh -c 'echo "line one" >&2; echo "last line $STREAMKIT_ATTEMPT" >&2; exit 75'
	assert_status 75
	run state_sql "SELECT attempt, pid > 0, ended_ms >= started_ms, exit_code, ifnull(signal, '-'), error,
		replace(stderr_tail, char(10), '|') FROM attempts WHERE name = 'hist' ORDER BY id"
	assert_equal "$output" "$(printf '%s\n' \
		"1|1|1|75|-|exited with status 75|line one|last line 1" \
		"2|1|1|75|-|exited with status 75|line one|last line 2")"
	assert_equal "$(state_sql "SELECT count(DISTINCT run_id) FROM attempts WHERE name = 'hist'")" 1
	run stream-run --name hist --restart=no -- true
	assert_equal "$(state_sql "SELECT count(DISTINCT run_id) FROM attempts WHERE name = 'hist'")" 2
	assert_equal "$(state_sql "SELECT ifnull(error, 'none') FROM attempts WHERE name = 'hist' ORDER BY id DESC LIMIT 1")" none
}

@test "--status and stream-checkpoint show print the desired state, pid, attempts and last error" {
	start_run --name st --delay 0 -- sh -c '
		if [ "$STREAMKIT_ATTEMPT" = 1 ]; then echo "broker down" >&2; exit 69; fi
		echo $$ >leader; exec sleep 1000'
	wait_for 10 test -s leader
	wait_for 10 in_state st running
	run --separate-stderr stream-run --status st
	assert_status 0
	assert_output_contains "desired:     up"
	assert_output_contains "state:       running"
	assert_output_contains "pid:         $(cat leader)"
	assert_output_contains "stream-run pid $sr (running)"
	assert_output_contains "attempts:    2 in this run, 1 failed"
	assert_output_contains "last error:  attempt 1,"
	assert_output_contains "exited with status 69: broker down"
	assert_output_contains "attempt 2  pid $(cat leader)"
	run --separate-stderr stream-run --status st --json
	assert_status 0
	assert_equal "$(jq -r '[.desired, .state, .pid, .attempt, .failures, .last_error.error] | join(" ")' <<<"$output")" \
		"up running $(cat leader) 2 1 exited with status 69"
	assert_equal "$(jq -r '.recent | map(.attempt) | join(",")' <<<"$output")" "2,1"
	run --separate-stderr stream-checkpoint show st
	assert_status 0
	assert_output_contains "state:       running"
	assert_output_contains "pid:         $(cat leader)"
	stop_run
	run --separate-stderr stream-run --status st
	assert_output_contains "desired:     down"
	assert_output_contains "state:       stopped"
	assert_output_contains "pid:         -"
}

@test "--status of a supervisor that died shows its command's pid no more" {
	start_pipeline 'exec stream-run --name dead -- sh -c "echo \$\$ >leader; exec sleep 1000"'
	wait_for 10 test -s leader
	wait_for 10 in_state dead running
	kill -KILL "$pgid"
	wait_for 10 reaped "$pgid"
	run --separate-stderr stream-run --status dead
	assert_output_contains "state:       running (its supervisor is gone)"
	assert_output_contains "pid:         -"
	kill -KILL "$(cat leader)"
}

@test "--status of a name never supervised says so" {
	stream-run --name somebody -- true
	run --separate-stderr stream-run --status nobody
	assert_status 0
	assert_equal "$output" ""
	assert_equal "$stderr" "stream-run: nobody: no supervisor has recorded it"
}

@test "--status where there is no state store says so and exits 69, creating none" {
	run --separate-stderr stream-run --status nobody
	assert_status 69
	assert_equal "$output" ""
	assert_equal "$stderr" "stream-run: $STREAMKIT_STATE: no state store here"
	[ ! -e "$STREAMKIT_STATE" ]
}

@test "a second stream-run of a running name refuses with 75" {
	start_run --name one -- sleep 1000
	wait_for 10 in_state one running
	run stream-run --name one -- true
	assert_status 75
	assert_output_contains "one: already supervised by stream-run pid $sr"
}

# --- nesting ---

@test "stream-run inside stream-run: the inner one restarts, the outer one records" {
	run --separate-stderr stream-run --name nest --restart=no -- \
		stream-run --delay 10ms --max-failures 2 -- \
		sh -c 'echo "$STREAMKIT_NAME $STREAMKIT_ATTEMPT" >>log; echo oops >&2; exit 75'
	assert_status 75
	assert_equal "$(cat log)" "$(printf 'nest 1\nnest 2')"
	assert_equal "$(attempts nest)" 1
	run state_sql "SELECT exit_code, stderr_tail LIKE '%giving up after 2 failures%' FROM attempts WHERE name = 'nest'"
	assert_equal "$output" "75|1"
}

@test "stream-run inside stream-run: SIGTERM to the outer one stops everything" {
	start_run --name outer --stop-timeout 5s -- stream-run --stop-timeout 2s -- \
		sh -c 'echo $$ >leader; sleep 1000 | cat'
	wait_group 3
	kill -TERM "$sr"
	finish_run
	assert_status 143
	group_empty "$group"
}

@test "an attempt ended by the signal its stop sent is no failure; SIGKILL after --stop-timeout is one" {
	start_run --name stopterm -- sh -c 'echo $$ >leader; exec sleep 1000'
	wait_for 10 test -s leader
	wait_for 10 in_state stopterm running
	kill -TERM "$sr"
	finish_run
	assert_status 143
	run --separate-stderr stream-run --status stopterm
	assert_output_contains "attempts:    1 in this run, 0 failed"
	assert_output_contains "last error:  none"
	assert_output_contains "stopped by signal 15 (TERM), as asked"
	assert_equal "$(state_sql "SELECT count(*) FROM attempts WHERE name = 'stopterm' AND error IS NULL AND signal = 15")" 1

	rm -f leader
	start_run --name stopint -- sh -c 'echo $$ >leader; exec sleep 1000'
	wait_for 10 test -s leader
	wait_for 10 in_state stopint running
	kill -INT "$sr"
	finish_run
	assert_status 130
	run --separate-stderr stream-run --status stopint
	assert_output_contains "attempts:    1 in this run, 0 failed"
	assert_output_contains "stopped by signal 2 (INT), as asked"

	rm -f leader
	start_run --name stopkill --stop-timeout 200ms -- sh -c 'trap "" TERM; echo $$ >leader; exec sleep 1000'
	wait_for 10 test -s leader
	wait_for 10 in_state stopkill running
	kill -TERM "$sr"
	finish_run
	assert_status 137
	run --separate-stderr stream-run --status stopkill
	assert_output_contains "attempts:    1 in this run, 1 failed"
	assert_output_contains "killed by signal 9 (KILL)"
}
