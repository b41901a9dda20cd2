/* state_positions.c - the committed position of every source partition, per
 * recipe name, and the history of checkpoints that stored them. */
#include <string.h>

#include "state_impl.h"
#include "util.h"

int sk_state_get_position(sk_state *st, const char *name, const char *source,
                          const char *partition, char **pos, sk_err *e)
{
	sqlite3_stmt *s = sk_state_stmt(st, ST_GET_POS, "SELECT position FROM positions"
	                                " WHERE name = ?1 AND source = ?2 AND partition = ?3", e);
	int rc, found = 0;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, partition, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		found = 1;
		*pos = strdup((const char *)sqlite3_column_text(s, 0));
		if (*pos == NULL)
			rc = SQLITE_NOMEM;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sk_state_db_err(st, rc, e, NULL);
	return found;
}

int sk_state_set_position(sk_state *st, const char *name, const char *source,
                          const char *partition, const char *pos, sk_err *e)
{
	sqlite3_stmt *s = sk_state_stmt(st, ST_PUT_POS,
	                                "INSERT INTO positions(name, source, partition, position, updated_ms)"
	                                " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name, source, partition)"
	                                " DO UPDATE SET position = excluded.position,"
	                                " updated_ms = excluded.updated_ms", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, partition, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, pos, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, sk_wall_ms());
	return sk_state_step_reset(st, s, e);
}

int sk_state_delete_positions(sk_state *st, const char *name, const char *source,
                              const char *partition, sk_err *e)
{
	sqlite3_stmt *s;

	if (sk_state_prepare(st, "DELETE FROM positions WHERE name = ?1"
	                     " AND (?2 IS NULL OR source = ?2) AND (?3 IS NULL OR partition = ?3)",
	                     name, &s, e) < 0)
		return -1;
	if (source)
		sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
	if (partition)
		sqlite3_bind_text(s, 3, partition, -1, SQLITE_STATIC);
	if (sk_state_step_done(st, s, e) < 0)
		return -1;
	return sqlite3_changes(st->db);
}

int sk_state_each_position(sk_state *st, const char *name, sk_position_cb cb,
                           void *arg, sk_err *e)
{
	sqlite3_stmt *s;
	int rc, stop = 0;

	if (sk_state_prepare(st, "SELECT name, source, partition, position, updated_ms"
	                     " FROM positions WHERE ?1 IS NULL OR name = ?1"
	                     " ORDER BY name, source, length(partition), partition", name, &s, e) < 0)
		return -1;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = cb(arg, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		          (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3),
		          sqlite3_column_int64(s, 4));
	return sk_state_walk_end(st, s, rc, stop, e);
}

struct put_ctx {
	sk_state *st;
	const char *name;
	sk_buf summary;       /* the cursors as a JSON array, for the history */
	sk_err *e;
	int failed;
};

static int put_one(void *arg, const char *source, const char *partition, const char *position)
{
	struct put_ctx *c = arg;

	if (sk_state_set_position(c->st, c->name, source, partition, position, c->e) < 0)
		return c->failed = -1;
	if ((c->summary.len > 1 && sk_buf_addc(&c->summary, ',') < 0) ||
	    sk_cursor_add_json(&c->summary, source, partition, position) < 0) {
		sk_err_oom(c->e);
		return c->failed = -1;
	}
	return 0;
}

int sk_state_put_cursors(sk_state *st, const char *name, const sk_cursorset *cs,
                         int64_t rows, sk_err *e)
{
	struct put_ctx c = { .st = st, .name = name, .e = e };
	sqlite3_stmt *s;
	sqlite3_int64 id;
	int rc = 0;

	if (sk_buf_addc(&c.summary, '[') < 0)
		return sk_err_oom(e);
	if (cs && sk_cursorset_each(cs, put_one, &c) != 0) {
		sk_buf_free(&c.summary);
		return -1;
	}
	if (sk_buf_addc(&c.summary, ']') < 0) {
		sk_buf_free(&c.summary);
		return sk_err_oom(e);
	}
	if ((s = sk_state_stmt(st, ST_ADD_CHECKPOINT, "INSERT INTO checkpoints(name, at_ms, rows, cursors)"
	                       " VALUES (?1, ?2, ?3, ?4)", e)) == NULL) {
		sk_buf_free(&c.summary);
		return -1;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, sk_wall_ms());
	sqlite3_bind_int64(s, 3, rows);
	sqlite3_bind_text(s, 4, c.summary.p, (int)c.summary.len, SQLITE_STATIC);
	rc = sk_state_step_reset(st, s, e);
	sk_buf_free(&c.summary);
	if (rc < 0)
		return -1;
	id = sqlite3_last_insert_rowid(st->db);
	if (id > HISTORY_KEEP && id % 64 == 0) {
		if ((s = sk_state_stmt(st, ST_PRUNE_HISTORY, "DELETE FROM checkpoints WHERE name = ?1"
	                               " AND id <= (SELECT id FROM checkpoints WHERE name = ?1"
	                               " ORDER BY id DESC LIMIT 1 OFFSET ?2)", e)) == NULL)
			return -1;
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, HISTORY_KEEP);
		return sk_state_step_reset(st, s, e);
	}
	return 0;
}

int sk_state_checkpoint(sk_state *st, const char *name, const sk_cursorset *cs,
                        int64_t rows, sk_err *e)
{
	if (sk_state_begin(st, e) < 0)
		return -1;
	if (sk_state_put_cursors(st, name, cs, rows, e) < 0) {
		sk_state_rollback(st);
		return -1;
	}
	return sk_state_commit(st, e);
}

int sk_state_each_checkpoint(sk_state *st, const char *name, int limit,
                             sk_checkpoint_cb cb, void *arg, sk_err *e)
{
	sqlite3_stmt *s;
	int rc, stop = 0;

	if (sk_state_prepare(st, "SELECT id, name, at_ms, rows, cursors FROM checkpoints"
	                     " WHERE ?1 IS NULL OR name = ?1 ORDER BY id DESC LIMIT ?2", name, &s, e) < 0)
		return -1;
	sqlite3_bind_int(s, 2, limit > 0 ? limit : -1);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = cb(arg, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
		          sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3),
		          (const char *)sqlite3_column_text(s, 4));
	return sk_state_walk_end(st, s, rc, stop, e);
}

int sk_state_each_name(sk_state *st, sk_name_cb cb, void *arg, sk_err *e)
{
	sqlite3_stmt *s;
	int rc, stop = 0;

	if (sk_state_prepare(st, "SELECT n.name,"
	                     " (SELECT count(*) FROM positions p WHERE p.name = n.name),"
	                     " (SELECT max(at_ms) FROM checkpoints c WHERE c.name = n.name)"
	                     " FROM (SELECT name FROM positions UNION SELECT name FROM checkpoints) n"
	                     " ORDER BY n.name", NULL, &s, e) < 0)
		return -1;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = cb(arg, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
		          sqlite3_column_int64(s, 2));
	return sk_state_walk_end(st, s, rc, stop, e);
}

int sk_state_reset_name(sk_state *st, const char *name, sk_err *e)
{
	sqlite3_stmt *s;

	if (sk_state_begin(st, e) < 0)
		return -1;
	if (sk_state_delete_positions(st, name, NULL, NULL, e) < 0 ||
	    sk_state_prepare(st, "DELETE FROM checkpoints WHERE name = ?1", name, &s, e) < 0 ||
	    sk_state_step_done(st, s, e) < 0)
		goto fail;
	return sk_state_commit(st, e);
fail:
	sk_state_rollback(st);
	return -1;
}

