/* test-state-run.c - stream-run's tables (lib/state_run.c): claiming a
 * name for a supervisor, the attempts and the run they make, and what
 * readers record for the stall watchdog. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state_fixture.h"

static int always_alive(int64_t pid, int64_t start)
{
	return 1;
}

static int never_alive(int64_t pid, int64_t start)
{
	return 0;
}

static void test_supervisors(void)
{
	char *path = path_in("supervisors.db");
	sk_state *st = open_ok(path);
	sk_supervisor s = { .name = "job", .desired = "up", .state = "running", .run_id = "r1",
	                    .supervisor_pid = 100, .supervisor_start = 7, .pid = 101, .attempt = 1,
	                    .last_status = -1, .started_ms = 1000 };
	sk_err e = { 0 };

	if (!ok(st != NULL, "open"))
		goto out;
	is_int(sk_state_claim_supervisor(st, &s, always_alive, &e), 0, "a first supervisor claims a name");
	is_str(query_text(st, "SELECT state || ' ' || pid || ' ' || supervisor_start FROM supervisors"),
	       "running 101 7", "its row is written");
	s.run_id = "r2";
	s.supervisor_pid = 200;
	is_int(sk_state_claim_supervisor(st, &s, always_alive, &e), 1,
	       "a second is refused while the first is alive");
	is_int(e.code, EX_TEMPFAIL, "as a temporary failure");
	ok(strstr(e.msg, "job") && strstr(e.msg, "100"), "naming the name and the pid: %s", e.msg);
	is_int(sk_state_claim_supervisor(st, &s, never_alive, &e), 0, "it takes over from a dead one");
	is_str(query_text(st, "SELECT run_id FROM supervisors WHERE name = 'job'"), "r2", "its row replaces it");
	s.state = "exited";
	s.pid = -1;
	s.last_status = 0;
	is_int(sk_state_put_supervisor(st, &s, &e), 0, "a supervisor updates its row");
	is_str(query_text(st, "SELECT state || ' ' || ifnull(pid, 'none') || ' ' || last_status"
	                      " FROM supervisors"), "exited none 0", "with what it does");
	s.run_id = "r3";
	is_int(sk_state_claim_supervisor(st, &s, always_alive, &e), 0,
	       "a name whose supervisor has exited is free, whatever its pid is now");
out:
	sk_state_close(st);
	free(path);
}

struct attempts_seen {
	int n;
	char got[256];
};

static int attempt_seen(void *arg, const sk_attempt *a)
{
	struct attempts_seen *s = arg;
	size_t len = strlen(s->got);

	snprintf(s->got + len, sizeof s->got - len, "%s%lld:%lld:%lld:%s", s->n++ ? " " : "",
	         (long long)a->attempt, (long long)a->exit_code, (long long)a->signal,
	         a->error ? a->error : "-");
	return 0;
}

static int run_seen(void *arg, const sk_run_info *r)
{
	struct attempts_seen *s = arg;

	snprintf(s->got, sizeof s->got, "%s %s failures=%lld recorded=%lld last=%lld:%s:%s read=%lld ckpt=%d",
	         r->s.desired, r->s.state, (long long)r->failures, (long long)r->recorded,
	         (long long)r->last_error.attempt, r->last_error.error ? r->last_error.error : "-",
	         r->last_error.stderr_tail ? r->last_error.stderr_tail : "-", (long long)r->read_ms,
	         r->checkpoint_ms > 0);
	return 7;
}

static void test_attempts(void)
{
	char *path = path_in("attempts.db");
	sk_state *st = open_ok(path);
	sk_supervisor s = { .name = "job", .desired = "up", .state = "running", .run_id = "r1",
	                    .supervisor_pid = 1, .supervisor_start = -1, .pid = 11, .attempt = 2,
	                    .last_status = 75, .started_ms = 1000 };
	struct attempts_seen seen = { 0 };
	sk_cursorset *cs = cursors("s:0:1", NULL);
	int64_t id1 = 0, id2 = 0, id3 = 0;
	int cb_rc = 0;
	sk_err e = { 0 };

	if (!ok(st != NULL, "open"))
		goto out;
	is_int(sk_state_get_run(st, "job", run_seen, &seen, &cb_rc, &e), 0, "nothing recorded for a new name");
	is_int(sk_state_attempt_start(st, "job", "r0", 1, 10, 500, &id1, &e), 0, "an attempt of an earlier run");
	is_int(sk_state_attempt_end(st, id1, 600, -1, 9, "killed by signal 9 (KILL)", "old\nlast", &e), 0,
	       "ends killed");
	is_int(sk_state_attempt_start(st, "job", "r1", 1, 10, 1000, &id2, &e), 0, "attempt 1 starts");
	ok(id2 > id1, "with a new id");
	is_int(sk_state_attempt_end(st, id2, 2000, 75, -1, "exited with status 75", "oops\nbroker down", &e), 0,
	       "and ends with 75");
	is_int(sk_state_attempt_start(st, "job", "r1", 2, 11, 3000, &id3, &e), 0, "attempt 2 starts");
	is_int(sk_state_each_attempt(st, "job", 0, attempt_seen, &seen, &e), 0, "the attempts are listed");
	is_str(seen.got, "2:-1:-1:- 1:75:-1:exited with status 75 1:-1:9:killed by signal 9 (KILL)",
	       "newest first, running ones without an end");
	memset(&seen, 0, sizeof seen);
	sk_state_each_attempt(st, "job", 1, attempt_seen, &seen, &e);
	is_int(seen.n, 1, "limited to the newest");
	is_str(query_text(st, "SELECT pid || ' ' || started_ms || ' ' || ifnull(ended_ms, '-') FROM attempts"
	                      " WHERE id = (SELECT max(id) FROM attempts)"), "11 3000 -", "with pid and times");

	sk_state_put_supervisor(st, &s, &e);
	sk_state_checkpoint(st, "job", cs, 1, &e);
	memset(&seen, 0, sizeof seen);
	is_int(sk_state_get_run(st, "job", run_seen, &seen, &cb_rc, &e), 1, "the run of a supervised name");
	is_int(cb_rc, 7, "the callback's return is passed back");
	is_str(seen.got, "up running failures=1 recorded=3 last=1:exited with status 75:oops\nbroker down "
	       "read=0 ckpt=1", "the failures of this run, every attempt, the last error with its tail");
out:
	sk_cursorset_free(cs);
	sk_state_close(st);
	free(path);
}

static void test_read_notes(void)
{
	char *path = path_in("reads.db");
	sk_state *reader = open_ok(path), *writer = open_ok(path);
	sk_cursorset *cs = cursors("s:0:1", NULL);
	sk_read_note n = { 0 };
	int64_t read_ms = -1, ckpt_ms = -1, first;
	sk_err e = { 0 };

	if (!ok(reader && writer, "a reader and a writer"))
		goto out;
	is_int(sk_state_read_progress(reader, "r", &read_ms, &ckpt_ms, &e), 0, "progress of a new name");
	ok(read_ms == 0 && ckpt_ms == 0, "nothing read, nothing checkpointed");
	is_int(sk_state_note_read(reader, "r", &n, 0, &e), 0, "a first delivery");
	sk_state_read_progress(writer, "r", &read_ms, &ckpt_ms, &e);
	ok(read_ms > 0 && read_ms == n.recorded_ms, "is recorded at once");
	is_int(pragma_int(reader, "PRAGMA synchronous"), 2, "without an fsync, then synchronous is FULL again");
	first = read_ms;
	is_int(sk_state_note_read(reader, "r", &n, 0, &e), 0, "a second one within the second");
	ok(n.held_ms >= first && n.recorded_ms == first, "is held back");
	sk_state_read_progress(writer, "r", &read_ms, &ckpt_ms, &e);
	is_int(read_ms, first, "not recorded");
	is_int(sk_state_checkpoint(writer, "r", cs, 1, &e), 0, "the writer checkpoints");
	is_int(sk_state_note_read(reader, "r", &n, 0, &e), 0, "the next delivery");
	ok(n.held_ms == 0 && n.recorded_ms >= first, "is recorded at once: the store has changed");
	is_int(sk_state_note_read(reader, "r", &n, 0, &e), 0, "another within the second");
	ok(n.held_ms != 0, "is held back");
	first = n.held_ms;
	is_int(sk_state_note_read(reader, "r", &n, 1, &e), 0, "at the end");
	sk_state_read_progress(writer, "r", &read_ms, &ckpt_ms, &e);
	ok(read_ms == first && n.held_ms == 0, "what was held back is recorded, with its own time");
	ok(ckpt_ms > 0, "the checkpoint's time is there too");
	is_int(sk_state_note_read(reader, "r", &n, 1, &e), 0, "an end with nothing held back");
	n.recorded_ms -= 1000;
	sk_state_note_read(reader, "r", &n, 0, &e);
	is_int(n.held_ms, 0, "a delivery a second after the last record is recorded");
out:
	sk_cursorset_free(cs);
	sk_state_close(reader);
	sk_state_close(writer);
	free(path);
}

int main(void)
{
	if (fixture_begin() < 0)
		return 1;
	test_supervisors();
	test_attempts();
	test_read_notes();
	return fixture_end();
}
