/* sqlite_table.c - the table an sqlite: sink writes to: an existing one
 * checked against the schema (--schema, the one recorded, or its own
 * column types), a missing one created from the schema, and the INSERT
 * prepared.
 *
 * The schema a table was created from is kept in _streamkit_schemas, so
 * that columns stored as TEXT (dates, arrays, objects) keep their type. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sink_sqlite_impl.h"
#include "json.h"

enum affinity { AFF_TEXT, AFF_NUMERIC, AFF_INTEGER, AFF_REAL, AFF_BLOB };

static const char *const affinity_names[] = {
	[AFF_TEXT] = "TEXT", [AFF_NUMERIC] = "NUMERIC", [AFF_INTEGER] = "INTEGER",
	[AFF_REAL] = "REAL", [AFF_BLOB] = "BLOB",
};

/* name as an SQL identifier: in double quotes, quotes doubled. */
int sk_sink_sqlite_add_ident(sk_buf *b, const char *name)
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
	struct sk_sink_sqlite_table *t = k->impl;
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(t->db, "SELECT name, type, \"notnull\", dflt_value IS NOT NULL, pk"
	                        " FROM pragma_table_info(?1) ORDER BY cid", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sk_sink_sqlite_db_err(k, rc, e);
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
		return sk_sink_sqlite_db_err(k, rc, e);
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
	struct sk_sink_sqlite_table *t = k->impl;
	sqlite3_stmt *s;
	int rc, found = 0;

	*out = NULL;
	rc = sqlite3_prepare_v2(t->db, "SELECT 1 FROM sqlite_master WHERE type = 'table'"
	                        " AND name = '_streamkit_schemas'", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sk_sink_sqlite_db_err(k, rc, e);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : sk_sink_sqlite_db_err(k, rc, e);
	rc = sqlite3_prepare_v2(t->db, "SELECT schema FROM _streamkit_schemas WHERE table_name = ?1", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sk_sink_sqlite_db_err(k, rc, e);
	sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		found = 1;
		*out = sk_schema_parse((const char *)sqlite3_column_text(s, 0),
		                       (size_t)sqlite3_column_bytes(s, 0), e);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sk_sink_sqlite_db_err(k, rc, e);
	if (found && *out == NULL)
		return sk_err_prefix(e, "%s: _streamkit_schemas", k->label);
	return found;
}

/* CREATE TABLE from the schema, and record the schema. */
static int create_table(sk_sink *k, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;
	const sk_schema *s = k->schema;
	sk_buf sql = { 0 }, json = { 0 };
	sqlite3_stmt *st;
	size_t i;
	int rc, oom = 0;

	oom |= sk_buf_adds(&sql, "CREATE TABLE ") < 0 || sk_buf_adds(&sql, t->quoted) < 0 ||
	       sk_buf_addc(&sql, '(') < 0;
	for (i = 0; i < sk_schema_ncols(s); i++) {
		oom |= (i > 0 && sk_buf_adds(&sql, ", ") < 0) ||
		       sk_sink_sqlite_add_ident(&sql, sk_schema_col_name(s, i)) < 0 ||
		       sk_buf_addc(&sql, ' ') < 0 || sk_buf_adds(&sql, column_type(sk_schema_col_type(s, i))) < 0;
	}
	oom |= sk_buf_addc(&sql, ')') < 0 || sk_schema_to_json(s, &json) < 0;
	if (oom) {
		rc = sk_err_oom(e);
		goto out;
	}
	if ((rc = sk_sink_sqlite_exec(k, sql.p, e)) < 0 ||
	    (rc = sk_sink_sqlite_exec(k, "CREATE TABLE IF NOT EXISTS _streamkit_schemas(table_name TEXT"
	                                 " PRIMARY KEY COLLATE NOCASE, schema TEXT NOT NULL) WITHOUT ROWID", e)) < 0)
		goto out;
	rc = sqlite3_prepare_v2(t->db, "INSERT OR REPLACE INTO _streamkit_schemas(table_name, schema)"
	                        " VALUES (?1, ?2)", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rc = sk_sink_sqlite_db_err(k, rc, e);
		goto out;
	}
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, json.p, (int)json.len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	rc = rc == SQLITE_DONE ? 0 : sk_sink_sqlite_db_err(k, rc, e);
out:
	sk_buf_free(&sql);
	sk_buf_free(&json);
	return rc;
}

static int prepare_insert(sk_sink *k, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;
	const sk_schema *s = k->schema;
	sk_buf sql = { 0 };
	size_t i, n = sk_schema_ncols(s);
	int rc, oom;

	oom = sk_buf_adds(&sql, "INSERT INTO ") < 0 || sk_buf_adds(&sql, t->quoted) < 0 ||
	      sk_buf_adds(&sql, " (") < 0;
	for (i = 0; i < n && !oom; i++)
		oom = (i > 0 && sk_buf_adds(&sql, ", ") < 0) ||
		      sk_sink_sqlite_add_ident(&sql, sk_schema_col_name(s, i)) < 0;
	oom = oom || sk_buf_adds(&sql, ") VALUES (") < 0;
	for (i = 0; i < n && !oom; i++)
		oom = sk_buf_adds(&sql, i > 0 ? ", ?" : "?") < 0;
	if (oom || sk_buf_addc(&sql, ')') < 0) {
		sk_buf_free(&sql);
		return sk_err_oom(e);
	}
	rc = sqlite3_prepare_v3(t->db, sql.p, (int)sql.len, SQLITE_PREPARE_PERSISTENT, &t->insert, NULL);
	sk_buf_free(&sql);
	return rc == SQLITE_OK ? 0 : sk_sink_sqlite_db_err(k, rc, e);
}

/* Inside a transaction: an existing table is checked against the schema
 * (--schema, or the recorded one, or its own column types); a missing one
 * is created when the schema is known. Then the INSERT is prepared. */
int sk_sink_sqlite_settle_table(sk_sink *k, sk_err *e)
{
	struct sk_sink_sqlite_table *t = k->impl;
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
