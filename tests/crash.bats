#!/usr/bin/env bats
# crash.bats - exactly once under kill -9: a file -> jq -> dataset pipeline,
# its whole process group killed with SIGKILL at random instants and
# restarted each time, ends with every input row in the dataset once, in order.

load helpers/common

ROWS=200000
KILLS=20

setup() {
	setup_scratch
	pgid= reaper=
}

teardown() {
	stop_pipeline
}

# The pipeline of the issue. --exit-at-end makes the last run stop at the
# end of the file.
PIPELINE='stream-read --name r --exit-at-end file:in.ndjson |
	jq -c "(.line|fromjson) + {_cursor}" |
	stream-write --name r --checkpoint-rows 5000 dataset:out'

# A parent for the pipeline's process group: python3 makes itself a child
# subreaper (PR_SET_CHILD_SUBREAPER), starts `sh -c PIPELINE` in a new
# session (so a new process group whose id is the pid it writes to PGID_FILE),
# and reaps every process of it, including those orphaned when the whole
# group is killed; it exits when all of them are gone. Without it the killed
# pipeline's processes would be reparented to pid 1, which need not reap them.
REAPER='
import ctypes, os, signal, sys
PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("reaper: prctl: " + os.strerror(ctypes.get_errno()))
pgid_file, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.setsid()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    with open(pgid_file + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(pgid_file + ".tmp", pgid_file)
    os.execvp(argv[0], argv)
status = 0
while True:
    try:
        p, st = os.wait()
    except ChildProcessError:
        break
    if p == pid:
        status = os.waitstatus_to_exitcode(st)
sys.exit(status if status >= 0 else 128 - status)
'

# start_pipeline: run the pipeline in the background in its own process group;
# sets $reaper (our child) and $pgid.
start_pipeline() {
	rm -f pgid
	python3 -c "$REAPER" pgid sh -c "$PIPELINE" >>pipeline.log 2>&1 3>&- &
	reaper=$!
	wait_for 30 test -s pgid
	pgid=$(cat pgid)
}

# stop_pipeline: SIGKILL the whole group and reap it.
stop_pipeline() {
	if [ -n "$pgid" ]; then
		kill -KILL -- "-$pgid" 2>/dev/null || true
	fi
	if [ -n "$reaper" ]; then
		wait "$reaper" || true
	fi
	pgid= reaper=
}

pipeline_running() {
	kill -0 "$reaper" 2>/dev/null
}

committed_rows() {
	dataset_rows out | wc -l
}

# committed_parts: how many parts the dataset has (no fork: polled often).
committed_parts() {
	local parts=(out/part-*)
	if [ -e "${parts[0]}" ]; then echo "${#parts[@]}"; else echo 0; fi
}

# The dataset has more than $1 parts, or the pipeline is no longer running.
progressed() {
	local parts=(out/part-*)
	{ [ -e "${parts[0]}" ] && [ "${#parts[@]}" -gt "$1" ]; } || ! pipeline_running
}

# The committed rows are the first rows of the input, each once, in order.
dataset_is_prefix() {
	local n
	n=$(committed_rows)
	if ! dataset_rows out | cmp -s - <(head -n "$n" in.ndjson); then
		echo "after kill $kill: the $n committed rows are not the first $n input rows" >&2
		return 1
	fi
}

# Half the kills come at a random instant after the pipeline has committed
# something in this run (during a later checkpoint); the other half at a
# random instant from its start (during recovery, before or during its first
# checkpoint). The first kind guarantees progress; both kinds are cheap
# enough in rows that 20 kills fit in the 40 checkpoints of the input.
@test "a pipeline killed with SIGKILL at $KILLS random instants ends with every row exactly once" {
	seq_ndjson "$ROWS" > in.ndjson
	local kill rows=0 parts=0 delay when

	for ((kill = 1; kill <= KILLS; kill++)); do
		start_pipeline
		if ((kill % 2)); then
			when="after a checkpoint"
			wait_for 60 progressed "$parts"
			delay=$(printf '0.%03d' $((RANDOM % 20)))
		else
			when="after the start"
			delay=$(printf '0.%03d' $((RANDOM % 40)))
		fi
		sleep "$delay"
		if ! pipeline_running; then
			echo "the pipeline finished after only $((kill - 1)) kills; see pipeline.log:" >&2
			cat pipeline.log >&2
			return 1
		fi
		stop_pipeline
		dataset_is_prefix
		rows=$(committed_rows) parts=$(committed_parts)
		echo "# kill $kill, ${delay}s $when: $rows rows committed" >&3
	done
	[ "$rows" -lt "$ROWS" ]

	run timeout 120 sh -c "$PIPELINE"
	assert_status 0
	dataset_rows out | cmp - in.ndjson

	assert_equal "$(state_sql 'PRAGMA integrity_check')" ok
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'r'")" \
		"$(wc -c < in.ndjson)"
	assert_equal "$(state_sql 'SELECT count(*) FROM staged_parts')" 0
}
