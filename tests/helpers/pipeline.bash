# pipeline.bash - run a shell pipeline as its own process group, kill the
# whole group with SIGKILL, and reap every process of it: the kill -9 suites
# (crash.bats, crash-sqlite.bats) load it after helpers/common.
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
