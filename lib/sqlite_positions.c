/* sqlite_positions.c - the positions an sqlite: destination commits with
 * its rows (_streamkit_positions), and the rows a reader re-delivers
 * after a crash, dropped.
 *
 * On open the sink loads the destination's positions (and puts them in
 * the state store where it is behind); a re-delivered row, one whose
 * position is after the state store's and at or before the destination's,
 * is dropped. Positions compare as their source's kind says
 * (sk_position_compare: numbers, a file's offsets within one file); those
 * it cannot order, such as positions of two files around a rotation, are
 * recognised only when equal (at least once). Rows at or before the state
 * store's position are kept, and a partition is no longer checked after
 * its first row kept, so that a file read again from its start
 * (truncated, replaced) is written again. */
#include <stdlib.h>
#include <string.h>

#include "sink_sqlite_impl.h"
#include "source.h"

/* Whether a row at position p (n bytes) of h's partition is one the
 * destination holds: after the state store's position, at or before the
 * destination's. Positions that cannot be ordered match only when equal. */
static int held_row(const struct sk_sink_sqlite_held *h, const char *p, size_t n)
{
	size_t nd = strlen(h->dest);
	int c = sk_position_compare(h->source, p, n, h->dest, nd);

	if (c != SK_POSITION_INCOMPARABLE) {
		if (c > 0)
			return 0;
		if (h->state == NULL)
			return 1;
		c = sk_position_compare(h->source, p, n, h->state, strlen(h->state));
		return c == SK_POSITION_INCOMPARABLE || c > 0;
	}
	return n == nd && memcmp(p, h->dest, n) == 0 &&
	       !(h->state && strlen(h->state) == n && memcmp(p, h->state, n) == 0);
}

static struct sk_sink_sqlite_held *find_held(struct sk_sink_sqlite_table *t, const char *source, size_t ns,
                                             const char *part, size_t np)
{
	size_t i;

	for (i = 0; i < t->nheld; i++) {
		struct sk_sink_sqlite_held *h = &t->held[i];
		if (strlen(h->source) == ns && memcmp(h->source, source, ns) == 0 &&
		    strlen(h->partition) == np && memcmp(h->partition, part, np) == 0)
			return &t->held[i];
	}
	return NULL;
}

/* 1 when the row with this cursor is in the table already (drop it). */
int sk_sink_sqlite_already_stored(struct sk_sink_sqlite_table *t, const char *cursor)
{
	sk_cursor_parts c;
	struct sk_sink_sqlite_held *h;

	if (sk_cursor_split(cursor, strlen(cursor), &c, NULL) < 0)
		return 0;
	h = find_held(t, c.source, c.source_len, c.partition, c.partition_len);
	if (h == NULL || !h->catching_up)
		return 0;
	if (held_row(h, c.position, c.position_len))
		return 1;
	h->catching_up = 0;
	t->catching_up--;
	return 0;
}

static int load_held(struct sk_sink_sqlite_table *t, const char *source, const char *partition, const char *dest)
{
	struct sk_sink_sqlite_held *v = realloc(t->held, (t->nheld + 1) * sizeof *v), *h;

	if (v == NULL)
		return -1;
	t->held = v;
	h = &t->held[t->nheld];
	memset(h, 0, sizeof *h);
	h->source = strdup(source);
	h->partition = strdup(partition);
	h->dest = strdup(dest);
	h->catching_up = 1;
	t->nheld++;
	t->catching_up++;
	return h->source && h->partition && h->dest ? 0 : -1;
}

/* Whether the state store's position s is behind the destination's d. */
static int state_behind(const char *source, const char *s, const char *d)
{
	int c;

	if (s == NULL)
		return 1;
	c = sk_position_compare(source, s, strlen(s), d, strlen(d));
	return c == SK_POSITION_INCOMPARABLE ? strcmp(s, d) != 0 : c < 0;
}

/* The destination's positions for this name and table, with the state
 * store's; the state store is brought up to them where it is behind. */
int sk_sink_sqlite_load_positions(sk_sink *k, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;
	sqlite3_stmt *s;
	size_t i;
	int rc, behind = 0;

	rc = sqlite3_prepare_v2(t->db, "SELECT source, partition, position FROM _streamkit_positions"
	                        " WHERE name = ?1 AND table_name = ?2", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sk_sink_sqlite_db_err(k, rc, e);
	sqlite3_bind_text(s, 1, k->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, t->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (load_held(t, (const char *)sqlite3_column_text(s, 0),
		              (const char *)sqlite3_column_text(s, 1), (const char *)sqlite3_column_text(s, 2)) < 0) {
			sqlite3_finalize(s);
			return sk_err_oom(e);
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return sk_sink_sqlite_db_err(k, rc, e);
	for (i = 0; i < t->nheld; i++) {
		struct sk_sink_sqlite_held *h = &t->held[i];
		if (sk_state_get_position(k->state, k->name, h->source, h->partition, &h->state, e) < 0)
			return -1;
		behind |= state_behind(h->source, h->state, h->dest);
	}
	if (!behind)
		return 0;
	if (sk_state_begin(k->state, e) < 0)
		return -1;
	for (i = 0; i < t->nheld; i++) {
		struct sk_sink_sqlite_held *h = &t->held[i];
		if (state_behind(h->source, h->state, h->dest) &&
		    sk_state_set_position(k->state, k->name, h->source, h->partition, h->dest, e) < 0) {
			sk_state_rollback(k->state);
			return -1;
		}
	}
	return sk_state_commit(k->state, e);
}

int sk_sink_sqlite_prepare_positions(sk_sink *k, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;
	int rc;

	if (sk_sink_sqlite_exec(k, "CREATE TABLE IF NOT EXISTS _streamkit_positions("
	                           "name TEXT NOT NULL, table_name TEXT NOT NULL COLLATE NOCASE, source TEXT NOT NULL,"
	                           " \"partition\" TEXT NOT NULL, position TEXT NOT NULL, updated_ms INTEGER NOT NULL,"
	                           " PRIMARY KEY (name, table_name, source, \"partition\")) WITHOUT ROWID", e) < 0)
		return -1;
	rc = sqlite3_prepare_v3(t->db, "INSERT INTO _streamkit_positions"
	                        "(name, table_name, source, \"partition\", position, updated_ms)"
	                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name, table_name, source, \"partition\")"
	                        " DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms",
	                        -1, SQLITE_PREPARE_PERSISTENT, &t->put_pos, NULL);
	return rc == SQLITE_OK ? 0 : sk_sink_sqlite_db_err(k, rc, e);
}

struct commit_ctx {
	sk_sink *k;
	sk_cursorset *out;
	sk_buf c;
	sk_err *e;
};

/* A partition still catching up commits the destination's position, not
 * the older one of a row it dropped. */
static int commit_position(void *arg, const char *source, const char *partition, const char *position)
{
	struct commit_ctx *x = arg;
	struct sk_sink_sqlite_table *t = x->k->impl;
	struct sk_sink_sqlite_held *h = find_held(t, source, strlen(source), partition, strlen(partition));
	int64_t now = sk_wall_ms();
	int rc;

	if (h && h->catching_up && held_row(h, position, strlen(position)))
		position = h->dest;
	sk_buf_reset(&x->c);
	if (sk_buf_adds(&x->c, source) < 0 || sk_buf_addc(&x->c, ':') < 0 || sk_buf_adds(&x->c, partition) < 0 ||
	    sk_buf_addc(&x->c, ':') < 0 || sk_buf_adds(&x->c, position) < 0)
		return sk_err_oom(x->e);
	if (sk_cursorset_add(x->out, x->c.p, x->c.len, x->e) < 0)
		return -1;
	sqlite3_bind_text(t->put_pos, 1, x->k->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->put_pos, 2, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->put_pos, 3, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->put_pos, 4, partition, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->put_pos, 5, position, -1, SQLITE_STATIC);
	sqlite3_bind_int64(t->put_pos, 6, now);
	rc = sqlite3_step(t->put_pos);
	sqlite3_reset(t->put_pos);
	sqlite3_clear_bindings(t->put_pos);
	return rc == SQLITE_DONE ? 0 : sk_sink_sqlite_db_err(x->k, rc, x->e);
}

/* Write the positions of cs to _streamkit_positions, in the open
 * transaction, and add the cursors to commit to the state store to out. */
int sk_sink_sqlite_put_positions(sk_sink *k, const sk_cursorset *cs, sk_cursorset *out, sk_err *e)
{
	struct commit_ctx x = { .k = k, .out = out, .e = e };
	int rc = sk_cursorset_each(cs, commit_position, &x);

	sk_buf_free(&x.c);
	return rc != 0 ? -1 : 0;
}
