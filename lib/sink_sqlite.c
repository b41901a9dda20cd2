/* sink_sqlite.c - sqlite:PATH?table=T, rows inserted into a table.
 *
 * Rows go in with one prepared INSERT, in a transaction that a checkpoint
 * commits. Exactly once without a two-phase commit: SQLite commits are
 * atomic across attached databases only outside WAL mode, and the state
 * store is in WAL mode, so the destination keeps its own committed cursors
 * in _streamkit_positions, written in the transaction that holds the rows.
 * The state store is updated after that commit, so a crash between the two
 * leaves it behind the destination: the reader then re-delivers rows the
 * table holds already. On open the sink loads the destination's positions
 * (and puts them in the state store where it is behind); a re-delivered
 * row, one whose position is after the state store's and at or before the
 * destination's, is dropped. Positions compare as their source's kind says
 * (sk_position_compare: numbers, a file's offsets within one file); those
 * it cannot order, such as positions of two files around a rotation, are
 * recognised only when equal (at least once). Rows at or before the state
 * store's position are kept,
 * and a partition is no longer checked after its first row kept, so that a
 * file read again from its start (truncated, replaced) is written again.
 *
 * The schema a table was created from is kept in _streamkit_schemas, so
 * that columns stored as TEXT (dates, arrays, objects) keep their type. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "sink_impl.h"
#include "source.h"

#define BUSY_TIMEOUT_MS 10000

/* A destination position loaded at open, while rows before it may come again. */
struct held {
	char *source, *partition;
	char *dest;             /* the destination's committed position */
	char *state;            /* the state store's at open, or NULL */
	int catching_up;        /* no row of the partition has been kept yet */
};

struct table {
	sqlite3 *db;
	const char *name;       /* T */
	char *quoted;           /* "T", quoted for SQL */
	int ready;              /* the table exists and insert is prepared */
	int in_txn;
	sqlite3_stmt *insert;
	sqlite3_stmt *put_pos;
	int64_t inserted;       /* since the last checkpoint */
	struct held *held;
	size_t nheld;
	size_t catching_up;     /* entries of held still catching up */
};

enum affinity { AFF_TEXT, AFF_NUMERIC, AFF_INTEGER, AFF_REAL, AFF_BLOB };

static const char *const affinity_names[] = {
	[AFF_TEXT] = "TEXT", [AFF_NUMERIC] = "NUMERIC", [AFF_INTEGER] = "INTEGER",
	[AFF_REAL] = "REAL", [AFF_BLOB] = "BLOB",
};

static int db_err(sk_sink *k, int rc, sk_err *e)
{
	struct table *t = k->impl;

	return sk_err_set(e, sk_sqlite_code(rc), "%s: %s", k->label,
	                  t->db ? sqlite3_errmsg(t->db) : sqlite3_errstr(rc));
}

static int exec(sk_sink *k, const char *sql, sk_err *e)
{
	struct table *t = k->impl;
	int rc = sqlite3_exec(t->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_err(k, rc, e);
}

static int begin(sk_sink *k, sk_err *e)
{
	struct table *t = k->impl;

	if (t->in_txn)
		return 0;
	if (exec(k, "BEGIN IMMEDIATE", e) < 0)
		return -1;
	t->in_txn = 1;
	return 0;
}

static int commit(sk_sink *k, sk_err *e)
{
	struct table *t = k->impl;
	int rc = sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		db_err(k, rc, e);
		if (!sqlite3_get_autocommit(t->db))
			sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
	}
	t->in_txn = 0;
	return rc == SQLITE_OK ? 0 : -1;
}

static void rollback(struct table *t)
{
	if (!sqlite3_get_autocommit(t->db))
		sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
	t->in_txn = 0;
}

/* name as an SQL identifier: in double quotes, quotes doubled. */
static int add_ident(sk_buf *b, const char *name)
{
	if (sk_buf_addc(b, '"') < 0)
		return -1;
	for (; *name; name++)
		if ((*name == '"' && sk_buf_addc(b, '"') < 0) || sk_buf_addc(b, *name) < 0)
			return -1;
	return sk_buf_addc(b, '"');
}

/* The affinity SQLite gives a declared column type (section 3.1 of
 * https://sqlite.org/datatype3.html). */
static enum affinity affinity_of(const char *decl)
{
	char up[256];
	size_t i;

	for (i = 0; decl[i] && i < sizeof up - 1; i++)
		up[i] = (char)(decl[i] >= 'a' && decl[i] <= 'z' ? decl[i] - 'a' + 'A' : decl[i]);
	up[i] = '\0';
	if (strstr(up, "INT"))
		return AFF_INTEGER;
	if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
		return AFF_TEXT;
	if (up[0] == '\0' || strstr(up, "BLOB"))
		return AFF_BLOB;
	if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
		return AFF_REAL;
	return AFF_NUMERIC;
}

/* The column type a table is created with for a schema type. */
static const char *column_type(enum sk_type t)
{
	switch (t) {
	case SK_TYPE_INT:
	case SK_TYPE_BIGINT:
	case SK_TYPE_BOOLEAN:
		return "INTEGER";
	case SK_TYPE_FLOAT:
	case SK_TYPE_DOUBLE:
		return "REAL";
	default:
		return "TEXT";
	}
}

/* Whether a column of affinity a stores values of type t unchanged. A
 * column declared without a type (BLOB affinity) takes anything; NUMERIC
 * would turn the text "007" into 7, so it is for numbers and dates only. */
static int fits(enum sk_type t, enum affinity a)
{
	if (a == AFF_BLOB)
		return 1;
	switch (t) {
	case SK_TYPE_INT:
	case SK_TYPE_BIGINT:
	case SK_TYPE_BOOLEAN:
		return a == AFF_INTEGER || a == AFF_NUMERIC;
	case SK_TYPE_FLOAT:
	case SK_TYPE_DOUBLE:
		return a == AFF_REAL || a == AFF_NUMERIC;
	case SK_TYPE_DATE:
		return a == AFF_TEXT || a == AFF_NUMERIC;
	default:
		return a == AFF_TEXT;
	}
}

/* The table's columns, as PRAGMA table_info gives them. */
struct column {
	char *name, *decl;
	int notnull, has_default, pk;
};

struct columns {
	struct column *v;
	size_t n;
};

static void columns_free(struct columns *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].decl);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static int read_columns(sk_sink *k, struct columns *c, sk_err *e)
{
	struct table *t = k->impl;
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(t->db, "SELECT name, type, \"notnull\", dflt_value IS NOT NULL, pk"
	                        " FROM pragma_table_info(?1) ORDER BY cid", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(k, rc, e);
	sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct column *v = realloc(c->v, (c->n + 1) * sizeof *v), *x;
		if (v == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		c->v = v;
		x = &c->v[c->n];
		x->name = strdup((const char *)sqlite3_column_text(s, 0));
		x->decl = strdup(sqlite3_column_text(s, 1) ? (const char *)sqlite3_column_text(s, 1) : "");
		x->notnull = sqlite3_column_int(s, 2);
		x->has_default = sqlite3_column_int(s, 3);
		x->pk = sqlite3_column_int(s, 4);
		c->n++;
		if (x->name == NULL || x->decl == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		columns_free(c);
		return db_err(k, rc, e);
	}
	return 0;
}

static const struct column *find_column(const struct columns *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcasecmp(c->v[i].name, name) == 0)
			return &c->v[i];
	return NULL;
}

/* SQLite's names are case-insensitive (for ASCII letters). */
static int in_schema(const sk_schema *s, const char *name)
{
	size_t i;

	for (i = 0; i < sk_schema_ncols(s); i++)
		if (strcasecmp(sk_schema_col_name(s, i), name) == 0)
			return 1;
	return 0;
}

/* Every column of the schema is in the table with a type that stores it,
 * and every other column of the table can be left out of an INSERT. */
static int check_table(sk_sink *k, const struct columns *c, const char *whose, sk_err *e)
{
	const sk_schema *s = k->schema;
	const struct column *col;
	size_t i;

	for (i = 0; i < sk_schema_ncols(s); i++) {
		const char *name = sk_schema_col_name(s, i);
		enum sk_type type = sk_schema_col_type(s, i);
		if ((col = find_column(c, name)) == NULL)
			return sk_err_set(e, EX_CONFIG, "%s: column \"%s\" of %s is not in the table", k->label,
			                  name, whose);
		if (!fits(type, affinity_of(col->decl)))
			return sk_err_set(e, EX_CONFIG, "%s: column \"%s\" is %s in the table (%s affinity); "
			                  "%s has it as %s, which needs %s", k->label, name,
			                  col->decl[0] ? col->decl : "untyped", affinity_names[affinity_of(col->decl)],
			                  whose, sk_type_name(type), column_type(type));
	}
	for (i = 0; i < c->n; i++) {
		col = &c->v[i];
		/* An INTEGER PRIMARY KEY is the rowid: SQLite fills it in. */
		if (col->notnull && !col->has_default && !col->pk && !in_schema(s, col->name))
			return sk_err_set(e, EX_CONFIG, "%s: column \"%s\" of the table is NOT NULL without a "
			                  "default, and not in %s", k->label, col->name, whose);
	}
	return 0;
}

/* A schema from the table's column types, for a table streamkit did not
 * create and no --schema: INTEGER bigint, REAL double, TEXT string. */
static int schema_from_columns(sk_sink *k, const struct columns *c, sk_err *e)
{
	json_object *arr = json_object_new_array(), *ent;
	const char *type, *text;
	size_t i;

	if (arr == NULL)
		return sk_err_oom(e);
	for (i = 0; i < c->n; i++) {
		switch (affinity_of(c->v[i].decl)) {
		case AFF_INTEGER: type = "bigint"; break;
		case AFF_REAL: type = "double"; break;
		case AFF_TEXT: type = "string"; break;
		default:
			json_object_put(arr);
			return sk_err_set(e, EX_CONFIG, "%s: column \"%s\" is %s in the table: give --schema to say "
			                  "what it holds", k->label, c->v[i].name,
			                  c->v[i].decl[0] ? c->v[i].decl : "untyped");
		}
		if ((ent = json_object_new_object()) == NULL || json_object_array_add(arr, ent) < 0 ||
		    json_object_object_add(ent, "name", json_object_new_string(c->v[i].name)) < 0 ||
		    json_object_object_add(ent, "type", json_object_new_string(type)) < 0) {
			json_object_put(arr);
			return sk_err_oom(e);
		}
	}
	text = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
	k->schema = text ? sk_schema_parse(text, strlen(text), e) : NULL;
	json_object_put(arr);
	if (k->schema == NULL)
		return text ? sk_err_prefix(e, "%s", k->label) : sk_err_oom(e);
	return 0;
}

/* The schema recorded when streamkit created the table: 1, 0 when none. */
static int recorded_schema(sk_sink *k, sk_schema **out, sk_err *e)
{
	struct table *t = k->impl;
	sqlite3_stmt *s;
	int rc, found = 0;

	*out = NULL;
	rc = sqlite3_prepare_v2(t->db, "SELECT 1 FROM sqlite_master WHERE type = 'table'"
	                        " AND name = '_streamkit_schemas'", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(k, rc, e);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : db_err(k, rc, e);
	rc = sqlite3_prepare_v2(t->db, "SELECT schema FROM _streamkit_schemas WHERE table_name = ?1", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(k, rc, e);
	sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		found = 1;
		*out = sk_schema_parse((const char *)sqlite3_column_text(s, 0),
		                       (size_t)sqlite3_column_bytes(s, 0), e);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(k, rc, e);
	if (found && *out == NULL)
		return sk_err_prefix(e, "%s: _streamkit_schemas", k->label);
	return found;
}

/* CREATE TABLE from the schema, and record the schema. */
static int create_table(sk_sink *k, sk_err *e)
{
	struct table *t = k->impl;
	const sk_schema *s = k->schema;
	sk_buf sql = { 0 }, json = { 0 };
	sqlite3_stmt *st;
	size_t i;
	int rc, oom = 0;

	oom |= sk_buf_adds(&sql, "CREATE TABLE ") < 0 || sk_buf_adds(&sql, t->quoted) < 0 ||
	       sk_buf_addc(&sql, '(') < 0;
	for (i = 0; i < sk_schema_ncols(s); i++) {
		oom |= (i > 0 && sk_buf_adds(&sql, ", ") < 0) || add_ident(&sql, sk_schema_col_name(s, i)) < 0 ||
		       sk_buf_addc(&sql, ' ') < 0 || sk_buf_adds(&sql, column_type(sk_schema_col_type(s, i))) < 0;
	}
	oom |= sk_buf_addc(&sql, ')') < 0 || sk_schema_to_json(s, &json) < 0;
	if (oom) {
		rc = sk_err_oom(e);
		goto out;
	}
	if ((rc = exec(k, sql.p, e)) < 0 ||
	    (rc = exec(k, "CREATE TABLE IF NOT EXISTS _streamkit_schemas("
	                  "table_name TEXT PRIMARY KEY COLLATE NOCASE, schema TEXT NOT NULL) WITHOUT ROWID", e)) < 0)
		goto out;
	rc = sqlite3_prepare_v2(t->db, "INSERT OR REPLACE INTO _streamkit_schemas(table_name, schema)"
	                        " VALUES (?1, ?2)", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rc = db_err(k, rc, e);
		goto out;
	}
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, json.p, (int)json.len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	rc = rc == SQLITE_DONE ? 0 : db_err(k, rc, e);
out:
	sk_buf_free(&sql);
	sk_buf_free(&json);
	return rc;
}

static int prepare_insert(sk_sink *k, sk_err *e)
{
	struct table *t = k->impl;
	const sk_schema *s = k->schema;
	sk_buf sql = { 0 };
	size_t i, n = sk_schema_ncols(s);
	int rc, oom;

	oom = sk_buf_adds(&sql, "INSERT INTO ") < 0 || sk_buf_adds(&sql, t->quoted) < 0 ||
	      sk_buf_adds(&sql, " (") < 0;
	for (i = 0; i < n && !oom; i++)
		oom = (i > 0 && sk_buf_adds(&sql, ", ") < 0) || add_ident(&sql, sk_schema_col_name(s, i)) < 0;
	oom = oom || sk_buf_adds(&sql, ") VALUES (") < 0;
	for (i = 0; i < n && !oom; i++)
		oom = sk_buf_adds(&sql, i > 0 ? ", ?" : "?") < 0;
	if (oom || sk_buf_addc(&sql, ')') < 0) {
		sk_buf_free(&sql);
		return sk_err_oom(e);
	}
	rc = sqlite3_prepare_v3(t->db, sql.p, (int)sql.len, SQLITE_PREPARE_PERSISTENT, &t->insert, NULL);
	sk_buf_free(&sql);
	return rc == SQLITE_OK ? 0 : db_err(k, rc, e);
}

/* Inside a transaction: an existing table is checked against the schema
 * (--schema, or the recorded one, or its own column types); a missing one
 * is created when the schema is known. Then the INSERT is prepared. */
static int settle_table(sk_sink *k, sk_err *e)
{
	struct table *t = k->impl;
	struct columns cols = { 0 };
	sk_schema *rec = NULL;
	const char *whose = "--schema";
	int rc;

	if (read_columns(k, &cols, e) < 0)
		return -1;
	if (cols.n == 0) {
		rc = k->schema ? create_table(k, e) : 0;
		if (rc == 0 && k->schema)
			rc = prepare_insert(k, e);
		t->ready = rc == 0 && k->schema != NULL;
		return rc;
	}
	if (k->schema == NULL) {
		if ((rc = recorded_schema(k, &rec, e)) < 0)
			goto out;
		whose = "the schema recorded in _streamkit_schemas";
		if (rc == 1)
			k->schema = rec;
		else if ((rc = schema_from_columns(k, &cols, e)) < 0)
			goto out;
		else
			whose = "the table's own types";
	}
	k->schema_stored = 1;
	if ((rc = check_table(k, &cols, whose, e)) == 0 && (rc = prepare_insert(k, e)) == 0)
		t->ready = 1;
out:
	columns_free(&cols);
	return rc;
}

/* Whether a row at position p (n bytes) of h's partition is one the
 * destination holds: after the state store's position, at or before the
 * destination's. Positions that cannot be ordered match only when equal. */
static int held_row(const struct held *h, const char *p, size_t n)
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

static struct held *find_held(struct table *t, const char *source, size_t ns, const char *part, size_t np)
{
	size_t i;

	for (i = 0; i < t->nheld; i++) {
		struct held *h = &t->held[i];
		if (strlen(h->source) == ns && memcmp(h->source, source, ns) == 0 &&
		    strlen(h->partition) == np && memcmp(h->partition, part, np) == 0)
			return &t->held[i];
	}
	return NULL;
}

/* 1 when the row with this cursor is in the table already (drop it). */
static int already_stored(struct table *t, const char *cursor)
{
	sk_cursor_parts c;
	struct held *h;

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

static int load_held(struct table *t, const char *source, const char *partition, const char *dest)
{
	struct held *v = realloc(t->held, (t->nheld + 1) * sizeof *v), *h;

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
static int load_positions(sk_sink *k, sk_err *e)
{
	struct table *t = k->impl;
	sqlite3_stmt *s;
	size_t i;
	int rc, behind = 0;

	rc = sqlite3_prepare_v2(t->db, "SELECT source, partition, position FROM _streamkit_positions"
	                        " WHERE name = ?1 AND table_name = ?2", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(k, rc, e);
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
		return db_err(k, rc, e);
	for (i = 0; i < t->nheld; i++) {
		struct held *h = &t->held[i];
		if (sk_state_get_position(k->state, k->name, h->source, h->partition, &h->state, e) < 0)
			return -1;
		behind |= state_behind(h->source, h->state, h->dest);
	}
	if (!behind)
		return 0;
	if (sk_state_begin(k->state, e) < 0)
		return -1;
	for (i = 0; i < t->nheld; i++) {
		struct held *h = &t->held[i];
		if (state_behind(h->source, h->state, h->dest) &&
		    sk_state_set_position(k->state, k->name, h->source, h->partition, h->dest, e) < 0) {
			sk_state_rollback(k->state);
			return -1;
		}
	}
	return sk_state_commit(k->state, e);
}

static void table_free(struct table *t)
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
	struct table *t = k->impl;
	sqlite3_stmt *s;
	int rc, pages = -1;

	rc = sqlite3_prepare_v2(t->db, "PRAGMA page_count", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		pages = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (pages < 0)
		return db_err(k, rc, e);
	if (pages == 0 && exec(k, "PRAGMA journal_mode = WAL", e) < 0)
		return -1;
	return exec(k, "PRAGMA synchronous = FULL", e);
}

static int open_db(sk_sink *k, const sk_endpoint *ep, sk_err *e)
{
	struct table *t = k->impl;
	int rc;

	if (make_parent(k, ep->path, e) < 0)
		return -1;
	/* Created 0644 less the umask: the table is the user's data. */
	rc = sqlite3_open_v2(ep->path, &t->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                     NULL);
	if (rc != SQLITE_OK)
		return db_err(k, rc, e);
	sqlite3_busy_timeout(t->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(t->db, 1);
	return set_journal(k, e);
}

static int prepare_positions(sk_sink *k, sk_err *e)
{
	struct table *t = k->impl;
	int rc;

	if (exec(k, "CREATE TABLE IF NOT EXISTS _streamkit_positions("
	            "name TEXT NOT NULL, table_name TEXT NOT NULL COLLATE NOCASE, source TEXT NOT NULL,"
	            " \"partition\" TEXT NOT NULL, position TEXT NOT NULL, updated_ms INTEGER NOT NULL,"
	            " PRIMARY KEY (name, table_name, source, \"partition\")) WITHOUT ROWID", e) < 0)
		return -1;
	rc = sqlite3_prepare_v3(t->db, "INSERT INTO _streamkit_positions"
	                        "(name, table_name, source, \"partition\", position, updated_ms)"
	                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name, table_name, source, \"partition\")"
	                        " DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms",
	                        -1, SQLITE_PREPARE_PERSISTENT, &t->put_pos, NULL);
	return rc == SQLITE_OK ? 0 : db_err(k, rc, e);
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
	struct table *t = calloc(1, sizeof *t);
	sk_buf q = { 0 };

	(void)o;
	if (t == NULL)
		return sk_err_oom(e);
	k->impl = t;
	k->keeps_schema = 1;
	t->name = sk_endpoint_param(ep, "table");
	if (t->name == NULL || check_table_name(k, t->name, e) < 0)
		goto fail;
	if (add_ident(&q, t->name) < 0) {
		sk_err_oom(e);
		goto fail;
	}
	t->quoted = q.p;
	if (open_db(k, ep, e) < 0 || begin(k, e) < 0)
		goto fail;
	if ((k->name && prepare_positions(k, e) < 0) || settle_table(k, e) < 0 || commit(k, e) < 0)
		goto fail;
	if (k->name && k->state && load_positions(k, e) < 0)
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

static int insert_row(sk_sink *k, json_object *row, sk_err *e)
{
	struct table *t = k->impl;
	const sk_schema *s = k->schema;
	size_t i, n = sk_schema_ncols(s);
	json_object *v;
	int rc = SQLITE_OK;

	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		if (!json_object_object_get_ex(row, sk_schema_col_name(s, i), &v))
			v = NULL;
		rc = bind_value(t->insert, (int)i + 1, sk_schema_col_type(s, i), v);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(t->insert);
	sqlite3_reset(t->insert);
	sqlite3_clear_bindings(t->insert);
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		return db_err(k, rc, e);
	t->inserted++;
	return 0;
}

static int sqlite_write(sk_sink *k, json_object *row, sk_err *e)
{
	struct table *t = k->impl;

	if (k->schema == NULL)
		return sk_err_set(e, EX_SOFTWARE, "%s: a row came before the schema", k->label);
	if (begin(k, e) < 0)
		return -1;
	/* A schema inferred from the first row: the table is created with it,
	 * in the transaction of the first checkpoint. */
	if (!t->ready && settle_table(k, e) < 0)
		return -1;
	return insert_row(k, row, e);
}

static int sqlite_write_cursor(sk_sink *k, json_object *row, const char *cursor, sk_err *e)
{
	struct table *t = k->impl;

	if (t->catching_up > 0 && cursor && already_stored(t, cursor)) {
		k->dropped++;
		return 0;
	}
	return sqlite_write(k, row, e);
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
	struct table *t = x->k->impl;
	struct held *h = find_held(t, source, strlen(source), partition, strlen(partition));
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
	return rc == SQLITE_DONE ? 0 : db_err(x->k, rc, x->e);
}

/* The rows and the cursors in one destination transaction, then the
 * cursors in the state store (see the top of this file). */
static int sqlite_checkpoint(sk_sink *k, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	struct table *t = k->impl;
	struct commit_ctx x = { .k = k, .e = e };
	int keep = k->name && k->state && cs && sk_cursorset_count(cs) > 0;
	int64_t inserted = t->inserted;
	int rc = -1;

	(void)rows;     /* the writer's count includes the rows dropped */
	if (!t->in_txn && !keep)
		return 0;
	if (keep && (x.out = sk_cursorset_new()) == NULL)
		return sk_err_oom(e);
	if (begin(k, e) < 0)
		goto out;
	if (keep && sk_cursorset_each(cs, commit_position, &x) != 0) {
		rollback(t);
		goto out;
	}
	if (commit(k, e) < 0)
		goto out;
	t->inserted = 0;
	rc = keep ? sk_state_checkpoint(k->state, k->name, x.out, inserted, e) : 0;
out:
	sk_buf_free(&x.c);
	sk_cursorset_free(x.out);
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
};
