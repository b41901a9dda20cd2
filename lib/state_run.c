/* state_run.c - stream-run's tables (schema 2): the supervisor of each name,
 * the attempts it ran, and when a reader of the name last delivered
 * messages (for the stall watchdog). */
#include "state_impl.h"
#include "util.h"

static void bind_opt_int(sqlite3_stmt *s, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static int64_t column_opt_int(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, i);
}

static const char *column_opt_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

int sk_state_put_supervisor(sk_state *st, const sk_supervisor *v, sk_err *e)
{
	sqlite3_stmt *s;

	if (sk_state_prepare(st, "INSERT OR REPLACE INTO supervisors(name, desired, state, run_id,"
	                     " supervisor_pid, supervisor_start, pid, attempt, last_status, message,"
	                     " started_ms, updated_ms)"
	                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", v->name, &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 2, v->desired, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, v->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, v->run_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, v->supervisor_pid);
	bind_opt_int(s, 6, v->supervisor_start);
	bind_opt_int(s, 7, v->pid);
	sqlite3_bind_int64(s, 8, v->attempt);
	bind_opt_int(s, 9, v->last_status);
	if (v->message)
		sqlite3_bind_text(s, 10, v->message, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, v->started_ms);
	sqlite3_bind_int64(s, 12, sk_wall_ms());
	return sk_state_step_done(st, s, e);
}

/* Whether the row of name is held by a live supervisor: 1 and its pid. */
static int supervisor_held(sk_state *st, const char *name, int (*alive)(int64_t, int64_t),
                           int64_t *pid, sk_err *e)
{
	sqlite3_stmt *s;
	int rc, held = 0;

	if (sk_state_prepare(st, "SELECT supervisor_pid, supervisor_start FROM supervisors WHERE name = ?1"
	                     " AND state NOT IN ('stopped', 'exited', 'gave-up')", name, &s, e) < 0)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*pid = sqlite3_column_int64(s, 0);
		held = alive(*pid, column_opt_int(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sk_state_db_err(st, rc, e, NULL);
	return held;
}

int sk_state_claim_supervisor(sk_state *st, const sk_supervisor *v,
                              int (*alive)(int64_t pid, int64_t start), sk_err *e)
{
	int64_t pid = 0;
	int held;

	if (sk_state_begin(st, e) < 0)
		return -1;
	held = supervisor_held(st, v->name, alive, &pid, e);
	if (held == 1)
		sk_err_set(e, EX_TEMPFAIL, "%s: already supervised by stream-run pid %lld", v->name,
		           (long long)pid);
	if (held != 0 || sk_state_put_supervisor(st, v, e) < 0) {
		sk_state_rollback(st);
		return held == 1 ? 1 : -1;
	}
	return sk_state_commit(st, e);
}

int sk_state_attempt_start(sk_state *st, const char *name, const char *run_id,
                           int64_t attempt, int64_t pid, int64_t started_ms, int64_t *id,
                           sk_err *e)
{
	sqlite3_stmt *s;

	if (sk_state_prepare(st, "INSERT INTO attempts(name, run_id, attempt, pid, started_ms)"
	                     " VALUES (?1, ?2, ?3, ?4, ?5)", name, &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 2, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, attempt);
	bind_opt_int(s, 4, pid);
	sqlite3_bind_int64(s, 5, started_ms);
	if (sk_state_step_done(st, s, e) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	if (*id <= HISTORY_KEEP || *id % 64 != 0)
		return 0;
	if (sk_state_prepare(st, "DELETE FROM attempts WHERE name = ?1 AND id <= (SELECT id FROM attempts"
	                     " WHERE name = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)", name, &s, e) < 0)
		return -1;
	sqlite3_bind_int(s, 2, HISTORY_KEEP);
	return sk_state_step_done(st, s, e);
}

int sk_state_attempt_end(sk_state *st, int64_t id, int64_t ended_ms, int exit_code,
                         int signal, const char *error, const char *stderr_tail, sk_err *e)
{
	sqlite3_stmt *s;

	if (sk_state_prepare(st, "UPDATE attempts SET ended_ms = ?2, exit_code = ?3, signal = ?4,"
	                     " error = ?5, stderr_tail = ?6 WHERE id = ?1", NULL, &s, e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, ended_ms);
	bind_opt_int(s, 3, exit_code);
	bind_opt_int(s, 4, signal);
	if (error)
		sqlite3_bind_text(s, 5, error, -1, SQLITE_STATIC);
	if (stderr_tail)
		sqlite3_bind_text(s, 6, stderr_tail, -1, SQLITE_STATIC);
	return sk_state_step_done(st, s, e);
}

#define ATTEMPT_COLUMNS "id, run_id, attempt, pid, started_ms, ended_ms, exit_code, signal," \
                        " error, stderr_tail"

static void attempt_from_row(sqlite3_stmt *s, sk_attempt *a)
{
	a->id = sqlite3_column_int64(s, 0);
	a->run_id = column_opt_text(s, 1);
	a->attempt = column_opt_int(s, 2);
	a->pid = column_opt_int(s, 3);
	a->started_ms = sqlite3_column_int64(s, 4);
	a->ended_ms = sqlite3_column_int64(s, 5);
	a->exit_code = column_opt_int(s, 6);
	a->signal = column_opt_int(s, 7);
	a->error = column_opt_text(s, 8);
	a->stderr_tail = column_opt_text(s, 9);
}

int sk_state_each_attempt(sk_state *st, const char *name, int limit, sk_attempt_cb cb,
                          void *arg, sk_err *e)
{
	sqlite3_stmt *s;
	sk_attempt a;
	int rc, stop = 0;

	if (st->version < RUN_SCHEMA)       /* read as it is: from before stream-run */
		return 0;
	if (sk_state_prepare(st, "SELECT " ATTEMPT_COLUMNS " FROM attempts WHERE name = ?1"
	                     " ORDER BY id DESC LIMIT ?2", name, &s, e) < 0)
		return -1;
	sqlite3_bind_int(s, 2, limit > 0 ? limit : -1);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		attempt_from_row(s, &a);
		stop = cb(arg, &a);
	}
	return sk_state_walk_end(st, s, rc, stop, e);
}

/* r->last_error from the newest failed attempt of name, then cb. */
static int run_with_last_error(sk_state *st, const char *name, sk_run_info *r, sk_run_cb cb,
                               void *arg, int *cb_rc, sk_err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (sk_state_prepare(st, "SELECT " ATTEMPT_COLUMNS " FROM attempts WHERE name = ?1"
	                     " AND error IS NOT NULL ORDER BY id DESC LIMIT 1", name, &s, e) < 0)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		attempt_from_row(s, &r->last_error);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		*cb_rc = cb(arg, r);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 1 : sk_state_db_err(st, rc, e, NULL);
}

int sk_state_get_run(sk_state *st, const char *name, sk_run_cb cb, void *arg, int *cb_rc,
                     sk_err *e)
{
	sk_run_info r = { .s = { .name = name } };
	sqlite3_stmt *s;
	int rc, found = 0;

	if (st->version < RUN_SCHEMA)       /* read as it is: no supervisor then */
		return 0;
	if (sk_state_prepare(st, "SELECT desired, state, run_id, supervisor_pid, supervisor_start, pid,"
	                     " attempt, last_status, message, started_ms, updated_ms,"
	                     " (SELECT count(*) FROM attempts a WHERE a.name = ?1 AND a.run_id = v.run_id"
	                     "  AND a.error IS NOT NULL),"
	                     " (SELECT count(*) FROM attempts a WHERE a.name = ?1),"
	                     " (SELECT read_ms FROM reads WHERE name = ?1),"
	                     " (SELECT at_ms FROM checkpoints WHERE name = ?1 ORDER BY id DESC LIMIT 1)"
	                     " FROM supervisors v WHERE name = ?1", name, &s, e) < 0)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.s.desired = column_opt_text(s, 0);
		r.s.state = column_opt_text(s, 1);
		r.s.run_id = column_opt_text(s, 2);
		r.s.supervisor_pid = sqlite3_column_int64(s, 3);
		r.s.supervisor_start = column_opt_int(s, 4);
		r.s.pid = column_opt_int(s, 5);
		r.s.attempt = sqlite3_column_int64(s, 6);
		r.s.last_status = column_opt_int(s, 7);
		r.s.message = column_opt_text(s, 8);
		r.s.started_ms = sqlite3_column_int64(s, 9);
		r.updated_ms = sqlite3_column_int64(s, 10);
		r.failures = sqlite3_column_int64(s, 11);
		r.recorded = sqlite3_column_int64(s, 12);
		r.read_ms = sqlite3_column_int64(s, 13);
		r.checkpoint_ms = sqlite3_column_int64(s, 14);
		found = run_with_last_error(st, name, &r, cb, arg, cb_rc, e);
	}
	sqlite3_finalize(s);
	if (found < 0)
		return -1;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sk_state_db_err(st, rc, e, NULL);
	return found;
}

int sk_state_note_read(sk_state *st, const char *name, sk_read_note *n, int final, sk_err *e)
{
	sqlite3_stmt *s = sk_state_stmt(st, ST_DATA_VERSION, "PRAGMA data_version", e);
	int64_t version = n->version, at;
	int rc, full;

	if (s == NULL)
		return -1;
	if (final) {
		if (n->held_ms == 0)
			return 0;
		at = n->held_ms;
	} else {
		/* The version first: a commit after it changes the next one. */
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			version = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (rc != SQLITE_ROW)
			return sk_state_db_err(st, rc, e, NULL);
		at = sk_wall_ms();
		if (n->recorded_ms && version == n->version && at >= n->recorded_ms &&
		    at - n->recorded_ms < 1000) {
			n->held_ms = at;
			return 0;
		}
	}
	/* A record per checkpoint of the pipeline, at worst: without an fsync
	 * each (a lost one is only a later stall). */
	if ((s = sk_state_stmt(st, ST_NOTE_READ, "INSERT INTO reads(name, read_ms, updated_ms)"
	                       " VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET"
	                       " read_ms = max(read_ms, excluded.read_ms), updated_ms = excluded.updated_ms",
	                       e)) == NULL)
		return -1;
	full = sqlite3_get_autocommit(st->db);
	if (full && sk_state_exec(st, "PRAGMA synchronous = NORMAL", e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, at);
	sqlite3_bind_int64(s, 3, sk_wall_ms());
	rc = sk_state_step_reset(st, s, e);
	if (full && sk_state_exec(st, "PRAGMA synchronous = FULL", rc < 0 ? NULL : e) < 0 && rc == 0)
		rc = -1;
	if (rc < 0)
		return -1;
	n->recorded_ms = at;
	n->version = version;
	n->held_ms = 0;
	return 0;
}

int sk_state_read_progress(sk_state *st, const char *name, int64_t *read_ms,
                           int64_t *checkpoint_ms, sk_err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (sk_state_prepare(st, "SELECT (SELECT read_ms FROM reads WHERE name = ?1),"
	                     " (SELECT at_ms FROM checkpoints WHERE name = ?1 ORDER BY id DESC LIMIT 1)",
	                     name, &s, e) < 0)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*read_ms = sqlite3_column_int64(s, 0);
		*checkpoint_ms = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : sk_state_db_err(st, rc, e, NULL);
}
