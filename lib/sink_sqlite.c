/* sink_sqlite.c - sqlite:PATH?table=T, rows inserted into a table.
 *
 * Rows go in with one prepared INSERT, in a transaction that a checkpoint
 * commits. Exactly once without a two-phase commit: SQLite commits are
 * atomic across attached databases only outside WAL mode, and the state
 * store is in WAL mode, so the destination keeps its own committed cursors
 * in _streamkit_positions, written in the transaction that holds the rows.
 * The state store is updated after that commit, so a crash between the two
 * leaves it behind the destination: the reader then re-delivers rows the
 * table holds already, which are dropped (sqlite_positions.c).
 *
 * The table is checked against the schema, or created from it, in
 * sqlite_table.c. What the three share: sink_sqlite_impl.h. */
#include <stdlib.h>
#include <string.h>

#include "sink_sqlite_impl.h"
#include "endpoint_syntax.h"
#include "kinds_impl.h"
#include "json.h"

#define BUSY_TIMEOUT_MS 10000

int sk_sink_sqlite_db_err(sk_sink *k, int rc, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;

	return sk_err_set(e, sk_sqlite_code(rc), "%s: %s", k->label,
	                  t->db ? sqlite3_errmsg(t->db) : sqlite3_errstr(rc));
}

int sk_sink_sqlite_exec(sk_sink *k, const char *sql, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;
	int rc = sqlite3_exec(t->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sk_sink_sqlite_db_err(k, rc, e);
}

static int begin(sk_sink *k, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;

	if (t->in_txn)
		return 0;
	if (sk_sink_sqlite_exec(k, "BEGIN IMMEDIATE", e) < 0)
		return -1;
	t->in_txn = 1;
	return 0;
}

static int commit(sk_sink *k, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;
	int rc = sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		sk_sink_sqlite_db_err(k, rc, e);
		if (!sqlite3_get_autocommit(t->db))
			sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
	}
	t->in_txn = 0;
	return rc == SQLITE_OK ? 0 : -1;
}

static void rollback(struct sk_sink_sqlite_table *t)
{
	if (!sqlite3_get_autocommit(t->db))
		sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
	t->in_txn = 0;
}

static void table_free(struct sk_sink_sqlite_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	if (t->db)
		rollback(t);
	sqlite3_finalize(t->insert);
	sqlite3_finalize(t->put_pos);
	sqlite3_close(t->db);
	for (i = 0; i < t->nheld; i++) {
		free(t->held[i].source);
		free(t->held[i].partition);
		free(t->held[i].dest);
		free(t->held[i].state);
	}
	free(t->held);
	free(t->quoted);
	sk_buf_free(&t->scratch);
	free(t);
}

/* Make the directory the database goes in, as dataset: does. */
static int make_parent(sk_sink *k, const char *path, sk_err *e)
{
	char *dir = strdup(path), *slash;
	int rc = 0;

	if (dir == NULL)
		return sk_err_oom(e);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if ((rc = sk_mkdir_p(dir, 0777, e)) < 0) {
			if (e)
				e->code = EX_IOERR;
			sk_err_prefix(e, "%s", k->label);
		}
	}
	free(dir);
	return rc;
}

/* A database with nothing in it yet goes to WAL mode, so that its readers
 * and the writer do not wait for each other; one that exists keeps its
 * journal mode. */
static int set_journal(sk_sink *k, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;
	sqlite3_stmt *s;
	int rc, pages = -1;

	rc = sqlite3_prepare_v2(t->db, "PRAGMA page_count", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		pages = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (pages < 0)
		return sk_sink_sqlite_db_err(k, rc, e);
	if (pages == 0 && sk_sink_sqlite_exec(k, "PRAGMA journal_mode = WAL", e) < 0)
		return -1;
	return sk_sink_sqlite_exec(k, "PRAGMA synchronous = FULL", e);
}

static int open_db(sk_sink *k, const sk_endpoint *ep, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;
	int rc;

	if (make_parent(k, ep->path, e) < 0)
		return -1;
	/* Created 0644 less the umask: the table is the user's data. */
	rc = sqlite3_open_v2(ep->path, &t->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                     NULL);
	if (rc != SQLITE_OK)
		return sk_sink_sqlite_db_err(k, rc, e);
	sqlite3_busy_timeout(t->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(t->db, 1);
	return set_journal(k, e);
}

static int check_table_name(sk_sink *k, const char *name, sk_err *e)
{
	if (name[0] == '\0')
		return sk_err_set(e, EX_USAGE, "%s: expected sqlite:PATH?table=TABLE", k->label);
	if (strncmp(name, "_streamkit_", 11) == 0 || strncmp(name, "sqlite_", 7) == 0)
		return sk_err_set(e, EX_USAGE, "%s: table names starting with %.*s are reserved", k->label,
		                  name[0] == '_' ? 11 : 7, name);
	return 0;
}

static int sqlite_open(sk_sink *k, const sk_endpoint *ep, const sk_sink_opts *o, sk_err *e)
{
	struct sk_sink_sqlite_table *t = calloc(1, sizeof *t);
	sk_buf q = { 0 };

	(void)o;
	if (t == NULL)
		return sk_err_oom(e);
	k->impl = t;
	k->keeps_schema = 1;
	k->takes_members = 1;
	t->name = sk_endpoint_param(ep, "table");
	if (t->name == NULL || check_table_name(k, t->name, e) < 0)
		goto fail;
	if (sk_sink_sqlite_add_ident(&q, t->name) < 0) {
		sk_err_oom(e);
		goto fail;
	}
	t->quoted = q.p;
	if (open_db(k, ep, e) < 0 || begin(k, e) < 0)
		goto fail;
	if ((k->name && sk_sink_sqlite_prepare_positions(k, e) < 0) || sk_sink_sqlite_settle_table(k, e) < 0 ||
	    commit(k, e) < 0)
		goto fail;
	if (k->name && k->state && sk_sink_sqlite_load_positions(k, e) < 0)
		goto fail;
	return 0;
fail:
	table_free(t);
	k->impl = NULL;
	return -1;
}

static int bind_value(sqlite3_stmt *s, int i, enum sk_type type, json_object *v)
{
	const char *text;
	size_t n;

	if (v == NULL)
		return sqlite3_bind_null(s, i);
	switch (type) {
	case SK_TYPE_INT:
	case SK_TYPE_BIGINT:
		return sqlite3_bind_int64(s, i, json_object_get_int64(v));
	case SK_TYPE_FLOAT:
	case SK_TYPE_DOUBLE:
		return sqlite3_bind_double(s, i, json_object_get_double(v));
	case SK_TYPE_BOOLEAN:
		return sqlite3_bind_int(s, i, json_object_get_boolean(v) ? 1 : 0);
	case SK_TYPE_ARRAY:
	case SK_TYPE_OBJECT:
		/* The text is kept by v, which outlives the step. */
		text = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		                                         &n);
		return text ? sqlite3_bind_text(s, i, text, (int)n, SQLITE_STATIC) : SQLITE_NOMEM;
	default:
		return sqlite3_bind_text(s, i, json_object_get_string(v), json_object_get_string_len(v),
		                         SQLITE_STATIC);
	}
}

/* The value v[0..n) of a row given as spans (sk_sink_write_members), a
 * value of its column's type, bound as bind_value binds what json-c reads
 * of it: a number read from its text, a string's bytes, an array's or an
 * object's text (which is json-c's). */
static int bind_span(struct sk_sink_sqlite_table *t, int i, enum sk_type type, const char *v, size_t n)
{
	sk_buf *b = &t->scratch;

	if (n == 4 && memcmp(v, "null", 4) == 0)
		return sqlite3_bind_null(t->insert, i);
	switch (type) {
	case SK_TYPE_INT:
	case SK_TYPE_BIGINT:
	case SK_TYPE_FLOAT:
	case SK_TYPE_DOUBLE:
		sk_buf_reset(b);
		if (sk_buf_add(b, v, n) < 0)
			return SQLITE_NOMEM;
		if (type == SK_TYPE_INT || type == SK_TYPE_BIGINT)
			return sqlite3_bind_int64(t->insert, i, strtoll(b->p, NULL, 10));
		return sqlite3_bind_double(t->insert, i, strtod(b->p, NULL));
	case SK_TYPE_BOOLEAN:
		return sqlite3_bind_int(t->insert, i, v[0] == 't');
	case SK_TYPE_ARRAY:
	case SK_TYPE_OBJECT:
		return sqlite3_bind_text(t->insert, i, v, (int)n, SQLITE_STATIC);
	default:
		if (memchr(v, '\\', n) == NULL)
			return sqlite3_bind_text(t->insert, i, v + 1, (int)n - 2, SQLITE_STATIC);
		sk_buf_reset(b);
		if (sk_json_string_bytes(b, v + 1, n - 2) < 0)
			return SQLITE_MISUSE;
		return sqlite3_bind_text(t->insert, i, b->p ? b->p : "", (int)b->len, SQLITE_TRANSIENT);
	}
}

/* The values bound (rc), the row inserted. */
static int step_insert(sk_sink *k, int rc, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(t->insert);
	sqlite3_reset(t->insert);
	sqlite3_clear_bindings(t->insert);
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		return sk_sink_sqlite_db_err(k, rc, e);
	t->inserted++;
	return 0;
}

static int insert_row(sk_sink *k, json_object *row, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;
	const sk_schema *s = k->schema;
	size_t i, n = sk_schema_ncols(s);
	json_object *v;
	int rc = SQLITE_OK;

	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		if (!json_object_object_get_ex(row, sk_schema_col_name(s, i), &v))
			v = NULL;
		rc = bind_value(t->insert, (int)i + 1, sk_schema_col_type(s, i), v);
	}
	return step_insert(k, rc, e);
}

/* In the transaction, the table ready for a row. */
static int ready(sk_sink *k, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;

	if (k->schema == NULL)
		return sk_err_set(e, EX_SOFTWARE, "%s: a row came before the schema", k->label);
	if (begin(k, e) < 0)
		return -1;
	/* A schema inferred from the first row: the table is created with it,
	 * in the transaction of the first checkpoint. */
	if (!t->ready && sk_sink_sqlite_settle_table(k, e) < 0)
		return -1;
	return 0;
}

/* 1 when the table holds the row of cursor already: counted, and dropped. */
static int dropped(sk_sink *k, const char *cursor)
{
	if (!sk_sink_sqlite_already_stored(k->impl, cursor))
		return 0;
	k->dropped++;
	return 1;
}

static int sqlite_write(sk_sink *k, json_object *row, sk_err *e)
{
	return ready(k, e) < 0 ? -1 : insert_row(k, row, e);
}

static int sqlite_write_members(sk_sink *k, const char *text, const sk_json_member *m, size_t n, size_t cut,
                                sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;
	size_t i, col = 0;
	int rc = SQLITE_OK;

	if (t->catching_up > 0 && cut != SIZE_MAX) {
		sk_buf_reset(&t->scratch);
		if (sk_buf_add(&t->scratch, text + m[cut].value + 1, m[cut].value_len - 2) < 0)
			return sk_err_oom(e);
		if (dropped(k, t->scratch.p))
			return 0;
	}
	if (ready(k, e) < 0)
		return -1;
	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		if (i == cut)
			continue;
		rc = bind_span(t, (int)col + 1, sk_schema_col_type(k->schema, col), text + m[i].value, m[i].value_len);
		col++;
	}
	return step_insert(k, rc, e);
}

static int sqlite_write_cursor(sk_sink *k, json_object *row, const char *cursor, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;

	if (t->catching_up > 0 && cursor && dropped(k, cursor))
		return 0;
	return sqlite_write(k, row, e);
}

/* The rows and the cursors in one destination transaction, then the
 * cursors in the state store (see the top of this file). */
static int sqlite_checkpoint(sk_sink *k, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;
	sk_cursorset *out = NULL;
	int keep = k->name && k->state && cs && sk_cursorset_count(cs) > 0;
	int64_t inserted = t->inserted;
	int rc = -1;

	(void)rows;     /* the writer's count includes the rows dropped */
	if (!t->in_txn && !keep)
		return 0;
	if (keep && (out = sk_cursorset_new()) == NULL)
		return sk_err_oom(e);
	if (begin(k, e) < 0)
		goto out;
	if (keep && sk_sink_sqlite_put_positions(k, cs, out, e) < 0) {
		rollback(t);
		goto out;
	}
	if (commit(k, e) < 0)
		goto out;
	t->inserted = 0;
	rc = keep ? sk_state_checkpoint(k->state, k->name, out, inserted, e) : 0;
out:
	sk_cursorset_free(out);
	return rc;
}

static void sqlite_close(sk_sink *k)
{
	table_free(k->impl);
}

const struct sk_sink_ops sk_sink_sqlite_ops = {
	.kind = "sqlite",
	.open = sqlite_open,
	.write = sqlite_write,
	.flush = NULL,
	.checkpoint = sqlite_checkpoint,
	.close = sqlite_close,
	.write_cursor = sqlite_write_cursor,
	.write_members = sqlite_write_members,
};

/* sqlite:PATH?table=TABLE: a path, and the table it needs. */
static int parse_sqlite(sk_endpoint *ep, const char *url, const char *rest, sk_err *e)
{
	if (sk_ep_parse_path(ep, url, rest, e) < 0)
		return -1;
	if (sk_endpoint_param(ep, "table") == NULL)
		return sk_err_set(e, EX_USAGE, "%s: expected sqlite:PATH?table=TABLE", ep->arg);
	return 0;
}

static const char *const sqlite_params[] = { "table", NULL };

const struct sk_ep_syntax sk_sqlite_syntax = { sqlite_params, NULL, NULL, parse_sqlite };
