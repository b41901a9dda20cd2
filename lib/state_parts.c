/* state_parts.c - dataset parts staged in the transaction of a checkpoint,
 * to be published (renamed into place) once it has committed; see the
 * opening comment of sink_dataset.c for the order that makes it safe. */
#include "state_impl.h"
#include "util.h"

int sk_state_stage_part(sk_state *st, const char *name, const char *dataset,
                        const char *tmp_path, const char *final_path, sk_err *e)
{
	sqlite3_stmt *s = sk_state_stmt(st, ST_STAGE, "INSERT INTO staged_parts(name, dataset, tmp_path,"
	                                " final_path, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)", e);

	if (s == NULL)
		return -1;
	if (name)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, dataset, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, tmp_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, final_path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, sk_wall_ms());
	return sk_state_step_reset(st, s, e);
}

int sk_state_each_staged_part(sk_state *st, const char *dataset, sk_part_cb cb,
                              void *arg, sk_err *e)
{
	sqlite3_stmt *s;
	int rc, stop = 0;

	if (sk_state_prepare(st, "SELECT id, tmp_path, final_path FROM staged_parts WHERE dataset = ?1"
	                     " ORDER BY id", dataset, &s, e) < 0)
		return -1;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = cb(arg, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
		          (const char *)sqlite3_column_text(s, 2));
	return sk_state_walk_end(st, s, rc, stop, e);
}

int sk_state_unstage_part(sk_state *st, int64_t id, sk_err *e)
{
	sqlite3_stmt *s = sk_state_stmt(st, ST_UNSTAGE, "DELETE FROM staged_parts WHERE id = ?1", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return sk_state_step_reset(st, s, e);
}
