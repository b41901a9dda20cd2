# pipeline.bash - run a shell pipeline as its own process group, kill the
# whole group with SIGKILL, and reap every process of it: the kill -9 suites
# (crash, crash-sqlite, kafka-crash, sse-crash, sqs-crash and stream-checkpoint) load it after
# helpers/common.
#
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

pgid= reaper=

# start_pipeline [PIPELINE]: run PIPELINE (default $PIPELINE) in the
# background in its own process group, output appended to pipeline.log;
# sets $reaper (our child) and $pgid.
start_pipeline() {
	rm -f pgid
	python3 -c "$REAPER" pgid sh -c "${1:-$PIPELINE}" >>pipeline.log 2>&1 3>&- &
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

# committed_parts [DIR]: set $committed to the number of committed parts of
# the dataset DIR (default out), without forking: it is polled often.
committed_parts() {
	local parts=("${1:-out}"/part-*)
	if [ -e "${parts[0]}" ]; then committed=${#parts[@]}; else committed=0; fi
}

# kill_at_random_instants KILLS MEASURE CHECK: the kill -9 loop. KILLS
# times, start $PIPELINE and kill its whole group: odd kills at a random
# instant up to 20 ms after it has committed something in this run, even
# ones at a random instant up to 40 ms from its start (during recovery,
# before or during its first checkpoint). MEASURE (a function, such as
# committed_parts) sets $committed to a count that grows with each
# checkpoint; CHECK must succeed after each kill ($kill is its number).
# A pipeline that reads all its input before a kill lands (a faster
# machine than the input was sized for) is checked, then given more by
# the test's more_input function, and that kill comes again; without
# more_input the test fails.
kill_at_random_instants() {
	local kills=$1 measure=$2 check=$3 kill before delay when rc
	for ((kill = 1; kill <= kills; )); do
		"$measure"
		before=$committed
		start_pipeline
		if ((kill % 2)); then
			when="after a checkpoint"
			wait_for 60 _committed_more "$measure" "$before"
			delay=$(printf '0.%03d' $((RANDOM % 20)))
		else
			when="after the start"
			delay=$(printf '0.%03d' $((RANDOM % 40)))
		fi
		rc=0
		kill_pipeline_after "$delay" "$kill" "$check" || rc=$?
		((rc == 2)) && continue
		((rc == 0)) || return 1
		"$check" || return 1
		"$measure"
		echo "# kill $kill, ${delay}s $when: $measure $committed" >&3
		kill=$((kill + 1))
	done
}

# more_seq_rows: 100,000 rows of seq_ndjson after the $ROWS of in.ndjson
# (the more_input of the suites that read that file).
more_seq_rows() {
	seq_ndjson 100000 $((ROWS + 1)) >> in.ndjson
	ROWS=$((ROWS + 100000))
}

# kill_pipeline_after DELAY KILL CHECK: SIGKILL the running pipeline DELAY
# seconds from now (a random instant, not a wait for something): 0. When it
# finished before: 2 once it has more input (the caller repeats the kill),
# else 1.
kill_pipeline_after() {
	sleep "$1"
	if ! pipeline_running; then
		_finished_early "$2" "$3" && return 2
		return 1
	fi
	stop_pipeline
}

# The pipeline ended by itself before kill $1 (CHECK $2): more input, when
# the test has a more_input, else a failure that shows pipeline.log.
_finished_early() {
	stop_pipeline
	if ! declare -F more_input >/dev/null; then
		echo "the pipeline finished after only $(($1 - 1)) kills; see pipeline.log:" >&2
		cat pipeline.log >&2
		return 1
	fi
	"$2" || return 1
	more_input
	echo "# the pipeline read all its input before kill $1: more given" >&3
}

# MEASURE says more than $2 now, or the pipeline is no longer running.
_committed_more() {
	"$1"
	[ "$committed" -gt "$2" ] || ! pipeline_running
}

# committed_rows [DIR]: how many rows the dataset DIR (default out) holds.
committed_rows() {
	dataset_rows "${1:-out}" | wc -l
}

# dataset_is_prefix: the rows committed to the dataset out are the first
# lines of $EXPECTED (default in.ndjson), each once, in order (a CHECK of
# kill_at_random_instants).
dataset_is_prefix() {
	local n
	n=$(committed_rows)
	if ! dataset_rows out | cmp -s - <(head -n "$n" "${EXPECTED:-in.ndjson}"); then
		echo "after kill $kill: the $n committed rows are not the first $n of ${EXPECTED:-in.ndjson}" >&2
		return 1
	fi
}
